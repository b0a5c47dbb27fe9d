"""The benchmark's simulated worlds follow the generator's laws, and the criterion truth says what it should."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import ndtr

from ingestion.generator import outcomes, params, scoring, truth
from ingestion.generator.chunk import ChunkSimulation, latents
from ingestion.generator.vocab import COMPETENCIES, JOB_FAMILIES
from tests.benchmarks.stats.worlds import SCORE_COLUMNS, simulate_world

BIG = 10_000  # hires: a share's SE is under 0.005


@pytest.fixture(scope="module")
def big_world():
    return simulate_world(3, "customer_service", n_hires=BIG)


@pytest.fixture(scope="module")
def reference_interviewers():
    return scoring.make_interviewers(np.random.default_rng([1, 0]), 20_000)


def test_same_arguments_same_world_and_the_size_is_the_target():
    a = simulate_world(11, "sales", n_hires=330)
    b = simulate_world(11, "sales", n_hires=330)
    assert a.hires.drop(columns=["termination_date"]).equals(b.hires.drop(columns=["termination_date"]))
    assert a.applicants.equals(b.applicants)
    assert not simulate_world(12, "sales", n_hires=330).applicants[SCORE_COLUMNS].equals(a.applicants[SCORE_COLUMNS])
    # Acceptance is Binomial: SD about sqrt(0.2 x 330) = 8 hires.
    assert abs(a.info["n_hires_12m_complete"] - 330) < 40
    assert a.hires["is_retained_12m"].notna().mean() > 0.98
    assert set(a.hires["candidate_key"]) == set(a.applicants.loc[a.applicants["hired"] == 1, "candidate_key"])


def test_selection_is_the_generators_rule():
    rng = np.random.default_rng(0)
    m = 600
    req, composite = rng.integers(0, 40, m), rng.random(m)
    events = []
    chunk = SimpleNamespace(
        rng=np.random.default_rng(5),
        completed_iv=np.arange(m),
        iv_app=np.arange(m),
        iv_end=np.full(m, 10 * 86_400),
        iv_mode=np.full(m, "ai_video", dtype=object),
        composite=composite,
        req=req,
        req_ids=np.arange(40),
        add_event=lambda rows, event, t: events.append((event, np.asarray(rows))),
    )
    ChunkSimulation._selection(chunk)
    offered_by_generator = np.concatenate([rows for event, rows in events if event == "offer_made"])
    offered, hired = truth.select(np.random.default_rng(5), composite, req)
    assert sorted(offered_by_generator) == np.flatnonzero(offered).tolist()
    assert not (hired & ~offered).any()


def test_offers_are_the_top_share_of_each_requisition_and_most_are_accepted(big_world):
    a = big_world.applicants
    per_req = a.groupby("requisition_id").agg(size=("offered", "size"), offers=("offered", "sum"))
    assert (per_req["offers"] == np.ceil(params.SELECTION_TOP_SHARE * per_req["size"])).all()
    offers = int(a["offered"].sum())
    accepted = a["hired"].sum() / offers
    assert accepted == pytest.approx(params.OFFER_ACCEPT_RATE, abs=4 * np.sqrt(0.16 / offers))
    # ceil() on requisitions of ~17 completed interviews lifts the offer share from .25 to about .27.
    assert a["hired"].mean() == pytest.approx(params.SELECTION_TOP_SHARE * params.OFFER_ACCEPT_RATE, abs=0.03)
    assert a.groupby("requisition_id").size().mean() == pytest.approx(truth.COMPLETED_PER_REQUISITION, rel=0.05)


def test_first_year_voluntary_exits_follow_the_cox_law(big_world):
    """Observed voluntary exits in year one against the competing-risks expectation from each hire's latents."""
    h = big_world.hires
    f = JOB_FAMILIES.index("customer_service")
    z = h[[f"_latent_{c}" for c in COMPETENCIES]].to_numpy()
    performance = h["_true_performance"].to_numpy()
    voluntary = params.VOLUNTARY_BASELINE_HAZARD["customer_service"] * np.exp(z @ outcomes.EXIT_B[f])
    involuntary = params.INVOLUNTARY_BASELINE_HAZARD * np.exp(
        params.INVOLUNTARY_LOG_HAZARD_PER_SD_PERFORMANCE * performance
    )
    total = voluntary + involuntary

    def before(days):
        return voluntary / total * (1 - np.exp(-total * days))

    fails = ndtr((params.PROBATION_FAIL_THRESHOLD - performance) / params.PROBATION_NOISE_SD)
    probation_end = params.PROBATION_DAYS["customer_service"] + 4  # 0-5 days of probation jitter, then 0-3
    expected = (1 - fails) * before(365) + fails * before(probation_end)
    observed = (h["_true_exit_type"] == "voluntary") & (h["_true_exit_day"] <= 365)
    assert observed.sum() == pytest.approx(expected.sum(), abs=4 * np.sqrt((expected * (1 - expected)).sum()))
    # Selected hires are better than the baseline person (customer orientation lowers the hazard), so fewer leave.
    assert observed.mean() < params.VOLUNTARY_ANNUAL_SHARE["customer_service"]


def test_ratings_are_missing_for_early_leavers_only_and_hires_beat_the_applicants(big_world):
    h = big_world.hires
    for period, due in params.REVIEW_DAYS.items():
        rating = h[f"rating_{period}"]
        assert (h.loc[rating.notna(), "tenure_days"] > due).all(), period
        if period != "12m":  # 12-month reviews of the last hires can fall after as_of
            missing = rating.isna()
            assert h.loc[missing, "termination_date"].notna().all(), period
            assert (h.loc[missing, "tenure_days"] <= due + 10).all(), period
            assert rating[h["tenure_days"] > due + 10].notna().all(), period
    assert h["rating_6m"].dropna().between(0, 1).all()
    # The applicants' expected 6-month rating, had they all been hired and reviewed.
    pool = big_world._state["pool"]
    everyone = truth.first_year_outcomes(np.random.default_rng(0), JOB_FAMILIES.index("customer_service"), pool)
    assert h["rating_6m"].mean() > everyone["rating_6m_if_reviewed"].mean() + 0.05
    assert h["_true_performance"].mean() > 0.4


def test_outcome_columns_follow_the_mart():
    w = simulate_world(5, "sales", n_hires=600, followup_days=120)
    h, as_of = w.hires, w.hires["as_of_date"].iloc[0]
    complete = h["hire_date"] + timedelta(days=365) <= as_of
    assert (h["is_retained_12m"].notna() == complete).all()
    assert (h.loc[complete, "is_retained_12m"] == (h.loc[complete, "tenure_days"] >= 365)).all()
    assert abs(w.info["n_hires_12m_complete"] - 600) < 60
    assert len(h) > 1.3 * 600  # the newest hires are there too, still in their first year
    left = h["termination_date"].notna()
    assert (h.loc[left, "termination_date"] < as_of).all()
    assert ((h.loc[left, "termination_date"] - h.loc[left, "hire_date"]).dt.days == h.loc[left, "tenure_days"]).all()
    assert ((as_of - h.loc[~left, "hire_date"]).dt.days == h.loc[~left, "tenure_days"]).all()
    per_1000 = 1000 * h["count_complaints"] / h["tenure_days"]
    assert np.allclose(h["complaints_per_1000_days"], per_1000, equal_nan=True)
    assert h["count_complaints"].sum() > 0
    assert simulate_world(5, "operations", n_hires=150).hires["count_complaints"].sum() == 0

    earlier, applicants = w.observe(as_of.date() - timedelta(days=300))
    assert len(earlier) < len(h)
    assert set(earlier["employee_key"]) <= set(h["employee_key"])
    assert applicants["hired"].sum() == len(earlier)
    later = h.set_index("employee_key").loc[earlier["employee_key"]]
    assert (earlier["tenure_days"].to_numpy() <= later["tenure_days"].to_numpy()).all()
    assert (earlier["count_complaints"].to_numpy() <= later["count_complaints"].to_numpy()).all()


def test_group_differences_can_be_switched_off():
    gender = np.asarray(["female", "male"] * 20_000, dtype=object)
    ethnicity = np.asarray(["hispanic_latino"] * 20_000 + ["white"] * 20_000, dtype=object)
    planted = latents(np.random.default_rng(0), gender, ethnicity)
    none = latents(np.random.default_rng(0), gender, ethnicity, {})
    k = COMPETENCIES.index("logical_thinking")
    hispanic = ethnicity == "hispanic_latino"
    assert planted[hispanic, k].mean() - planted[~hispanic, k].mean() == pytest.approx(-0.3, abs=0.04)
    assert none[hispanic, k].mean() - none[~hispanic, k].mean() == pytest.approx(0.0, abs=0.04)
    assert np.array_equal(latents(np.random.default_rng(0), gender, ethnicity), planted)


def test_rating_criterion_optimum_is_the_performance_optimum(reference_interviewers):
    """The 6-month rating is performance + independent noise, so its optimum is the performance-latent one; with
    the product's rule (a leaver counts as the lowest rating) retention's predictors gain weight."""
    optimal = truth.optimal_weights(1, reference_interviewers)
    pool = truth.reference_pool(1, reference_interviewers, n=50_000)
    rated = truth.criterion_truth(1, mix={"rating_6m": 1}, pool=pool, impact=False, left_before_review="rated")
    for family in JOB_FAMILIES:
        got = rated[family]["optimal_weights_applicants"]
        for c in COMPETENCIES:
            assert got[c] == pytest.approx(optimal[family]["weights"][c], abs=0.03), (family, c)
    lowest = truth.criterion_truth(1, mix={"rating_6m": 1}, pool=pool, impact=False, families=("sales",))["sales"]
    # In sales communication lowers the exit hazard (-0.25) and learning agility raises it (+0.20).
    assert (
        lowest["optimal_weights_applicants"]["communication"]
        > rated["sales"]["optimal_weights_applicants"]["communication"]
    )
    assert (
        lowest["optimal_weights_applicants"]["learning_agility"]
        < (rated["sales"]["optimal_weights_applicants"]["learning_agility"])
    )


def test_default_criterion_truth_is_a_valid_optimum(reference_interviewers):
    pool = truth.reference_pool(2, reference_interviewers, n=50_000)
    entry = truth.criterion_truth(2, pool=pool, families=("customer_service",))["customer_service"]
    weights = entry["optimal_weights_applicants"]
    assert min(weights.values()) >= 0 and sum(weights.values()) == pytest.approx(1, abs=1e-3)
    assert entry["validity_optimal"] >= entry["validity_current"]
    assert entry["validity_optimal"] >= max(entry["validity_by_competency"].values())
    assert entry["validity_ranking"][0] == "customer_orientation"
    assert entry["z_scale_among_hires"]["complaints_per_1000_days"]["sd"] > 0
    assert entry["impact_ratio"]["current"]["ethnicity"]["hispanic_latino"] < 0.95
    other = truth.criterion_truth(2, pool=pool, families=("operations",), impact=False)["operations"]
    assert other["z_scale_among_hires"]["complaints_per_1000_days"]["sd"] == 0  # not customer-facing: term drops


def test_population_impact_is_flat_without_group_differences_and_planted_with_them():
    unit = dict.fromkeys(COMPETENCIES, 1 / 6)
    flat = truth.population_impact("sales", unit, group_differences={}, seed=4)
    big = [r for r in flat["rows"] if r["share"] >= 0.05 and r["dimension"] != "sex_x_ethnicity"]
    assert len(big) >= 6
    for row in big:
        assert row["impact_ratio"] == pytest.approx(1.0, abs=0.06), row
    assert flat["selection_rate"] == pytest.approx(params.SELECTION_TOP_SHARE * params.OFFER_ACCEPT_RATE, abs=0.03)

    planted = truth.impact_ratios(truth.population_impact("sales", unit, seed=4))
    assert planted["ethnicity"]["hispanic_latino"] < 0.95
    assert planted["ethnicity"]["black"] < 0.95
    # More weight on logical thinking (-0.30 SD for hispanic_latino) lowers that group's ratio further.
    logic = dict(unit, logical_thinking=0.5, customer_orientation=0.0, communication=0.0)
    heavier = truth.impact_ratios(truth.population_impact("sales", logic, seed=4))
    assert heavier["ethnicity"]["hispanic_latino"] < planted["ethnicity"]["hispanic_latino"]
