"""Complaints: customer complaints per 1,000 days employed, by job family and interview score band; what the
complaint model says about each factor."""

import streamlit as st

from dashboards import charts, queries, ui

ctx = ui.page("complaints")
rates = queries.complaint_rates(ctx.scope)
ui.chart(charts.complaint_bars(rates, ctx))
measures = [
    "n_hires",
    "exposure_days",
    "n_complaints",
    "n_substantiated_complaints",
    "complaints_per_1000_days",
    "substantiated_per_1000_days",
]
ui.table(
    rates.assign(score_band=rates["score_band"].map(lambda b: charts.band_label(b, ctx))),
    ctx,
    "rates",
    suppressed=measures,
)
st.caption(ctx.t("help.complaint_rates"))

st.subheader(ctx.t("label.rate_ratios"))
st.caption(ctx.t("label.org_wide_model"))
model = ui.load(ctx, queries.complaint_model)
if model is not None and not model.empty:
    ui.chart(charts.forest(model, "rate_ratio", ctx, ctx.t("chart.rate_ratios")))
    shown = [
        c
        for c in ("scope", "term", "rate_ratio", "ci_low", "ci_high", "p_value", "model", "dispersion", "n")
        if c in model.columns
    ]
    ui.table(model[shown], ctx, "rate_ratios")
st.caption(ctx.t("label.suppressed_note"))
