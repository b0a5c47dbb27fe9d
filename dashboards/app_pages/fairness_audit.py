"""Fairness audit: selection and scoring rates and impact ratios of the scored applicants by sex, ethnicity and
their intersection under the audit's rule, the job family's bias-audit report (PDF, HTML), the score-threshold
view, and selection at each funnel step; exportable as a bias-audit summary."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import audit, audit_queries, charts, queries, ui

ctx = ui.page("fairness_audit")
families = queries.job_families(ctx.scope)
family = st.selectbox(ctx.t("label.job_family"), ["all", *families], format_func=ctx.family)
dimension_tab = {d: ctx.t(f"dimension.{d}") for d in queries.FAIRNESS_DIMENSIONS}
impact_cells = ["n", "n_passed", "rate", "selection_rate", "impact_ratio", "ci_low", "ci_high"]


def file_part(dimension: str) -> str:
    return dimension.replace(" × ", "_x_")


def no_reference_note(part) -> None:
    """Say why a table has no impact ratios: no known group reaches the reference floor."""
    if len(part) and part["reference_group"].isna().all():
        st.caption(ctx.t("label.no_reference", floor=int(part["floor_n"].max())))


def scored_applicants():
    """Selection and scoring rates of the scored applicants, what the bias audit reports; the frame shown."""
    st.subheader(ctx.t("label.scored_applicants"))
    scored = ui.load(ctx, lambda: audit_queries.scored_impact(ctx.scope, family))
    if scored is None:
        return None
    floor = int(scored["floor_n"].max()) if len(scored) else audit_queries.REFERENCE_FLOOR_N
    st.caption(ctx.t("help.scored_applicants", floor=floor))
    for tab, dimension in zip(st.tabs(list(dimension_tab.values())), dimension_tab, strict=True):
        with tab:
            for metric in audit_queries.METRICS:
                part = scored[(scored["dimension"] == dimension) & (scored["metric"] == metric)]
                compared = part[part["is_eligible"].astype(bool)]
                if compared["impact_ratio"].notna().any():
                    title = ctx.t(f"chart.{metric}_impact_dimension", dimension=dimension_tab[dimension])
                    ui.chart(charts.impact_ratios(compared, ctx, title))
                no_reference_note(part)
                ui.table(
                    part.drop(columns=["metric", "dimension", "floor_n"]),
                    ctx,
                    f"scored_{metric}_{file_part(dimension)}",
                    suppressed=impact_cells,
                )
    return scored


def audit_report() -> None:
    """The family's bias-audit report as the nightly run published it, PDF and HTML."""
    st.subheader(ctx.t("label.audit_report"))
    if family == "all":
        st.caption(ctx.t("label.choose_family_for_report"))
        return
    published = ui.load(ctx, lambda: audit_queries.reports(ctx.scope, family))
    if published is None:
        return
    command = f"talentloop audit --job-family {family} --from YYYY-MM-DD --to YYYY-MM-DD --out DIR"
    if published.empty:
        st.info(ctx.t("label.no_audit_report", command=command))
        return
    first = published.iloc[0]
    st.caption(
        ctx.t(
            "help.audit_report",
            start=pd.Timestamp(first["period_start"]).date(),
            end=pd.Timestamp(first["period_end"]).date(),
            n=f"{int(first['n_assessed']):,}",
            flags=int(first["n_flags"]),
        )
    )
    buttons = st.columns(len(published) + 2)
    for column, row in zip(buttons, published.itertuples(index=False), strict=False):
        column.download_button(
            ctx.t(f"label.download_{row.format}"),
            data=lambda f=row.format: audit_queries.report_content(ctx.scope, family, f),
            file_name=row.file_name,
            mime=audit_queries.REPORT_FORMATS[row.format],
            key=f"report_{row.format}",
            on_click="ignore",
        )
    st.caption(ctx.t("help.audit_report_other_period", command=command))


def threshold_figure(part, dimension: str) -> go.Figure:
    """Impact ratio against the cut-off percentile, one line per group that can be the reference."""
    fig = go.Figure()
    shown = part[part["eligible"].astype(bool)]
    for i, (label, rows) in enumerate(shown.groupby("group_label", sort=True)):
        fig.add_trace(
            go.Scatter(
                x=rows["cutoff_quantile"],
                y=rows["impact_ratio"],
                name=ctx.group(label),
                mode="lines+markers",
                line={"color": charts.PALETTE[i % len(charts.PALETTE)]},
            )
        )
    fig.add_hline(y=charts.FOUR_FIFTHS, line_dash="dash", line_color=charts.PALETTE[3])
    fig.update_layout(
        title=ctx.t("chart.threshold_impact", dimension=dimension_tab[dimension]),
        template="plotly_white",
        height=380,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0},
    )
    fig.update_xaxes(title=ctx.t("label.cutoff_axis"), tickformat=".0%")
    fig.update_yaxes(title=ctx.t("label.impact_ratio"))
    return fig


def score_thresholds() -> None:
    """What each cut-off of the composite would do to each group's pass rate and impact ratio."""
    st.subheader(ctx.t("label.score_thresholds"))
    if family == "all":
        st.caption(ctx.t("label.choose_family_for_report"))
        return
    grid = ui.load(ctx, lambda: audit_queries.thresholds(ctx.scope, family))
    if grid is None or grid.empty:
        return
    st.caption(ctx.t("help.score_thresholds"))
    dimension = st.selectbox(
        ctx.t("col.dimension"), list(dimension_tab), format_func=dimension_tab.get, key="threshold_dimension"
    )
    part = grid[grid["dimension"] == dimension]
    ui.chart(threshold_figure(part, dimension))
    ui.table(
        part.drop(columns=["dimension", "eligible"]),
        ctx,
        f"thresholds_{file_part(dimension)}",
        suppressed=["n", "n_positive", "rate", "impact_ratio", "ci_low", "ci_high"],
    )


def funnel_steps():
    """Selection at one funnel step, for the user's rows; the frame shown and the stage."""
    st.subheader(ctx.t("label.funnel_steps"))
    stage = st.selectbox(
        ctx.t("label.stage"),
        list(queries.FAIRNESS_STAGES),
        index=len(queries.FAIRNESS_STAGES) - 1,
        format_func=lambda s: ctx.t(f"stage.{s}"),
    )
    st.caption(ctx.t("help.selection_rate", stage=ctx.t(f"stage.{stage}")))
    selection = ui.load(ctx, lambda: audit_queries.funnel_impact(ctx.scope, family, stage))
    if selection is None:
        return None, stage
    for tab, dimension in zip(st.tabs(list(dimension_tab.values())), dimension_tab, strict=True):
        with tab:
            part = selection[selection["dimension"] == dimension]
            compared = part[part["is_eligible"].astype(bool)]
            if compared["impact_ratio"].notna().any():
                title = ctx.t("chart.impact_ratios", dimension=dimension_tab[dimension])
                ui.chart(charts.impact_ratios(compared, ctx, title))
            no_reference_note(part)
            ui.table(
                part.drop(columns=["dimension", "floor_n"]),
                ctx,
                f"selection_{file_part(dimension)}",
                suppressed=impact_cells,
            )
    return selection, stage


def audit_summary(selection, scored, stage: str) -> None:
    """The bias-audit summary export: the funnel step's selection rows and the scored applicants' scoring rows."""
    st.subheader(ctx.t("label.audit_summary"))
    start, end = queries.application_period(ctx.scope)
    scoring = None
    if scored is not None:
        scoring = scored[scored["metric"] == "scoring"].rename(
            columns={
                "n_passed": "n_positive",
                "is_below_four_fifths": "below_four_fifths",
                "is_suppressed": "small_group",
            }
        )
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


scored = None
if ctx.department_only:
    # The audit, its report and the thresholds pool every department: a department head sees the funnel only.
    st.info(ctx.t("label.audit_org_only"))
else:
    scored = scored_applicants()
    audit_report()
    score_thresholds()
selection, stage = funnel_steps()
if selection is not None:
    audit_summary(selection, scored, stage)
st.caption(ctx.t("label.suppressed_note"))
