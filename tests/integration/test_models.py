"""The model pipeline recovers the truth planted in generated worlds, and writes its tables through the real graph.

Two kinds of world:
- Worlds simulated in memory by the generator's own code (ChunkSimulation: people, interviews, every rater's
  normalised score, selection, reviews, exits, complaints, transcripts), shaped into mart-like frames here and
  handed to ml/pipeline.py. Writing landing files and ingesting them costs minutes per 20k candidates; the
  simulation costs seconds, so worlds big enough to test recovery (250k candidates, ~13k hires with a 6-month
  rating) and several seeds for interval coverage fit in the test budget. The shaping below mirrors the marts
  (scores = mean normalised score over raters, ratings = (rating - min) / (max - min), tenure and censoring to
  the day after the last day); on the 20k world of seed 3 these frames matched marts.hires counts exactly and
  99.7% of marts.interviews scores to the last digit (the rest are ratings landed after the world's end).
- The session's `built_home` (1,500 candidates through ingestion, dbt, the model assets and publish): too few
  hires for weights, so it checks the insufficient-evidence path, the published column contract, the model-output
  checks and the text features against the planted care-mention trait.

Planted effects are per SD of a *latent* competency, but every model sees the interview scores, which measure the
latents with rater error. A hazard or rate ratio per applicant-pool SD of the observed score is therefore compared
with the planted coefficients carried to that scale: gamma = A' beta, where A regresses the latents on the
standardised scores in the family's applicant pool (E[z | x] = A x; hiring selects on x, so this holds among
hires too). For Poisson counts this mapping is exact under normality; for the Cox model it ignores a small
frailty term (beta' Var(z | x) beta < .05 here). Reliabilities are high (one AI and 1-3 humans averaged), so the
mapping shrinks the planted values by only ~15%.
"""

from __future__ import annotations

import json
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from data_quality.expectations import (
    HAZARD_RATIOS_POSITIVE,
    IMPACT_RATIOS_BOUNDS,
    RATE_RATIOS_POSITIVE,
    WEIGHTS_ON_SIMPLEX,
    run_check,
)
from ingestion.generator import params, scoring
from ingestion.generator import truth as planted
from ingestion.generator.chunk import ChunkSimulation, Counters, Stats, WorldSpec
from ingestion.generator.vocab import COMPETENCIES, CUSTOMER_FACING, JOB_FAMILIES
from ingestion.privacy import load_or_create_key, pseudonym
from ml import pipeline

pytestmark = pytest.mark.slow

COMPS = list(COMPETENCIES)
DAY_S = 86_400
START = date(2024, 1, 1)
DAYS = 720
# 250k candidates give 1,400-4,800 hires with a 6-month rating per family: weight SEs of ~.03-.05.
RECOVERY_WORLD = {"seed": 21, "candidates": 250_000}
# Interval coverage needs unbiased estimates, not big samples: three small worlds, ~10 s each.
COVERAGE_SEEDS = (31, 32, 33)
COVERAGE_CANDIDATES = 40_000
# Performance is what the planted optimum optimises, and the 6-month rating is performance plus period noise.
PERFORMANCE_MIX = {"rating_6m": 1.0}
# Measured over seeds 1-5 at 250k: largest |estimate - optimum| per family .02-.10, median .04.
WEIGHT_TOLERANCE = 0.12
# Pairs of competencies whose planted optimal weights differ by at least this much must be ranked in order;
# closer pairs (e.g. the several near-zero weights per family) are ties no sample can order reliably.
RANKING_GAP = 0.15


def simulate_world(seed: int, candidates: int, days: int = DAYS, chunk: int = 50_000, transcripts: bool = False):
    """The generator's world, simulated in memory and shaped like the marts.

    Returns hires (marts.hires columns plus the true performance, care trait and latents), applicants (one
    row per completed interview inside the world, with latent_<competency>), job_families (the current equal
    weights), transcript segments of customer-facing hires (if asked), and the interviewer pool.
    """
    spec = WorldSpec(seed, candidates, days, START, chunk)
    interviewers = scoring.make_interviewers(np.random.default_rng([seed, 0]), candidates)
    counters, stats = Counters(), Stats()
    t0 = pd.Timestamp(START)
    as_of = t0 + pd.Timedelta(days=days)
    pools, employees, reviews, complaints, segments = [], [], [], [], []
    for index, offset in enumerate(range(0, candidates, chunk)):
        sim = ChunkSimulation(spec, index, offset, min(chunk, candidates - offset), counters, interviewers, stats)
        tables = sim.run()
        civ = sim.completed_iv
        app = sim.iv_app[civ]
        pool = pd.DataFrame(
            {
                "interview_id": sim.iv_ids[civ],
                "candidate_key": sim.candidate_ids[app],
                "job_family": np.asarray(JOB_FAMILIES, dtype=object)[sim.family[app]],
                "started_at": t0 + pd.to_timedelta(sim.iv_start[civ], "s"),
                "gender": np.where(sim.gender[app] == "", "unknown", sim.gender[app]),
                "ethnicity": np.where(sim.ethnicity[app] == "", "unknown", sim.ethnicity[app]),
                "composite_score": sim.composite,
                **{f"score_{c}": sim.means[:, k] for k, c in enumerate(COMPS)},
                **{f"latent_{c}": sim.z[app, k] for k, c in enumerate(COMPS)},
            }
        )[sim.iv_end[civ] // DAY_S < days]
        pools.append(pool)
        employees.append(tables["employees"].to_pandas())
        reviews.append(tables["performance_reviews"].to_pandas())
        complaints.append(tables["complaints"].to_pandas())
        if transcripts:
            hired = stats.hires[-1].to_pandas()
            hired = hired[hired["job_family"].isin(CUSTOMER_FACING)]
            ivs = set(pool.loc[pool["candidate_key"].isin(hired["candidate_id"]), "interview_id"])
            seg = tables["transcript_segments"].to_pandas()
            segments.append(seg[seg["interview_id"].isin(ivs)])
    pool = pd.concat(pools, ignore_index=True)
    links = pa.concat_tables(stats.hires).to_pandas().rename(columns={"candidate_id": "candidate_key"})

    emp = pd.concat(employees, ignore_index=True)
    # An employee's exit is a later row of the same export: keep the latest row per employee.
    emp = emp.sort_values("termination_date", na_position="first").drop_duplicates("employee_id", keep="last")
    emp = emp.merge(links[["employee_id", "candidate_key", "care_mention", "performance"]], on="employee_id")
    latest = pool.sort_values("started_at").drop_duplicates("candidate_key", keep="last").drop(columns="job_family")
    h = emp.merge(latest, on="candidate_key")
    h["hire_date"] = pd.to_datetime(h["hire_date"])
    h["termination_date"] = pd.to_datetime(h["termination_date"])
    h = h[h["hire_date"] < as_of].copy()

    rev = pd.concat(reviews, ignore_index=True)
    rev = rev[rev["review_period"].isin(["3m", "6m", "12m"])]
    rev["value"] = (rev["rating"].astype(float) - rev["scale_min"]) / (rev["scale_max"] - rev["scale_min"])
    wide = rev.pivot_table(index="employee_id", columns="review_period", values="value", aggfunc="last")
    for period in ("3m", "6m", "12m"):
        h[f"rating_{period}"] = h["employee_id"].map(wide[period])

    comp = pd.concat(complaints, ignore_index=True)
    comp = comp[pd.to_datetime(comp["received_at"]) < as_of]
    h["count_complaints"] = h["employee_id"].map(comp.groupby("employee_id").size()).fillna(0).astype(int)
    left = h["termination_date"] < as_of
    h.loc[~left, "termination_date"] = pd.NaT
    h.loc[~left, "termination_type"] = None
    h["tenure_days"] = (h["termination_date"].fillna(as_of) - h["hire_date"]).dt.days
    year_done = h["hire_date"] + pd.Timedelta(days=365) <= as_of
    h["is_retained_12m"] = pd.array(np.where(year_done, h["tenure_days"] >= 365, None), dtype="boolean")
    h["complaints_per_1000_days"] = 1000 * h["count_complaints"] / h["tenure_days"].where(h["tenure_days"] > 0)
    h["as_of_date"] = as_of
    h["score_band"] = h.groupby("job_family")["composite_score"].transform(
        lambda s: pd.qcut(s.rank(method="first"), 3, labels=["low", "medium", "high"]).astype(str)
    )
    h = h.rename(columns={"employee_id": "employee_key"}).reset_index(drop=True)
    hired = set(zip(h["candidate_key"], h["job_family"], strict=True))
    pool["hired"] = [(c, f) in hired for c, f in zip(pool["candidate_key"], pool["job_family"], strict=True)]
    job_families = pd.DataFrame({"job_family": list(JOB_FAMILIES), **{f"weight_{c}": 1 / len(COMPS) for c in COMPS}})
    seg = None
    if transcripts:
        seg = pd.concat(segments, ignore_index=True)
        seg["candidate_key"] = seg["interview_id"].map(pool.set_index("interview_id")["candidate_key"])
    return h, pool, job_families, seg, interviewers


def observed_scale(applicants: pd.DataFrame, betas: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Planted latent coefficients carried to applicant-pool SD units of the observed scores: A' beta."""
    out = {}
    for family, g in applicants.groupby("job_family"):
        x = g[[f"score_{c}" for c in COMPS]].to_numpy(float)
        x = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
        z = g[[f"latent_{c}" for c in COMPS]].to_numpy(float)
        a = np.linalg.lstsq(np.c_[np.ones(len(x)), x], z, rcond=None)[0][1:]
        beta = np.array([betas.get(family, {}).get(c, 0.0) for c in COMPS])
        out[family] = dict(zip(COMPS, a @ beta, strict=True))
    return out


# ------------------------------------------------------------------------------------------- weight recovery


@pytest.fixture(scope="module")
def recovery():
    seed, candidates = RECOVERY_WORLD["seed"], RECOVERY_WORLD["candidates"]
    hires, applicants, job_families, _, interviewers = simulate_world(seed, candidates)
    truth = planted.optimal_weights(seed, interviewers)
    current = pipeline.current_weights_from(job_families, COMPS)
    common = {"competencies": COMPS, "outcome_mix": PERFORMANCE_MIX, "n_bootstrap": 20}
    # max_change = 1: the estimate the data support, which the per-cycle cap would only walk toward.
    uncapped = pipeline.recommendation_tables(hires, applicants, current, version="uncapped", max_change=1.0, **common)
    capped = pipeline.recommendation_tables(hires, applicants, current, version="capped", **common)
    return truth, uncapped, capped


def _weights(tables: dict, family: str) -> pd.DataFrame:
    w = tables["recommendation_weights"]
    return w[w["job_family"] == family].set_index("competency_code").loc[COMPS]


def test_every_family_has_enough_hires_in_the_recovery_world(recovery):
    _, uncapped, _ = recovery
    recs = uncapped["recommendations"].set_index("job_family")
    assert (recs["status"] == "recommended").all()
    assert (recs["n_hires_with_outcomes"] >= 1000).all(), recs["n_hires_with_outcomes"]


def test_ranking_of_competencies_by_true_contribution_is_recovered(recovery):
    truth, uncapped, _ = recovery
    misordered = []
    for family in JOB_FAMILIES:
        planted_w = pd.Series(truth[family]["weights"])[COMPS]
        est = _weights(uncapped, family)["estimate_weight"]
        assert est.idxmax() == planted_w.idxmax(), (family, est.round(3).to_dict())
        for i, a in enumerate(COMPS):
            for b in COMPS[i + 1 :]:
                gap = planted_w[a] - planted_w[b]
                if abs(gap) >= RANKING_GAP and np.sign(est[a] - est[b]) != np.sign(gap):
                    misordered.append((family, a, b, round(gap, 3), round(est[a] - est[b], 3)))
    assert not misordered


def test_recommended_weights_are_within_tolerance_of_the_planted_optimum(recovery):
    truth, uncapped, _ = recovery
    errors = {}
    for family in JOB_FAMILIES:
        planted_w = pd.Series(truth[family]["weights"])[COMPS]
        w = _weights(uncapped, family)
        assert w["recommended_weight"].sum() == pytest.approx(1.0)
        errors[family] = float((w["recommended_weight"] - planted_w).abs().max())
    assert max(errors.values()) <= WEIGHT_TOLERANCE, errors


def test_capped_recommendation_moves_every_clearly_wrong_weight_toward_the_optimum(recovery):
    truth, _, capped = recovery
    for family in JOB_FAMILIES:
        planted_w = pd.Series(truth[family]["weights"])[COMPS]
        w = _weights(capped, family)
        gap = planted_w.to_numpy() - w["current_weight"].to_numpy()
        clear = np.abs(gap) > pipeline.DEFAULT_MAX_CHANGE
        assert (np.sign(w["change"].to_numpy()[clear]) == np.sign(gap[clear])).all(), family
        assert (w["change"].abs() <= pipeline.DEFAULT_MAX_CHANGE + 1e-9).all()


def test_recommended_composite_validity_out_of_sample_beats_current_and_unit(recovery):
    truth, uncapped, capped = recovery
    for tables in (capped, uncapped):
        v = tables["recommendation_validity"].pivot(index="job_family", columns="weighting", values="holdout_r")
        for family in JOB_FAMILIES:
            should_gain = truth[family]["validity_optimal"] - truth[family]["validity_current"] > 0.02
            if should_gain:
                row = v.loc[family]
                assert row["recommended"] >= row["current"] and row["recommended"] >= row["unit"], (family, row)
    n = capped["recommendation_validity"].groupby("job_family")["holdout_n"].max()
    assert (n >= 200).all()


# ----------------------------------------------------------------------------------------- interval coverage


@pytest.fixture(scope="module")
def coverage():
    rows = []
    for seed in COVERAGE_SEEDS:
        hires, applicants, _, segments, _ = simulate_world(seed, COVERAGE_CANDIDATES, transcripts=True)
        text = pipeline.transcript_tables(segments)["transcript_features"]
        cox = pipeline.turnover_tables(hires, applicants, COMPS)["turnover_cox"]
        counts = pipeline.complaint_tables(hires, applicants, COMPS, text)
        exit_truth = observed_scale(applicants, params.EXIT_LOG_HAZARD)
        complaint_truth = observed_scale(applicants, params.COMPLAINT_LOG_RATE_RATIOS)
        for r in cox[(cox["scope"] != "all") & cox["term"].isin(COMPS)].itertuples(index=False):
            rows.append(("cox", seed, r.scope, r.term, r.ci_low, r.ci_high, exit_truth[r.scope][r.term]))
        keep = (counts["scope"] != "all") & counts["term"].isin([*COMPS, "care_mention"])
        for r in counts[keep].itertuples(index=False):
            planted_log = (
                params.KEYWORD_LOG_RATE_RATIO.get(r.scope, 0.0)
                if r.term == "care_mention"
                else complaint_truth[r.scope][r.term]
            )
            rows.append(("complaints", seed, r.scope, r.term, r.ci_low, r.ci_high, planted_log))
    out = pd.DataFrame(rows, columns=["model", "seed", "scope", "term", "ci_low", "ci_high", "planted_log"])
    out["covered"] = (np.log(out["ci_low"]) <= out["planted_log"]) & (out["planted_log"] <= np.log(out["ci_high"]))
    return out


def test_planted_hazard_and_rate_ratios_lie_inside_the_95_intervals_in_most_seeds(coverage):
    # 3 seeds x 5 families x 6 competencies = 90 Cox intervals (fewer if a seed leaves finance, the family with
    # the fewest exits, under the events-per-term gate); 3 x 2 families x (6 + care term) = 42 complaint ones.
    # Nominal coverage is 95%. Measured on the observed-score scale over seeds 31-36 at 40k candidates: Cox
    # 158/168 = 94%, complaints 79/84 = 94% (on the raw latent scale 93% and 88%: the mapping matters). Below
    # 85% overall, or 70% in any one seed, is a biased model, not bad luck (>3 binomial SDs).
    sizes = coverage.groupby("model").size()
    by_model = coverage.groupby("model")["covered"].mean()
    by_seed = coverage.groupby(["model", "seed"])["covered"].mean()
    assert sizes["cox"] >= len(COVERAGE_SEEDS) * (len(JOB_FAMILIES) - 1) * len(COMPS)
    assert sizes["complaints"] == len(COVERAGE_SEEDS) * len(CUSTOMER_FACING) * (len(COMPS) + 1)
    assert (by_model >= 0.85).all(), by_model.to_dict()
    assert (by_seed >= 0.70).all(), by_seed.to_dict()


def test_the_transcript_care_mention_recovers_the_planted_keyword_effect(coverage):
    care = coverage[(coverage["term"] == "care_mention") & (coverage["scope"] == "customer_service")]
    assert len(care) == len(COVERAGE_SEEDS)
    # Rate ratio .65 planted: every seed's interval excludes 1 and most contain .65 (4 of 6 over seeds 31-36).
    assert (care["ci_high"] < 1).all()
    assert care["covered"].mean() >= 0.6


# ------------------------------------------------------------------------------- through the real pipeline


def _snapshot(settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.current_snapshot()), read_only=True)


def test_a_world_with_too_few_hires_gets_insufficient_evidence_not_weights(built_home):
    with _snapshot(built_home) as con:
        recs = con.execute("select * from ml.recommendations").df()
        n_weights = con.execute("select count(*) from ml.recommendation_weights").fetchone()[0]
        n_validity = con.execute("select count(*) from ml.recommendation_validity").fetchone()[0]
        gate = con.execute("select distinct weighting from ml.fairness_gate").df()
    assert len(recs) == len(JOB_FAMILIES)
    assert (recs["status"] == "insufficient_evidence").all()
    assert (recs["n_needed"] == pipeline.DEFAULT_MIN_HIRES).all()
    assert (recs["n_hires_with_outcomes"] < recs["n_needed"]).all()
    assert recs["lambda"].isna().all() and not recs["flagged"].any()
    assert n_weights == 0 and n_validity == 0
    assert set(gate["weighting"]) <= {"current"}


def test_every_ml_table_is_published_with_its_column_contract(built_home):
    with _snapshot(built_home) as con:
        for name, contract in pipeline.CONTRACTS.items():
            cols = [r[0] for r in con.execute(f"describe ml.{name}").fetchall()]
            assert cols[: len(contract)] == list(contract), name
            assert {"model_version", "fitted_at"} <= set(cols), name
        registered = {r[0] for r in con.execute("select distinct model from ml.model_runs").fetchall()}
        counts = {name: con.execute(f"select count(*) from ml.{name}").fetchone()[0] for name in pipeline.CONTRACTS}
    assert set(pipeline.CONTRACTS) <= registered
    for name in ("validity", "recommendations", "fairness_gate", "turnover_km", "turnover_cox", "complaint_model"):
        assert counts[name] > 0, name
    assert counts["transcript_features"] > 0 and counts["keyword_evidence"] > 0 and counts["resume_features"] > 0


def test_model_output_checks_pass_on_the_published_tables(built_home):
    with _snapshot(built_home) as con:
        for check in (WEIGHTS_ON_SIMPLEX, HAZARD_RATIOS_POSITIVE, RATE_RATIOS_POSITIVE, IMPACT_RATIOS_BOUNDS):
            outcome = run_check(con, check)
            assert outcome.passed, (check.name, outcome.results)


def test_transcript_keywords_find_exactly_the_planted_care_mentions(built_home):
    key = load_or_create_key(built_home.pseudonym_key_file)
    truth = pd.read_csv(built_home.home / "world" / "hires.csv")
    truth["employee_key"] = [pseudonym(e, key) for e in truth["employee_id"]]
    with _snapshot(built_home) as con:
        hires = con.execute("select employee_key, interview_id from marts.hires where interview_id is not null").df()
        kw = con.execute("select interview_id, kw_customer_orientation from ml.transcript_features").df()
        ev = con.execute("select snippet, competency_code from ml.keyword_evidence").df()
    got = hires.merge(kw, on="interview_id").merge(truth, on="employee_key")
    assert len(got) >= 50
    mention = got["kw_customer_orientation"] > 0
    agree = (mention == got["care_mention"].astype(str).str.lower().eq("true")).mean()
    # The lexicon finds the trait exactly; the only misses seen (2 of 1,506 at 20k candidates) are hires that
    # marts.hires links to another employee's candidate, so they carry someone else's interview.
    assert agree >= 0.99, agree
    assert ev["snippet"].str.len().max() <= pipeline.SNIPPET_CHARS


def test_resume_interview_mismatch_flags_catch_planted_claim_inflation(built_home):
    key = load_or_create_key(built_home.pseudonym_key_file)
    truth = json.loads((built_home.home / "world" / "truth.json").read_text(encoding="utf-8"))
    inflated = {pseudonym(c, key) for c in truth["resume_interview_mismatch"]["candidate_ids"]}
    with _snapshot(built_home) as con:
        resumes = con.execute("select candidate_key, resume_interview_mismatch from ml.resume_features").df()
    flagged = set(resumes.loc[resumes["resume_interview_mismatch"], "candidate_key"])
    present = inflated & set(resumes["candidate_key"])
    assert len(present) >= 10
    # The flag is a top-quarter resume behind a bottom-quarter interview; inflators are weak candidates with
    # long claims, so most are caught, and most flags are inflators.
    assert len(flagged & present) / len(present) >= 0.5
    assert len(flagged & present) / len(flagged) >= 0.5
