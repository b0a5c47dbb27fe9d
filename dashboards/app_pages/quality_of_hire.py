"""Quality of hire: how hires of each interview score band do later, by job family and cohort, and which
competencies go with better outcomes."""

import streamlit as st

from dashboards import charts, queries, ui

ctx = ui.page("quality_of_hire")
families = queries.job_families(ctx.scope)
options = families if ctx.department_only else ["all", *families]
family = st.selectbox(ctx.t("label.job_family"), options, format_func=ctx.family)

by_band = queries.quality_of_hire(ctx.scope, family, "score_band")
ui.chart(charts.quality_by_band(by_band, ctx))
st.caption(ctx.t("help.quality_by_band"))
measures = [
    "n_hires",
    "mean_composite",
    "mean_rating_3m",
    "mean_rating_6m",
    "mean_rating_12m",
    "probation_pass_rate",
    "retention_rate_12m",
    "n_rated_3m",
    "n_rated_6m",
    "n_rated_12m",
    "n_retention_observed",
]
ui.table(
    by_band[["score_band", *measures, "is_suppressed"]].assign(
        score_band=lambda d: d["score_band"].map(lambda b: charts.band_label(b, ctx))
    ),
    ctx,
    "by_band",
    suppressed=measures,
    cellwise=True,
)

st.subheader(ctx.t("label.by_cohort"))
measure = st.selectbox(
    ctx.t("label.measure"),
    ["mean_rating_3m", "mean_rating_6m", "mean_rating_12m", "probation_pass_rate", "retention_rate_12m"],
    format_func=lambda m: ctx.t(f"col.{m}"),
)
by_cohort = queries.quality_of_hire(ctx.scope, family, "hire_cohort")
ui.chart(charts.quality_by_cohort(by_cohort, measure, ctx))

st.subheader(ctx.t("label.by_competency"))
outcome = st.selectbox(
    ctx.t("label.outcome"), list(queries.QOH_OUTCOMES), index=1, format_func=lambda o: ctx.t(f"outcome.{o}")
)
by_competency = queries.quality_by_competency(ctx.scope, family, outcome)
if by_competency["mean_outcome"].notna().any():
    ui.chart(charts.quality_by_competency(by_competency, ctx, outcome))
else:
    st.info(ctx.t("label.too_few_for_chart"))
ui.table(by_competency, ctx, "by_competency", suppressed=["n_hires", "n_observed", "mean_outcome"], cellwise=True)
st.caption(ctx.t("label.suppressed_note"))
