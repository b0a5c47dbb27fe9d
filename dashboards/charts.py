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

# One colour per named weighting wherever the desk draws it (bars, points, the front).
WEIGHTING_COLOURS = {
    "current": "#7f7f7f",
    "unit": "#9467bd",
    "recommended": PALETTE[0],
    "validity_max": PALETTE[1],
    "edit": PALETTE[3],
}
WEIGHTING_SYMBOLS = {"current": "circle", "unit": "square", "recommended": "diamond", "validity_max": "star"}


def _error(values: pd.Series, low: pd.Series, high: pd.Series) -> dict:
    return {
        "type": "data",
        "symmetric": False,
        "array": _none(high - values),
        "arrayminus": _none(values - low),
        "thickness": 1.5,
        "width": 4,
    }


def weights(df: pd.DataFrame, ctx: PageContext, names: dict[str, str]) -> go.Figure:
    """Current -> this cycle's step -> target per competency, the step's and the target's 95% intervals as bars.

    df: ml.recommendation_weights rows (current_weight, recommended_weight, ci_low/high, target_weight,
    target_ci_low/high); names: the display name of each weighting."""
    labels = [ctx.competency(c) for c in df["competency_code"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            name=names["current"], x=labels, y=_none(df["current_weight"]), marker_color=WEIGHTING_COLOURS["current"]
        )
    )
    for code, value, low, high in (
        ("recommended", "recommended_weight", "ci_low", "ci_high"),
        ("validity_max", "target_weight", "target_ci_low", "target_ci_high"),
    ):
        if value not in df.columns:
            continue
        error = _error(df[value], df[low], df[high]) if {low, high} <= set(df.columns) else None
        fig.add_trace(
            go.Bar(
                name=names[code],
                x=labels,
                y=_none(df[value]),
                marker_color=WEIGHTING_COLOURS[code],
                error_y=error,
                hovertemplate="%{x}: %{y:.1%}<extra>" + names[code] + "</extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=ctx.t("label.weight"), tickformat=".0%", rangemode="tozero")
    return _layout(fig, ctx.t("desk.chart.weights"))


def holdout_validity(df: pd.DataFrame, ctx: PageContext, names: dict[str, str]) -> go.Figure:
    """Out-of-sample validity of each named weighting with its 95% interval (df: ml.recommendation_validity rows
    in the desk's order, plus an 'edit' row when the reviewer is editing)."""
    labels = [names.get(w, w) for w in df["weighting"]]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=_none(df["holdout_r"]),
            marker_color=[WEIGHTING_COLOURS.get(w, PALETTE[0]) for w in df["weighting"]],
            error_y=_error(df["holdout_r"], df["holdout_ci_low"], df["holdout_ci_high"]),
            text=[None if pd.isna(v) else f"{v:.2f}" for v in df["holdout_r"]],
            textposition="outside",
            hovertemplate="%{x}: r = %{y:.3f}<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_hline(y=0, line_color="#888", line_width=1)
    fig.update_yaxes(title=ctx.t("desk.axis.holdout_r"), range=[min(-0.1, float(df["holdout_ci_low"].min() or 0)), 1])
    return _layout(fig, ctx.t("desk.chart.holdout_validity"), height=340)


def _weights_hover(df: pd.DataFrame, ctx: PageContext) -> list[str]:
    cols = [c for c in df.columns if c.startswith("w_")]
    return [
        "<br>".join(f"{ctx.competency(c.removeprefix('w_'))} {float(v):.0%}" for c, v in zip(cols, row, strict=True))
        for row in df[cols].itertuples(index=False)
    ]


def tradeoff_front(
    df: pd.DataFrame, ctx: PageContext, names: dict[str, str], edit: tuple[float, float] | None = None
) -> go.Figure:
    """Validity in the applicant pool against the lowest impact ratio: the feasible weightings as a grey cloud, the
    Pareto front as a line, the named weightings and the reviewer's edit marked, and the four-fifths line."""
    x_title, y_title = ctx.t("desk.axis.min_impact_ratio"), ctx.t("desk.axis.validity_applicants")
    axes = x_title + " %{x:.2f} · " + y_title + " %{y:.2f}<extra>%{fullData.name}</extra>"
    fig = go.Figure()

    def points(rows: pd.DataFrame, name: str, **style) -> None:
        fig.add_trace(
            go.Scatter(
                x=_none(rows["min_impact_ratio"]),
                y=_none(rows["validity_applicants"]),
                name=name,
                text=_weights_hover(rows, ctx),
                hovertemplate="%{text}<br>" + axes,
                **{"mode": "markers", **style},
            )
        )

    points(df[df["weighting"] == "lattice"], names["lattice"], marker={"size": 5, "color": "rgba(127,127,127,0.35)"})
    front = df[df["on_front"].astype(bool)].sort_values("min_impact_ratio")
    if len(front):
        points(
            front,
            names["front"],
            mode="lines+markers",
            line={"color": "#444", "width": 2},
            marker={"size": 5, "color": "#444"},
        )
    for code, symbol in WEIGHTING_SYMBOLS.items():
        rows = df[df["weighting"] == code]
        if len(rows):
            marker = {"size": 14, "symbol": symbol, "color": WEIGHTING_COLOURS[code], "line": {"width": 1}}
            points(rows, names[code], marker=marker)
    if edit is not None:
        fig.add_trace(
            go.Scatter(
                x=[edit[0]],
                y=[edit[1]],
                mode="markers",
                name=names["edit"],
                marker={"size": 16, "symbol": "x", "color": WEIGHTING_COLOURS["edit"], "line": {"width": 1}},
                hovertemplate=axes,
            )
        )
    fig.add_vline(
        x=FOUR_FIFTHS,
        line_dash="dash",
        line_color=PALETTE[3],
        annotation_text=ctx.t("desk.chart.four_fifths"),
        annotation_position="top left",
    )
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(title=y_title)
    return _layout(fig, ctx.t("desk.chart.front"), height=460)


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
