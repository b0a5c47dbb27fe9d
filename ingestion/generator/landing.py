"""Streaming chunks out to day files: a spill store partitioned by day window, then one pass per source.

Phase 1 appends each chunk's rows to spill/<source>/w<window>/c<chunk>.arrow (compressed Arrow IPC). Phase 2
reads one window of one source at a time (all chunks), sorts it by day and key, and writes the day files. Memory
is bounded by one chunk (phase 1) or one window of one source (phase 2).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.contracts import CONTRACTS
from ingestion.generator import documents, formats
from ingestion.generator.faults import DROPPED_COLUMN, EXTRA_COLUMN, Fault, FaultInjector
from ingestion.generator.tables import DAY, contract_part

# Within a day's file, rows sorted by key; events by time, as an ATS export lists them.
SORT_KEYS: dict[str, tuple[str, ...]] = {name: c.key for name, c in CONTRACTS.items()}
SORT_KEYS["application_events"] = ("event_at", "application_id", "event")
MAX_ROWS_PER_FILE = 200_000
# Rows of one source and one window are held in memory together in phase 2.
TARGET_ROWS_PER_WINDOW = 2_000_000


class Spill:
    def __init__(self, root: Path, days: int, window_days: int):
        self.root = root
        self.days = days
        self.window_days = window_days
        self.day_counts: dict[str, np.ndarray] = {}
        self.zh_label_days = np.zeros(days, dtype=np.int64)
        self.options = pa.ipc.IpcWriteOptions(compression="zstd")

    def add(self, chunk: int, tables: dict[str, pa.Table]) -> None:
        for source, table in tables.items():
            if table.num_rows == 0:
                continue
            day = table[DAY].to_numpy()
            self.day_counts[source] = self.day_counts.get(source, 0) + np.bincount(day, minlength=self.days)
            if source == "interview_scores":
                zh = ~pc.string_is_ascii(table["competency"]).to_numpy(zero_copy_only=False)
                self.zh_label_days += np.bincount(day[zh], minlength=self.days)
            window = day // self.window_days
            order = np.argsort(window, kind="stable")
            table, window = table.take(order), window[order]
            edges = np.r_[0, np.flatnonzero(np.diff(window)) + 1, len(window)]
            for lo, hi in zip(edges[:-1], edges[1:], strict=True):
                folder = self.root / source / f"w{window[lo]:05d}"
                folder.mkdir(parents=True, exist_ok=True)
                part = table.slice(lo, hi - lo)
                with pa.ipc.new_file(folder / f"c{chunk:06d}.arrow", part.schema, options=self.options) as writer:
                    writer.write_table(part)

    def windows(self, source: str) -> list[Path]:
        folder = self.root / source
        return sorted(folder.iterdir()) if folder.exists() else []

    def read(self, window: Path) -> pa.Table:
        parts = [pa.ipc.open_file(p).read_all() for p in sorted(window.iterdir())]
        return pa.concat_tables(parts)


def window_days_for(expected_rows: float, days: int) -> int:
    """Days per spill window, so the biggest source holds about TARGET_ROWS_PER_WINDOW rows per window."""
    return max(1, min(days, math.floor(days * TARGET_ROWS_PER_WINDOW / max(expected_rows, 1.0))))


@dataclass
class LandingWriter:
    out_dir: Path
    seed: int
    start_date: date
    injector: FaultInjector
    file_faults: dict[tuple[str, int], list[tuple[str, str]]]  # (source, day) -> [(fault_type, expected_reason)]
    rows: Counter = field(default_factory=Counter)
    files: Counter = field(default_factory=Counter)
    documents: Counter = field(default_factory=Counter)
    made: set = field(default_factory=set)  # folders already created: mkdir is a slow system call here

    def ensure(self, folder: Path) -> Path:
        if folder not in self.made:
            folder.mkdir(parents=True, exist_ok=True)
            self.made.add(folder)
        return folder

    def write_source(self, source: str, spill: Spill) -> None:
        keys = [(DAY, "ascending")] + [(k, "ascending") for k in SORT_KEYS[source]]
        for window in spill.windows(source):
            table = spill.read(window).sort_by(keys)
            day = table[DAY].to_numpy()
            edges = np.r_[0, np.flatnonzero(np.diff(day)) + 1, len(day)]
            for lo, hi in zip(edges[:-1], edges[1:], strict=True):
                self.write_day(source, int(day[lo]), table.slice(lo, hi - lo))

    def folder(self, source: str, day: int) -> Path:
        when = self.start_date + timedelta(days=day)
        return self.ensure(self.out_dir / "landing" / source / when.isoformat())

    def stem(self, source: str, day: int, part: int) -> str:
        when = self.start_date + timedelta(days=day)
        return f"{source}_{when:%Y%m%d}" + ("" if part == 1 else f"_{part}")

    def relative(self, path: Path) -> str:
        return path.relative_to(self.out_dir).as_posix()

    def write_day(self, source: str, day: int, table: pa.Table) -> None:
        folder = self.folder(source, day)
        planned = self.file_faults.get((source, day), [])
        n_parts = max(1, math.ceil(table.num_rows / MAX_ROWS_PER_FILE))
        for part in range(1, n_parts + 1):
            chunk = table.slice((part - 1) * MAX_ROWS_PER_FILE, MAX_ROWS_PER_FILE)
            in_place = [f for f in planned if f[0] in IN_PLACE] if part == 1 else []
            self.write_file(source, day, part, folder, chunk, in_place)
            self.rows[source] += chunk.num_rows
            self.files[source] += 1
            if source == "resumes":
                self.write_documents(folder, chunk)
        extras = [f for f in planned if f[0] not in IN_PLACE]
        for offset, (fault_type, expected) in enumerate(extras, start=n_parts + 1):
            path = folder / f"{self.stem(source, day, offset)}.csv"
            self.write_extra_file(path, source, fault_type, table.slice(0, MAX_ROWS_PER_FILE))
            self.injector.record(Fault(self.relative(path), source, 0, fault_type, expected))

    def write_extra_file(self, path: Path, source: str, fault_type: str, table: pa.Table) -> None:
        """A file fault beside the day's real files: empty, or copies of its rows without a required column."""
        if fault_type == "empty_file":
            path.write_bytes(b"")
            return
        header = list(CONTRACTS[source].column_names)
        drop = header.index(DROPPED_COLUMN[source])
        copies = formats.text_rows(contract_part(table))
        formats.write_csv(path, header[:drop] + header[drop + 1 :], [r[:drop] + r[drop + 1 :] for r in copies])

    def write_file(
        self, source: str, day: int, part: int, folder: Path, table: pa.Table, in_place: list[tuple[str, str]]
    ) -> None:
        """One landing file: typed formats as they are, text formats through the fault injector."""
        data = contract_part(table)
        header = list(data.column_names)
        fmt = "csv" if in_place else formats.choose_format(self.seed, source, day)
        path = folder / f"{self.stem(source, day, part)}.{formats.EXTENSIONS[fmt]}"
        rel = self.relative(path)
        if fmt in ("parquet", "xlsx"):
            if fmt == "parquet":
                formats.write_parquet(path, data)
            else:
                formats.write_xlsx(path, data, source)
            return
        rows = formats.text_rows(data)
        if in_place:
            self.write_awkward(path, source, header, rows, in_place)
            return
        written = self.injector.inject(source, rel, header, rows, day, part)
        if fmt == "csv":
            formats.write_csv(path, header, written)
        else:
            formats.write_jsonl(path, source, header, written)

    def write_awkward(self, path: Path, source: str, header: list, rows: list, faults: list[tuple[str, str]]) -> None:
        """A clean file in an awkward shape: BOM + CRLF, GBK, an extra column, or a cut-off last line."""
        kinds = {f for f, _ in faults}
        rel = self.relative(path)
        tail = None
        if "extra_column" in kinds:
            header = header + [EXTRA_COLUMN]
            rows = [(*r, f"B{i // 100 + 1:04d}") for i, r in enumerate(rows)]
        if "truncated_row" in kinds:
            tail = truncated_copy(rows[-1])
        formats.write_csv(
            path,
            header,
            rows,
            encoding="gbk" if "gbk_encoding" in kinds else "utf-8",
            bom="bom_crlf" in kinds,
            crlf="bom_crlf" in kinds,
            truncated_tail=tail,
        )
        for fault_type, expected in faults:
            row = len(rows) + 1 if fault_type == "truncated_row" else 0
            self.injector.record(Fault(rel, source, row, fault_type, expected, "", "cut mid-field" if row else ""))

    def write_documents(self, folder: Path, table: pa.Table) -> None:
        paths = table["file_path"].to_pylist()
        texts = table["_document_text"].to_pylist()
        for rel, text in zip(paths, texts, strict=True):
            if rel is None:
                continue
            target = folder / rel
            self.ensure(target.parent)
            if rel.endswith(".pdf"):
                documents.write_pdf(target, text)
                self.documents["pdf"] += 1
            else:
                documents.write_docx(target, text)
                self.documents["docx"] += 1


IN_PLACE = ("bom_crlf", "gbk_encoding", "extra_column", "truncated_row")


def truncated_copy(row: tuple) -> str:
    """A copy of the row cut in the middle of a field past half-way, so it has too few fields."""
    k = next((i for i in range(len(row) // 2, len(row) - 1) if len(row[i]) >= 2), len(row) // 2)
    return formats.csv_line([*row[:k], row[k][: max(1, len(row[k]) // 2)]])
