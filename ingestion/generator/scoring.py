"""The measurement model: observed score = latent + rater leniency + noise, rendered on each vendor's or tool's scale.

Everything is vectorised over rating rows (interview x rater x competency). The same functions score the world's
interviews and the large reference sample that truth.optimal_weights is computed from, so the truth describes
exactly the scores the files contain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ingestion.generator import params
from ingestion.generator.vocab import (
    AI_VENDORS,
    COMPETENCIES,
    JURISDICTIONS,
    LABEL_SETS,
    REGION_AI_VENDOR,
    REGIONS,
    SCORECARD_TOOLS,
    WORD_VALUES,
)

K = len(COMPETENCIES)
LABEL_SET_NAMES = tuple(LABEL_SETS)
LABEL_TABLE = np.asarray([LABEL_SETS[s] for s in LABEL_SET_NAMES], dtype=object)  # label set x competency
VENDOR_INDEX = {v.name: i for i, v in enumerate(AI_VENDORS)}
REGION_VENDOR = np.asarray([VENDOR_INDEX[REGION_AI_VENDOR[r]] for r in REGIONS])
VENDOR_LABEL_SET = np.asarray([LABEL_SET_NAMES.index(v.label_set) for v in AI_VENDORS])
VENDOR_MIN = np.asarray([v.scale_min for v in AI_VENDORS])
VENDOR_MAX = np.asarray([v.scale_max for v in AI_VENDORS])
TOOL_MIN = np.asarray([t.scale_min for t in SCORECARD_TOOLS])
TOOL_MAX = np.asarray([t.scale_max for t in SCORECARD_TOOLS])
TOOL_IS_WORDS = np.asarray([t.words is not None for t in SCORECARD_TOOLS])
# Words per tool from best to worst; numeric tools have an empty row.
TOOL_WORDS = np.asarray([t.words or ("", "", "", "") for t in SCORECARD_TOOLS], dtype=object)
TOOL_WORD_VALUES = np.asarray([[WORD_VALUES.get(w, 0.0) for w in row] for row in TOOL_WORDS])
# A scale covers +-2.25 SD of (latent + noise) around its middle: wide enough that few scores clip.
SCALE_SPAN_SD = 4.5
# Word thresholds on (latent + leniency + noise): above 1 SD strong_yes, 0..1 yes, -1..0 no, below -1 definitely_not.
WORD_THRESHOLDS = (1.0, 0.0, -1.0)


@dataclass(frozen=True)
class Interviewers:
    ids: np.ndarray
    region: np.ndarray  # region index
    tool: np.ndarray  # SCORECARD_TOOLS index
    label_set: np.ndarray  # LABEL_SET_NAMES index
    leniency: np.ndarray
    noise_sd: np.ndarray

    def pool(self, region: int) -> np.ndarray:
        return np.flatnonzero(self.region == region)


def make_interviewers(rng: np.random.Generator, candidates: int) -> Interviewers:
    """A pool per region, at least three per region so every interview can have three distinct raters."""
    per_region = np.maximum(
        3, np.round(np.asarray(params.REGION_SHARES) * candidates / params.CANDIDATES_PER_INTERVIEWER)
    )
    region = np.repeat(np.arange(len(REGIONS)), per_region.astype(int))
    n = len(region)
    tool = rng.choice(len(SCORECARD_TOOLS), n, p=params.SCORECARD_TOOL_SHARES)
    cn = region == REGIONS.index("CN")
    label_set = np.where(
        cn,
        LABEL_SET_NAMES.index("zh"),
        np.where(rng.random(n) < 0.7, LABEL_SET_NAMES.index("en_title"), LABEL_SET_NAMES.index("abbreviated")),
    )
    leniency = rng.normal(0.0, params.INTERVIEWER_LENIENCY_SD, n)
    noise_sd = rng.uniform(*params.INTERVIEWER_NOISE_SD_RANGE, n)
    ids = np.asarray([f"INT-{i + 1:04d}" for i in range(n)], dtype=object)
    return Interviewers(ids, region, tool, label_set, leniency, noise_sd)


def to_scale(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, decimals: int) -> np.ndarray:
    """Map SD units onto [lo, hi] around its middle, round, and clip to the scale."""
    mid = (lo + hi) / 2.0
    slope = (hi - lo) / SCALE_SPAN_SD
    return np.clip(np.round(mid + slope * x, decimals), lo, hi)


def to_word_index(x: np.ndarray) -> np.ndarray:
    """0 = best word ... 3 = worst word."""
    return (x <= WORD_THRESHOLDS[0]).astype(int) + (x <= WORD_THRESHOLDS[1]) + (x <= WORD_THRESHOLDS[2])


def pick_raters(rng: np.random.Generator, interviewers: Interviewers, region: np.ndarray) -> np.ndarray:
    """Three distinct interviewers from each interview's regional pool (m x 3 global indices)."""
    m = len(region)
    out = np.empty((m, 3), dtype=int)
    for r in range(len(REGIONS)):
        rows = np.flatnonzero(region == r)
        pool = interviewers.pool(r)
        p = len(pool)
        a = rng.integers(0, p, len(rows))
        b = (a + rng.integers(1, p, len(rows))) % p
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        c = rng.integers(0, p - 2, len(rows))
        c = c + (c >= lo)
        c = c + (c >= hi)
        out[rows] = pool[np.stack([a, b, c], axis=1)]
    return out


@dataclass
class Ratings:
    """One row per interview x rater x competency; `interview` indexes the scored interviews."""

    interview: np.ndarray
    competency: np.ndarray
    is_ai: np.ndarray
    rater: np.ndarray  # interviewer index, -1 for the AI
    label: np.ndarray
    score_text: np.ndarray
    scale_min: np.ndarray
    scale_max: np.ndarray
    normalised: np.ndarray
    is_word: np.ndarray


def draw_ratings(
    rng: np.random.Generator,
    z: np.ndarray,
    region: np.ndarray,
    has_ai: np.ndarray,
    interviewers: Interviewers,
    with_text: bool = True,
) -> Ratings:
    """Score m interviews: the AI (where recorded) on every competency, and 1-3 humans on every competency.

    Without text, labels and score texts are left empty (the truth's reference sample needs numbers only).
    """
    m = len(z)
    n_humans = rng.choice(3, m, p=params.HUMAN_RATER_COUNT_SHARES) + 1
    raters = pick_raters(rng, interviewers, region)
    ai = _ai_ratings(rng, z, region, has_ai, with_text)
    human = _human_ratings(rng, z, raters, n_humans, interviewers, with_text)
    fields = Ratings.__dataclass_fields__
    return Ratings(
        *(None if getattr(ai, f) is None else np.concatenate([getattr(ai, f), getattr(human, f)]) for f in fields)
    )


def _ai_ratings(
    rng: np.random.Generator, z: np.ndarray, region: np.ndarray, has_ai: np.ndarray, with_text: bool
) -> Ratings:
    iv = np.repeat(np.flatnonzero(has_ai), K)
    comp = np.tile(np.arange(K), int(has_ai.sum()))
    vendor = REGION_VENDOR[region[iv]]
    lo, hi = VENDOR_MIN[vendor], VENDOR_MAX[vendor]
    x = z[iv, comp] + rng.normal(0.0, params.AI_NOISE_SD, len(iv))
    raw = to_scale(x, lo, hi, 1)
    n = len(iv)
    return Ratings(
        interview=iv,
        competency=comp,
        is_ai=np.ones(n, dtype=bool),
        rater=np.full(n, -1),
        label=LABEL_TABLE[VENDOR_LABEL_SET[vendor], comp] if with_text else None,
        score_text=_number_text(raw, 1) if with_text else None,
        scale_min=lo,
        scale_max=hi,
        normalised=(raw - lo) / (hi - lo),
        is_word=np.zeros(n, dtype=bool),
    )


def _human_ratings(
    rng: np.random.Generator,
    z: np.ndarray,
    raters: np.ndarray,
    n_humans: np.ndarray,
    interviewers: Interviewers,
    with_text: bool,
) -> Ratings:
    m = len(z)
    slot_iv = np.repeat(np.arange(m), n_humans)
    slot = np.arange(len(slot_iv)) - np.repeat(np.cumsum(n_humans) - n_humans, n_humans)
    who = raters[slot_iv, slot]
    iv = np.repeat(slot_iv, K)
    rater = np.repeat(who, K)
    comp = np.tile(np.arange(K), len(slot_iv))
    x = z[iv, comp] + interviewers.leniency[rater] + rng.normal(0.0, 1.0, len(iv)) * interviewers.noise_sd[rater]
    tool = interviewers.tool[rater]
    lo, hi = TOOL_MIN[tool], TOOL_MAX[tool]
    words = TOOL_IS_WORDS[tool]
    numeric = to_scale(x, lo, hi, 0)
    word_idx = to_word_index(x)
    normalised = np.where(words, TOOL_WORD_VALUES[tool, word_idx], (numeric - lo) / (hi - lo))
    text = np.where(words, TOOL_WORDS[tool, word_idx], _number_text(numeric, 0)) if with_text else None
    n = len(iv)
    return Ratings(
        interview=iv,
        competency=comp,
        is_ai=np.zeros(n, dtype=bool),
        rater=rater,
        label=LABEL_TABLE[interviewers.label_set[rater], comp] if with_text else None,
        score_text=text,
        scale_min=lo,
        scale_max=hi,
        normalised=normalised,
        is_word=words,
    )


def _number_text(values: np.ndarray, decimals: int) -> np.ndarray:
    """Numbers as an export writes them: shortest form, so whole numbers have no decimal point."""
    return pa.array(np.round(values, decimals)).cast(pa.string()).to_numpy(zero_copy_only=False)


def mean_scores(ratings: Ratings, m: int) -> np.ndarray:
    """Mean over raters of the 0-1 normalised score, per interview x competency (m x K)."""
    cell = ratings.interview * K + ratings.competency
    total = np.bincount(cell, weights=ratings.normalised, minlength=m * K).reshape(m, K)
    count = np.bincount(cell, minlength=m * K).reshape(m, K)
    return total / np.maximum(count, 1)


def composite(means: np.ndarray, family: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted composite of mean scores under per-family weights (families x K)."""
    return (means * weights[family]).sum(axis=1)


def jurisdictions_for(rng: np.random.Generator, region: np.ndarray) -> np.ndarray:
    out = np.empty(len(region), dtype=object)
    for r, name in enumerate(REGIONS):
        rows = np.flatnonzero(region == r)
        options = np.asarray(JURISDICTIONS[name], dtype=object)
        out[rows] = options[rng.integers(0, len(options), len(rows))]
    return out
