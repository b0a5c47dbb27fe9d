"""The bulk (Arrow/numpy) text matching gives exactly what the per-text rules give, on texts built to hit its
edges: plurals and prefixes, digits inside words, phrases split by odd whitespace, terms that overlap, characters
that Python's case-insensitive matching folds onto ASCII, Chinese, apostrophes, empty and missing text."""

import re
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ml import pipeline
from ml import text_features as tf

TRICKY = [
    "I listened to the client and explained the solution to our customers.",
    "Teamwork matters: team2 and TEAMS and team-based work, teammates, steam.",
    "We found the root cause, then the Root\tCause, root\n\ncause and root\x1ccause; rootcause is not one.",
    "Step by step by step, STEP BY STEP, steps by steps.",
    "I explained, explain and explains; explained2 is a code.",
    "Kubernetes with a Kelvin sign: \u212aubernetes, and a long s: \u017fql, \u017fervice, Se\u0131rvice.",
    "\u0130nitiative and initiative; TOOK CHARGE and took  charge.",
    "我会倾听客户的需求，客户服务很重要，团队合作。Python 和 SQL 数据库查询。",
    "Mixed: customer服务 and 客户 service; data数据 analysis.",
    "don’t stop, rock'n'roll, it's 3'5 and O’Brien’s x'y'z",
    "",
    "   \t\n ",
    "A new skill: I learned a NEW   SKILL; new skills, renewal, knew.",
    "Responsible for ownership; irresponsible; deliverables delivered.",
    "B.Sc in Physics, BSc, M.A. and MSc; Master's degree; PhD (Ph.D.); A-levels, a levels, GCSEs.",
    "Python, SQL, Excel; CI/CD pipelines; Power BI dashboards; call centre, call-center; postgres/postgresql.",
    "5 years of experience; 28 years old; 10+ yrs; 2015年本科毕业，拥有三年客服经验; ５ years",
    "Ｆｕｌｌｗｉｄｔｈ ｔｅａｍ and café service, naïve analysis.",
    "Data, DATA, data-driven, metadata, database, datas, dataset.",
    "project-management, conflict/resolution, live.chat, public_speaking, call\x1ccentre, step\x0bby step.",
    "knowledge\u200bbase, customer\u3000service, root\u2003cause.",
    # Texts that end and begin with a word, so that words and phrases must not run on into the next text.
    "we work as a team",
    "work of a customer",
    "",
    "service step by",
    "step root",
    "cause",
    "customer ",
    " service step by ",
    " step root\n",
    "\tcause",
]


def _reference_hits(text: str, terms: list) -> list[str]:
    """The per-text rule as first written: every term's regex, gated by its needle, longest match wins."""
    lowered = text.lower()
    spans = sorted(
        ((m.start(), m.end(), t.term) for t in terms for m in (t.rx.finditer(text) if t.needle in lowered else ())),
        key=lambda s: (s[0], -(s[1] - s[0])),
    )
    kept, last_end = [], -1
    for start, end, term in spans:
        if start >= last_end:
            kept.append(term)
            last_end = end
    return kept


def _reference_evidence(segments: pd.DataFrame, lexicon: dict) -> pd.DataFrame:
    compiled = tf._compile_terms(lexicon.get("competencies", {}), prefix=True)
    cand = segments[segments["speaker"].astype(str).str.strip().str.lower() == "candidate"]
    rows = []
    for seg in cand.itertuples(index=False):
        text = seg.text if isinstance(seg.text, str) else ""
        for competency, terms in compiled.items():
            for term in _reference_hits(text, terms):
                rows.append(
                    (seg.interview_id, competency, term, seg.question_id, seg.segment_no, seg.start_s, seg.language)
                )
    cols = ["interview_id", "competency", "keyword", "question_id", "segment_no", "start_s", "language"]
    return pd.DataFrame(rows, columns=cols).sort_values(
        cols[:1] + ["segment_no", "competency", "keyword"], kind="stable"
    )


def _segments(texts: list) -> pd.DataFrame:
    n = len(texts)
    return pd.DataFrame(
        {
            "interview_id": [f"i{k % 4}" for k in range(n)],
            "candidate_key": [f"c{k % 4}" for k in range(n)],
            "segment_no": list(range(n)),
            "question_id": [None if k % 5 == 0 else f"Q{k % 3}" for k in range(n)],
            "speaker": ["interviewer" if k % 7 == 3 else ("Candidate " if k % 2 else "candidate") for k in range(n)],
            "start_s": [float(k) for k in range(n)],
            "end_s": [float(k) + (0 if k % 6 == 0 else 2.5) for k in range(n)],
            "text": texts,
            "language": [None if k % 4 == 1 else "en" for k in range(n)],
        }
    )


LEXICONS = {
    "project": tf.load_lexicon(),
    # Overlapping terms in one group, a phrase sharing words with one-word terms, and a term that is a prefix of
    # another: the exact path and the token path must agree with the longest-match rule.
    "overlaps": {
        "competencies": {
            "a": {"en": ["step", "step by step", "steps", "by", "explain", "explained", "team", "teamwork"]},
            "b": {"en": ["root cause", "cause", "root", "data", "data analysis"], "zh": ["客户", "客户服务", "服务"]},
            "c": {"en": ["new skill", "skill", "\u017fql", "service"]},
        },
        "skills": {
            "sql": ["sql", "数据库查询"],
            "bi": ["power bi", "bi"],
            "ci": ["ci/cd"],
            "svc": ["service", "customer service"],
            "pg": ["postgres", "postgresql"],
        },
        "education_levels": {"bachelor": ["b.sc", "bsc"], "master": ["master's", "m.a.", "msc"], "doctorate": ["phd"]},
    },
}


@pytest.mark.parametrize("name", sorted(LEXICONS))
def test_keyword_evidence_equals_the_per_text_rule(name):
    lexicon = LEXICONS[name]
    segments = _segments(TRICKY * 3 + [None, float("nan")])
    got = tf.keyword_evidence(segments, lexicon).reset_index(drop=True)
    want = _reference_evidence(segments, lexicon).reset_index(drop=True)
    assert len(want) > 20
    pd.testing.assert_frame_equal(got.astype(object), want.astype(object))


def test_counted_words_equal_count_words():
    texts = [*TRICKY, None, float("nan"), 3, "a’b’c d'e'f 12'ab' x’", "ab\u00e9cd 中文ab"]
    assert tf._count_words(texts).tolist() == [tf.count_words(t) for t in texts]


@pytest.mark.parametrize("name", sorted(LEXICONS))
def test_parsed_resumes_equal_the_per_text_rules(name):
    lexicon = LEXICONS[name]
    texts = [*TRICKY, None, float("nan")]
    parsed = tf.parse_resume_texts(texts, lexicon)
    skills = tf._compile_terms(lexicon.get("skills", {}), prefix=False)
    education = tf._compile_terms(lexicon.get("education_levels", {}), prefix=False)
    assert parsed["skills"].tolist() == [tf._skills(t, skills) for t in texts]
    assert parsed["education_level"].tolist() == [tf._education_level(t, education) for t in texts]
    years = np.array([tf.years_of_experience(t) for t in texts])
    np.testing.assert_array_equal(parsed["years_experience"].to_numpy(), years)
    assert parsed["n_skills"].tolist() == [len(s) for s in parsed["skills"]]
    assert parsed["blank"].tolist() == [not isinstance(t, str) or not t.strip() for t in texts]


def test_known_answers_at_the_edges():
    lex = LEXICONS["overlaps"]
    ev = tf.keyword_evidence(_segments(["Step by step by step, then steps.", "root  cause and root2 cause"]), lex)
    a = ev[ev["competency"] == "a"]["keyword"].tolist()  # sorted by keyword within a segment
    # "step by step" once (its own matches do not overlap), then "by" and "step"; "steps" is claimed by "step", the
    # earlier of two terms with the same match.
    assert a == ["by", "step", "step", "step by step"]
    b = ev[ev["competency"] == "b"]["keyword"].tolist()
    assert b == ["cause", "root cause"]  # "root2" is not the word "root"
    parsed = tf.parse_resume_texts(["B.Sc and PostgreSQL", "\u017fql only", "POWER\tBI"], lex)
    assert parsed["skills"].tolist() == [["pg"], [], ["bi"]]
    assert parsed["education_level"].tolist() == ["bachelor", "none", "none"]


def test_snippets_equal_the_per_hit_rule():
    texts = np.array(["  a\u2003long\t\ttext " * 20 + "keyword here", "short\ntext", None, "x" * 200], dtype=object)
    rows = np.array([0, 0, 1, 2, 3, 1])
    keywords = ["keyword", "long", "text", "x", "x", "short"]
    got = pipeline._snippets(texts, rows, keywords)
    old = [
        re.sub(r"\s+", " ", t if isinstance(t, str) else "").strip() for t in texts[rows]
    ]  # the normalisation as first written
    want = [pipeline._cut_snippet(t, k) for t, k in zip(old, keywords, strict=True)]
    assert got == want and all(len(s) <= pipeline.SNIPPET_CHARS for s in got)


def test_the_character_classes_match_pythons():
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    # The only characters Python's case-insensitive matching folds onto ASCII besides ASCII itself.
    folded = {c for c in chars if not c.isascii() and re.fullmatch("[\x00-\x7f]", c, re.IGNORECASE)}
    assert folded == set(tf._CASE_FOLD_SPECIAL.pattern.strip("[]"))
    # Python's \s: the list the bulk matching uses, as an RE2 class and as a table of ASCII bytes.
    spaces = {c for c in chars if re.fullmatch(r"\s", c)}
    assert set(tf._PY_SPACE) == spaces
    probe = pa.array(sorted(spaces) + ["a", "\u200b", "_", "\x00"], type=pa.large_string())
    in_class = pc.match_substring_regex(probe, f"^[{tf._RE2_PY_SPACE}]$").to_pylist()
    assert in_class == [True] * len(spaces) + [False] * 4
    assert {chr(b) for b in range(128) if tf._ASCII_PY_SPACE[b]} == {c for c in spaces if c.isascii()}
    # Lower-casing keeps every length but one: why plain texts may be matched at their needles' positions.
    assert [c for c in chars if len(c.lower()) != 1] == ["\u0130"]
    # str.split() and re's \s agree, so the snippet's normalisation is unchanged.
    sample = "".join(sorted(spaces)) + "a" + "".join(sorted(spaces)) + "b\u200bc"
    assert " ".join(sample.split()) == re.sub(r"\s+", " ", sample).strip()


@pytest.mark.parametrize("scan_above", [0, 10**9])
def test_bulk_pieces_and_token_lookups_give_the_same_answers(monkeypatch, scan_above):
    lexicon = LEXICONS["overlaps"]
    segments = _segments(TRICKY * 2)
    texts = [*TRICKY, None]
    whole = (tf.keyword_evidence(segments, lexicon), tf._count_words(texts), tf.parse_resume_texts(texts, lexicon))
    monkeypatch.setattr(tf, "_BULK_TEXTS", 3)
    monkeypatch.setattr(tf, "_BULK_RESUMES", 2)
    monkeypatch.setattr(tf._Tokens, "scan_above", scan_above)  # always by word, or always scanning
    pd.testing.assert_frame_equal(tf.keyword_evidence(segments, lexicon), whole[0])
    assert tf._count_words(texts).tolist() == whole[1].tolist()
    pd.testing.assert_frame_equal(tf.parse_resume_texts(texts, lexicon), whole[2])


@pytest.mark.parametrize(
    "text",
    [
        *TRICKY,
        "10+ years, 1.5.3 years, 3 \t+  yrs, 5yrs, 5 yearsold, 5 years old, 5 Years, 6 YRS, 12345 years",
        "y5 years; 5. years; call 555 1234 yes; 5 y ears; 5\x1cyears; 5 years2; years 5 years; 7 yrs.8 years",
        "2+ +years, 3 ++ years, 4+years, 5 +\n years, 1 years 2 years 3 years, yyy 9 yr",
        "5 years\u00a0old",
        "５ years and 3 years",
    ],
)
def test_english_year_mentions_equal_finditer(text):
    spans = [(m.start(), m.end(), m.group(1)) for m in tf._years_en(text)]
    assert spans == [(m.start(), m.end(), m.group(1)) for m in tf._YEARS_EN.finditer(text)]
