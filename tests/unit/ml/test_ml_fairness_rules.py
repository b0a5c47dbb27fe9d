"""Reference floor, Katz intervals, multiplicity, the permutation adjustment and the stratified test, against
statsmodels, hand computations and the recruiting data set."""

import gc
import json
import math

import numpy as np
import pandas as pd
import peopleanalyticsdata as pad
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import StratifiedTable, Table2x2
from statsmodels.stats.multitest import multipletests

from ml.fairness import (
    MESSAGE_ADVERSE_IMPACT,
    RATE_TABLE_COLUMNS,
    adjust_pvalues,
    adverse_impact_table,
    apply_decision_rule,
    impact_ratio_ci,
    rate_table,
    reference_floor,
    simulate_selection,
    threshold_table,
    two_proportion_test,
)


def _rows(groups, col="sex", outcome="hired", extra=None):
    """One row per person from {label: (n_selected, n)}; `extra` adds constant columns."""
    rows = []
    for label, (x, n) in groups.items():
        rows += [{col: label, outcome: int(i < x), **(extra or {})} for i in range(n)]
    return pd.DataFrame(rows)


def test_recruiting_katz_interval_matches_statsmodels_and_hand():
    rec = pad.recruiting()
    row = rate_table(rec, "hired", ["gender"]).set_index("group").loc["F"]
    lo, hi = Table2x2(np.array([[78, 494 - 78], [108, 472 - 108]])).riskratio_confint()
    assert (round(row["ci_low"], 3), round(row["ci_high"], 3)) == (round(lo, 3), round(hi, 3)) == (0.531, 0.897)
    se = math.sqrt(1 / 78 - 1 / 494 + 1 / 108 - 1 / 472)
    assert row["ci_low"] == pytest.approx(math.exp(math.log(0.6900585) - 1.959964 * se), abs=1e-6)
    assert row["ci_method"] == "katz_log"


def test_katz_zero_cell_uses_haldane_correction_on_all_four_cells():
    ratio, lo, hi, method = impact_ratio_ci(0, 20, 10, 40)
    # Cells +0.5: (0.5 / 21) / (10.5 / 41); se = sqrt(1/0.5 - 1/21 + 1/10.5 - 1/41) = 1.42240.
    assert ratio == 0 and method == "katz_log_haldane_0.5"
    assert (round(lo, 4), round(hi, 3)) == (0.0057, 1.510)
    assert np.isnan(impact_ratio_ci(3, 10, 0, 10)[0])


def test_one_sided_tests_match_statsmodels_and_scipy():
    from statsmodels.stats.proportion import proportions_ztest

    assert two_proportion_test(78, 494, 108, 472, alternative="less")[1] == pytest.approx(
        proportions_ztest([78, 108], [494, 472], alternative="smaller")[1]
    )
    name, p = two_proportion_test(1, 6, 5, 6, alternative="less")
    assert name == "fisher_exact"
    assert p == pytest.approx(stats.fisher_exact([[1, 5], [5, 1]], alternative="less").pvalue)


def test_reference_floor_is_max_of_absolute_and_share():
    assert reference_floor(1000) == 30 and reference_floor(1500) == 30 and reference_floor(1501) == 31
    assert reference_floor(2000) == 40 and reference_floor(50, 30, 0.02) == 30
    assert reference_floor(2000, min_n=5, min_share=0.0) == 5


def test_small_groups_are_listed_excluded_and_never_the_reference():
    # 2,000 scored: floor = max(30, 2% of 2,000) = 40. nonbinary (35, rate .6) and unknown (65, rate .7) have
    # the highest rates but may not be the reference; men (rate .25) are.
    df = _rows({"female": (200, 1000), "male": (225, 900), "nonbinary": (21, 35), "": (45, 65)})
    out = rate_table(df, "hired", ["sex"], intersection=False).set_index("group")
    assert out["floor_n"].iloc[0] == 40 and (out["reference_group"] == "male").all()
    assert out["n"].sum() == 2000 and set(out.index) == {"female", "male", "nonbinary", "unknown"}
    nb, unk = out.loc["nonbinary"], out.loc["unknown"]
    assert nb["excluded_small"] and not nb["eligible"] and not nb["flag"] and nb["n"] == 35
    assert "n = 35 below the floor of 40 (max of 30 and 2% of 2000)" in nb["reason"]
    assert nb["impact_ratio"] == pytest.approx(0.6 / 0.25)
    assert unk["is_unknown"] and not unk["eligible"] and unk["reason"].startswith("unknown: reported")
    assert out.loc["female", "impact_ratio"] == pytest.approx(0.2 / 0.25) and out.loc["female", "eligible"]
    # Without the share floor nonbinary (35 >= 30) is the highest-rate eligible group.
    loose = rate_table(df, "hired", ["sex"], intersection=False, min_reference_share=0.0)
    assert (loose["reference_group"] == "nonbinary").all()
    assert list(out.reset_index().columns) == ["group", *[c for c in RATE_TABLE_COLUMNS if c != "group"]]


def test_intersections_keep_every_cell_with_counts():
    rng = np.random.default_rng(3)
    n = 900
    df = pd.DataFrame(
        {
            "sex": rng.choice(["female", "male", "nonbinary", ""], n, p=[0.47, 0.47, 0.015, 0.045]),
            "ethnicity": rng.choice(["asian", "white", "black", ""], n, p=[0.2, 0.4, 0.05, 0.35]),
            "hired": (rng.random(n) < 0.25).astype(int),
        }
    )
    out = rate_table(df, "hired")
    inter = out[out["dimension"] == "sex × ethnicity"]
    direct = df.assign(sex=df["sex"].replace("", "unknown"), ethnicity=df["ethnicity"].replace("", "unknown"))
    cells = direct.groupby(["sex", "ethnicity"]).size()
    assert len(inter) == len(cells) and inter["n"].sum() == n
    for (sx, eth), size in cells.items():
        row = inter[inter["group"] == f"{sx} × {eth}"].iloc[0]
        assert row["n"] == size
        assert row["excluded_small"] == (size < 30)
        assert row["eligible"] == (size >= 30 and "unknown" not in (sx, eth))
    assert not inter.loc[~inter["eligible"], "flag"].any()


@pytest.fixture
def no_gc_collect(monkeypatch):
    """multipletests' Holm branch calls gc.collect(), about 0.5 s per call in a test process with pandas,
    scipy and statsmodels loaded; the values do not depend on it."""
    monkeypatch.setattr(gc, "collect", lambda *a: 0)


def test_holm_and_bh_match_statsmodels(no_gc_collect):
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = rng.random(rng.integers(1, 40)) ** 3
        assert np.allclose(adjust_pvalues(p, "holm"), multipletests(p, method="holm")[1])
        assert np.allclose(adjust_pvalues(p, "bh"), multipletests(p, method="fdr_bh")[1])
        assert np.allclose(adjust_pvalues(p, "bonferroni"), multipletests(p, method="bonferroni")[1])
    with_nan = adjust_pvalues([0.01, np.nan, 0.04], "holm")
    assert np.isnan(with_nan[1]) and np.allclose(with_nan[[0, 2]], multipletests([0.01, 0.04], method="holm")[1])


def test_decision_rule_holm_over_the_family(no_gc_collect):
    df = _rows({"a": (30, 100), "b": (50, 100), "c": (42, 100), "d": (20, 100)})
    out = rate_table(df, "hired", ["sex"], intersection=False, adjust="holm").set_index("group")
    tested = out.drop(index="b")
    assert np.allclose(tested["p_adjusted"], multipletests(tested["p_test"], method="holm")[1])
    assert (out["n_tests"] == 3).all() and (out["adjust_method"] == "holm").all()
    # a: ratio .6, p_adj < .05 -> flag; c: ratio .84 -> never; d: ratio .4 -> flag.
    assert out.loc["a", "flag"] and out.loc["d", "flag"] and not out.loc["c", "flag"] and not out.loc["b", "flag"]
    params = json.loads(out.loc["d", "message_params"])
    assert out.loc["d", "message_key"] == MESSAGE_ADVERSE_IMPACT
    assert params["ratio"] == "0.40" and params["reference"] == "b" and params["n"] == 100
    assert params["method"] == "holm" and params["metric"] == "selection" and params["threshold"] == "0.8"
    assert out.loc["c", "message_key"] is None
    again = apply_decision_rule(out.reset_index(), "bh")
    assert np.allclose(
        again.set_index("group").drop(index="b")["p_adjusted"], multipletests(tested["p_test"], method="fdr_bh")[1]
    )


def test_permutation_p_of_the_lower_of_two_groups_is_two_sided():
    # With two groups the reference is whichever is higher, so "women below men" is chosen after looking: the
    # permutation p of the lower group is P(|z| >= 2.794) over the hypergeometric permutation distribution
    # (.0055), about the two-sided z p (.0052), not the one-sided .0026 a fixed reference would give.
    rec = pad.recruiting()
    x = np.arange(0, 187)
    pmf = stats.hypergeom.pmf(x, 966, 186, 494)
    pooled = 186 / 966
    z = (x / 494 - (186 - x) / 472) / np.sqrt(pooled * (1 - pooled) * (1 / 494 + 1 / 472))
    exact = pmf[np.abs(z) >= 2.7943498 - 1e-9].sum()
    assert exact == pytest.approx(0.00552, abs=1e-5)
    maxt = rate_table(rec, "hired", ["gender"], n_perm=50000, adjust="maxT").set_index("group").loc["F"]
    # Monte Carlo SE at 50,000 permutations: sqrt(.0055 / 50000) = .00033.
    assert maxt["p_test"] == pytest.approx(0.0026, abs=1e-4)
    assert maxt["p_adjusted"] == pytest.approx(exact, abs=0.0012)
    row = rate_table(rec, "hired", ["gender"]).set_index("group").loc["F"]
    assert row["adjust_method"] == "minP" and row["p_adjusted"] < 0.05 and row["flag"]


def test_permutation_is_reproducible_and_stratified_permutation_respects_strata():
    # Requisition A hires 10%, B 50%; women are 80% of A's applicants, men 80% of B's; within each
    # requisition hiring ignores sex. Pooled, women's ratio is far below .8; within requisitions there is nothing.
    rows = []
    for req, sex, hired, n in (
        ("A", "female", 32, 320),
        ("A", "male", 8, 80),
        ("B", "female", 40, 80),
        ("B", "male", 160, 320),
    ):
        rows += [{"req": req, "sex": sex, "ethnicity": "x", "hired": int(i < hired)} for i in range(n)]
    df = pd.DataFrame(rows)
    pooled = rate_table(df, "hired", ["sex"], intersection=False, seed=1).set_index("group").loc["female"]
    again = rate_table(df, "hired", ["sex"], intersection=False, seed=1).set_index("group").loc["female"]
    assert pooled["p_adjusted"] == again["p_adjusted"]
    assert pooled["impact_ratio"] < 0.5 and pooled["p_adjusted"] < 0.001 and pooled["flag"]
    strat = rate_table(df, "hired", ["sex"], intersection=False, strata_col="req").set_index("group").loc["female"]
    assert strat["p_adjusted"] > 0.5 and not strat["flag"]
    assert strat["cmh_odds_ratio"] == pytest.approx(1.0) and not strat["simpson_warning"]


def test_cmh_matches_statsmodels_and_flags_simpsons_paradox():
    # Women apply mostly to the selective requisition A; within each requisition they are hired more often.
    a = _rows({"F": (16, 80), "M": (3, 20)}, extra={"req": "A"})
    b = _rows({"F": (12, 20), "M": (44, 80)}, extra={"req": "B"})
    df = pd.concat([a, b], ignore_index=True)
    row = rate_table(df, "hired", ["sex"], intersection=False, strata_col="req").set_index("group").loc["F"]
    st = StratifiedTable([np.array([[16, 64], [3, 17]]), np.array([[12, 8], [44, 36]])])
    # Mantel-Haenszel by hand: sum(a d / n) / sum(b c / n) = (16*17/100 + 12*36/100) / (64*3/100 + 8*44/100).
    assert round(row["cmh_odds_ratio"], 3) == round((2.72 + 4.32) / (1.92 + 3.52), 3) == 1.294
    assert round(row["cmh_odds_ratio"], 3) == round(st.oddsratio_pooled, 3)
    assert round(row["cmh_p"], 3) == round(st.test_null_odds(correction=True).pvalue, 3) == 0.665
    assert round(row["breslow_day_p"], 3) == round(st.test_equal_odds().pvalue, 3)
    lo, hi = st.oddsratio_pooled_confint()
    assert (round(row["cmh_ci_low"], 3), round(row["cmh_ci_high"], 3)) == (round(lo, 3), round(hi, 3))
    # Pooled: 28/100 vs 47/100, ratio .60 and significant; stratified: odds ratio 1.29 the other way.
    assert row["impact_ratio"] == pytest.approx(0.28 / 0.47) and row["p_value"] < 0.01
    assert row["simpson_warning"] and row["n_strata"] == 2
    plain = rate_table(df, "hired", ["sex"], intersection=False).set_index("group").loc["F"]
    assert np.isnan(plain["cmh_p"]) and not plain["simpson_warning"]


def test_adverse_impact_table_is_one_family_over_both_metrics(no_gc_collect):
    rng = np.random.default_rng(11)
    n = 800
    df = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "ethnicity": rng.choice(["a", "b"], n)})
    df["composite"] = rng.normal(size=n) - 0.4 * (df["sex"] == "female")
    df["hired"] = simulate_selection(df["composite"], 0.25).astype(int)
    out = adverse_impact_table(df, adjust="holm")
    tested = out[out["eligible"] & (out["group"] != out["reference_group"])]
    assert set(out["metric"]) == {"selection", "scoring"} and (out["n_tests"] == len(tested)).all()
    assert np.allclose(tested["p_adjusted"], multipletests(tested["p_test"], method="holm")[1])
    female = out[(out["dimension"] == "sex") & (out["group"] == "female")].set_index("metric")
    assert female.loc["selection", "flag"]
    assert json.loads(female.loc["scoring", "message_params"] or "{}").get("metric", "scoring") == "scoring"


def test_threshold_table_against_direct_pass_rates():
    rng = np.random.default_rng(2)
    n = 1000
    df = pd.DataFrame({"sex": rng.choice(["female", "male"], n), "ethnicity": "x"})
    df["composite"] = rng.normal(size=n) - 0.3 * (df["sex"] == "female")
    out = threshold_table(df, "composite", quantiles=(0.5, 0.75), intersection=False, group_cols=["sex"])
    for q in (0.5, 0.75):
        cut = np.quantile(df["composite"], q)
        passed = df["composite"] >= cut
        rates = passed.groupby(df["sex"]).mean()
        rows = out[out["cutoff_quantile"] == q].set_index("group")
        assert rows.loc["female", "rate"] == pytest.approx(rates["female"])
        assert rows.loc["female", "impact_ratio"] == pytest.approx(rates["female"] / rates["male"])
        x_f, n_f = passed[df["sex"] == "female"].sum(), (df["sex"] == "female").sum()
        x_m, n_m = passed[df["sex"] == "male"].sum(), (df["sex"] == "male").sum()
        assert rows.loc["female", "ci_low"] == pytest.approx(impact_ratio_ci(x_f, n_f, x_m, n_m)[1])
        assert rows["pass_share"].iloc[0] == pytest.approx(passed.mean())
    # A stricter cut-off widens the gap.
    by_q = out[out["group"] == "female"].set_index("cutoff_quantile")["impact_ratio"]
    assert by_q[0.75] < by_q[0.5]


def test_simulate_selection_within_strata_takes_top_k_per_stratum():
    comp = np.array([5.0, 1.0, 3.0, 2.0, 9.0, 8.0, 7.0, 6.0])
    strata = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
    assert simulate_selection(comp, 0.5, strata).tolist() == [True, False, True, False, True, True, False, False]
    # Ties within a stratum resolve by row order; missing composites last.
    tied = simulate_selection([1.0, 1.0, np.nan, 1.0], 0.5, ["s"] * 4)
    assert tied.tolist() == [True, True, False, False]
