"""Resume claims (education, years, skills), the planted claim inflation, and the resume text itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.generator import params
from ingestion.generator.text import COMPANIES, GENERIC_SKILLS, SKILLS, UNIVERSITIES, resume_text
from ingestion.generator.vocab import AGE_BANDS, EDUCATION_LEVELS, JOB_FAMILIES

# True years of experience by age band (vocab.AGE_BANDS order; blank answers span the range).
YEARS_BY_AGE = ((0, 4), (2, 10), (8, 18), (15, 28), (20, 35), (0, 20))
EDUCATION_SHARES = {
    "software_engineering": (0.03, 0.07, 0.60, 0.27, 0.03),
    "customer_service": (0.35, 0.25, 0.35, 0.05, 0.0),
    "sales": (0.15, 0.20, 0.55, 0.10, 0.0),
    "operations": (0.20, 0.25, 0.45, 0.10, 0.0),
    "finance_risk": (0.02, 0.03, 0.55, 0.35, 0.05),
}


@dataclass
class Claims:
    years: np.ndarray
    education: np.ndarray  # EDUCATION_LEVELS index
    skills: list[list[str]]
    inflated: np.ndarray  # bool: the planted resume-interview mismatch


def draw_claims(rng: np.random.Generator, z: np.ndarray, family: np.ndarray, age_band: np.ndarray) -> Claims:
    n = len(z)
    band = np.asarray([AGE_BANDS.index(a) for a in age_band], dtype=int)
    lo = np.asarray(YEARS_BY_AGE)[band, 0]
    hi = np.asarray(YEARS_BY_AGE)[band, 1]
    years = rng.integers(lo, hi + 1)
    mean_latent = z.mean(axis=1)
    n_skills = 3 + rng.poisson(2.0 + np.maximum(mean_latent, 0.0))
    inflated = (mean_latent < params.MISMATCH_LATENT_THRESHOLD) & (rng.random(n) < params.MISMATCH_SHARE)
    # Inflators claim many more years and a long skills list, which the interview then fails to bear out.
    years = np.where(inflated, years + rng.integers(5, 11, n), years)
    n_skills = np.where(inflated, rng.integers(11, 15, n), n_skills)
    education = np.empty(n, dtype=int)
    for f, name in enumerate(JOB_FAMILIES):
        rows = np.flatnonzero(family == f)
        education[rows] = rng.choice(len(EDUCATION_LEVELS), len(rows), p=EDUCATION_SHARES[name])
    return Claims(years, education, _skills(rng, family, n_skills), inflated)


def _skills(rng: np.random.Generator, family: np.ndarray, n_skills: np.ndarray) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in range(len(family))]
    for f, name in enumerate(JOB_FAMILIES):
        bank = np.asarray(SKILLS[name] + GENERIC_SKILLS, dtype=object)
        rows = np.flatnonzero(family == f)
        order = np.argsort(rng.random((len(rows), len(bank))), axis=1)
        for i, row in enumerate(rows):
            out[row] = list(bank[order[i, : min(n_skills[row], len(bank))]])
    return out


def texts(
    rng: np.random.Generator,
    rows: np.ndarray,
    names: np.ndarray,
    emails: np.ndarray,
    phones: np.ndarray,
    family: np.ndarray,
    titles: np.ndarray,
    claims: Claims,
    end_year: np.ndarray,
) -> np.ndarray:
    """Resume text for the given candidate rows; experience runs up to the year they apply (end_year per row)."""
    companies = rng.integers(0, len(COMPANIES), len(rows))
    universities = rng.integers(0, len(UNIVERSITIES), len(rows))
    out = np.empty(len(rows), dtype=object)
    for i, r in enumerate(rows):
        out[i] = resume_text(
            name=names[r],
            email=emails[r],
            phone=phones[r],
            family=JOB_FAMILIES[family[r]],
            title=titles[r],
            years=int(claims.years[r]),
            education=EDUCATION_LEVELS[claims.education[r]],
            skills=claims.skills[r],
            company=COMPANIES[companies[i]],
            university=UNIVERSITIES[universities[i]],
            end_year=int(end_year[r]),
        )
    return out
