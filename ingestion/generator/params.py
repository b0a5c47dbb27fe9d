"""Planted parameters of the sample world: the truth models are checked against, and the funnel's rates.

All effects are in standard-deviation units of the competency latents. The values are fixed, not drawn per seed,
so a model's estimate can be compared with one known number; the seed changes the people, not the law.
"""

from __future__ import annotations

import math

from ingestion.generator.vocab import COMPETENCIES, CUSTOMER_FACING, JOB_FAMILIES, REGIONS

# Latents are moderately correlated, as competency ratings are in practice.
LATENT_CORRELATION = 0.3

# Standardised contribution of each latent to later performance (performance has unit variance).
PERFORMANCE_BETAS: dict[str, dict[str, float]] = {
    "software_engineering": {
        "communication": 0.05,
        "logical_thinking": 0.45,
        "teamwork": 0.0,
        "problem_solving": 0.35,
        "customer_orientation": 0.0,
        "learning_agility": 0.10,
    },
    "customer_service": {
        "communication": 0.15,
        "logical_thinking": 0.0,
        "teamwork": 0.05,
        "problem_solving": 0.05,
        "customer_orientation": 0.55,
        "learning_agility": 0.0,
    },
    "sales": {
        "communication": 0.45,
        "logical_thinking": 0.0,
        "teamwork": 0.0,
        "problem_solving": 0.10,
        "customer_orientation": 0.25,
        "learning_agility": 0.10,
    },
    "operations": {
        "communication": 0.0,
        "logical_thinking": 0.10,
        "teamwork": 0.40,
        "problem_solving": 0.30,
        "customer_orientation": 0.0,
        "learning_agility": 0.05,
    },
    "finance_risk": {
        "communication": 0.0,
        "logical_thinking": 0.50,
        "teamwork": 0.05,
        "problem_solving": 0.20,
        "customer_orientation": 0.0,
        "learning_agility": 0.10,
    },
}

# A review period's rating = performance + this noise, cut into the review tool's categories.
PERIOD_NOISE_SD = 0.5
# Cut points on (performance + noise) for a 1-5 rating: about 9/21/41/19/10 % in an unselected population.
RATING_CUTPOINTS_1_5 = (-1.5, -0.6, 0.6, 1.4)
# Review tools by region: CN's HR system rates 1-10, everyone else 1-5.
REVIEW_SCALE_BY_REGION = {"NA": (1, 5), "EMEA": (1, 5), "APAC": (1, 5), "LATAM": (1, 5), "CN": (1, 10)}
REVIEW_DAYS = {"3m": 91, "6m": 182, "12m": 365}
PROBATION_DAYS = {
    "software_engineering": 90,
    "customer_service": 60,
    "sales": 60,
    "operations": 60,
    "finance_risk": 90,
}
# Probation fails when performance + N(0, PROBATION_NOISE_SD) is below the threshold (about 4% of hires).
PROBATION_NOISE_SD = 0.5
PROBATION_FAIL_THRESHOLD = -1.6


def _per_day(annual_share: float) -> float:
    """Constant daily hazard whose one-year exit share is annual_share."""
    return -math.log(1.0 - annual_share) / 365.0


# Voluntary exit: cause-specific Cox model with a constant (exponential) baseline hazard per day.
VOLUNTARY_ANNUAL_SHARE = {
    "software_engineering": 0.14,
    "customer_service": 0.38,
    "sales": 0.30,
    "operations": 0.20,
    "finance_risk": 0.10,
}
VOLUNTARY_BASELINE_HAZARD = {f: _per_day(s) for f, s in VOLUNTARY_ANNUAL_SHARE.items()}
EXIT_LOG_HAZARD: dict[str, dict[str, float]] = {
    "software_engineering": {"learning_agility": 0.30, "teamwork": -0.20},
    "customer_service": {"customer_orientation": -0.35, "communication": -0.10, "learning_agility": 0.15},
    "sales": {"communication": -0.25, "learning_agility": 0.20},
    "operations": {"teamwork": -0.30},
    "finance_risk": {"learning_agility": 0.25, "logical_thinking": -0.10},
}
# Involuntary exit after probation: hazard = base * exp(coef * performance), performance in SD units.
INVOLUNTARY_BASELINE_HAZARD = _per_day(0.05)
INVOLUNTARY_LOG_HAZARD_PER_SD_PERFORMANCE = -1.0

# Complaints (customer-facing families only): Poisson with exposure, per 1,000 employed days.
COMPLAINT_BASELINE_PER_1000_DAYS = {"customer_service": 6.0, "sales": 3.0}
COMPLAINT_LOG_RATE_RATIOS: dict[str, dict[str, float]] = {
    "customer_service": {"customer_orientation": -0.40, "communication": -0.20},
    "sales": {"communication": -0.25, "customer_orientation": -0.20},
}
# Hires whose interview transcript mentions customer-care terms get fewer complaints, in customer_service only.
KEYWORD_LOG_RATE_RATIO = {"customer_service": math.log(0.65)}
# Share of candidates who talk about customer care; independent of the latents, so the rate ratio is also marginal.
CARE_MENTION_SHARE = 0.4

# Mean shifts of latents (SD units) by self-reported group, so adverse-impact analysis has something real to find.
GROUP_DIFFERENCES: dict[str, dict[str, dict[str, float]]] = {
    "gender": {
        "female": {"communication": 0.20, "customer_orientation": 0.25},
        "male": {"logical_thinking": 0.10},
    },
    "ethnicity": {
        "hispanic_latino": {"logical_thinking": -0.30, "problem_solving": -0.20},
        "black": {"logical_thinking": -0.35},
    },
}

GENDER_SHARES = (0.47, 0.47, 0.015, 0.045)  # female, male, nonbinary, blank
ETHNICITY_SHARES = (0.22, 0.14, 0.18, 0.36, 0.05, 0.05)  # of those who answer, vocab order
# Where ethnicity is not collected by law or custom, nearly everyone leaves it blank.
ETHNICITY_BLANK_BY_REGION = {"NA": 0.08, "EMEA": 0.85, "APAC": 0.60, "LATAM": 0.25, "CN": 0.90}
AGE_BAND_SHARES = (0.18, 0.40, 0.22, 0.11, 0.04, 0.05)
SOURCE_CHANNEL_SHARES = (0.38, 0.22, 0.15, 0.10, 0.08, 0.07)
CONSENT_RECORDING_SHARE = 0.96
CONSENT_ANALYTICS_SHARE = 0.97

FAMILY_SHARES = (0.15, 0.35, 0.20, 0.20, 0.10)  # JOB_FAMILIES order
REGION_SHARES = (0.30, 0.22, 0.18, 0.15, 0.15)  # REGIONS order
CANDIDATE_IN_REQ_REGION = 0.9
APPLICANTS_PER_REQUISITION = 40

# Funnel rates.
EARLY_WITHDRAW = 0.04
SCREEN_IN_BASE = 0.48
INVITE_AFTER_SCREEN = 0.97
MODE_SHARES = (0.80, 0.12, 0.08)  # ai_video, human_video, onsite
ABANDON_RATE = {"ai_video": 0.07, "human_video": 0.03, "onsite": 0.02}
TECHNICAL_FAILURE_RATE_BY_REGION = {"NA": 0.04, "EMEA": 0.05, "APAC": 0.11, "LATAM": 0.18, "CN": 0.05}
RETRY_AFTER_FAILURE = 0.7
HUMAN_RATER_COUNT_SHARES = (0.45, 0.35, 0.20)  # 1, 2, 3 human raters
# Hiring selects on the current composite (+ a little judgement noise): top share of completed interviews per req.
SELECTION_TOP_SHARE = 0.25
SELECTION_NOISE_SD = 0.02  # on the 0-1 composite, whose applicant SD is about 0.16
OFFER_ACCEPT_RATE = 0.8

# Measurement: observed = latent + rater leniency + noise, rendered on each scale.
AI_NOISE_SD = 0.55
INTERVIEWER_LENIENCY_SD = 0.35
INTERVIEWER_NOISE_SD_RANGE = (0.5, 1.1)
CANDIDATES_PER_INTERVIEWER = 100
SCORECARD_TOOL_SHARES = (0.55, 0.10, 0.25, 0.10)  # vocab.SCORECARD_TOOLS order

# HRIS linkage.
HRIS_CANDIDATE_ID_BLANK = 0.30
HRIS_WORK_EMAIL_WHEN_NO_ID = 0.30  # of rows without candidate id, e-mail is the work one: link by name + date
HRIS_HIRE_DATE_SHIFT_SHARE = 0.2
HRIS_HIRE_DATE_MAX_SHIFT_DAYS = 5

# Resumes.
RESUME_SHARE = 0.95
DOCUMENT_SHARE = {"pdf": 0.10, "docx": 0.10}
# PDF and DOCX cost milliseconds each; past this many per world the rest are plain text.
MAX_DOCUMENTS_PER_FORMAT = 2_000
# Claim inflation: among weak candidates (mean latent below the threshold), this share inflates their resume.
MISMATCH_LATENT_THRESHOLD = -0.4
MISMATCH_SHARE = 0.30
MISMATCH_LIST_CAP = 5_000

ERASURE_SHARE = 0.003


def latent_covariance() -> list[list[float]]:
    k = len(COMPETENCIES)
    return [[1.0 if i == j else LATENT_CORRELATION for j in range(k)] for i in range(k)]


def check_parameters() -> None:
    """Fail fast if a planted parameter names something the world does not have."""
    assert set(PERFORMANCE_BETAS) == set(JOB_FAMILIES)
    for table in (PERFORMANCE_BETAS, EXIT_LOG_HAZARD, COMPLAINT_LOG_RATE_RATIOS):
        for betas in table.values():
            assert set(betas) <= set(COMPETENCIES)
    assert set(COMPLAINT_LOG_RATE_RATIOS) == set(CUSTOMER_FACING)
    assert set(TECHNICAL_FAILURE_RATE_BY_REGION) == set(REGIONS)
