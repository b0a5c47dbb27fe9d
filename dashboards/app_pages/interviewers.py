"""Interviewers: who scores too high or too low, how spread their scores are, how well they agree with the rest
of the panel, who needs calibration; and how well the AI rater agrees with the humans."""

import streamlit as st

from dashboards import charts, queries, ui

ctx = ui.page("interviewers")
people = queries.interviewers(ctx.scope)
if people.empty:
    st.info(ctx.t("label.no_data"))
    st.stop()


def _statuses(df):
    return df.assign(
        calibration_status=df["calibration_status"].map(lambda s: ctx.t(f"status.{s}") if isinstance(s, str) else s)
    )


flagged = people[people["needs_calibration"]]
c1, c2 = st.columns(2)
c1.metric(ctx.t("kpi.interviewers"), len(people))
c2.metric(ctx.t("kpi.needs_calibration"), len(flagged))

left, right = st.columns([3, 2])
with left:
    ui.chart(charts.leniency_heatmap(queries.interviewer_heatmap(ctx.scope, charts.HEATMAP_MAX_ROWS), ctx))
    st.caption(ctx.t("help.heatmap_rows", n=charts.HEATMAP_MAX_ROWS))
with right:
    ui.chart(charts.leniency_vs_agreement(people, ctx))
st.caption(ctx.t("help.calibration"))

st.subheader(ctx.t("label.needs_calibration"))
ui.table(_statuses(people), ctx, "interviewers")
with st.expander(ctx.t("label.by_competency")):
    # One competency at a time: at a large panel, every interviewer x competency is tens of thousands of rows.
    f1, f2 = st.columns([2, 3])
    competency = f1.selectbox(ctx.t("label.competency"), queries.calibration_competencies(), format_func=ctx.competency)
    flagged_only = f2.checkbox(ctx.t("label.flagged_only"), value=True)
    detail = queries.interviewer_calibration(ctx.scope, competency, flagged_only=flagged_only)
    ui.table(
        _statuses(detail),
        ctx,
        f"calibration_{competency}",
        suppressed=["mean_score", "leniency", "score_sd", "agreement_r"],
    )

st.subheader(ctx.t("label.ai_agreement"))
st.caption(ctx.t("label.org_wide_model"))
agreement = ui.load(ctx, queries.rater_agreement)
if agreement is not None and not agreement.empty:
    ui.chart(charts.rater_agreement(agreement, ctx))
    ui.table(agreement, ctx, "ai_agreement")
