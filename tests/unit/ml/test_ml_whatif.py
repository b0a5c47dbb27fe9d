"""The desk's what-if: an edit is scored from the published tables by the same functions as the recommendation."""

import numpy as np
import pandas as pd
import pytest

from ml.pipeline import recommendation_tables
from ml.whatif import evaluate, moments_from_rows
from tests.unit.ml.test_ml_pipeline import COMPS, small_world


@pytest.fixture(scope="module")
def published():
    hires, applicants, weights = small_world(n_applicants=3000, seed=3)
    current = {f: dict.fromkeys(COMPS, 1 / 3) for f in ("alpha", "beta")}
    tables = recommendation_tables(hires, applicants, current, COMPS, "whatif-test", n_bootstrap=10, gate_boot=100)
    pool = applicants[applicants["job_family"] == "alpha"].rename(columns={"gender": "sex"})
    for c in COMPS:
        pool[c] = pool[f"score_{c}"]
    return tables, pool


def test_the_recommended_weights_get_the_published_figures_back(published):
    tables, pool = published
    mine = {name: t[t["recommendation_id"] == "alpha@whatif-test"] for name, t in tables.items()}
    moments = moments_from_rows(mine["recommendation_moments"], COMPS)
    w = mine["recommendation_weights"].set_index("competency_code")
    current = w["current_weight"].to_dict()
    front = mine["tradeoff_front"]
    rate = float(pool["hired"].mean())
    # Fixed weights scored on the published moments equal the holdout figures of the same fixed weights.
    got = evaluate(current, current, COMPS, moments, pool, rate, front, n_boot=50)
    v = mine["recommendation_validity"].set_index("weighting")
    assert got.validity["holdout_r"] == pytest.approx(v.loc["current", "holdout_r"], abs=1e-9)
    assert got.gains["current"]["difference"] == pytest.approx(0.0, abs=1e-12)
    assert not got.flagged
    # An edit that piles weight on the planted driver is valid out of sample and placed against the front.
    edit = {"logical_thinking": 0.8, "communication": 0.2, "teamwork": 0.0}
    res = evaluate(edit, current, COMPS, moments, pool, rate, front, n_boot=50)
    assert res.validity["holdout_r"] > got.validity["holdout_r"]
    assert res.gate is not None and np.isfinite(res.front["min_impact_ratio"])
    assert res.front["dominated"] in (True, False)


def test_an_edit_that_lowers_a_group_is_flagged():
    rng = np.random.default_rng(1)
    n = 1200
    female = np.arange(n) < n // 2
    pool = pd.DataFrame(
        {
            "sex": np.where(female, "female", "male"),
            "ethnicity": "white",
            "x": rng.normal(size=n) - np.where(female, 1.0, 0.0),
            "y": rng.normal(size=n),
        }
    )
    res = evaluate({"x": 0.9, "y": 0.1}, {"x": 0.1, "y": 0.9}, ["x", "y"], {}, pool, 0.25, n_boot=100)
    assert res.flagged
    assert any(f == "fairness.flag.lowered" for f in res.gate.flags["message_key"])
