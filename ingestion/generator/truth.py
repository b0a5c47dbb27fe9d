"""Planted truth that needs computing: the optimal weights, and the assembled truth.json document."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ingestion.generator import outcomes, params, scoring
from ingestion.generator.chunk import Stats, current_weights, latents
from ingestion.generator.vocab import (
    AI_VENDORS,
    CARE_LEXICON,
    COMPETENCIES,
    CUSTOMER_FACING,
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


def family_truth(optimal: dict) -> dict[str, dict]:
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
