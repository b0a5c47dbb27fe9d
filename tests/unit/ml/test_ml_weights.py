"""Weight recommendation against planted optima, the evidence gate, the simplex and the change cap."""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from ml.text_features import ProhibitedFeatureError
from ml.weights import (
    apply_change_cap,
    build_criterion,
    fit_simplex_weights,
    project_to_capped_simplex,
    recommend_weights,
    recommend_weights_by_group,
    time_ordered_folds,
)

COMPS = ["c0", "c1", "c2", "c3"]
PLANTED = np.array([0.5, 0.3, 0.2, 0.0])
CURRENT = {"c0": 0.1, "c1": 0.2, "c2": 0.3, "c3": 0.4}


def simulate_hires(n, seed, beta=PLANTED, noise=0.8):
    """Correlated standardised competencies, criterion = X beta + noise, hire dates spread over 30 months."""
    rng = np.random.default_rng(seed)
    k = len(beta)
    cov = np.full((k, k), 0.3)
    np.fill_diagonal(cov, 1.0)
    X = rng.multivariate_normal(np.zeros(k), cov, size=n)
    df = pd.DataFrame(X, columns=COMPS[:k])
    df["rating_6m"] = X @ beta + rng.normal(0, noise, n)
    df["hire_date"] = pd.Timestamp("2022-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 900, n)), unit="D")
    return df


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_planted_optimum_and_beats_current_out_of_sample(seed):
    # The planted optimum of corr(Xw, y) on the simplex is beta / sum(beta) = beta here. Over 30 seeds at
    # n = 1500 the largest absolute error per weight was .072, so .08 is the stated tolerance.
    df = simulate_hires(1500, seed)
    rec = recommend_weights(df, COMPS, {"rating_6m": 1.0}, CURRENT, max_change=1.0, n_bootstrap=0)
    assert rec.status == "ok"
    got = rec.weights["recommended"].to_numpy()
    assert np.abs(got - PLANTED).max() < 0.08
    validity = rec.validity.set_index("weighting")["holdout_r"]
    assert validity["recommended"] >= validity["current"]
    assert validity["recommended"] >= validity["unit"]
    assert rec.validity["holdout_n"].iloc[0] >= 0.19 * 1500


def test_gate_triggers_on_small_sample():
    df = simulate_hires(60, 0)
    df.loc[:4, "rating_6m"] = np.nan
    rec = recommend_weights(df, COMPS, {"rating_6m": 1.0}, CURRENT, min_hires=100)
    assert rec.status == "insufficient_evidence"
    assert (rec.n_available, rec.n_needed) == (55, 100)
    assert rec.weights is None and rec.recommended() is None
    frame = rec.to_frame()
    assert frame["status"].iloc[0] == "insufficient_evidence" and frame["n_available"].iloc[0] == 55


def test_weights_on_simplex_and_change_cap_respected():
    df = simulate_hires(800, 5)
    rec = recommend_weights(df, COMPS, {"rating_6m": 1.0}, CURRENT, max_change=0.05, n_bootstrap=30, seed=3)
    w = rec.weights
    for col in ("estimate", "recommended", "validity_max"):
        assert (w[col] >= -1e-12).all() and w[col].sum() == pytest.approx(1.0, abs=1e-9)
    assert (w["change"].abs() <= 0.05 + 1e-9).all()
    assert w["at_cap"].any()
    assert ((w["ci_low"] >= -1e-12) & (w["ci_high"] <= 1 + 1e-12) & (w["ci_low"] <= w["ci_high"])).all()


def test_deterministic_for_a_seed():
    df = simulate_hires(400, 11)
    args = (df, COMPS, {"rating_6m": 1.0}, CURRENT)
    a = recommend_weights(*args, n_bootstrap=40, seed=9)
    b = recommend_weights(*args, n_bootstrap=40, seed=9)
    pd.testing.assert_frame_equal(a.weights, b.weights)
    pd.testing.assert_frame_equal(a.validity, b.validity)
    c = recommend_weights(*args, n_bootstrap=40, seed=10)
    assert not np.allclose(a.weights["ci_low"], c.weights["ci_low"])


def test_projection_matches_constrained_least_squares():
    rng = np.random.default_rng(0)
    for _ in range(20):
        v = rng.normal(0.25, 0.4, 4)
        current = rng.dirichlet(np.ones(4))
        got = apply_change_cap(v, current, 0.1)
        lo, hi = np.maximum(0, current - 0.1), np.minimum(1, current + 0.1)
        ref = optimize.minimize(
            lambda w, v=v: ((w - v) ** 2).sum(),
            current,
            method="SLSQP",
            bounds=list(zip(lo, hi, strict=True)),
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
            options={"ftol": 1e-14},
        ).x
        np.testing.assert_allclose(got, ref, atol=1e-6)
    assert project_to_capped_simplex([2.0, 0.0], [0, 0], [1, 1]) == pytest.approx([1.0, 0.0])


def test_penalty_limits():
    df = simulate_hires(500, 4)
    X, y = df[COMPS].to_numpy(), df["rating_6m"].to_numpy()
    w0 = np.array(list(CURRENT.values()))
    beta, _ = optimize.nnls(X - X.mean(0), y - y.mean())
    np.testing.assert_allclose(fit_simplex_weights(X, y, w0, 0.0), beta / beta.sum())
    np.testing.assert_allclose(fit_simplex_weights(X, y, w0, 1e6), w0, atol=1e-4)
    # A criterion that every competency predicts negatively leaves NNLS at zero: the current weights stand.
    np.testing.assert_allclose(fit_simplex_weights(X, -X.sum(1), w0, 0.1), w0)


def test_criterion_sign_convention():
    df = pd.DataFrame({"rating_6m": [1.0, 2.0, 3.0], "complaints": [0.0, 0.0, 3.0], "other": [1.0, np.nan, 2.0]})
    crit = build_criterion(df, {"rating_6m": 0.6, "complaints": -0.1})
    # z(rating) = [-1, 0, 1]; z(complaints) = [-.57735, -.57735, 1.1547]
    np.testing.assert_allclose(crit, [-0.6 + 0.057735, 0.057735, 0.6 - 0.11547], atol=1e-6)
    assert build_criterion(df, {"rating_6m": 1.0, "other": 1.0}).isna().tolist() == [False, True, False]


def test_time_ordered_folds_train_strictly_before_test():
    dates = pd.Series(pd.to_datetime("2023-01-01") + pd.to_timedelta([5, 1, 1, 3, 9, 9, 9, 2, 7, 4, 8, 6], unit="D"))
    folds = time_ordered_folds(dates, n_splits=3)
    assert len(folds) == 3
    for train, test in folds:
        assert dates.iloc[train].max() < dates.iloc[test].min()


def test_by_group_and_prohibited_inputs():
    df = pd.concat([simulate_hires(150, 1).assign(job_family="a"), simulate_hires(50, 2).assign(job_family="b")])
    recs = recommend_weights_by_group(df, COMPS, {"rating_6m": 1.0}, {"a": CURRENT}, n_bootstrap=10)
    assert recs["a"].status == "ok" and recs["b"].status == "insufficient_evidence"
    with pytest.raises(ProhibitedFeatureError):
        recommend_weights(
            df.rename(columns={"c3": "voice_tone"}),
            ["c0", "voice_tone"],
            {"rating_6m": 1.0},
            {"c0": 0.5, "voice_tone": 0.5},
        )
