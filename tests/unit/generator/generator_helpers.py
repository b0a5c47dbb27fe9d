"""Reading a generated world back, independently of the ingestion readers: text cells, one frame per source."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from openpyxl import load_workbook

from ingestion.contracts import CONTRACTS, DATE

DATA_SUFFIXES = (".csv", ".jsonl", ".parquet", ".xlsx")
DATE_COLUMNS = {name: [c.name for c in contract.columns if c.type == DATE] for name, contract in CONTRACTS.items()}


def landing_files(out_dir: Path, source: str) -> list[Path]:
    """The source's data files (resume documents under files/ excluded)."""
    root = out_dir / "landing" / source
    return sorted(p for p in root.rglob("*") if p.suffix in DATA_SUFFIXES and p.parent.name != "files")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if text != "" else None


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gbk")


def read_header(path: Path) -> list[str]:
    """Column names only, without reading the rows."""
    if path.suffix == ".csv":
        with path.open("rb") as handle:
            return next(csv.reader([decode(handle.readline())]))
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            return list(json.loads(handle.readline()))
    if path.suffix == ".parquet":
        return pq.read_schema(path).names
    sheet = load_workbook(path, read_only=True).worksheets[0]
    return [str(v) for v in next(sheet.iter_rows(values_only=True))]


def read_rows(path: Path) -> tuple[list[str], list[list[str | None]]]:
    """Header and data rows as text; CSV rows with the wrong number of fields are kept as they are."""
    if path.stat().st_size == 0:
        return [], []
    if path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(decode(path.read_bytes()), newline="")))
        return rows[0], [[_text(v) for v in r] for r in rows[1:]]
    if path.suffix == ".jsonl":
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        header = list(records[0]) if records else []
        return header, [[_text(r.get(c)) for c in header] for r in records]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        columns = [[_text(v) for v in col.to_pylist()] for col in table.columns]
        return table.column_names, [list(r) for r in zip(*columns, strict=True)]
    sheet = load_workbook(path, read_only=True).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    header = [str(v) for v in values[0]]
    # A sheet without a stored dimension reads back with trailing empty cells left off: pad them.
    return header, [[_text(v) for v in r] + [None] * (len(header) - len(r)) for r in values[1:]]


def read_source(out_dir: Path, source: str, faults: pd.DataFrame | None = None) -> pd.DataFrame:
    """All rows of a source as text; with `faults`, the planted bad rows and files are left out."""
    frames = []
    skip_files, skip_rows = set(), set()
    if faults is not None:
        skip_files = set(faults.loc[faults["row_number"] == 0, "file"]) - set(
            faults.loc[faults["expected_reason"] == "loaded", "file"]
        )
        skip_rows = set(zip(faults["file"], faults["row_number"], strict=True))
    columns = list(CONTRACTS[source].column_names)
    for path in landing_files(out_dir, source):
        rel = path.relative_to(out_dir).as_posix()
        if rel in skip_files:
            continue
        header, rows = read_rows(path)
        kept = [r for i, r in enumerate(rows, start=1) if (rel, i) not in skip_rows and len(r) == len(header)]
        frame = pd.DataFrame(kept, columns=header, dtype=object).reindex(columns=columns)
        for column in DATE_COLUMNS[source]:
            frame[column] = frame[column].str[:10]  # an Excel date cell reads back as a midnight datetime
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


@cache
def read_clean_source(out_dir: Path, source: str) -> pd.DataFrame:
    """read_source of a world without faults, read once per test session (callers must not modify it)."""
    return read_source(out_dir, source)
