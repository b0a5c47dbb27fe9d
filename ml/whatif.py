"""What-if for any weighting on the review desk: its validity, its adverse impact and its place on the front.

The desk calls this before an edit is recorded, with tables the pipeline published (ml.recommendation_moments,
ml.tradeoff_front, the recommendation's current weights) and the family's applicant pool (marts.applicant_pool),
so an edit is judged by exactly the functions that judged the recommendation: ml.fairness.gate_change for the
change in impact, ml.validity.compare_dependent_correlations for the gain. Pure functions over frames: no
warehouse connection, no pipeline state; the dashboards may import this module and nothing else of ml.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.fairness import DEFAULT_GATE_BOOT, GateChange, gate_change
from ml.fairness import format_flag as format_flag  # re-exported: the desk renders an edit's flags with it
from ml.tradeoff import composite_validity
from ml.validity import compare_dependent_correlations, fisher_ci

CRITERION = "criterion"


@dataclass
class WhatIf:
    """A weighting's evidence: validity on held-out hires and in the applicant pool, gains, impact, front."""

    weights: dict[str, float]
    validity: dict
    gains: dict[str, dict]
    gate: GateChange | None
    front: dict

    @property
    def flagged(self) -> bool:
        """True when the weighting lowers a group's impact ratio with evidence (it needs an addressing reason)."""
        return bool(self.gate is not None and self.gate.flagged)


def moments_from_rows(rows: pd.DataFrame, competencies: Sequence[str]) -> dict[str, dict]:
    """ml.recommendation_moments rows (kind, row_code, col_code, value, n) back to {kind: {S, c, var_y, n}}."""
    names = [*competencies, CRITERION]
    out = {}
    for kind, g in rows.groupby("kind"):
        C = g.pivot(index="row_code", columns="col_code", values="value").reindex(index=names, columns=names)
        if C.isna().to_numpy().any():
            continue
        M = C.to_numpy(dtype=float)
        k = len(competencies)
        out[str(kind)] = {"S": M[:k, :k], "c": M[:k, k], "var_y": float(M[k, k]), "n": int(g["n"].iloc[0])}
    return out


def _vector(weights: Mapping[str, float], competencies: Sequence[str]) -> np.ndarray:
    w = np.array([float(weights.get(c, 0.0)) for c in competencies])
    if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return w / w.sum()


def _composite_corr(S: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    den = np.sqrt((a @ S @ a) * (b @ S @ b))
    return float(a @ S @ b / den) if den > 0 else float("nan")


def validity_of(weights: np.ndarray, current: np.ndarray, unit: np.ndarray, moments: Mapping[str, dict]) -> tuple:
    """(validity, gains) of a fixed weighting from the published moments (no refit, so no optimism)."""
    validity, gains = {}, {}
    held = moments.get("holdout")
    if held:
        W = np.vstack([weights, current, unit])
        r = composite_validity(W, held["S"], held["c"], held["var_y"])
        lo, hi = fisher_ci(r[0], held["n"])
        validity.update(holdout_r=float(r[0]), holdout_ci_low=float(lo), holdout_ci_high=float(hi), holdout_n=held["n"])
        for name, base, rb in (("current", current, r[1]), ("unit", unit, r[2])):
            r12 = _composite_corr(held["S"], weights, base)
            gains[name] = compare_dependent_correlations(float(r[0]), float(rb), r12, held["n"])
    pool = moments.get("applicants")
    if pool:
        validity["applicant_validity"] = float(
            composite_validity(weights[None], pool["S"], pool["c"], pool["var_y"])[0]
        )
    return validity, gains


def place_on_front(validity: float, min_impact: float, front: pd.DataFrame) -> dict:
    """Where a point sits against the published front: dominated or not, and the front's best impact at its
    validity (what the Uniform Guidelines' search for a less adverse alternative would offer)."""
    pts = front[front["on_front"].astype(bool)] if "on_front" in front.columns else front
    if not len(pts) or not np.isfinite(validity) or not np.isfinite(min_impact):
        return {"dominated": None, "best_impact_at_validity": None, "best_validity_at_impact": None}
    v = pts["validity_applicants"].to_numpy(dtype=float)
    a = pts["min_impact_ratio"].to_numpy(dtype=float)
    dominated = bool(((v >= validity) & (a >= min_impact) & ((v > validity) | (a > min_impact))).any())
    at_validity = a[v >= validity - 1e-12]
    at_impact = v[a >= min_impact - 1e-12]
    return {
        "dominated": dominated,
        "best_impact_at_validity": float(at_validity.max()) if len(at_validity) else None,
        "best_validity_at_impact": float(at_impact.max()) if len(at_impact) else None,
    }


def evaluate(
    weights: Mapping[str, float],
    current: Mapping[str, float],
    competencies: Sequence[str],
    moments: Mapping[str, dict],
    pool: pd.DataFrame | None = None,
    selection_rate: float | None = None,
    front: pd.DataFrame | None = None,
    strata_col: str | None = "requisition_id",
    n_boot: int = DEFAULT_GATE_BOOT,
    seed: int = 0,
) -> WhatIf:
    """The desk's what-if for one weighting against the current weights of the family.

    pool: the family's applicants (bare competency columns, sex, ethnicity, optionally strata_col); without it
    there is no gate. The impact on the front uses the gate's proposed-weights selection.
    """
    competencies = list(competencies)
    w = _vector(weights, competencies)
    w_cur = _vector(current, competencies)
    unit = np.full(len(competencies), 1.0 / len(competencies))
    validity, gains = validity_of(w, w_cur, unit, moments)
    gate = None
    min_impact = float("nan")
    if pool is not None and len(pool) and selection_rate is not None and np.isfinite(selection_rate):
        strata = strata_col if strata_col and strata_col in pool.columns else None
        gate = gate_change(
            pool,
            dict(zip(competencies, w_cur, strict=True)),
            dict(zip(competencies, w, strict=True)),
            competencies,
            float(selection_rate),
            strata,
            n_boot,
            seed,
        )
        ch = gate.changes
        eligible = ch[ch["eligible"].astype(bool)]["proposed_impact_ratio"].dropna()
        min_impact = float(eligible.min()) if len(eligible) else float("nan")
    placed = (
        place_on_front(validity.get("applicant_validity", np.nan), min_impact, front)
        if front is not None
        else {"dominated": None, "best_impact_at_validity": None, "best_validity_at_impact": None}
    )
    placed["min_impact_ratio"] = min_impact
    return WhatIf(dict(zip(competencies, w.tolist(), strict=True)), validity, gains, gate, placed)
