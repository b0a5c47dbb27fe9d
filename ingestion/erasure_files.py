"""Erasure beyond the warehouse's rows: landing files, the data home's other files, app_state, deleted bytes.

A landing file is rewritten without the person's rows, in its own format and encoding, every other row byte for
byte where the format allows it (CSV and JSON lines keep their other lines untouched; Parquet and Excel are
written anew with the same columns); a file left with no data row is deleted, as are the documents (PDF, DOCX,
text resumes) their rows point to. A reference to the person in someone else's row (their manager id) is emptied.
Files are replaced atomically (a temporary file, then os.replace), so a crash leaves the old or the new file.

A row is the person's when one of its identifier columns (by name, as in the warehouse: erasure.column_kind)
holds a value whose fingerprint belongs to a request (person ids are pseudonymised first, as the loader does), or,
for a row that cannot be split or names them elsewhere, when its text holds one of their needles.

DuckDB reuses freed blocks but never clears them: a deleted row stays readable in the file (`strings` finds it)
until the block is overwritten. compact_database copies every table into a fresh file and swaps it in.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import os
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion import erasure
from ingestion.privacy import match_key, pseudonym

DATA_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet", ".xlsx")
PII_COLUMNS = ("full_name", "email", "phone")
DOCUMENT_COLUMN = "file_path"
# Folders of the data home with their own erasure (or none to do): the rest is searched as plain files.
OWN_FOLDERS = ("landing", "published", "restricted", "dagster")
TEXT_SUFFIXES = (".csv", ".json", ".jsonl", ".txt", ".log", ".yaml", ".yml", ".md")


@dataclass
class _Row:
    """One data row of a file: its fields by lower-case header, its text as landed, where it sits in the file."""

    values: dict[str, str | None]
    text: str
    index: int  # position among the file's data rows (for Parquet and Excel), or its first line (CSV, JSON lines)
    end: int = 0  # one past its last line (CSV, JSON lines)


@dataclass
class _Parsed:
    kind: str
    rows: list[_Row]
    header: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    encoding: str = "utf-8"


class FileEraser:
    """Finds the people of `requests` in the files of the data home and rewrites those files without them."""

    def __init__(self, settings, key: bytes, salt: str, subject, requests: dict, pii_con=None):
        self.settings, self.landing, self.key, self.salt = settings, settings.landing, key, salt
        self.subject, self.requests, self.pii_con = subject, requests, pii_con
        self._files: set[str] = set()
        self._patterns: dict[str, re.Pattern] = {}
        self._only: set[str] | None = None  # the requests whose people are removed (None while learning: all)

    # ------------------------------------------------------------------------------------------------ matching

    def _refresh(self) -> None:
        wanted = set(self.requests) if self._only is None else self._only & set(self.requests)
        self._owners = {k: fp for k, fp in self.subject.fingerprints().items() if fp in wanted}
        self._patterns = {}
        for request_fp, r in self.requests.items():
            if request_fp not in wanted:
                continue
            pattern = erasure.needle_pattern(r.all_needles)
            if pattern:
                self._patterns[request_fp] = re.compile(pattern)

    def _fp_owner(self, kind: str, value: str | None) -> str | None:
        if not value:
            return None
        return self._owners.get((kind, erasure.fingerprint(self.salt, value)))

    def owner(self, row: _Row) -> str | None:
        """The request whose person this row is about, if any."""
        for column, value in row.values.items():
            if value is None:
                continue
            value = str(value).strip()
            kind = erasure.column_kind(column)
            if kind == "person":
                # Landing files hold the source id; the warehouse (and so the subject) holds its pseudonym. A file
                # of already pseudonymised values (the generator's truth never is) matches on the value itself.
                found = self._fp_owner("person", pseudonym(value, self.key)) or self._fp_owner("person", value)
            elif kind in erasure.RECORD_COLUMNS:
                found = self._fp_owner(kind, value)
            elif kind == "document":
                found = self._fp_owner("interview", value) or self._fp_owner("resume", value)
            elif column == "email":
                found = self._fp_owner("email", match_key("email", value, self.key))
            else:
                found = None
            if found:
                return found
        for request_fp, pattern in self._patterns.items():
            if pattern.search(row.text):
                return request_fp
        return None

    def references(self, row: _Row) -> list[str]:
        """Columns of someone else's row that name an erased person as their manager."""
        out = []
        for column, value in row.values.items():
            if not value or erasure.column_kind(column) != "reference":
                continue
            if self._fp_owner("person", pseudonym(str(value), self.key)) or self._fp_owner("person", str(value)):
                out.append(column)
        return out

    def _learn_row(self, request_fp: str, row: _Row) -> None:
        """What a row of the person tells about them: ids (pseudonymised as in the warehouse), their cleartext
        forms and the PII, for the cascade, the free-text search and the verification."""
        r = self.requests[request_fp]
        learnt = []
        persons = sorted(self.subject.values().get(request_fp, {}).get("person", set()))
        for column, value in row.values.items():
            if value is None:
                continue
            value = str(value).strip()
            kind = erasure.column_kind(column)
            if kind == "person":
                learnt.append((request_fp, "person", pseudonym(value, self.key)))
                r.needles[column].add(value)
            elif kind in erasure.RECORD_COLUMNS:
                learnt.append((request_fp, kind, value))
                r.needles[f"{kind}_id"].add(value)
            elif column == "email":
                learnt.append((request_fp, "email", match_key("email", value, self.key)))
            if column in PII_COLUMNS:
                erasure.add_pii_needles(self.pii_con, r, persons, **{column: value})
        self.subject.add(learnt)

    def learn(self, extra_files: list[str] = ()) -> None:
        """Read every file that may hold a request's person (its lineage, and `extra_files` for all of them) and
        learn from their rows; the subject grows with what the warehouse no longer has."""
        self._files |= set(extra_files)
        for r in self.requests.values():
            self._files |= r.lineage
        self._refresh()
        counted: dict[str, int] = defaultdict(int)
        for rel in sorted(self._files):
            parsed = self._parse_landing(rel)
            if parsed is None:
                continue
            for row in parsed.rows:
                owner = self.owner(row)
                if owner:
                    self._learn_row(owner, row)
                    if not rel.startswith("erasure_requests/"):
                        counted[owner] += 1
        for request_fp, n in counted.items():
            self.requests[request_fp].landing_rows = n

    def sweep(self, requests, since: dt.datetime | None = None) -> bool:
        """Search every landing data file not read yet (changed after `since`, if given) for the cleartext values
        of these requests' people (ids, e-mails, phones, names): as bytes for text files, by value for Parquet and
        Excel. Files found join the ones learn reads; whether any was found."""
        from ingestion.erasure_verify import Matcher

        needles = {
            v: (kind, r.request_fp)
            for r in requests
            for kind, values in r.needles.items()
            if kind != "pseudonym"
            for v in values
        }
        if not needles:
            return False
        matcher = Matcher(needles)
        lowered = {v.lower() for v in needles}
        found = False
        root = self.landing.resolve()
        for path in sorted(self.landing.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in DATA_SUFFIXES or path.parent.name == "files":
                continue
            rel = path.resolve().relative_to(root).as_posix()
            if rel in self._files or (since is not None and _changed_at(path) < since):
                continue
            if _holds_any(path, matcher, lowered):
                self._files.add(rel)
                found = True
        return found

    # ------------------------------------------------------------------------------------------------ rewriting

    def rewrite(self, matched: set[str]) -> None:
        """Rewrite every landing file read by learn without the rows of the matched requests' people, deleting
        their documents."""
        self._only = matched
        self._refresh()
        for rel in sorted(self._files):
            path = self._landing_path(rel)
            if path is None or not path.is_file():
                continue
            parsed = self._parse_landing(rel)
            if parsed is None:
                self._delete_if_named(path, f"landing/{rel}")
                continue
            self._rewrite(path, parsed, f"landing/{rel}")

    def rewrite_other(self, matched: set[str]) -> None:
        """The data home's files outside its own folders (the generator's world/, migration reports): rows and
        values that name a matched request's person are removed from CSV, JSON and text files."""
        self._only = matched
        self._refresh()
        home = self.settings.home
        if not self._patterns:
            return
        for path in sorted(home.rglob("*")):
            rel = path.relative_to(home)
            if not path.is_file() or rel.parts[0] in OWN_FOLDERS or path.suffix.lower() not in TEXT_SUFFIXES:
                continue
            data = path.read_bytes()
            text, encoding = _decode(data)
            if text is None or not any(p.search(text) for p in self._patterns.values()):
                continue
            if path.suffix.lower() == ".csv":
                parsed = _parse_csv(text, encoding)
                if parsed is not None:
                    self._rewrite(path, parsed, str(rel), delete_documents=False, delete_empty=False)
                    continue
            if path.suffix.lower() == ".json":
                try:
                    doc = json.loads(text)
                except ValueError:
                    doc = None
                if doc is not None:
                    kept, removed = self._filter_json(doc)
                    _replace(path, (json.dumps(kept, indent=2, ensure_ascii=False) + "\n").encode(encoding))
                    self._note(removed, str(rel), "values_removed")
                    continue
            lines = text.splitlines(keepends=True)
            removed: dict[str, int] = defaultdict(int)
            kept_lines = []
            for line in lines:
                owner = next((fp for fp, p in self._patterns.items() if p.search(line)), None)
                if owner:
                    removed[owner] += 1
                else:
                    kept_lines.append(line)
            _replace(path, "".join(kept_lines).encode(encoding))
            self._note(removed, str(rel), "lines_removed")

    def _filter_json(self, doc):
        """The document without list items and object members whose key or text names a person."""
        removed: dict[str, int] = defaultdict(int)

        def owner_of(value) -> str | None:
            if isinstance(value, str):
                return next((fp for fp, p in self._patterns.items() if p.search(value)), None)
            return None

        def walk(node):
            if isinstance(node, dict):
                out = {}
                for k, v in node.items():
                    who = owner_of(k) or owner_of(v)
                    if who:
                        removed[who] += 1
                    else:
                        out[k] = walk(v)
                return out
            if isinstance(node, list):
                out = []
                for v in node:
                    who = owner_of(v)
                    if who:
                        removed[who] += 1
                    else:
                        out.append(walk(v))
                return out
            return node

        return walk(doc), removed

    def _note(self, removed: dict[str, int], rel: str, what: str) -> None:
        for request_fp, n in removed.items():
            entry = self.requests[request_fp].files.setdefault(rel, {})
            entry[what] = entry.get(what, 0) + n

    def _landing_path(self, rel: str) -> Path | None:
        path = (self.landing / rel).resolve()
        return path if path.is_relative_to(self.landing.resolve()) else None

    def _parse_landing(self, rel: str) -> _Parsed | None:
        path = self._landing_path(rel)
        if path is None or not path.is_file() or path.suffix.lower() not in DATA_SUFFIXES:
            return None
        return parse(path)

    def _delete_if_named(self, path: Path, rel: str) -> None:
        """A file that cannot be parsed (rejected whole) goes if its bytes name a person: it can never load."""
        text, _ = _decode(path.read_bytes())
        if text is None:
            return
        owner = next((fp for fp, p in self._patterns.items() if p.search(text)), None)
        if owner:
            path.unlink()
            self.requests[owner].files[rel] = {"deleted": 1, "reason": "unreadable file naming the person"}

    def _rewrite(self, path: Path, parsed: _Parsed, rel: str, delete_documents=True, delete_empty=True) -> None:
        drop: dict[int, str] = {}
        blank: dict[int, list[str]] = {}
        for row in parsed.rows:
            owner = self.owner(row)
            if owner:
                drop[row.index] = owner
            else:
                refs = self.references(row)
                if refs:
                    blank[row.index] = refs
        if not drop and not blank:
            return
        documents: dict[str, int] = defaultdict(int)
        if delete_documents:
            for row in parsed.rows:
                if row.index in drop and row.values.get(DOCUMENT_COLUMN):
                    doc = (path.parent / str(row.values[DOCUMENT_COLUMN])).resolve()
                    if doc.is_relative_to(self.landing.resolve()) and doc.is_file():
                        doc.unlink()
                        documents[drop[row.index]] += 1
        left = len(parsed.rows) - len(drop)
        if left == 0 and delete_empty:
            path.unlink()
            _remove_empty_dirs(path.parent, self.landing)
        else:
            _write(path, parsed, set(drop), blank)
        counts: dict[str, int] = defaultdict(int)
        for owner in drop.values():
            counts[owner] += 1
        for owner in set(counts) | set(documents):
            entry = self.requests[owner].files.setdefault(rel, {})
            entry["rows_removed"] = entry.get("rows_removed", 0) + counts.get(owner, 0)
            if documents.get(owner):
                entry["documents_deleted"] = entry.get("documents_deleted", 0) + documents[owner]
            if left == 0 and delete_empty:
                entry["deleted"] = 1
        if blank and not counts:
            # Someone else's row lost a reference to an erased person: recorded against one of them.
            first = next(iter(self.requests))
            self.requests[first].files.setdefault(rel, {})["references_emptied"] = len(blank)


def _changed_at(path: Path) -> dt.datetime:
    """When a file last changed, in UTC (as the ledger's times)."""
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)


def _holds_any(path: Path, matcher, lowered: set[str]) -> bool:
    """Whether a landing file holds one of the values: text files as bytes (every encoding the readers accept),
    Parquet and Excel by cell value (their bytes are compressed)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            values = pa.array(sorted(lowered), type=pa.string())
            texts = [c for c in table.columns if pa.types.is_string(c.type) or pa.types.is_large_string(c.type)]
            return any(
                pc.any(pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(c)), value_set=values)).as_py() for c in texts
            )
        if suffix == ".xlsx":
            parsed = _parse_xlsx(path)
            return any(v and str(v).strip().lower() in lowered for row in parsed.rows for v in row.values.values())
    except Exception:  # unreadable: searched as bytes below, as a file rejected whole would be
        pass
    return bool(matcher.find(path.read_bytes()))


# ---------------------------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str | None, str]:
    """Text as the readers decode it (UTF-8, with or without BOM, else GB18030), and the codec that writes it back."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            return None, ""
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None, ""


def parse(path: Path) -> _Parsed | None:
    """The rows of a landing file as ingestion/readers.py splits them; None when it cannot be read."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            text, encoding = _decode(path.read_bytes())
            return None if text is None else _parse_csv(text, encoding)
        if suffix in (".jsonl", ".json"):
            text, encoding = _decode(path.read_bytes())
            return None if text is None else _parse_jsonl(text, encoding)
        if suffix == ".parquet":
            return _parse_parquet(path)
        if suffix == ".xlsx":
            return _parse_xlsx(path)
    except Exception:  # a corrupt file of any kind: the caller treats it as unreadable
        return None
    return None


def _parse_csv(text: str, encoding: str) -> _Parsed | None:
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        return None
    rows = []
    while True:
        start = reader.line_num
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error:
            rows.append(_Row({}, "".join(lines[start:]), start, len(lines)))
            break
        if not fields or (all(f == "" for f in fields) and len(fields) <= 1):
            continue
        values = dict(zip(header, (f if f.strip() else None for f in fields), strict=False))
        rows.append(_Row(values, "".join(lines[start : reader.line_num]), start, reader.line_num))
    return _Parsed("csv", rows, header, lines, encoding)


def _parse_jsonl(text: str, encoding: str) -> _Parsed:
    lines = text.splitlines(keepends=True)
    rows = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            values = {str(k).strip().lower(): None if v is None else str(v) for k, v in obj.items()}
        except (ValueError, AttributeError):
            values = {}
        rows.append(_Row(values, line, i, i + 1))
    return _Parsed("jsonl", rows, [], lines, encoding)


def _parse_parquet(path: Path) -> _Parsed:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    rows = []
    for i, record in enumerate(table.to_pylist()):
        values = {str(k).strip().lower(): None if v is None else str(v) for k, v in record.items()}
        rows.append(_Row(values, json.dumps(values, ensure_ascii=False), i))
    return _Parsed("parquet", rows, table.column_names)


def _parse_xlsx(path: Path) -> _Parsed:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = wb.worksheets[0].iter_rows(values_only=True)
        header = [str(h).strip().lower() if h is not None else "" for h in next(sheet)]
        rows = []
        for i, cells in enumerate(sheet, start=2):  # the sheet's row number: header is row 1
            if cells is None or all(v is None or str(v).strip() == "" for v in cells):
                continue
            values = {h: None if v is None else _excel_text(v) for h, v in zip(header, cells, strict=False) if h}
            rows.append(_Row(values, json.dumps(values, ensure_ascii=False), i))
        return _Parsed("xlsx", rows, header)
    finally:
        wb.close()


def _excel_text(v) -> str:
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _write(path: Path, parsed: _Parsed, drop: set[int], blank: dict[int, list[str]]) -> None:
    if parsed.kind in ("csv", "jsonl"):
        out = []
        starts = {row.index: row for row in parsed.rows}
        i = 0
        while i < len(parsed.lines):
            row = starts.get(i)
            if row is None:
                out.append(parsed.lines[i])
                i += 1
                continue
            if row.index not in drop:
                out.append(_blanked(parsed, row, blank[row.index]) if row.index in blank else row.text)
            i = row.end
        _replace(path, "".join(out).encode(parsed.encoding))
    elif parsed.kind == "parquet":
        _write_parquet(path, drop, blank)
    elif parsed.kind == "xlsx":
        _write_xlsx(path, parsed, drop, blank)


def _blanked(parsed: _Parsed, row: _Row, columns: list[str]) -> str:
    """The row with the named fields emptied, serialised as its file writes rows."""
    ending = row.text[len(row.text.rstrip("\r\n")) :] or "\n"
    if parsed.kind == "jsonl":
        obj = json.loads(row.text)
        for k in list(obj):
            if k.strip().lower() in columns:
                obj[k] = None
        return json.dumps(obj, ensure_ascii=False) + ending
    fields = [None if h in columns else row.values.get(h) for h in parsed.header]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=ending).writerow(["" if f is None else f for f in fields])
    return buffer.getvalue()


def _write_parquet(path: Path, drop: set[int], blank: dict[int, list[str]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    codec = meta.row_group(0).column(0).compression.lower() if meta.num_row_groups else "snappy"
    table = pq.read_table(path)
    keep = pa.array([i not in drop for i in range(table.num_rows)])
    for index, columns in blank.items():
        for name in table.column_names:
            if name.strip().lower() in columns:
                values = table.column(name).to_pylist()
                values[index] = None
                table = table.set_column(
                    table.column_names.index(name), name, pa.array(values, table.schema.field(name).type)
                )
    tmp = path.with_name(f".{path.name}.erasure.tmp")
    pq.write_table(table.filter(keep), tmp, compression=None if codec == "uncompressed" else codec)
    os.replace(tmp, path)


def _write_xlsx(path: Path, parsed: _Parsed, drop: set[int], blank: dict[int, list[str]]) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    sheet = wb.worksheets[0]
    for index, columns in blank.items():
        for col, name in enumerate(parsed.header, start=1):
            if name in columns:
                sheet.cell(row=index, column=col).value = None
    for index in sorted(drop, reverse=True):
        sheet.delete_rows(index)
    tmp = path.with_name(f".{path.name}.erasure.tmp")
    wb.save(tmp)
    os.replace(tmp, path)


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.erasure.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, path.stat().st_mode & 0o777)
    os.replace(tmp, path)


def _remove_empty_dirs(folder: Path, root: Path) -> None:
    """A day folder left empty goes (and its files/ folder): nothing of it is left to load."""
    root = root.resolve()
    folder = folder.resolve()
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# ---------------------------------------------------------------------------------------------------------------
# app_state (the dashboards' SQLite store) and compaction
# ---------------------------------------------------------------------------------------------------------------


def erase_app_state(path: Path, subject, requests: dict) -> None:
    """Person references in the dashboards' store (the access log's candidate_key) become NULL: the log keeps that
    a page was viewed, not whom. Its tables are append-only by trigger; the triggers are dropped and recreated
    around the update, in one transaction. VACUUM then rebuilds the file, so no freed page keeps the old value."""
    if not path.exists():
        return
    values = subject.values()
    persons = {v: fp for fp, kinds in values.items() for v in kinds.get("person", set())}
    if not persons:
        return
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'").fetchall()]
        changed = False
        con.execute("begin immediate")
        for table in tables:
            columns = [r[1] for r in con.execute(f'pragma table_info("{table}")').fetchall()]
            person_cols = [c for c in columns if erasure.PERSON_COLUMN.match(c.lower())]
            if not person_cols:
                continue
            triggers = con.execute(
                "select name, sql from sqlite_master where type = 'trigger' and tbl_name = ?", [table]
            ).fetchall()
            for column in person_cols:
                marks = ",".join("?" * len(persons))
                hits = con.execute(
                    f'select "{column}", count(*) from "{table}" where "{column}" in ({marks}) group by 1',
                    list(persons),
                ).fetchall()
                if not hits:
                    continue
                for name, _ in triggers:
                    con.execute(f'drop trigger if exists "{name}"')
                con.execute(f'update "{table}" set "{column}" = null where "{column}" in ({marks})', list(persons))
                for _name, sql in triggers:
                    con.execute(sql)
                for value, n in hits:
                    requests[persons[value]].deleted[f"app_state.{table}.{column}_unlinked"] = n
                changed = True
        con.execute("commit")
        if changed:
            con.execute("vacuum")
            con.execute("pragma wal_checkpoint(truncate)")
    finally:
        con.close()


def compact_database(path: Path, config: dict | None = None) -> int:
    """Rewrite a DuckDB file so its freed blocks (deleted rows) are gone: every schema, table, view, sequence and
    macro is copied into a fresh file, which then replaces the old one atomically. Returns the bytes saved.
    The caller holds no connection to the file (one writer: the pipeline's own step)."""
    if not path.exists():
        return 0
    before = path.stat().st_size
    fresh = path.with_name(f".{path.name}.compact")
    for leftover in (fresh, Path(str(fresh) + ".wal")):
        leftover.unlink(missing_ok=True)
    con = duckdb.connect(str(path), config=config or {})
    try:
        con.execute("checkpoint")
        catalog = con.execute("select current_database()").fetchall()[0][0]
        con.execute(f"attach '{fresh}' as erasure_fresh")
        con.execute(f'copy from database "{catalog}" to erasure_fresh')
        con.execute("detach erasure_fresh")
    finally:
        con.close()
    with open(fresh, "rb") as f:
        os.fsync(f.fileno())
    os.chmod(fresh, path.stat().st_mode & 0o777)
    os.replace(fresh, path)
    Path(str(path) + ".wal").unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return before - path.stat().st_size
