"""The validity / adverse-impact trade-off front over feasible scorecard weightings (De Corte, Lievens & Sackett 2007).

Every weighting on a lattice of the simplex (steps of 0.1 over six competencies: 3,003 weightings) plus the named
ones (current, recommended, target, unit, an edit) is scored on two axes:
- validity: the weighting's correlation with the criterion in the applicant pool, from the hires' covariances
  carried to the pool by the multivariate range-restriction correction (ml.validity.lawley_correction), and on
  the out-of-sample hires as observed;
- adverse impact: the lowest selection impact ratio over sex, ethnicity and their intersection when the pool is
  selected top-k at the historical rate under that weighting, with the fairness audit's reference rule (the
  highest-rate known group of at least the reference floor; smaller and unknown groups are neither reference
  nor counted in the minimum, so a 5-person cell cannot set the front).
A weighting is on the front when no other is at least as good on both axes and better on one.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ml.fairness import FOUR_FIFTHS, INTERSECTION_SEP, UNKNOWN, fill_unknown, reference_floor

LATTICE_STEP = 0.1
GROUP_COLS = ("sex", "ethnicity")
# Columns of composites ranked at once: 500 weightings x 20,000 applicants is 80 MB of float64.
CHUNK = 500


def simplex_lattice(k: int, step: float = LATTICE_STEP) -> np.ndarray:
    """Every weighting with weights in multiples of step summing to 1; shape (C(m + k - 1, k - 1), k)."""
    m = int(round(1 / step))
    rows = []
    for bars in itertools.combinations(range(m + k - 1), k - 1):
        edges = (-1, *bars, m + k - 1)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(k)])
    return np.asarray(rows, dtype=float) / m


def group_indicators(pool: pd.DataFrame, group_cols: Sequence[str] = GROUP_COLS) -> tuple[np.ndarray, list[str]]:
    """One 0/1 column per group of each dimension and of the intersection; labels 'dimension=group'."""
    dims = {col: fill_unknown(pool[col]) for col in group_cols}
    if len(group_cols) > 1:
        labels = dims[group_cols[0]]
        for col in group_cols[1:]:
            labels = labels + INTERSECTION_SEP + dims[col]
        dims[INTERSECTION_SEP.join(group_cols)] = labels
    cols, names = [], []
    for dim, values in dims.items():
        for group in sorted(values.unique()):
            cols.append((values == group).to_numpy())
            names.append(f"{dim}={group}")
    return np.column_stack(cols).astype(float), names


def min_impact_ratios(
    scores: np.ndarray,
    weightings: np.ndarray,
    indicators: np.ndarray,
    names: Sequence[str],
    selection_rate: float,
    floor_n: int | None = None,
) -> pd.DataFrame:
    """For each weighting (rows of `weightings`): lowest selection impact ratio, its group, groups below 4/5.

    scores: (n, k) applicant competency scores; selection is the top round(rate * n) by composite (stable ties,
    as ml.fairness.simulate_selection). Per dimension the reference is the highest-rate known group of at least
    floor_n (default: the audit's reference_floor of the pool); only such groups enter the minimum.
    """
    n = len(scores)
    floor_n = reference_floor(n) if floor_n is None else floor_n
    k_sel = int(round(selection_rate * n))
    sizes = indicators.sum(axis=0)
    dims = np.array([name.split("=", 1)[0] for name in names])
    known = np.array([UNKNOWN not in name.split("=", 1)[1].split(INTERSECTION_SEP) for name in names])
    eligible = known & (sizes >= floor_n)
    out_ratio, out_group, out_below = [], [], []
    for start in range(0, len(weightings), CHUNK):
        W = weightings[start : start + CHUNK]
        comp = scores @ W.T  # (n, g)
        order = np.argsort(-comp, axis=0, kind="stable")
        selected = np.zeros_like(comp, dtype=bool)
        np.put_along_axis(selected, order[:k_sel], True, axis=0)
        rates = (indicators.T @ selected) / np.maximum(sizes, 1)[:, None]  # (groups, g)
        ratio = np.full(rates.shape, np.nan)
        for dim in np.unique(dims):
            rows = np.flatnonzero((dims == dim) & eligible)
            if len(rows) < 2:
                continue
            ref = rates[rows].max(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio[rows] = np.where(ref > 0, rates[rows] / ref, np.nan)
        masked = np.where(np.isnan(ratio), np.inf, ratio)
        worst = masked.argmin(axis=0)
        value = masked[worst, np.arange(masked.shape[1])]
        out_ratio.extend(np.where(np.isfinite(value), value, np.nan))
        out_group.extend([names[i] if np.isfinite(v) else None for i, v in zip(worst, value, strict=True)])
        out_below.extend((ratio < FOUR_FIFTHS).sum(axis=0))
    return pd.DataFrame({"min_impact_ratio": out_ratio, "min_impact_group": out_group, "n_below": out_below})


def composite_validity(weightings: np.ndarray, S: np.ndarray, c: np.ndarray, var_y: float) -> np.ndarray:
    """corr(X w, y) for each weighting from the covariance of X (S), of X with y (c) and the variance of y."""
    num = weightings @ c
    den = np.sqrt(np.einsum("gi,ij,gj->g", weightings, S, weightings) * var_y)
    return np.divide(num, den, out=np.full(len(weightings), np.nan), where=den > 0)


def pareto_front(validity: np.ndarray, impact: np.ndarray) -> np.ndarray:
    """True where no other point is at least as high on both axes and higher on one (NaN points never are)."""
    v = np.where(np.isfinite(validity), validity, -np.inf)
    a = np.where(np.isfinite(impact), impact, -np.inf)
    order = np.lexsort((-a, -v))  # by validity descending, then impact descending
    front = np.zeros(len(v), dtype=bool)
    best_impact = -np.inf
    for i in order:
        if not np.isfinite(v[i]) or not np.isfinite(a[i]):
            continue
        if a[i] > best_impact:
            front[i] = True
            best_impact = a[i]
    return front


def tradeoff_front(
    pool: pd.DataFrame,
    competencies: Sequence[str],
    moments: Mapping[str, Mapping[str, np.ndarray]],
    selection_rate: float,
    named: Mapping[str, Mapping[str, float]] | None = None,
    step: float = LATTICE_STEP,
) -> pd.DataFrame:
    """The lattice and the named weightings with validity (applicant pool, holdout) and lowest impact ratio.

    pool: the family's applicants with bare competency columns, sex and ethnicity. moments: {"applicants": {S, c,
    var_y}, "holdout": {S, c, var_y, n}} as WeightRecommendation.moments gives them. Output: weighting (a name or
    'lattice'), weights (one column per competency, w_<code>), validity_applicants, validity_holdout,
    min_impact_ratio, min_impact_group, n_groups_below_four_fifths, on_front.
    """
    competencies = list(competencies)
    lattice = simplex_lattice(len(competencies), step)
    names = ["lattice"] * len(lattice)
    rows = [lattice]
    for name, weights in (named or {}).items():
        rows.append(np.array([[float(weights.get(c, 0.0)) for c in competencies]]))
        names.append(name)
    W = np.vstack(rows)
    scores = pool[competencies].to_numpy(dtype=float)
    indicators, labels = group_indicators(pool)
    impact = min_impact_ratios(scores, W, indicators, labels, selection_rate)
    out = pd.DataFrame(W, columns=[f"w_{c}" for c in competencies])
    out.insert(0, "weighting", names)
    for kind in ("applicants", "holdout"):
        m = moments.get(kind)
        out[f"validity_{kind}"] = (
            composite_validity(W, np.asarray(m["S"]), np.asarray(m["c"]), float(m["var_y"])) if m else np.nan
        )
    out["min_impact_ratio"] = impact["min_impact_ratio"].to_numpy()
    out["min_impact_group"] = impact["min_impact_group"].to_numpy()
    out["n_groups_below_four_fifths"] = impact["n_below"].to_numpy()
    out["on_front"] = pareto_front(out["validity_applicants"].to_numpy(), out["min_impact_ratio"].to_numpy())
    return out
