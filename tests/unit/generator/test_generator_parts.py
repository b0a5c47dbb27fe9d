"""The generator's pieces on their own: weights, scales, damage, documents and formats."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import docx
import numpy as np
import pyarrow as pa
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from ingestion import reasons
from ingestion.generator import documents, formats, scoring
from ingestion.generator.faults import RowDamage
from ingestion.generator.landing import truncated_copy, window_days_for
from ingestion.generator.truth import nonnegative_direction


def test_nonnegative_direction_is_the_least_squares_solution_when_that_is_positive():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 4))
    y = x @ np.array([0.5, 0.2, 0.1, 0.3]) + rng.normal(size=5000)
    cov, target = np.cov(x.T, bias=True), (x - x.mean(0)).T @ (y - y.mean()) / len(y)
    assert nonnegative_direction(cov, target) == pytest.approx(np.linalg.solve(cov, target))


def test_nonnegative_direction_drops_a_harmful_predictor():
    cov = np.array([[1.0, 0.5], [0.5, 1.0]])
    target = np.array([0.5, 0.0])  # unconstrained: w2 = -1/3
    w = nonnegative_direction(cov, target)
    assert w[1] == 0 and w[0] == pytest.approx(0.5)


def test_scales_clip_and_words_follow_thresholds():
    lo, hi = np.array([1.0, 0.0]), np.array([5.0, 100.0])
    assert list(scoring.to_scale(np.array([10.0, -10.0]), lo, hi, 0)) == [5.0, 0.0]
    assert list(scoring.to_scale(np.zeros(2), lo, hi, 1)) == [3.0, 50.0]
    assert list(scoring.to_word_index(np.array([1.5, 0.5, -0.5, -1.5]))) == [0, 1, 2, 3]


def test_raters_in_one_interview_are_distinct():
    rng = np.random.default_rng(1)
    pool = scoring.make_interviewers(rng, 2000)
    raters = scoring.pick_raters(rng, pool, rng.integers(0, 5, 3000))
    assert all(len(set(r)) == 3 for r in raters)


def test_truncated_copy_has_too_few_fields():
    row = ("IV-00000001", "APP-0000001", "C-0000001", "REQ-000001", "2024-01-01T09:00:00", "x", "ai_video")
    cut = next(csv.reader(io.StringIO(truncated_copy(row))))
    assert len(cut) < len(row)


def test_future_date_never_lands_on_a_missing_leap_day():
    damage = RowDamage("employees", ["employee_id", "hire_date"])
    rng = np.random.default_rng(3)
    for _ in range(50):
        out, column, value = damage.damage(reasons.FUTURE_DATE, ("EMP-000001", "2024-02-29"), rng, 1)
        assert column == "hire_date" and int(value[:4]) > 2100 and value[4:] == "-02-28"


def test_out_of_range_is_outside_the_rows_own_scale():
    header = ["interview_id", "rater_id", "competency", "rater_type", "score", "scale_min", "scale_max", "scored_at"]
    row = ("IV-1", "INT-0001", "Teamwork", "human", "3", "1", "5", "2024-01-01T10:00:00")
    rng = np.random.default_rng(4)
    for _ in range(50):
        out, _, value = RowDamage("interview_scores", header).damage(reasons.OUT_OF_RANGE, row, rng, 1)
        assert not 1 <= float(value) <= 5


def test_pdf_and_docx_are_readable_and_reproducible(tmp_path: Path):
    text = "JANE DOE\njane@example.com\n\nSKILLS\n" + ", ".join(["Python"] * 40)
    for writer, suffix in ((documents.write_pdf, "pdf"), (documents.write_docx, "docx")):
        a, b = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
        writer(a, text)
        writer(b, text)
        assert a.read_bytes() == b.read_bytes()
    pdf_text = "".join(page.extract_text() for page in PdfReader(tmp_path / "a.pdf").pages)
    assert "SKILLS" in pdf_text and pdf_text.count("Python") == 40
    assert [p.text for p in docx.Document(tmp_path / "a.docx").paragraphs][:2] == ["JANE DOE", "jane@example.com"]


def test_xlsx_is_reproducible_and_keeps_dates_as_dates(tmp_path: Path):
    table = pa.table(
        {
            "employee_id": ["EMP-000001", "EMP-000002"],
            "hire_date": pa.array(np.array(["2024-03-01", "2024-03-02"], dtype="datetime64[D]"), type=pa.date32()),
            "received_at": pa.array(np.array(["2024-03-01T10:00:00", None], dtype="datetime64[s]")),
        }
    )
    formats.write_xlsx(tmp_path / "a.xlsx", table, "employees")
    formats.write_xlsx(tmp_path / "b.xlsx", table, "employees")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    rows = list(load_workbook(tmp_path / "a.xlsx").worksheets[0].iter_rows(values_only=True))
    assert rows[1][1].date().isoformat() == "2024-03-01" and rows[1][2] == "2024-03-01T10:00:00"


def test_format_choice_is_deterministic_and_mixed():
    picks = [formats.choose_format(7, "candidates", day) for day in range(500)]
    assert picks == [formats.choose_format(7, "candidates", day) for day in range(500)]
    assert picks.count("csv") > 300 and {"jsonl", "parquet", "xlsx"} <= set(picks)
    assert {formats.choose_format(7, "transcript_segments", d) for d in range(200)} == {"jsonl", "parquet"}


def test_spill_windows_shrink_as_worlds_grow():
    assert window_days_for(10_000, 540) == 540
    assert 1 <= window_days_for(16_000_000, 540) < 100
