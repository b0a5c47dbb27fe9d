"""Read a landed file into text records, whatever its format or encoding; an unreadable file raises FileRejected."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingestion import reasons

csv.field_size_limit(64 * 1024 * 1024)  # a 10 MB field must reach the contract check, not crash the reader

SUPPORTED_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet", ".xlsx")
# Tried in order: UTF-8 (a BOM is dropped), then the Chinese national standard that legacy exports use.
ENCODINGS = ("utf-8-sig", "gb18030")


class FileRejected(Exception):
    """The whole file is unusable; it is quarantined as one row with this reason."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


class Record:
    """One data row: its 1-based position among the file's data rows, its fields (None when the row could not be
    split into fields), the original payload kept for quarantine, and why a row is malformed."""

    __slots__ = ("row_number", "values", "_raw", "error")

    def __init__(self, row_number: int, values: dict | None, raw: str | None, error: str | None = None):
        self.row_number = row_number
        self.values = values
        self._raw = raw
        self.error = error

    @property
    def raw(self) -> str:
        """The payload as landed; for a typed format (Parquet, Excel), the row's fields as JSON, made on demand."""
        if self._raw is None:
            self._raw = json.dumps(self.values, ensure_ascii=False, default=str)
        return self._raw

    def __eq__(self, other) -> bool:
        return isinstance(other, Record) and (self.row_number, self.values, self.raw, self.error) == (
            other.row_number,
            other.values,
            other.raw,
            other.error,
        )

    def __repr__(self) -> str:
        return f"Record({self.row_number!r}, {self.values!r}, {self.raw!r}, {self.error!r})"


@dataclass
class ParsedFile:
    columns: list[str]
    records: list[Record]
    encoding: str | None = None


def read_file(path: Path) -> ParsedFile:
    """Parse one landed file by its suffix."""
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise FileRejected(reasons.EMPTY_FILE, f"{path.name} is empty (0 bytes)")
    if suffix == ".csv":
        parsed = _read_csv(path)
    elif suffix in (".jsonl", ".json"):
        parsed = _read_jsonl(path)
    elif suffix == ".parquet":
        parsed = _read_parquet(path)
    elif suffix == ".xlsx":
        parsed = _read_xlsx(path)
    else:
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: unsupported file type {suffix or '(none)'}")
    if not parsed.records:
        raise FileRejected(reasons.EMPTY_FILE, f"{path.name} has a header but no data rows")
    return parsed


def _decode(data: bytes, name: str) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise FileRejected(reasons.UNREADABLE_FILE, f"{name}: not UTF-8 and not GB18030 text")


def _cell(value) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() != "" else None


def _read_csv(path: Path) -> ParsedFile:
    text, encoding = _decode(path.read_bytes(), path.name)
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRejected(reasons.EMPTY_FILE, f"{path.name} has no header") from None
    except csv.Error as exc:
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: header unreadable ({exc})") from None
    columns = [h.strip() for h in header]
    if not any(columns):
        raise FileRejected(reasons.EMPTY_FILE, f"{path.name} has an empty header")
    records: list[Record] = []
    row_number = 0
    while True:
        start = reader.line_num
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row_number += 1
            raw = "".join(lines[start:])
            records.append(Record(row_number, None, raw, f"unreadable CSV row: {exc}"))
            break
        raw = "".join(lines[start : reader.line_num])
        if not fields or all(f == "" for f in fields) and len(fields) <= 1:
            continue  # a blank line is layout, not data
        row_number += 1
        if len(fields) != len(columns):
            err = f"expected {len(columns)} fields, found {len(fields)}"
            if reader.line_num == len(lines) and not raw.endswith(("\n", "\r")):
                err += " (the file ends mid-row: truncated)"
            records.append(Record(row_number, None, raw, err))
            continue
        if reader.line_num == len(lines) and not raw.endswith(("\n", "\r")) and '"' in raw and raw.count('"') % 2:
            records.append(Record(row_number, None, raw, "the file ends inside a quoted field: truncated"))
            continue
        records.append(Record(row_number, dict(zip(columns, (_cell(f) for f in fields), strict=True)), raw))
    return ParsedFile(columns, records, encoding)


def _read_jsonl(path: Path) -> ParsedFile:
    text, encoding = _decode(path.read_bytes(), path.name)
    columns: dict[str, None] = {}
    records: list[Record] = []
    row_number = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        row_number += 1
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("a JSON line must be an object")
        except ValueError as exc:
            records.append(Record(row_number, None, line, f"unreadable JSON line: {exc}"))
            continue
        for k in obj:
            columns.setdefault(k, None)
        records.append(
            Record(
                row_number,
                {k: (v if v.strip() else None) if type(v) is str else _cell(_json_scalar(v)) for k, v in obj.items()},
                line,
            )
        )
    return ParsedFile(list(columns), records, encoding)


def _json_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return v


def _read_parquet(path: Path) -> ParsedFile:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: not a readable Parquet file ({exc})") from None
    columns = table.column_names
    data = [_text_column(col) for col in table.to_pydict().values()]
    rows = zip(*data, strict=True)
    records = [Record(i, dict(zip(columns, row, strict=True)), None) for i, row in enumerate(rows, start=1)]
    return ParsedFile(columns, records)


def _text_column(values: list) -> list[str | None]:
    """A typed column's values as the text a CSV would hold (blank text is no value)."""
    return [(v if v.strip() else None) if type(v) is str else _cell(_json_scalar(v)) for v in values]


def _read_xlsx(path: Path) -> ParsedFile:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException...
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: not a readable Excel workbook ({exc})") from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileRejected(reasons.EMPTY_FILE, f"{path.name}: the first sheet is empty")
        columns = [str(h).strip() if h is not None else "" for h in header]
        records = []
        row_number = 0
        for row in rows:
            if row is None or all(v is None or str(v).strip() == "" for v in row):
                continue
            row_number += 1
            values = {c: _cell(_excel_value(v)) for c, v in zip(columns, row, strict=False) if c}
            records.append(Record(row_number, values, None))
        return ParsedFile(columns, records)
    finally:
        wb.close()


def _excel_value(v):
    import datetime as dt

    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return v


def iter_landed_files(folder: Path) -> Iterator[Path]:
    """Data files of one landing day, in a stable order; documents referenced by rows live under files/."""
    if not folder.is_dir():
        return
    for p in sorted(folder.iterdir()):
        if p.is_file() and not p.name.startswith("."):
            yield p


def sniff_text(data: bytes) -> str:
    """Decode bytes the way CSV files are decoded (used for text documents)."""
    return _decode(data, "document")[0]


__all__ = ["FileRejected", "ParsedFile", "Record", "read_file", "iter_landed_files", "sniff_text"]
