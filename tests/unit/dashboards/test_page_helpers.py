"""The pages' pure helpers: every text key they use has a translation, <5 cells, the review desk's shaping,
transcript timestamps and the bias-audit export."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest

from dashboards import audit, queries, review, ui
from dashboards.app_state import DECISIONS, AppState
from dashboards.i18n import catalogue
from dashboards.talent import STRONG_SCORE, display_tags, timestamp

DASHBOARDS = Path(__file__).resolve().parents[3] / "dashboards"
# Codes the pages translate with a key built at run time ("<prefix>.<code>").
DYNAMIC = {
    "stage": (*queries.STAGES, "overall"),
    "band": (*queries.SCORE_BANDS, "all"),
    "status": ("ok", "lenient", "severe", "low_agreement", "too_few_interviews"),
    "dimension": (*queries.FUNNEL_DIMENSIONS, *queries.FAIRNESS_DIMENSIONS, "sex_x_ethnicity"),
    "outcome": queries.QOH_OUTCOMES,
    "weighting": ("current", "recommended", "unit"),
    "rec_status": ("recommended", "insufficient_evidence"),
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


def _rec(flagged: bool, weights: pd.DataFrame) -> review.Recommendation:
    return review.Recommendation(
        recommendation_id="r1",
        job_family="sales",
        status="recommended",
        flagged=flagged,
        flags=("Impact ratio for female falls below four-fifths.",) if flagged else (),
        flagged_groups=("female",) if flagged else (),
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


def test_decide_goes_through_the_store_rules(tmp_path):
    from dashboards.i18n import LocalizedError

    state = AppState(tmp_path / "s.sqlite")
    state.create_user("lead", "a-very-long-password-1", "talent_leader")
    rec = _rec(True, WEIGHTS)
    with pytest.raises(LocalizedError, match="acknowledge"):
        review.decide(
            state,
            rec,
            "approved",
            reason="Approve, the gain is worth it.",
            decided_by="lead",
            effective_from=dt.date(2100, 1, 1),
        )
    decision = review.decide(
        state,
        rec,
        "approved",
        reason="The female impact ratio drop is small; we re-check the impact after one quarter.",
        decided_by="lead",
        effective_from=dt.date(2100, 1, 1),
        flag_acknowledged=True,
    )
    assert decision.weights == rec.recommended_weights()
    rejected = review.decide(
        state,
        rec,
        "rejected",
        reason="Not this cycle: we change the interview guide first.",
        decided_by="lead",
        effective_from=dt.date(2100, 1, 1),
    )
    assert rejected.weights is None and rejected.effective_from is None
    log = review.decision_log(state)
    assert list(log["decision"]) == ["rejected", "approved"]
    assert log.iloc[1]["weights"].startswith("a 0.500")


def test_fairness_table_sets_current_and_recommended_side_by_side():
    base = {"recommendation_id": "r1", "job_family": "sales", "metric": "selection", "dimension": "sex", "n": 40}
    gate = pd.DataFrame(
        [
            {**base, "weighting": "current", "group_label": "female", "rate": 0.3, "impact_ratio": 0.9},
            {
                **base,
                "weighting": "recommended",
                "group_label": "female",
                "rate": 0.25,
                "impact_ratio": 0.74,
                "lowered_below_baseline": True,
            },
            {**base, "weighting": "current", "group_label": "male", "rate": 0.33, "impact_ratio": 1.0},
            {**base, "weighting": "recommended", "group_label": "male", "rate": 0.34, "impact_ratio": 1.0},
        ]
    )
    table = review.fairness_table(gate)
    female = table[table["group_label"] == "female"].iloc[0]
    assert (female["impact_ratio_current"], female["impact_ratio_recommended"]) == (0.9, 0.74)
    assert bool(female["lowered_below_baseline_recommended"])
    assert len(table) == 2


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
