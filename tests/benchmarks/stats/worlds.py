"""Simulated family-worlds for the statistical benchmark: the sample generator's own laws, without the files.

One world is one job family hiring over `days_of_hiring` days and observed `followup_days` after the window
closes. Everything statistical is the generator's code: requisitions and people (truth.draw_requisitions,
truth.draw_pool: chunk.latents with the planted or overridden group differences, scoring.draw_ratings with a
regional interviewer pool from scoring.make_interviewers, AI and human raters, rounding and rating words,
scoring.mean_scores), selection (truth.select: chunk._selection's top share per requisition by current composite
+ judgement noise, offers accepted at OFFER_ACCEPT_RATE), and the employee's life (outcomes.simulate, reviews,
complaints). What is left out is what carries no statistics: names, resumes, transcripts, the screening funnel
(completed interviews are drawn directly: the resume screen shifts the interviewed pool's latents by -0.015 SD and
widens them by 0.7%, measured on 100,000 candidates) and the day-by-day timing of the funnel (a requisition's hires
start within 22 days of each other, as the generator's 14-36-day start lag spreads them).

The frames are what the ml code reads: `hires` as marts.hires (with the candidate's gender and ethnicity) and
`applicants` as the pipeline's applicant pool, both as the warehouse would show them on `as_of_date`. Columns that
start with "_" are planted truth the warehouse never has.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ingestion.generator import outcomes, params, scoring, truth
from ingestion.generator.vocab import COMPETENCIES, JOB_FAMILIES, REGIONS

SIZES = (150, 330, 1100)
CACHE_DIR = Path(__file__).resolve().parents[3] / ".bench" / "stats_truth"
# Bump when the laws or the truth code change, so cached truth is recomputed.
TRUTH_VERSION = 1
# The hires-only optimum rests on the ~22% of the reference pool that is hired: at 200,000 applicants its weights
# vary by up to .015 (SD over seeds), at 1,000,000 by about .006; the applicant optimum by .006 and .003. One
# million costs about 30 s of CPU and 1.3 GB once, then comes from the cache.
BENCHMARK_TRUTH_N = 1_000_000
DEFAULT_START = date(2024, 1, 1)
FIRST_YEAR_DAYS = 365
# chunk._selection starts a hire 14-36 days after acceptance: hires of one requisition spread over 22 days.
START_SPREAD_DAYS = 22
UNKNOWN = truth.UNKNOWN_GROUP
SCORE_COLUMNS = [f"score_{c}" for c in COMPETENCIES]
LATENT_COLUMNS = [f"_latent_{c}" for c in COMPETENCIES]
REVIEW_PERIODS = tuple(params.REVIEW_DAYS)  # 3m, 6m, 12m
SCALE_MAX = np.asarray([params.REVIEW_SCALE_BY_REGION[r][1] for r in REGIONS], dtype=float)
SCALE_MIN = np.asarray([params.REVIEW_SCALE_BY_REGION[r][0] for r in REGIONS], dtype=float)


@dataclass
class World:
    """A simulated family-world; `hires` and `applicants` as the warehouse shows them on as_of_date."""

    seed: int
    job_family: str
    start_date: date
    days_of_hiring: int
    followup_days: int
    as_of_date: date
    current_weights: dict[str, float]
    group_differences: dict
    hires: pd.DataFrame
    applicants: pd.DataFrame
    info: dict
    _state: dict = field(repr=False)

    def observe(self, as_of_date: date) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(hires, applicants) as the warehouse would show them on an earlier as-of date: the same people, less
        follow-up (exits, reviews and complaints after it unknown, recent hires not yet in the first year)."""
        day = (as_of_date - self.start_date).days
        if day > self._state["as_of_day"]:
            raise ValueError(f"outcomes are simulated up to {self.as_of_date}; observe on or before it")
        return _hires_frame(self._state, day, self.start_date), _applicants_frame(self._state, day)


def _eligible_probability(req_day: np.ndarray, limit_day: int) -> np.ndarray:
    """P(a hire of a requisition decided on req_day has HRIS hire day <= limit_day): start offset 0..21 days, and
    HRIS_HIRE_DATE_SHIFT_SHARE of hire dates moved by up to +-HRIS_HIRE_DATE_MAX_SHIFT_DAYS (outcomes.simulate)."""
    offsets = np.arange(START_SPREAD_DAYS)
    width = params.HRIS_HIRE_DATE_MAX_SHIFT_DAYS
    shifts = np.arange(-width, width + 1)
    p_shift = np.full(len(shifts), params.HRIS_HIRE_DATE_SHIFT_SHARE / len(shifts))
    p_shift[width] += 1 - params.HRIS_HIRE_DATE_SHIFT_SHARE
    day = req_day[:, None, None] + offsets[None, :, None] + shifts[None, None, :]
    weight = p_shift[None, None, :] / len(offsets)
    return ((day <= limit_day) * weight).sum(axis=(1, 2))


def _requisitions(rng, n_hires: int, days: int, limit_day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Draw requisitions until their expected number of counted hires reaches n_hires; (sizes, region, day, E)."""
    sizes, regions, req_days = [], [], []
    expected = 0.0
    # Each requisition yields about 0.8 x ceil(0.25 x 17.4) = 3.8 hires: draw a batch of that and top up if short.
    batch = max(8, int(n_hires / 3.0))
    while expected < n_hires:
        s, r = truth.draw_requisitions(rng, batch)
        d = rng.integers(0, max(1, days - START_SPREAD_DAYS + 1), batch)
        per_req = (
            params.OFFER_ACCEPT_RATE * np.ceil(params.SELECTION_TOP_SHARE * s) * _eligible_probability(d, limit_day)
        )
        if per_req.sum() == 0:
            raise ValueError("no hire can be counted in this window: lengthen followup_days or use target='all'")
        cum = expected + np.cumsum(per_req)
        take = int(np.searchsorted(cum, n_hires)) + 1 if cum[-1] >= n_hires else batch
        sizes.append(s[:take])
        regions.append(r[:take])
        req_days.append(d[:take])
        expected = float(cum[take - 1])
    return np.concatenate(sizes), np.concatenate(regions), np.concatenate(req_days), expected


def simulate_world(
    seed: int,
    job_family: str,
    n_hires: int = 330,
    days_of_hiring: int = 365,
    followup_days: int = FIRST_YEAR_DAYS,
    group_differences: dict | None = None,
    current_weights=None,
    start_date: date = DEFAULT_START,
    target: str = "eligible",
) -> World:
    """One job family's hiring and first years, from the generator's data-generating process.

    seed: the world (with job_family); the same arguments give the same frames.
    n_hires: the expected number of hires with a complete 12-month window (hire_date + 365 <= as_of_date) when
        target is "eligible", or of all hires in the warehouse (hire_date < as_of_date) when target is "all";
        the applicant pool is sized to it (about 4.6 completed interviews per hire), the realised count varies
        around it (offer acceptance is random: SD about sqrt(0.2 n)).
    days_of_hiring: requisitions are decided uniformly over this many days from start_date.
    followup_days: as_of_date = start_date + days_of_hiring + followup_days. 365 or more: every hire's first
        year is over (bar a few HRIS date shifts past the window's end); less: the newest hires are still in their
        first year (is_retained_12m unknown, later reviews not yet due), as a live warehouse has them.
    group_differences: latent mean shifts by group, params.GROUP_DIFFERENCES by default; {} plants none.
    current_weights: the scorecard in use, {competency: weight} or a K-sequence (rescaled to sum to 1); unit
        weights by default. Selection and the `composite` columns use it.
    """
    if job_family not in JOB_FAMILIES:
        raise ValueError(f"unknown job family {job_family!r}")
    if n_hires < 1 or days_of_hiring < 1 or followup_days < 0:
        raise ValueError("n_hires and days_of_hiring must be positive and followup_days non-negative")
    if target not in ("eligible", "all"):
        raise ValueError("target is 'eligible' or 'all'")
    f = JOB_FAMILIES.index(job_family)
    weights = truth.weight_vector(np.full(len(COMPETENCIES), 1.0) if current_weights is None else current_weights)
    group_differences = params.GROUP_DIFFERENCES if group_differences is None else group_differences
    as_of_day = days_of_hiring + followup_days
    limit_day = as_of_day - FIRST_YEAR_DAYS if target == "eligible" else as_of_day - 1

    rng = np.random.default_rng([seed, 31, f])
    sizes, req_region, req_day, expected = _requisitions(rng, n_hires, days_of_hiring, limit_day)
    # A regional pool of about one interviewer per 100 candidates behind these interviews, as the generator's.
    candidates = round(int(sizes.sum()) / truth.COMPLETED_PER_CANDIDATE)
    interviewers = scoring.make_interviewers(np.random.default_rng([seed, 32, f]), candidates)
    pool = truth.draw_pool(rng, sizes, req_region, interviewers, group_differences)
    composite = scoring.composite(pool.scores, np.zeros(len(pool), dtype=int), weights[None, :])
    offered, hired = truth.select(rng, composite, pool.req)

    n = len(pool)
    candidate_key = np.asarray([f"C-{i + 1:07d}" for i in range(n)], dtype=object)
    rows = np.flatnonzero(hired)
    start_day = req_day[pool.req[rows]] + rng.integers(0, START_SPREAD_DAYS, len(rows))
    care_observable = pool.care[rows] & pool.has_ai[rows]
    hires = truth.as_hires(f, pool.z[rows], pool.region[rows], care_observable, start_day, candidate_key[rows])
    out = outcomes.simulate(rng, hires, 0)
    rev = outcomes.reviews(rng, hires, out)
    found = outcomes.complaints(rng, hires, out, as_of_day)

    state = {
        "as_of_day": as_of_day,
        "family": job_family,
        "pool": pool,
        "candidate_key": candidate_key,
        "requisition_id": np.asarray([f"REQ-{i + 1:06d}" for i in range(len(sizes))], dtype=object),
        "req_day": req_day,
        "composite": composite,
        "offered": offered,
        "rows": rows,
        "care_observable": care_observable,
        "out": out,
        "reviews": rev,
        "complaint_hire": found["hire"],
        "complaint_day": found["day"],
    }
    as_of_date = start_date + timedelta(days=as_of_day)
    hires_frame = _hires_frame(state, as_of_day, start_date)
    applicants_frame = _applicants_frame(state, as_of_day)
    info = {
        "n_requisitions": len(sizes),
        "n_applicants": n,
        "n_offers": int(offered.sum()),
        "n_hires": len(hires_frame),
        "n_hires_12m_complete": int(hires_frame["is_retained_12m"].notna().sum()),
        "expected_counted_hires": round(expected, 1),
        "target": target,
        "n_interviewers": len(interviewers.ids),
    }
    return World(
        seed=seed,
        job_family=job_family,
        start_date=start_date,
        days_of_hiring=days_of_hiring,
        followup_days=followup_days,
        as_of_date=as_of_date,
        current_weights=dict(zip(COMPETENCIES, weights.round(10).tolist(), strict=True)),
        group_differences=group_differences,
        hires=hires_frame,
        applicants=applicants_frame,
        info=info,
        _state=state,
    )


def _groups(values: np.ndarray) -> np.ndarray:
    return np.where(values == "", UNKNOWN, values).astype(object)


def _dates(start: date, days: np.ndarray) -> pd.Series:
    return pd.Series(np.datetime64(start, "D") + np.asarray(days, dtype="timedelta64[D]")).astype("datetime64[ns]")


def _hires_frame(state: dict, as_of_day: int, start: date) -> pd.DataFrame:
    """marts.hires on as_of_day: hires before it, exits, reviews and complaints before it."""
    pool, out, rev, rows = state["pool"], state["out"], state["reviews"], state["rows"]
    keep = np.flatnonzero(out.hire_day < as_of_day)
    hire_day = out.hire_day[keep]
    exit_day = out.exit_day[keep]
    left = np.isfinite(exit_day) & (hire_day + exit_day < as_of_day)
    tenure = np.where(left, exit_day, as_of_day - hire_day).astype(np.int64)
    position = np.full(len(out.hire_day), -1)
    position[keep] = np.arange(len(keep))

    frame = {
        "employee_key": out.employee_id[keep],
        "candidate_key": state["candidate_key"][rows[keep]],
        "requisition_id": state["requisition_id"][pool.req[rows[keep]]],
        "job_family": np.full(len(keep), state["family"], dtype=object),
        "region": np.asarray(REGIONS, dtype=object)[pool.region[rows[keep]]],
        "gender": _groups(pool.gender[rows[keep]]),
        "ethnicity": _groups(pool.ethnicity[rows[keep]]),
        "hire_date": _dates(start, hire_day),
        "as_of_date": _dates(start, np.full(len(keep), as_of_day)),
        "composite_score": state["composite"][rows[keep]],
    }
    for k, column in enumerate(SCORE_COLUMNS):
        frame[column] = pool.scores[rows[keep], k]

    seen = (position[rev["hire"]] >= 0) & (out.hire_day[rev["hire"]] + rev["after"] < as_of_day)
    for period in REVIEW_PERIODS:
        r = seen & (rev["period"] == period)
        rating = np.full(len(keep), np.nan)
        region = pool.region[rows[rev["hire"][r]]]
        lo = SCALE_MIN[region]
        rating[position[rev["hire"][r]]] = (rev["rating"][r].astype(float) - lo) / (SCALE_MAX[region] - lo)
        frame[f"rating_{period}"] = rating
    probation = seen & (rev["period"] == "probation")
    passed = pd.Series(pd.NA, index=range(len(keep)), dtype="boolean")
    passed.iloc[position[rev["hire"][probation]]] = rev["passed"][probation].astype(bool)
    frame["probation_passed"] = passed

    exit_abs = hire_day + np.where(left, exit_day, 0).astype(np.int64)
    frame["termination_date"] = _dates(start, exit_abs).where(left)
    frame["termination_type"] = np.where(left, out.exit_type[keep], None)
    frame["termination_reason"] = np.where(left, out.exit_reason[keep], None)
    frame["is_active"] = ~left
    frame["tenure_days"] = tenure
    complete = hire_day + FIRST_YEAR_DAYS <= as_of_day
    retained = pd.Series(tenure >= FIRST_YEAR_DAYS, dtype="boolean")
    frame["is_retained_12m"] = retained.where(complete, pd.NA)  # nullable boolean, NA while the year is open
    counted = (position[state["complaint_hire"]] >= 0) & (state["complaint_day"] < as_of_day)
    count = np.bincount(position[state["complaint_hire"][counted]], minlength=len(keep))
    frame["count_complaints"] = count
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["complaints_per_1000_days"] = np.where(tenure > 0, 1000.0 * count / tenure, np.nan)
    frame["_true_performance"] = out.performance[keep]
    frame["_true_exit_day"] = exit_day
    frame["_true_exit_type"] = out.exit_type[keep]
    frame["_care_mention"] = state["care_observable"][keep]
    for k, column in enumerate(LATENT_COLUMNS):
        frame[column] = pool.z[rows[keep], k]
    return pd.DataFrame(frame).sort_values("employee_key", kind="stable").reset_index(drop=True)


def _applicants_frame(state: dict, as_of_day: int) -> pd.DataFrame:
    """The applicant pool: completed interviews of requisitions decided before as_of_day, hired = in marts.hires."""
    pool, out, rows = state["pool"], state["out"], state["rows"]
    keep = state["req_day"][pool.req] < as_of_day
    hired = np.zeros(len(pool), dtype=np.int64)
    hired[rows[out.hire_day < as_of_day]] = 1
    frame = {
        "candidate_key": state["candidate_key"],
        "requisition_id": state["requisition_id"][pool.req],
        "job_family": np.full(len(pool), state["family"], dtype=object),
        "region": np.asarray(REGIONS, dtype=object)[pool.region],
        "gender": _groups(pool.gender),
        "ethnicity": _groups(pool.ethnicity),
    }
    for k, column in enumerate(SCORE_COLUMNS):
        frame[column] = pool.scores[:, k]
    frame["composite"] = state["composite"]
    frame["offered"] = state["offered"]
    frame["hired"] = hired
    for k, column in enumerate(LATENT_COLUMNS):
        frame[column] = pool.z[:, k]
    return pd.DataFrame(frame)[keep].reset_index(drop=True)


def benchmark_truth(
    mix: dict[str, float] | None = None,
    group_differences: dict | None = None,
    current_weights=None,
    n: int = BENCHMARK_TRUTH_N,
    seed: int = 0,
    cache_dir: Path | None = CACHE_DIR,
) -> dict[str, dict]:
    """truth.criterion_truth for the law (an interviewer pool sized for n, not one world's), cached as JSON.

    Per family: optimal weights among applicants and among hires, validities, the planted validity ranking and the
    impact ratios of the current and optimal weights. About 4 s of CPU at n = 200,000, 30 s at 1,000,000.
    current_weights: as simulate_world's, applied to every family (None = unit weights).
    """
    weights = None if current_weights is None else {f: current_weights for f in JOB_FAMILIES}
    key = {
        "version": TRUTH_VERSION,
        "mix": mix,
        "group_differences": group_differences,
        "weights": None if weights is None else truth.weight_vector(current_weights).round(12).tolist(),
        "n": n,
        "seed": seed,
    }
    path = None
    if cache_dir is not None:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        path = Path(cache_dir) / f"criterion_{digest}.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))["truth"]
    result = truth.criterion_truth(seed, None, mix, n, weights, group_differences)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"key": key, "truth": result}, indent=1, ensure_ascii=False)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return json.loads(json.dumps(result))


def seconds_per_world(sizes=SIZES, worlds: int = 20, job_family: str = "customer_service") -> dict[int, float]:
    """Mean wall seconds to simulate one family-world at each size (after one warm-up world)."""
    simulate_world(0, job_family, n_hires=sizes[0])
    timings = {}
    for n in sizes:
        t = time.perf_counter()
        for seed in range(worlds):
            simulate_world(seed, job_family, n_hires=n)
        timings[n] = (time.perf_counter() - t) / worlds
    return timings


if __name__ == "__main__":
    for size, seconds in seconds_per_world().items():
        print(f"{size:>5} hires: {seconds:.3f} s per family-world")
