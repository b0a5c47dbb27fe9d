"""Data quality: what was quarantined and why, whether every loaded row is accounted for, how fresh the data is,
and when each model last ran."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import charts, queries, ui

ctx = ui.page("data_quality")
info = queries.publish_info()
as_of = queries.as_of_date()
reconciliation = ui.load(ctx, queries.load_reconciliation)

d1, d2, d3, d4 = st.columns([3, 2, 2, 2])
d1.metric(ctx.t("kpi.published_at"), str(info.get("published_at", "–"))[:16])
d2.metric(ctx.t("kpi.landed_through"), str(info.get("landed_through", "–"))[:10])
age = (
    dt.datetime.now(dt.UTC).replace(tzinfo=None) - pd.Timestamp(info["published_at"]).to_pydatetime()
    if info.get("published_at") is not None
    else None
)
d3.metric(ctx.t("kpi.publish_age"), "–" if age is None else ctx.t("label.hours", n=f"{age.total_seconds() / 3600:.1f}"))
unaccounted = None if reconciliation is None else int(reconciliation["rows_unaccounted"].fillna(0).abs().sum())
d4.metric(ctx.t("kpi.rows_unaccounted"), "–" if unaccounted is None else unaccounted)
st.caption(ctx.t("label.run_id", run_id=info.get("run_id", "–")))

st.subheader(ctx.t("label.quarantine"))
quarantine = ui.load(ctx, queries.quarantine_counts)
if quarantine is not None:
    if quarantine.empty:
        st.success(ctx.t("label.quarantine_empty"))
    else:
        ui.chart(charts.quarantine(quarantine, ctx))
        ui.table(quarantine, ctx, "quarantine")

st.subheader(ctx.t("label.load_reconciliation"))
if reconciliation is not None:
    loads = ui.load(ctx, lambda: queries.daily_loads(as_of - dt.timedelta(days=90)))
    if loads is not None and not loads.empty:
        ui.chart(charts.daily_loads(loads, ctx))
    st.caption(ctx.t("help.reconciliation"))
    ui.table(reconciliation, ctx, "load_reconciliation")

st.subheader(ctx.t("label.check_results"))
checks = ui.load(ctx, queries.check_results)
if checks is not None:
    c1, c2 = st.columns(2)
    c1.metric(ctx.t("kpi.checks_run"), len(checks))
    c2.metric(ctx.t("kpi.checks_failing"), int((~checks["passed"].astype(bool)).sum()))
    ui.table(checks, ctx, "check_results")

st.subheader(ctx.t("label.model_runs"))
runs = ui.load(ctx, queries.model_runs)
if runs is not None:
    ui.table(runs, ctx, "model_runs")
