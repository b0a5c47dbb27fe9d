"""After the hire: the HRIS employee rows, performance reviews, exits and customer complaints."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.generator import params
from ingestion.generator.vocab import (
    COMPETENCIES,
    COMPLAINT_CATEGORIES,
    COMPLAINT_CHANNELS,
    CUSTOMER_FACING,
    DEPARTMENTS,
    FAILED_PROBATION_REASON,
    JOB_FAMILIES,
    REGIONS,
    SEVERITIES,
    TERMINATION_REASONS,
)

DAY_S = 86_400
MANAGERS_PER_TEAM = 3
DEPARTMENT_LIST = [(f, d) for f in JOB_FAMILIES for d in DEPARTMENTS[f]]


def beta_matrix(table: dict[str, dict[str, float]], families: tuple[str, ...] = JOB_FAMILIES) -> np.ndarray:
    """Per-family coefficient rows in COMPETENCIES order (missing = 0)."""
    return np.asarray([[table.get(f, {}).get(c, 0.0) for c in COMPETENCIES] for f in families])


PERFORMANCE_B = beta_matrix(params.PERFORMANCE_BETAS)
EXIT_B = beta_matrix(params.EXIT_LOG_HAZARD)
COMPLAINT_B = beta_matrix(params.COMPLAINT_LOG_RATE_RATIOS)


def residual_sd() -> np.ndarray:
    """Per family, the SD of performance not explained by the latents, so performance has unit variance."""
    sigma = np.asarray(params.latent_covariance())
    explained = np.einsum("fi,ij,fj->f", PERFORMANCE_B, sigma, PERFORMANCE_B)
    return np.sqrt(1.0 - explained)


@dataclass
class Hires:
    """One row per hire in this chunk (ATS side)."""

    candidate_id: np.ndarray
    family: np.ndarray
    department: np.ndarray
    region: np.ndarray
    z: np.ndarray
    start_day: np.ndarray  # the ATS hired (start) day
    care_observable: np.ndarray
    email: np.ndarray
    work_email: np.ndarray
    full_name: np.ndarray


@dataclass
class Outcomes:
    employee_id: np.ndarray
    hire_day: np.ndarray
    performance: np.ndarray
    exit_day: np.ndarray  # days after hire; inf if never within the simulation
    exit_type: np.ndarray
    exit_reason: np.ndarray
    probation_day: np.ndarray  # days after hire
    manager_id: np.ndarray
    link_method: np.ndarray
    hris_candidate_id: np.ndarray
    hris_email: np.ndarray


def simulate(rng: np.random.Generator, hires: Hires, first_employee: int) -> Outcomes:
    h = len(hires.family)
    performance = (hires.z * PERFORMANCE_B[hires.family]).sum(axis=1) + residual_sd()[hires.family] * rng.normal(
        0.0, 1.0, h
    )
    shift = np.where(
        rng.random(h) < params.HRIS_HIRE_DATE_SHIFT_SHARE,
        rng.integers(-params.HRIS_HIRE_DATE_MAX_SHIFT_DAYS, params.HRIS_HIRE_DATE_MAX_SHIFT_DAYS + 1, h),
        0,
    )
    hire_day = hires.start_day + shift
    probation = probation_days(rng, hires.family)
    exit_day, exit_type, exit_reason = _exits(rng, hires, performance, probation)
    blank_id = rng.random(h) < params.HRIS_CANDIDATE_ID_BLANK
    work = blank_id & (rng.random(h) < params.HRIS_WORK_EMAIL_WHEN_NO_ID)
    link = np.where(~blank_id, "candidate_id", np.where(work, "name_hire_date", "email")).astype(object)
    order = np.lexsort((hires.candidate_id.astype(str), hire_day))
    employee_id = np.empty(h, dtype=object)
    employee_id[order] = [f"EMP-{first_employee + i + 1:06d}" for i in range(h)]
    team = np.asarray(
        [DEPARTMENT_LIST.index((JOB_FAMILIES[f], d)) for f, d in zip(hires.family, hires.department, strict=True)]
    )
    manager = (team * len(REGIONS) + hires.region) * MANAGERS_PER_TEAM + rng.integers(0, MANAGERS_PER_TEAM, h)
    return Outcomes(
        employee_id=employee_id,
        hire_day=hire_day,
        performance=performance,
        exit_day=exit_day,
        exit_type=exit_type,
        exit_reason=exit_reason,
        probation_day=probation,
        manager_id=np.asarray([f"MGR-{m + 1:04d}" for m in manager], dtype=object),
        link_method=link,
        hris_candidate_id=np.where(blank_id, None, hires.candidate_id).astype(object),
        hris_email=np.where(work, hires.work_email, hires.email).astype(object),
    )


def probation_days(rng: np.random.Generator, family: np.ndarray) -> np.ndarray:
    base = np.asarray([params.PROBATION_DAYS[f] for f in JOB_FAMILIES])[family]
    return base + rng.integers(0, 6, len(family))


def _exits(rng: np.random.Generator, hires: Hires, performance: np.ndarray, probation: np.ndarray):
    """Competing risks: voluntary (Cox on latents), failed probation, involuntary (driven by low performance)."""
    h = len(hires.family)
    baseline = np.asarray([params.VOLUNTARY_BASELINE_HAZARD[f] for f in JOB_FAMILIES])[hires.family]
    voluntary_rate = baseline * np.exp((hires.z * EXIT_B[hires.family]).sum(axis=1))
    t_voluntary = rng.exponential(1.0 / voluntary_rate)
    involuntary_rate = params.INVOLUNTARY_BASELINE_HAZARD * np.exp(
        params.INVOLUNTARY_LOG_HAZARD_PER_SD_PERFORMANCE * performance
    )
    t_involuntary = rng.exponential(1.0 / involuntary_rate)
    fails = performance + rng.normal(0.0, params.PROBATION_NOISE_SD, h) < params.PROBATION_FAIL_THRESHOLD
    t_probation = np.where(fails, probation + rng.integers(0, 4, h), np.inf)
    t = np.minimum.reduce([t_voluntary, t_involuntary, t_probation])
    exit_day = np.maximum(np.ceil(t), 1.0)
    voluntary = t == t_voluntary
    exit_type = np.where(voluntary, "voluntary", "involuntary").astype(object)
    reason = np.empty(h, dtype=object)
    vol_reasons = np.asarray(TERMINATION_REASONS["voluntary"], dtype=object)
    inv_reasons = np.asarray(TERMINATION_REASONS["involuntary"], dtype=object)
    reason[voluntary] = vol_reasons[rng.integers(0, len(vol_reasons), int(voluntary.sum()))]
    reason[~voluntary] = inv_reasons[rng.integers(0, len(inv_reasons), int((~voluntary).sum()))]
    reason[t == t_probation] = FAILED_PROBATION_REASON
    return exit_day, exit_type, reason


def review_rating(rng: np.random.Generator, performance: np.ndarray, scale_max: np.ndarray) -> np.ndarray:
    """A period rating: performance + period noise, cut into 1-5 categories or spread linearly over 1-10."""
    x = performance + rng.normal(0.0, params.PERIOD_NOISE_SD, len(performance))
    five = 1 + np.searchsorted(np.asarray(params.RATING_CUTPOINTS_1_5), x)
    ten = np.clip(np.round(5.5 + 2.0 * x), 1, 10)
    return np.where(scale_max == 10, ten, five).astype(np.int64)


def reviews(rng: np.random.Generator, hires: Hires, out: Outcomes) -> dict[str, np.ndarray]:
    """Probation and 3/6/12-month reviews held while the person was still employed."""
    h = len(hires.family)
    scale_max = np.asarray([params.REVIEW_SCALE_BY_REGION[REGIONS[r]][1] for r in hires.region], dtype=int)
    parts = []
    passed = out.exit_reason != FAILED_PROBATION_REASON
    parts.append(("probation", np.arange(h), out.probation_day, None, passed))
    for period, offset in params.REVIEW_DAYS.items():
        due = offset + rng.integers(0, 11, h)
        parts.append((period, np.arange(h), due, review_rating(rng, out.performance, scale_max), None))
    rows = {k: [] for k in ("hire", "period", "after", "rating", "passed")}
    for period, idx, after, rating, passed_flag in parts:
        # Held while employed; a failed probation review is held on the day probation ends, before the exit.
        held = after < out.exit_day if period != "probation" else after <= out.exit_day
        rows["hire"].append(idx[held])
        rows["period"].append(np.full(int(held.sum()), period, dtype=object))
        rows["after"].append(after[held])
        rows["rating"].append(np.full(h, None, dtype=object)[held] if rating is None else rating[held].astype(object))
        rows["passed"].append(np.full(h, None, dtype=object)[held] if passed_flag is None else passed_flag[held])
    merged = {k: np.concatenate(v) for k, v in rows.items()}
    merged["scale_max"] = scale_max[merged["hire"]]
    return merged


def complaints(rng: np.random.Generator, hires: Hires, out: Outcomes, end_day: int) -> dict[str, np.ndarray]:
    """Poisson complaints over each customer-facing hire's employed days up to the world's end."""
    cf = np.asarray([JOB_FAMILIES[f] in CUSTOMER_FACING for f in hires.family], dtype=bool)
    exposure = np.clip(np.minimum(out.exit_day, end_day - out.hire_day), 0, None)
    exposure = np.where(cf & np.isfinite(exposure), exposure, 0.0)
    family_names = [JOB_FAMILIES[f] for f in hires.family]
    base = np.asarray([params.COMPLAINT_BASELINE_PER_1000_DAYS.get(f, 0.0) for f in family_names], dtype=float)
    keyword = np.asarray([params.KEYWORD_LOG_RATE_RATIO.get(f, 0.0) for f in family_names], dtype=float)
    log_ratio = (hires.z * COMPLAINT_B[hires.family]).sum(axis=1) + keyword * hires.care_observable
    rate = base / 1000.0 * np.exp(log_ratio)
    count = rng.poisson(rate * exposure)
    who = np.repeat(np.arange(len(count)), count)
    day = out.hire_day[who] + np.floor(rng.random(len(who)) * exposure[who]).astype(int)
    n = len(who)
    return {
        "hire": who,
        "day": day,
        "secs": day * DAY_S + rng.integers(7 * 3600, 22 * 3600, n),
        "channel": np.asarray(COMPLAINT_CHANNELS, dtype=object)[rng.choice(5, n, p=(0.35, 0.25, 0.25, 0.05, 0.10))],
        "category": np.asarray(COMPLAINT_CATEGORIES, dtype=object)[rng.integers(0, len(COMPLAINT_CATEGORIES), n)],
        "severity": np.asarray(SEVERITIES, dtype=object)[rng.choice(3, n, p=(0.6, 0.3, 0.1))],
        "substantiated": rng.random(n) < 0.45,
    }
