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


# 200 resamples put a 95% percentile bound of a corrected validity within about +-.01 of its 2,000-resample value.
DEFAULT_VALIDITY_BOOTSTRAP = 200
CORRECTION_METHOD = "multivariate range restriction (Lawley 1943) on all competencies, then criterion unreliability"


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN."""
    p = np.asarray(p, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if len(ok):
        order = ok[np.argsort(p[ok])]
        m = len(ok)
        ranked = p[order] * m / np.arange(1, m + 1)
        out[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return out


def _corrected(S_app, Xy: np.ndarray, ryy: float) -> tuple[np.ndarray, np.ndarray]:
    """Range-corrected and operational validity of every column of X (Xy = [X, y]) against y."""
    C = np.cov(Xy.T)
    k = C.shape[0] - 1
    res = lawley_correction(S_app, C[:k, :k], C[:k, k], C[k, k])
    # The criterion's error variance is the same among applicants as among hires; only its true variance grows.
    ryy_app = 1.0 - (1.0 - ryy) / res["var_ratio"] if np.isfinite(res["var_ratio"]) and res["var_ratio"] > 0 else ryy
    operational = np.clip(res["r"] / np.sqrt(ryy_app), -1.0, 1.0) if ryy_app > 0 else np.full(k, np.nan)
    return np.clip(res["r"], -1.0, 1.0), operational


def validity_table(
    hires: pd.DataFrame,
    applicants: pd.DataFrame,
    competencies: Sequence[str],
    outcomes: Sequence[str],
    group_col: str = "job_family",
    criterion_reliability: Mapping[str, float] | None = None,
    default_reliability: float = SUPERVISOR_RATING_RELIABILITY,
    level: float = 0.95,
    n_bootstrap: int = DEFAULT_VALIDITY_BOOTSTRAP,
    seed: int = 0,
) -> pd.DataFrame:
    """Observed and corrected validity per group x competency x outcome.

    hires: one row per hire with group_col, the competency score columns and the outcome columns.
    applicants: one row per scored applicant (hires included) with group_col and the competency columns.
    Selection is on the composite of all competencies, so the correction is multivariate (Lawley): the hires'
    covariances of every competency and the outcome are carried to the applicant pool's competency covariance
    at once. With one competency this is Thorndike Case II. Then criterion unreliability (ryy per outcome;
    default .52, a single supervisor rating; pass 1.0 for retention) is corrected at the applicant pool's
    criterion variance. Corrected intervals are percentile bootstraps over hires (seeded).
    Output columns: group_col, competency, outcome, n, r, ci_low, ci_high, p_value, q_value (Benjamini-Hochberg
    over the group's table), significant_bh, sd_applicants, sd_hired, u, ryy, r_range_corrected (+ _ci_low,
    _ci_high), r_operational (+ _ci_low, _ci_high), n_corrected (hires with every competency and the outcome),
    correction, reason.
    """
    assert_no_prohibited_features(competencies)
    competencies = list(competencies)
    reliability = dict(criterion_reliability or {})
    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    rows = []
    groups = sorted(set(hires[group_col].dropna()) | set(applicants[group_col].dropna()), key=str)
    for group in groups:
        h = hires[hires[group_col] == group]
        a = applicants[applicants[group_col] == group]
        pool = a[competencies].apply(pd.to_numeric, errors="coerce").dropna().to_numpy(dtype=float)
        S_app = np.cov(pool.T).reshape(len(competencies), len(competencies)) if len(pool) > 1 else None
        group_rows = []
        for outcome in outcomes:
            ryy = float(reliability.get(outcome, default_reliability))
            Xy = h[[*competencies, outcome]].apply(pd.to_numeric, errors="coerce").dropna().to_numpy(dtype=float)
            m = len(Xy)
            corr_reason = None
            rr = op = np.full(len(competencies), np.nan)
            rr_ci = op_ci = np.full((2, len(competencies)), np.nan)
            if S_app is None or len(pool) <= len(competencies) + 2:
                corr_reason = "no applicant-pool or hired SD for range-restriction ratio"
            elif m <= len(competencies) + 2:
                corr_reason = f"fewer than {len(competencies) + 3} hires with every competency and the outcome"
            elif not 0 < ryy <= 1:
                corr_reason = "criterion reliability outside (0, 1]"
            elif (Xy.std(axis=0) == 0).any():
                corr_reason = "zero variance among hires"
            else:
                rr, op = _corrected(S_app, Xy, ryy)
                if n_bootstrap:
                    boot = np.array([_corrected(S_app, Xy[rng.integers(0, m, m)], ryy) for _ in range(n_bootstrap)])
                    rr_ci = np.nanquantile(boot[:, 0], [alpha, 1 - alpha], axis=0)
                    op_ci = np.nanquantile(boot[:, 1], [alpha, 1 - alpha], axis=0)
            for j, comp in enumerate(competencies):
                res = correlation_with_ci(h[comp], h[outcome], level)
                hired_x = h.loc[h[outcome].notna(), comp]
                u = range_restriction_ratio(a[comp], hired_x)
                reason = res["reason"] or corr_reason
                group_rows.append(
                    {
                        group_col: group,
                        "competency": comp,
                        "outcome": outcome,
                        **{k: res[k] for k in ("n", "r", "ci_low", "ci_high", "p_value")},
                        "sd_applicants": pd.to_numeric(a[comp], errors="coerce").std(ddof=1),
                        "sd_hired": pd.to_numeric(hired_x, errors="coerce").std(ddof=1),
                        "u": u,
                        "ryy": ryy if 0 < ryy <= 1 else np.nan,
                        "r_range_corrected": rr[j],
                        "r_range_corrected_ci_low": rr_ci[0, j],
                        "r_range_corrected_ci_high": rr_ci[1, j],
                        "r_operational": op[j],
                        "r_operational_ci_low": op_ci[0, j],
                        "r_operational_ci_high": op_ci[1, j],
                        "n_corrected": m,
                        "correction": CORRECTION_METHOD if corr_reason is None else None,
                        "reason": reason,
                    }
                )
        q = _bh(np.array([r["p_value"] for r in group_rows], dtype=float))
        for r, qv in zip(group_rows, q, strict=True):
            r["q_value"] = qv
            r["significant_bh"] = bool(qv < 1 - level) if np.isfinite(qv) else False
        rows.extend(group_rows)
    cols = [
        group_col,
        "competency",
        "outcome",
        "n",
        "r",
        "ci_low",
        "ci_high",
        "p_value",
        "q_value",
        "significant_bh",
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
        "n_corrected",
        "correction",
        "reason",
    ]
    return pd.DataFrame(rows, columns=cols)


def _zou_interval(r1: float, r2: float, r12: float, n: int, level: float) -> tuple[float, float]:
    (l1, u1), (l2, u2) = fisher_ci(r1, n, level), fisher_ci(r2, n, level)
    # Correlation between the two estimates (Zou 2007 eq. for overlapping correlations).
    c = ((r12 - 0.5 * r1 * r2) * (1 - r1**2 - r2**2 - r12**2) + r12**3) / ((1 - r1**2) * (1 - r2**2))
    lo = r1 - r2 - np.sqrt(max((r1 - l1) ** 2 + (u2 - r2) ** 2 - 2 * c * (r1 - l1) * (u2 - r2), 0.0))
    hi = r1 - r2 + np.sqrt(max((u1 - r1) ** 2 + (r2 - l2) ** 2 - 2 * c * (u1 - r1) * (r2 - l2), 0.0))
    return float(lo), float(hi)


def compare_dependent_correlations(r1: float, r2: float, r12: float, n: int, level: float = 0.95) -> dict:
    """Compare corr(x1, y) with corr(x2, y) measured on the same n people, where corr(x1, x2) = r12.

    Interval: Zou (2007), built from the two Fisher-z intervals and the correlation between the two estimates;
    p-value: Meng, Rosenthal & Rubin (1992) z test, two-sided. "Does x1 beat x2?" is a one-directional
    question, so `beats` is the one-sided answer at 1 - level: the lower bound of the (2 level - 1) Zou interval
    (`ci_low_one_sided`) is above 0. Returns r, r_baseline, r_between, difference, ci_low, ci_high,
    ci_low_one_sided, p_value, beats.
    """
    out = {"r": r1, "r_baseline": r2, "r_between": r12, "difference": r1 - r2}
    out.update(ci_low=np.nan, ci_high=np.nan, ci_low_one_sided=np.nan, p_value=np.nan, beats=False)
    if not all(np.isfinite(v) for v in (r1, r2, r12)) or n < MIN_PAIRS:
        return out
    if abs(r12) >= 1 - 1e-12:
        # The two composites are the same ranking: there is no difference to test.
        d = r1 - r2
        out.update(ci_low=d, ci_high=d, ci_low_one_sided=d, p_value=1.0 if abs(d) < 1e-12 else 0.0)
        out["beats"] = bool(d > 1e-12)
        return out
    lo, hi = _zou_interval(r1, r2, r12, n, level)
    one_sided, _ = _zou_interval(r1, r2, r12, n, 2 * level - 1)
    rbar2 = (r1**2 + r2**2) / 2
    f = min((1 - r12) / (2 * (1 - rbar2)), 1.0)
    h = (1 - f * rbar2) / (1 - rbar2)
    z = (np.arctanh(r1) - np.arctanh(r2)) * np.sqrt((n - 3) / (2 * (1 - r12) * h))
    out.update(ci_low=lo, ci_high=hi, ci_low_one_sided=one_sided, p_value=float(2 * stats.norm.sf(abs(z))))
    out["beats"] = bool(one_sided > 0)
    return out


def lawley_correction(S_applicants, S_hired, c_hired, var_y_hired: float) -> dict:
    """Multivariate range-restriction correction (Lawley 1943) when selection is on the predictors.

    S_applicants, S_hired: covariance of the predictors in the applicant pool and among hires; c_hired: their
    covariance with the criterion among hires; var_y_hired: the criterion's variance among hires. Selection on
    any function of the predictors (a composite plus noise independent of the criterion) leaves the regression
    of y on X unchanged, so the applicant-pool covariances follow: c_app = S_app B, var_app = var_h + B'(S_app -
    S_h)B with B = S_h^-1 c_h. Returns c, var_y, r (per predictor) and var_ratio = var_app / var_h.
    """
    S_app = np.asarray(S_applicants, dtype=float)
    S_h = np.asarray(S_hired, dtype=float)
    c_h = np.asarray(c_hired, dtype=float)
    B = np.linalg.lstsq(S_h, c_h, rcond=None)[0]
    c_app = S_app @ B
    var_app = float(var_y_hired + B @ (S_app - S_h) @ B)
    sd_x = np.sqrt(np.diag(S_app))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = c_app / (sd_x * np.sqrt(var_app)) if var_app > 0 else np.full(len(c_app), np.nan)
    return {"c": c_app, "var_y": var_app, "r": r, "var_ratio": var_app / var_y_hired if var_y_hired > 0 else np.nan}
