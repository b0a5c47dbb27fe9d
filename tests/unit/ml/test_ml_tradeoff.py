"""The trade-off front: lattice, vectorised impact ratios against the audit's own rate table, Pareto front."""

import numpy as np
import pandas as pd
import pytest

from ml.fairness import rate_table, reference_floor, simulate_selection
from ml.tradeoff import composite_validity, pareto_front, simplex_lattice, tradeoff_front

COMPS = ["a", "b", "c"]


def _pool(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male", ""], n, p=[0.48, 0.48, 0.04])
    eth = rng.choice(["asian", "black", "white", "hispanic_latino", ""], n, p=[0.2, 0.15, 0.4, 0.15, 0.1])
    X = rng.normal(size=(n, 3))
    X[:, 0] -= 0.4 * (eth == "hispanic_latino")  # planted: group lower on competency a
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "sex": sex, "ethnicity": eth})


def test_lattice_covers_the_simplex():
    lat = simplex_lattice(6, 0.1)
    assert lat.shape == (3003, 6)
    assert np.allclose(lat.sum(axis=1), 1) and (lat >= 0).all()
    assert len({tuple(r) for r in lat.round(6)}) == 3003


def test_min_impact_ratio_matches_the_audit_rate_table():
    pool = _pool()
    rate = 0.25
    named = {"heavy_a": {"a": 0.8, "b": 0.1, "c": 0.1}, "no_a": {"a": 0.0, "b": 0.5, "c": 0.5}}
    front = tradeoff_front(pool, COMPS, {}, rate, named, step=0.5).set_index("weighting")
    floor = reference_floor(len(pool))
    for name, w in named.items():
        sel = simulate_selection(pool[COMPS].to_numpy() @ np.array([w[c] for c in COMPS]), rate)
        table = rate_table(pool.assign(sel=sel.astype(float)), "sel", ["sex", "ethnicity"])
        known = table[(table["n"] >= floor) & ~table["group"].str.contains("unknown")].dropna(subset=["impact_ratio"])
        assert front.loc[name, "min_impact_ratio"] == pytest.approx(known["impact_ratio"].min(), abs=1e-9)
    # Weight on the competency where the group is lower lowers its ratio.
    assert front.loc["heavy_a", "min_impact_ratio"] < front.loc["no_a", "min_impact_ratio"]
    assert "hispanic_latino" in front.loc["heavy_a", "min_impact_group"]


def test_validity_from_moments_equals_direct_correlation():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 3))
    y = X @ np.array([0.5, 0.2, 0.0]) + rng.normal(size=500)
    C = np.cov(np.column_stack([X, y]).T)
    W = simplex_lattice(3, 0.25)
    got = composite_validity(W, C[:3, :3], C[:3, 3], C[3, 3])
    direct = [np.corrcoef(X @ w, y)[0, 1] for w in W]
    np.testing.assert_allclose(got, direct, atol=1e-12)


def test_pareto_front_by_brute_force():
    rng = np.random.default_rng(2)
    v, a = rng.random(200), rng.random(200)
    front = pareto_front(v, a)
    for i in range(200):
        dominated = ((v >= v[i]) & (a >= a[i]) & ((v > v[i]) | (a > a[i]))).any()
        assert front[i] == (not dominated)
