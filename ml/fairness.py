"""Adverse-impact statistics: selection and scoring rates by group, impact ratios with intervals, multiplicity-
controlled tests, stratified (Cochran-Mantel-Haenszel) tests, a paired test of a change of weights, and a
score-threshold view.

Decision rules, measured by tests/benchmarks/stats/fairness_sim.py (figures: tests/benchmarks/results/
fairness_sim.json; pools of 1,200 applicants with the sample generator's group shares, 300 seeds per scenario):

* Reference group: the highest-rate known group with n >= max(REFERENCE_FLOOR_N, REFERENCE_FLOOR_SHARE x pool).
  Groups under that floor and 'unknown' are reported with their counts and reasons, never dropped, and never
  the reference or flagged. NYC Local Law 144's rules (6 RCNY 5-301) let an audit leave categories under 2% of
  the data out of the impact-ratio calculation; the absolute floor of 30 keeps a 2-of-5 cell (rate .40) from
  being the yardstick of a 1,200-applicant family, which made 17 intersections look "below four-fifths".
* Adverse impact: a group is flagged when its impact ratio is below four-fifths AND its one-sided test (rate
  lower than the reference's) is significant at alpha = .05 after the permutation minP adjustment over every
  eligible test of the family (both metrics, every dimension and intersection of one call). Why permutation
  and not Holm: the reference is the maximum of several noisy rates, so a test against it is too liberal before
  any multiplicity (with two groups the "one-sided" test of whichever is lower is really two-sided); Holm on
  those p-values flagged 17% of no-difference families one-sided and 11% two-sided. Permuting outcomes over
  applicants re-chooses the reference in every permutation, so the adjusted p-values are exact under "no group
  differences" whatever the dependence between the ~24 tests: 4.7% of families flagged, no group above 1.3%.
  minP rather than maxT because maxT's bar is set by the heavy-tailed statistics of 30-person intersections:
  power for women at a population ratio of .75 is .48 with minP and .32 with maxT (1,200 applicants).
  Power is what the sample allows: .48 at 1,200 applicants, .83 at 2,400, .88 at 4,800 for women (47%);
  for a group of 18% (white, compared with the best of five smaller groups) .08 / .21 / .42. A single
  pre-specified test of women against men, unadjusted, would have .87 at 1,200: the rest is the price of
  testing every group against a reference chosen from the data.
* Change of weights (gate_change): a proposed weighting is flagged when some eligible group's selection impact
  ratio is lower under it than under the current weights with evidence (one-sided paired test on the same
  applicants, Holm over the groups, alpha .05) AND its proposed ratio is below four-fifths AND the two ratios
  differ once rounded to the two decimals shown. No planted change: 0-1.5% of proposals flagged (the old rule
  65-83%); a fall from .90 to .75 for women: detected in 38% of pools of 1,200, 70% of 2,400, 88% of 4,800.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable

from ml.text_features import assert_no_prohibited_features

UNKNOWN = "unknown"
FOUR_FIFTHS = 0.8
# Below 5 expected in any cell the normal approximation behind the z test is poor (Cochran's rule).
MIN_EXPECTED_FOR_Z = 5
# Reference and flag floor: n >= max(REFERENCE_FLOOR_N, REFERENCE_FLOOR_SHARE x scored pool). At the product's
# 25% selection rate a group of 30 expects 7.5 selections, enough that one hire more or less moves its rate by
# 3 points rather than 20 (as in a group of 5); the 2% share is NYC LL144's exclusion threshold.
REFERENCE_FLOOR_N = 30
REFERENCE_FLOOR_SHARE = 0.02
# Kept for callers that import the old name; it now means the absolute floor.
MIN_REFERENCE_N = REFERENCE_FLOOR_N
# Cells under 5 people are suppressed on dashboards (they identify individuals); reported as small_group.
SMALL_GROUP_N = 5
INTERSECTION_SEP = " × "
DEFAULT_ALPHA = 0.05
DEFAULT_ADJUST = "minP"
# Permutations for the minP / maxT adjustment: the binomial Monte Carlo SE of an adjusted p of .05 is
# sqrt(.05 x .95 / 2000) = .005 (minP's is somewhat larger: its marginal p-values come from the same draws).
DEFAULT_PERMUTATIONS = 2000
# The change tests of gate_change are adjusted over the groups by Holm (their p-values do not share a chosen
# reference the way impact tests do: each weighting's reference is fixed at its full-sample identity).
DEFAULT_CHANGE_ADJUST = "holm"
# One-sided: the flag only ever fires for a rate below the reference's (see the module docstring).
DEFAULT_ALTERNATIVE = "less"
ADJUST_METHODS = ("holm", "bh", "bonferroni", "none")
# Permutation adjustments need the data, so only the table builders (not apply_decision_rule) offer them.
PERMUTATION_METHODS = ("maxT", "minP")
# Haldane-Anscombe: 0.5 added to all four cells of a 2x2 table with a zero cell, so log ratios stay finite.
ZERO_CELL_CORRECTION = 0.5
CI_LEVEL = 0.95
# Ratios are shown with 2 decimals everywhere; a change is only called a change when the shown values differ.
DISPLAY_DECIMALS = 2
# Paired bootstrap resamples for gate_change: the bootstrap standard error's relative error is about
# 1 / sqrt(2 B) = 3.5% at 400, which moves a z of 3 by about 0.1.
DEFAULT_GATE_BOOT = 400
# Resampled selections are ranked in chunks of at most this many scores, which bounds memory to ~50 MB.
_BOOT_CHUNK_CELLS = 2_000_000

MESSAGE_ADVERSE_IMPACT = "fairness.flag.adverse_impact"
MESSAGE_EXISTING_IMPACT = "fairness.flag.existing_impact"
MESSAGE_PROPOSED_IMPACT = "fairness.flag.proposed_impact"
MESSAGE_LOWERED = "fairness.flag.lowered"
MESSAGE_KEYS = (MESSAGE_ADVERSE_IMPACT, MESSAGE_EXISTING_IMPACT, MESSAGE_PROPOSED_IMPACT, MESSAGE_LOWERED)
METRIC_MESSAGE_PREFIX = "fairness.metric."

RATE_TABLE_COLUMNS = [
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
    "reference_n",
    "reference_positive",
    "floor_n",
    "excluded_small",
    "is_unknown",
    "eligible",
    "ci_low",
    "ci_high",
    "ci_method",
    "alternative",
    "p_test",
    "adjust_method",
    "n_tests",
    "p_adjusted",
    "significant_adjusted",
    "flag",
    "n_strata",
    "pooled_odds_ratio",
    "cmh_odds_ratio",
    "cmh_ci_low",
    "cmh_ci_high",
    "cmh_p",
    "breslow_day_p",
    "simpson_warning",
    "message_key",
    "message_params",
]


def fill_unknown(values: pd.Series) -> pd.Series:
    """Strings with missing or blank values replaced by 'unknown'."""
    s = values.astype("string").str.strip()
    return s.mask(s.isna() | (s == ""), UNKNOWN).astype(str)


def two_proportion_test(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    min_expected: float = MIN_EXPECTED_FOR_Z,
    *,
    alternative: str = "two-sided",
):
    """Compare two proportions: Fisher's exact test if any expected 2x2 cell < min_expected, else pooled z test.

    alternative: 'two-sided', or 'less' (group 1's proportion is lower than group 2's).
    Returns (test_name, p_value); test_name is 'fisher_exact' or 'two_proportion_z'. Fisher rather than
    Boschloo: Boschloo is uniformly more powerful but takes ~100x longer per table, and in cells this small the
    four-fifths rule, not the test, is what keeps the flag rate down (measured in fairness_sim.json).
    """
    if alternative not in ("two-sided", "less"):
        raise ValueError(f"alternative must be 'two-sided' or 'less', not {alternative!r}")
    if n1 == 0 or n2 == 0:
        return None, np.nan
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]], dtype=float)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if (expected < min_expected).any():
        return "fisher_exact", float(stats.fisher_exact(table.astype(int), alternative=alternative).pvalue)
    # The pooled z test of statsmodels' proportions_ztest, written out: it is called ~80 times per family table
    # and the closed form is ~50x faster; tests check the two agree.
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p = math.erfc(abs(z) / math.sqrt(2)) if alternative == "two-sided" else 0.5 * math.erfc(-z / math.sqrt(2))
    return "two_proportion_z", float(p)


@functools.cache
def _z_two_sided(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def impact_ratio_ci(x1: float, n1: float, x2: float, n2: float, level: float = CI_LEVEL):
    """Impact ratio (x1/n1) / (x2/n2) with Katz's log interval.

    se(log ratio) = sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2) (Katz et al. 1978). With a zero cell (x = 0 or x = n in
    either group) 0.5 is added to all four cells (Haldane-Anscombe) for the interval only; the point ratio is
    the plain one. Returns (ratio, ci_low, ci_high, method) with method 'katz_log' or 'katz_log_haldane_0.5';
    all NaN (method None) when a group is empty or the reference rate is 0.
    """
    if n1 <= 0 or n2 <= 0 or x2 <= 0:
        return np.nan, np.nan, np.nan, None
    ratio = (x1 / n1) / (x2 / n2)
    method = "katz_log"
    if min(x1, n1 - x1, x2, n2 - x2) == 0:
        c = ZERO_CELL_CORRECTION
        x1, n1, x2, n2 = x1 + c, n1 + 2 * c, x2 + c, n2 + 2 * c
        method = f"katz_log_haldane_{c:g}"
    log_ratio = math.log((x1 / n1) / (x2 / n2))
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
    z = _z_two_sided(level)
    return float(ratio), math.exp(log_ratio - z * se), math.exp(log_ratio + z * se), method


def reference_floor(pool_n: int, min_n: int = REFERENCE_FLOOR_N, min_share: float = REFERENCE_FLOOR_SHARE) -> int:
    """Smallest group that may be the reference or be flagged: max(min_n, ceil(min_share x pool_n))."""
    # The 1e-9 keeps 2% of 1,500 at 30 rather than 31 after floating-point rounding.
    return int(max(min_n, math.ceil(min_share * pool_n - 1e-9)))


def adjust_pvalues(p: Sequence[float], method: str = DEFAULT_ADJUST) -> np.ndarray:
    """Multiplicity-adjusted p-values: 'holm' (step-down), 'bh' (Benjamini-Hochberg step-up), 'bonferroni' or
    'none'. NaN entries are left out of the family and stay NaN. Same values as statsmodels' multipletests
    (tests check it), written out because multipletests' Holm branch runs gc.collect() on every call, which
    costs 0.1-0.5 s in a pipeline process with a large heap.
    """
    if method not in ADJUST_METHODS:
        raise ValueError(f"adjust must be one of {sorted(ADJUST_METHODS)}, not {method!r}")
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ps)
    elif method == "bh":
        adj = np.minimum.accumulate((m / np.arange(1, m + 1) * ps)[::-1])[::-1]
    elif method == "bonferroni":
        adj = m * ps
    else:
        adj = ps
    out[order] = np.minimum(adj, 1.0)
    return out


def _group_dimensions(df: pd.DataFrame, group_cols: Sequence[str], intersection: bool) -> dict[str, pd.Series]:
    dims = {col: fill_unknown(df[col]) for col in group_cols}
    if intersection and len(group_cols) > 1:
        labels = dims[group_cols[0]]
        for col in group_cols[1:]:
            labels = labels + INTERSECTION_SEP + dims[col]
        dims[INTERSECTION_SEP.join(group_cols)] = labels
    return dims


def _is_unknown(label: str) -> bool:
    return UNKNOWN in str(label).split(INTERSECTION_SEP)


def _choose_reference(counts: pd.DataFrame, floor_n: int):
    """Highest-rate known group with n >= floor_n (ties: the larger group, then label order); None if none."""
    ok = counts[(counts["size"] >= floor_n) & ~counts.index.map(_is_unknown)]
    if ok.empty:
        return None
    return ok.sort_values(["rate", "size"], ascending=False, kind="stable").index[0]


def fmt_ratio(x: float, decimals: int = DISPLAY_DECIMALS) -> str:
    """A ratio as shown in flag texts: fixed decimals, 'n/a' when missing."""
    return f"{x:.{decimals}f}" if x is not None and np.isfinite(x) else "n/a"


def fmt_p(p: float) -> str:
    """A p-value as shown in flag texts: 3 decimals, '<0.001' below that."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def displayed_change(from_ratio: float, to_ratio: float, decimals: int = DISPLAY_DECIMALS) -> tuple[str, str, bool]:
    """Both ratios as shown (same rounding) and whether the shown value falls: (from, to, shown_lower).

    A change is only called a fall when the rounded values differ, so no text reads "falls from 0.55 to 0.55".
    """
    a, b = fmt_ratio(from_ratio, decimals), fmt_ratio(to_ratio, decimals)
    return a, b, a != "n/a" and b != "n/a" and float(b) < float(a)


def _params_json(params: Mapping) -> str:
    return json.dumps(dict(params), ensure_ascii=False, sort_keys=True)


def _impact_params(row: Mapping, metric: str, method: str) -> dict:
    return {
        "group": str(row["group"]),
        "dimension": str(row["dimension"]),
        "metric": metric,
        "reference": str(row["reference_group"]),
        "ratio": fmt_ratio(row["impact_ratio"]),
        "ci_low": fmt_ratio(row["ci_low"]),
        "ci_high": fmt_ratio(row["ci_high"]),
        "rate": fmt_ratio(row["rate"]),
        "reference_rate": fmt_ratio(row["reference_rate"]),
        "threshold": f"{FOUR_FIFTHS:g}",
        "p": fmt_p(row["p_adjusted"]),
        "method": method,
        "n": int(row["n"]),
        "n_positive": int(row["n_positive"]),
    }


def apply_decision_rule(
    table: pd.DataFrame,
    adjust: str = DEFAULT_ADJUST,
    alpha: float = DEFAULT_ALPHA,
    message_key: str = MESSAGE_ADVERSE_IMPACT,
    metric: str | None = None,
    p_adjusted: Sequence[float] | None = None,
) -> pd.DataFrame:
    """(Re)apply the adverse-impact rule to a rate_table / adverse_impact_table frame, all rows one family.

    Testable rows: eligible, not the reference, finite p_test (n_tests of them). p_adjusted: `adjust`
    ('holm', 'bh', 'bonferroni', 'none') over their p_test, unless given (one value per row, e.g. from the
    permutation maxT, which needs the data); significant_adjusted = p_adjusted < alpha; flag = testable &
    impact_ratio < 4/5 & significant_adjusted. Flagged rows get message_key and message_params (JSON: group,
    dimension, metric, reference, ratio, ci_low, ci_high, rate, reference_rate, threshold, p, method, n,
    n_positive); metric comes from a 'metric' column if present, else `metric`, else 'selection'. Returns a copy.
    """
    out = table.copy()
    testable = out["eligible"].astype(bool) & (out["group"] != out["reference_group"]) & out["p_test"].notna()
    testable = testable.to_numpy()
    if p_adjusted is None:
        p_adj = np.full(len(out), np.nan)
        p_adj[testable] = adjust_pvalues(out.loc[testable, "p_test"].to_numpy(float), adjust)
    else:
        p_adj = np.where(testable, np.asarray(p_adjusted, dtype=float), np.nan)
    out["adjust_method"] = adjust
    out["n_tests"] = int(testable.sum())
    out["p_adjusted"] = p_adj
    out["significant_adjusted"] = np.isfinite(p_adj) & (p_adj < alpha)
    ratio = np.nan_to_num(out["impact_ratio"].to_numpy(float), nan=np.inf)
    out["flag"] = testable & (ratio < FOUR_FIFTHS) & out["significant_adjusted"].to_numpy()
    keys = [None] * len(out)
    params = [None] * len(out)
    for i in np.flatnonzero(out["flag"].to_numpy()):
        row = out.iloc[i]
        m = row["metric"] if "metric" in out.columns else (metric or "selection")
        keys[i] = message_key
        params[i] = _params_json(_impact_params(row, m, adjust))
    out["message_key"] = keys
    out["message_params"] = params
    return out


def _stratified(group_xn: pd.DataFrame, ref_xn: pd.DataFrame, alpha: float) -> dict:
    """CMH and Breslow-Day over the strata where both groups are present and the selections are not all 0/1.

    group_xn / ref_xn: per-stratum 'n' and 'x' (selected), indexed by stratum.
    """
    both = group_xn.join(ref_xn, lsuffix="_g", rsuffix="_r", how="inner")
    both = both[(both["n_g"] > 0) & (both["n_r"] > 0)]
    sel = both["x_g"] + both["x_r"]
    # A stratum where nobody, or everybody, was selected carries no information about the odds ratio.
    both = both[(sel > 0) & (sel < both["n_g"] + both["n_r"])]
    out = {"n_strata": len(both)}
    if both.empty:
        return out
    tables = np.zeros((2, 2, len(both)))
    tables[0, 0] = both["x_g"]
    tables[0, 1] = both["n_g"] - both["x_g"]
    tables[1, 0] = both["x_r"]
    tables[1, 1] = both["n_r"] - both["x_r"]
    st = StratifiedTable(tables)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = st.oddsratio_pooled_confint(alpha=alpha)
        out.update(
            cmh_odds_ratio=float(st.oddsratio_pooled),
            cmh_ci_low=float(lo),
            cmh_ci_high=float(hi),
            # Continuity-corrected, as R's mantelhaen.test by default, so figures agree with R users' checks.
            cmh_p=float(st.test_null_odds(correction=True).pvalue),
            breslow_day_p=float(st.test_equal_odds().pvalue) if len(both) >= 2 else np.nan,
        )
    return out


class _Dim(NamedTuple):
    """One dimension of one metric, for the permutation: group codes per row, eligibility per code."""

    metric: int
    codes: np.ndarray
    eligible: np.ndarray


def _outcome_rows(df, y, dims, metric, min_reference_n, min_reference_share, alpha, alternative, strata):
    """rate_table rows of one outcome (no rule columns), and per dimension the codes the permutation needs."""
    keep = y.notna()
    pool_n = int(keep.sum())
    floor_n = reference_floor(pool_n, min_reference_n, min_reference_share)
    rows, dim_codes = [], []
    for dim, labels in dims.items():
        frame = pd.DataFrame({"group": labels[keep], "y": y[keep]})
        counts = frame.groupby("group")["y"].agg(["size", "sum"])
        if counts.empty:
            continue
        counts["rate"] = counts["sum"] / counts["size"]
        ref = _choose_reference(counts, floor_n)
        codes = pd.Categorical(labels, categories=counts.index).codes
        dim_codes.append(
            _Dim(metric, codes, np.array([(n >= floor_n) and not _is_unknown(g) for g, n in counts["size"].items()]))
        )
        by_stratum = None
        if strata is not None:
            frame["stratum"] = strata[keep]
            by_stratum = frame.groupby(["group", "stratum"])["y"].agg(n="size", x="sum")
        if ref is not None:
            ref_n, ref_x, ref_rate = int(counts.at[ref, "size"]), int(counts.at[ref, "sum"]), counts.at[ref, "rate"]
        else:
            ref_n, ref_x, ref_rate = 0, 0, np.nan
        for group, row in counts.iterrows():
            n, x, rate = int(row["size"]), int(row["sum"]), float(row["rate"])
            unknown = _is_unknown(group)
            excluded = n < floor_n
            eligible = not unknown and not excluded
            reasons = []
            if unknown:
                reasons.append("unknown: reported, never the reference or flagged")
            if excluded:
                reasons.append(
                    f"n = {n} below the floor of {floor_n} (max of {min_reference_n} and "
                    f"{min_reference_share:.0%} of {pool_n}): reported, never the reference or flagged"
                )
            ratio, lo, hi, ci_method = np.nan, np.nan, np.nan, None
            test, p, p_test = None, np.nan, np.nan
            if ref is None:
                reasons.append(f"no known group reaches the floor of {floor_n}")
            elif ref_rate <= 0:
                reasons.append("reference group rate is 0")
            elif group == ref:
                ratio = 1.0
                reasons.append("reference group")
            else:
                ratio, lo, hi, ci_method = impact_ratio_ci(x, n, ref_x, ref_n)
                test, p = two_proportion_test(x, n, ref_x, ref_n)
                if alternative == "two-sided":
                    p_test = p
                else:
                    p_test = two_proportion_test(x, n, ref_x, ref_n, alternative=alternative)[1]
            strat = {}
            if by_stratum is not None and ref is not None and group != ref and eligible and np.isfinite(ratio):
                strat = _stratified(by_stratum.loc[group], by_stratum.loc[ref], alpha)
            crude_or = np.nan
            if strat and 0 < x < n and 0 < ref_x < ref_n:
                crude_or = (x / (n - x)) / (ref_x / (ref_n - ref_x))
            cmh_or = strat.get("cmh_odds_ratio", np.nan)
            simpson = bool(
                np.isfinite(ratio)
                and np.isfinite(cmh_or)
                and ratio != 1
                and cmh_or != 1
                and (ratio < 1) != (cmh_or < 1)
                and ((np.isfinite(p) and p < alpha) or strat.get("cmh_p", 1.0) < alpha)
            )
            rows.append(
                {
                    "metric": metric,
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
                    "small_group": n < SMALL_GROUP_N,
                    "reason": "; ".join(reasons) if reasons else None,
                    "reference_n": ref_n,
                    "reference_positive": ref_x,
                    "floor_n": floor_n,
                    "excluded_small": excluded,
                    "is_unknown": unknown,
                    "eligible": eligible,
                    "ci_low": lo,
                    "ci_high": hi,
                    "ci_method": ci_method,
                    "alternative": alternative,
                    "p_test": p_test,
                    "n_strata": strat.get("n_strata", 0) if strata is not None else np.nan,
                    "pooled_odds_ratio": crude_or,
                    "cmh_odds_ratio": cmh_or,
                    "cmh_ci_low": strat.get("cmh_ci_low", np.nan),
                    "cmh_ci_high": strat.get("cmh_ci_high", np.nan),
                    "cmh_p": strat.get("cmh_p", np.nan),
                    "breslow_day_p": strat.get("breslow_day_p", np.nan),
                    "simpson_warning": simpson,
                    "_code": int(counts.index.get_loc(group)),
                    "_dim": len(dim_codes) - 1,
                }
            )
    return rows, dim_codes


def _z_lower(x, n, xr, nr):
    """Pooled two-proportion z of rate x/n against xr/nr (negative when lower); 0 where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x + xr) / (n + nr)
        den = np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / nr))
        z = (x / n - xr / nr) / den
    return np.where(np.isfinite(z), z, 0.0)


def _random_tables(cell_pattern: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` random cells x patterns tables with the margins of cell_pattern (integer counts): the distribution
    of the table when the rows' outcome patterns are permuted, drawn by sequential hypergeometric sampling, so the
    cost does not grow with the number of rows."""
    n_cells, n_pat = cell_pattern.shape
    remaining = np.broadcast_to(cell_pattern.sum(axis=0), (size, n_pat)).astype(np.int64).copy()
    out = np.zeros((size, n_cells, n_pat), dtype=np.int64)
    for c, n_c in enumerate(cell_pattern.sum(axis=1)):
        left = np.full(size, n_c, dtype=np.int64)
        pool = remaining.sum(axis=1)
        for k in range(n_pat - 1):
            pool = pool - remaining[:, k]
            draw = rng.hypergeometric(remaining[:, k], pool, left) if n_c else np.zeros(size, dtype=np.int64)
            out[:, c, k] = draw
            remaining[:, k] -= draw
            left -= draw
        out[:, c, -1] = left
        remaining[:, -1] -= left
    return out


def _permutation_adjusted(
    ys: list[np.ndarray],
    dims: list[_Dim],
    tested: list[tuple[int, int]],
    alternative: str,
    n_perm: int,
    seed: int,
    strata=None,
    method: str = "maxT",
    cells: np.ndarray | None = None,
) -> np.ndarray:
    """Westfall-Young single-step permutation p-values over a family, the reference re-chosen in every permutation.

    ys: per metric, the outcome per row (NaN = missing). dims: per (metric, dimension), the group code per row and
    which codes are eligible. tested: (dimension index, code) of each tested row. cells: per row, its finest
    group cell (every dimension's group is a union of cells). The rows' outcomes (all metrics together) are
    permuted across rows (within strata), which is exact under the null that group labels are unrelated to
    outcomes. T = -z (or |z| two-sided) of each eligible group against the highest-rate eligible group of the
    permuted data -- the reference is chosen as the maximum of noisy rates, which is what makes a plain test
    against it too liberal, and the permutation reproduces that choice.
    method 'maxT': p_adjusted = (1 + #{permutations whose largest T reaches T_observed}) / (n_perm + 1).
    method 'minP': each T is first turned into its own permutation p-value, and p_adjusted counts the
    permutations whose smallest p reaches the observed p: a small group's heavy-tailed T cannot set the bar
    for a large group's.
    Without strata the permuted group counts are drawn as random contingency tables (cells x outcome patterns,
    margins fixed), the same distribution as permuting rows at a cost independent of the number of rows.
    """
    n_rows = len(ys[0])
    valid = [np.isfinite(y).astype(float) for y in ys]
    y0 = [np.nan_to_num(y, nan=0.0) for y in ys]
    # Rows whose label has no code (its outcome is missing for this metric) go to a dummy last code.
    codes = [np.where(d.codes >= 0, d.codes, len(d.eligible)) for d in dims]

    def counts(values: np.ndarray, di: int) -> np.ndarray:
        g = len(dims[di].eligible) + 1
        flat = codes[di][None, :] + g * np.arange(values.shape[0])[:, None]
        return np.bincount(flat.ravel(), weights=values.ravel(), minlength=g * values.shape[0]).reshape(-1, g)[:, :-1]

    def stat(x, n, d: _Dim):
        """Per permutation (rows), T of every code against the permutation's reference; -inf where not tested."""
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(d.eligible & (n > 0), x / n, -np.inf)
        ref = np.argmax(rate, axis=-1)
        idx = np.arange(x.shape[0])
        z = _z_lower(x, n, x[idx, ref][:, None], n[idx, ref][:, None])
        t = -z if alternative == "less" else np.abs(z)
        mask = d.eligible[None, :] & (np.arange(x.shape[1])[None, :] != ref[:, None]) & (n > 0)
        return np.where(mask, t, -np.inf)

    def family_t(count_pairs) -> np.ndarray:
        """T of every eligible (dimension, code), columns in dims order."""
        return np.concatenate(
            [stat(x, n, dims[di])[:, dims[di].eligible] for di, (x, n) in enumerate(count_pairs)], axis=1
        )

    columns = [(di, c) for di, d in enumerate(dims) for c in np.flatnonzero(d.eligible)]
    col_of = {key: j for j, key in enumerate(columns)}
    tested_cols = np.array([col_of[(di, int(c))] for di, c in tested])
    observed = family_t(
        [(counts(y0[d.metric][None, :], di), counts(valid[d.metric][None, :], di)) for di, d in enumerate(dims)]
    )[0]
    rng = np.random.default_rng(seed)

    if strata is None:
        # Outcome pattern per row: per metric missing / 0 / 1, base 3.
        pattern = np.zeros(n_rows, dtype=np.int64)
        for m, y in enumerate(ys):
            pattern += (3**m) * np.where(np.isfinite(y), 1 + (y0[m] > 0), 0)
        pat_ids, pattern = np.unique(pattern, return_inverse=True)
        cell_ids, cell = np.unique(cells, return_inverse=True)
        table = np.zeros((len(cell_ids), len(pat_ids)), dtype=np.int64)
        np.add.at(table, (cell, pattern), 1)
        first_row = np.array([np.flatnonzero(cell == c)[0] for c in range(len(cell_ids))])
        pat_state = [(pat_ids // (3**m)) % 3 for m in range(len(ys))]
        maps = []
        for di, d in enumerate(dims):
            a = np.zeros((len(cell_ids), len(d.eligible) + 1))
            a[np.arange(len(cell_ids)), codes[di][first_row]] = 1.0
            maps.append(a[:, :-1])

        def chunks():
            done = 0
            while done < n_perm:
                size = min(256, n_perm - done)
                t = _random_tables(table, size, rng).astype(float)
                pairs = []
                for di, d in enumerate(dims):
                    x_cell = t @ (pat_state[d.metric] == 2).astype(float)
                    n_cell = t @ (pat_state[d.metric] != 0).astype(float)
                    pairs.append((x_cell @ maps[di], n_cell @ maps[di]))
                yield pairs
                done += size
    else:
        codes_s, order_s = _strata_blocks(strata)
        sorted_codes = codes_s[order_s]

        def chunks():
            chunk = max(1, min(n_perm, _BOOT_CHUNK_CELLS // max(n_rows, 1)))
            done = 0
            while done < n_perm:
                size = min(chunk, n_perm - done)
                # Keys in [stratum, stratum + 1) sort each stratum's rows into a random order of its own rows.
                shuffled = order_s[np.argsort(rng.random((size, n_rows)) + sorted_codes[None, :], axis=1)]
                perm = np.empty_like(shuffled)
                perm[:, order_s] = shuffled
                permuted = [(y0[m][perm], valid[m][perm]) for m in range(len(ys))]
                yield [
                    (counts(permuted[d.metric][0], di), counts(permuted[d.metric][1], di)) for di, d in enumerate(dims)
                ]
                done += size

    t_perm = np.concatenate([family_t(pairs) for pairs in chunks()], axis=0)
    t_obs = observed[tested_cols]
    # 1e-12: a permutation that reproduces the observed statistic counts as reaching it.
    if method == "maxT":
        best = t_perm.max(axis=1)
        return (1 + (best[:, None] >= t_obs[None, :] - 1e-12).sum(axis=0)) / (n_perm + 1)
    # Each column's permutation p-value of every permutation: the share of permutations at or above it.
    p_perm = np.empty_like(t_perm)
    for j in range(t_perm.shape[1]):
        ascending = np.sort(t_perm[:, j])
        p_perm[:, j] = (n_perm - np.searchsorted(ascending, t_perm[:, j] - 1e-12, side="left")) / n_perm
    p_obs = (1 + (t_perm[:, tested_cols] >= t_obs[None, :] - 1e-12).sum(axis=0)) / (n_perm + 1)
    min_p = p_perm.min(axis=1)
    return (1 + (min_p[:, None] <= p_obs[None, :] + 1e-12).sum(axis=0)) / (n_perm + 1)


def _family_table(
    df: pd.DataFrame,
    outcomes: Mapping[str, pd.Series],
    group_cols: Sequence[str],
    intersection: bool,
    min_reference_n: int,
    alpha: float,
    min_reference_share: float,
    alternative: str,
    adjust: str | None,
    strata_col: str | None,
    message_key: str,
    n_perm: int,
    seed: int,
) -> pd.DataFrame:
    if alternative not in ("two-sided", "less"):
        raise ValueError(f"alternative must be 'two-sided' or 'less', not {alternative!r}")
    if adjust is not None and adjust not in (*ADJUST_METHODS, *PERMUTATION_METHODS):
        raise ValueError(f"adjust must be one of {[*ADJUST_METHODS, *PERMUTATION_METHODS]} or None, not {adjust!r}")
    dims = _group_dimensions(df, list(group_cols), intersection)
    strata = df[strata_col].astype("string").fillna(UNKNOWN) if strata_col is not None else None
    rows, all_dims, ys = [], [], []
    for m, (metric, y) in enumerate(outcomes.items()):
        y = pd.to_numeric(y, errors="coerce").astype(float)
        r, d = _outcome_rows(df, y, dims, metric, min_reference_n, min_reference_share, alpha, alternative, strata)
        for row in r:
            row["_dim"] += len(all_dims)
        rows += r
        all_dims += [dd._replace(metric=m) for dd in d]
        ys.append(y.to_numpy(float))
    cols = ["metric", *[c for c in RATE_TABLE_COLUMNS if c not in _RULE_COLUMNS], "_code", "_dim"]
    out = pd.DataFrame(rows, columns=cols)
    if adjust is None:
        for col, value in _RULE_DEFAULTS.items():
            out[col] = value
    elif adjust in PERMUTATION_METHODS:
        testable = (out["eligible"] & (out["group"] != out["reference_group"]) & out["p_test"].notna()).to_numpy()
        p_adj = np.full(len(out), np.nan)
        if testable.any():
            tested = list(zip(out.loc[testable, "_dim"], out.loc[testable, "_code"], strict=True))
            strata_arr = strata.to_numpy() if strata is not None else None
            cells = pd.factorize(pd.Series(list(zip(*[fill_unknown(df[c]) for c in group_cols], strict=True))))[0]
            p_adj[testable] = _permutation_adjusted(
                ys, all_dims, tested, alternative, n_perm, seed, strata_arr, method=adjust, cells=cells
            )
        out = apply_decision_rule(out, adjust, alpha, message_key, p_adjusted=p_adj)
    else:
        out = apply_decision_rule(out, adjust, alpha, message_key)
    return out[["metric", *RATE_TABLE_COLUMNS]]


def rate_table(
    df: pd.DataFrame,
    outcome_col: str,
    group_cols: Sequence[str] = ("sex", "ethnicity"),
    intersection: bool = True,
    min_reference_n: int = REFERENCE_FLOOR_N,
    alpha: float = DEFAULT_ALPHA,
    *,
    min_reference_share: float = REFERENCE_FLOOR_SHARE,
    alternative: str = DEFAULT_ALTERNATIVE,
    adjust: str | None = DEFAULT_ADJUST,
    strata_col: str | None = None,
    metric: str = "selection",
    message_key: str = MESSAGE_ADVERSE_IMPACT,
    n_perm: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> pd.DataFrame:
    """Rate of a 0/1 outcome per group, impact ratio against the reference group with its interval, tests and flag.

    Input: one row per candidate with group_cols and outcome_col (0/1 or bool; rows with a missing outcome are
    left out); strata_col (e.g. requisition or region), if given, adds a stratified test and makes the
    permutation adjustment permute within strata (rows, not tables: about 20 s per 100,000 rows at 2,000
    permutations, against 0.3 s without strata). Groups are each column alone and, if intersection, their
    combination; missing labels become 'unknown'.
    Reference (per dimension): the highest-rate group with n >= floor_n = max(min_reference_n,
    ceil(min_reference_share x scored rows)) that is not 'unknown' (no reference, and NaN ratios, if none).
    Output, one row per dimension and group (RATE_TABLE_COLUMNS):
      dimension, group, n, n_positive, rate;
      reference_group, reference_rate, reference_n, reference_positive, floor_n;
      impact_ratio, ci_low, ci_high (Katz log, CI_LEVEL), ci_method, below_four_fifths (point ratio < .8);
      test ('two_proportion_z' | 'fisher_exact'), p_value (two-sided, vs the reference), significant
      (p_value < alpha, unadjusted), alternative and p_test (one-sided 'less' by default: what Holm, BH and
      Bonferroni adjust; the permutation methods permute its z statistic instead);
      small_group (n < 5: suppress on dashboards), excluded_small (n < floor_n), is_unknown, eligible (known and
      n >= floor_n: may be the reference and may be flagged), reason (why a row has no test or no ratio);
      adjust_method, n_tests, p_adjusted, significant_adjusted, flag (eligible & ratio < .8 & p_adjusted < alpha)
      -- the adjustment runs over this table's eligible tests: 'minP' (default) or 'maxT' (permutation,
      n_perm, seed; see _permutation_adjusted), 'holm', 'bh', 'bonferroni', 'none', or None (p_adjusted NaN,
      flag False);
      n_strata, pooled_odds_ratio, cmh_odds_ratio, cmh_ci_low, cmh_ci_high, cmh_p (Mantel-Haenszel, continuity-
      corrected), breslow_day_p (homogeneity of the odds ratios across strata), simpson_warning (pooled ratio
      and stratified odds ratio point in opposite directions and either test is significant at alpha) -- NaN /
      False without strata_col;
      message_key, message_params (JSON) on flagged rows, None elsewhere.
    """
    out = _family_table(
        df,
        {metric: df[outcome_col]},
        group_cols,
        intersection,
        min_reference_n,
        alpha,
        min_reference_share,
        alternative,
        adjust,
        strata_col,
        message_key,
        n_perm,
        seed,
    )
    return out[RATE_TABLE_COLUMNS]


_RULE_DEFAULTS = {
    "adjust_method": None,
    "n_tests": 0,
    "p_adjusted": np.nan,
    "significant_adjusted": False,
    "flag": False,
    "message_key": None,
    "message_params": None,
}
_RULE_COLUMNS = set(_RULE_DEFAULTS)


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
    min_reference_n: int = REFERENCE_FLOOR_N,
    alpha: float = DEFAULT_ALPHA,
    *,
    min_reference_share: float = REFERENCE_FLOOR_SHARE,
    alternative: str = DEFAULT_ALTERNATIVE,
    adjust: str | None = DEFAULT_ADJUST,
    strata_col: str | None = None,
    message_key: str = MESSAGE_ADVERSE_IMPACT,
    n_perm: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> pd.DataFrame:
    """Selection rate (selected_col) and scoring rate (share above the median score_col) per group, stacked.

    Input: one row per candidate of one job family with group_cols, selected_col and score_col (either may be
    None to leave its metric out), optionally strata_col. Output: a leading 'metric' column ('selection' or
    'scoring') and the rate_table columns. The whole table is one multiplicity family: `adjust` runs over the
    eligible tests of both metrics, all dimensions and intersections (n_tests is the same on every row), and
    the permutation adjustments permute both metrics' outcomes together, which keeps their strong correlation.
    """
    outcomes = {}
    if selected_col is not None:
        outcomes["selection"] = df[selected_col]
    if score_col is not None:
        outcomes["scoring"] = scoring_indicator(df[score_col])
    return _family_table(
        df,
        outcomes,
        group_cols,
        intersection,
        min_reference_n,
        alpha,
        min_reference_share,
        alternative,
        adjust,
        strata_col,
        message_key,
        n_perm,
        seed,
    )


def composite_scores(candidates: pd.DataFrame, weights: Mapping[str, float], competencies: Sequence[str]):
    """Weighted sum of competency scores (weights missing from the mapping count as 0)."""
    assert_no_prohibited_features(competencies)
    w = np.array([float(weights.get(c, 0.0)) for c in competencies])
    return candidates[list(competencies)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float) @ w


def _strata_blocks(strata) -> tuple[np.ndarray, np.ndarray]:
    """Integer stratum codes (order of first appearance) and the row order that groups rows by stratum stably."""
    codes = pd.factorize(pd.Series(strata).astype("string").fillna(UNKNOWN), sort=False)[0]
    return codes, np.argsort(codes, kind="stable")


def _select_sorted_blocks(scores: np.ndarray, block_sizes: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Top-k per block for a 2-D array whose columns are grouped in contiguous blocks of block_sizes.

    Ties and NaN (ranked last) resolve by column order. Returns a boolean array of scores' shape.
    """
    s = np.where(np.isnan(scores), -np.inf, scores)
    out = np.zeros(s.shape, dtype=bool)
    starts = np.concatenate([[0], np.cumsum(block_sizes)[:-1]])
    # Blocks of one size are ranked together as a 3-D array: a handful of sorts instead of one per requisition.
    for size in np.unique(block_sizes):
        which = np.flatnonzero(block_sizes == size)
        cols = starts[which][:, None] + np.arange(size)
        order = np.argsort(-s[:, cols], axis=-1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.broadcast_to(np.arange(size), order.shape), axis=-1)
        out[:, cols] = rank < k[which][None, :, None]
    return out


def simulate_selection(composite, selection_rate: float, strata=None) -> np.ndarray:
    """Select the top round(rate * n) by composite; ties and missing composites resolved by row order, last.

    strata (optional, one label per row, e.g. requisition): select the top round(rate * n_s) within each stratum.
    """
    comp = np.asarray(composite, dtype=float)
    if strata is None:
        k = int(round(selection_rate * len(comp)))
        # -inf puts missing composites last; a stable sort keeps equal scores in row order so reruns agree.
        order = np.argsort(-np.where(np.isnan(comp), -np.inf, comp), kind="stable")
        selected = np.zeros(len(comp), dtype=bool)
        selected[order[:k]] = True
        return selected
    codes, order = _strata_blocks(strata)
    sizes = np.bincount(codes)
    k = np.round(selection_rate * sizes).astype(int)
    sel_sorted = _select_sorted_blocks(comp[order][None, :], sizes, k)[0]
    selected = np.zeros(len(comp), dtype=bool)
    selected[order] = sel_sorted
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
    min_reference_n: int = REFERENCE_FLOOR_N,
) -> pd.DataFrame:
    """Impact ratios under simulated top-k selection with current vs recommended weights (point estimates only).

    Superseded by gate_change, which tests the change; kept for callers of the old table.
    Input: the job family's scored applicants with the competency columns, group_cols and (when selection_rate
    is None) selected_col, whose mean gives the historical selection rate.
    Output: dimension, group, n, current_rate, current_impact_ratio, recommended_rate,
    recommended_impact_ratio, impact_ratio_change, below_baseline, flag (recommended ratio below both its
    current-weights baseline and four-fifths, no test), selection_rate.
    """
    if selection_rate is None:
        selection_rate = float(pd.to_numeric(candidates[selected_col], errors="coerce").mean())
    tables = {}
    for name, weights in (("current", current_weights), ("recommended", recommended_weights)):
        sel = simulate_selection(composite_scores(candidates, weights, competencies), selection_rate)
        # Point ratios only: adjust=None skips the permutations nobody reads here.
        tables[name] = rate_table(
            candidates.assign(_sel=sel.astype(float)), "_sel", group_cols, intersection, min_reference_n, adjust=None
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


class GateChange(NamedTuple):
    """gate_change's result; see its docstring for the columns."""

    changes: pd.DataFrame
    impact: pd.DataFrame
    flags: pd.DataFrame
    flagged: bool
    existing_impact: bool


GATE_CHANGE_COLUMNS = [
    "dimension",
    "group",
    "n",
    "eligible",
    "excluded_small",
    "is_unknown",
    "floor_n",
    "reason",
    "current_selected",
    "current_rate",
    "current_reference",
    "current_impact_ratio",
    "proposed_selected",
    "proposed_rate",
    "proposed_reference",
    "proposed_impact_ratio",
    "change",
    "change_ci_low",
    "change_ci_high",
    "log_ratio_change",
    "log_ratio_se",
    "p_lowered",
    "adjust_method",
    "n_tests",
    "p_adjusted",
    "lowered",
    "flag",
    "method",
    "n_boot",
    "selection_rate",
    "message_key",
    "message_params",
]
FLAG_COLUMNS = ["kind", "weighting", "metric", "dimension", "group", "message_key", "message_params"]


def _log_rate(x, n):
    """log(x / n), with the Haldane 0.5 correction (log(0.5 / (n + 1))) where x = 0 so a log ratio stays finite."""
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.log(x / n), np.log(ZERO_CELL_CORRECTION / (n + 2 * ZERO_CELL_CORRECTION)))


def _reference_code(x: np.ndarray, n: np.ndarray, eligible: np.ndarray) -> int | None:
    """Index of the highest-rate eligible group (ties: larger n, then lower code); None when none is eligible."""
    idx = np.flatnonzero(eligible & (n > 0))
    if len(idx) == 0:
        return None
    rate = x[idx] / n[idx]
    best = np.lexsort((idx, -n[idx], -rate))[0]
    return int(idx[best])


def _boot_indices(rng: np.random.Generator, blocks: list[np.ndarray], size: int) -> np.ndarray:
    """`size` resamples of row indices, with replacement within each block, columns grouped by block."""
    parts = [blk[rng.integers(0, len(blk), size=(size, len(blk)))] for blk in blocks]
    return np.concatenate(parts, axis=1)


def gate_change(
    pool: pd.DataFrame,
    current_weights: Mapping[str, float],
    proposed_weights: Mapping[str, float],
    competencies: Sequence[str],
    selection_rate: float,
    strata_col: str | None = None,
    n_boot: int = DEFAULT_GATE_BOOT,
    seed: int = 0,
    *,
    group_cols: Sequence[str] = ("sex", "ethnicity"),
    intersection: bool = True,
    method: str = "bootstrap",
    min_reference_n: int = REFERENCE_FLOOR_N,
    min_reference_share: float = REFERENCE_FLOOR_SHARE,
    alpha: float = DEFAULT_ALPHA,
    adjust: str = DEFAULT_ADJUST,
    change_adjust: str = DEFAULT_CHANGE_ADJUST,
    n_perm: int = DEFAULT_PERMUTATIONS,
) -> GateChange:
    """Does the proposed weighting lower some group's selection impact ratio, on the same applicants?

    pool: the family's scored applicants, one row each, with the competency columns, group_cols and (if given)
    strata_col. Both weightings score the same rows; simulate_selection picks the top round(selection_rate x n)
    (within each stratum when strata_col is given) under each. Per group, the change is tested on the log
    scale, D = log IR_proposed - log IR_current, each ratio against its own weighting's reference group (the
    legal definition), the references fixed at their full-sample identity:
      method='bootstrap' (default): paired bootstrap over applicants -- resample rows (within strata), re-select
        under both weightings in the resample, recompute both ratios; se(D) is the standard deviation of the
        n_boot resampled D. This carries the top-k cut-off's own sampling noise and the pairing (most
        applicants are selected, or not, under both weightings, so the change is far less noisy than either
        ratio).
      method='delta': multinomial delta method with the cut-offs treated as fixed: per group and weighting
        Var(log r) = (1 - r) / (n r), and Cov(log r_current, log r_proposed) = (p11 - r_c r_p) / (n r_c r_p),
        p11 the share selected under both (McNemar's pairing); groups independent. Fast, deterministic.
      Measured (fairness_sim.json): both keep no-change proposals under 2% flagged; delta detects a fall of
      .90 -> .75 a little more often (42% vs 38% at 1,200 applicants, equal at 4,800) but ignores the
      cut-off's own sampling noise, so the bootstrap, valid without that assumption, is the default.
    p_lowered = Phi(D / se) (one-sided: lowered); p_adjusted by `change_adjust` (Holm) over the eligible groups
    of all dimensions; lowered = p_adjusted < alpha and the proposed ratio is lower once both are rounded to
    DISPLAY_DECIMALS; flag = lowered & proposed ratio < 4/5 & eligible. `adjust` and n_perm are the
    adverse-impact rule's (rate_table) for the `impact` rows.

    Returns GateChange(changes, impact, flags, flagged, existing_impact):
      changes: one row per dimension and group (GATE_CHANGE_COLUMNS): dimension, group, n, eligible,
        excluded_small, is_unknown, floor_n, reason, current_selected, current_rate, current_reference,
        current_impact_ratio, proposed_selected, proposed_rate, proposed_reference, proposed_impact_ratio,
        change (proposed - current ratio), change_ci_low, change_ci_high (95%, unadjusted, ratio scale),
        log_ratio_change (D), log_ratio_se, p_lowered, adjust_method, n_tests, p_adjusted, lowered, flag,
        method, n_boot, selection_rate, message_key ('fairness.flag.lowered' on flagged rows), message_params
        (JSON: group, dimension, metric, from, to, change, ci_low, ci_high, p, method, n, threshold).
      impact: rate_table rows (with 'weighting' = 'current' | 'proposed' and metric 'selection') for the
        simulated selection under each weighting, each weighting its own family under the adverse-impact rule;
        flagged current rows carry 'fairness.flag.existing_impact', flagged proposed rows
        'fairness.flag.proposed_impact'.
      flags: every flag of both tables, FLAG_COLUMNS: kind ('lowered' | 'existing_impact' | 'proposed_impact'),
        weighting, metric, dimension, group, message_key, message_params.
      flagged: any 'lowered' flag -- the proposal needs an explicit sign-off.
      existing_impact: any current-weights impact flag -- the desk must not show "no flag" even when the
        proposal itself lowers nothing.
    """
    if method not in ("bootstrap", "delta"):
        raise ValueError(f"method must be 'bootstrap' or 'delta', not {method!r}")
    comp = {
        "current": composite_scores(pool, current_weights, competencies),
        "proposed": composite_scores(pool, proposed_weights, competencies),
    }
    strata = pool[strata_col].to_numpy() if strata_col is not None else None
    sel = {w: simulate_selection(c, selection_rate, strata) for w, c in comp.items()}
    pool_n = len(pool)
    floor_n = reference_floor(pool_n, min_reference_n, min_reference_share)

    # Impact under each weighting: the adverse-impact rule, each weighting one family.
    impact_frames = []
    for w, key in (("current", MESSAGE_EXISTING_IMPACT), ("proposed", MESSAGE_PROPOSED_IMPACT)):
        t = rate_table(
            pool.assign(_sel=sel[w].astype(float)),
            "_sel",
            group_cols,
            intersection,
            min_reference_n,
            alpha,
            min_reference_share=min_reference_share,
            adjust=adjust,
            strata_col=strata_col,
            message_key=key,
            n_perm=n_perm,
            seed=seed,
        )
        impact_frames.append(t.assign(weighting=w, metric="selection"))
    impact = pd.concat(impact_frames, ignore_index=True)
    impact = impact[["weighting", "metric", *RATE_TABLE_COLUMNS]]

    dims = _group_dimensions(pool, list(group_cols), intersection)
    if strata is not None:
        codes_s, order_s = _strata_blocks(strata)
        blocks = [order_s[codes_s[order_s] == s] for s in range(codes_s.max() + 1)]
    else:
        blocks = [np.arange(pool_n)]
    block_sizes = np.array([len(b) for b in blocks])
    k_blocks = np.round(selection_rate * block_sizes).astype(int)

    dim_info = []
    for dim, labels in dims.items():
        codes, uniques = pd.factorize(labels, sort=True)
        uniques = np.asarray(uniques, dtype=object)
        g = len(uniques)
        n = np.bincount(codes, minlength=g).astype(float)
        x = {w: np.bincount(codes, weights=sel[w], minlength=g) for w in sel}
        unknown = np.array([_is_unknown(u) for u in uniques])
        eligible = ~unknown & (n >= floor_n)
        refs = {w: _reference_code(x[w], n, eligible) for w in sel}
        dim_info.append(
            dict(dim=dim, codes=codes, uniques=uniques, n=n, x=x, unknown=unknown, eligible=eligible, refs=refs)
        )

    def log_diff(x_c, x_p, n, refs):
        """D per group (last axis) for count arrays x_c, x_p of shape (..., groups)."""
        lc = _log_rate(x_c, n)
        lp = _log_rate(x_p, n)
        return (lp - lp[..., [refs["proposed"]]]) - (lc - lc[..., [refs["current"]]])

    def ratio_pair(x_c, x_p, n, refs):
        with np.errstate(divide="ignore", invalid="ignore"):
            ic = (x_c / n) / (x_c[..., [refs["current"]]] / n[..., [refs["current"]]])
            ip = (x_p / n) / (x_p[..., [refs["proposed"]]] / n[..., [refs["proposed"]]])
        return ic, ip

    boot = {}
    if method == "bootstrap" and n_boot > 1:
        rng = np.random.default_rng(seed)
        acc = {i: {"D": [], "diff": []} for i in range(len(dim_info))}
        chunk = max(1, min(n_boot, _BOOT_CHUNK_CELLS // max(pool_n, 1)))
        done = 0
        while done < n_boot:
            size = min(chunk, n_boot - done)
            idx = _boot_indices(rng, blocks, size)
            s_c = _select_sorted_blocks(comp["current"][idx], block_sizes, k_blocks)
            s_p = _select_sorted_blocks(comp["proposed"][idx], block_sizes, k_blocks)
            for i, info in enumerate(dim_info):
                if info["refs"]["current"] is None or info["refs"]["proposed"] is None:
                    continue
                g = len(info["uniques"])
                cb = info["codes"][idx]
                offs = cb + g * np.arange(size)[:, None]
                nb = np.bincount(offs.ravel(), minlength=g * size).reshape(size, g).astype(float)
                xc = np.bincount(offs.ravel(), weights=s_c.ravel(), minlength=g * size).reshape(size, g)
                xp = np.bincount(offs.ravel(), weights=s_p.ravel(), minlength=g * size).reshape(size, g)
                acc[i]["D"].append(log_diff(xc, xp, nb, info["refs"]))
                ic, ip = ratio_pair(xc, xp, nb, info["refs"])
                with np.errstate(invalid="ignore"):
                    acc[i]["diff"].append(ip - ic)
            done += size
        boot = {i: {k: np.concatenate(v) for k, v in a.items()} for i, a in acc.items() if a["D"]}

    rows = []
    for i, info in enumerate(dim_info):
        n, x, refs, uniques = info["n"], info["x"], info["refs"], info["uniques"]
        has_refs = refs["current"] is not None and refs["proposed"] is not None
        if has_refs:
            d_obs = log_diff(x["current"], x["proposed"], n, refs)
            ic, ip = ratio_pair(x["current"], x["proposed"], n, refs)
        else:
            d_obs = ic = ip = np.full(len(uniques), np.nan)
        se = np.full(len(uniques), np.nan)
        se_diff = np.full(len(uniques), np.nan)
        if has_refs and method == "bootstrap" and i in boot:
            with np.errstate(invalid="ignore"):
                se = np.nanstd(boot[i]["D"], axis=0, ddof=1)
                se_diff = np.nanstd(np.where(np.isfinite(boot[i]["diff"]), boot[i]["diff"], np.nan), axis=0, ddof=1)
        elif has_refs and method == "delta":
            se, se_diff = _delta_se(info["codes"], sel, n, x, refs, ic, ip)
        for j, label in enumerate(uniques):
            reasons = []
            if info["unknown"][j]:
                reasons.append("unknown: reported, never the reference or flagged")
            if n[j] < floor_n:
                reasons.append(
                    f"n = {int(n[j])} below the floor of {floor_n}: reported, never the reference or flagged"
                )
            if not has_refs:
                reasons.append(f"no known group reaches the floor of {floor_n}")
            is_ref = has_refs and j in (refs["current"], refs["proposed"]) and refs["current"] == refs["proposed"]
            if is_ref:
                reasons.append("reference group under both weightings")
            testable = bool(info["eligible"][j] and has_refs and not is_ref and np.isfinite(d_obs[j]))
            if testable and se[j] > 0:
                p_low = float(stats.norm.cdf(d_obs[j] / se[j]))
            elif testable:
                # No variability in the change (identical selections in every resample): no evidence of a fall.
                p_low = 1.0 if d_obs[j] >= 0 else 0.0
            else:
                p_low = np.nan
            z = stats.norm.ppf(0.5 + CI_LEVEL / 2)
            change = ip[j] - ic[j]
            rows.append(
                {
                    "dimension": info["dim"],
                    "group": label,
                    "n": int(n[j]),
                    "eligible": bool(info["eligible"][j]),
                    "excluded_small": bool(n[j] < floor_n),
                    "is_unknown": bool(info["unknown"][j]),
                    "floor_n": floor_n,
                    "reason": "; ".join(reasons) if reasons else None,
                    "current_selected": int(x["current"][j]),
                    "current_rate": x["current"][j] / n[j],
                    "current_reference": uniques[refs["current"]] if refs["current"] is not None else None,
                    "current_impact_ratio": float(ic[j]),
                    "proposed_selected": int(x["proposed"][j]),
                    "proposed_rate": x["proposed"][j] / n[j],
                    "proposed_reference": uniques[refs["proposed"]] if refs["proposed"] is not None else None,
                    "proposed_impact_ratio": float(ip[j]),
                    "change": float(change),
                    "change_ci_low": float(change - z * se_diff[j]) if testable else np.nan,
                    "change_ci_high": float(change + z * se_diff[j]) if testable else np.nan,
                    "log_ratio_change": float(d_obs[j]),
                    "log_ratio_se": float(se[j]) if testable else np.nan,
                    "p_lowered": p_low,
                }
            )
    changes = pd.DataFrame(rows)
    changes["p_adjusted"] = adjust_pvalues(changes["p_lowered"].to_numpy(float), change_adjust)
    changes["adjust_method"] = change_adjust
    changes["n_tests"] = int(changes["p_lowered"].notna().sum())
    shown = [
        displayed_change(a, b)
        for a, b in zip(changes["current_impact_ratio"], changes["proposed_impact_ratio"], strict=True)
    ]
    shown_c, shown_p = [item[0] for item in shown], [item[1] for item in shown]
    shown_lower = pd.Series([item[2] for item in shown], index=changes.index)
    changes["lowered"] = (changes["p_adjusted"] < alpha).fillna(False).astype(bool) & shown_lower
    changes["flag"] = changes["lowered"] & (changes["proposed_impact_ratio"] < FOUR_FIFTHS) & changes["eligible"]
    changes["method"] = method
    changes["n_boot"] = n_boot if method == "bootstrap" else 0
    changes["selection_rate"] = selection_rate
    keys, params = [], []
    for row, a, b in zip(changes.to_dict("records"), shown_c, shown_p, strict=True):
        if row["flag"]:
            keys.append(MESSAGE_LOWERED)
            params.append(
                _params_json(
                    {
                        "group": str(row["group"]),
                        "dimension": str(row["dimension"]),
                        "metric": "selection",
                        "from": a,
                        "to": b,
                        "change": fmt_ratio(float(b) - float(a)),
                        "ci_low": fmt_ratio(row["change_ci_low"]),
                        "ci_high": fmt_ratio(row["change_ci_high"]),
                        "p": fmt_p(row["p_adjusted"]),
                        "method": change_adjust,
                        "n": int(row["n"]),
                        "threshold": f"{FOUR_FIFTHS:g}",
                    }
                )
            )
        else:
            keys.append(None)
            params.append(None)
    changes["message_key"] = keys
    changes["message_params"] = params
    changes = changes[GATE_CHANGE_COLUMNS]

    flag_rows = [
        changes[changes["flag"]].assign(kind="lowered", weighting="proposed", metric="selection"),
        impact[impact["flag"] & (impact["weighting"] == "current")].assign(kind="existing_impact"),
    ]
    # A proposed-weights impact row is listed only when nothing above already names that group.
    named = set(zip(flag_rows[0]["dimension"], flag_rows[0]["group"], strict=True)) | set(
        zip(flag_rows[1]["dimension"], flag_rows[1]["group"], strict=True)
    )
    prop = impact[impact["flag"] & (impact["weighting"] == "proposed")]
    prop = prop.loc[
        np.array([(d, g) not in named for d, g in zip(prop["dimension"], prop["group"], strict=True)], bool)
    ]
    flag_rows.append(prop.assign(kind="proposed_impact"))
    flags = pd.concat([f[FLAG_COLUMNS] for f in flag_rows], ignore_index=True)
    return GateChange(
        changes=changes,
        impact=impact,
        flags=flags,
        flagged=bool(changes["flag"].any()),
        existing_impact=bool(impact.loc[impact["weighting"] == "current", "flag"].any()),
    )


def _delta_se(codes, sel, n, x, refs, ic, ip):
    """Delta-method se of D = log IR_p - log IR_c and of IR_p - IR_c per group, cut-offs fixed, groups independent."""
    g = len(n)
    both = np.bincount(codes, weights=(sel["current"] & sel["proposed"]).astype(float), minlength=g)
    with np.errstate(divide="ignore", invalid="ignore"):
        rc, rp = x["current"] / n, x["proposed"] / n
        v_c = (1 - rc) / (n * rc)
        v_p = (1 - rp) / (n * rp)
        cov = (both / n - rc * rp) / (n * rc * rp)
    se = np.full(g, np.nan)
    se_diff = np.full(g, np.nan)
    for j in range(g):
        # D = sum over groups h of a_hp log r_hp + a_hc log r_hc; independent groups add their variances.
        a = {}
        for h, wgt, coef in ((j, "p", 1.0), (j, "c", -1.0), (refs["proposed"], "p", -1.0), (refs["current"], "c", 1.0)):
            a[(h, wgt)] = a.get((h, wgt), 0.0) + coef
        b = {}
        for h, wgt, coef in (
            (j, "p", ip[j]),
            (refs["proposed"], "p", -ip[j]),
            (j, "c", -ic[j]),
            (refs["current"], "c", ic[j]),
        ):
            b[(h, wgt)] = b.get((h, wgt), 0.0) + coef

        def var(coefs):
            total = 0.0
            for h in {k[0] for k in coefs}:
                cp, cc = coefs.get((h, "p"), 0.0), coefs.get((h, "c"), 0.0)
                terms = []
                if cp:
                    terms.append(cp * cp * v_p[h])
                if cc:
                    terms.append(cc * cc * v_c[h])
                if cp and cc:
                    terms.append(2 * cp * cc * cov[h])
                total += sum(terms)
            return total

        with np.errstate(invalid="ignore"):
            se[j] = math.sqrt(max(var(a), 0.0))
            se_diff[j] = math.sqrt(max(var(b), 0.0)) if np.isfinite(var(b)) else np.nan
    return se, se_diff


def threshold_table(
    df: pd.DataFrame,
    score_col: str,
    quantiles: Sequence[float] = tuple(np.round(np.arange(0.05, 1.0, 0.05), 2)),
    group_cols: Sequence[str] = ("sex", "ethnicity"),
    intersection: bool = True,
    min_reference_n: int = REFERENCE_FLOOR_N,
    alpha: float = DEFAULT_ALPHA,
    *,
    min_reference_share: float = REFERENCE_FLOOR_SHARE,
    adjust: str = DEFAULT_ADJUST,
) -> pd.DataFrame:
    """Pass rate and impact ratio (with CI) per group at a grid of score cut-offs, as pymetrics' audit-ai shows.

    Input: one row per candidate with score_col (rows with a missing score are left out) and group_cols.
    At each cut-off quantile q the cut-off score is np.quantile(scores, q) and a candidate passes with
    score >= cut-off (about 1 - q of them pass). Output: cutoff_quantile, cutoff_score, pass_share (share of
    all scored candidates passing), then the rate_table columns with rate = the group's pass rate. Each cut-off
    is its own family for `adjust`: the grid is a view to choose a cut-off, not one decision.
    """
    s = pd.to_numeric(df[score_col], errors="coerce")
    scored = df[s.notna()]
    s = s[s.notna()]
    frames = []
    for q in quantiles:
        cut = float(np.quantile(s.to_numpy(float), q))
        passed = (s >= cut).astype(float)
        t = rate_table(
            scored.assign(_pass=passed),
            "_pass",
            group_cols,
            intersection,
            min_reference_n,
            alpha,
            min_reference_share=min_reference_share,
            adjust=adjust,
            metric="threshold",
        )
        frames.append(t.assign(cutoff_quantile=float(q), cutoff_score=cut, pass_share=float(passed.mean())))
    out = pd.concat(frames, ignore_index=True)
    return out[["cutoff_quantile", "cutoff_score", "pass_share", *RATE_TABLE_COLUMNS]]


def format_flag(message_key: str, message_params: str | Mapping, translate: Callable[..., str]) -> str:
    """The text of one flag row in the reader's language.

    translate: a `t(key, **fmt)` function such as dashboards.i18n.t with the language bound. The metric code in
    the params is shown through its own key (fairness.metric.<code>) so the sentence is wholly translated.
    """
    params = dict(json.loads(message_params) if isinstance(message_params, str) else message_params)
    params["metric"] = translate(METRIC_MESSAGE_PREFIX + str(params.get("metric", "selection")))
    return translate(message_key, **params)


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
    min_group_n: int = REFERENCE_FLOOR_N,
) -> pd.DataFrame:
    """Validity vs adverse impact for each weighting.

    candidates: scored applicants (competencies, group_cols) on which top-k selection is simulated.
    holdout: held-out (newest) hires with the competencies and criterion_col, for out-of-sample validity.
    Output: weighting, holdout_r, holdout_n, min_impact_ratio, min_impact_ratio_group, n_groups_below_four_fifths;
    only eligible groups (known, n >= the reference floor built from min_group_n) enter the minimum, whose noise
    would otherwise decide it.
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
        table = rate_table(
            candidates.assign(_sel=sel.astype(float)), "_sel", group_cols, intersection, min_group_n, adjust=None
        )
        table = table[table["eligible"]].dropna(subset=["impact_ratio"])
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
