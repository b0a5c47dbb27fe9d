"""Read a landed file into text records, whatever its format or encoding; an unreadable file raises FileRejected.

Every file is read only if it lies inside the landing folder (confine) and within the input limits (Limits).
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import stat
import sys
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ingestion import reasons

csv.field_size_limit(64 * 1024 * 1024)  # a 10 MB field must reach the contract check, not crash the reader

SUPPORTED_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet", ".xlsx")
# Tried in order: UTF-8 (a BOM is dropped), then the Chinese national standard that legacy exports use.
ENCODINGS = ("utf-8-sig", "gb18030")
# Files are decoded a megabyte at a time: memory follows the rows kept, never a second or third copy of the file.
_CHUNK_BYTES = 1 << 20
# Short field values (codes, scales, flags, dates) repeat on most rows; one shared copy of each keeps a 50 MB CSV's
# records at ~420 MB instead of ~750 MB. Longer values (free text) are rarely repeated and are left alone.
_INTERN_MAX_CHARS = 32
_MB = 1024 * 1024
# A CSV cell costs about 10 bytes on disk with its comma; a Parquet file may hold as many cells as a CSV within the
# file limit would (6.4 million at 64 MB), since each becomes one Python value either way.
_CELLS_PER_MB = 100_000


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


@dataclass(frozen=True)
class Limits:
    """Per-file input limits; each has a TALENTLOOP_* variable (Limits.ENV) that overrides its default.

    A hostile file must cost seconds and bounded memory, not a night: a 186 KB PDF of 1,000 pages took > 150 s to
    extract, a 6.5 MB xlsx that expands to 1.68 GB > 180 s, and a 200 MB CSV peaked at 4.7 GB (a CSV's rows cost
    ~30x its size in memory by the end of the contract check). The defaults keep 3-6x headroom over the largest
    daily file of the 1,000,000-candidate benchmark world (~15 MB) and over real resumes (1-5 pages, < 2 MB).
    """

    max_file_mb: float = 64.0  # a landed data file on disk (csv, jsonl, parquet, xlsx); also parquet decoded
    max_expanded_mb: float = 256.0  # an xlsx or docx unzipped: the sum of its members' uncompressed sizes
    max_expansion_ratio: float = 100.0  # unzipped / zipped; real workbooks are 3-20x, the 1.68 GB bomb was 258x
    max_document_mb: float = 16.0  # a resume document (pdf, docx, txt) on disk
    max_pdf_pages: int = 50
    document_timeout_s: float = 15.0  # wall-clock time to extract one document's text; a 2-page resume takes 0.05 s
    document_memory_mb: int = 1024  # address-space cap of the document parser process

    ENV = {
        "max_file_mb": "TALENTLOOP_MAX_FILE_MB",
        "max_expanded_mb": "TALENTLOOP_MAX_EXPANDED_MB",
        "max_expansion_ratio": "TALENTLOOP_MAX_EXPANSION_RATIO",
        "max_document_mb": "TALENTLOOP_MAX_DOCUMENT_MB",
        "max_pdf_pages": "TALENTLOOP_MAX_PDF_PAGES",
        "document_timeout_s": "TALENTLOOP_DOCUMENT_TIMEOUT_S",
        "document_memory_mb": "TALENTLOOP_DOCUMENT_MEMORY_MB",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if environ is None else environ
        values = {}
        for name, var in cls.ENV.items():
            if env.get(var, "").strip():
                kind = type(getattr(cls, name))
                try:
                    values[name] = kind(env[var])
                except ValueError:
                    raise ValueError(f"{var}={env[var]!r} is not a number") from None
                if values[name] <= 0:
                    raise ValueError(f"{var} must be positive")
        return cls(**values)


# ZIP archives ratio-checked only past this size: a few-kilobyte workbook of blank cells can reach 100x harmlessly.
_RATIO_FLOOR_BYTES = 1 * _MB
# A workbook or document has tens of parts; a central directory of millions of entries is an attack on its own.
_MAX_ZIP_MEMBERS = 10_000


def confine(path: Path, root: Path) -> Path:
    """`path` resolved (symlinks followed), if it lies inside `root`; else FileRejected(path_outside_landing).

    A symlink is accepted only where it resolves inside the landing folder: a source system may link a day's file to
    another day's, never to a host file.
    """
    real_root = root.resolve()
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise FileRejected(reasons.PATH_OUTSIDE_LANDING, f"{path.name}: the path cannot be resolved ({exc})") from None
    if not resolved.is_relative_to(real_root):
        raise FileRejected(
            reasons.PATH_OUTSIDE_LANDING,
            f"{path.name} leads outside the landing folder" + (" (a symlink)" if path.is_symlink() else ""),
        )
    return resolved


def confine_relative(base: Path, relative: str, root: Path) -> Path:
    """`base / relative` resolved inside `root`, for a path written in a row (a resume's file_path).

    A row's path is data from the source system: an absolute path or a '..' part is refused before the file system is
    asked anything, and a symlink is followed only to where confine() allows.
    """
    if "\x00" in relative:
        raise FileRejected(reasons.PATH_OUTSIDE_LANDING, "the path holds a NUL character")
    rel = PurePosixPath(relative)
    if rel.is_absolute() or relative.startswith("~"):
        raise FileRejected(reasons.PATH_OUTSIDE_LANDING, f"{relative!r} is absolute; a relative path is expected")
    if ".." in rel.parts:
        raise FileRejected(reasons.PATH_OUTSIDE_LANDING, f"{relative!r} has a '..' part")
    return confine(base / rel, root)


def check_regular_file(path: Path, limit_mb: float, kind: str, limit_var: str) -> int:
    """The file's size, if it is a regular file within `limit_mb`; a FIFO or device would block or never end."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name} cannot be opened ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name} is not a regular file")
    if st.st_size > limit_mb * _MB:
        raise FileRejected(
            reasons.FILE_TOO_LARGE,
            f"{path.name} is {st.st_size / _MB:,.1f} MB, over the {limit_mb:g} MB limit for {kind} ({limit_var})",
        )
    return st.st_size


def check_zip(path: Path, limits: Limits) -> None:
    """Refuse a zip (xlsx, docx) that would unpack past the limits, from its directory alone, before parsing it."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: not a readable zip archive ({exc})") from None
    if len(members) > _MAX_ZIP_MEMBERS:
        raise FileRejected(
            reasons.EXPANDS_TOO_LARGE, f"{path.name} has {len(members):,} parts (limit {_MAX_ZIP_MEMBERS:,})"
        )
    # zipfile never inflates a member past its declared size (it stops there), so the directory's sizes bound the
    # bytes any reader can get out of the archive.
    expanded = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if expanded > limits.max_expanded_mb * _MB:
        raise FileRejected(
            reasons.EXPANDS_TOO_LARGE,
            f"{path.name} unpacks to {expanded / _MB:,.1f} MB, over the {limits.max_expanded_mb:g} MB limit "
            f"({Limits.ENV['max_expanded_mb']})",
        )
    if expanded > _RATIO_FLOOR_BYTES and expanded > limits.max_expansion_ratio * max(packed, 1):
        raise FileRejected(
            reasons.EXPANDS_TOO_LARGE,
            f"{path.name} unpacks {expanded / max(packed, 1):,.0f}x"
            f" ({packed / _MB:,.1f} MB to {expanded / _MB:,.1f} MB),"
            f" over the {limits.max_expansion_ratio:g}x limit ({Limits.ENV['max_expansion_ratio']})",
        )


def read_file(path: Path, limits: Limits | None = None) -> ParsedFile:
    """Parse one landed file by its suffix, within `limits` (default: Limits.from_env())."""
    limits = limits or Limits.from_env()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: unsupported file type {suffix or '(none)'}")
    size = check_regular_file(path, limits.max_file_mb, "data files", Limits.ENV["max_file_mb"])
    if size == 0:
        raise FileRejected(reasons.EMPTY_FILE, f"{path.name} is empty (0 bytes)")
    if suffix == ".csv":
        parsed = _read_csv(path)
    elif suffix in (".jsonl", ".json"):
        parsed = _read_jsonl(path)
    elif suffix == ".parquet":
        parsed = _read_parquet(path, limits)
    else:
        check_zip(path, limits)
        parsed = _read_xlsx(path)
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


def _file_encoding(path: Path) -> str:
    """The first of ENCODINGS that decodes the whole file, checked a chunk at a time."""
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK_BYTES):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: not UTF-8 and not GB18030 text")


def _text_lines(path: Path, encoding: str) -> Iterator[str]:
    """The file's lines with their endings, cut exactly as str.splitlines(keepends=True) cuts the whole text."""
    decoder = codecs.getincrementaldecoder(encoding)()
    carry = ""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(_CHUNK_BYTES)
            lines = (carry + decoder.decode(chunk, final=not chunk)).splitlines(keepends=True)
            if not chunk:
                yield from lines
                return
            # The last piece may go on in the next chunk (a "\r" may be the first half of "\r\n"): cut it again there.
            carry = lines.pop() if lines else ""
            yield from lines


def _cell(value) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() != "" else None


def _shared(value: str) -> str:
    return sys.intern(value) if len(value) <= _INTERN_MAX_CHARS else value


class _Consumed:
    """The lines a csv.reader pulled since the last take() (the raw text of the record it just returned), with a
    look-ahead that tells whether the file has more lines."""

    _END = object()

    def __init__(self, lines: Iterator[str]):
        self.lines = lines
        self.pending: list[str] = []
        self._next: object = None

    def __iter__(self) -> Iterator[str]:
        while True:
            line = self._next if self._next is not None else next(self.lines, self._END)
            self._next = None
            if line is self._END:
                return
            self.pending.append(line)
            yield line

    def take(self) -> str:
        raw = "".join(self.pending)
        self.pending.clear()
        return raw

    def at_end(self) -> bool:
        if self._next is None:
            self._next = next(self.lines, self._END)
        return self._next is self._END

    def rest(self) -> str:
        ahead = "" if self._next is None or self._next is self._END else self._next
        self._next = self._END
        return ahead + "".join(self.lines)


def _read_csv(path: Path) -> ParsedFile:
    encoding = _file_encoding(path)
    lines = _text_lines(path, encoding)
    consumed = _Consumed(lines)
    reader = csv.reader(consumed)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRejected(reasons.EMPTY_FILE, f"{path.name} has no header") from None
    except csv.Error as exc:
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: header unreadable ({exc})") from None
    columns = [h.strip() for h in header]
    if not any(columns):
        raise FileRejected(reasons.EMPTY_FILE, f"{path.name} has an empty header")
    consumed.take()
    records: list[Record] = []
    row_number = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row_number += 1
            # The rest of the file is this row's payload, as landed (bounded by the file size limit).
            raw = consumed.take() + consumed.rest()
            records.append(Record(row_number, None, raw, f"unreadable CSV row: {exc}"))
            break
        raw = consumed.take()
        if not fields or all(f == "" for f in fields) and len(fields) <= 1:
            continue  # a blank line is layout, not data
        row_number += 1
        at_end_unterminated = not raw.endswith(("\n", "\r")) and consumed.at_end()
        if len(fields) != len(columns):
            err = f"expected {len(columns)} fields, found {len(fields)}"
            if at_end_unterminated:
                err += " (the file ends mid-row: truncated)"
            records.append(Record(row_number, None, raw, err))
            continue
        if at_end_unterminated and '"' in raw and raw.count('"') % 2:
            records.append(Record(row_number, None, raw, "the file ends inside a quoted field: truncated"))
            continue
        records.append(
            Record(
                row_number, dict(zip(columns, (_shared(f) if f.strip() else None for f in fields), strict=True)), raw
            )
        )
    return ParsedFile(columns, records, encoding)


def _read_jsonl(path: Path) -> ParsedFile:
    encoding = _file_encoding(path)
    columns: dict[str, None] = {}
    records: list[Record] = []
    row_number = 0
    for ended in _text_lines(path, encoding):
        line = ended.splitlines()[0] if ended else ended
        if not line.strip():
            continue
        row_number += 1
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("a JSON line must be an object")
        except (ValueError, RecursionError) as exc:  # RecursionError: a line nested thousands of levels deep
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


def _read_parquet(path: Path, limits: Limits) -> ParsedFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        meta = pq.read_metadata(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: not a readable Parquet file ({exc})") from None
    # Dictionary and run-length encoding let a few kilobytes hold gigabytes of rows: the footer's row count, then the
    # text's decoded length (counted on the dictionary, before any row is decoded), must fit what a CSV within the
    # file limit could hold.
    cells = meta.num_rows * max(meta.num_columns, 1)
    if cells > limits.max_file_mb * _CELLS_PER_MB:
        raise FileRejected(
            reasons.EXPANDS_TOO_LARGE,
            f"{path.name} holds {cells:,} cells, more than a {limits.max_file_mb:g} MB data file could"
            f" ({Limits.ENV['max_file_mb']})",
        )
    texts = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_binary(f.type)]
    try:
        table = pq.read_table(path, read_dictionary=texts)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise FileRejected(reasons.UNREADABLE_FILE, f"{path.name}: not a readable Parquet file ({exc})") from None
    decoded = sum(_decoded_bytes(chunk) for col in table.columns for chunk in col.chunks)
    if decoded > limits.max_file_mb * _MB:
        raise FileRejected(
            reasons.EXPANDS_TOO_LARGE,
            f"{path.name} decodes to {decoded / _MB:,.1f} MB, over the {limits.max_file_mb:g} MB limit for data files"
            f" ({Limits.ENV['max_file_mb']})",
        )
    columns = table.column_names
    data = [_text_column(col) for col in table.to_pydict().values()]
    rows = zip(*data, strict=True)
    records = [Record(i, dict(zip(columns, row, strict=True)), None) for i, row in enumerate(rows, start=1)]
    return ParsedFile(columns, records)


def _decoded_bytes(chunk) -> int:
    """Bytes a column chunk takes once decoded; a dictionary's values are counted once per row that uses them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(chunk.type):
        lengths = pc.binary_length(chunk.dictionary).take(chunk.indices)
        return (pc.sum(lengths).as_py() or 0) + chunk.indices.nbytes
    if pa.types.is_string(chunk.type) or pa.types.is_binary(chunk.type):
        return (pc.sum(pc.binary_length(chunk)).as_py() or 0) + chunk.nbytes
    return chunk.nbytes


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
    """Entries of one landing day, in a stable order; documents referenced by rows live under files/.

    Every entry but a folder is yielded, symlinks (even broken ones) and FIFOs included, so that the loader
    quarantines what it refuses (confine, check_regular_file) rather than skipping it silently.
    """
    if not folder.is_dir():
        return
    for p in sorted(folder.iterdir()):
        if not p.name.startswith(".") and (p.is_symlink() or not p.is_dir()):
            yield p


def sniff_text(data: bytes) -> str:
    """Decode bytes the way CSV files are decoded (used for text documents)."""
    return _decode(data, "document")[0]


__all__ = [
    "FileRejected",
    "Limits",
    "ParsedFile",
    "Record",
    "check_regular_file",
    "check_zip",
    "confine",
    "confine_relative",
    "iter_landed_files",
    "read_file",
    "sniff_text",
]
