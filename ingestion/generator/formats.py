"""Landing file formats: CSV, JSON lines, Parquet and Excel, written byte-for-byte reproducibly.

CSV and JSON lines are written from text rows (the form faults are injected into); Parquet and Excel from the
typed table. Zip-based files (xlsx, docx) embed write times: every entry gets a fixed date and the document's
created/modified properties a fixed value, so the same world gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openpyxl import Workbook

from ingestion.contracts import BOOL, CONTRACTS, FLOAT, INT, SCORE

EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet", "xlsx": "xlsx"}
# Format mix per source (csv, jsonl, parquet, xlsx). Excel only where HR people export by hand (small tables);
# transcripts are big, so never CSV or Excel.
FORMAT_SHARES: dict[str, tuple[float, float, float, float]] = {
    "transcript_segments": (0.0, 0.4, 0.6, 0.0),
    "requisitions": (0.70, 0.10, 0.10, 0.10),
    "candidates": (0.74, 0.10, 0.10, 0.06),
    "employees": (0.70, 0.10, 0.10, 0.10),
    "performance_reviews": (0.70, 0.10, 0.10, 0.10),
    "complaints": (0.70, 0.10, 0.10, 0.10),
    "erasure_requests": (0.70, 0.10, 0.10, 0.10),
}
DEFAULT_SHARES = (0.75, 0.15, 0.10, 0.0)
FORMATS = ("csv", "jsonl", "parquet", "xlsx")
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = b"2024-01-01T00:00:00Z"


def choose_format(seed: int, source: str, day: int) -> str:
    """A deterministic format for a source's file of a day (a hash: a Generator per file costs more)."""
    u = zlib.crc32(f"{seed}/{source}/{day}".encode()) / 2**32
    cumulative = np.cumsum(FORMAT_SHARES.get(source, DEFAULT_SHARES))
    return FORMATS[min(int(np.searchsorted(cumulative, u, side="right")), len(FORMATS) - 1)]


def text_columns(table: pa.Table) -> list[list[str]]:
    """Each column as export text: ISO dates and times, true/false, integers without '.0', blank for null."""
    out = []
    for column in table.columns:
        typ = column.type
        if pa.types.is_timestamp(typ):
            text = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
        elif pa.types.is_date(typ):
            text = pc.strftime(column.cast(pa.timestamp("s")), format="%Y-%m-%d")
        elif pa.types.is_boolean(typ):
            text = pc.if_else(column, "true", "false")
        elif pa.types.is_string(typ):
            text = column
        else:
            text = column.cast(pa.string())
        out.append(text.fill_null("").to_pylist())
    return out


def text_rows(table: pa.Table) -> list[tuple[str, ...]]:
    return list(zip(*text_columns(table), strict=True)) if table.num_rows else []


def write_csv(
    path: Path,
    header: list[str],
    rows: list,
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    crlf: bool = False,
    truncated_tail: str | None = None,
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue() + (truncated_tail or "")
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def csv_line(row: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(row)
    return buffer.getvalue()


def _json_value(value: str, contract_type: str):
    if value == "":
        return None
    try:
        if contract_type == INT:
            return int(value)
        if contract_type in (FLOAT, SCORE):
            number = float(value)
            return int(number) if contract_type == SCORE and number.is_integer() and "." not in value else number
    except ValueError:
        return value
    if contract_type == BOOL and value in ("true", "false"):
        return value == "true"
    return value


def write_jsonl(path: Path, source: str, header: list[str], rows: list) -> None:
    """One JSON object per line, keys in contract order, numbers and booleans typed, blanks as null."""
    types = [CONTRACTS[source].column(name).type for name in header]
    lines = []
    for row in rows:
        record = {name: _json_value(value, typ) for name, value, typ in zip(header, row, types, strict=True)}
        lines.append(json.dumps(record, ensure_ascii=False))
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def write_parquet(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path, compression="zstd")


def write_xlsx(path: Path, table: pa.Table, sheet: str) -> None:
    """A one-sheet workbook: dates as Excel dates, timestamps as ISO text (as many HR exports do)."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    worksheet.append(table.column_names)
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            columns.append(pc.strftime(column, format="%Y-%m-%dT%H:%M:%S").to_pylist())
        else:
            columns.append(column.to_pylist())
    for row in zip(*columns, strict=True):
        worksheet.append(list(row))
    workbook.properties.created = datetime(2024, 1, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(normalise_zip(buffer.getvalue()))


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry dates and fixed created/modified document properties."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + FIXED_DOC_TIME, body)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, body)
    return out.getvalue()
