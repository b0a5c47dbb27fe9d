"""The committed seeds cover every label and word the generator writes, and only the planted unknowns are missing."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from generator_helpers import read_source

from ingestion.generator import seeds
from ingestion.generator.text import CARE, NEUTRAL, QUESTIONS
from ingestion.generator.vocab import (
    CARE_LEXICON,
    COMPETENCIES,
    JOB_FAMILIES,
    UNKNOWN_LABELS,
    UNKNOWN_RATING_WORDS,
    emitted_labels,
    emitted_words,
)


def _seed(name: str) -> pd.DataFrame:
    return pd.read_csv(seeds.SEEDS_DIR / name, dtype=str, keep_default_na=False)


def _key(text: str) -> str:
    """How ingestion compares labels: trimmed, lower case, single spaces."""
    return " ".join(text.strip().lower().split())


def test_committed_seeds_are_what_the_vocabulary_writes(tmp_path):
    seeds.write_seeds(tmp_path)
    for name in ("competency_labels.csv", "rating_words.csv", "scorecard_weights_initial.csv"):
        assert (tmp_path / name).read_bytes() == (seeds.SEEDS_DIR / name).read_bytes(), name


def test_every_emitted_label_maps_to_its_competency():
    seed = _seed("competency_labels.csv")
    assert list(seed.columns) == ["label", "competency_code", "language", "origin"]
    mapping = dict(zip(seed["label"], seed["competency_code"], strict=True))
    for label, (code, _, _) in emitted_labels().items():
        assert mapping[label] == code
    assert set(seed["competency_code"]) == set(COMPETENCIES)
    assert {"en", "zh"} == set(seed["language"])
    assert seed["label"].is_unique
    # Labels that collide once normalised must still agree on the competency.
    assert seed.groupby(seed["label"].map(_key))["competency_code"].nunique().max() == 1


def test_every_emitted_word_has_its_value():
    seed = _seed("rating_words.csv")
    values = dict(zip(seed["word"], seed["value_0_1"].astype(float), strict=True))
    assert emitted_words().items() <= values.items()
    assert {"strong_yes": 1.0, "yes": 0.67, "no": 0.33, "definitely_not": 0.0}.items() <= values.items()
    assert all(0.0 <= v <= 1.0 for v in values.values())


def test_planted_unknowns_are_not_in_the_seeds():
    labels = set(_seed("competency_labels.csv")["label"].map(_key))
    words = set(_seed("rating_words.csv")["word"].map(_key))
    assert not {_key(x) for x in UNKNOWN_LABELS} & labels
    assert not {_key(x) for x in UNKNOWN_RATING_WORDS} & words


def test_initial_weights_are_equal_and_sum_to_one():
    seed = _seed("scorecard_weights_initial.csv")
    assert list(seed.columns) == ["job_family", "competency_code", "weight", "effective_from"]
    weights = seed.assign(weight=seed["weight"].astype(float))
    assert set(weights["job_family"]) == set(JOB_FAMILIES)
    for _, family in weights.groupby("job_family"):
        assert sorted(family["competency_code"]) == sorted(COMPETENCIES)
        assert family["weight"].sum() == pytest.approx(1.0, abs=1e-9)
        assert family["weight"].nunique() == 1


def test_labels_and_words_in_a_generated_world_are_all_seeded_but_the_planted_ones(dirty_world):
    out, _ = dirty_world
    faults = pd.read_csv(out / "world" / "faults.csv", dtype=str, keep_default_na=False)
    scores = read_source(out, "interview_scores", faults.astype({"row_number": int}))
    labels = set(_seed("competency_labels.csv")["label"])
    words = set(_seed("rating_words.csv")["word"])
    assert set(scores["competency"]) <= labels
    numeric = pd.to_numeric(scores["score"], errors="coerce").notna()
    assert set(scores.loc[~numeric, "score"]) <= words


def test_neutral_answers_never_use_a_care_term_and_care_answers_always_do():
    terms = [t.lower() for t in CARE_LEXICON]
    for language, banks in NEUTRAL.items():
        for sentence in (s for bank in banks.values() for s in bank):
            assert not any(t in sentence.lower() for t in terms), (language, sentence)
    for sentences in CARE.values():
        assert all(any(t in s.lower() for t in terms) for s in sentences)
    assert set(QUESTIONS) == set(NEUTRAL) == set(CARE)


def test_seed_files_are_plain_utf8_csv():
    for name in ("competency_labels.csv", "rating_words.csv", "scorecard_weights_initial.csv"):
        raw = Path(seeds.SEEDS_DIR / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
        rows = list(csv.reader(raw.decode("utf-8").splitlines()))
        assert len({len(r) for r in rows}) == 1
