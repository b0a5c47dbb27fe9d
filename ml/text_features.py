"""Transcript and resume features by transparent keyword rules.

Only what a candidate said (words, timing, keywords) and wrote (education, experience, skills) is measured.
No emotion, facial-expression or voice-tone feature is computed here or accepted as a model input anywhere:
such inference is prohibited in hiring in some jurisdictions (e.g. the Illinois AI Video Interview Act,
the EU AI Act's ban on emotion recognition at work), so `assert_no_prohibited_features` (ml/prohibited.py,
re-exported here) guards every model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from scipy import stats

# The guard moved to ml/prohibited.py; re-exported for the modules that still import it from here.
from ml.prohibited import (  # noqa: F401
    PROHIBITED_FEATURE_PATTERNS,
    ProhibitedFeatureError,
    assert_no_prohibited_features,
    prohibited_columns,
)

DEFAULT_LEXICON_PATH = Path(__file__).parent / "lexicons" / "lexicons.yaml"

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
# The only characters Python's case-insensitive matching equates with an ASCII character other than by
# lower-casing (İ and ı ~ i, ſ ~ s, the Kelvin sign ~ k); İ is also the only one whose lower case is longer.
_CASE_FOLD_SPECIAL = re.compile("[\u0130\u0131\u017f\u212a]")
# Characters RE2 (Arrow's regex engine) treats as operators; everything else in a needle is a literal.
_RE2_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")
# Python's \s in a str pattern: the characters str.isspace() accepts (checked against every code point in the tests).
_PY_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_RE2_PY_SPACE = "".join(f"\\x{{{ord(c):x}}}" for c in _PY_SPACE)  # an RE2 class body
# Texts matched in bulk at a time: bounds the byte- and token-sized work arrays (~30 bytes per byte of text).
# Transcript segments are ~60 characters, resumes ~350.
_BULK_TEXTS = 100_000
_BULK_RESUMES = 20_000
_ASCII_LOWER_ALNUM = np.zeros(256, dtype=bool)
_ASCII_LOWER_ALNUM[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)] = True
_ASCII_PY_SPACE = np.zeros(256, dtype=bool)
_ASCII_PY_SPACE[[ord(c) for c in _PY_SPACE if c.isascii()]] = True
_ASCII_ALNUM = _ASCII_LOWER_ALNUM.copy()
_ASCII_ALNUM[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)] = True


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
    cjk: bool

    def search(self, text: str, lowered: str):
        # A plain substring test first: most terms are absent from most texts, and it is ~50x cheaper than the
        # regex; the regex still decides (word starts, plurals), so results are exactly the regex's.
        return self.rx.search(text) if self.needle in lowered else None

    def finditer(self, text: str, lowered: str):
        return self.rx.finditer(text) if self.needle in lowered else ()

    def found(self, text: str, lowered: str, plain: bool) -> bool:
        """bool(self.search(text, lowered)); plain: text has no _CASE_FOLD_SPECIAL character."""
        return bool(self.spans(text, lowered, plain, first_only=True))

    def spans(self, text: str, lowered: str, plain: bool, first_only: bool = False) -> list[tuple[int, int]]:
        """(start, end) of each match of self.finditer(text, lowered); plain: no _CASE_FOLD_SPECIAL character."""
        if self.needle not in lowered:
            return []
        if self.cjk:  # the regex is the escaped term, matched case-sensitively: a substring search
            found, size, pos = [], len(self.term), text.find(self.term)
            while pos >= 0 and not (first_only and found):
                found.append((pos, pos + size))
                pos = text.find(self.term, pos + size)
            return found
        if not plain or not self.needle.isascii():
            return [m.span() for m in self.rx.finditer(text)]
        # In a plain text every match starts where the needle sits in the lower-cased text, at the same index
        # (lower-casing changes no length), so the regex is tried there instead of at every character: a
        # case-insensitive scan of a whole resume costs ~15 us, a few anchored tries well under 1 us. Matches
        # are taken left to right without overlap, as finditer takes them.
        found, pos = [], lowered.find(self.needle)
        while pos >= 0 and not (first_only and found):
            m = self.rx.match(text, pos)
            if m:
                found.append(m.span())
                pos = lowered.find(self.needle, m.end())
            else:
                pos = lowered.find(self.needle, pos + 1)
        return found


def _compile_terms(groups: Mapping[str, Iterable[str] | Mapping[str, Iterable[str]]], prefix: bool):
    """Flatten {code: [terms]} or {code: {lang: [terms]}} into {code: [_Term(term, regex, needle)]}."""
    compiled = {}
    for code, terms in groups.items():
        flat = [t for lang_terms in terms.values() for t in lang_terms] if isinstance(terms, Mapping) else terms
        compiled[code] = [
            _Term(str(t), _term_regex(str(t), prefix), _needle(str(t)), _is_cjk_term(str(t))) for t in flat
        ]
    return compiled


# Bulk matching. The per-text rules above (a term's regex, gated by its needle; the longest match winning) define
# every output. Run once per text and term they cost ~40 us a transcript segment, so batches of texts are matched
# in bulk instead, with results equal to the per-text rules (tests/unit/ml/test_ml_text_bulk.py holds them to it):
# - ASCII texts are cut into tokens in numpy, each distinct token is tested once against each one-word term
#   (RE2, anchored), and phrases are consecutive tokens with only whitespace between them;
# - every other text, and every text a phrase or a term with punctuation may match (found by an RE2 prefilter
#   that can only over-select), goes through the per-text rules.


def _re2_escape(literal: str) -> str:
    return _RE2_SPECIAL.sub(r"\\\1", literal)


def _prefilter_pattern(term: str, prefix: bool) -> str:
    """An RE2 pattern that finds, in the lower-cased text, every place a match of the term can start.

    For a plain text (no _CASE_FOLD_SPECIAL character) a match of an ASCII Latin term leaves its parts, lower-cased,
    in the lower-cased text at a word start (and, whole-word terms, at a word end), with Python whitespace between
    them; other terms match only where their needle sits, which is what the needle test requires anyway.
    """
    if _is_cjk_term(term) or not term.isascii():
        return _re2_escape(_needle(term))
    body = f"[{_RE2_PY_SPACE}]+".join(_re2_escape(part) for part in term.lower().split())
    return rf"(?:^|[^a-z0-9]){body}" + ("" if prefix else r"s?(?:$|[^a-z0-9])")


class _TermGroup(NamedTuple):
    """One competency, skill or education level: its terms, and how they are found in bulk.

    In an ASCII text a Latin term whose words are ASCII letters and digits matches a run of whole tokens (maximal
    [a-z0-9] runs of the lower-cased text): (?<![a-z0-9]) and (?![a-z0-9]) make it start and end where tokens
    do, every word but the last must equal its token, and the last must be the word plus letters (prefix terms)
    or an optional "s". token_terms and phrase_terms hold, for such one- and several-word terms, the position in
    `terms` and an RE2 pattern per word that a token must satisfy. other_pattern prefilters ASCII texts for the
    group's other terms (CJK terms never match ASCII text); all_pattern prefilters non-ASCII texts for all terms.
    """

    name: str
    terms: list[_Term]
    token_terms: list[tuple[int, list[str]]]
    phrase_terms: list[tuple[int, list[str]]]
    other_pattern: str | None
    all_pattern: str | None


_TOKEN_WORD = re.compile(r"[a-z0-9]+")


def _term_groups(groups: Mapping[str, Iterable[str] | Mapping[str, Iterable[str]]], prefix: bool) -> list[_TermGroup]:
    out = []
    for name, terms in _compile_terms(groups, prefix).items():
        token_terms, phrase_terms, others = [], [], []
        for k, t in enumerate(terms):
            words = t.term.lower().split()
            if t.cjk:
                continue
            if t.term.isascii() and all(_TOKEN_WORD.fullmatch(w) for w in words):
                patterns = [f"^{w}$" for w in words[:-1]] + [f"^{words[-1]}" + ("[a-z]*$" if prefix else "s?$")]
                (token_terms if len(words) == 1 else phrase_terms).append((k, patterns))
            else:
                others.append(_prefilter_pattern(t.term, prefix))
        everything = [_prefilter_pattern(t.term, prefix) for t in terms]
        out.append(
            _TermGroup(
                str(name), terms, token_terms, phrase_terms, "|".join(others) or None, "|".join(everything) or None
            )
        )
    return out


def _text_array(texts: list[str]) -> pa.Array | None:
    """Texts as an Arrow array, or None if one cannot be encoded as UTF-8 (a lone surrogate)."""
    try:
        return pa.array(texts, type=pa.large_string())
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return None


class _Runs(NamedTuple):
    """Each maximal run of bytes that a table accepts, in every string of a null-free large_string array, in
    order: its row and [start, end) in the array's byte buffer, which holds the strings' bytes in [lo, hi)."""

    rows: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    data: np.ndarray
    lo: int
    hi: int


def _runs(array: pa.Array, table: np.ndarray) -> _Runs:
    """The runs of `table` bytes; multi-byte UTF-8 characters never belong to one (their bytes are >= 0x80,
    outside every table here)."""
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
    lo, hi = int(offsets[0]), int(offsets[-1])
    inside = np.zeros(hi + 2, dtype=np.int8)  # inside[k + 1]: whether data[k] belongs to a run
    inside[lo + 1 : hi + 1] = table[data[lo:hi]]
    change = np.diff(inside)
    starts = np.flatnonzero(change == 1)
    ends = np.flatnonzero(change == -1)
    # A run never continues from one string into the next: cut it where a string ends inside a run.
    cut = offsets[1:-1]
    cut = cut[(inside[cut] == 1) & (inside[cut + 1] == 1)]
    cut = cut[np.r_[True, cut[1:] != cut[:-1]]] if len(cut) else cut  # empty strings repeat an offset
    if len(cut):
        starts = np.insert(starts, np.searchsorted(starts, cut), cut)
        ends = np.insert(ends, np.searchsorted(ends, cut), cut)
    rows = np.searchsorted(offsets, starts, side="right") - 1
    return _Runs(rows, starts, ends, data, lo, hi)


class _Tokens:
    """The tokens (maximal [a-z0-9] runs) of some lower-cased ASCII texts: the row of each, whether the next token
    follows it in the same text after whitespace only, and which word patterns each distinct token satisfies."""

    # positions() scans every token when the words asked for hold more than 1/scan_above of them.
    scan_above = 8

    def __init__(self, array: pa.Array):
        runs = _runs(array, _ASCII_LOWER_ALNUM)
        n = len(runs.starts)
        # The tokens as strings over the texts' own bytes: every second piece of the texts cut at each token's
        # start and end (the pieces between are gaps), taken out by Arrow.
        bounds = np.empty(2 * n + 2, dtype=np.int64)
        bounds[0], bounds[-1] = runs.lo, runs.hi
        bounds[1:-1:2], bounds[2:-1:2] = runs.starts, runs.ends
        pieces = pa.LargeStringArray.from_buffers(len(bounds) - 1, pa.py_buffer(bounds), array.buffers()[2])
        words = pieces.take(pa.array(np.arange(1, 2 * n, 2, dtype=np.int64)))
        self.vocabulary = pc.unique(words)
        self.codes = pc.index_in(words, value_set=self.vocabulary).to_numpy(zero_copy_only=False).astype(np.int64)
        self.rows = runs.rows
        self._runs = runs
        self._matches: dict[str, np.ndarray] = {}
        self._counts = np.bincount(self.codes, minlength=len(self.vocabulary))
        self._by_word: np.ndarray | None = None

    def positions(self, words: np.ndarray) -> np.ndarray:
        """Positions, in order, of the tokens whose distinct token is marked in `words` (one flag per word)."""
        chosen = np.flatnonzero(words)
        if self._counts[chosen].sum() * self.scan_above > len(self.codes):  # common words: one pass over all tokens
            return np.flatnonzero(words[self.codes])
        if not len(chosen):
            return np.zeros(0, dtype=np.int64)
        # Rare words (most skills, the first words of phrases): their tokens from the tokens grouped by word.
        if self._by_word is None:
            self._by_word = np.argsort(self.codes, kind="stable")
            self._word_start = np.concatenate([[0], np.cumsum(self._counts)])
        start = self._word_start
        return np.sort(np.concatenate([self._by_word[start[w] : start[w + 1]] for w in chosen]))

    def linked(self, at: np.ndarray) -> np.ndarray:
        """For each token i in `at`: whether token i + 1 follows it in the same text with only whitespace between."""
        ok = np.zeros(len(at), dtype=bool)
        same = at + 1 < len(self.rows)
        same[same] = self.rows[at[same]] == self.rows[at[same] + 1]
        pairs = np.flatnonzero(same)
        if len(pairs):
            # The gaps' bytes, gathered end to end (a gap between two tokens of one text is never empty).
            starts, ends = self._runs.ends[at[pairs]], self._runs.starts[at[pairs] + 1]
            lengths = ends - starts
            first = np.cumsum(lengths) - lengths
            gaps = self._runs.data[np.repeat(starts - first, lengths) + np.arange(lengths.sum(), dtype=np.int64)]
            ok[pairs] = np.add.reduceat(~_ASCII_PY_SPACE[gaps], first, dtype=np.int64) == 0
        return ok

    def matches(self, pattern: str) -> np.ndarray:
        """Whether each distinct token satisfies an RE2 pattern."""
        if pattern not in self._matches:
            self._matches[pattern] = pc.match_substring_regex(self.vocabulary, pattern).to_numpy(zero_copy_only=False)
        return self._matches[pattern]

    def first_term(self, group: _TermGroup) -> np.ndarray:
        """For each distinct token, the position in group.terms of the first one-word term matching it (-1: none)."""
        first = np.full(len(self.vocabulary), -1, dtype=np.int64)
        for k, (pattern,) in reversed(group.token_terms):  # the earliest term in the list wins a tie, as in the sort
            first[self.matches(pattern)] = k
        return first

    def phrase_rows(self, group: _TermGroup) -> np.ndarray:
        """Rows (of the tokenised texts) in which one of the group's phrase terms matches: consecutive tokens
        satisfying its word patterns, with only (Python) whitespace between them."""
        found = []
        for _, patterns in group.phrase_terms:
            n = len(patterns)
            if len(self.codes) < n:
                continue
            start = self.positions(self.matches(patterns[0]))
            start = start[start <= len(self.codes) - n]
            for i, pattern in enumerate(patterns[1:], start=1):
                start = start[self.matches(pattern)[self.codes[start + i]]]
                start = start[self.linked(start + i - 1)]
            found.append(self.rows[start])
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


class _Texts:
    """A batch of texts prepared for bulk matching: lower-cased, split into ASCII and other texts, tokenised."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.lowered = [t.lower() for t in texts]
        is_ascii = np.fromiter((t.isascii() for t in texts), dtype=bool, count=len(texts))
        # ASCII texts are plain, lower-case without changing a length, and cannot hold a CJK term.
        self.ascii_rows = np.flatnonzero(is_ascii)
        other = np.flatnonzero(~is_ascii)
        plain = np.fromiter((_is_plain(texts[j]) for j in other), dtype=bool, count=len(other))
        self.plain = np.ones(len(texts), dtype=bool)
        self.plain[other] = plain
        self.plain_other_rows = other[plain]
        self.special_rows = other[~plain]
        self.ascii_array = _text_array([self.lowered[j] for j in self.ascii_rows])
        self.plain_other_array = _text_array([self.lowered[j] for j in self.plain_other_rows])
        if self.plain_other_array is None:  # a lone surrogate: those texts take the exact path
            self.special_rows = np.union1d(self.special_rows, self.plain_other_rows)
            self.plain_other_rows = np.zeros(0, dtype=np.int64)
        self.tokens = _Tokens(self.ascii_array) if len(self.ascii_rows) else None

    def exact_rows(self, group: _TermGroup, phrases: bool = True) -> np.ndarray:
        """Rows whose matches for the group are found one text at a time, by the term regexes: ASCII texts where a
        phrase (if `phrases`) or a term that is neither a token nor a phrase term may match, non-ASCII plain texts
        where any term may, and every text with a special character."""
        parts = [self.special_rows]
        if phrases and self.tokens is not None and group.phrase_terms:
            parts.append(self.ascii_rows[self.tokens.phrase_rows(group)])
        if group.other_pattern is not None and len(self.ascii_rows):
            parts.append(self.ascii_rows[_prefilter(self.ascii_array, group.other_pattern)])
        if group.all_pattern is not None and len(self.plain_other_rows):
            parts.append(self.plain_other_rows[_prefilter(self.plain_other_array, group.all_pattern)])
        return np.unique(np.concatenate(parts))

    def token_hits(self, group: _TermGroup, exclude: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, token index, term position) of each token matched by a one-word term, outside rows `exclude`:
        in the other ASCII texts these are all the group's matches."""
        empty = np.zeros(0, dtype=np.int64)
        if self.tokens is None or not group.token_terms:
            return empty, empty, empty
        first = self.tokens.first_term(group)
        hit = self.tokens.positions(first >= 0)
        rows = self.ascii_rows[self.tokens.rows[hit]]
        keep = ~np.isin(rows, exclude)
        return rows[keep], hit[keep], first[self.tokens.codes[hit]][keep]


def _prefilter(array: pa.Array, pattern: str) -> np.ndarray:
    return np.flatnonzero(pc.match_substring_regex(array, pattern).to_numpy(zero_copy_only=False))


def _present(batch: _Texts, group: _TermGroup) -> np.ndarray:
    """Rows in which some term of the group matches: any(t.search(text, lowered) for t in group.terms)."""
    # In ASCII texts token and phrase matches are exact; the regexes decide the rest.
    exact = batch.exact_rows(group, phrases=False)
    found = [
        j for j in exact if any(t.found(batch.texts[j], batch.lowered[j], bool(batch.plain[j])) for t in group.terms)
    ]
    token_rows, _, _ = batch.token_hits(group, np.zeros(0, dtype=np.int64))
    phrase_rows = batch.ascii_rows[batch.tokens.phrase_rows(group)] if batch.tokens is not None else []
    return np.union1d(np.union1d(np.asarray(found, dtype=np.int64), token_rows), phrase_rows).astype(np.int64)


def _is_plain(text: str) -> bool:
    return _CASE_FOLD_SPECIAL.search(text) is None


def _non_overlapping_hits(
    text: str, terms: list[_Term], lowered: str | None = None, plain: bool | None = None
) -> list[str]:
    """Terms matched in text, one per stretch of text: the longest match wins where matches overlap."""
    # Overlapping terms ("explain" and "explained", "客户" and "客户服务") would otherwise count one phrase
    # twice, and the count would depend on how the lexicon happens to be written.
    lowered = text.lower() if lowered is None else lowered
    plain = _is_plain(text) if plain is None else plain
    spans = []
    n_terms = 0
    for t in terms:
        found = t.spans(text, lowered, plain) if t.needle in lowered else None  # the test inlined: ~10x cheaper
        if found:
            n_terms += 1
            spans.extend((start, end, t.term) for start, end in found)
    if n_terms <= 1:
        return [term for _, _, term in spans]  # one term's own matches never overlap
    spans.sort(key=lambda s: (s[0], s[0] - s[1]))
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


def _count_words(texts: Sequence[object]) -> np.ndarray:
    """count_words of each text, without a regex call per text."""
    if len(texts) > _BULK_TEXTS:
        return np.concatenate([_count_words(texts[i : i + _BULK_TEXTS]) for i in range(0, len(texts), _BULK_TEXTS)])
    strings = [t if isinstance(t, str) else "" for t in texts]
    array = _text_array(strings)
    if array is None:
        return np.array([count_words(t) for t in texts], dtype=np.int64)
    # Without an apostrophe a Latin word is a maximal run of ASCII letters and digits (Han characters and other
    # non-ASCII characters separate runs, as blanking them in count_words does), so the runs are counted in bulk;
    # texts with an apostrophe, and the Han characters of non-ASCII texts, are counted by RE2 with the same
    # patterns, which picks the same leftmost, greedy matches as Python's re.
    counts = np.bincount(_runs(array, _ASCII_ALNUM).rows, minlength=len(strings)).astype(np.int64)
    apostrophe = _prefilter(array, "['’]")
    if len(apostrophe):
        latin = pc.count_substring_regex(array.take(pa.array(apostrophe)), _LATIN_WORD.pattern)
        counts[apostrophe] = latin.to_numpy(zero_copy_only=False)
    other = np.flatnonzero(~pc.string_is_ascii(array).to_numpy(zero_copy_only=False))
    if len(other):
        han = pc.count_substring_regex(array.take(pa.array(other)), _CJK_CHAR.pattern)
        counts[other] += han.to_numpy(zero_copy_only=False)
    return counts


def _is_candidate(speaker: pd.Series) -> np.ndarray:
    """speaker.astype(str).str.strip().str.lower() == "candidate", decided once per distinct value."""
    codes, uniques = pd.factorize(speaker)
    flags = np.array([str(u).strip().lower() == "candidate" for u in uniques] + [False], dtype=bool)
    # Missing speakers get code -1, which picks the trailing False ("None", "nan" and "<NA>" are not "candidate").
    return flags[codes]


EVIDENCE_COLUMNS = ["interview_id", "competency", "keyword", "question_id", "segment_no", "start_s", "language"]


def keyword_evidence_rows(segments: pd.DataFrame, lexicon: Mapping) -> pd.DataFrame:
    """keyword_evidence plus segment_row: the position in `segments` of the segment each hit comes from."""
    groups = _term_groups(lexicon.get("competencies", {}), prefix=True)
    positions = np.flatnonzero(_is_candidate(segments["speaker"])) if len(segments) else np.zeros(0, dtype=np.int64)
    texts = [t if isinstance(t, str) else "" for t in segments["text"].to_numpy(dtype=object)[positions]]
    rows, ranks, orders, terms = [], [], [], []
    for first in range(0, len(texts), _BULK_TEXTS):
        batch = _Texts(texts[first : first + _BULK_TEXTS])
        for rank, group in enumerate(groups):
            # Texts a token term cannot settle alone are matched one at a time, by the same rules as ever.
            exact = batch.exact_rows(group)
            found = [
                _non_overlapping_hits(batch.texts[j], group.terms, batch.lowered[j], bool(batch.plain[j]))
                for j in exact
            ]
            sizes = np.array([len(f) for f in found], dtype=np.int64)
            rows.append(first + np.repeat(exact, sizes))
            orders.append(np.arange(sizes.sum(), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes))
            terms.append(np.asarray([t for f in found for t in f], dtype=object))
            # Elsewhere each hit is one token, matched by the first of the group's terms that accepts it.
            hit_rows, token_index, term_pos = batch.token_hits(group, exact)
            rows.append(first + hit_rows)
            orders.append(token_index)
            terms.append(np.asarray([t.term for t in group.terms], dtype=object)[term_pos])
            ranks.append(np.full(int(sizes.sum()) + len(hit_rows), rank, dtype=np.int64))
    competencies = np.asarray([g.name for g in groups], dtype=object)
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    rank = np.concatenate(ranks) if ranks else np.zeros(0, dtype=np.int64)
    order = np.concatenate(orders) if orders else np.zeros(0, dtype=np.int64)
    term = np.concatenate(terms) if terms else np.zeros(0, dtype=object)
    # The order a loop over segments, then competencies, then hits in text order would emit them in, so that the
    # stable sort below settles ties exactly as it always has.
    emitted = np.lexsort((order, rank, row))
    seg_rows = positions[row[emitted]]
    picked = segments.iloc[seg_rows]
    if not len(seg_rows):
        evidence = pd.DataFrame({c: pd.Series(dtype=object) for c in EVIDENCE_COLUMNS})
        return evidence.assign(segment_row=pd.Series(dtype=np.int64))
    evidence = pd.DataFrame(
        {
            "interview_id": picked["interview_id"].to_numpy(),
            "competency": competencies[rank[emitted]],
            "keyword": term[emitted],
            "question_id": picked["question_id"].to_numpy(),
            "segment_no": picked["segment_no"].to_numpy(),
            "start_s": picked["start_s"].to_numpy(),
            "language": picked["language"].to_numpy() if "language" in segments.columns else None,
            "segment_row": seg_rows,
        }
    )
    return evidence.sort_values(["interview_id", "segment_no", "competency", "keyword"], kind="stable").reset_index(
        drop=True
    )


def keyword_evidence(segments: pd.DataFrame, lexicon: Mapping) -> pd.DataFrame:
    """One row per competency keyword hit in a candidate segment: the transcript moment behind each tag.

    Input columns: interview_id, segment_no, question_id, speaker, start_s, text, language.
    Output: interview_id, competency, keyword, question_id, segment_no, start_s, language.
    """
    return keyword_evidence_rows(segments, lexicon).drop(columns="segment_row")


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
    is_candidate = pd.Series(_is_candidate(segments["speaker"]), index=segments.index)
    # Only candidate speech is counted, so only candidate segments are tokenised.
    words = np.zeros(len(segments), dtype=np.int64)
    words[is_candidate.to_numpy()] = _count_words(segments["text"].to_numpy(dtype=object)[is_candidate.to_numpy()])
    words = pd.Series(words, index=segments.index)
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


# What may stand between an English mention's first digit and its "y", in ASCII text: digits, the decimal point,
# Python whitespace and the "+".
_YEARS_EN_LEAD = frozenset("0123456789.+" + "".join(c for c in _PY_SPACE if c.isascii()))


def _years_en(text: str) -> list[re.Match]:
    """The matches _YEARS_EN.finditer(text) yields, in order."""
    if not text.isascii():
        return list(_YEARS_EN.finditer(text))
    # A match is digits, then whitespace and "+", then its "y": it starts in the run of _YEARS_EN_LEAD characters
    # just before a "y". So the regex is tried at the digits of those runs only, left to right and after the end
    # of the previous match, as finditer tries every position; a scan of a whole resume costs ~15 us.
    found, done, lowered = [], 0, text.lower()
    y = lowered.find("y")
    while y >= 0:
        start = y
        while start > done and text[start - 1] in _YEARS_EN_LEAD:
            start -= 1
        for pos in range(start, y):
            m = _YEARS_EN.match(text, pos) if "0" <= text[pos] <= "9" else None
            if m:
                found.append(m)
                done = m.end()
                break
        y = lowered.find("y", max(y + 1, done))
    return found


def years_of_experience(text: object) -> float:
    """Largest plausible 'N years' / 'N 年' mention; NaN when none is found."""
    # The largest mention is taken, not the sum: resumes usually state total experience once, and summing
    # per-job durations double counts overlapping roles.
    if not isinstance(text, str):
        return np.nan
    # The Chinese pattern needs a literal 年; testing for it first skips most of the cost on English text.
    matches = [*_years_en(text), *(_YEARS_ZH.finditer(text) if "年" in text else ())]
    values = [_parse_number(m.group(1)) for m in matches]
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


RESUME_PARSE_COLUMNS = ["education_level", "education_rank", "years_experience", "skills", "n_skills", "blank"]


def parse_resume_texts(texts: Iterable[object], lexicon: Mapping) -> pd.DataFrame:
    """What each resume text says, whichever job it is read against: one row per text, in order.

    Output: education_level, education_rank (0 none .. 4 doctorate), years_experience, skills (sorted list of
    codes), n_skills, blank (no text, or only whitespace).
    """
    texts = list(texts)
    if len(texts) > _BULK_RESUMES:
        step = _BULK_RESUMES
        parts = [parse_resume_texts(texts[i : i + step], lexicon) for i in range(0, len(texts), step)]
        return pd.concat(parts, ignore_index=True)
    batch = _Texts([t if isinstance(t, str) else "" for t in texts])
    # Compiled once per call, not once per resume: compiling the lexicon costs more than matching one resume.
    skill_groups = sorted(_term_groups(lexicon.get("skills", {}), prefix=False), key=lambda g: g.name)
    education_groups = {g.name: g for g in _term_groups(lexicon.get("education_levels", {}), prefix=False)}
    skills: list[list[str]] = [[] for _ in texts]
    for group in skill_groups:  # appended in code order, so each list comes out sorted
        for j in _present(batch, group):
            skills[j].append(group.name)
    rank = np.zeros(len(texts), dtype=np.int64)
    for i, level in enumerate(EDUCATION_ORDER[1:], start=1):  # the highest level found wins
        if level in education_groups:
            rank[_present(batch, education_groups[level])] = i
    return pd.DataFrame(
        {
            "education_level": pd.Series(np.asarray(EDUCATION_ORDER, dtype=object)[rank], dtype=object),
            "education_rank": rank,
            "years_experience": np.array([years_of_experience(t) for t in texts], dtype=float),
            "skills": pd.Series(skills, dtype=object),
            "n_skills": np.array([len(s) for s in skills], dtype=np.int64),
            "blank": np.array([not isinstance(t, str) or not t.strip() for t in texts], dtype=bool),
        },
        columns=RESUME_PARSE_COLUMNS,
    )


def resume_job_fit(
    skills: Iterable[Iterable[str]], blank: Iterable[bool], job_families: Iterable[object], lexicon: Mapping
) -> pd.DataFrame:
    """resume_job_match and reason for parsed resumes read against a job family each (None: no family given)."""
    matches, reasons = [], []
    for have, is_blank, family in zip(skills, blank, job_families, strict=True):
        match = resume_job_match(have, family, lexicon)
        why = []
        if is_blank:
            why.append("empty resume text")
        if np.isnan(match):
            why.append("job family has no skill list" if family is not None else "no job family given")
        matches.append(match)
        reasons.append("; ".join(why) or None)
    return pd.DataFrame(
        {"resume_job_match": pd.Series(matches, dtype=float), "reason": pd.Series(reasons, dtype=object)}
    )


def resume_features(resumes: pd.DataFrame, lexicon: Mapping, text_col: str = "text") -> pd.DataFrame:
    """Education, years of experience, skills and job match per resume.

    Input columns: resume_id, candidate_id, text, and optionally job_family.
    Output: resume_id, candidate_id, education_level, education_rank (0 none .. 4 doctorate),
    years_experience, skills (list of codes), n_skills, resume_job_match, reason.
    """
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
    if resumes.empty:
        return pd.DataFrame([], columns=cols)
    parsed = parse_resume_texts(resumes[text_col].tolist(), lexicon)
    families = resumes["job_family"].tolist() if "job_family" in resumes.columns else [None] * len(resumes)
    fit = resume_job_fit(parsed["skills"], parsed["blank"], families, lexicon)
    candidates = resumes["candidate_id"].tolist() if "candidate_id" in resumes.columns else [None] * len(resumes)
    out = pd.DataFrame(
        {
            "resume_id": resumes["resume_id"].tolist(),
            "candidate_id": candidates,
            **{c: parsed[c] for c in RESUME_PARSE_COLUMNS if c != "blank"},
            **fit,
        }
    )
    return out[cols]


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
