"""Overview: the loop at a glance for the user's rows: this period's activity, retention, hire quality, the review
queue, and how fresh the data is."""

import datetime as dt

import streamlit as st

from dashboards import charts, queries, session, ui
from dashboards.review import pending_reviews

ctx = ui.page("overview")
as_of = queries.as_of_date()
days = (
    st.segmented_control(
        ctx.t("label.period"), [30, 90, 365], default=90, format_func=lambda d: ctx.t("label.last_days", days=d)
    )
    or 90
)
start = as_of - dt.timedelta(days=days)
kpis = queries.overview_kpis(ctx.scope, start, as_of + dt.timedelta(days=1))
st.caption(ctx.t("label.period_range", start=start, end=as_of))

c1, c2, c3, c4, c5 = st.columns(5)
c1.metric(ctx.t("kpi.applicants"), ui.number(kpis["applicants"]))
c2.metric(ctx.t("kpi.interviews"), ui.number(kpis["interviews"]))
c3.metric(ctx.t("kpi.hires"), ui.number(kpis["hires"]))
c4.metric(
    ctx.t("kpi.retention_12m"),
    ui.percent(kpis["retention_12m"]),
    help=ctx.t("help.retention_12m", n=kpis["n_retention"]),
)
c5.metric(ctx.t("kpi.rating_6m"), ui.number(kpis["rating_6m"], 2), help=ctx.t("help.rating_6m", n=kpis["n_rating"]))

c6, c7, c8, c9 = st.columns(4)
pending = queries.optional(lambda: pending_reviews(session.app_state()))
c6.metric(
    ctx.t("kpi.pending_reviews"),
    "–" if pending is None else len(pending),
    help=ctx.t("label.not_available", table="ml.recommendations") if pending is None else None,
)
info = queries.publish_info()
c7.metric(ctx.t("kpi.landed_through"), str(info.get("landed_through", "–"))[:10])
c8.metric(ctx.t("kpi.published_at"), str(info.get("published_at", "–"))[:16])
runs = queries.optional(queries.model_runs)
c9.metric(
    ctx.t("kpi.models_fitted"),
    "–" if runs is None else len(runs),
    help=None if runs is None else ctx.t("help.models_fitted", at=str(runs["fitted_at"].max())[:16]),
)

left, right = st.columns(2)
with left:
    activity = queries.monthly_activity(ctx.scope, (as_of - dt.timedelta(days=365)).replace(day=1))
    ui.chart(charts.monthly_activity(activity, ctx))
with right:
    ui.chart(charts.headcount(queries.headcount_trend(ctx.scope), ctx))
st.caption(ctx.t("label.suppressed_note"))
