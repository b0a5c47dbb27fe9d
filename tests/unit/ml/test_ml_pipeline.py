"""ml/pipeline.py on small hand-made frames: output contracts, the evidence gate, the fairness flag, the guard."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from ml import pipeline
from ml.prohibited import ProhibitedFeatureError

COMPS = ["communication", "logical_thinking", "teamwork"]
AS_OF = pd.Timestamp("2025-09-01")


def small_world(n_applicants: int = 800, seed: int = 0, families=("alpha", "beta")):
    """Applicants with three competencies; the top quarter by unit composite are hired.

    Planted: performance = .5 logical_thinking + .15 communication + noise; voluntary exit hazard falls with
    teamwork (log HR -.4 per latent SD); complaints fall with communication (log RR -.4); care mentions cut
    complaints (RR .6). Involuntary exits hit low performers hard, and must not count as quits.
    """
    rng = np.random.default_rng(seed)
    pools, hires = [], []
    for family in families:
        z = rng.normal(size=(n_applicants, 3))
        x = 0.5 + 0.12 * (z + rng.normal(scale=0.4, size=z.shape))
        composite = x.mean(axis=1)
        hired = composite >= np.quantile(composite, 0.75)
        pool = pd.DataFrame(
            {
                "candidate_key": [f"{family}-{i}" for i in range(n_applicants)],
                "job_family": family,
                "interview_id": [f"IV-{family}-{i}" for i in range(n_applicants)],
                "started_at": pd.Timestamp("2023-09-01") + pd.to_timedelta(rng.integers(0, 600, n_applicants), "D"),
                "composite_score": composite,
                "hired": hired,
                "gender": rng.choice(["female", "male", "unknown"], n_applicants, p=[0.48, 0.48, 0.04]),
                "ethnicity": rng.choice(["asian", "black", "white", "unknown"], n_applicants),
                **{f"score_{c}": x[:, k] for k, c in enumerate(COMPS)},
            }
        )
        pools.append(pool)
        h = pool[hired].copy()
        zh = z[hired]
        n = len(h)
        perf = 0.15 * zh[:, 0] + 0.5 * zh[:, 1] + rng.normal(scale=0.8, size=n)
        h["hire_date"] = h["started_at"] + pd.Timedelta(days=30)
        h["employee_key"] = [f"E-{family}-{i}" for i in range(n)]
        for period in ("rating_3m", "rating_6m", "rating_12m"):
            h[period] = np.clip(0.5 + 0.2 * (perf + rng.normal(scale=0.5, size=n)), 0, 1)
        t_vol = rng.exponential(1 / (0.0012 * np.exp(-0.4 * zh[:, 2])))
        t_inv = rng.exponential(1 / (0.0005 * np.exp(-1.5 * perf)))
        t = np.minimum(t_vol, t_inv)
        end = h["hire_date"] + pd.to_timedelta(np.ceil(t), "D")
        left = (end < AS_OF).to_numpy()
        h["termination_date"] = end.where(left)
        h["termination_type"] = np.where(left, np.where(t_vol < t_inv, "voluntary", "involuntary"), None)
        h["tenure_days"] = (h["termination_date"].fillna(AS_OF) - h["hire_date"]).dt.days
        year_done = (h["hire_date"] + pd.Timedelta(days=365) <= AS_OF).to_numpy()
        h["is_retained_12m"] = pd.array(np.where(year_done, h["tenure_days"] >= 365, None), dtype="boolean")
        care = rng.random(n) < 0.4
        h["care"] = care
        rate = 0.006 * np.exp(-0.4 * zh[:, 0] + np.log(0.6) * care)
        h["count_complaints"] = rng.poisson(rate * h["tenure_days"].to_numpy())
        h["complaints_per_1000_days"] = 1000 * h["count_complaints"] / h["tenure_days"].where(h["tenure_days"] > 0)
        h["as_of_date"] = AS_OF
        h["score_band"] = pd.qcut(h["composite_score"], 3, labels=["low", "medium", "high"]).astype(str)
        hires.append(h)
    weights = pd.DataFrame({"job_family": list(families), **{f"weight_{c}": 1 / 3 for c in COMPS}})
    return pd.concat(hires, ignore_index=True), pd.concat(pools, ignore_index=True), weights


@pytest.fixture(scope="module")
def world():
    return small_world()


@pytest.fixture(scope="module")
def recommendation():
    # 3,000 applicants a family give ~420 hires with a complete first year: enough for the planted driver's gain
    # over unit weights to show out of sample, so both families are recommended.
    hires, applicants, weights = small_world(n_applicants=3000)
    return pipeline.recommendation_tables(
        hires,
        applicants,
        pipeline.current_weights_from(weights, COMPS),
        COMPS,
        version="weights-test",
        n_bootstrap=20,
    )


def _contract_first(frame: pd.DataFrame, name: str) -> None:
    contract = list(pipeline.CONTRACTS[name])
    assert list(frame.columns[: len(contract)]) == contract


def test_competencies_and_current_weights_come_from_the_job_families_mart(world):
    _, _, weights = world
    assert pipeline.competencies_from_weights(weights) == COMPS
    assert pipeline.current_weights_from(weights, COMPS)["alpha"] == pytest.approx(dict.fromkeys(COMPS, 1 / 3))
    gap = weights.assign(weight_teamwork=[np.nan, 1 / 3])
    assert set(pipeline.current_weights_from(gap, COMPS)) == {"beta"}


def test_validity_table_keeps_observed_beside_corrected_with_configured_reliability(world):
    hires, applicants, _ = world
    table = pipeline.validity_tables(hires, applicants, COMPS, criterion_reliability={"rating_12m": 0.8})
    _contract_first(table, "validity")
    # Every outcome, and the weight model's own criterion.
    assert set(table["outcome"]) == {*pipeline.OUTCOMES, "criterion"}
    ryy = table.groupby("outcome")["ryy"].first()
    assert ryy["rating_6m"] == pytest.approx(0.52) and ryy["rating_12m"] == pytest.approx(0.8)
    assert ryy["retained_12m"] == 1.0 and ryy["complaints_per_1000_days"] == 1.0
    lt = table[(table["competency_code"] == "logical_thinking") & (table["outcome"] == "rating_6m")]
    # Hires are the top quarter, so u > 1; both corrections raise a positive validity above the observed one.
    assert (lt["u"] > 1).all() and (lt["r"] > 0.2).all()
    assert (lt["r_range_corrected"] > lt["r"]).all() and (lt["r_operational"] > lt["r_range_corrected"]).all()
    assert (lt["ci_low_operational"] < lt["r_operational"]).all() and (
        lt["r_operational"] < lt["ci_high_operational"]
    ).all()


def test_recommendation_tables_share_one_id_and_keep_weights_on_the_capped_simplex(recommendation):
    recs = recommendation["recommendations"]
    for name, table in recommendation.items():
        _contract_first(table, name)
        assert set(table["recommendation_id"]) <= set(recs["recommendation_id"])
    assert list(recs["recommendation_id"]) == ["alpha@weights-test", "beta@weights-test"]
    assert (recs["status"] == "recommended").all()
    assert json.loads(recs["outcome_mix"].iloc[0]) == pipeline.DEFAULT_OUTCOME_MIX
    assert set(recs["effective_from_suggested"]) == {dt.date(2025, 10, 1)}
    w = recommendation["recommendation_weights"]
    totals = w.groupby("recommendation_id")["recommended_weight"].sum()
    assert totals.to_numpy() == pytest.approx(1.0)
    assert w["recommended_weight"].between(0, 1).all()
    assert (w["change"].abs() <= pipeline.DEFAULT_MAX_CHANGE + 1e-9).all()
    assert (w["at_cap"] == (w["change"].abs() >= pipeline.DEFAULT_MAX_CHANGE - 1e-9)).all()
    # The planted driver gains weight everywhere.
    assert (w.loc[w["competency_code"] == "logical_thinking", "change"] > 0).all()


def test_tradeoff_table_shows_several_weightings_with_out_of_sample_validity(recommendation):
    v = recommendation["recommendation_validity"]
    assert {"current", "recommended", "unit", "validity_max", "blend_50"} <= set(v["weighting"])
    assert (v["holdout_n"] > 0).all() and v["holdout_r"].between(-1, 1).all()
    assert (v["min_impact_ratio"] >= 0).all()
    gate = recommendation["fairness_gate"]
    assert set(gate["weighting"]) == {"current", "recommended"}
    assert set(gate["dimension"]) == {"sex", "ethnicity", "sex_x_ethnicity"}
    current = gate[gate["weighting"] == "current"]
    assert (current["impact_ratio"] == current["baseline_impact_ratio"]).all()
    assert not current["lowered_below_baseline"].any()


def test_tradeoff_front_marks_the_named_weightings_and_moments_score_them(recommendation):
    front = recommendation["tradeoff_front"]
    v = recommendation["recommendation_validity"]
    moments = recommendation["recommendation_moments"]
    for rec_id, f in front.groupby("recommendation_id"):
        assert {"current", "recommended", "unit", "validity_max"} <= set(f["weighting"])
        assert f["on_front"].any() and f["min_impact_ratio"].between(0, 1).all()
        # The front is not dominated: nothing beats a front point on both axes.
        pts = f[f["on_front"]]
        for p in pts.itertuples(index=False):
            better = (f["validity_applicants"] > p.validity_applicants) & (f["min_impact_ratio"] > p.min_impact_ratio)
            assert not better.any()
        # Holdout validity from the published moments equals the out-of-sample r of the fixed current weights.
        m = moments[(moments["recommendation_id"] == rec_id) & (moments["kind"] == "holdout")]
        assert len(m) == (len(COMPS) + 1) ** 2
        current = f[f["weighting"] == "current"].iloc[0]
        held = v[(v["recommendation_id"] == rec_id) & (v["weighting"] == "current")]["holdout_r"].iloc[0]
        assert current["validity_holdout"] == pytest.approx(held, abs=1e-9)


def test_too_few_hires_get_the_count_needed_and_no_numbers(world):
    hires, applicants, weights = world
    out = pipeline.recommendation_tables(
        hires, applicants, pipeline.current_weights_from(weights, COMPS), COMPS, "v", min_hires=10_000
    )
    recs = out["recommendations"]
    assert (recs["status"] == "insufficient_evidence").all()
    assert (recs["n_needed"] == 10_000).all() and (recs["n_hires_with_outcomes"] < 10_000).all()
    assert recs["lambda"].isna().all() and recs["effective_from_suggested"].isna().all()
    assert not recs["flagged"].any()
    assert out["recommendation_weights"].empty and out["recommendation_validity"].empty
    # The current-weights baseline is a fact, not a guess, so it is still shown.
    assert set(out["fairness_gate"]["weighting"]) == {"current"}
    _contract_first(out["recommendation_weights"], "recommendation_weights")


def test_a_recommendation_that_pushes_a_group_below_four_fifths_is_flagged():
    rng = np.random.default_rng(1)
    n = 400
    female = np.arange(n) < n // 2
    pool = pd.DataFrame(
        {
            "sex": np.where(female, "female", "male"),
            "ethnicity": "white",
            # Women score one SD lower on x and the same on y: weighting x up costs them selections.
            "x": rng.normal(size=n) - np.where(female, 1.0, 0.0),
            "y": rng.normal(size=n),
        }
    )
    gate, flags, flagged, existing = pipeline.fairness_gate_table(
        pool, {"x": 0.1, "y": 0.9}, {"x": 0.9, "y": 0.1}, ["x", "y"], 0.25, n_boot=200
    )
    row = gate[
        (gate["weighting"] == "recommended") & (gate["metric"] == "selection") & (gate["group_label"] == "female")
    ]
    row = row.iloc[0]
    assert row["baseline_impact_ratio"] > row["impact_ratio"] and row["impact_ratio"] < 0.8
    assert row["lowered_below_baseline"] and row["flag"] and row["change_ci_high"] < 0
    assert flagged and any(f["kind"] == "lowered" and f["group"] == "female" for f in flags)
    lowered = next(f for f in flags if f["kind"] == "lowered")
    assert (
        lowered["message_key"] == "fairness.flag.lowered" and json.loads(lowered["message_params"])["group"] == "female"
    )
    # The reverse move raises women's ratio: nothing lowered, though the current weights already show impact.
    back, back_flags, back_flagged, back_existing = pipeline.fairness_gate_table(
        pool, {"x": 0.9, "y": 0.1}, {"x": 0.1, "y": 0.9}, ["x", "y"], 0.25, n_boot=200
    )
    assert not back["flag"].any() and not back_flagged
    assert back_existing and any(f["kind"] == "existing_impact" for f in back_flags)


def test_turnover_censors_involuntary_exits_and_reports_per_family(world):
    hires, applicants, _ = world
    out = pipeline.turnover_tables(hires, applicants, COMPS, min_hires=100)
    km, cox = out["turnover_km"], out["turnover_cox"]
    _contract_first(km, "turnover_km")
    _contract_first(cox, "turnover_cox")
    assert set(km["job_family"]) == {"all", "alpha", "beta"} == set(cox["scope"])
    assert km["survival"].between(0, 1).all()
    assert (km.groupby(["job_family", "score_band"])["survival"].diff().dropna() <= 1e-12).all()
    scored = hires["score_teamwork"].notna()
    voluntary = int(((hires["termination_type"] == "voluntary") & scored).sum())
    assert cox.loc[cox["scope"] == "all", "n_events"].iloc[0] == voluntary
    team = cox[(cox["scope"] == "all") & (cox["term"] == "teamwork")].iloc[0]
    assert team["hazard_ratio"] < 1 and team["ci_high"] < 1  # planted log HR -.4 per latent SD
    assert cox["note"].str.contains("involuntary exits censored").all()
    assert cox["concordance_holdout"].dropna().between(0, 1).all()
    assert {"job_family=beta"} <= set(cox.loc[cox["scope"] == "all", "term"])


def test_complaint_model_uses_exposure_and_the_transcript_care_mention(world):
    hires, applicants, _ = world
    transcripts = pd.DataFrame(
        {
            "interview_id": hires["interview_id"],
            f"kw_{pipeline.CARE_COMPETENCY}": np.where(hires["care"], 2, 0),
        }
    ).iloc[: len(hires) - 20]  # the last twenty hires have no transcript
    table = pipeline.complaint_tables(hires, applicants, COMPS, transcripts, min_hires=100)
    _contract_first(table, "complaint_model")
    assert set(table["scope"]) == {"all", "alpha", "beta"}
    pooled = table[table["scope"] == "all"].set_index("term")
    assert {"const", *COMPS, "care_mention", "no_transcript", "job_family=beta"} == set(pooled.index)
    assert pooled.at["care_mention", "ci_low"] < 0.6 < pooled.at["care_mention", "ci_high"]
    assert pooled.at["communication", "rate_ratio"] < 1
    assert set(table["model"]) <= {"poisson", "negative_binomial"}
    assert (table["n"] == table.groupby("scope")["n"].transform("first")).all()
    without = pipeline.complaint_tables(hires, applicants, COMPS, None, min_hires=100)
    assert "care_mention" not in set(without["term"])


def test_complaint_families_default_to_those_with_complaints(world):
    hires, applicants, _ = world
    quiet = hires.assign(count_complaints=np.where(hires["job_family"] == "beta", 0, hires["count_complaints"]))
    table = pipeline.complaint_tables(quiet, applicants, COMPS, min_hires=100)
    assert set(table["scope"]) == {"alpha"}


def _segments():
    rows = [
        ("i1", "c1", 1, "Q1", "interviewer", 0.0, 5.0, "Tell me about a customer you helped.", "en"),
        ("i1", "c1", 2, "Q1", "candidate", 5.0, 35.0, "I listened to the client and explained the plan.", "en"),
        ("i1", "c1", 3, "Q2", "candidate", 40.0, 70.0, "Our team worked together. " * 12, "en"),
        ("i2", "c2", 1, "Q1", "candidate", 0.0, 30.0, "我会倾听客户的需求", "zh"),
    ]
    cols = ["interview_id", "candidate_key", "segment_no", "question_id", "speaker", "start_s", "end_s", "text"]
    return pd.DataFrame(rows, columns=[*cols, "language"])


def test_transcript_tables_count_candidate_speech_and_keep_the_evidence():
    out = pipeline.transcript_tables(_segments())
    f = out["transcript_features"].set_index("interview_id")
    _contract_first(out["transcript_features"], "transcript_features")
    assert f.at["i1", "candidate_key"] == "c1" and f.at["i1", "words"] == 9 + 48
    assert f.at["i1", "speaking_seconds"] == 60 and f.at["i1", "words_per_minute"] == pytest.approx(57.0)
    assert f.at["i1", "kw_customer_orientation"] == 2  # the interviewer's "customer" does not count
    assert f.at["i2", "kw_customer_orientation"] == 2
    ev = out["keyword_evidence"]
    _contract_first(ev, "keyword_evidence")
    assert (ev["snippet"].str.len() <= pipeline.SNIPPET_CHARS).all()
    team = ev[(ev["interview_id"] == "i1") & (ev["competency_code"] == "teamwork")]
    assert len(team) == 24 and team["snippet"].str.lower().str.contains("team").all()
    assert set(ev["candidate_key"]) == {"c1", "c2"}


def test_resume_tables_flag_a_strong_resume_behind_a_weak_interview():
    skills = "Python, Java, SQL, Docker, AWS, Git, React, TypeScript, Spark, Terraform, Linux, Kubernetes"
    texts = {
        "c0": f"Software engineer with 15 years of experience. Master's degree.\nSKILLS\n{skills}",
        **{
            f"c{i}": f"Software engineer with {i} years of experience. Bachelor's degree.\nSKILLS\nPython, Git"
            for i in range(1, 8)
        },
    }
    resumes = pd.DataFrame(
        {"resume_id": [f"R{k}" for k in texts], "candidate_key": list(texts), "text": list(texts.values())}
    )
    applicants = pd.DataFrame(
        {
            "candidate_key": list(texts),
            "job_family": "software_engineering",
            "started_at": pd.Timestamp("2024-05-01"),
            "composite_score": [0.1, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8],
        }
    )
    out = pipeline.resume_tables(resumes, applicants).set_index("candidate_key")
    assert out.at["c0", "resume_interview_mismatch"] and out["resume_interview_mismatch"].sum() == 1
    assert out.at["c0", "education_level"] == "master" and out.at["c0", "years_experience"] == 15
    assert out.at["c0", "resume_job_match"] > out.at["c1", "resume_job_match"]
    assert out.at["c1", "skills"] == "git, python"
    _contract_first(out.reset_index(), "resume_features")


SNEAKS = [
    ("hires", "voice_tone_score"),
    ("hires", "facial_expression"),
    ("applicants", "emotion_joy"),
    ("applicants", "score_micro_expression"),
]


@pytest.mark.parametrize(("frame", "column"), SNEAKS)
def test_no_emotion_face_or_voice_feature_reaches_any_model(world, frame, column):
    hires, applicants, weights = world
    frames = {"hires": hires.copy(), "applicants": applicants.copy()}
    frames[frame][column] = 0.5
    h, a = frames["hires"], frames["applicants"]
    current = pipeline.current_weights_from(weights, COMPS)
    calls = [
        lambda: pipeline.validity_tables(h, a, COMPS),
        lambda: pipeline.recommendation_tables(h, a, current, COMPS, "v", n_bootstrap=2),
        lambda: pipeline.turnover_tables(h, a, COMPS),
        lambda: pipeline.complaint_tables(h, a, COMPS),
    ]
    for call in calls:
        with pytest.raises(ProhibitedFeatureError):
            call()


def test_a_prohibited_competency_or_transcript_column_is_refused(world):
    hires, applicants, _ = world
    sneaky = hires.assign(score_voice_pitch=0.5)
    with pytest.raises(ProhibitedFeatureError):
        pipeline.validity_tables(sneaky, applicants.assign(score_voice_pitch=0.5), [*COMPS, "voice_pitch"])
    with pytest.raises(ProhibitedFeatureError):
        pipeline.transcript_tables(_segments().assign(speaker_emotion="calm"))
    with pytest.raises(ProhibitedFeatureError):
        pipeline.resume_tables(
            pd.DataFrame({"resume_id": ["r"], "candidate_key": ["c"], "text": ["x"], "photo_face_score": [1.0]}),
            pd.DataFrame(columns=["candidate_key", "job_family", "started_at", "composite_score"]),
        )


def test_next_quarter_start_and_conform():
    assert pipeline.next_quarter_start("2025-08-31") == dt.date(2025, 10, 1)
    assert pipeline.next_quarter_start(dt.date(2025, 12, 31)) == dt.date(2026, 1, 1)
    assert pipeline.next_quarter_start("2025-01-01") == dt.date(2025, 4, 1)
    out = pipeline.conform(pd.DataFrame({"extra": [1], "job_family": ["a"]}), "recommendation_validity")
    _contract_first(out, "recommendation_validity")
    assert out.columns[-1] == "extra" and out["holdout_r"].isna().all() and str(out["holdout_n"].dtype) == "Int64"


def test_scopes_with_too_few_events_per_term_are_reported_not_fitted(world):
    hires, applicants, _ = world
    cox = pipeline.turnover_tables(hires, applicants, COMPS, min_hires=100, min_events_per_term=10_000)
    assert (cox["turnover_cox"]["status"] == "not_fitted").all() and cox["turnover_cox"]["hazard_ratio"].isna().all()
    assert cox["turnover_cox"]["reason"].str.contains("events for").all()
    assert len(cox["turnover_km"]) > 0  # Kaplan-Meier needs no model, so the curves stay
    counts = pipeline.complaint_tables(hires, applicants, COMPS, min_hires=100, min_events_per_term=10_000)
    assert (counts["status"] == "not_fitted").all() and counts["rate_ratio"].isna().all()
    # A family without a single exit would drive its pooled term to -inf; it is left out of 'all' instead.
    calm = hires.assign(termination_type=np.where(hires["job_family"] == "beta", None, hires["termination_type"]))
    calm["termination_date"] = calm["termination_date"].where(calm["job_family"] != "beta")
    pooled = pipeline.turnover_tables(calm, applicants, COMPS, min_hires=100)["turnover_cox"]
    pooled = pooled[pooled["scope"] == "all"]
    assert "job_family=beta" not in set(pooled["term"]) and pooled["note"].str.contains("left out").all()
    assert np.isfinite(pooled["hazard_ratio"]).all() and (pooled["hazard_ratio"] > 0).all()
