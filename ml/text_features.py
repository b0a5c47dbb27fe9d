"""Transcript and resume features by transparent keyword rules, and the guard against prohibited inputs.

Only what a candidate said (words, timing, keywords) and wrote (education, experience, skills) is measured.
No emotion, facial-expression or voice-tone feature is computed here or accepted as a model input anywhere:
such inference is prohibited in hiring in some jurisdictions (e.g. the Illinois AI Video Interview Act,
the EU AI Act's ban on emotion recognition at work), so `assert_no_prohibited_features` guards every model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import yaml
from scipy import stats

DEFAULT_LEXICON_PATH = Path(__file__).parent / "lexicons" / "lexicons.yaml"

# Matched against column names normalised to lower case with every non-alphanumeric run turned into "_";
# "(?:^|_)" anchors stop "face" from matching "interface" or "surface".
PROHIBITED_FEATURE_PATTERNS: tuple[str, ...] = (
    r"emotion",
    r"sentiment_face",
    r"(?:^|_)(?:face|voice|speech|audio|video|vocal)_sentiment",
    r"facial",
    r"(?:^|_)face(?:_|$)",
    r"voice_tone",
    r"tone_of_voice",
    r"(?:^|_)vocal",
    r"voice_pitch",
    r"voice_stress",
    r"prosod",
    r"(?:^|_)affect",
    r"micro_?expression",
    r"eye_contact",
    r"(?:^|_)gaze",
    r"(?:^|_)smil",
    r"(?:^|_)mood(?:_|$)",
)

EDUCATION_ORDER: tuple[str, ...] = ("none", "secondary", "bachelor", "master", "doctorate")

# Han ideographs (basic block, extension A, compatibility block).
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"\d+(?:\.\d+)?"
_CN_NUM = "[零一二两三四五六七八九十]+"
# "25 years old" is an age, not experience.
_YEARS_EN = re.compile(rf"({_NUM})\s*\+?\s*(?:years?|yrs?)(?![a-z])(?!\s+old)", re.IGNORECASE)
# "3年级" is a school grade; "2019年" is a calendar year and is dropped by MAX_PLAUSIBLE_YEARS below.
_YEARS_ZH = re.compile(rf"({_NUM}|{_CN_NUM})\s*\+?\s*年(?!级)")
# Larger numbers next to "years"/"年" are calendar years ("2019年毕业"), not experience.
MAX_PLAUSIBLE_YEARS = 60


class ProhibitedFeatureError(ValueError):
    """Raised when a model input column looks like an emotion, face or voice-tone feature."""


def _normalise_name(name: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def prohibited_columns(columns: Iterable[object]) -> dict[str, str]:
    """Map each prohibited column name to the first pattern it matches."""
    hits: dict[str, str] = {}
    for col in columns:
        norm = _normalise_name(col)
        for pattern in PROHIBITED_FEATURE_PATTERNS:
            if re.search(pattern, norm):
                hits[str(col)] = pattern
                break
    return hits


def assert_no_prohibited_features(columns: Iterable[object]) -> None:
    """Raise ProhibitedFeatureError if any column name matches PROHIBITED_FEATURE_PATTERNS."""
    hits = prohibited_columns(columns)
    if hits:
        detail = ", ".join(f"{col!r} (matches {pat!r})" for col, pat in hits.items())
        raise ProhibitedFeatureError(
            f"emotion, face and voice-tone features must never be model inputs; refused: {detail}"
        )


def load_lexicon(path: str | Path = DEFAULT_LEXICON_PATH) -> dict:
    """Read the competency, skill, job-family and education lexicons from YAML."""
    with open(path, encoding="utf-8") as fh:
        lexicon = yaml.safe_load(fh)
    for key in ("competencies", "skills", "job_families", "education_levels"):
        lexicon.setdefault(key, {})
    return lexicon


def _is_cjk_term(term: str) -> bool:
    return bool(_CJK_CHAR.search(term))


def _term_regex(term: str, prefix: bool) -> re.Pattern:
    """Compile a lexicon term: CJK as a substring, Latin at word start (prefix) or as a whole word."""
    if _is_cjk_term(term):
        return re.compile(re.escape(term))
    body = r"\s+".join(re.escape(part) for part in term.lower().split())
    tail = r"[a-z]*" if prefix else r"s?"
    return re.compile(rf"(?<![a-z0-9]){body}{tail}(?![a-z0-9])", re.IGNORECASE)


def _needle(term: str) -> str:
    """A lower-case literal every match of the term contains: the term itself (CJK) or its first word (Latin)."""
    return term if _is_cjk_term(term) else term.lower().split()[0]


class _Term(NamedTuple):
    term: str
    rx: re.Pattern
    needle: str

    def search(self, text: str, lowered: str):
        # A plain substring test first: most terms are absent from most texts, and it is ~50x cheaper than the
        # regex; the regex still decides (word starts, plurals), so results are exactly the regex's.
        return self.rx.search(text) if self.needle in lowered else None

    def finditer(self, text: str, lowered: str):
        return self.rx.finditer(text) if self.needle in lowered else ()


def _compile_terms(groups: Mapping[str, Iterable[str] | Mapping[str, Iterable[str]]], prefix: bool):
    """Flatten {code: [terms]} or {code: {lang: [terms]}} into {code: [_Term(term, regex, needle)]}."""
    compiled = {}
    for code, terms in groups.items():
        flat = [t for lang_terms in terms.values() for t in lang_terms] if isinstance(terms, Mapping) else terms
        compiled[code] = [_Term(str(t), _term_regex(str(t), prefix), _needle(str(t))) for t in flat]
    return compiled


def _non_overlapping_hits(text: str, terms: list[_Term], lowered: str | None = None) -> list[str]:
    """Terms matched in text, one per stretch of text: the longest match wins where matches overlap."""
    # Overlapping terms ("explain" and "explained", "客户" and "客户服务") would otherwise count one phrase
    # twice, and the count would depend on how the lexicon happens to be written.
    lowered = text.lower() if lowered is None else lowered
    spans = sorted(
        ((m.start(), m.end(), t.term) for t in terms for m in t.finditer(text, lowered)),
        key=lambda s: (s[0], -(s[1] - s[0])),
    )
    kept, last_end = [], -1
    for start, end, term in spans:
        if start >= last_end:
            kept.append(term)
            last_end = end
    return kept


def count_words(text: object) -> int:
    """Count words: each Latin/digit token is one word and each Han character is one word."""
    # Characters per minute is the usual speech-rate unit for Chinese; a Chinese word averages about 1.5
    # characters, so rates are comparable within a language, not across languages.
    if not isinstance(text, str):
        return 0
    return len(_LATIN_WORD.findall(_CJK_CHAR.sub(" ", text))) + len(_CJK_CHAR.findall(text))


def keyword_evidence(segments: pd.DataFrame, lexicon: Mapping) -> pd.DataFrame:
    """One row per competency keyword hit in a candidate segment: the transcript moment behind each tag.

    Input columns: interview_id, segment_no, question_id, speaker, start_s, text, language.
    Output: interview_id, competency, keyword, question_id, segment_no, start_s, language.
    """
    out_cols = ["interview_id", "competency", "keyword", "question_id", "segment_no", "start_s", "language"]
    compiled = _compile_terms(lexicon.get("competencies", {}), prefix=True)
    cand = segments[segments["speaker"].astype(str).str.strip().str.lower() == "candidate"]
    rows = []
    for seg in cand.itertuples(index=False):
        text = seg.text if isinstance(seg.text, str) else ""
        lowered = text.lower()
        for competency, terms in compiled.items():
            for term in _non_overlapping_hits(text, terms, lowered):
                rows.append(
                    (
                        seg.interview_id,
                        competency,
                        term,
                        seg.question_id,
                        seg.segment_no,
                        seg.start_s,
                        getattr(seg, "language", None),
                    )
                )
    evidence = pd.DataFrame(rows, columns=out_cols)
    return evidence.sort_values(["interview_id", "segment_no", "competency", "keyword"], kind="stable").reset_index(
        drop=True
    )


def transcript_features(segments: pd.DataFrame, lexicon: Mapping, evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per interview: candidate word count, speaking time and rate, and keyword hits per competency.

    Input columns: interview_id, segment_no, question_id, speaker, start_s, end_s, text, language.
    evidence: keyword_evidence(segments, lexicon) when the caller has it already (it is computed otherwise).
    Output: interview_id, language, n_candidate_segments, candidate_word_count, candidate_speaking_s,
    speaking_rate_wpm, kw_<competency> for each lexicon competency, reason (why a value is NaN).
    Only candidate segments count; the rate uses segments with a positive duration only, so untimed
    segments do not inflate it. language is the most common language of the candidate's segments (ties: the
    first in sort order).
    """
    competencies = list(lexicon.get("competencies", {}))
    cols = [
        "interview_id",
        "language",
        "n_candidate_segments",
        "candidate_word_count",
        "candidate_speaking_s",
        "speaking_rate_wpm",
        *[f"kw_{c}" for c in competencies],
        "reason",
    ]
    if segments.empty:
        return pd.DataFrame(columns=cols)
    # Grouped sums, not a loop over interviews: the loop cost ~5 ms an interview, minutes for a year of them.
    is_candidate = segments["speaker"].astype(str).str.strip().str.lower() == "candidate"
    words = segments["text"].map(count_words)
    duration = pd.to_numeric(segments["end_s"], errors="coerce") - pd.to_numeric(segments["start_s"], errors="coerce")
    timed = is_candidate & (duration > 0)
    parts = pd.DataFrame(
        {
            "interview_id": segments["interview_id"],
            "n_candidate_segments": is_candidate.astype(int),
            "candidate_word_count": words.where(is_candidate, 0).astype(int),
            "candidate_speaking_s": duration.where(timed, 0.0).astype(float),
            "_timed_words": words.where(timed, 0).astype(int),
        }
    )
    out = parts.groupby("interview_id", sort=True).sum()
    speaking = out["candidate_speaking_s"]
    out["speaking_rate_wpm"] = (out["_timed_words"] / (speaking / 60.0)).where(speaking > 0)
    out["reason"] = None
    out.loc[speaking <= 0, "reason"] = "no candidate segment with a positive duration"
    out.loc[out["n_candidate_segments"] == 0, "reason"] = "no candidate segments"

    out["language"] = None
    if "language" in segments.columns:
        langs = pd.DataFrame({"interview_id": segments["interview_id"], "language": segments["language"]})[
            is_candidate & segments["language"].notna()
        ].astype({"language": str})
        if len(langs):
            counts = langs.groupby(["interview_id", "language"]).size().rename("n").reset_index()
            counts = counts.sort_values(["interview_id", "n", "language"], ascending=[True, False, True])
            out["language"] = counts.drop_duplicates("interview_id").set_index("interview_id")["language"]
            out["language"] = out["language"].astype(object).where(out["language"].notna(), None)

    evidence = keyword_evidence(segments, lexicon) if evidence is None else evidence
    hits = (
        evidence.groupby(["interview_id", "competency"]).size().unstack(fill_value=0)
        if len(evidence)
        else pd.DataFrame(index=pd.Index([], name="interview_id"))
    )
    for comp in competencies:
        counts = hits[comp] if comp in hits.columns else pd.Series(dtype=int)
        out[f"kw_{comp}"] = counts.reindex(out.index).fillna(0).astype(int)
    return out.reset_index()[cols]


def _parse_number(token: str) -> float:
    """Parse an Arabic number or a simple Chinese numeral below 100 (三, 十二, 二十五)."""
    if re.fullmatch(_NUM, token):
        return float(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        if len(tens) > 1 or len(ones) > 1:
            return np.nan
        t = _CN_DIGITS.get(tens, np.nan) if tens else 1
        o = _CN_DIGITS.get(ones, np.nan) if ones else 0
        return float(t * 10 + o)
    return float(_CN_DIGITS[token]) if len(token) == 1 and token in _CN_DIGITS else np.nan


def years_of_experience(text: object) -> float:
    """Largest plausible 'N years' / 'N 年' mention; NaN when none is found."""
    # The largest mention is taken, not the sum: resumes usually state total experience once, and summing
    # per-job durations double counts overlapping roles.
    if not isinstance(text, str):
        return np.nan
    values = [_parse_number(m.group(1)) for rx in (_YEARS_EN, _YEARS_ZH) for m in rx.finditer(text)]
    values = [v for v in values if np.isfinite(v) and 0 <= v < MAX_PLAUSIBLE_YEARS]
    return max(values) if values else np.nan


def _education_level(text: object, compiled: Mapping[str, list[_Term]]) -> str:
    if not isinstance(text, str):
        return "none"
    lowered = text.lower()
    best = "none"
    for level in EDUCATION_ORDER[1:]:
        if any(t.search(text, lowered) for t in compiled.get(level, [])):
            best = level
    return best


def _skills(text: object, compiled: Mapping[str, list[_Term]]) -> list[str]:
    if not isinstance(text, str):
        return []
    lowered = text.lower()
    return sorted(code for code, terms in compiled.items() if any(t.search(text, lowered) for t in terms))


def education_level(text: object, lexicon: Mapping) -> str:
    """Highest education level whose keyword appears; 'none' when no qualification keyword is found."""
    return _education_level(text, _compile_terms(lexicon.get("education_levels", {}), prefix=False))


def extract_skills(text: object, lexicon: Mapping) -> list[str]:
    """Sorted skill codes whose terms appear in the text (whole-word match for Latin terms)."""
    return _skills(text, _compile_terms(lexicon.get("skills", {}), prefix=False))


def resume_job_match(skills: Iterable[str], job_family: object, lexicon: Mapping) -> float:
    """Share of the job family's skill list that the resume mentions; NaN for an unknown family."""
    required = lexicon.get("job_families", {}).get(job_family)
    if not required:
        return np.nan
    have = set(skills)
    return sum(s in have for s in required) / len(required)


def resume_features(resumes: pd.DataFrame, lexicon: Mapping, text_col: str = "text") -> pd.DataFrame:
    """Education, years of experience, skills and job match per resume.

    Input columns: resume_id, candidate_id, text, and optionally job_family.
    Output: resume_id, candidate_id, education_level, education_rank (0 none .. 4 doctorate),
    years_experience, skills (list of codes), n_skills, resume_job_match, reason.
    """
    rank = {lvl: i for i, lvl in enumerate(EDUCATION_ORDER)}
    # Compiled once per call, not once per resume: compiling the lexicon costs more than matching one resume.
    skill_terms = _compile_terms(lexicon.get("skills", {}), prefix=False)
    education_terms = _compile_terms(lexicon.get("education_levels", {}), prefix=False)
    rows = []
    for r in resumes.itertuples(index=False):
        text = getattr(r, text_col)
        skills = _skills(text, skill_terms)
        family = getattr(r, "job_family", None)
        match = resume_job_match(skills, family, lexicon)
        reasons = []
        if not isinstance(text, str) or not text.strip():
            reasons.append("empty resume text")
        if np.isnan(match):
            reasons.append("job family has no skill list" if family is not None else "no job family given")
        edu = _education_level(text, education_terms)
        rows.append(
            {
                "resume_id": r.resume_id,
                "candidate_id": getattr(r, "candidate_id", None),
                "education_level": edu,
                "education_rank": rank[edu],
                "years_experience": years_of_experience(text),
                "skills": skills,
                "n_skills": len(skills),
                "resume_job_match": match,
                "reason": "; ".join(reasons) or None,
            }
        )
    cols = [
        "resume_id",
        "candidate_id",
        "education_level",
        "education_rank",
        "years_experience",
        "skills",
        "n_skills",
        "resume_job_match",
        "reason",
    ]
    return pd.DataFrame(rows, columns=cols)


def resume_interview_consistency(
    df: pd.DataFrame,
    resume_col: str = "resume_job_match",
    interview_col: str = "interview_composite",
    high: float = 0.75,
    low: float = 0.25,
) -> pd.DataFrame:
    """Percentile ranks of resume strength and interview composite, and a flag for 'resume high, interview low'.

    Input: any frame with the two score columns (one row per candidate, within one job family).
    Adds resume_pct, interview_pct (average-rank percentiles among rows with both values, in (0, 1]),
    rank_gap = resume_pct - interview_pct, and flag_resume_high_interview_low (resume_pct >= high and
    interview_pct <= low). Rows missing either score get NaN and flag False.
    """
    out = df.copy()
    both = out[resume_col].notna() & out[interview_col].notna()
    out["resume_pct"] = out.loc[both, resume_col].rank(pct=True, method="average")
    out["interview_pct"] = out.loc[both, interview_col].rank(pct=True, method="average")
    out["rank_gap"] = out["resume_pct"] - out["interview_pct"]
    out["flag_resume_high_interview_low"] = (out["resume_pct"] >= high) & (out["interview_pct"] <= low)
    return out


def resume_interview_correlation(
    df: pd.DataFrame, resume_col: str = "resume_job_match", interview_col: str = "interview_composite"
) -> dict:
    """Spearman rank correlation between resume strength and interview composite: n, rho, p_value, reason."""
    both = df[[resume_col, interview_col]].dropna()
    n = len(both)
    if n < 3:
        return {"n": n, "rho": np.nan, "p_value": np.nan, "reason": "fewer than 3 candidates with both scores"}
    if both[resume_col].nunique() < 2 or both[interview_col].nunique() < 2:
        return {"n": n, "rho": np.nan, "p_value": np.nan, "reason": "zero variance"}
    res = stats.spearmanr(both[resume_col], both[interview_col])
    return {"n": n, "rho": float(res.statistic), "p_value": float(res.pvalue), "reason": None}
