"""Fairness audit: selection and scoring rates and impact ratios by sex, ethnicity and their intersection, with
group sizes, exportable as a bias-audit summary."""

import streamlit as st

from dashboards import audit, charts, queries, ui

ctx = ui.page("fairness_audit")
families = queries.job_families(ctx.scope)
f1, f2 = st.columns(2)
family = f1.selectbox(ctx.t("label.job_family"), ["all", *families], format_func=ctx.family)
stage = f2.selectbox(
    ctx.t("label.stage"),
    list(queries.FAIRNESS_STAGES),
    index=len(queries.FAIRNESS_STAGES) - 1,
    format_func=lambda s: ctx.t(f"stage.{s}"),
)
st.caption(ctx.t("help.selection_rate", stage=ctx.t(f"stage.{stage}")))

selection = queries.adverse_impact(ctx.scope, family, stage)
tabs = st.tabs([ctx.t(f"dimension.{d}") for d in queries.FAIRNESS_DIMENSIONS])
for tab, dimension in zip(tabs, queries.FAIRNESS_DIMENSIONS, strict=True):
    with tab:
        part = selection[selection["dimension"] == dimension]
        if part["impact_ratio"].notna().any():
            ui.chart(
                charts.impact_ratios(part, ctx, ctx.t("chart.impact_ratios", dimension=ctx.t(f"dimension.{dimension}")))
            )
        ui.table(
            part.drop(columns="dimension"),
            ctx,
            f"selection_{dimension.replace(' × ', '_x_')}",
            suppressed=["n", "n_passed", "selection_rate", "impact_ratio"],
        )

st.subheader(ctx.t("label.scoring_rates"))
scoring = None
if ctx.department_only:
    st.info(ctx.t("label.scoring_org_only"))
elif family == "all":
    st.caption(ctx.t("label.choose_family_for_scoring"))
else:
    scoring = ui.load(ctx, lambda: queries.scoring_rates(family))
    if scoring is not None and not scoring.empty:
        ui.chart(
            charts.impact_ratios(
                scoring.assign(group_label=scoring["dimension"] + ": " + scoring["group_label"]),
                ctx,
                ctx.t("chart.scoring_impact"),
            )
        )
        shown = [
            c
            for c in (
                "dimension",
                "group_label",
                "n",
                "n_positive",
                "rate",
                "impact_ratio",
                "below_four_fifths",
                "p_value",
                "significant",
                "small_group",
            )
            if c in scoring.columns
        ]
        ui.table(scoring[shown], ctx, "scoring")

st.subheader(ctx.t("label.audit_summary"))
start, end = queries.application_period(ctx.scope)
summary = audit.summary(
    selection,
    scoring,
    job_family=family,
    stage=stage,
    period_start=start,
    period_end=end,
    scope=ctx.scope.department or "all",
)
st.caption(ctx.t("help.audit_summary"))
with st.expander(ctx.t("label.preview")):
    st.dataframe(
        ui.labelled(ui.display_format(ui.translate_codes(summary, ctx)), ctx), hide_index=True, width="stretch"
    )
ui.downloads(ui.labelled(summary, ctx), ctx, "bias_audit_summary")
st.caption(ctx.t("label.suppressed_note"))
