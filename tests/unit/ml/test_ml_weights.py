"""Weight recommendation: exact solvers, the criterion, intervals with measured coverage, the gain decision."""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from ml.text_features import ProhibitedFeatureError
from ml.validity import compare_dependent_correlations, lawley_correction
from ml.weights import (
    STATUS_INSUFFICIENT,
    STATUS_KEEP,
    STATUS_RECOMMENDED,
    _kkt_solve,
    apply_change_cap,
    build_criterion,
    criterion_inputs,
    cycles_to_reach,
    decide,
    fit_simplex_weights,
    out_of_sample_folds,
    project_to_capped_simplex,
    recommend_weights,
    recommend_weights_by_group,
    target_weights,
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


def _slsqp(A, b, simplex):
    k = len(b)
    cons = [{"type": "eq", "fun": lambda w: w.sum() - 1.0}] if simplex else []
    best = None
    for start in (np.full(k, 1.0 / k), np.eye(k)[0], np.eye(k)[-1]):
        res = optimize.minimize(
            lambda w: w @ A @ w - 2 * b @ w,
            start,
            method="SLSQP",
            bounds=[(0, None)] * k,
            constraints=cons,
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        if best is None or res.fun < best.fun:
            best = res
    return best.x


def test_exact_solver_matches_slsqp_on_random_problems():
    # An independent solver (SLSQP, three starts) on random convex problems, with and without the simplex.
    rng = np.random.default_rng(0)
    for _ in range(25):
        M = rng.normal(size=(8, 5))
        A = M.T @ M / 8 + 0.01 * np.eye(5)
        b = rng.normal(size=5) * 0.5
        for simplex in (True, False):
            got = _kkt_solve(A, b, simplex)
            ref = _slsqp(A, b, simplex)
            f = lambda w, A=A, b=b: w @ A @ w - 2 * b @ w  # noqa: E731
            assert f(got) <= f(ref) + 1e-9
            np.testing.assert_allclose(got, ref, atol=2e-4)


def test_target_is_nnls_direction_and_penalty_limits():
    df = simulate_hires(500, 4)
    X, y = df[COMPS].to_numpy(), df["rating_6m"].to_numpy()
    w0 = np.array(list(CURRENT.values()))
    beta, _ = optimize.nnls(X - X.mean(0), y - y.mean())
    np.testing.assert_allclose(target_weights(X, y, w0), beta / beta.sum(), atol=1e-8)
    np.testing.assert_allclose(fit_simplex_weights(X, y, w0, 0.0), beta / beta.sum(), atol=1e-8)
    np.testing.assert_allclose(fit_simplex_weights(X, y, w0, 1e6), w0, atol=1e-4)
    # A criterion that every competency predicts negatively gives no direction: the current weights stand.
    np.testing.assert_allclose(fit_simplex_weights(X, -X.sum(1), w0, 0.1), w0)
    np.testing.assert_allclose(target_weights(X, -X.sum(1), w0), w0)


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


def test_cycles_to_reach():
    assert cycles_to_reach([0.62, 0.38], [0.5, 0.5], 0.1) == 2
    assert cycles_to_reach([0.6, 0.4], [0.5, 0.5], 0.1) == 1
    assert cycles_to_reach([0.5, 0.5], [0.5, 0.5], 0.1) == 0


def test_criterion_sign_convention():
    df = pd.DataFrame({"rating_6m": [1.0, 2.0, 3.0], "complaints": [0.0, 0.0, 3.0], "other": [1.0, np.nan, 2.0]})
    crit = build_criterion(df, {"rating_6m": 0.6, "complaints": -0.1})
    # z(rating) = [-1, 0, 1]; z(complaints) = [-.57735, -.57735, 1.1547]
    np.testing.assert_allclose(crit, [-0.6 + 0.057735, 0.057735, 0.6 - 0.11547], atol=1e-6)
    assert build_criterion(df, {"rating_6m": 1.0, "other": 1.0}).isna().tolist() == [False, True, False]


def test_criterion_counts_early_leavers_as_failures():
    hired = pd.Timestamp("2023-01-01")
    df = pd.DataFrame(
        {
            "hire_date": [hired] * 5,
            # left at day 40 (before the 6-month review), left at day 300 (after it), two stayers, one stayer
            # whose review is missing, and nobody with an open window.
            "termination_date": [hired + pd.Timedelta(days=40), hired + pd.Timedelta(days=300), pd.NaT, pd.NaT, pd.NaT],
            "rating_6m": [np.nan, 0.5, 0.75, 1.0, np.nan],
            "retained_12m": [0.0, 0.0, 1.0, 1.0, 1.0],
        }
    )
    vals, counts = criterion_inputs(df, {"rating_6m": 0.6, "retained_12m": 0.4})
    assert vals["rating_6m"].tolist()[:4] == [0.0, 0.5, 0.75, 1.0] and np.isnan(vals["rating_6m"].iloc[4])
    assert counts["n_early_leavers_floored"] == 1 and counts["n_missing_rating"] == 1 and counts["n_complete"] == 4
    excluded, _ = criterion_inputs(df, {"rating_6m": 0.6, "retained_12m": 0.4}, early_leaver_policy="exclude")
    assert excluded["rating_6m"].isna().sum() == 2
    # An open 12-month window is not a failure: the hire is left out, whatever their rating.
    open_window = df.assign(retained_12m=[0.0, 0.0, 1.0, np.nan, 1.0])
    _, counts = criterion_inputs(open_window, {"rating_6m": 0.6, "retained_12m": 0.4})
    assert counts["n_window_incomplete"] == 1 and counts["n_complete"] == 3


def test_recommendation_recovers_planted_optimum_with_honest_target_interval():
    # The planted optimum of corr(Xw, y) on the simplex is beta here. Over 30 seeds at n = 600 the 95% target
    # intervals must cover the interior weights about 95% of the time (binomial 95% range for 90 trials:
    # 0.90-0.99), and the target must sit within .08 of the optimum.
    covered, trials = 0, 0
    for seed in range(30):
        rec = recommend_weights(
            simulate_hires(600, seed), COMPS, {"rating_6m": 1.0}, CURRENT, n_bootstrap=100, seed=seed
        )
        w = rec.weights
        assert np.abs(w["target"].to_numpy() - PLANTED).max() < 0.12
        inside = (w["target_ci_low"] <= PLANTED) & (w["target_ci_high"] >= PLANTED)
        covered += int(inside[:3].sum())
        trials += 3
        assert ((w["ci_low"] <= w["recommended"] + 1e-9) & (w["recommended"] <= w["ci_high"] + 1e-9)).all()
    assert 0.88 <= covered / trials <= 1.0


def test_gain_decision_and_holdout():
    rec = recommend_weights(simulate_hires(1500, 0), COMPS, {"rating_6m": 1.0}, CURRENT, n_bootstrap=0)
    assert rec.status == STATUS_RECOMMENDED, rec.notes
    validity = rec.validity.set_index("weighting")["holdout_r"]
    assert validity["target"] > validity["unit"] and validity["recommended"] > validity["current"]
    assert rec.validity["holdout_n"].iloc[0] >= 0.45 * 1500
    # c0 goes from 0.1 toward ~0.5 at 0.1 a cycle.
    w = rec.weights
    assert rec.cycles_to_target == cycles_to_reach(w["target"], w["current"], 0.1) and rec.cycles_to_target in (4, 5)
    # A criterion unrelated to the scores: nothing beats anything, the answer is to keep the current weights.
    noise = simulate_hires(400, 1).assign(rating_6m=lambda d: np.random.default_rng(5).normal(size=len(d)))
    rec = recommend_weights(noise, COMPS, {"rating_6m": 1.0}, CURRENT, n_bootstrap=0)
    assert rec.status == STATUS_KEEP and rec.recommended() is None and rec.column("target") is not None


def test_decide_rules():
    def comp(weighting, baseline, lo):
        return {
            "weighting": weighting,
            "baseline": baseline,
            "difference": lo + 0.01,
            "ci_low": lo,
            "ci_high": lo + 0.02,
            "beats": lo > 0,
        }

    rows = pd.DataFrame(
        [comp("target", "unit", 0.01), comp("recommended", "current", 0.01), comp("recommended", "unit", -0.05)]
    )
    status, notes = decide(rows, np.array([0.6, 0.4]), np.array([0.5, 0.5]))
    assert status == STATUS_RECOMMENDED and any("unit weights still beat" in n for n in notes)
    rows.loc[0, ["ci_low", "beats"]] = [-0.01, False]
    status, notes = decide(rows, np.array([0.6, 0.4]), np.array([0.5, 0.5]))
    assert status == STATUS_KEEP and "do not beat unit weights" in notes[0]
    assert decide(rows, np.array([0.5, 0.5]), np.array([0.5, 0.5]))[0] == STATUS_KEEP


def test_gate_triggers_on_small_sample():
    df = simulate_hires(60, 0)
    df.loc[:4, "rating_6m"] = np.nan
    rec = recommend_weights(df, COMPS, {"rating_6m": 1.0}, CURRENT, min_hires=100)
    assert rec.status == STATUS_INSUFFICIENT
    assert (rec.n_available, rec.n_needed) == (55, 100)
    assert rec.weights is None and rec.recommended() is None
    frame = rec.to_frame()
    assert frame["status"].iloc[0] == STATUS_INSUFFICIENT and frame["n_available"].iloc[0] == 55


def test_weights_on_simplex_and_change_cap_respected():
    df = simulate_hires(800, 5)
    rec = recommend_weights(df, COMPS, {"rating_6m": 1.0}, CURRENT, max_change=0.05, n_bootstrap=30, seed=3)
    w = rec.weights
    for col in ("estimate", "recommended", "target"):
        assert (w[col] >= -1e-12).all() and w[col].sum() == pytest.approx(1.0, abs=1e-9)
    assert (w["change"].abs() <= 0.05 + 1e-9).all()
    assert w["at_cap"].any()
    for lo, hi in (("ci_low", "ci_high"), ("target_ci_low", "target_ci_high")):
        assert ((w[lo] >= -1e-12) & (w[hi] <= 1 + 1e-12) & (w[lo] <= w[hi])).all()


def test_deterministic_for_a_seed():
    df = simulate_hires(400, 11)
    args = (df, COMPS, {"rating_6m": 1.0}, CURRENT)
    a = recommend_weights(*args, n_bootstrap=40, seed=9)
    b = recommend_weights(*args, n_bootstrap=40, seed=9)
    pd.testing.assert_frame_equal(a.weights, b.weights)
    pd.testing.assert_frame_equal(a.validity, b.validity)
    c = recommend_weights(*args, n_bootstrap=40, seed=10)
    assert not np.allclose(a.weights["target_ci_low"], c.weights["target_ci_low"])


def test_folds_train_strictly_before_test():
    dates = pd.Series(pd.to_datetime("2023-01-01") + pd.to_timedelta([5, 1, 1, 3, 9, 9, 9, 2, 7, 4, 8, 6], unit="D"))
    for folds in (time_ordered_folds(dates, n_splits=3), out_of_sample_folds(dates)):
        assert len(folds) == 3
        for train, test in folds:
            assert dates.iloc[train].max() < dates.iloc[test].min()
    tested = np.concatenate([t for _, t in out_of_sample_folds(dates)])
    assert len(set(tested)) == len(tested) and len(tested) >= 6


def test_zou_interval_covers_and_matches_bootstrap():
    # Coverage of the interval for corr(x1, y) - corr(x2, y) over 300 simulated samples of 200, and its width
    # against a paired bootstrap of the same sample (an independent method).
    rng = np.random.default_rng(1)
    cov = np.array([[1.0, 0.8, 0.5], [0.8, 1.0, 0.35], [0.5, 0.35, 1.0]])  # x1, x2, y
    truth = 0.5 - 0.35
    hits = 0
    for _ in range(300):
        d = rng.multivariate_normal(np.zeros(3), cov, 200)
        r = np.corrcoef(d.T)
        res = compare_dependent_correlations(r[0, 2], r[1, 2], r[0, 1], 200)
        hits += res["ci_low"] <= truth <= res["ci_high"]
    assert 0.92 <= hits / 300 <= 0.98
    boot = []
    for _ in range(2000):
        s = d[rng.integers(0, 200, 200)]
        rb = np.corrcoef(s.T)
        boot.append(rb[0, 2] - rb[1, 2])
    lo, hi = np.quantile(boot, [0.025, 0.975])
    assert res["ci_high"] - res["ci_low"] == pytest.approx(hi - lo, rel=0.15)


def test_lawley_recovers_applicant_validity_under_composite_selection():
    # Select the top 25% on a composite of three predictors plus noise; Lawley's correction of the hires'
    # covariances returns the applicant-pool validities, which the per-predictor Case II does not.
    rng = np.random.default_rng(2)
    n = 200_000
    X = rng.multivariate_normal(np.zeros(3), [[1, 0.3, 0.3], [0.3, 1, 0.3], [0.3, 0.3, 1]], n)
    y = X @ np.array([0.4, 0.1, 0.0]) + rng.normal(0, 0.9, n)
    composite = X.mean(axis=1) + rng.normal(0, 0.1, n)
    hired = composite > np.quantile(composite, 0.75)
    truth = np.array([np.corrcoef(X[:, j], y)[0, 1] for j in range(3)])
    Xh, yh = X[hired], y[hired]
    S_h = np.cov(Xh.T)
    c_h = np.array([np.cov(Xh[:, j], yh)[0, 1] for j in range(3)])
    res = lawley_correction(np.cov(X.T), S_h, c_h, yh.var(ddof=1))
    np.testing.assert_allclose(res["r"], truth, atol=0.01)


def test_by_group_and_prohibited_inputs():
    df = pd.concat([simulate_hires(150, 1).assign(job_family="a"), simulate_hires(50, 2).assign(job_family="b")])
    recs = recommend_weights_by_group(df, COMPS, {"rating_6m": 1.0}, {"a": CURRENT}, n_bootstrap=10)
    assert recs["a"].fitted and recs["b"].status == STATUS_INSUFFICIENT
    with pytest.raises(ProhibitedFeatureError):
        recommend_weights(
            df.rename(columns={"c3": "voice_tone"}),
            ["c0", "voice_tone"],
            {"rating_6m": 1.0},
            {"c0": 0.5, "voice_tone": 0.5},
        )
