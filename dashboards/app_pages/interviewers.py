"""Interviewers: who scores too high or too low, how spread their scores are, how well they agree with the rest
of the panel, who needs calibration; and how well the AI rater agrees with the humans."""

import streamlit as st

from dashboards import charts, queries, ui

ctx = ui.page("interviewers")
calibration = queries.interviewer_calibration(ctx.scope)
people = queries.interviewers(ctx.scope)
if calibration.empty:
    st.info(ctx.t("label.no_data"))
    st.stop()

flagged = people[people["needs_calibration"]]
c1, c2 = st.columns(2)
c1.metric(ctx.t("kpi.interviewers"), len(people))
c2.metric(ctx.t("kpi.needs_calibration"), len(flagged))

left, right = st.columns([3, 2])
with left:
    ui.chart(charts.leniency_heatmap(calibration, ctx))
with right:
    ui.chart(charts.leniency_vs_agreement(calibration, ctx))
st.caption(ctx.t("help.calibration"))

st.subheader(ctx.t("label.needs_calibration"))
ui.table(
    people.assign(
        calibration_status=people["calibration_status"].map(lambda s: ctx.t(f"status.{s}") if isinstance(s, str) else s)
    ),
    ctx,
    "interviewers",
)
with st.expander(ctx.t("label.by_competency")):
    detail = calibration[calibration["competency_code"] != "all"]
    ui.table(
        detail.assign(
            calibration_status=detail["calibration_status"].map(
                lambda s: ctx.t(f"status.{s}") if isinstance(s, str) else s
            )
        ),
        ctx,
        "calibration",
        suppressed=["mean_score", "leniency", "score_sd", "agreement_r"],
    )

st.subheader(ctx.t("label.ai_agreement"))
st.caption(ctx.t("label.org_wide_model"))
agreement = ui.load(ctx, queries.rater_agreement)
if agreement is not None and not agreement.empty:
    ui.chart(charts.rater_agreement(agreement, ctx))
    ui.table(agreement, ctx, "ai_agreement")
