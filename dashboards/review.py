"""The weight review desk's logic: a job family's recommendation with its evidence, recording a decision through
the app store (which enforces every rule, the fairness-flag rule included), and the decision log."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from dashboards import queries
from dashboards.app_state import AppState, Decision

# A recommendation's weights are stored rounded; within this distance of 1 they are rescaled to sum to exactly 1, so
# that approving them passes the store's ±1e-6 check. Anything further off is shown as it is and refused there.
RESCALE_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Recommendation:
    """One job family's recommendation as the desk shows it."""

    recommendation_id: str
    job_family: str
    status: str
    flagged: bool
    flags: tuple[str, ...]
    flagged_groups: tuple[str, ...]
    n_hires_with_outcomes: int | None
    n_needed: int | None
    outcome_mix: dict
    effective_from_suggested: dt.date | None
    model_version: str | None
    fitted_at: object
    weights: pd.DataFrame = field(repr=False)

    @property
    def recommended(self) -> bool:
        return self.status == "recommended"

    def current_weights(self) -> dict[str, float]:
        return _weights(self.weights, "current_weight")

    def recommended_weights(self) -> dict[str, float]:
        return _weights(self.weights, "recommended_weight")


def _weights(frame: pd.DataFrame, column: str) -> dict[str, float]:
    values = {
        str(r.competency_code): float(getattr(r, column)) for r in frame.itertuples() if pd.notna(getattr(r, column))
    }
    total = math.fsum(values.values())
    if values and abs(total - 1) <= RESCALE_TOLERANCE and total > 0:
        values = {k: v / total for k, v in values.items()}
    return values


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _date(value) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


def load_all() -> pd.DataFrame:
    """Every job family's recommendation row (raises queries.NotAvailable before the models are published)."""
    return queries.recommendations()


def load(job_family: str) -> Recommendation | None:
    """The recommendation of `job_family`, with its weights; None if the model made none for it."""
    rows = queries.recommendations()
    rows = rows[rows["job_family"] == job_family]
    if rows.empty:
        return None
    row = rows.iloc[-1]
    rec_id = str(row["recommendation_id"])
    weights = queries.recommendation_weights(rec_id)
    return Recommendation(
        recommendation_id=rec_id,
        job_family=job_family,
        status=str(row["status"]),
        flagged=bool(row["flagged"]) if pd.notna(row["flagged"]) else False,
        flags=tuple(queries.parse_json_list(row.get("flags"))),
        flagged_groups=tuple(queries.parse_json_list(row.get("flagged_groups"))),
        n_hires_with_outcomes=_int(row.get("n_hires_with_outcomes")),
        n_needed=_int(row.get("n_needed")),
        outcome_mix=queries.parse_json_object(row.get("outcome_mix")),
        effective_from_suggested=_date(row.get("effective_from_suggested")),
        model_version=row.get("model_version"),
        fitted_at=row.get("fitted_at"),
        weights=weights,
    )


def default_effective_from(rec: Recommendation, today: dt.date | None = None) -> dt.date:
    """The model's suggested start date, or today if that has passed (the store refuses a date in the past)."""
    today = today or dt.datetime.now(dt.UTC).date()
    suggested = rec.effective_from_suggested
    return suggested if suggested is not None and suggested >= today else today


def decide(
    state: AppState,
    rec: Recommendation,
    decision: str,
    *,
    reason: str,
    decided_by: str,
    weights: Mapping[str, float] | None = None,
    effective_from: dt.date | None = None,
    flag_acknowledged: bool = False,
) -> Decision:
    """Record an approve / edit / reject decision; the store's LocalizedError explains any refusal."""
    if decision == "approved":
        weights = rec.recommended_weights()
    elif decision == "rejected":
        weights, effective_from = None, None
    return state.record_decision(
        rec.recommendation_id,
        rec.job_family,
        decision,
        reason=reason,
        decided_by=decided_by,
        weights=weights,
        effective_from=effective_from,
        flagged=rec.flagged,
        flags=rec.flags,
        flagged_groups=rec.flagged_groups,
        flag_acknowledged=flag_acknowledged,
        recommended_weights=rec.recommended_weights() if decision != "rejected" else None,
    )


def pending_reviews(state: AppState) -> pd.DataFrame:
    """Recommendations the model made that nobody has decided on yet."""
    recs = queries.open_recommendations()
    decided = set(state.latest_decision_per_recommendation()["recommendation_id"])
    return recs[~recs["recommendation_id"].isin(decided)]


def latest_decision(state: AppState, recommendation_id: str) -> pd.Series | None:
    latest = state.latest_decision_per_recommendation()
    latest = latest[latest["recommendation_id"] == recommendation_id]
    return None if latest.empty else latest.iloc[-1]


def decision_log(state: AppState, job_family: str | None = None) -> pd.DataFrame:
    """The append-only decision log, newest first, with the weights as readable text."""
    log = state.decisions(job_family)
    log["weights"] = log["weights_json"].map(_weights_text)
    cols = [
        "decision_id",
        "job_family",
        "decision",
        "weights",
        "effective_from",
        "reason",
        "flagged",
        "flag_acknowledged",
        "decided_by",
        "decided_at",
        "recommendation_id",
    ]
    return log[cols].sort_values("decision_id", ascending=False)


def _weights_text(value) -> str:
    parsed = queries.parse_json_object(value) if value else {}
    return ", ".join(f"{k} {float(v):.3f}" for k, v in parsed.items())


def weights_table(rec: Recommendation) -> pd.DataFrame:
    cols = ["competency_code", "current_weight", "recommended_weight", "ci_low", "ci_high", "change", "at_cap"]
    return rec.weights[[c for c in cols if c in rec.weights.columns]]


def fairness_table(gate: pd.DataFrame) -> pd.DataFrame:
    """The gate side by side: each group's rate and impact ratio under the current and the recommended weights."""
    if gate.empty:
        return gate
    keys = ["metric", "dimension", "group_label"]
    values = [
        c
        for c in (
            "n",
            "rate",
            "impact_ratio",
            "below_four_fifths",
            "p_value",
            "significant",
            "small_group",
            "baseline_impact_ratio",
            "lowered_below_baseline",
        )
        if c in gate.columns
    ]
    current = gate[gate["weighting"] == "current"][keys + values].add_suffix("_current")
    recommended = gate[gate["weighting"] == "recommended"][keys + values].add_suffix("_recommended")
    joined = current.merge(
        recommended,
        left_on=[k + "_current" for k in keys],
        right_on=[k + "_recommended" for k in keys],
        how="outer",
    )
    for k in keys:
        joined[k] = joined[k + "_current"].fillna(joined[k + "_recommended"])
    out = joined[
        keys
        + [
            c
            for c in (
                "n_current",
                "rate_current",
                "impact_ratio_current",
                "rate_recommended",
                "impact_ratio_recommended",
                "below_four_fifths_recommended",
                "lowered_below_baseline_recommended",
                "significant_recommended",
                "p_value_recommended",
            )
            if c in joined.columns
        ]
    ]
    return out.sort_values(keys).reset_index(drop=True)
