"""Plotly figures of the pages, from frames the query layer has already aggregated (nothing is computed here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

if TYPE_CHECKING:
    from dashboards.ui import PageContext

BAND_ORDER = ("low", "medium", "high", "unscored", "all")
BAND_COLOURS = {"low": "#d62728", "medium": "#ff7f0e", "high": "#2ca02c", "unscored": "#7f7f7f", "all": "#1f77b4"}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
FOUR_FIFTHS = 0.8


def _layout(fig: go.Figure, title: str | None = None, height: int = 380, **kwargs) -> go.Figure:
    # The title sits at the very top and the legend in the band between it and the plot, so they never overlap.
    fig.update_layout(
        title={"text": title, "y": 1, "yref": "container", "yanchor": "top", "pad": {"t": 12}} if title else None,
        template="plotly_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 80 if title else 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0},
        **kwargs,
    )
    return fig


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _none(values: pd.Series) -> list:
    """Plotly reads None as a gap; pandas' NA types are not all JSON-friendly."""
    return [None if pd.isna(v) else v for v in values]


def band_label(band: str, ctx: PageContext) -> str:
    return ctx.t(f"band.{band}")


# overview


def monthly_activity(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    fig = go.Figure()
    for i, measure in enumerate(("applications", "interviews", "hires")):
        rows = df[df["measure"] == measure]
        fig.add_trace(
            go.Scatter(
                x=rows["month"],
                y=_none(rows["n"]),
                name=ctx.t(f"measure.{measure}"),
                mode="lines+markers",
                line={"color": PALETTE[i]},
            )
        )
    return _layout(fig, ctx.t("chart.monthly_activity"), yaxis_title=ctx.t("label.count"))


def headcount(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=df["month_start"],
            y=_none(df["headcount_end"]),
            name=ctx.t("col.headcount_end"),
            marker_color=PALETTE[0],
            opacity=0.6,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=df["month_start"],
            y=_none(df["retention_rate_12m"]),
            name=ctx.t("col.retention_rate_12m"),
            yaxis="y2",
            mode="lines+markers",
            line={"color": PALETTE[2]},
        )
    )
    return _layout(
        fig,
        ctx.t("chart.headcount"),
        yaxis_title=ctx.t("col.headcount_end"),
        yaxis2={"overlaying": "y", "side": "right", "range": [0, 1], "tickformat": ".0%", "showgrid": False},
    )


# funnel


def funnel(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    fig = go.Figure()
    for i, (group, rows) in enumerate(df.groupby("dimension_value", sort=False)):
        rows = rows.sort_values("stage_order")
        fig.add_trace(
            go.Funnel(
                name=str(group) if group != "all" else ctx.t("label.all"),
                y=[ctx.t(f"stage.{s}") for s in rows["stage_name"]],
                x=_none(rows["n_entered"]),
                textinfo="value+percent initial",
                marker={"color": PALETTE[i % len(PALETTE)]},
            )
        )
    return _layout(fig, ctx.t("chart.funnel"), height=420)


def stage_bars(df: pd.DataFrame, value: str, ctx: PageContext, *, percent: bool = False) -> go.Figure:
    fig = go.Figure()
    for i, (group, rows) in enumerate(df.groupby("dimension_value", sort=False)):
        rows = rows.sort_values("stage_order").dropna(subset=[value])
        fig.add_trace(
            go.Bar(
                name=str(group) if group != "all" else ctx.t("label.all"),
                x=[ctx.t(f"stage.{s}") for s in rows["stage_name"]],
                y=_none(rows[value]),
                marker_color=PALETTE[i % len(PALETTE)],
            )
        )
    fig.update_layout(barmode="group")
    if percent:
        fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _layout(fig, ctx.t(f"col.{value}"))


# quality of hire


def quality_by_band(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    rows = df[df["score_band"].isin(["low", "medium", "high"])].copy()
    rows["order"] = rows["score_band"].map(BAND_ORDER.index)
    rows = rows.sort_values("order")
    fig = go.Figure()
    for i, measure in enumerate(
        ("mean_rating_3m", "mean_rating_6m", "mean_rating_12m", "probation_pass_rate", "retention_rate_12m")
    ):
        fig.add_trace(
            go.Bar(
                name=ctx.t(f"col.{measure}"),
                x=[band_label(b, ctx) for b in rows["score_band"]],
                y=_none(rows[measure]),
                text=[None if pd.isna(v) else f"{v:.2f}" for v in rows[measure]],
                textposition="outside",
                marker_color=PALETTE[i],
            )
        )
    fig.update_layout(barmode="group", xaxis_title=ctx.t("col.score_band"))
    fig.update_yaxes(range=[0, 1.1])
    return _layout(fig, ctx.t("chart.quality_by_band"), height=420)


def quality_by_cohort(df: pd.DataFrame, measure: str, ctx: PageContext) -> go.Figure:
    fig = go.Figure()
    for band in BAND_ORDER:
        rows = df[df["score_band"] == band].sort_values("hire_cohort")
        if rows.empty or rows[measure].isna().all():
            continue
        fig.add_trace(
            go.Scatter(
                x=rows["hire_cohort"],
                y=_none(rows[measure]),
                name=band_label(band, ctx),
                mode="lines+markers",
                line={"color": BAND_COLOURS[band], "dash": "dot" if band == "all" else "solid"},
            )
        )
    fig.update_yaxes(range=[0, 1.05])
    return _layout(fig, ctx.t("chart.quality_by_cohort", measure=ctx.t(f"col.{measure}")))


def quality_by_competency(df: pd.DataFrame, ctx: PageContext, outcome: str) -> go.Figure:
    fig = go.Figure()
    for i, (code, rows) in enumerate(df.groupby("competency_code", sort=True)):
        fig.add_trace(
            go.Scatter(
                x=rows["competency_quintile"],
                y=_none(rows["mean_outcome"]),
                name=ctx.competency(code),
                mode="lines+markers",
                line={"color": PALETTE[i % len(PALETTE)]},
            )
        )
    fig.update_xaxes(title=ctx.t("col.competency_quintile"), dtick=1)
    fig.update_yaxes(title=ctx.t(f"outcome.{outcome}"))
    return _layout(fig, ctx.t("chart.quality_by_competency"))


# survival and models


def survival(df: pd.DataFrame, ctx: PageContext, title: str, *, bands: bool = True) -> go.Figure:
    fig = go.Figure()
    curves = list(dict.fromkeys(df["curve"]))
    if bands:
        curves.sort(key=lambda c: BAND_ORDER.index(c) if c in BAND_ORDER else 99)
    for i, curve in enumerate(curves):
        rows = df[df["curve"] == curve].sort_values("time_days")
        if len(rows) and rows["time_days"].iloc[0] > 0:
            # Every curve starts at 100% on the day of hire; life tables report from the end of the first interval.
            start = {
                "curve": curve,
                "time_days": 0,
                "survival": 1.0,
                "ci_low": 1.0 if rows["ci_low"].notna().any() else None,
                "ci_high": 1.0 if rows["ci_high"].notna().any() else None,
            }
            rows = pd.concat([pd.DataFrame([start]), rows], ignore_index=True)
        colour = BAND_COLOURS.get(curve, PALETTE[i % len(PALETTE)]) if bands else PALETTE[i % len(PALETTE)]
        name = band_label(curve, ctx) if bands and curve in BAND_ORDER else str(curve)
        if rows["ci_low"].notna().any():
            fig.add_trace(
                go.Scatter(
                    x=list(rows["time_days"]) + list(rows["time_days"])[::-1],
                    y=_none(rows["ci_high"]) + _none(rows["ci_low"])[::-1],
                    fill="toself",
                    fillcolor=_rgba(colour, 0.15),
                    line={"width": 0},
                    hoverinfo="skip",
                    mode="lines",
                    showlegend=False,
                    name=name,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=rows["time_days"],
                y=_none(rows["survival"]),
                name=name,
                mode="lines",
                line={"color": colour, "shape": "hv"},
            )
        )
    fig.update_xaxes(title=ctx.t("label.days_since_hire"))
    fig.update_yaxes(title=ctx.t("label.still_employed"), tickformat=".0%")
    return _layout(fig, title, height=420)


def forest(df: pd.DataFrame, estimate: str, ctx: PageContext, title: str) -> go.Figure:
    """Ratios with their intervals on a log axis; 1 means no effect."""
    rows = df.dropna(subset=[estimate]).iloc[::-1]
    labels = [
        f"{ctx.family(s)} · {ctx.term(t)}" if s not in (None, "all", "overall") else ctx.term(t)
        for s, t in zip(rows["scope"], rows["term"], strict=True)
    ]
    fig = go.Figure(
        go.Scatter(
            x=_none(rows[estimate]),
            y=labels,
            mode="markers",
            marker={"size": 9, "color": PALETTE[0]},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": _none(rows["ci_high"] - rows[estimate]),
                "arrayminus": _none(rows[estimate] - rows["ci_low"]),
            },
        )
    )
    fig.add_vline(x=1, line_dash="dash", line_color="#888")
    fig.update_xaxes(type="log", title=ctx.t(f"col.{estimate}"))
    return _layout(fig, title, height=max(260, 28 * len(rows) + 80))


def complaint_bars(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    rows = df[(df["job_family"] != "all") & (df["score_band"].isin(["low", "medium", "high"]))]
    fig = go.Figure()
    for band in ("low", "medium", "high"):
        part = rows[rows["score_band"] == band]
        fig.add_trace(
            go.Bar(
                name=band_label(band, ctx),
                x=[ctx.family(f) for f in part["job_family"]],
                y=_none(part["complaints_per_1000_days"]),
                marker_color=BAND_COLOURS[band],
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=ctx.t("col.complaints_per_1000_days"))
    return _layout(fig, ctx.t("chart.complaints"))


# interviewers


HEATMAP_MAX_ROWS = 30


def leniency_heatmap(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    """Leniency per interviewer x competency, one row per interviewer in `rank` order (queries.interviewer_heatmap
    picks the interviewers furthest from the panel, at most HEATMAP_MAX_ROWS)."""
    grid = df.pivot(index="rater_id", columns="competency_code", values="leniency")
    grid = grid.reindex(df.drop_duplicates("rater_id").sort_values("rank")["rater_id"])
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=float),
            x=[ctx.competency(c) for c in grid.columns],
            y=list(grid.index),
            colorscale="RdBu_r",
            zmid=0,
            zmin=-0.25,
            zmax=0.25,
            colorbar={"title": ctx.t("col.leniency")},
            hovertemplate="%{y} · %{x}: %{z:+.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, ctx.t("chart.leniency"), height=max(320, 22 * len(grid) + 120))


# The heatmap's scale: lenient red, severe blue.
STATUS_COLOURS = {
    "ok": "#2ca02c",
    "lenient": "#b2182b",
    "severe": "#2166ac",
    "low_agreement": "#9467bd",
    "too_few_interviews": "#7f7f7f",
}
# Past this many points SVG markers make the browser slow to draw; WebGL draws tens of thousands at once.
SVG_MAX_POINTS = 1_000


def leniency_vs_agreement(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    """Pooled leniency against agreement, one point per interviewer (queries.interviewers), coloured by status."""
    rows = df.dropna(subset=["leniency", "agreement_r"])
    many = len(rows) > SVG_MAX_POINTS
    trace = go.Scattergl if many else go.Scatter
    fig = go.Figure()
    for status, part in rows.groupby("calibration_status"):
        fig.add_trace(
            trace(
                x=part["leniency"],
                y=part["agreement_r"],
                mode="markers",
                text=part["rater_id"],
                hovertemplate="%{text}: %{x:+.3f}, r = %{y:.2f}<extra></extra>",
                name=ctx.t(f"status.{status}"),
                marker={
                    "size": 5 if many else 10,
                    "opacity": 0.6 if many else 1.0,
                    "color": STATUS_COLOURS.get(status, PALETTE[0]),
                },
            )
        )
    fig.add_vline(x=0, line_dash="dot", line_color="#888")
    fig.update_xaxes(title=ctx.t("col.leniency"))
    fig.update_yaxes(title=ctx.t("col.agreement_r"), range=[-0.2, 1.05])
    return _layout(fig, ctx.t("chart.leniency_vs_agreement"))


def rater_agreement(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    fig = go.Figure()
    for i, (family, rows) in enumerate(df.groupby("job_family", sort=True)):
        fig.add_trace(
            go.Bar(
                name=ctx.family(family),
                x=[ctx.competency(c) for c in rows["competency_code"]],
                y=rows["r"],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": rows["ci_high"] - rows["r"],
                    "arrayminus": rows["r"] - rows["ci_low"],
                },
                marker_color=PALETTE[i % len(PALETTE)],
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[-1, 1], title=ctx.t("col.r_ai_human"))
    return _layout(fig, ctx.t("chart.rater_agreement"))


# talent pool


def talent_counts(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    fig = go.Figure()
    for i, (region, rows) in enumerate(df.groupby("region", sort=True)):
        fig.add_trace(
            go.Bar(
                name=str(region),
                x=[ctx.family(f) for f in rows["job_family"]],
                y=rows["n"],
                marker_color=PALETTE[i % len(PALETTE)],
            )
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title=ctx.t("label.candidates"))
    return _layout(fig, ctx.t("chart.talent_counts"), height=300)


def profile_scores(scores: dict[str, float], strong: float, ctx: PageContext) -> go.Figure:
    codes = list(scores)
    values = [scores[c] for c in codes]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=[ctx.competency(c) for c in codes],
            orientation="h",
            marker_color=["#2ca02c" if v is not None and v >= strong else PALETTE[0] for v in values],
            text=[None if v is None else f"{v:.2f}" for v in values],
            textposition="outside",
        )
    )
    fig.add_vline(x=strong, line_dash="dash", line_color="#2ca02c")
    fig.update_xaxes(range=[0, 1.1], title=ctx.t("label.score"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, ctx.t("chart.profile_scores"), height=300)


# weight review


def weights(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    names = [ctx.competency(c) for c in df["competency_code"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(name=ctx.t("label.current_weights"), x=names, y=df["current_weight"], marker_color="#7f7f7f"))
    fig.add_trace(
        go.Bar(
            name=ctx.t("label.recommended_weights"),
            x=names,
            y=df["recommended_weight"],
            marker_color=PALETTE[0],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": _none(df["ci_high"] - df["recommended_weight"]),
                "arrayminus": _none(df["recommended_weight"] - df["ci_low"]),
            },
        )
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=ctx.t("label.weight"), tickformat=".0%", rangemode="tozero")
    return _layout(fig, ctx.t("chart.weights"))


def validity_tradeoff(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    """Out-of-sample validity next to the lowest impact ratio of each weighting: the trade-off, side by side."""
    fig = go.Figure()
    labels = [ctx.t(f"weighting.{w}") for w in df["weighting"]]
    fig.add_trace(
        go.Bar(
            name=ctx.t("col.holdout_r"),
            x=labels,
            y=_none(df["holdout_r"]),
            marker_color=PALETTE[0],
            text=[None if pd.isna(v) else f"{v:.2f}" for v in df["holdout_r"]],
            textposition="outside",
        )
    )
    if "min_impact_ratio" in df.columns:
        fig.add_trace(
            go.Bar(
                name=ctx.t("col.min_impact_ratio"),
                x=labels,
                y=_none(df["min_impact_ratio"]),
                marker_color=PALETTE[1],
                text=[None if pd.isna(v) else f"{v:.2f}" for v in df["min_impact_ratio"]],
                textposition="outside",
            )
        )
        fig.add_hline(y=FOUR_FIFTHS, line_dash="dash", line_color=PALETTE[3])
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, 1.15])
    return _layout(fig, ctx.t("chart.validity_tradeoff"))


# fairness


def impact_ratios(
    df: pd.DataFrame, ctx: PageContext, title: str, *, ratio: str = "impact_ratio", label: str = "group_label"
) -> go.Figure:
    rows = df.dropna(subset=[ratio]).sort_values(ratio)
    fig = go.Figure(
        go.Bar(
            x=rows[ratio],
            y=[ctx.group(v) for v in rows[label]],
            orientation="h",
            marker_color=[PALETTE[3] if v < FOUR_FIFTHS else PALETTE[0] for v in rows[ratio]],
            text=[f"{v:.2f}" for v in rows[ratio]],
            textposition="outside",
        )
    )
    fig.add_vline(x=FOUR_FIFTHS, line_dash="dash", line_color=PALETTE[3])
    fig.update_xaxes(title=ctx.t("label.impact_ratio"), range=[0, max(1.3, float(rows[ratio].max() or 0) + 0.2)])
    return _layout(fig, title, height=max(260, 26 * len(rows) + 90))


# data quality


def quarantine(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    fig = go.Figure()
    for i, (reason, rows) in enumerate(df.groupby("reason_code", sort=True)):
        fig.add_trace(
            go.Bar(name=str(reason), x=rows["source"], y=rows["n_rows"], marker_color=PALETTE[i % len(PALETTE)])
        )
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title=ctx.t("col.n_rows"))
    return _layout(fig, ctx.t("chart.quarantine"))


def daily_loads(df: pd.DataFrame, ctx: PageContext) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Bar(x=df["day"], y=df["rows_loaded"], name=ctx.t("col.rows_loaded"), marker_color=PALETTE[0]))
    fig.add_trace(
        go.Bar(x=df["day"], y=df["rows_quarantined"], name=ctx.t("col.rows_quarantined"), marker_color=PALETTE[3])
    )
    fig.update_layout(barmode="stack")
    return _layout(fig, ctx.t("chart.daily_loads"), height=300)
