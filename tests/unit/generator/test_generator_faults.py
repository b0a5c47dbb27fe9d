"""Planted faults: every type present, every listed row really damaged, and the clean world left untouched."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pandas as pd
import pytest
from generator_helpers import decode, landing_files, read_rows, read_source

from ingestion import reasons
from ingestion.contracts import CONTRACTS, SOURCES
from ingestion.generator.faults import EXTRA_COLUMN, FAULT_COLUMNS, FILE_FAULTS, LOADED, ROW_FAULTS
from ingestion.generator.vocab import LABELS_ZH, emitted_labels, emitted_words

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$")


@pytest.fixture(scope="module")
def faults(dirty_world) -> pd.DataFrame:
    out, _ = dirty_world
    return pd.read_csv(out / "world" / "faults.csv", dtype=str, keep_default_na=False).astype({"row_number": int})


def _valid_date(text: str) -> bool:
    if not ISO.match(text):
        return False
    try:
        date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def test_faults_csv_has_its_columns_and_only_known_reasons(faults):
    assert tuple(faults.columns) == FAULT_COLUMNS
    assert set(faults["expected_reason"]) <= reasons.ALL_REASONS | {LOADED}
    assert set(faults["source"]) <= set(SOURCES)


def test_every_fault_type_appears(faults, dirty_world):
    _, truth = dirty_world
    assert set(ROW_FAULTS) | {f for f, _, _ in FILE_FAULTS} == set(faults["fault_type"])
    assert truth["faults"]["skipped_whole_file_types"] == []
    assert truth["faults"]["total"] == len(faults)


def test_row_faults_come_at_about_the_dirty_rate(faults, dirty_world):
    _, truth = dirty_world
    rows = sum(truth["world"]["counts"].values())
    assert truth["faults"]["row_faults"] == pytest.approx(truth["world"]["dirty"] * rows, rel=0.5)


def test_each_listed_row_carries_its_damage(faults, dirty_world):
    out, _ = dirty_world
    labels, words = set(emitted_labels()), set(emitted_words())
    known: dict[tuple[str, str], set] = {}
    for (file, source), group in faults[faults["row_number"] > 0].groupby(["file", "source"]):
        header, rows = read_rows(out / file)
        for fault in group.itertuples():
            row = rows[fault.row_number - 1]
            value = dict(zip(header, row, strict=False)).get(fault.column)
            kind = fault.fault_type
            if kind == "duplicate_row":
                assert row in rows[: fault.row_number - 1], (file, fault.row_number)
            elif kind == "truncated_row":
                assert len(row) < len(header) and fault.row_number == len(rows)
            elif kind == reasons.MISSING_KEY:
                assert value is None and CONTRACTS[source].column(fault.column).required
            elif kind == reasons.ORPHAN_REFERENCE:
                target, key = CONTRACTS[source].column(fault.column).references.split(".")
                if (target, key) not in known:
                    known[target, key] = set(read_source(out, target)[key])
                assert value == fault.detail and value not in known[target, key]
            elif kind == reasons.OUT_OF_RANGE:
                lo, hi = float(row[header.index("scale_min")]), float(row[header.index("scale_max")])
                assert not lo <= float(value) <= hi
            elif kind == reasons.INVALID_DATE:
                assert not _valid_date(value)
            elif kind == reasons.FUTURE_DATE:
                assert _valid_date(value) and int(value[:4]) > 2100
            elif kind == reasons.UNKNOWN_LABEL:
                assert value not in labels
            elif kind == reasons.UNKNOWN_RATING_WORD:
                assert value not in words and not value.replace(".", "").isdigit()
            elif kind == reasons.INVALID_VALUE:
                assert value not in CONTRACTS[source].column(fault.column).allowed
            else:
                pytest.fail(f"unexpected row fault {kind}")


def test_whole_file_faults_have_their_shape(faults, dirty_world):
    out, _ = dirty_world
    by_type = {row.fault_type: row for row in faults[faults["row_number"] == 0].itertuples()}
    gbk = (out / by_type["gbk_encoding"].file).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    assert any(label in gbk.decode("gbk") for label in LABELS_ZH)
    bom = (out / by_type["bom_crlf"].file).read_bytes()
    assert bom.startswith(b"\xef\xbb\xbf") and bom.count(b"\r\n") == bom.count(b"\n")
    assert (out / by_type["empty_file"].file).stat().st_size == 0
    header, _ = read_rows(out / by_type["extra_column"].file)
    assert header[-1] == EXTRA_COLUMN and header[:-1] == list(CONTRACTS["application_events"].column_names)
    missing = by_type["missing_column"]
    header, rows = read_rows(out / missing.file)
    assert set(CONTRACTS[missing.source].required_columns) - set(header) and rows
    truncated = faults[faults["fault_type"] == "truncated_row"].iloc[0]
    text = decode((out / truncated.file).read_bytes())
    assert not text.endswith("\n")
    assert len(list(csv.reader(io.StringIO(text)))) - 1 == truncated.row_number


def test_the_clean_world_is_the_same_with_or_without_faults(faults, dirty_world, clean_twin):
    (dirty, dirty_truth), (clean, clean_truth) = dirty_world, clean_twin
    assert dirty_truth["world"]["counts"] == clean_truth["world"]["counts"]
    assert dirty_truth["job_families"] == clean_truth["job_families"]
    for source in SOURCES:
        loaded = read_source(dirty, source, faults)
        expected = read_source(clean, source)
        key = list(expected.columns)
        pd.testing.assert_frame_equal(
            loaded.sort_values(key).reset_index(drop=True), expected.sort_values(key).reset_index(drop=True)
        )


def test_no_faults_without_dirt(clean_twin):
    out, truth = clean_twin
    assert (out / "world" / "faults.csv").read_text().splitlines() == [",".join(FAULT_COLUMNS)]
    assert truth["faults"]["total"] == 0
    for source in SOURCES:
        for path in landing_files(out, source):
            header, rows = read_rows(path)
            assert header == list(CONTRACTS[source].column_names)
            assert rows and all(len(r) == len(header) for r in rows)
