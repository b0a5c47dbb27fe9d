"""Retention: how long hires stay, by interview score band and by hire cohort, with intervals; what predicts
voluntary exit."""

import streamlit as st

from dashboards import charts, queries, ui

ctx = ui.page("retention")
families = queries.job_families(ctx.scope)
options = families if ctx.department_only else ["all", *families]
family = st.selectbox(ctx.t("label.job_family"), options, format_func=ctx.family)

by_band = ui.load(ctx, lambda: queries.km_curves(ctx.scope, family))
if by_band is not None:
    if by_band.empty:
        st.info(ctx.t("label.no_data"))
    else:
        ui.chart(charts.survival(by_band, ctx, ctx.t("chart.km_by_band")))
        st.caption(ctx.t("help.km"))

by_cohort = queries.cohort_curves(ctx.scope, family)
if by_cohort.empty:
    st.info(ctx.t("label.no_data"))
else:
    ui.chart(charts.survival(by_cohort, ctx, ctx.t("chart.km_by_cohort"), bands=False))

st.subheader(ctx.t("label.hazard_ratios"))
st.caption(ctx.t("label.org_wide_model"))
cox = ui.load(ctx, lambda: queries.cox_terms(family))
if cox is not None and not cox.empty:
    ui.chart(charts.forest(cox, "hazard_ratio", ctx, ctx.t("chart.hazard_ratios")))
    shown = [
        c
        for c in (
            "scope",
            "term",
            "hazard_ratio",
            "ci_low",
            "ci_high",
            "p_value",
            "ph_p_value",
            "ph_ok",
            "n",
            "n_events",
            "concordance_holdout",
            "note",
        )
        if c in cox.columns
    ]
    ui.table(cox[shown], ctx, "hazard_ratios")
st.caption(ctx.t("label.suppressed_note"))
