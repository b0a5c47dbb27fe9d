"""Transcript segments per completed, recorded interview: an intro, six questions with answers, an outro."""

from __future__ import annotations

import numpy as np

from ingestion.generator.text import CARE, INTRO, OUTRO, QUESTIONS, bank_array, neutral_banks
from ingestion.generator.vocab import COMPETENCIES

K = len(COMPETENCIES)
CUSTOMER_QUESTION = COMPETENCIES.index("customer_orientation")
# Outside the customer question, a candidate with the care trait still brings it up now and then.
CARE_ELSEWHERE_SHARE = 0.15
INTRO_Q, OUTRO_Q = -1, K
SEGMENT_FIELDS = {
    "interview": int,
    "segment_no": int,
    "question_id": object,
    "speaker": object,
    "start_s": float,
    "end_s": float,
    "text": object,
    "language": object,
    "total_seconds": float,
}


def answer_counts(rng: np.random.Generator, z_communication: np.ndarray) -> np.ndarray:
    """Candidate segments per question (m x K): more articulate candidates say more."""
    m = len(z_communication)
    raw = 7 + 1.5 * z_communication[:, None] + rng.normal(0.0, 2.0, (m, K))
    return np.clip(np.round(raw), 2, 14).astype(int)


def segments(
    rng: np.random.Generator,
    zh: np.ndarray,
    ai_mode: np.ndarray,
    z_communication: np.ndarray,
    care: np.ndarray,
) -> dict[str, np.ndarray]:
    """Segment rows for m interviews, ordered by interview then segment; `interview` indexes the m interviews."""
    m = len(zh)
    if m == 0:
        return {name: np.empty(0, dtype=dtype) for name, dtype in SEGMENT_FIELDS.items()}
    counts = answer_counts(rng, z_communication)
    sizes = (counts + 1).ravel()  # the prompt, then the answers
    block_iv = np.repeat(np.arange(m), K)
    block_q = np.tile(np.arange(K), m)
    iv = np.repeat(block_iv, sizes)
    q = np.repeat(block_q, sizes)
    j = np.arange(len(iv)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    iv = np.concatenate([np.arange(m), iv, np.arange(m)])
    q = np.concatenate([np.full(m, INTRO_Q), q, np.full(m, OUTRO_Q)])
    j = np.concatenate([np.zeros(m, dtype=int), j, np.zeros(m, dtype=int)])
    order = np.lexsort((j, q, iv))
    iv, q, j = iv[order], q[order], j[order]
    n = len(iv)
    first = np.r_[True, iv[1:] != iv[:-1]]
    starts = np.flatnonzero(first)
    segment_no = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n])) + 1

    is_answer = (q >= 0) & (q < K) & (j > 0)
    is_prompt = (q >= 0) & (q < K) & (j == 0)
    seg_zh = zh[iv]
    speaker = np.where(is_answer, "candidate", np.where(is_prompt & ~ai_mode[iv], "interviewer", "system"))
    text = _texts(rng, iv, q, j, seg_zh, is_answer, is_prompt, care)
    duration = np.where(is_answer, rng.uniform(4.0, 25.0, n), np.where(is_prompt, rng.uniform(5.0, 10.0, n), 6.0))
    gap = rng.uniform(0.3, 1.5, n)
    elapsed = np.cumsum(duration + gap)
    before = elapsed - duration - gap
    start = before - np.repeat(before[starts], np.diff(np.r_[starts, n]))
    end = start + duration
    question_id = np.where((q >= 0) & (q < K), np.char.add("Q0", (q + 1).astype(str)), None).astype(object)
    return {
        "interview": iv,
        "segment_no": segment_no,
        "question_id": question_id,
        "speaker": speaker.astype(object),
        "start_s": np.round(start, 2),
        "end_s": np.round(end, 2),
        "text": text,
        "language": np.where(seg_zh, "zh", "en").astype(object),
        "total_seconds": np.bincount(iv, weights=duration + gap, minlength=m),
    }


def _texts(
    rng: np.random.Generator,
    iv: np.ndarray,
    q: np.ndarray,
    j: np.ndarray,
    seg_zh: np.ndarray,
    is_answer: np.ndarray,
    is_prompt: np.ndarray,
    care: np.ndarray,
) -> np.ndarray:
    n = len(iv)
    text = np.empty(n, dtype=object)
    says_care = is_answer & care[iv] & (((q == CUSTOMER_QUESTION) & (j == 1)) | (rng.random(n) < CARE_ELSEWHERE_SHARE))
    for language, lang_mask in (("zh", seg_zh), ("en", ~seg_zh)):
        text[lang_mask & (q == INTRO_Q)] = INTRO[language]
        text[lang_mask & (q == OUTRO_Q)] = OUTRO[language]
        questions = bank_array(QUESTIONS[language])
        rows = np.flatnonzero(lang_mask & is_prompt)
        text[rows] = questions[q[rows]]
        for k, bank in enumerate(neutral_banks(language)):
            rows = np.flatnonzero(lang_mask & is_answer & ~says_care & (q == k))
            text[rows] = bank[rng.integers(0, len(bank), len(rows))]
        care_bank = bank_array(CARE[language])
        rows = np.flatnonzero(lang_mask & says_care)
        text[rows] = care_bank[rng.integers(0, len(care_bank), len(rows))]
    return text
