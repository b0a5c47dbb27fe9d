"""Kaplan-Meier and Cox models against hand calculation, statsmodels PHReg and planted hazard ratios."""

import numpy as np
import pandas as pd
import peopleanalyticsdata as pad
import pytest
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from ml.survival import exit_durations, fit_cox, heldout_concordance, kaplan_meier_by_band, score_bands

JOB_RETENTION_COVARIATES = ["gender", "field", "level", "sentiment"]
JOB_RETENTION_CATEGORICAL = ["gender", "field", "level"]


def test_cox_matches_statsmodels_phreg_on_job_retention():
    data = pad.job_retention()
    res = fit_cox(data, "month", "left", JOB_RETENTION_COVARIATES, JOB_RETENTION_CATEGORICAL)
    assert res.status == "ok" and res.n == 3770 and res.n_events == int(data["left"].sum())
    hr = res.hazard_ratios.set_index("term")
    # Independent design and fit: statsmodels PHReg with Efron ties (lifelines' method) on the same dummies.
    X = pd.get_dummies(data[JOB_RETENTION_CATEGORICAL], drop_first=True, prefix_sep="=", dtype=float)
    X["sentiment"] = data["sentiment"].astype(float)
    ref = PHReg(data["month"].to_numpy(), X.to_numpy(), status=data["left"].to_numpy(), ties="efron").fit()
    for term, coef, se in zip(X.columns, ref.params, ref.bse, strict=True):
        assert hr.loc[term, "coef"] == pytest.approx(coef, abs=5e-4), term
        assert hr.loc[term, "se"] == pytest.approx(se, abs=5e-4), term
        assert hr.loc[term, "hazard_ratio"] == pytest.approx(np.exp(coef), abs=5e-4), term
    # Handbook of Regression Modeling in People Analytics (McNulty), survival chapter: sentiment HR ~ .889.
    assert hr.loc["sentiment", "hazard_ratio"] == pytest.approx(0.889, abs=1e-3)
    assert set(res.ph_test["term"]) == set(X.columns)
    assert res.ph_test["p_value"].between(0, 1).all()
    assert 0.5 < res.concordance_train < 0.7


def _simulate_exits(seed, n=400, log_hr_score=np.log(0.7), log_hr_remote=np.log(2.0)):
    """Voluntary and involuntary exits as independent exponential times; hires spread over two years."""
    rng = np.random.default_rng(seed)
    score = rng.normal(size=n)
    remote = rng.integers(0, 2, n)
    base = 1 / 700  # per day: median voluntary tenure about 16 months at average covariates
    t_vol = rng.exponential(1 / (base * np.exp(log_hr_score * score + log_hr_remote * remote)))
    # Involuntary exits depend on the score too: censoring them must still leave the voluntary HR unbiased.
    t_inv = rng.exponential(1 / (base / 3 * np.exp(-0.5 * score)))
    hire = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    t_exit = np.minimum(t_vol, t_inv)
    term_date = hire + pd.to_timedelta(np.ceil(t_exit), unit="D")
    return pd.DataFrame(
        {
            "hire_date": hire,
            "score": score,
            "remote": remote,
            "termination_date": term_date,
            "termination_type": np.where(t_vol < t_inv, "voluntary", "involuntary"),
        }
    )


def test_planted_hazard_ratios_within_ci_in_most_seeds():
    seeds = range(20)
    covered = {"score": 0, "remote": 0}
    truth = {"score": 0.7, "remote": 2.0}
    for seed in seeds:
        df = exit_durations(_simulate_exits(seed), as_of="2023-06-30")
        hr = fit_cox(df, covariates=["score", "remote"]).hazard_ratios.set_index("term")
        for term, value in truth.items():
            covered[term] += hr.loc[term, "ci_low"] <= value <= hr.loc[term, "ci_high"]
    rates = {term: hits / len(seeds) for term, hits in covered.items()}
    # Measured with these seeds: 18/20 (90%) for score and 18/20 (90%) for remote, nominal 95%.
    assert rates["score"] >= 0.8 and rates["remote"] >= 0.8, rates


def test_exit_durations_censoring_rules():
    hires = pd.DataFrame(
        {
            "hire_date": ["2022-01-01", "2022-01-01", "2022-01-01", "2022-01-01", "2022-01-01", "2022-03-01", None],
            "termination_date": ["2022-03-02", "2022-02-01", None, "2023-05-01", "2022-01-11", "2022-02-01", None],
            "termination_type": ["voluntary", "involuntary", None, "voluntary", None, "voluntary", None],
        }
    )
    out = exit_durations(hires, as_of="2023-01-01")
    assert out["event"].tolist() == [1, 0, 0, 0, 0, 0, 0]
    assert out["duration_days"].iloc[:5].tolist() == [60.0, 31.0, 365.0, 365.0, 10.0]
    assert np.isnan(out["duration_days"].iloc[5]) and out["reason"].iloc[5] == "termination before hire date"
    assert np.isnan(out["duration_days"].iloc[6]) and out["reason"].iloc[6] == "hire date missing"
    assert out["reason"].iloc[4] == "exit type missing; censored at exit date"


def test_kaplan_meier_against_hand_calculation_and_statsmodels():
    df = pd.DataFrame({"duration_days": [1, 2, 2, 3, 4, 5], "event": [1, 1, 0, 1, 0, 1], "score_band": "high"})
    km = kaplan_meier_by_band(df).set_index("time")
    # S(1) = 5/6; S(2) = 5/6 * 4/5; S(3) = 2/3 * 2/3; S(4) unchanged (censored); S(5) = 0.
    np.testing.assert_allclose(km["survival"], [1, 5 / 6, 2 / 3, 4 / 9, 4 / 9, 0])
    assert km["at_risk"].tolist() == [6, 6, 5, 3, 2, 1]
    assert km["events"].tolist() == [0, 1, 1, 1, 0, 1]
    # Log-log CI from statsmodels' Greenwood SE: theta = log(-log S), se_theta = se / (S |log S|).
    sf = SurvfuncRight(df["duration_days"].to_numpy(float), df["event"].to_numpy())
    z = stats.norm.ppf(0.975)
    for t, s, se in zip(sf.surv_times[:3], sf.surv_prob[:3], sf.surv_prob_se[:3], strict=True):
        theta, se_theta = np.log(-np.log(s)), se / (s * abs(np.log(s)))
        assert km.loc[t, "lower"] == pytest.approx(np.exp(-np.exp(theta + z * se_theta)), abs=1e-6)
        assert km.loc[t, "upper"] == pytest.approx(np.exp(-np.exp(theta - z * se_theta)), abs=1e-6)


def test_kaplan_meier_by_band_handles_missing_bands_and_durations():
    df = pd.DataFrame({"duration_days": [1, 2, np.nan, 4], "event": [1, 0, 1, 1], "score_band": ["a", None, "a", "a"]})
    km = kaplan_meier_by_band(df)
    assert set(km["band"]) == {"a", "unknown"}
    assert km.loc[km["band"] == "a", "at_risk"].iloc[0] == 2
    assert kaplan_meier_by_band(df.iloc[:0]).empty


def test_score_bands_equal_counts():
    bands = score_bands([5, 1, 3, np.nan, 2, 6, 4])
    assert bands.tolist() == ["high", "low", "medium", "unknown", "low", "high", "medium"]


def test_heldout_concordance_fits_on_older_hires_only():
    df = exit_durations(_simulate_exits(0, n=600, log_hr_score=np.log(0.4)), as_of="2023-06-30")
    out = heldout_concordance(df, covariates=["score", "remote"], test_fraction=0.25)
    assert out["n_train"] + out["n_test"] == 600
    dates = pd.to_datetime(df["hire_date"])
    train = df[dates < out["cutoff"]]
    test = df[dates >= out["cutoff"]]
    assert len(test) == out["n_test"]
    cph = CoxPHFitter().fit(train[["duration_days", "event", "score", "remote"]], "duration_days", "event")
    direct = concordance_index(test["duration_days"], -cph.predict_partial_hazard(test), test["event"])
    assert out["concordance"] == pytest.approx(direct, abs=1e-9)
    assert out["concordance"] > 0.6


def test_cox_without_events_is_not_fitted():
    df = pd.DataFrame({"duration_days": [1.0, 2, 3, 4], "event": 0, "score": [1.0, 2, 3, 4]})
    res = fit_cox(df, covariates=["score"])
    assert res.status == "not_fitted" and "0 events" in res.reason
    assert res.hazard_ratios.empty
