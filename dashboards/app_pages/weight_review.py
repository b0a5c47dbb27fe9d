"""Weight review: for each job family, the current and recommended scorecard weights with their evidence
(intervals, out-of-sample validity, the fairness gate), and the talent leader's decision with a written reason."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import charts, queries, review, session, ui
from dashboards.i18n import LocalizedError

ctx = ui.page("weight_review")
state = session.app_state()
all_recs = ui.load(ctx, review.load_all)
if all_recs is None:
    st.stop()
if all_recs.empty:
    st.info(ctx.t("label.no_recommendations"))
    st.stop()


def family_label(code: str) -> str:
    row = all_recs[all_recs["job_family"] == code].iloc[-1]
    marks = [ctx.t(f"rec_status.{row['status']}")] + ([ctx.t("label.flagged")] if row["flagged"] else [])
    return f"{ctx.family(code)} · {' · '.join(marks)}"


family = st.selectbox(ctx.t("label.job_family"), list(all_recs["job_family"]), format_func=family_label)
rec = ui.load(ctx, lambda: review.load(family))
if rec is None:
    st.stop()
latest = review.latest_decision(state, rec.recommendation_id)
if latest is not None:
    st.info(
        ctx.t(
            "label.latest_decision",
            decision=ctx.t(f"decision.{latest['decision']}"),
            by=latest["decided_by"],
            at=str(latest["decided_at"])[:16],
            effective=latest["effective_from"] or "–",
        )
    )

e1, e2, e3 = st.columns(3)
e1.metric(ctx.t("col.n_hires_with_outcomes"), ui.number(rec.n_hires_with_outcomes))
e2.metric(ctx.t("col.n_needed"), ui.number(rec.n_needed))
e3.metric(ctx.t("col.effective_from_suggested"), str(rec.effective_from_suggested or "–"))
mix = ", ".join(f"{ctx.t(f'outcome.{k}')} {float(v):.0%}" for k, v in rec.outcome_mix.items()) or "–"
st.caption(
    ctx.t("label.outcome_mix", mix=mix)
    + " · "
    + ctx.t("label.model_version", version=rec.model_version or "–", fitted=str(rec.fitted_at)[:16])
)

if not rec.recommended:
    st.warning(ctx.t("label.insufficient_evidence"))
    st.subheader(ctx.t("label.current_weights"))
    ui.table(queries.weights_in_force(family), ctx, "weights_in_force")
    with st.expander(ctx.t("label.competency_validity")):
        by_competency = ui.load(ctx, lambda: queries.validity(family))
        if by_competency is not None:
            ui.table(by_competency.drop(columns=["model_version", "fitted_at"], errors="ignore"), ctx, "validity")
else:
    ui.chart(charts.weights(rec.weights, ctx))
    ui.table(review.weights_table(rec), ctx, "weights")

    st.subheader(ctx.t("label.validity"))
    validity = ui.load(ctx, lambda: queries.recommendation_validity(rec.recommendation_id))
    if validity is not None and not validity.empty:
        ui.chart(charts.validity_tradeoff(validity, ctx))
        ui.table(
            validity.drop(columns=["recommendation_id", "job_family"], errors="ignore").assign(
                weighting=lambda d: d["weighting"].map(lambda w: ctx.t(f"weighting.{w}"))
            ),
            ctx,
            "validity",
        )
    with st.expander(ctx.t("label.competency_validity")):
        by_competency = ui.load(ctx, lambda: queries.validity(family))
        if by_competency is not None:
            ui.table(
                by_competency.drop(columns=["model_version", "fitted_at"], errors="ignore"), ctx, "competency_validity"
            )

    st.subheader(ctx.t("label.fairness_gate"))
    if rec.flagged:
        st.error(ctx.t("label.fairness_flag_notice") + "\n\n" + "\n".join(f"- {f}" for f in rec.flags))
    else:
        st.success(ctx.t("label.fairness_gate_passed"))
    gate = ui.load(ctx, lambda: queries.fairness_gate(rec.recommendation_id))
    if gate is not None:
        ui.table(review.fairness_table(gate), ctx, "fairness_gate", height=320)

    st.subheader(ctx.t("label.decision"))
    decision = st.radio(
        ctx.t("label.decision"),
        ["approved", "edited", "rejected"],
        horizontal=True,
        format_func=lambda d: ctx.t(f"action.{d}"),
        key="review_decision",
        label_visibility="collapsed",
    )
    weights = None
    if decision == "edited":
        recommended = rec.recommended_weights()
        cols = st.columns(len(recommended))
        weights = {
            code: cols[i].number_input(
                ctx.competency(code), 0.0, 1.0, round(value, 3), 0.01, format="%.3f", key=f"w_{family}_{code}"
            )
            for i, (code, value) in enumerate(recommended.items())
        }
        st.caption(ctx.t("label.weights_total", total=f"{sum(weights.values()):.3f}"))
    effective = None
    if decision != "rejected":
        effective = st.date_input(
            ctx.t("label.effective_from"), review.default_effective_from(rec), min_value=dt.datetime.now(dt.UTC).date()
        )
    acknowledged = False
    if rec.flagged and decision != "rejected":
        acknowledged = st.checkbox(ctx.t("label.flag_acknowledged"))
    reason = st.text_area(ctx.t("label.reason"), placeholder=ctx.t("label.reason_placeholder"), key="review_reason")
    if st.button(ctx.t("label.submit"), type="primary"):
        try:
            recorded = review.decide(
                state,
                rec,
                decision,
                reason=reason,
                decided_by=ctx.user.username,
                weights=weights,
                effective_from=effective,
                flag_acknowledged=acknowledged,
            )
        except LocalizedError as err:
            st.error(err.message(ctx.lang))
        else:
            st.success(ctx.t("label.decision_recorded_id", id=recorded.decision_id))

st.subheader(ctx.t("label.decision_log"))
log = review.decision_log(state)
if log.empty:
    st.caption(ctx.t("label.no_decisions"))
else:
    log = log.assign(
        decision=log["decision"].map(lambda d: ctx.t(f"decision.{d}")),
        effective_from=log["effective_from"].map(lambda v: v if v else "–"),
    )
    ui.table(pd.DataFrame(log), ctx, "decision_log")
