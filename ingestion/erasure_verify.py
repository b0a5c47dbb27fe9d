"""Verify an erasure: search every file of the data home for any byte of the person.

What is searched for comes from the request's evidence, captured while the person's rows still existed: their
ids in the clear (candidate, employee, interview, application, resume, complaint), pseudonyms (their keys and
e-mail match key), names, e-mails and phones. The evidence is kept in cleartext, in restricted/erasure/ only
(mode 0600, the one place PII may live), and deleted once verification passes or after EVIDENCE_DAYS.

Why cleartext there and not a list of fingerprints: a fingerprint can only be compared with a candidate string,
so a scan would have to cut every file into every string that could be a name (any run of one to four words,
any run of Chinese characters) and hash each, and would still miss a name split across a PDF's text operators
or a phone with other spacing; searching the bytes themselves is exact, finds every offset, and reads a
gigabyte in seconds. The restricted store already held these values until the erasure; holding them there a
little longer, for the sole purpose of proving the erasure (GDPR Art. 5(2), PIPL Art. 54), adds no new place
that holds them. After the evidence goes, a later verify still searches for the id given and its pseudonym.

Files are searched as bytes (UTF-8, GB18030, JSON's \\u escapes), and inside what compresses them: ZIP members
(xlsx, docx), PDF streams, gzip, Parquet values, and the rows of every DuckDB table (DuckDB compresses strings,
so a live value may not appear as bytes; a freed block may).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import mmap
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion import erasure
from ingestion.privacy import KEY_CHARS, pseudonym

EVIDENCE_DIR = "erasure"
# Evidence (cleartext, restricted/ only) is kept at most this long, verified or not: long enough to verify after
# the next publish (nightly), short enough to stay inside the month a request must be answered in.
EVIDENCE_DAYS = 30
# A ZIP member or PDF stream is inflated up to this size: real workbooks and resumes are far smaller.
MAX_INFLATE_BYTES = 256 * 1024 * 1024
_PSEUDONYM = re.compile(rf"^[0-9a-f]{{{KEY_CHARS}}}$")
_STREAM = re.compile(rb"stream\r?\n")


@dataclass(frozen=True)
class Hit:
    path: str  # relative to the data home
    where: str  # byte offset, or member/stream and offset, or table.column and rows
    kind: str  # which kind of value was found (never the value itself)
    request: str  # the request's fingerprint prefix


@dataclass
class Report:
    home: Path
    files: int = 0
    bytes: int = 0
    hits: list[Hit] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.hits and not self.incomplete


def evidence_path(settings, request_fp: str) -> Path:
    return settings.restricted / EVIDENCE_DIR / f"{request_fp}.json"


def write_evidence(settings, request_fp: str, needles: dict[str, set[str]], now: dt.datetime) -> None:
    """What must be absent after the erasure, merged with what an earlier call found (mode 0600)."""
    from ingestion.privacy import _write_private

    path = evidence_path(settings, request_fp)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    old = json.loads(path.read_text()) if path.exists() else {"needles": {}, "created_at": now.isoformat()}
    merged = {k: set(v) for k, v in old["needles"].items()}
    for kind, values in needles.items():
        merged.setdefault(kind, set()).update(v for v in values if v)
    record = {
        "request_fp": request_fp,
        "created_at": old["created_at"],
        "expires_at": (now + dt.timedelta(days=EVIDENCE_DAYS)).isoformat(),
        "needles": {k: sorted(v) for k, v in sorted(merged.items()) if v},
    }
    _write_private(path, json.dumps(record, ensure_ascii=False).encode(), replace=True)


def purge_expired_evidence(settings, now: dt.datetime | None = None) -> int:
    """Delete evidence past its EVIDENCE_DAYS, verified or not; returns how many went."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    folder = settings.restricted / EVIDENCE_DIR
    gone = 0
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if dt.datetime.fromisoformat(json.loads(path.read_text())["expires_at"]) < now:
            path.unlink()
            gone += 1
    return gone


def _read_evidence(settings, request_fp: str) -> dict[str, set[str]]:
    path = evidence_path(settings, request_fp)
    if not path.exists():
        return {}
    return {k: set(v) for k, v in json.loads(path.read_text())["needles"].items()}


def verify(settings, ids: list[str], key: bytes, record: bool = True) -> Report:
    """Search every file of the data home for the people of these erasure requests (candidate ids as the request
    named them, or their pseudonyms). On a pass, and with record=True, the ledger records the verification and
    the evidence is deleted."""
    report = Report(settings.home)
    needles: dict[str, tuple[str, str]] = {}  # value -> (kind, request prefix)
    salt, ledger = _ledger(settings, report)
    fps = []
    for given in ids:
        given = given.strip()
        candidate_key = given if _PSEUDONYM.match(given) else pseudonym(given, key)
        request_fp = erasure.fingerprint(salt, candidate_key) if salt else None
        evidence = _read_evidence(settings, request_fp) if request_fp else {}
        prefix = (request_fp or candidate_key)[:12]
        values = {"given_id": {given}, "pseudonym": {candidate_key}, **evidence}
        for kind, vs in values.items():
            for v in vs:
                needles.setdefault(v, (kind, prefix))
        row = ledger.get(request_fp, {})
        unknown = "no erasure request on record" if salt else "ledger not readable (warehouse busy or missing)"
        report.requests.append(
            {
                "id": given,
                "request": prefix,
                "status": row.get("status", unknown),
                "applied_at": row.get("applied_at"),
                "evidence_values": sum(len(v) for v in evidence.values()),
                "evidence_kinds": sorted(evidence),
            }
        )
        fps.append(request_fp)
    matcher = Matcher(needles)
    evidence_dir = (settings.restricted / EVIDENCE_DIR).resolve()
    for path in sorted(p for p in settings.home.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.resolve().is_relative_to(evidence_dir):
            continue
        report.files += 1
        report.bytes += path.stat().st_size
        _scan_file(path, settings.home, matcher, report)
    if report.passed and record:
        _record_verified(settings, [f for f in fps if f], report)
    return report


def _ledger(settings, report: Report) -> tuple[str | None, dict]:
    if not settings.warehouse.exists():
        return None, {}
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error as exc:
        report.incomplete.append(f"warehouse.duckdb could not be opened ({exc}); is a run in progress?")
        return None, {}
    try:
        if not erasure._columns(con, "raw", "erasure_salt"):
            return None, {}
        salt = con.execute("select salt from raw.erasure_salt limit 1").fetchall()[0][0]
        rows = con.execute("select request_fp, status, applied_at from raw.erasure_log where scope = 'all'").fetchall()
        return salt, {fp: {"status": s, "applied_at": a} for fp, s, a in rows}
    finally:
        con.close()


def _record_verified(settings, request_fps: list[str], report: Report) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        con = duckdb.connect(str(settings.warehouse), config=settings.duckdb_config())
    except duckdb.Error:
        report.requests.append({"note": "passed; the warehouse is busy, so the ledger was not updated"})
        return
    try:
        con.execute(
            "update raw.erasure_log set verified_at = ? where request_fp in (select unnest(?)) and scope = 'all'",
            [now, request_fps],
        )
    finally:
        con.close()
    for request_fp in request_fps:
        evidence_path(settings, request_fp).unlink(missing_ok=True)


class Matcher:
    """Every needle as bytes in each encoding a file may hold it in, as whole tokens, case-insensitively."""

    def __init__(self, needles: dict[str, tuple[str, str]]):
        self.by_form: dict[bytes, tuple[str, str]] = {}
        for value, meta in needles.items():
            for form in _forms(value):
                self.by_form.setdefault(form.lower(), meta)
        alternatives = b"|".join(re.escape(f) for f in sorted(self.by_form, key=len, reverse=True))
        self.pattern = re.compile(rb"(?<![0-9A-Za-z])(?:" + alternatives + rb")(?![0-9A-Za-z])", re.IGNORECASE)
        text_alternatives = "|".join(re.escape(v) for v in sorted(needles, key=len, reverse=True))
        self.sql_pattern = f"(?i)(?:^|[^0-9A-Za-z])(?:{text_alternatives})(?:[^0-9A-Za-z]|$)"
        self.needles = needles

    def find(self, data) -> list[tuple[int, str, str]]:
        return [(m.start(), *self.by_form.get(m.group().lower(), ("?", "?"))) for m in self.pattern.finditer(data)]

    def find_text(self, text: str) -> tuple[str, str] | None:
        low = text.lower()
        for value, meta in self.needles.items():
            if value.lower() in low:
                return meta
        return None


def _forms(value: str) -> set[bytes]:
    forms = {value.encode("utf-8")}
    if not value.isascii():
        for encoding in ("gb18030", "utf-16-le"):
            forms.add(value.encode(encoding))
        forms.add(json.dumps(value)[1:-1].encode())  # "\u674e\u4f1f" as JSON with ensure_ascii writes it
    return {f for f in forms if f}


def _scan_file(path: Path, home: Path, matcher: Matcher, report: Report) -> None:
    rel = str(path.relative_to(home))
    size = path.stat().st_size
    if size == 0:
        return
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for offset, kind, request in matcher.find(data):
            report.hits.append(Hit(rel, f"offset {offset}", kind, request))
        head = data[:8]
        suffix = path.suffix.lower()
        try:
            if head.startswith(b"PK\x03\x04"):
                _scan_zip(path, rel, matcher, report)
            elif head.startswith(b"%PDF"):
                _scan_pdf(data, rel, matcher, report)
            elif head.startswith(b"\x1f\x8b"):
                _scan_bytes(gzip.decompress(data[:]), rel, "gzip", matcher, report)
            elif head.startswith(b"PAR1") or suffix == ".parquet":
                _scan_parquet(path, rel, matcher, report)
        except (zipfile.BadZipFile, OSError, ValueError, zlib.error) as exc:
            report.incomplete.append(f"{rel}: could not be opened to search inside ({exc})")
    if path.suffix.lower() == ".duckdb" or path.name.endswith(".compact"):
        _scan_duckdb(path, rel, matcher, report)


def _scan_bytes(data: bytes, rel: str, where: str, matcher: Matcher, report: Report) -> None:
    for offset, kind, request in matcher.find(data):
        report.hits.append(Hit(rel, f"{where} offset {offset}", kind, request))


def _scan_zip(path: Path, rel: str, matcher: Matcher, report: Report) -> None:
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if info.file_size > MAX_INFLATE_BYTES:
                report.incomplete.append(f"{rel}: member {info.filename} too large to search")
                continue
            _scan_bytes(z.read(info), rel, f"member {info.filename}", matcher, report)


def _scan_pdf(data, rel: str, matcher: Matcher, report: Report) -> None:
    for m in _STREAM.finditer(data):
        end = data.find(b"endstream", m.end())
        if end < 0:
            break
        try:
            inflated = zlib.decompressobj().decompress(data[m.end() : end], MAX_INFLATE_BYTES)
        except zlib.error:
            continue  # not a Flate stream (an image, say): its raw bytes were searched already
        _scan_bytes(inflated, rel, f"stream at {m.start()}", matcher, report)


def _scan_parquet(path: Path, rel: str, matcher: Matcher, report: Report) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    for name in table.column_names:
        for i, value in enumerate(table.column(name).to_pylist()):
            if value is None:
                continue
            found = matcher.find_text(str(value))
            if found:
                report.hits.append(Hit(rel, f"row {i + 1} column {name}", *found))


def _scan_duckdb(path: Path, rel: str, matcher: Matcher, report: Report) -> None:
    """Every row of every table, as text: DuckDB compresses strings, so live values need not appear as bytes."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        report.incomplete.append(f"{rel}: could not be opened to search its tables ({exc})")
        return
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            rows = con.execute(
                f'select cast(t as varchar) from "{schema}"."{table}" as t where regexp_matches(cast(t as varchar), ?)',
                [matcher.sql_pattern],
            ).fetchall()
            for (text,) in rows:
                found = matcher.find_text(text) or ("?", "?")
                report.hits.append(Hit(rel, f"table {schema}.{table}", *found))
    finally:
        con.close()


def format_report(report: Report, limit: int | None = None) -> str:
    lines = [f"Erasure verification over {report.home}: {report.files:,} files, {report.bytes / 1e6:,.1f} MB"]
    for r in report.requests:
        if "note" in r:
            lines.append(f"  note: {r['note']}")
            continue
        evidence = (
            f"{r['evidence_values']} values ({', '.join(r['evidence_kinds'])})"
            if r["evidence_values"]
            else "none kept (verified earlier, expired, or never erased): the id and its pseudonym only"
        )
        applied = f" at {r['applied_at']:%Y-%m-%d %H:%M} UTC" if r.get("applied_at") else ""
        lines.append(f"  {r['id']}: request {r['request']} {r['status']}{applied}; evidence: {evidence}")
    grouped: dict[tuple, int] = {}
    for hit in report.hits:
        grouped[(hit.path, hit.where, hit.kind, hit.request)] = (
            grouped.get((hit.path, hit.where, hit.kind, hit.request), 0) + 1
        )
    for i, ((path, where, kind, request), n) in enumerate(grouped.items()):
        if limit is not None and i >= limit:
            lines.append(f"... and {len(grouped) - limit} more places")
            break
        rows = f" ({n} rows)" if n > 1 else ""
        lines.append(f"HIT  {path}  {where}{rows}  {kind}  (request {request})")
    for problem in report.incomplete:
        lines.append(f"INCOMPLETE  {problem}")
    if report.passed:
        lines.append("PASS: no byte of them in any file of the data home.")
    elif report.hits:
        files = len({h.path for h in report.hits})
        lines.append(f"FAIL: {len(report.hits)} hits in {files} files.")
    else:
        lines.append("INCOMPLETE: some files could not be searched; nothing was found in the rest.")
    return "\n".join(lines)
