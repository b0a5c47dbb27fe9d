"""Planted truth that needs computing: the optimal weights, and the assembled truth.json document."""

from __future__ import annotations

import functools
import itertools
import json
import math
from dataclasses import dataclass

import numpy as np

from ingestion.generator import outcomes, params, scoring
from ingestion.generator.chunk import Stats, current_weights, latents
from ingestion.generator.vocab import (
    AI_VENDORS,
    CARE_LEXICON,
    COMPETENCIES,
    CUSTOMER_FACING,
    DEPARTMENTS,
    ETHNICITIES,
    GENDERS,
    JOB_FAMILIES,
    REGIONS,
    SCORECARD_TOOLS,
)

REFERENCE_SAMPLE = 100_000
OPTIMAL_WEIGHTS_METHOD = (
    "Large-sample regression on simulated applicants: 100,000 completed interviews scored by the world's own "
    "measurement model (region mix, vendors, interviewer pool, 1-3 human raters, rounding, rating words); the 0-1 "
    "normalised mean-over-raters score per competency is regressed on the true performance latent with weights "
    "constrained non-negative (exact active-set search), then scaled to sum to 1. In the applicant population, "
    "these weights maximise the composite's correlation with performance, and so with the 6-month rating "
    "(performance + independent period noise)."
)


def nonnegative_direction(cov: np.ndarray, target: np.ndarray) -> np.ndarray:
    """argmin_{w >= 0} w'Cw - 2w't by trying every active set (6 competencies: 63 subsets)."""
    k = len(target)
    best, best_value = np.zeros(k), 0.0
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(k), size):
            idx = list(subset)
            w_sub = np.linalg.solve(cov[np.ix_(idx, idx)], target[idx])
            if np.any(w_sub < 0):
                continue
            w = np.zeros(k)
            w[idx] = w_sub
            value = w @ cov @ w - 2 * w @ target
            if value < best_value:
                best, best_value = w, value
    return best


def reference_sample(seed: int, interviewers: scoring.Interviewers) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latents, observed mean scores and region for a large sample of completed interviews."""
    rng = np.random.default_rng([seed, 5])
    n = REFERENCE_SAMPLE
    gender = np.asarray(GENDERS, dtype=object)[rng.choice(len(GENDERS), n, p=params.GENDER_SHARES)]
    region = rng.choice(len(REGIONS), n, p=params.REGION_SHARES)
    answered = np.asarray(ETHNICITIES[:-1], dtype=object)[
        rng.choice(len(ETHNICITIES) - 1, n, p=params.ETHNICITY_SHARES)
    ]
    blank_rate = np.asarray([params.ETHNICITY_BLANK_BY_REGION[r] for r in REGIONS])[region]
    ethnicity = np.where(rng.random(n) < blank_rate, "", answered).astype(object)
    z = latents(rng, gender, ethnicity)
    has_ai = rng.random(n) < params.CONSENT_RECORDING_SHARE * (1 - params.MODE_SHARES[2])
    ratings = scoring.draw_ratings(rng, z, region, has_ai, interviewers, with_text=False)
    return z, scoring.mean_scores(ratings, n), region


def optimal_weights(seed: int, interviewers: scoring.Interviewers) -> dict[str, dict]:
    """Per family: optimal non-negative weights, and the applicant-pool validity of current and optimal composites."""
    z, means, _ = reference_sample(seed, interviewers)
    rng = np.random.default_rng([seed, 6])
    resid = outcomes.residual_sd()
    centred = means - means.mean(axis=0)
    cov = centred.T @ centred / len(means)
    out = {}
    for f, family in enumerate(JOB_FAMILIES):
        performance = z @ outcomes.PERFORMANCE_B[f] + resid[f] * rng.normal(0.0, 1.0, len(z))
        target = centred.T @ (performance - performance.mean()) / len(z)
        direction = nonnegative_direction(cov, target)
        weights = direction / direction.sum()
        current = current_weights()[f]
        out[family] = {
            "weights": _by_competency(weights),
            "validity_optimal": _corr(means @ weights, performance),
            "validity_current": _corr(means @ current, performance),
        }
    return out


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return round(float(np.corrcoef(a, b)[0, 1]), 4)


def _by_competency(values, digits: int = 4) -> dict[str, float]:
    return {c: round(float(v), digits) for c, v in zip(COMPETENCIES, values, strict=True)}


def _sd(acc: list) -> float | None:
    n, s, ss = acc
    if n < 2:
        return None
    mean = s / n
    return round(math.sqrt(max(ss / n - mean * mean, 0.0) * n / (n - 1)), 4)


def family_truth(optimal: dict, criterion_by_family: dict | None = None) -> dict[str, dict]:
    resid = outcomes.residual_sd()
    out = {}
    for f, family in enumerate(JOB_FAMILIES):
        entry = {
            "performance_betas": _by_competency(outcomes.PERFORMANCE_B[f]),
            "performance_residual_sd": round(float(resid[f]), 4),
            "optimal_weights": optimal[family]["weights"],
            "current_weights": _by_competency(current_weights()[f]),
            "validity_in_applicants": {
                "current": optimal[family]["validity_current"],
                "optimal": optimal[family]["validity_optimal"],
                "outcome": "true performance latent",
            },
            "exit_log_hazard": _by_competency(outcomes.EXIT_B[f]),
            "voluntary_baseline_hazard_per_day": round(params.VOLUNTARY_BASELINE_HAZARD[family], 8),
            "probation_days": params.PROBATION_DAYS[family],
        }
        if family in CUSTOMER_FACING:
            entry["complaint_log_rate_ratios"] = _by_competency(outcomes.COMPLAINT_B[f])
            entry["complaint_baseline_per_1000_days"] = params.COMPLAINT_BASELINE_PER_1000_DAYS[family]
            if family in params.KEYWORD_LOG_RATE_RATIO:
                entry["keyword_log_rate_ratio"] = round(params.KEYWORD_LOG_RATE_RATIO[family], 4)
        if criterion_by_family is not None:
            entry["criterion"] = criterion_by_family[family]
        out[family] = entry
    return out


def selection_truth(stats: Stats) -> dict:
    """Range restriction: the composite's SD among completed interviews vs among hires, per family and overall."""
    overall_applicants, overall_hired = [0, 0.0, 0.0], [0, 0.0, 0.0]
    by_family = {}
    for family in JOB_FAMILIES:
        applicants = stats.applicant_composite.get(family, [0, 0.0, 0.0])
        hired = stats.hired_composite.get(family, [0, 0.0, 0.0])
        overall_applicants = [a + b for a, b in zip(overall_applicants, applicants, strict=True)]
        overall_hired = [a + b for a, b in zip(overall_hired, hired, strict=True)]
        by_family[family] = {
            "applicants": applicants[0],
            "hired": hired[0],
            "applicant_composite_sd": _sd(applicants),
            "hired_composite_sd": _sd(hired),
        }
    return {
        "rule": "per requisition, offers to the top share of completed interviews by current composite + noise",
        "composite": "current weights x mean-over-raters normalised (0-1) scores",
        "top_share": params.SELECTION_TOP_SHARE,
        "noise_sd": params.SELECTION_NOISE_SD,
        "offer_accept_rate": params.OFFER_ACCEPT_RATE,
        "applicants": "completed interviews that ended inside the world",
        "hired": "hires whose start (hired event) is inside the world",
        "applicant_composite_sd": _sd(overall_applicants),
        "hired_composite_sd": _sd(overall_hired),
        "by_family": by_family,
    }


def interviewer_truth(interviewers: scoring.Interviewers) -> dict[str, dict]:
    return {
        str(i): {
            "region": REGIONS[interviewers.region[k]],
            "tool": SCORECARD_TOOLS[interviewers.tool[k]].name,
            "leniency": round(float(interviewers.leniency[k]), 4),
            "noise_sd": round(float(interviewers.noise_sd[k]), 4),
        }
        for k, i in enumerate(interviewers.ids)
    }


def model_truth() -> dict:
    """The world's fixed laws, as documentation beside the numbers."""
    return {
        "latent": {
            "distribution": "multivariate normal, unit variance, plus group_differences shifts",
            "correlation": params.LATENT_CORRELATION,
        },
        "measurement": {
            "observed": "latent + rater leniency + noise (SD units), rendered on the vendor or tool scale",
            "scale_span_sd": scoring.SCALE_SPAN_SD,
            "ai_noise_sd": params.AI_NOISE_SD,
            "ai_vendors": {
                v.name: {"scale": [v.scale_min, v.scale_max], "labels": v.label_set, "model_versions": v.model_versions}
                for v in AI_VENDORS
            },
            "ai_vendor_by_region": {r: AI_VENDORS[scoring.REGION_VENDOR[i]].name for i, r in enumerate(REGIONS)},
            "word_thresholds_sd": list(scoring.WORD_THRESHOLDS),
            "normalisation": "(score - scale_min) / (scale_max - scale_min); rating words by rating_words.csv",
            "composite": "sum of weights x mean over raters (AI and humans alike) of the normalised score",
        },
        "performance": {
            "model": "performance = sum(beta_k * latent_k) + residual_sd * N(0,1); unit variance",
            "period_noise_sd": params.PERIOD_NOISE_SD,
            "rating_1_5_cutpoints": list(params.RATING_CUTPOINTS_1_5),
            "rating_1_10": "clip(round(5.5 + 2 * (performance + period noise)), 1, 10)",
            "review_scale_by_region": {r: list(s) for r, s in params.REVIEW_SCALE_BY_REGION.items()},
            "review_days_after_hire": {**params.REVIEW_DAYS, "jitter_days": 10},
        },
        "exits": {
            "voluntary": "cause-specific Cox model: baseline_hazard_per_day * exp(sum(exit_log_hazard_k * latent_k))",
            "baseline_form": "constant (exponential)",
            "involuntary_baseline_hazard_per_day": round(params.INVOLUNTARY_BASELINE_HAZARD, 8),
            "involuntary_log_hazard_per_sd_performance": params.INVOLUNTARY_LOG_HAZARD_PER_SD_PERFORMANCE,
            "probation_failure": {
                "rule": "performance + N(0, noise_sd) < threshold ends employment at probation",
                "noise_sd": params.PROBATION_NOISE_SD,
                "threshold": params.PROBATION_FAIL_THRESHOLD,
            },
            "time_unit": "days",
        },
        "complaints": {
            "model": "Poisson: baseline/1000 * exposure_days * exp(sum(rate_ratio_k * latent_k) + keyword effect)",
            "exposure": "days employed from hire_date to termination or the world's end",
        },
        "transcript_keyword_effect": {
            "family": "customer_service",
            "rate_ratio": round(math.exp(params.KEYWORD_LOG_RATE_RATIO["customer_service"]), 4),
            "lexicon": list(CARE_LEXICON),
            "match": "case-insensitive substring, candidate speech only (speaker = candidate)",
            "share_of_candidates": params.CARE_MENTION_SHARE,
            "note": "independent of the latents, so the rate ratio is both conditional and marginal; "
            "hires without a transcript (no recording consent, onsite) carry no effect",
        },
    }


# The product's own criterion (ml.weights.build_criterion with the default outcome mix) and its planted optimum.
CRITERION_MIX: dict[str, float] = {"rating_6m": 0.6, "retained_12m": 0.3, "complaints_per_1000_days": -0.1}
CRITERION_OUTCOMES = ("rating_6m", "retained_12m", "complaints_per_1000_days")
CRITERION_REFERENCE_SAMPLE = 200_000
FIRST_YEAR_DAYS = 365
# Completed interviews per ATS candidate after the funnel (early withdrawal, resume screen, invitation, abandoned
# and failed video interviews): 8,684 of 20,000 in a 20,000-candidate world (seed 11), 17.4 per requisition
# (SD 10.3) where each requisition draws about 40 candidates.
COMPLETED_PER_CANDIDATE = 0.434
COMPLETED_PER_REQUISITION = params.APPLICANTS_PER_REQUISITION * COMPLETED_PER_CANDIDATE
# chunk._requisitions: popularity ~ lognormal(0, 0.5) spreads candidates over requisitions (SD 10.3 at mean 17.4).
REQUISITION_POPULARITY_LOG_SD = 0.5
# Ratings for this many interviews at a time: about 17 rating rows each, so ~40 MB of rows per batch.
RATING_BATCH = 50_000
INTERSECTION_SEP = " × "  # as ml.fairness labels sex x ethnicity groups
UNKNOWN_GROUP = "unknown"  # blank self-reports, as the warehouse labels them
# A group below this population share cannot be the reference of an impact ratio: the highest of many noisy rates
# is biased up. At 5% of 200,000 applicants a rate of .22 has an SE of .004 (2% of it); at 1% (other, multiracial)
# the SE is 4% of the rate, and a flat world's ratios came out .91-.97 against such a reference.
MIN_REFERENCE_SHARE = 0.05
CRITERION_METHOD = (
    "Reference sample of about 200,000 completed interviews in requisitions of the world's size (Poisson around "
    "17.4 completed interviews, lognormal popularity), candidates in the requisition's region 90% of the time, "
    "scored by the world's measurement model; every applicant's first year is simulated as if hired "
    "(outcomes.simulate, reviews, complaints). Criterion y = sum(mix_k * (outcome_k - mean_k) / sd_k) with mean "
    "and SD among the selected hires (top share per requisition by current composite + noise, offer accepted); "
    "rating_6m = 0-1 normalised 6-month rating, 0 when the hire left before the review; retained_12m = 1 if "
    "tenure >= 365 days; complaints_per_1000_days over the first-year exposure (a term whose SD is 0 drops out). "
    "optimal_weights_applicants: non-negative weights (exact active-set search, scaled to sum to 1) maximising "
    "the composite's correlation with y among all applicants; optimal_weights_hires: the same among the selected "
    "hires only (what a regression on hires estimates). Validities are correlations with y among applicants."
)


@dataclass
class Pool:
    """Completed interviews grouped into requisitions; one row per applicant, scores on the 0-1 scale."""

    req: np.ndarray  # requisition index
    req_region: np.ndarray  # region index per requisition
    region: np.ndarray
    gender: np.ndarray  # vocab.GENDERS values, "" = blank
    ethnicity: np.ndarray  # vocab.ETHNICITIES values, "" = blank
    z: np.ndarray  # competency latents (n x K)
    has_ai: np.ndarray  # recorded video interview: AI-scored, transcript available
    care: np.ndarray  # talks about customer care in the interview
    scores: np.ndarray  # mean over raters of the normalised score (n x K), as scoring.mean_scores

    def __len__(self) -> int:
        return len(self.req)

    @functools.cached_property
    def groups(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per dimension (sex, ethnicity, sex_x_ethnicity): the group labels and each applicant's group index, as
        the fairness gate labels them (blank = unknown). Computed once: np.unique on strings is the slow part."""
        sex = np.where(self.gender == "", UNKNOWN_GROUP, self.gender).astype(object)
        ethnicity = np.where(self.ethnicity == "", UNKNOWN_GROUP, self.ethnicity).astype(object)
        labels = {"sex": sex, "ethnicity": ethnicity, "sex_x_ethnicity": sex + INTERSECTION_SEP + ethnicity}
        return {dimension: np.unique(v, return_inverse=True) for dimension, v in labels.items()}


def reference_interviewers(seed: int, applicants: int) -> scoring.Interviewers:
    """An interviewer pool sized as the generator sizes it for the candidates behind this many completed interviews."""
    return scoring.make_interviewers(np.random.default_rng([seed, 11]), round(applicants / COMPLETED_PER_CANDIDATE))


def draw_requisitions(rng: np.random.Generator, n_req: int) -> tuple[np.ndarray, np.ndarray]:
    """Completed interviews per requisition and each requisition's region, as the generator's funnel leaves them."""
    popularity = rng.lognormal(0.0, REQUISITION_POPULARITY_LOG_SD, n_req)
    mean_popularity = math.exp(REQUISITION_POPULARITY_LOG_SD**2 / 2)
    sizes = rng.poisson(COMPLETED_PER_REQUISITION * popularity / mean_popularity)
    region = rng.choice(len(REGIONS), n_req, p=params.REGION_SHARES)
    return sizes, region


def draw_pool(
    rng: np.random.Generator,
    sizes: np.ndarray,
    req_region: np.ndarray,
    interviewers: scoring.Interviewers,
    group_differences: dict | None = None,
) -> Pool:
    """People as chunk._candidates draws them (region, gender, ethnicity, latents), interviewed and scored."""
    req = np.repeat(np.arange(len(sizes)), sizes)
    n = len(req)
    region = np.where(
        rng.random(n) < params.CANDIDATE_IN_REQ_REGION,
        req_region[req],
        rng.choice(len(REGIONS), n, p=params.REGION_SHARES),
    )
    gender = np.asarray(GENDERS, dtype=object)[rng.choice(len(GENDERS), n, p=params.GENDER_SHARES)]
    answered = np.asarray(ETHNICITIES[:-1], dtype=object)[
        rng.choice(len(ETHNICITIES) - 1, n, p=params.ETHNICITY_SHARES)
    ]
    blank_rate = np.asarray([params.ETHNICITY_BLANK_BY_REGION[r] for r in REGIONS])[region]
    ethnicity = np.where(rng.random(n) < blank_rate, "", answered).astype(object)
    z = latents(rng, gender, ethnicity, group_differences)
    care = rng.random(n) < params.CARE_MENTION_SHARE
    # No recording consent means onsite; onsite interviews have no AI score and no transcript.
    has_ai = rng.random(n) < params.CONSENT_RECORDING_SHARE * (1 - params.MODE_SHARES[2])
    scores = np.empty((n, len(COMPETENCIES)))
    for lo in range(0, n, RATING_BATCH):
        rows = slice(lo, min(n, lo + RATING_BATCH))
        ratings = scoring.draw_ratings(rng, z[rows], region[rows], has_ai[rows], interviewers, with_text=False)
        scores[rows] = scoring.mean_scores(ratings, len(z[rows]))
    return Pool(req, req_region, region, gender, ethnicity, z, has_ai, care, scores)


def select(rng: np.random.Generator, composite: np.ndarray, req: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """chunk._selection's rule: offers to the top ceil(share x size) of each requisition by composite + noise, each
    offer accepted with OFFER_ACCEPT_RATE. Returns (offered, hired) masks; the noise is the first draw, as there."""
    noisy = composite + rng.normal(0.0, params.SELECTION_NOISE_SD, len(composite))
    order = np.lexsort((-noisy, req))
    sorted_req = req[order]
    starts = np.r_[0, np.flatnonzero(sorted_req[1:] != sorted_req[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    offered = np.zeros(len(composite), dtype=bool)
    offered[order] = rank < np.ceil(params.SELECTION_TOP_SHARE * np.repeat(sizes, sizes))
    hired = offered & (rng.random(len(composite)) < params.OFFER_ACCEPT_RATE)
    return offered, hired


def as_hires(
    family: int,
    z: np.ndarray,
    region: np.ndarray,
    care_observable: np.ndarray,
    start_day: np.ndarray,
    candidate_id: np.ndarray | None = None,
) -> outcomes.Hires:
    """outcomes.Hires for simulated people (one department: it only picks the manager); no names or e-mails."""
    n = len(z)
    name = JOB_FAMILIES[family]
    blank = np.full(n, "", dtype=object)
    return outcomes.Hires(
        candidate_id=np.arange(n) if candidate_id is None else candidate_id,
        family=np.full(n, family),
        department=np.full(n, DEPARTMENTS[name][0], dtype=object),
        region=np.asarray(region),
        z=z,
        start_day=np.asarray(start_day, dtype=np.int64),
        care_observable=np.asarray(care_observable, dtype=bool),
        email=blank,
        work_email=blank,
        full_name=blank,
    )


def first_year_outcomes(rng: np.random.Generator, family: int, pool: Pool) -> dict[str, np.ndarray]:
    """Every applicant's first year as if hired, with the criterion's outcome codings (full follow-up)."""
    n = len(pool)
    hires = as_hires(family, pool.z, pool.region, pool.care & pool.has_ai, np.zeros(n, dtype=np.int64))
    out = outcomes.simulate(rng, hires, 0)
    rev = outcomes.reviews(rng, hires, out)
    six = rev["period"] == "6m"
    rating_6m = np.zeros(n)  # left before the review: the bottom of the 0-1 scale
    rating_6m[rev["hire"][six]] = (rev["rating"][six].astype(float) - 1.0) / (rev["scale_max"][six] - 1.0)
    # What the leavers would have been rated had they stayed: performance + period noise, as for everyone else.
    scale_max = np.asarray([params.REVIEW_SCALE_BY_REGION[REGIONS[r]][1] for r in range(len(REGIONS))])[pool.region]
    if_reviewed = (outcomes.review_rating(rng, out.performance, scale_max) - 1.0) / (scale_max - 1.0)
    if_reviewed[rev["hire"][six]] = rating_6m[rev["hire"][six]]
    # Exposure ends a year after the (HRIS) hire date, or at the exit.
    found = outcomes.complaints(rng, hires, out, out.hire_day + FIRST_YEAR_DAYS)
    count = np.bincount(found["hire"], minlength=n)
    exposure = np.minimum(out.exit_day, FIRST_YEAR_DAYS)
    return {
        "performance": out.performance,
        "exit_day": out.exit_day,
        "rating_6m": rating_6m,
        "rating_6m_if_reviewed": if_reviewed,
        "retained_12m": (out.exit_day >= FIRST_YEAR_DAYS).astype(float),
        "complaints_per_1000_days": 1000.0 * count / exposure,
    }


def criterion(values: dict[str, np.ndarray], mix: dict[str, float], scale_rows: np.ndarray):
    """y = sum(mix_k * z(outcome_k)), z on the mean and SD (ddof 1) of scale_rows; returns (y, {outcome: scale})."""
    unknown = set(mix) - set(CRITERION_OUTCOMES)
    if unknown:
        raise ValueError(f"no truth for outcomes {sorted(unknown)}; known: {CRITERION_OUTCOMES}")
    y = np.zeros(len(next(iter(values.values()))))
    scale = {}
    for outcome, weight in mix.items():
        v = values[outcome]
        mean, sd = float(v[scale_rows].mean()), float(v[scale_rows].std(ddof=1))
        scale[outcome] = {"mean": round(mean, 6), "sd": round(sd, 6)}
        if sd > 0:
            y += float(weight) * (v - mean) / sd
    return y, scale


def validity_direction(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative, sum-to-1 weights maximising corr(scores @ w, y) (NaN if no competency relates positively)."""
    centred = scores - scores.mean(axis=0)
    cov = centred.T @ centred / len(scores)
    target = centred.T @ (y - y.mean()) / len(scores)
    direction = nonnegative_direction(cov, target)
    total = direction.sum()
    return direction / total if total > 0 else np.full(len(target), np.nan)


def _weights_matrix(weights) -> np.ndarray:
    """Per-family weight rows (families x K) from None (current), a {family: {competency: w}} mapping or an array."""
    if weights is None:
        return current_weights()
    if isinstance(weights, dict):
        out = current_weights()
        for family, row in weights.items():
            out[JOB_FAMILIES.index(family)] = weight_vector(row)
        return out
    return np.asarray(weights, dtype=float)


def weight_vector(weights) -> np.ndarray:
    """A {competency: weight} mapping or a K-sequence as a non-negative vector summing to 1."""
    if isinstance(weights, dict):
        unknown = set(weights) - set(COMPETENCIES)
        if unknown:
            raise ValueError(f"unknown competencies {sorted(unknown)}")
        w = np.asarray([float(weights.get(c, 0.0)) for c in COMPETENCIES])
    else:
        w = np.asarray(weights, dtype=float)
    if w.shape != (len(COMPETENCIES),) or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError("weights must be K finite non-negative numbers with a positive sum")
    return w / w.sum()


def reference_pool(
    seed: int,
    interviewers: scoring.Interviewers | None = None,
    n: int = CRITERION_REFERENCE_SAMPLE,
    group_differences: dict | None = None,
    stream: int = 8,
) -> Pool:
    """About n completed interviews in requisitions; interviewers default to a pool sized for n (the law, not one
    world's draw of interviewers)."""
    if interviewers is None:
        interviewers = reference_interviewers(seed, n)
    rng = np.random.default_rng([seed, stream])
    sizes, req_region = draw_requisitions(rng, max(1, round(n / COMPLETED_PER_REQUISITION)))
    return draw_pool(rng, sizes, req_region, interviewers, group_differences)


def reference_criterion(
    seed: int,
    pool: Pool,
    family: str,
    mix: dict[str, float] | None = None,
    weights=None,
    left_before_review: str = "lowest",
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], dict]:
    """(hired, y, outcome values, z scale) on a reference pool: the selection under the current weights (unit by
    default), every applicant's first year, and the criterion, exactly as criterion_truth draws them for the seed."""
    mix = dict(CRITERION_MIX if mix is None else mix)
    f = JOB_FAMILIES.index(family)
    w = current_weights()[f] if weights is None else weight_vector(weights)
    rng = np.random.default_rng([seed, 9, f])
    _, hired = select(rng, pool.scores @ w, pool.req)
    values = first_year_outcomes(rng, f, pool)
    if left_before_review == "rated":
        values["rating_6m"] = values["rating_6m_if_reviewed"]
    y, scale = criterion(values, mix, hired)
    return hired, y, values, scale


def criterion_truth(
    seed: int,
    interviewers: scoring.Interviewers | None = None,
    mix: dict[str, float] | None = None,
    n: int = CRITERION_REFERENCE_SAMPLE,
    weights=None,
    group_differences: dict | None = None,
    families: tuple[str, ...] = JOB_FAMILIES,
    impact: bool = True,
    pool: Pool | None = None,
    left_before_review: str = "lowest",
) -> dict[str, dict]:
    """Per family: the criterion's optimal weights among applicants and among hires, and the validities.

    weights: the current weights that select the hires (None = the generator's unit weights; or
    {family: {competency: w}}). With impact, also the planted impact ratios of the current and the
    applicant-optimal weights (see population_impact). One pool of applicants serves every family (scores do not
    depend on the family); outcomes and the selection noise are drawn per family. left_before_review: "lowest"
    (the product's rule: a hire who left before the 6-month review counts as 0) or "rated" (the rating they would
    have had, so the rating is performance + independent noise for everyone: a check on the measurement model).
    """
    if left_before_review not in ("lowest", "rated"):
        raise ValueError("left_before_review is 'lowest' or 'rated'")
    mix = dict(CRITERION_MIX if mix is None else mix)
    pool = reference_pool(seed, interviewers, n, group_differences) if pool is None else pool
    current = _weights_matrix(weights)
    out = {}
    for family in families:
        f = JOB_FAMILIES.index(family)
        hired, y, values, scale = reference_criterion(seed, pool, family, mix, current[f], left_before_review)
        w_app = validity_direction(pool.scores, y)
        w_hires = validity_direction(pool.scores[hired], y[hired])
        by_competency = [_corr(pool.scores[:, k], y) for k in range(len(COMPETENCIES))]
        entry = {
            "mix": mix,
            "z_scale_among_hires": scale,
            "optimal_weights_applicants": _by_competency(w_app),
            "optimal_weights_hires": _by_competency(w_hires),
            "applicant_vs_hire_weights": {
                "max_abs_difference": round(float(np.max(np.abs(w_app - w_hires))), 4),
                "total_variation": round(float(0.5 * np.abs(w_app - w_hires).sum()), 4),
            },
            "validity_by_competency": _by_competency(by_competency),
            "validity_ranking": [COMPETENCIES[k] for k in np.argsort(by_competency)[::-1]],
            "validity_current": _corr(pool.scores @ current[f], y),
            "validity_optimal": _corr(pool.scores @ w_app, y),
            "validity_optimal_hires_weights": _corr(pool.scores @ w_hires, y),
            "validity_among_hires": {
                "current": _corr(pool.scores[hired] @ current[f], y[hired]),
                "optimal_applicants": _corr(pool.scores[hired] @ w_app, y[hired]),
                "optimal_hires": _corr(pool.scores[hired] @ w_hires, y[hired]),
            },
            "validity_performance_optimal": _corr(pool.scores @ w_app, values["performance"]),
            "n_applicants": len(pool),
            "n_hires": int(hired.sum()),
            "left_before_review": left_before_review,
            "method": CRITERION_METHOD,
        }
        if impact:
            entry["impact_ratio"] = {
                "current": impact_ratios(_pool_impact(pool, current[f], [seed, 10, f])),
                "optimal_applicants": impact_ratios(_pool_impact(pool, w_app, [seed, 10, f])),
                "selection": "top share per requisition by composite + noise; rate = offers x accept rate",
                "reference": f"highest-rate known group with at least {MIN_REFERENCE_SHARE:.0%} of applicants",
            }
        out[family] = entry
    return out


def _pool_impact(pool: Pool, weights: np.ndarray, noise_seed: list[int]) -> dict:
    """Rates per group when pool is selected on weights; the same noise_seed gives the same judgement noise, so two
    weightings differ by their weights alone (common random numbers)."""
    offered, _ = select(np.random.default_rng(noise_seed), pool.scores @ weights, pool.req)
    n = len(pool)
    rows = []
    for dimension, (groups, index) in pool.groups.items():
        size = np.bincount(index, minlength=len(groups))
        rate = np.bincount(index, weights=offered, minlength=len(groups)) / size * params.OFFER_ACCEPT_RATE
        known = np.asarray([UNKNOWN_GROUP not in g.split(INTERSECTION_SEP) for g in groups])
        eligible = known & (size >= MIN_REFERENCE_SHARE * n)
        ref = int(np.flatnonzero(eligible)[np.argmax(rate[eligible])]) if eligible.any() else int(np.argmax(rate))
        for g, group in enumerate(groups):
            rows.append(
                {
                    "dimension": dimension,
                    "group": str(group),
                    "n": int(size[g]),
                    "share": round(float(size[g] / n), 6),
                    "rate": round(float(rate[g]), 6),
                    "reference_group": str(groups[ref]),
                    "reference_rate": round(float(rate[ref]), 6),
                    "impact_ratio": round(float(rate[g] / rate[ref]), 4) if rate[ref] > 0 else None,
                }
            )
    return {
        "n": n,
        "selection_rate": round(float(offered.mean() * params.OFFER_ACCEPT_RATE), 6),
        "offer_rate": round(float(offered.mean()), 6),
        "rows": rows,
    }


@functools.lru_cache(maxsize=4)
def _impact_pool(seed: int, n: int, group_differences_key: str) -> Pool:
    return reference_pool(seed, None, n, json.loads(group_differences_key), stream=12)


def population_impact(
    family: str,
    weights,
    group_differences: dict | None = None,
    n: int = CRITERION_REFERENCE_SAMPLE,
    seed: int = 0,
    interviewers: scoring.Interviewers | None = None,
) -> dict:
    """The planted selection rate and impact ratio per sex, ethnicity and sex x ethnicity group for one weighting.

    Selection is the generator's: per requisition, offers to the top share by weights x scores + judgement noise;
    rate = share offered x OFFER_ACCEPT_RATE (acceptance does not depend on the group). Impact ratio = rate / the
    highest rate among known groups with at least MIN_REFERENCE_SHARE of applicants. Calls with the same family,
    seed, n and group_differences share the applicants and the noise, so differences between weightings are exact
    for that pool (standard error of a ratio for a group of 10,000 at n = 200,000: about 0.015; of a difference
    between two weightings: far smaller). Returns {"n", "selection_rate", "offer_rate", "rows": [...]}.
    """
    group_differences = params.GROUP_DIFFERENCES if group_differences is None else group_differences
    if interviewers is None:
        pool = _impact_pool(seed, n, json.dumps(group_differences, sort_keys=True))
    else:
        pool = reference_pool(seed, interviewers, n, group_differences, stream=12)
    out = _pool_impact(pool, weight_vector(weights), [seed, 10, JOB_FAMILIES.index(family)])
    return {"family": family, **out}


def impact_ratios(result: dict) -> dict[str, dict[str, float | None]]:
    """{dimension: {group: impact ratio}} from population_impact's rows."""
    out: dict[str, dict[str, float | None]] = {}
    for row in result["rows"]:
        out.setdefault(row["dimension"], {})[row["group"]] = row["impact_ratio"]
    return out
