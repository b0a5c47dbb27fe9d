"""Validity coefficients and their psychometric corrections against hand-computed values and simulation."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ml.prohibited import ProhibitedFeatureError
from ml.validity import (
    correct_for_criterion_unreliability,
    correlation_with_ci,
    fisher_ci,
    operational_validity,
    range_restriction_ratio,
    thorndike_case_ii,
    validity_table,
)


def test_case_ii_textbook_value():
    # r = .30, u = 1.5: .30*1.5 / sqrt(1 + .09*(2.25 - 1)) = .45 / sqrt(1.1125) = .45 / 1.054751 = .426641
    assert thorndike_case_ii(0.30, 1.5) == pytest.approx(0.426641, abs=1e-6)
    # r = .25, u = 2: .5 / sqrt(1 + .0625*3) = .5 / sqrt(1.1875) = .458831
    assert thorndike_case_ii(0.25, 2.0) == pytest.approx(0.458831, abs=1e-6)


def test_case_ii_identities():
    assert thorndike_case_ii(0.4, 1.0) == pytest.approx(0.4)
    assert thorndike_case_ii(0.0, 1.7) == 0.0
    assert thorndike_case_ii(-0.3, 1.5) == pytest.approx(-0.426641, abs=1e-6)
    assert thorndike_case_ii(0.3, 0.8) < 0.3
    r = np.linspace(-0.95, 0.95, 39)
    assert np.all(np.diff(thorndike_case_ii(r, 1.6)) > 0)


def test_unreliability_correction_textbook_value():
    # .30 / sqrt(.52) = .30 / .721110 = .416025
    assert correct_for_criterion_unreliability(0.30, 0.52) == pytest.approx(0.416025, abs=1e-6)
    assert correct_for_criterion_unreliability(0.80, 0.52) == 1.0
    # Both, in the documented order: .416025 then Case II with u = 1.5:
    # .416025*1.5 / sqrt(1 + .173077*1.25) = .624038 / sqrt(1.216346) = .624038 / 1.102881 = .565825
    assert operational_validity(0.30, 1.5, 0.52) == pytest.approx(0.565825, abs=1e-5)


def test_fisher_ci_matches_scipy():
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = 0.4 * x + rng.normal(size=60)
    res = stats.pearsonr(x, y)
    ci = res.confidence_interval(0.95)
    lo, hi = fisher_ci(res.statistic, 60)
    assert lo == pytest.approx(ci.low, abs=1e-10)
    assert hi == pytest.approx(ci.high, abs=1e-10)
    out = correlation_with_ci(x, y)
    assert out["p_value"] == pytest.approx(res.pvalue)
    assert out["n"] == 60


def _selection_sample(rng, rho, n_pool, select_share, error_sd=0.0):
    x = rng.normal(size=n_pool)
    t = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n_pool)
    y = t + error_sd * rng.normal(size=n_pool)
    hired = x >= np.quantile(x, 1 - select_share)
    applicants = pd.DataFrame({"job_family": "a", "c1": x})
    hires = pd.DataFrame({"job_family": "a", "c1": x[hired], "rating_6m": y[hired]})
    return hires, applicants


def _truncation_variance_ratio(select_share):
    # Variance of a standard normal truncated below at its (1 - share) quantile: 1 + a*lam - lam^2.
    a = stats.norm.ppf(1 - select_share)
    lam = stats.norm.pdf(a) / select_share
    return 1 + a * lam - lam**2


def test_range_restriction_simulation_recovers_population_r():
    rho, share, reps = 0.5, 0.3, 200
    rng = np.random.default_rng(2024)
    observed, corrected = [], []
    for _ in range(reps):
        hires, applicants = _selection_sample(rng, rho, 1000, share)
        row = validity_table(hires, applicants, ["c1"], ["rating_6m"], criterion_reliability={"rating_6m": 1.0})
        observed.append(row["r"].iloc[0])
        corrected.append(row["r_range_corrected"].iloc[0])
    v = _truncation_variance_ratio(share)
    expected_restricted = rho * np.sqrt(v) / np.sqrt(1 - rho**2 + rho**2 * v)  # = .285
    assert np.mean(observed) == pytest.approx(expected_restricted, abs=0.02)
    assert np.mean(corrected) == pytest.approx(rho, abs=0.02)


def test_operational_validity_simulation_with_unreliable_criterion():
    rho, share, error_sd, reps = 0.5, 0.3, 0.8, 200
    v = _truncation_variance_ratio(share)
    var_t_hired = 1 - rho**2 * (1 - v)
    ryy_hired = var_t_hired / (var_t_hired + error_sd**2)  # reliability among incumbents, where ryy is measured
    rng = np.random.default_rng(7)
    corrected = []
    for _ in range(reps):
        hires, applicants = _selection_sample(rng, rho, 1000, share, error_sd)
        row = validity_table(hires, applicants, ["c1"], ["rating_6m"], criterion_reliability={"rating_6m": ryy_hired})
        corrected.append(row["r_operational"].iloc[0])
    assert np.mean(corrected) == pytest.approx(rho, abs=0.03)


def test_validity_table_columns_and_single_predictor_is_case_ii():
    rng = np.random.default_rng(1)
    hires, applicants = _selection_sample(rng, 0.4, 600, 0.4, 0.5)
    out = validity_table(hires, applicants, ["c1"], ["rating_6m"])
    row = out.iloc[0]
    assert row["ryy"] == 0.52
    assert row["u"] == pytest.approx(range_restriction_ratio(applicants["c1"], hires["c1"]))
    # Lawley with one predictor is Thorndike Case II exactly.
    assert row["r_range_corrected"] == pytest.approx(float(thorndike_case_ii(row["r"], row["u"])), abs=1e-9)
    for value, lo, hi in (
        ("r", "ci_low", "ci_high"),
        ("r_range_corrected", "r_range_corrected_ci_low", "r_range_corrected_ci_high"),
        ("r_operational", "r_operational_ci_low", "r_operational_ci_high"),
    ):
        assert row[lo] <= row[value] <= row[hi]
    assert row["r"] < row["r_range_corrected"] < row["r_operational"]
    assert row["reason"] is None and row["correction"].startswith("multivariate")
    assert row["q_value"] == pytest.approx(row["p_value"])


def test_multivariate_correction_covers_applicant_validity_under_composite_selection():
    # Selection on a composite of three competencies: the corrected intervals must cover each competency's
    # applicant-pool validity ~95% of the time (60 seeds x 3 = 180 intervals; binomial 95% range .91-.98).
    beta = np.array([0.45, 0.15, 0.0])
    cov = np.full((3, 3), 0.3) + 0.7 * np.eye(3)
    resid = np.sqrt(1 - beta @ cov @ beta)
    truth = (cov @ beta) / np.sqrt(np.diag(cov))
    hits = trials = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        X = rng.multivariate_normal(np.zeros(3), cov, 1600)
        y = X @ beta + resid * rng.normal(size=1600)
        comp = X.mean(axis=1) + 0.1 * rng.normal(size=1600)
        hired = comp >= np.quantile(comp, 0.75)
        cols = ["c1", "c2", "c3"]
        applicants = pd.DataFrame(X, columns=cols).assign(job_family="a")
        hires = pd.DataFrame(X[hired], columns=cols).assign(job_family="a", rating_6m=y[hired])
        out = validity_table(
            hires, applicants, cols, ["rating_6m"], criterion_reliability={"rating_6m": 1.0}, seed=seed
        )
        inside = (out["r_range_corrected_ci_low"] <= truth) & (truth <= out["r_range_corrected_ci_high"])
        hits += int(inside.sum())
        trials += 3
    assert 0.9 <= hits / trials <= 0.99


def test_validity_table_degenerate_cases_return_reasons():
    hires = pd.DataFrame(
        {
            "job_family": ["a"] * 5 + ["b"] * 3 + ["c"] * 6,
            "c1": [1, 1, 1, 1, 1, 1, 2, 3, 1, 2, 3, 4, 5, 6],
            "rating_6m": [1, 2, 3, 4, 5, 1, 2, 3, 2, 1, 4, 3, 6, np.nan],
        }
    )
    applicants = pd.DataFrame({"job_family": ["a"] * 3 + ["b"] * 3, "c1": [0, 1, 2, 0, 2, 4]})
    out = validity_table(hires, applicants, ["c1"], ["rating_6m"]).set_index("job_family")
    assert np.isnan(out.loc["a", "r"]) and out.loc["a", "reason"] == "zero variance in predictor"
    assert np.isnan(out.loc["b", "r"]) and "fewer than 4" in out.loc["b", "reason"]
    # Family c has no applicant pool: r is reported, the range correction is not.
    assert out.loc["c", "n"] == 5 and np.isfinite(out.loc["c", "r"])
    assert np.isnan(out.loc["c", "r_range_corrected"]) and "applicant-pool" in out.loc["c", "reason"]


def test_validity_table_refuses_prohibited_inputs():
    df = pd.DataFrame({"job_family": ["a"], "facial_expression_score": [1.0], "rating_6m": [1.0]})
    with pytest.raises(ProhibitedFeatureError):
        validity_table(df, df, ["facial_expression_score"], ["rating_6m"])
