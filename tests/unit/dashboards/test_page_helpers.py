"""The pages' pure helpers: every text key they use has a translation, <5 cells, the review desk's shaping,
transcript timestamps and the bias-audit export."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboards import audit, queries, review, ui
from dashboards.app_state import DECISIONS, AppState
from dashboards.i18n import catalogue, competency_name, t
from dashboards.talent import STRONG_SCORE, display_tags, timestamp
from ingestion.generator.vocab import COMPETENCIES

DASHBOARDS = Path(__file__).resolve().parents[3] / "dashboards"
# Codes the pages translate with a key built at run time ("<prefix>.<code>").
DYNAMIC = {
    "stage": (*queries.STAGES, "overall"),
    "band": (*queries.SCORE_BANDS, "all"),
    "status": ("ok", "lenient", "severe", "low_agreement", "too_few_interviews"),
    "dimension": (*queries.FUNNEL_DIMENSIONS, *queries.FAIRNESS_DIMENSIONS, "sex_x_ethnicity"),
    "outcome": queries.QOH_OUTCOMES,
    "weighting": ("current", "recommended", "unit"),
    "rec_status": review.STATUSES,
    "desk.weighting": ("current", "unit", "recommended", "validity_max", "blend_50", "edit", "lattice", "front"),
    "desk.method": ("minP", "maxT", "holm", "bh", "bonferroni"),
    "action": DECISIONS,
    "decision": DECISIONS,
    "measure": ("applications", "interviews", "hires"),
    "metric": ("selection", "scoring"),
    "last_outcome": ("rejected", "withdrawn", "screened_out", "offer_declined", "open", "hired"),
    "group": ("female", "male", "nonbinary", "unknown", "asian", "black", "hispanic_latino", "white"),
}


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_key_the_pages_use_is_translated(lang):
    source = "\n".join(p.read_text(encoding="utf-8") for p in DASHBOARDS.rglob("*.py"))
    literal = set(re.findall(r"""\bt\(\s*["']([a-z_0-9]+\.[a-z_0-9.]+)["']""", source))
    assert len(literal) > 100
    keys = catalogue(lang)
    assert sorted(k for k in literal if k not in keys) == []
    dynamic = [f"{prefix}.{code}" for prefix, codes in DYNAMIC.items() for code in codes]
    assert sorted(k for k in dynamic if k not in keys) == []
    # The desk picks its keys at run time ("desk.status.change_at_cap" if ... else ...): every one it names.
    desk = set(re.findall(r"""["'](desk\.[a-z_0-9.]+)["']""", source)) - {"desk.weighting.", "desk.method."}
    assert len(desk) > 50
    assert sorted(k for k in desk if k not in keys) == []


def test_suppressed_cells_read_less_than_five():
    df = pd.DataFrame({"g": ["a", "b"], "n": [12, None], "rate": [0.5, None], "is_suppressed": [False, True]})
    shown = ui.suppressed_view(df, ["n", "rate"])
    assert list(shown["n"]) == [12, "<5"] and list(shown["rate"]) == [0.5, "<5"]
    assert "is_suppressed" not in shown.columns
    cellwise = ui.suppressed_view(pd.DataFrame({"rate": [None, 0.2]}), ["rate"], cellwise=True)
    assert list(cellwise["rate"]) == ["<5", 0.2]
    formatted = ui.display_format(shown)
    assert list(formatted["rate"]) == ["50.0%", "<5"]


def test_timestamps_and_tags():
    assert timestamp(75.4) == "1:15"
    assert timestamp(3725) == "1:02:05"
    assert timestamp(None) == "–"
    assert 0 < STRONG_SCORE < 1

    class Ctx:
        def competency(self, code):
            return code.upper()

    assert display_tags("strong_communication,strong_teamwork", Ctx()) == "COMMUNICATION, TEAMWORK"
    assert display_tags("", Ctx()) == ""


LOWERED = {
    "kind": "lowered",
    "weighting": "recommended",
    "metric": "selection",
    "dimension": "sex",
    "group": "female",
    "message_key": "fairness.flag.lowered",
    "message_params": json.dumps(
        {
            "group": "female",
            "dimension": "sex",
            "metric": "selection",
            "from": "0.86",
            "to": "0.74",
            "change": "-0.12",
            "ci_low": "-0.18",
            "ci_high": "-0.06",
            "p": "0.004",
            "method": "holm",
            "n": 412,
            "threshold": "0.8",
        }
    ),
}
EXISTING = {
    **LOWERED,
    "kind": "existing_impact",
    "weighting": "current",
    "group": "female × black",
    "message_key": "fairness.flag.existing_impact",
    "message_params": json.dumps(
        {
            "group": "female × black",
            "dimension": "sex × ethnicity",
            "metric": "selection",
            "reference": "male × white",
            "ratio": "0.71",
            "ci_low": "0.55",
            "ci_high": "0.92",
            "rate": "0.18",
            "reference_rate": "0.25",
            "threshold": "0.8",
            "p": "0.010",
            "method": "minP",
            "n": 96,
            "n_positive": 17,
        }
    ),
}


def _t(lang: str):
    return lambda key, **fmt: t(key, lang, **fmt)


def _rec(flagged: bool, weights: pd.DataFrame, status: str = "recommended") -> review.Recommendation:
    return review.Recommendation(
        recommendation_id="r1",
        job_family="sales",
        status=status,
        flagged=flagged,
        flags=(LOWERED,) if flagged else (),
        n_hires_with_outcomes=60,
        n_needed=30,
        outcome_mix={},
        effective_from_suggested=dt.date(2000, 1, 1),
        model_version="v",
        fitted_at=None,
        weights=weights,
    )


WEIGHTS = pd.DataFrame(
    {"competency_code": ["a", "b", "c"], "current_weight": [0.4, 0.3, 0.3], "recommended_weight": [0.5, 0.25, 0.2501]}
)


def test_recommended_weights_are_rescaled_only_when_rounding_explains_the_gap():
    rec = _rec(False, WEIGHTS)
    weights = rec.recommended_weights()
    assert abs(sum(weights.values()) - 1) < 1e-12
    far = _rec(False, WEIGHTS.assign(recommended_weight=[0.5, 0.3, 0.3]))
    assert far.recommended_weights() == {"a": 0.5, "b": 0.3, "c": 0.3}
    assert review.default_effective_from(rec, dt.date(2030, 5, 1)) == dt.date(2030, 5, 1)


def test_edit_defaults_sum_to_one_as_typed_and_approve_only_what_was_recommended():
    defaults = review.edit_defaults({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    assert defaults == {"a": 0.334, "b": 0.333, "c": 0.333}
    assert abs(sum(defaults.values()) - 1) < 1e-9
    assert _rec(False, WEIGHTS).decisions() == ("approved", "edited", "rejected")
    assert _rec(False, WEIGHTS, "keep_current").decisions() == ("edited", "rejected")
    assert _rec(False, WEIGHTS, "keep_current").baseline_weights() == _rec(False, WEIGHTS).current_weights()


def test_decide_goes_through_the_store_rules(tmp_path):
    from dashboards.i18n import LocalizedError

    state = AppState(tmp_path / "s.sqlite")
    state.create_user("lead", "a-very-long-password-1", "talent_leader")
    rec = _rec(True, WEIGHTS)
    common = dict(decided_by="lead", t=_t("en"), lang="en", effective_from=dt.date(2100, 1, 1))
    with pytest.raises(LocalizedError, match="acknowledge"):
        review.decide(state, rec, "approved", reason="Approve, the gain is worth it.", **common)
    decision = review.decide(
        state,
        rec,
        "approved",
        reason="The female impact ratio drop is small; we re-check the impact after one quarter.",
        flag_acknowledged=True,
        **common,
    )
    assert decision.weights == rec.recommended_weights()
    assert decision.gate["source"] == "published" and decision.flags == (review.flag_text(LOWERED, _t("en")),)
    with pytest.raises(LocalizedError) as err:
        review.decide(state, rec, "edited", reason="My own weights, judged by nobody.", weights={"a": 1.0}, **common)
    assert err.value.key == "error.edit_not_evaluated"
    rejected = review.decide(
        state, rec, "rejected", reason="Not this cycle: we change the interview guide first.", **common
    )
    assert rejected.weights is None and rejected.effective_from is None and rejected.flagged
    log = review.decision_log(state)
    assert list(log["decision"]) == ["rejected", "approved"]
    assert log.iloc[1]["weights"].startswith("a 0.500")


def test_flags_are_sentences_in_the_readers_language_with_every_code_translated():
    en, zh = review.flag_text(LOWERED, _t("en")), review.flag_text(EXISTING, _t("zh-CN"))
    assert "female (Sex)" in en and "from 0.86 to 0.74" in en and "Holm" in en
    assert "女性 × 非裔" in zh and "男性 × 白人" in zh and "性别 × 族裔" in zh
    assert not re.search(r"[A-Za-z]{3,}", zh.replace("minP", ""))
    groups = review.flag_groups([LOWERED, EXISTING], _t("zh-CN"))
    assert groups == ("female", "女性")
    assert set(review.flag_groups([EXISTING], _t("en"), kinds=("existing_impact",))) >= {"black", "female × black"}
    view = review.gate_view([EXISTING], flagged=False, existing_impact=False, t=_t("en"))
    # Existing impact under the current weights is never a clear gate, even when nothing is lowered.
    assert view.existing_impact and not view.clear and view.existing and not view.lowered


def test_every_model_note_has_a_sentence_in_each_language():
    from ml import weights as ml_weights

    comparisons = pd.DataFrame(
        [
            {"weighting": w, "baseline": b, "difference": d, "ci_low": d - 0.02, "ci_high": d + 0.02, "beats": False}
            for w, b, d in (("target", "unit", -0.004), ("recommended", "current", 0.012))
        ]
    )
    _, keep = ml_weights.decide(comparisons, [0.5, 0.5], [0.4, 0.6])
    unit = comparisons.assign(beats=True, difference=[0.05, 0.03], ci_low=[0.01, 0.01], ci_high=[0.09, 0.05])
    unit = pd.concat(
        [
            unit,
            pd.DataFrame(
                [
                    {
                        "weighting": "recommended",
                        "baseline": "unit",
                        "difference": -0.03,
                        "ci_low": -0.05,
                        "ci_high": -0.01,
                        "beats": False,
                    }
                ]
            ),
        ]
    )
    _, behind = ml_weights.decide(unit, [0.5, 0.5], [0.4, 0.6])
    notes = [
        *keep,
        *behind,
        ml_weights.decide(comparisons, [0.5, 0.5], [0.5, 0.5])[1][0],
        "51 hires with complete scores and outcomes; 100 needed",
        "no variance among hires, so no evidence on: teamwork, communication",
        "hire dates too concentrated for a time-ordered holdout; validity not estimated",
        "no current weights on record; unit weights used as the current weights",
        "current weights sum to 0; unit weights used as the current weights",
        "current weights summed to 1.0500; rescaled to 1",
        "no out-of-sample comparison was possible: keep the current weights",
    ]
    assert len(behind) == 1 and "unit weights still beat" in behind[0]
    for lang in ("en", "zh-CN"):
        texts = [review.note_text(n, _t(lang), lambda c, lang=lang: competency_name(c, lang)) for n in notes]
        assert texts.count(None) == 1  # "keep the current weights": the status headline says it
        texts = [x for x in texts if x]
        assert not [x for x in texts if x in notes], "a model note was shown untranslated"
        if lang == "zh-CN":
            assert not [x for x in texts if re.search(r"[A-Za-z]{3,}", x)], texts
    step = review.note_text(keep[1], _t("en"), str)
    assert "+0.012" in step and "[-0.008, +0.032]" in step


def test_gate_table_lists_small_and_unknown_groups_and_suppresses_under_five():
    base = {"metric": "selection", "dimension": "sex", "reference_group": "male", "floor_n": 30}
    rows = pd.DataFrame(
        [
            {
                **base,
                "weighting": w,
                "group_label": g,
                "n": n,
                "rate": r,
                "impact_ratio": ir,
                "ci_low": lo,
                "ci_high": hi,
                "change": ch,
                "change_ci_low": cl,
                "change_ci_high": chh,
                "eligible": el,
                "excluded_small": sm,
                "is_unknown": unk,
                "impact_flag": False,
                "lowered_below_baseline": low,
                "flag": low,
                "is_suppressed": n is None,
            }
            for w, g, n, r, ir, lo, hi, ch, cl, chh, el, sm, unk, low in (
                ("current", "female", 400, 0.2, 0.86, 0.7, 1.0, None, None, None, True, False, False, False),
                ("recommended", "female", 400, 0.17, 0.74, 0.6, 0.9, -0.12, -0.18, -0.06, True, False, False, True),
                ("current", "male", 410, 0.23, 1.0, None, None, None, None, None, True, False, False, False),
                ("recommended", "male", 410, 0.23, 1.0, None, None, 0.0, None, None, True, False, False, False),
                ("current", "nonbinary", None, None, None, None, None, None, None, None, False, True, False, False),
                ("recommended", "nonbinary", None, None, None, None, None, None, None, None, False, True, False, False),
                ("current", "unknown", 40, 0.3, 1.3, 0.9, 1.8, None, None, None, False, False, True, False),
                ("recommended", "unknown", 40, 0.3, 1.3, 0.9, 1.8, 0.0, -0.2, 0.2, False, False, True, False),
            )
        ]
    )
    table = review.gate_table(rows, "selection", _t("en"), "recommended", "This cycle's step").set_index("Group")
    assert table.loc["female", "This cycle's step: impact ratio [95% interval]"] == "0.74 [0.60, 0.90]"
    assert table.loc["female", "Change in impact ratio [95% interval]"] == "-0.12 [-0.18, -0.06]"
    assert "flag" in table.loc["female", "Note"]
    assert table.loc["male", "Note"] == "reference group"
    assert table.loc["non-binary", "Applicants"] == "<5"
    assert table.loc["non-binary", "Current weights: selection rate"] == "<5"
    assert "fewer than 30" in table.loc["non-binary", "Note"]
    assert "unknown group" in table.loc["unknown", "Note"] and table.loc["unknown", "Applicants"] == "40"
    assert not table.isin(["None", "nan", "NaN"]).any().any()


def test_bias_audit_summary_marks_small_groups():
    selection = pd.DataFrame(
        [
            {
                "dimension": "sex",
                "group_label": "female",
                "is_suppressed": False,
                "n": 50,
                "n_passed": 10,
                "selection_rate": 0.2,
                "reference_group": "female",
                "impact_ratio": 1.0,
                "is_below_four_fifths": False,
            },
            {
                "dimension": "sex",
                "group_label": "nonbinary",
                "is_suppressed": True,
                "n": None,
                "n_passed": None,
                "selection_rate": None,
                "reference_group": "female",
                "impact_ratio": None,
                "is_below_four_fifths": False,
            },
        ]
    )
    out = audit.summary(
        selection,
        None,
        job_family="sales",
        stage="overall",
        period_start=dt.date(2024, 1, 1),
        period_end=dt.date(2024, 12, 31),
        scope="all",
    )
    assert list(out["category_type"]) == ["Sex", "Sex"]
    assert out.iloc[1][["n_applicants", "n_selected", "selection_rate", "impact_ratio"]].tolist() == ["<5"] * 4
    assert {"period_start", "period_end", "scope", "job_family", "stage"} <= set(out.columns)


def test_the_what_if_of_the_recommended_weights_is_the_published_gate():
    """One rule for every decision path: ml.whatif on the step, with the desk's inputs (the pool as
    queries.applicant_pool shapes it, the published moments and front), gives the published gate verdict."""
    import ml.whatif as whatif
    from tests.unit.dashboards.standins import review_world

    families = ("customer_service", "finance_risk", "operations", "sales", "software_engineering")
    competencies = COMPETENCIES
    tables, pool = review_world(families, competencies, tuple((1 / 6,) * 6 for _ in families))
    recs = tables["recommendations"].set_index("job_family")
    fitted = [f for f in families if recs.loc[f, "status"] != "insufficient_evidence"]
    assert {recs.loc[f, "status"] for f in fitted} == {"recommended", "keep_current"}
    for family in fitted:
        rec_id = recs.loc[family, "recommendation_id"]
        mine = {k: v[v["recommendation_id"] == rec_id] for k, v in tables.items() if "recommendation_id" in v}
        w = mine["recommendation_weights"].set_index("competency_code")
        fam = pool[pool["job_family"] == family].sort_values("candidate_key")
        shaped = fam.rename(columns={"gender": "sex"})[["requisition_id", "sex", "ethnicity"]].assign(
            **{c: fam[f"score_{c}"] for c in competencies}
        )
        result = whatif.evaluate(
            w["recommended_weight"].to_dict(),
            w["current_weight"].to_dict(),
            competencies,
            whatif.moments_from_rows(mine["recommendation_moments"], competencies),
            shaped,
            float(recs.loc[family, "selection_rate"]),
            mine["tradeoff_front"],
        )
        published = review.parse_flags(recs.loc[family, "flags"])
        lowered = {f["group"] for f in published if f["kind"] == "lowered"}
        assert result.flagged == bool(recs.loc[family, "flagged"]), family
        assert set(result.gate.flags.loc[result.gate.flags["kind"] == "lowered", "group"]) == lowered, family
        assert result.gate.existing_impact == bool(recs.loc[family, "existing_impact"]), family
        # A fixed weighting's validity on the held-out hires is the published one (the step's published figure is
        # the refitted procedure's, out of sample, so only fixed weightings compare).
        current = whatif.evaluate(
            w["current_weight"].to_dict(),
            w["current_weight"].to_dict(),
            competencies,
            whatif.moments_from_rows(mine["recommendation_moments"], competencies),
        )
        published_r = mine["recommendation_validity"].set_index("weighting").loc["current", "holdout_r"]
        assert current.validity["holdout_r"] == pytest.approx(published_r, abs=1e-9)
    assert recs.loc["sales", "flagged"] and not recs.loc["operations", "flagged"]
