"""Adverse-impact statistics against direct computation, hand-made tables and the recruiting data set."""

import numpy as np
import pandas as pd
import peopleanalyticsdata as pad
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

from ml.fairness import (
    adverse_impact_table,
    candidate_weightings,
    compare_impact,
    composite_scores,
    rate_table,
    simulate_selection,
    tradeoff_table,
    two_proportion_test,
)


def _table(groups):
    """Rows of (sex, ethnicity, selected) expanded from {(sex, ethnicity): (n_selected, n)}."""
    rows = []
    for (sex, eth), (x, n) in groups.items():
        rows += [{"sex": sex, "ethnicity": eth, "hired": int(i < x)} for i in range(n)]
    return pd.DataFrame(rows)


def test_recruiting_hire_rates_by_gender_against_direct_computation():
    rec = pad.recruiting()
    out = rate_table(rec, "hired", ["gender"]).set_index("group")
    direct = rec.groupby("gender")["hired"].agg(["sum", "count"])
    assert out.loc["F", "n"] == direct.loc["F", "count"] == 494
    assert out.loc["F", "n_positive"] == direct.loc["F", "sum"] == 78
    assert out.loc["M", "n_positive"] == 108 and out.loc["M", "n"] == 472
    assert out.loc["F", "reference_group"] == "M"
    expected_ratio = (78 / 494) / (108 / 472)  # .690
    assert out.loc["F", "impact_ratio"] == pytest.approx(expected_ratio)
    assert out.loc["F", "below_four_fifths"]
    _, p_z = proportions_ztest([78, 108], [494, 472])
    assert out.loc["F", "test"] == "two_proportion_z"
    assert out.loc["F", "p_value"] == pytest.approx(p_z)
    assert out.loc["F", "p_value"] == pytest.approx(0.0052, abs=5e-5)
    # Fisher's exact test on the same 2x2 table agrees that the gap is significant.
    assert stats.fisher_exact([[78, 494 - 78], [108, 472 - 108]]).pvalue < 0.01
    assert out.loc["F", "significant"] and np.isnan(out.loc["M", "p_value"])
    # Fisher's exact p on the same table, through two_proportion_test forced to the exact test.
    test, p_fisher = two_proportion_test(78, 494, 108, 472, min_expected=np.inf)
    assert test == "fisher_exact" and p_fisher == pytest.approx(0.0055, abs=5e-5)
    assert round(out.loc["F", "impact_ratio"], 3) == 0.690


def test_hand_table_z_test():
    df = _table({("F", "a"): (30, 100), ("M", "a"): (50, 100)})
    row = rate_table(df, "hired", ["sex"]).set_index("group").loc["F"]
    assert row["impact_ratio"] == pytest.approx(0.6) and row["below_four_fifths"]
    # pooled p = .4, se = sqrt(.4 * .6 * (1/100 + 1/100)) = .069282, z = .2 / .069282 = 2.886751
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(2.886751), abs=1e-6)
    assert row["p_value"] == pytest.approx(0.003892, abs=1e-5)


def test_small_counts_use_fisher_exact():
    test, p = two_proportion_test(0, 4, 3, 4)
    # Margins: 3 selected of 8, groups of 4. P(0 of 3 in group 1) = P(3 of 3) = C(4,3)/C(8,3) = 4/56.
    assert test == "fisher_exact"
    assert p == pytest.approx(8 / 56)
    df = _table({("F", "a"): (0, 4), ("M", "a"): (3, 4)})
    row = rate_table(df, "hired", ["sex"], min_reference_n=1).set_index("group").loc["F"]
    assert row["test"] == "fisher_exact" and row["p_value"] == pytest.approx(8 / 56)
    assert row["impact_ratio"] == 0 and row["small_group"]


def test_unknown_groups_intersections_and_reference_choice():
    df = _table({("F", "x"): (10, 40), ("M", "x"): (20, 40), ("M", "y"): (3, 3), (None, "y"): (9, 10)})
    out = rate_table(df, "hired", ["sex", "ethnicity"])
    sex = out[out["dimension"] == "sex"].set_index("group")
    assert set(sex.index) == {"F", "M", "unknown"}
    # 'unknown' has the highest rate (.9) but is never the reference.
    assert (sex["reference_group"] == "M").all()
    assert sex.loc["M", "rate"] == pytest.approx(23 / 43)
    inter = out[out["dimension"] == "sex × ethnicity"].set_index("group")
    assert set(inter.index) == {"F × x", "M × x", "M × y", "unknown × y"}
    # 'M × y' has rate 1 but only 3 people, below the minimum reference size of 5.
    assert (inter["reference_group"] == "M × x").all()
    assert inter.loc["F × x", "impact_ratio"] == pytest.approx(0.5)


def test_zero_reference_rate_gives_nan_with_reason():
    df = _table({("F", "a"): (0, 40), ("M", "a"): (0, 40)})
    out = rate_table(df, "hired", ["sex"])
    assert out["impact_ratio"].isna().all()
    assert (out["reason"] == "reference group rate is 0").all()
    assert not out["flag"].any()


def test_no_group_reaches_the_floor_gives_nan_not_a_small_reference():
    # The old rule fell back to the best small group; 10 people cannot be the yardstick.
    df = _table({("F", "a"): (1, 10), ("M", "a"): (5, 10)})
    out = rate_table(df, "hired", ["sex"])
    assert out["reference_group"].isna().all() and out["impact_ratio"].isna().all()
    assert out["reason"].str.contains("no known group reaches the floor of 30").all()
    assert out["n"].tolist() == [10, 10] and out["excluded_small"].all()


def test_scoring_rate_is_share_strictly_above_median():
    df = pd.DataFrame(
        {"sex": ["F"] * 4 + ["M"] * 4, "ethnicity": "a", "hired": 0, "composite": [1, 2, 3, 4, 5, 6, 7, np.nan]}
    )
    out = adverse_impact_table(df, intersection=False)
    scoring = out[(out["metric"] == "scoring") & (out["dimension"] == "sex")].set_index("group")
    # Median of 1..7 is 4; above it: F none of 4, M 3 of 3 scored (the NaN row is left out).
    assert scoring.loc["F", "rate"] == 0 and scoring.loc["M", "rate"] == 1 and scoring.loc["M", "n"] == 3
    assert set(out["metric"]) == {"selection", "scoring"}


def test_simulate_selection_top_k_with_stable_ties():
    sel = simulate_selection([3.0, 5.0, 5.0, np.nan, 1.0], 0.4)
    assert sel.tolist() == [False, True, True, False, False]
    assert simulate_selection([np.nan, 2.0, 2.0], 0.67).tolist() == [False, True, True]


def _applicants(seed=0, n=400):
    rng = np.random.default_rng(seed)
    sex = np.repeat(["F", "M"], n // 2)
    c1 = rng.normal(size=n) - (sex == "F") * 1.0
    c2 = rng.normal(size=n)
    return pd.DataFrame({"sex": sex, "ethnicity": "a", "c1": c1, "c2": c2, "hired": (rng.random(n) < 0.3).astype(int)})


def test_compare_impact_flags_a_recommendation_that_lowers_an_impact_ratio():
    cands = _applicants()
    out = compare_impact(
        cands, {"c1": 0.1, "c2": 0.9}, {"c1": 0.9, "c2": 0.1}, ["c1", "c2"], group_cols=["sex"], intersection=False
    ).set_index("group")
    assert out["selection_rate"].iloc[0] == pytest.approx(cands["hired"].mean())
    assert out.loc["F", "recommended_impact_ratio"] < min(out.loc["F", "current_impact_ratio"], 0.8)
    assert out.loc["F", "below_baseline"] and out.loc["F", "flag"] and not out.loc["M", "flag"]
    sel = simulate_selection(composite_scores(cands, {"c1": 0.9, "c2": 0.1}, ["c1", "c2"]), cands["hired"].mean())
    direct = pd.Series(sel).groupby(cands["sex"]).mean()
    assert out.loc["F", "recommended_impact_ratio"] == pytest.approx(direct["F"] / direct["M"])
    back = compare_impact(
        cands, {"c1": 0.9, "c2": 0.1}, {"c1": 0.1, "c2": 0.9}, ["c1", "c2"], group_cols=["sex"], intersection=False
    )
    assert not back["flag"].any()


def test_tradeoff_table_shows_validity_against_impact():
    cands = _applicants(1)
    rng = np.random.default_rng(2)
    holdout = _applicants(3, 300)
    holdout["criterion"] = holdout["c1"] + rng.normal(size=300)
    weightings = candidate_weightings(
        {"c1": 0.3, "c2": 0.7}, {"c1": 0.4, "c2": 0.6}, {"c1": 1.0, "c2": 0.0}, ["c1", "c2"]
    )
    assert list(weightings) == ["current", "recommended", "unit", "validity_max", "blend_50_validity_max"]
    assert weightings["blend_50_validity_max"] == {"c1": 0.75, "c2": 0.25}
    out = tradeoff_table(
        cands, holdout, weightings, ["c1", "c2"], "criterion", 0.3, group_cols=["sex"], intersection=False
    ).set_index("weighting")
    direct_r = np.corrcoef(composite_scores(holdout, weightings["unit"], ["c1", "c2"]), holdout["criterion"])[0, 1]
    assert out.loc["unit", "holdout_r"] == pytest.approx(direct_r)
    assert out.loc["validity_max", "holdout_r"] > out.loc["unit", "holdout_r"]
    assert out.loc["validity_max", "min_impact_ratio"] < out.loc["unit", "min_impact_ratio"]
    assert out.loc["validity_max", "min_impact_ratio_group"] == "sex=F"
