"""Adverse-impact statistics: selection and scoring rates by group, impact ratios, tests, and what-if selection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from ml.text_features import assert_no_prohibited_features

UNKNOWN = "unknown"
FOUR_FIFTHS = 0.8
# Below 5 expected in any cell the normal approximation behind the z test is poor (Cochran's rule).
MIN_EXPECTED_FOR_Z = 5
# A group smaller than this cannot be the reference: one hire out of one would make every other group "adverse".
MIN_REFERENCE_N = 5
INTERSECTION_SEP = " × "


def fill_unknown(values: pd.Series) -> pd.Series:
    """Strings with missing or blank values replaced by 'unknown'."""
    s = values.astype("string").str.strip()
    return s.mask(s.isna() | (s == ""), UNKNOWN).astype(str)


def two_proportion_test(x1: int, n1: int, x2: int, n2: int, min_expected: float = MIN_EXPECTED_FOR_Z):
    """Compare two proportions: Fisher's exact test if any expected 2x2 cell < min_expected, else pooled z test.

    Returns (test_name, p_value); test_name is 'fisher_exact' or 'two_proportion_z'.
    """
    if n1 == 0 or n2 == 0:
        return None, np.nan
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]], dtype=float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if (expected < min_expected).any():
        return "fisher_exact", float(stats.fisher_exact(table.astype(int)).pvalue)
    _, p = proportions_ztest(np.array([x1, x2]), np.array([n1, n2]))
    return "two_proportion_z", float(p)


def _group_dimensions(df: pd.DataFrame, group_cols: Sequence[str], intersection: bool) -> dict[str, pd.Series]:
    dims = {col: fill_unknown(df[col]) for col in group_cols}
    if intersection and len(group_cols) > 1:
        labels = dims[group_cols[0]]
        for col in group_cols[1:]:
            labels = labels + INTERSECTION_SEP + dims[col]
        dims[INTERSECTION_SEP.join(group_cols)] = labels
    return dims


def _is_unknown(label: str) -> bool:
    return UNKNOWN in label.split(INTERSECTION_SEP)


def rate_table(
    df: pd.DataFrame,
    outcome_col: str,
    group_cols: Sequence[str] = ("sex", "ethnicity"),
    intersection: bool = True,
    min_reference_n: int = MIN_REFERENCE_N,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rate of a 0/1 outcome per group, impact ratio against the highest-rate group, four-fifths flag and test.

    Input: one row per candidate with group_cols and outcome_col (0/1 or bool; missing rows are left out).
    Groups are each column alone and, if intersection, their combination; missing labels become 'unknown'.
    The reference is the highest-rate group with n >= min_reference_n that is not 'unknown' (falling back to
    the highest-rate group if none qualifies). Output columns: dimension, group, n, n_positive, rate,
    reference_group, reference_rate, impact_ratio, below_four_fifths, test, p_value, significant, small_group,
    reason. small_group marks n < 5, which dashboards must suppress.
    """
    cols = [
        "dimension",
        "group",
        "n",
        "n_positive",
        "rate",
        "reference_group",
        "reference_rate",
        "impact_ratio",
        "below_four_fifths",
        "test",
        "p_value",
        "significant",
        "small_group",
        "reason",
    ]
    y = pd.to_numeric(df[outcome_col], errors="coerce").astype(float)
    keep = y.notna()
    rows = []
    for dim, labels in _group_dimensions(df, list(group_cols), intersection).items():
        counts = pd.DataFrame({"group": labels[keep], "y": y[keep]}).groupby("group")["y"].agg(["size", "sum"])
        if counts.empty:
            continue
        counts["rate"] = counts["sum"] / counts["size"]
        eligible = counts[(counts["size"] >= min_reference_n) & ~counts.index.map(_is_unknown)]
        pool = eligible if len(eligible) else counts
        # Highest rate wins; among equal rates the larger group is the steadier reference.
        ref = pool.sort_values(["rate", "size"], ascending=False, kind="stable").index[0]
        ref_n, ref_x, ref_rate = int(counts.at[ref, "size"]), int(counts.at[ref, "sum"]), counts.at[ref, "rate"]
        for group, row in counts.iterrows():
            n, x, rate = int(row["size"]), int(row["sum"]), float(row["rate"])
            reason = None
            if ref_rate > 0:
                ratio = rate / ref_rate
            else:
                ratio, reason = np.nan, "reference group rate is 0"
            if group == ref:
                test, p = None, np.nan
            else:
                test, p = two_proportion_test(x, n, ref_x, ref_n)
            rows.append(
                {
                    "dimension": dim,
                    "group": group,
                    "n": n,
                    "n_positive": x,
                    "rate": rate,
                    "reference_group": ref,
                    "reference_rate": float(ref_rate),
                    "impact_ratio": ratio,
                    "below_four_fifths": bool(ratio < FOUR_FIFTHS) if np.isfinite(ratio) else False,
                    "test": test,
                    "p_value": p,
                    "significant": bool(p < alpha) if np.isfinite(p) else False,
                    "small_group": n < 5,
                    "reason": reason,
                }
            )
    return pd.DataFrame(rows, columns=cols)


def scoring_indicator(scores: pd.Series) -> pd.Series:
    """1.0 where the score is strictly above the median of all non-missing scores, 0.0 otherwise, NaN if missing."""
    s = pd.to_numeric(scores, errors="coerce")
    return (s > s.median()).astype(float).where(s.notna())


def adverse_impact_table(
    df: pd.DataFrame,
    selected_col: str = "hired",
    score_col: str = "composite",
    group_cols: Sequence[str] = ("sex", "ethnicity"),
    intersection: bool = True,
    min_reference_n: int = MIN_REFERENCE_N,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Selection rate (selected_col) and scoring rate (share above the median score_col) per group, stacked.

    Input: one row per candidate of one job family with group_cols, selected_col and score_col.
    Output: rate_table columns with a leading 'metric' column ('selection' or 'scoring').
    """
    frames = []
    if selected_col is not None:
        frames.append(
            rate_table(df, selected_col, group_cols, intersection, min_reference_n, alpha).assign(metric="selection")
        )
    if score_col is not None:
        scored = df.assign(_scoring=scoring_indicator(df[score_col]))
        frames.append(
            rate_table(scored, "_scoring", group_cols, intersection, min_reference_n, alpha).assign(metric="scoring")
        )
    out = pd.concat(frames, ignore_index=True)
    return out[["metric", *[c for c in out.columns if c != "metric"]]]


def composite_scores(candidates: pd.DataFrame, weights: Mapping[str, float], competencies: Sequence[str]):
    """Weighted sum of competency scores (weights missing from the mapping count as 0)."""
    assert_no_prohibited_features(competencies)
    w = np.array([float(weights.get(c, 0.0)) for c in competencies])
    return candidates[list(competencies)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float) @ w


def simulate_selection(composite, selection_rate: float) -> np.ndarray:
    """Select the top round(rate * n) by composite; ties and missing composites resolved by row order, last."""
    comp = np.asarray(composite, dtype=float)
    k = int(round(selection_rate * len(comp)))
    # -inf puts missing composites last; a stable sort keeps equal scores in row order so reruns agree.
    order = np.argsort(-np.where(np.isnan(comp), -np.inf, comp), kind="stable")
    selected = np.zeros(len(comp), dtype=bool)
    selected[order[:k]] = True
    return selected


def compare_impact(
    candidates: pd.DataFrame,
    current_weights: Mapping[str, float],
    recommended_weights: Mapping[str, float],
    competencies: Sequence[str],
    selection_rate: float | None = None,
    selected_col: str = "hired",
    group_cols: Sequence[str] = ("sex", "ethnicity"),
    intersection: bool = True,
    min_reference_n: int = MIN_REFERENCE_N,
) -> pd.DataFrame:
    """Impact ratios under simulated top-k selection with current vs recommended weights.

    Input: the job family's scored applicants with the competency columns, group_cols and (when selection_rate
    is None) selected_col, whose mean gives the historical selection rate.
    Output: dimension, group, n, current_rate, current_impact_ratio, recommended_rate,
    recommended_impact_ratio, impact_ratio_change, below_baseline, flag (recommended ratio below both its
    current-weights baseline and four-fifths: such a recommendation must not be approved silently),
    selection_rate.
    """
    if selection_rate is None:
        selection_rate = float(pd.to_numeric(candidates[selected_col], errors="coerce").mean())
    tables = {}
    for name, weights in (("current", current_weights), ("recommended", recommended_weights)):
        sel = simulate_selection(composite_scores(candidates, weights, competencies), selection_rate)
        tables[name] = rate_table(
            candidates.assign(_sel=sel.astype(float)), "_sel", group_cols, intersection, min_reference_n
        )
    key = ["dimension", "group"]
    cur = tables["current"][[*key, "n", "rate", "impact_ratio"]].rename(
        columns={"rate": "current_rate", "impact_ratio": "current_impact_ratio"}
    )
    rec = tables["recommended"][[*key, "rate", "impact_ratio"]].rename(
        columns={"rate": "recommended_rate", "impact_ratio": "recommended_impact_ratio"}
    )
    out = cur.merge(rec, on=key, how="outer")
    out["impact_ratio_change"] = out["recommended_impact_ratio"] - out["current_impact_ratio"]
    out["below_baseline"] = out["recommended_impact_ratio"] < out["current_impact_ratio"] - 1e-12
    out["flag"] = out["below_baseline"] & (out["recommended_impact_ratio"] < FOUR_FIFTHS)
    out["selection_rate"] = selection_rate
    return out


def candidate_weightings(
    current: Mapping[str, float],
    recommended: Mapping[str, float],
    validity_max: Mapping[str, float],
    competencies: Sequence[str],
    blend_shares: Sequence[float] = (0.5,),
) -> dict[str, dict[str, float]]:
    """Weightings for the trade-off table: current, recommended, unit, validity_max and validity_max/unit blends."""
    # Blending toward unit weights is the usual way to buy back adverse impact at a known cost in validity
    # (De Corte, Lievens & Sackett 2007 trace the full Pareto front; a few blends show its shape).
    k = len(competencies)
    out = {
        "current": {c: float(current.get(c, 0.0)) for c in competencies},
        "recommended": {c: float(recommended.get(c, 0.0)) for c in competencies},
        "unit": {c: 1.0 / k for c in competencies},
        "validity_max": {c: float(validity_max.get(c, 0.0)) for c in competencies},
    }
    for share in blend_shares:
        out[f"blend_{round(share * 100)}_validity_max"] = {
            c: share * float(validity_max.get(c, 0.0)) + (1 - share) / k for c in competencies
        }
    return out


def tradeoff_table(
    candidates: pd.DataFrame,
    holdout: pd.DataFrame,
    weightings: Mapping[str, Mapping[str, float]],
    competencies: Sequence[str],
    criterion_col: str,
    selection_rate: float,
    group_cols: Sequence[str] = ("sex", "ethnicity"),
    intersection: bool = True,
    min_group_n: int = MIN_REFERENCE_N,
) -> pd.DataFrame:
    """Validity vs adverse impact for each weighting.

    candidates: scored applicants (competencies, group_cols) on which top-k selection is simulated.
    holdout: held-out (newest) hires with the competencies and criterion_col, for out-of-sample validity.
    Output: weighting, holdout_r, holdout_n, min_impact_ratio, min_impact_ratio_group, n_groups_below_four_fifths;
    groups smaller than min_group_n and 'unknown' groups are left out of the minimum, whose noise would
    otherwise decide it.
    """
    rows = []
    crit = pd.to_numeric(holdout[criterion_col], errors="coerce").to_numpy(dtype=float)
    for name, weights in weightings.items():
        comp_h = composite_scores(holdout, weights, competencies)
        ok = ~np.isnan(comp_h) & ~np.isnan(crit)
        r = (
            float(np.corrcoef(comp_h[ok], crit[ok])[0, 1])
            if ok.sum() >= 3 and np.std(comp_h[ok]) > 0 and np.std(crit[ok]) > 0
            else np.nan
        )
        sel = simulate_selection(composite_scores(candidates, weights, competencies), selection_rate)
        table = rate_table(candidates.assign(_sel=sel.astype(float)), "_sel", group_cols, intersection)
        table = table[(table["n"] >= min_group_n) & ~table["group"].map(_is_unknown)].dropna(subset=["impact_ratio"])
        worst = table.loc[table["impact_ratio"].idxmin()] if len(table) else None
        rows.append(
            {
                "weighting": name,
                "holdout_r": r,
                "holdout_n": int(ok.sum()),
                "min_impact_ratio": float(worst["impact_ratio"]) if worst is not None else np.nan,
                "min_impact_ratio_group": f"{worst['dimension']}={worst['group']}" if worst is not None else None,
                "n_groups_below_four_fifths": int((table["impact_ratio"] < FOUR_FIFTHS).sum()),
            }
        )
    return pd.DataFrame(rows)
