"""CSV and Excel downloads that a spreadsheet cannot turn into formulas (OWASP CSV-injection defence)."""

from __future__ import annotations

import io
import math
import numbers
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

CSV_MIME = "text/csv"
EXCEL_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# OWASP "CSV Injection": a cell starting with any of these may be read as a formula. The full-width forms are added
# because some spreadsheet locales (and CJK input methods) fold them to their ASCII equivalents.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# An .xlsx sheet holds 1,048,576 rows; one is the header.
EXCEL_MAX_ROWS = 1_048_575


def neutralize(value: str) -> str:
    """`value` with a leading single quote if a spreadsheet could read it as a formula."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cells and column names are neutralized; numbers, dates and booleans are untouched."""
    out = df.copy()
    out.columns = [neutralize(str(c)) for c in out.columns]
    for i, dtype in enumerate(out.dtypes):
        # Numeric, boolean and datetime columns cannot hold text; only object/string/category columns can.
        if (
            pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        ):
            col = out.iloc[:, i].astype(object)
            out.isetitem(i, col.map(lambda v: neutralize(v) if isinstance(v, str) else v))
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """`df` as UTF-8 CSV with a byte-order mark (so Excel reads Chinese text correctly), formula-safe, no index."""
    # CRLF rows (RFC 4180) also make the writer quote any field holding a bare "\r", which readers would otherwise
    # take for the end of the row.
    return safe_frame(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _excel_value(value: Any) -> Any:
    """`value` as openpyxl should store it: real numbers, dates and booleans as themselves, anything else as text."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, numbers.Real):
        number = float(value)
        # Excel has no NaN or infinity; an empty cell is the honest rendering of a missing number.
        return number if math.isfinite(number) else None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        # openpyxl refuses time-zone-aware datetimes: an aware one is written as its UTC wall time.
        return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date | time):
        return value
    if isinstance(value, pd.Timedelta | timedelta):
        return str(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def to_excel_bytes(df: pd.DataFrame, sheet_name: str = "data") -> bytes:
    """`df` as an .xlsx workbook, one sheet, formula-safe: every text cell is stored as a string, never a formula."""
    if len(df) > EXCEL_MAX_ROWS:
        raise ValueError(f"{len(df)} rows do not fit one Excel sheet (max {EXCEL_MAX_ROWS}); download CSV instead")
    wb = Workbook(write_only=False)
    ws = wb.active
    # Sheet names may not hold []:*?/\ and are at most 31 characters.
    ws.title = "".join(c for c in sheet_name if c not in "[]:*?/\\")[:31] or "data"
    for j, name in enumerate(df.columns, start=1):
        _put(ws.cell(row=1, column=j), str(name))
    for i, row in enumerate(df.itertuples(index=False, name=None), start=2):
        for j, raw in enumerate(row, start=1):
            _put(ws.cell(row=i, column=j), _excel_value(raw))
    ws.freeze_panes = "A2"
    for j, name in enumerate(df.columns, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(len(str(name)) + 2, 10), 50)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _put(cell: Any, value: Any) -> None:
    if isinstance(value, str):
        # Drop the control characters XML cannot carry first, so none can hide a trigger from `neutralize`; then force
        # the string type, because openpyxl would otherwise store a string starting with "=" as a formula.
        cell.value = neutralize(ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"
    else:
        cell.value = value
