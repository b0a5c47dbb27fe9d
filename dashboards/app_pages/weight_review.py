"""Weight review: for each job family, what the weight model recommends and why, the weights (current, this cycle's
step, the target), their value on hires the model never saw, the validity / adverse-impact trade-off, the fairness
gate, and the talent leader's decision with a written reason. An edit is judged by the same gate before it can be
recorded."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import charts, queries, review, session, ui
from dashboards.i18n import LocalizedError

ctx = ui.page("weight_review")
t = ctx.t
state = session.app_state()
all_recs = ui.load(ctx, review.load_all)
if all_recs is None:
    st.stop()
if all_recs.empty:
    st.info(t("label.no_recommendations"))
    st.stop()

NAMES = {
    code: review.weighting_name(code, t)
    for code in ("current", "unit", "recommended", "validity_max", "edit", "lattice", "front")
}


def bullets(lines) -> str:
    return "\n".join(f"- {line}" for line in lines if line)


def family_label(code: str) -> str:
    row = all_recs[all_recs["job_family"] == code].iloc[-1]
    marks = [t(f"rec_status.{row['status']}")] + ([t("label.flagged")] if row["flagged"] else [])
    return f"{ctx.family(code)} · {' · '.join(marks)}"


family = st.selectbox(t("label.job_family"), list(all_recs["job_family"]), format_func=family_label)
rec = ui.load(ctx, lambda: review.load(family))
if rec is None:
    st.stop()
latest = review.latest_decision(state, rec.recommendation_id)
if latest is not None:
    st.info(
        t(
            "label.latest_decision",
            decision=t(f"decision.{latest['decision']}"),
            by=latest["decided_by"],
            at=str(latest["decided_at"])[:16],
            effective=latest["effective_from"] or review.DASH,
        )
    )
validity = ui.load(ctx, lambda: queries.recommendation_validity(rec.recommendation_id)) if rec.fitted else None
validity = validity if validity is not None else pd.DataFrame()
by_name = review.validity_by_name(validity)

# status
st.subheader(t("desk.section.status"))
if rec.status == "recommended":
    why = [
        review.gain_sentence(by_name.get("recommended"), "current", t, NAMES["recommended"]),
        review.gain_sentence(by_name.get("validity_max"), "unit", t, NAMES["validity_max"]),
    ]
    notes = [review.note_text(n, t, ctx.competency) for n in rec.notes]
    st.success(
        t("desk.status.recommended")
        + "\n\n"
        + bullets(review.step_changes(rec, t, ctx.competency))
        + "\n\n"
        + t("desk.status.why")
        + "\n\n"
        + bullets([*why, *notes])
    )
elif rec.status == "keep_current":
    reasons = [review.note_text(n, t, ctx.competency) for n in rec.notes]
    st.info(t("desk.status.keep_current") + "\n\n" + bullets(reasons))
    st.caption(t("desk.status.keep_current_evidence"))
else:
    st.warning(
        t("desk.status.insufficient")
        + "\n\n"
        + bullets(review.criterion_lines(rec, t))
        + "\n\n"
        + review.evidence_needed(rec, t)
    )
mix = ", ".join(f"{t(f'outcome.{k}')} {float(v):+.0%}" for k, v in rec.outcome_mix.items()) or review.DASH
st.caption(
    t("label.outcome_mix", mix=mix)
    + " · "
    + t("label.model_version", version=rec.model_version or review.DASH, fitted=str(rec.fitted_at)[:16])
)

# weights
st.subheader(t("desk.section.weights"))
if rec.fitted:
    c1, c2, c3 = st.columns(3)
    c1.metric(t("desk.metric.cycles"), review.count(rec.cycles_to_target))
    c2.metric(t("desk.metric.cap"), review.percent(rec.max_change, 0))
    c3.metric(t("col.n_hires_with_outcomes"), review.count(rec.n_hires_with_outcomes))
    st.caption(t("desk.weights.caption"))
    ui.chart(charts.weights(rec.weights, ctx, NAMES))
ui.table(review.weights_table(rec, t, ctx.competency), ctx, "weights")

# proof of value
if len(validity):
    st.subheader(t("desk.section.proof"))
    st.markdown(
        bullets(
            [
                review.gain_sentence(by_name.get("recommended"), "current", t, NAMES["recommended"]),
                review.gain_sentence(by_name.get("recommended"), "unit", t, NAMES["recommended"]),
                review.gain_sentence(by_name.get("validity_max"), "unit", t, NAMES["validity_max"]),
            ]
        )
    )
    named = validity[validity["weighting"].isin(review.NAMED_WEIGHTINGS)].copy()
    named["order"] = named["weighting"].map(review.NAMED_WEIGHTINGS.index)
    ui.chart(charts.holdout_validity(named.sort_values("order"), ctx, NAMES))
    ui.table(review.proof_table(validity, t), ctx, "proof_of_value")
    with st.expander(t("label.competency_validity")):
        by_competency = ui.load(ctx, lambda: queries.validity(family))
        if by_competency is not None:
            ui.table(review.competency_validity_table(by_competency, t, ctx.competency), ctx, "competency_validity")

# trade-off front (drawn after the decision form, so a live edit appears on it)
front = queries.optional(lambda: queries.tradeoff_front(rec.recommendation_id)) if rec.fitted else None
front_slot = None
if front is not None and len(front):
    st.subheader(t("desk.section.front"))
    st.caption(t("desk.front.caption"))
    front_slot = st.container()

# fairness
st.subheader(t("label.fairness_gate"))
published = review.published_gate(rec, t)
if published.existing_impact:
    st.warning(t("desk.fairness.existing") + "\n\n" + bullets(published.existing))
if rec.flagged:
    st.error(t("label.fairness_flag_notice") + "\n\n" + bullets(published.lowered))
if published.proposed:
    st.warning(t("desk.fairness.proposed") + "\n\n" + bullets(published.proposed))
if published.clear:
    st.success(t("label.fairness_gate_passed") if rec.fitted else t("desk.fairness.baseline_clear"))
gate = ui.load(ctx, lambda: queries.gate_rows(rec.recommendation_id))
if gate is not None and len(gate):
    proposal = "recommended" if rec.fitted else None
    ui.table(
        review.gate_table(gate, "selection", t, proposal, NAMES.get(proposal or "", "")),
        ctx,
        "fairness_gate",
        height=360,
    )
    st.caption(t("desk.fairness.caption"))
    scoring = review.gate_table(gate, "scoring", t, proposal, NAMES.get(proposal or "", ""))
    if len(scoring):
        with st.expander(t("desk.fairness.scoring")):
            ui.table(scoring, ctx, "fairness_gate_scoring", height=320)

# the decision
st.subheader(t("label.decision"))
decision = st.radio(
    t("label.decision"),
    rec.decisions(),
    horizontal=True,
    format_func=lambda d: t(f"action.{d}"),
    key=f"review_decision_{family}",
    label_visibility="collapsed",
)
if not rec.recommended:
    st.caption(t("desk.decision.no_approve"))
weights = None
edit = None
if decision == "edited":
    defaults = review.edit_defaults(rec.baseline_weights())
    cols = st.columns(min(len(defaults), 6) or 1)
    weights = {
        code: cols[i % len(cols)].number_input(
            ctx.competency(code), 0.0, 1.0, value, 0.01, format="%.3f", key=f"w_{family}_{code}"
        )
        for i, (code, value) in enumerate(defaults.items())
    }
    st.caption(t("label.weights_total", total=f"{sum(weights.values()):.3f}"))
    st.markdown(f"**{t('desk.whatif.title')}**")
    try:
        with st.spinner(t("desk.whatif.running")):
            edit = review.evaluate_edit(rec, weights, ctx.scope, t, ctx.lang)
    except LocalizedError as err:
        st.error(t("desk.whatif.not_run") + " " + err.message(ctx.lang))
    if edit is not None:
        st.markdown(bullets([*review.edit_validity_lines(edit, t), review.front_sentence(edit, t)]))
        if edit.gate.existing_impact:
            st.warning(t("desk.fairness.existing") + "\n\n" + bullets(edit.gate.existing))
        if edit.flagged:
            st.error(t("desk.whatif.flagged") + "\n\n" + bullets(edit.gate.lowered))
        if edit.gate.proposed:
            st.warning(t("desk.whatif.proposed") + "\n\n" + bullets(edit.gate.proposed))
        if edit.gate.clear:
            st.success(t("desk.whatif.clear"))
        with st.expander(t("desk.whatif.gate_table"), expanded=edit.flagged):
            ui.table(
                review.gate_table(review.edit_gate_rows(edit), "selection", t, "edit", NAMES["edit"]),
                ctx,
                "edit_gate",
                height=320,
            )

if front_slot is not None:
    mine = None
    if edit is not None:
        point = (edit.result.front.get("min_impact_ratio"), edit.result.validity.get("applicant_validity"))
        mine = point if all(review.number_or_none(v) is not None for v in point) else None
    with front_slot:
        ui.chart(charts.tradeoff_front(front, ctx, NAMES, mine))

effective = None
if decision != "rejected":
    effective = st.date_input(
        t("label.effective_from"), review.default_effective_from(rec), min_value=dt.datetime.now(dt.UTC).date()
    )
acknowledged = False
needs_ack = (decision == "approved" and rec.flagged) or (decision == "edited" and edit is not None and edit.flagged)
if needs_ack:
    acknowledged = st.checkbox(t("label.flag_acknowledged"), key=f"ack_{family}_{decision}")
if decision == "rejected":
    st.caption(t("desk.decision.reject_records_gate"))
reason = st.text_area(t("label.reason"), placeholder=t("label.reason_placeholder"), key="review_reason")
if st.button(t("label.submit"), type="primary"):
    try:
        recorded = review.decide(
            state,
            rec,
            decision,
            reason=reason,
            decided_by=ctx.user.username,
            t=t,
            lang=ctx.lang,
            weights=weights,
            effective_from=effective,
            flag_acknowledged=acknowledged,
            edit=edit,
        )
    except LocalizedError as err:
        st.error(err.message(ctx.lang))
    else:
        st.success(t("label.decision_recorded_id", id=recorded.decision_id))

st.subheader(t("label.decision_log"))
log = review.decision_log(state)
if log.empty:
    st.caption(t("label.no_decisions"))
else:
    log = log.assign(
        decision=log["decision"].map(lambda d: t(f"decision.{d}")),
        effective_from=log["effective_from"].map(lambda v: v if v else review.DASH),
    )
    ui.table(pd.DataFrame(log), ctx, "decision_log")
