"""gate_change: the paired test of a weight change on the same applicants, its flag rows and their texts."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from dashboards import i18n
from ml.fairness import (
    FLAG_COLUMNS,
    GATE_CHANGE_COLUMNS,
    MESSAGE_EXISTING_IMPACT,
    MESSAGE_KEYS,
    MESSAGE_LOWERED,
    composite_scores,
    displayed_change,
    format_flag,
    gate_change,
    simulate_selection,
)

COMPS = ["x", "y"]


def _pool(seed=0, n=1200, gap_x=1.0, gap_y=0.0, small=0):
    """Women score gap_x SD lower on x and gap_y lower on y; `small` nonbinary applicants score far lower on x."""
    rng = np.random.default_rng(seed)
    # Alternating rows: every requisition of 40 has 20 women and 20 men.
    sex = np.where(np.arange(n) % 2 == 0, "female", "male").astype(object)
    sex[:small] = "nonbinary"
    female = sex == "female"
    return pd.DataFrame(
        {
            "sex": sex,
            "ethnicity": "white",
            "x": rng.normal(size=n) - gap_x * female - 3.0 * (sex == "nonbinary"),
            "y": rng.normal(size=n) - gap_y * female,
            "req": np.repeat(np.arange(n // 40), 40),
        }
    )


def _row(changes, group, dimension="sex"):
    return changes[(changes["dimension"] == dimension) & (changes["group"] == group)].iloc[0]


def test_real_lowering_is_flagged_with_a_message_key_and_the_reverse_is_not():
    pool = _pool()
    res = gate_change(pool, {"x": 0.2, "y": 0.8}, {"x": 0.8, "y": 0.2}, COMPS, 0.25, n_boot=200, seed=1)
    assert list(res.changes.columns) == GATE_CHANGE_COLUMNS and list(res.flags.columns) == FLAG_COLUMNS
    f = _row(res.changes, "female")
    sel_c = simulate_selection(composite_scores(pool, {"x": 0.2, "y": 0.8}, COMPS), 0.25)
    rates = pd.Series(sel_c).groupby(pool["sex"]).mean()
    assert f["current_impact_ratio"] == pytest.approx(rates["female"] / rates["male"])
    assert f["proposed_impact_ratio"] < 0.8 and f["p_adjusted"] < 0.001 and f["lowered"] and f["flag"]
    assert res.flagged and f["message_key"] == MESSAGE_LOWERED
    params = json.loads(f["message_params"])
    assert params["from"] == f"{f['current_impact_ratio']:.2f}" and params["to"] == f"{f['proposed_impact_ratio']:.2f}"
    assert float(params["to"]) < float(params["from"]) and params["n"] == 600 and params["metric"] == "selection"
    assert f["change_ci_low"] < f["change"] < f["change_ci_high"] < 0
    assert set(res.flags.loc[res.flags["kind"] == "lowered", "group"]) == {"female", "female × white"}
    back = gate_change(pool, {"x": 0.8, "y": 0.2}, {"x": 0.2, "y": 0.8}, COMPS, 0.25, n_boot=200, seed=1)
    assert not back.flagged and not back.changes["flag"].any()
    # Under the current weights of the reverse move women already fall below four-fifths: reported, not hidden.
    assert back.existing_impact and (back.flags["kind"] == "existing_impact").any()
    assert back.flags.loc[back.flags["kind"] == "existing_impact", "message_key"].eq(MESSAGE_EXISTING_IMPACT).all()


def test_identical_weights_change_nothing_and_flag_nothing():
    pool = _pool(seed=2)
    w = {"x": 0.5, "y": 0.5}
    res = gate_change(pool, w, w, COMPS, 0.25, n_boot=50)
    tested = res.changes[res.changes["p_lowered"].notna()]
    assert (res.changes["change"].fillna(0) == 0).all() and (tested["p_lowered"] == 1.0).all()
    assert not res.flagged


def test_existing_impact_without_a_change_is_reported_but_not_a_lowering():
    # Women are lower on both x and y: every weighting shows impact; swapping nothing that matters is no lowering.
    pool = _pool(seed=3, gap_x=0.6, gap_y=0.6)
    res = gate_change(pool, {"x": 0.5, "y": 0.5}, {"x": 0.55, "y": 0.45}, COMPS, 0.25, n_boot=200, seed=2)
    f = _row(res.changes, "female")
    assert f["current_impact_ratio"] < 0.8 and f["proposed_impact_ratio"] < 0.8
    assert not f["flag"] and not res.flagged
    assert res.existing_impact
    kinds = set(res.flags["kind"])
    assert "existing_impact" in kinds and "lowered" not in kinds
    impact = res.impact[(res.impact["weighting"] == "current") & (res.impact["group"] == "female")].iloc[0]
    assert impact["flag"] and impact["message_key"] == MESSAGE_EXISTING_IMPACT


def test_a_small_cell_never_flags_however_far_it_falls():
    # 12 nonbinary applicants lose every selection under the proposal: excluded_small, reported, not flagged.
    pool = _pool(seed=4, gap_x=0.0, small=12)
    res = gate_change(pool, {"x": 0.0, "y": 1.0}, {"x": 1.0, "y": 0.0}, COMPS, 0.25, n_boot=100)
    nb = _row(res.changes, "nonbinary")
    assert nb["proposed_selected"] == 0 and nb["excluded_small"] and not nb["eligible"]
    assert np.isnan(nb["p_lowered"]) and not nb["flag"] and "below the floor of 30" in nb["reason"]
    assert not res.flagged


def test_delta_method_variance_by_hand_and_close_to_the_bootstrap():
    pool = _pool(seed=5, n=2000)
    cur, prop = {"x": 0.3, "y": 0.7}, {"x": 0.5, "y": 0.5}
    delta = _row(gate_change(pool, cur, prop, COMPS, 0.25, method="delta").changes, "female")
    s_c = simulate_selection(composite_scores(pool, cur, COMPS), 0.25)
    s_p = simulate_selection(composite_scores(pool, prop, COMPS), 0.25)
    var = 0.0
    for group in ("female", "male"):
        g = (pool["sex"] == group).to_numpy()
        n, rc, rp, both = g.sum(), s_c[g].mean(), s_p[g].mean(), (s_c & s_p)[g].mean()
        # Var(log r_p - log r_c) of one group with McNemar's pairing: the shared selections cancel.
        var += (1 - rc) / (n * rc) + (1 - rp) / (n * rp) - 2 * (both - rc * rp) / (n * rc * rp)
    assert delta["log_ratio_se"] == pytest.approx(math.sqrt(var), rel=1e-9)
    expected_d = math.log(s_p[pool["sex"] == "female"].mean() / s_p[pool["sex"] == "male"].mean()) - math.log(
        s_c[pool["sex"] == "female"].mean() / s_c[pool["sex"] == "male"].mean()
    )
    assert delta["log_ratio_change"] == pytest.approx(expected_d)
    boot = _row(gate_change(pool, cur, prop, COMPS, 0.25, n_boot=300, seed=3).changes, "female")
    assert boot["log_ratio_change"] == pytest.approx(expected_d)
    assert boot["log_ratio_se"] == pytest.approx(delta["log_ratio_se"], rel=0.25)


def test_selection_within_strata_is_used_for_both_weightings():
    pool = _pool(seed=6)
    cur, prop = {"x": 0.2, "y": 0.8}, {"x": 0.8, "y": 0.2}
    res = gate_change(pool, cur, prop, COMPS, 0.25, strata_col="req", n_boot=100, seed=1)
    sel = simulate_selection(composite_scores(pool, prop, COMPS), 0.25, pool["req"])
    assert pd.Series(sel).groupby(pool["req"]).sum().eq(10).all()
    f = _row(res.changes, "female")
    assert f["proposed_selected"] == sel[pool["sex"] == "female"].sum() and f["flag"]


def test_displayed_change_never_calls_equal_numbers_a_fall():
    assert displayed_change(0.554, 0.546) == ("0.55", "0.55", False)
    assert displayed_change(0.556, 0.544) == ("0.56", "0.54", True)
    assert displayed_change(0.60, 0.70) == ("0.60", "0.70", False)
    assert displayed_change(float("nan"), 0.5)[2] is False


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_flag_key_renders_in_both_languages(lang):
    pool = _pool()
    res = gate_change(pool, {"x": 0.2, "y": 0.8}, {"x": 0.8, "y": 0.2}, COMPS, 0.25, n_boot=50, seed=1)
    back = gate_change(pool, {"x": 0.8, "y": 0.2}, {"x": 0.2, "y": 0.8}, COMPS, 0.25, n_boot=50, seed=1)
    rows = pd.concat([res.flags, back.flags], ignore_index=True)
    assert {MESSAGE_LOWERED, MESSAGE_EXISTING_IMPACT} <= set(rows["message_key"])

    def translate(key, **fmt):
        return i18n.t(key, lang, **fmt)

    for key in MESSAGE_KEYS:
        assert key in i18n.catalogue(lang)
    for row in rows.itertuples():
        text = format_flag(row.message_key, row.message_params, translate)
        params = json.loads(row.message_params)
        assert params["group"] in text and "{" not in text and params["p"] in text
        if row.message_key == MESSAGE_LOWERED:
            assert params["from"] in text and params["to"] in text and params["from"] != params["to"]
    if lang == "zh-CN":
        lowered = rows[rows["message_key"] == MESSAGE_LOWERED].iloc[0]
        assert "录用影响比" in format_flag(lowered.message_key, lowered.message_params, translate)
