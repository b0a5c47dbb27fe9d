"""ml.transcript_features, ml.keyword_evidence and ml.resume_features from segment and resume frames, with the
evidence snippets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ml.pipeline.contracts import SNIPPET_CHARS, conform
from ml.prohibited import assert_no_prohibited_features
from ml.text_features import (
    RESUME_PARSE_COLUMNS,
    keyword_evidence_rows,
    load_lexicon,
    parse_resume_texts,
    resume_interview_consistency,
    resume_job_fit,
    transcript_features,
)


def _normalise_space(text: str) -> str:
    """Each whitespace run as one space, ends trimmed."""
    # Same as re.sub(r"\s+", " ", text).strip() (str.split and re's \s agree on every code point), at a fifth
    # of the cost: it runs once per segment with a keyword hit.
    return " ".join((text or "").split())


def _cut_snippet(text: str, keyword: str, width: int = SNIPPET_CHARS) -> str:
    """At most `width` characters of whitespace-normalised text around the first occurrence of the keyword."""
    if len(text) <= width:
        return text
    pos = text.lower().find(keyword.lower())
    pos = max(pos, 0)
    start = min(max(0, pos - (width - len(keyword)) // 2), len(text) - width)
    return text[start : start + width]


def _snippet(text: str, keyword: str, width: int = SNIPPET_CHARS) -> str:
    """At most `width` characters of the segment around the first occurrence of the keyword."""
    return _cut_snippet(_normalise_space(text), keyword, width)


def _snippets(texts: np.ndarray, segment_rows: np.ndarray, keywords: Sequence[str]) -> list[str]:
    """_snippet for each hit: each segment's text is normalised once, however many hits it holds."""
    rows, inverse = np.unique(segment_rows, return_inverse=True)
    normalised = np.array([_normalise_space(t if isinstance(t, str) else "") for t in texts[rows]] + [""], dtype=object)
    return [
        text if len(text) <= SNIPPET_CHARS else _cut_snippet(text, keyword)
        for text, keyword in zip(normalised[inverse], keywords, strict=True)
    ]


def transcript_tables(segments: pd.DataFrame, lexicon: Mapping | None = None) -> dict[str, pd.DataFrame]:
    """ml.transcript_features (one row per interview) and ml.keyword_evidence (one row per keyword hit).

    segments: interview_id, candidate_key, segment_no, question_id, speaker, start_s, end_s, text, language,
    already limited to candidates with recording consent and no erasure. Only candidate speech counts.
    Every output row depends on its own interview's segments only, so interviews may be passed in batches
    and the results concatenated (refresh_text_tables does).
    """
    features, evidence = _transcript_frames(segments, lexicon)
    return {
        "transcript_features": conform(features, "transcript_features"),
        "keyword_evidence": conform(evidence, "keyword_evidence"),
    }


def _transcript_frames(segments: pd.DataFrame, lexicon: Mapping | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """transcript_tables before conform: the same rows and values, Python str or None in the text columns."""
    assert_no_prohibited_features(segments.columns)
    lexicon = load_lexicon() if lexicon is None else lexicon
    segs = segments.copy()
    segs["interview_id"] = segs["interview_id"].astype(str)
    # Keywords are matched once: the evidence rows, and the per-interview counts as their tallies.
    evidence = keyword_evidence_rows(segs, lexicon)
    segment_rows = evidence.pop("segment_row").to_numpy()
    features = transcript_features(segs, lexicon, evidence)
    keys = segs.drop_duplicates("interview_id").set_index("interview_id")["candidate_key"]
    features["candidate_key"] = features["interview_id"].map(keys)
    features = features.rename(
        columns={
            "candidate_word_count": "words",
            "candidate_speaking_s": "speaking_seconds",
            "speaking_rate_wpm": "words_per_minute",
        }
    )
    assert_no_prohibited_features(features.columns)

    evidence = evidence.rename(columns={"competency": "competency_code"})
    if len(evidence):
        evidence["snippet"] = _snippets(segs["text"].to_numpy(dtype=object), segment_rows, evidence["keyword"])
        evidence["candidate_key"] = evidence["interview_id"].map(keys)
    return features, evidence


def _pct_within(values: pd.Series, groups: pd.Series) -> pd.Series:
    return values.groupby(groups).rank(pct=True, method="average")


def resume_tables(
    resumes: pd.DataFrame,
    applicants: pd.DataFrame,
    lexicon: Mapping | None = None,
    high: float = 0.75,
    low: float = 0.25,
) -> pd.DataFrame:
    """ml.resume_features: parsed education, years, skills and job match, and the resume-interview mismatch flag.

    resumes: resume_id, candidate_key, text (analysable candidates only). Each resume is read against the job
    family of the candidate's latest completed interview. resume_strength is the mean within-family percentile of
    skills claimed, years claimed and job match (where the family has a skill list); the mismatch flag marks a
    resume in its family's top quarter whose interview composite sits in the bottom quarter.
    """
    assert_no_prohibited_features(resumes.columns)
    lexicon = load_lexicon() if lexicon is None else lexicon
    parsed = parse_resume_texts(resumes["text"].tolist(), lexicon)
    return resume_tables_from_parsed(resumes[["resume_id", "candidate_key"]], parsed, applicants, lexicon, high, low)


def resume_tables_from_parsed(
    resumes: pd.DataFrame,
    parsed: pd.DataFrame,
    applicants: pd.DataFrame,
    lexicon: Mapping,
    high: float = 0.75,
    low: float = 0.25,
) -> pd.DataFrame:
    """resume_tables from resumes already parsed: resumes (resume_id, candidate_key) and parsed
    (parse_resume_texts of their texts, row for row). Everything read against the job family or ranked within
    it is computed here, for every resume, on every run: it changes when others' resumes or interviews do."""
    assert_no_prohibited_features(resumes.columns)
    latest = (
        applicants.sort_values("started_at", kind="stable")
        .drop_duplicates("candidate_key", keep="last")
        .set_index("candidate_key")
    )
    df = resumes[["resume_id", "candidate_key"]].reset_index(drop=True)
    df["job_family"] = df["candidate_key"].map(latest["job_family"]).astype(object)
    df["job_family"] = df["job_family"].where(df["job_family"].notna(), None)
    df["interview_composite"] = pd.to_numeric(df["candidate_key"].map(latest["composite_score"]), errors="coerce")
    parsed = parsed.reset_index(drop=True)
    fit = resume_job_fit(parsed["skills"], parsed["blank"], df["job_family"].tolist(), lexicon)
    out = pd.concat([df, parsed[[c for c in RESUME_PARSE_COLUMNS if c != "blank"]], fit], axis=1)
    family = out["job_family"].fillna("")
    parts = [
        _pct_within(out["n_skills"].astype(float), family),
        _pct_within(out["years_experience"].astype(float), family),
        _pct_within(out["resume_job_match"].astype(float), family),
    ]
    out["resume_strength"] = pd.concat(parts, axis=1).mean(axis=1, skipna=True)
    out["resume_pct"] = np.nan
    out["interview_pct"] = np.nan
    out["resume_interview_mismatch"] = False
    for _, g in out[out["job_family"].notna()].groupby("job_family"):
        cons = resume_interview_consistency(g, "resume_strength", "interview_composite", high, low)
        out.loc[cons.index, "resume_pct"] = cons["resume_pct"]
        out.loc[cons.index, "interview_pct"] = cons["interview_pct"]
        out.loc[cons.index, "resume_interview_mismatch"] = cons["flag_resume_high_interview_low"].astype(bool)
    out["skills"] = out["skills"].map(lambda s: ", ".join(s) if isinstance(s, list) else None)
    assert_no_prohibited_features(out.columns)
    return conform(out, "resume_features")
