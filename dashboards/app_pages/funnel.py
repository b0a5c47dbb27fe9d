"""Funnel: how applications move through the stages, how long they wait, and how interviews and offers go."""

import streamlit as st

from dashboards import charts, queries, ui

ctx = ui.page("funnel")
f1, f2, f3 = st.columns([1, 2, 1])
dimension = f1.selectbox(
    ctx.t("label.breakdown"), list(queries.FUNNEL_DIMENSIONS), format_func=lambda d: ctx.t(f"dimension.{d}")
)
groups = queries.funnel_groups(ctx.scope, dimension)
label = ctx.family if dimension == "job_family" else str
chosen = (
    groups
    if dimension == "all"
    else f2.multiselect(ctx.t("label.groups"), groups, default=groups[:4], format_func=label)
)
months = queries.funnel_months()
month = f3.selectbox(
    ctx.t("label.period"),
    [None, *months],
    format_func=lambda m: ctx.t("label.all_time") if m is None else m.strftime("%Y-%m"),
)

data = queries.funnel(ctx.scope, dimension, month)
data = data[data["dimension_value"].isin(chosen)]
if data.empty:
    st.info(ctx.t("label.no_data"))
    st.stop()
if dimension == "job_family":
    data = data.assign(dimension_value=data["dimension_value"].map(ctx.family))

ui.chart(charts.funnel(data, ctx))
left, right = st.columns(2)
with left:
    ui.chart(charts.stage_bars(data[data["stage_name"] != "hired"], "pass_through_rate", ctx, percent=True))
with right:
    ui.chart(charts.stage_bars(data[data["stage_name"] != "hired"], "avg_days_in_stage", ctx))

st.subheader(ctx.t("label.interviews_and_offers"))
interviews = data[data["stage_name"] == "interview_invited"][
    ["dimension_value", "n_interviews", "interview_completion_rate", "technical_failure_rate", "is_suppressed"]
]
offers = data[data["stage_name"] == "offer_made"][
    ["dimension_value", "n_offers", "avg_days_to_offer", "offer_acceptance_rate"]
]
summary = interviews.merge(offers, on="dimension_value", how="outer")
ui.table(
    summary.drop(columns="is_suppressed"), ctx, "interviews_offers", suppressed=list(summary.columns[1:]), cellwise=True
)
st.subheader(ctx.t("label.stages"))
stages = data[data["stage_name"] != "hired"].assign(
    stage_name=lambda d: d["stage_name"].map(lambda s: ctx.t(f"stage.{s}"))
)[["dimension_value", "stage_name", "n_entered", "n_passed", "pass_through_rate", "avg_days_in_stage"]]
ui.table(stages, ctx, "stages", suppressed=list(stages.columns[2:]), cellwise=True)
st.caption(ctx.t("label.suppressed_note"))
