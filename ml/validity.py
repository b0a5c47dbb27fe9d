"""Criterion-related validity of interview competencies, corrected for range restriction and criterion unreliability."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ml.text_features import assert_no_prohibited_features

# Viswesvaran, Ones & Schmidt (1996): mean inter-rater reliability of one supervisor's job-performance rating.
SUPERVISOR_RATING_RELIABILITY = 0.52
# The Fisher-z standard error 1/sqrt(n - 3) needs n > 3.
MIN_PAIRS = 4


def fisher_ci(r, n, level: float = 0.95):
    """Confidence interval for Pearson r by the Fisher z transform; returns (low, high)."""
    r = np.asarray(r, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.arctanh(np.clip(r, -1.0, 1.0))
        se = 1.0 / np.sqrt(n - 3.0)
        half = stats.norm.ppf(0.5 + level / 2.0) * se
        return np.tanh(z - half), np.tanh(z + half)


def thorndike_case_ii(r, u):
    """Correct r for direct range restriction: r*u / sqrt(1 + r^2 (u^2 - 1)), u = SD(applicants) / SD(hired)."""
    r = np.asarray(r, dtype=float)
    u = np.asarray(u, dtype=float)
    with np.errstate(invalid="ignore"):
        return r * u / np.sqrt(1.0 + r**2 * (u**2 - 1.0))


def correct_for_criterion_unreliability(r, ryy):
    """Disattenuate r for criterion unreliability, r / sqrt(ryy), capped to [-1, 1]."""
    # With ryy = .52 any observed r above .72 would exceed 1; a correlation cannot, so the cap is the honest value.
    r = np.asarray(r, dtype=float)
    return np.clip(r / np.sqrt(np.asarray(ryy, dtype=float)), -1.0, 1.0)


def operational_validity(r, u, ryy):
    """Correct for criterion unreliability first, then range restriction (Hunter, Schmidt & Le 2006 order)."""
    # ryy is estimated among incumbents, i.e. in the restricted group, so it is applied before Case II.
    return thorndike_case_ii(correct_for_criterion_unreliability(r, ryy), u)


def correlation_with_ci(x, y, level: float = 0.95) -> dict:
    """Pearson r on pairwise-complete pairs with Fisher-z CI and two-sided p: n, r, ci_low, ci_high, p_value, reason."""
    pair = pd.DataFrame(
        {
            "x": pd.to_numeric(pd.Series(x), errors="coerce").to_numpy(),
            "y": pd.to_numeric(pd.Series(y), errors="coerce").to_numpy(),
        }
    ).dropna()
    n = len(pair)
    out = {"n": n, "r": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "reason": None}
    if n < MIN_PAIRS:
        out["reason"] = f"fewer than {MIN_PAIRS} complete pairs"
    elif pair["x"].std(ddof=1) == 0:
        out["reason"] = "zero variance in predictor"
    elif pair["y"].std(ddof=1) == 0:
        out["reason"] = "zero variance in outcome"
    else:
        res = stats.pearsonr(pair["x"], pair["y"])
        lo, hi = fisher_ci(res.statistic, n, level)
        out.update(r=float(res.statistic), ci_low=float(lo), ci_high=float(hi), p_value=float(res.pvalue))
    return out


def range_restriction_ratio(applicant_scores, hired_scores) -> float:
    """u = SD of the predictor in the applicant pool / SD among hires; NaN when either SD is missing or zero."""
    a = pd.to_numeric(pd.Series(applicant_scores), errors="coerce").dropna()
    h = pd.to_numeric(pd.Series(hired_scores), errors="coerce").dropna()
    if len(a) < 2 or len(h) < 2:
        return np.nan
    sd_a, sd_h = a.std(ddof=1), h.std(ddof=1)
    return float(sd_a / sd_h) if sd_a > 0 and sd_h > 0 else np.nan


def validity_table(
    hires: pd.DataFrame,
    applicants: pd.DataFrame,
    competencies: Sequence[str],
    outcomes: Sequence[str],
    group_col: str = "job_family",
    criterion_reliability: Mapping[str, float] | None = None,
    default_reliability: float = SUPERVISOR_RATING_RELIABILITY,
    level: float = 0.95,
) -> pd.DataFrame:
    """Observed and corrected validity per group x competency x outcome.

    hires: one row per hire with group_col, the competency score columns and the outcome columns.
    applicants: one row per scored applicant (hires included) with group_col and the competency columns;
    it supplies the unrestricted SD for u.
    criterion_reliability: ryy per outcome; outcomes not listed get default_reliability (single supervisor
    rating, .52). Pass 1.0 for outcomes recorded without rater error, such as retention.
    Output columns: group_col, competency, outcome, n, r, ci_low, ci_high, p_value, sd_applicants, sd_hired,
    u, ryy, r_range_corrected (+ _ci_low/_ci_high, Case II only), r_operational (+ _ci_low/_ci_high,
    unreliability then Case II), reason. Corrected CI bounds are the observed bounds put through the same
    monotone correction.
    """
    assert_no_prohibited_features(competencies)
    reliability = dict(criterion_reliability or {})
    rows = []
    groups = sorted(set(hires[group_col].dropna()) | set(applicants[group_col].dropna()), key=str)
    for group in groups:
        h = hires[hires[group_col] == group]
        a = applicants[applicants[group_col] == group]
        for comp in competencies:
            for outcome in outcomes:
                res = correlation_with_ci(h[comp], h[outcome], level)
                # u uses hires that have this outcome, so the SD matches the sample r was computed on.
                hired_x = h.loc[h[outcome].notna(), comp]
                u = range_restriction_ratio(a[comp], hired_x)
                ryy = float(reliability.get(outcome, default_reliability))
                reason = res["reason"]
                if reason is None and np.isnan(u):
                    reason = "no applicant-pool or hired SD for range-restriction ratio"
                if reason is None and not 0 < ryy <= 1:
                    reason = "criterion reliability outside (0, 1]"
                    ryy = np.nan
                bounds = np.array([res["r"], res["ci_low"], res["ci_high"]])
                rr = thorndike_case_ii(bounds, u)
                op = operational_validity(bounds, u, ryy)
                rows.append(
                    {
                        group_col: group,
                        "competency": comp,
                        "outcome": outcome,
                        **{k: res[k] for k in ("n", "r", "ci_low", "ci_high", "p_value")},
                        "sd_applicants": pd.to_numeric(a[comp], errors="coerce").std(ddof=1),
                        "sd_hired": pd.to_numeric(hired_x, errors="coerce").std(ddof=1),
                        "u": u,
                        "ryy": ryy,
                        "r_range_corrected": rr[0],
                        "r_range_corrected_ci_low": rr[1],
                        "r_range_corrected_ci_high": rr[2],
                        "r_operational": op[0],
                        "r_operational_ci_low": op[1],
                        "r_operational_ci_high": op[2],
                        "reason": reason,
                    }
                )
    cols = [
        group_col,
        "competency",
        "outcome",
        "n",
        "r",
        "ci_low",
        "ci_high",
        "p_value",
        "sd_applicants",
        "sd_hired",
        "u",
        "ryy",
        "r_range_corrected",
        "r_range_corrected_ci_low",
        "r_range_corrected_ci_high",
        "r_operational",
        "r_operational_ci_low",
        "r_operational_ci_high",
        "reason",
    ]
    return pd.DataFrame(rows, columns=cols)
