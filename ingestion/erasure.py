"""Erasure requests: remove a person from every table, file and deleted byte of the data home, and audit it.

Scope `all` erases the person: every row of every base table in every schema of the warehouse that carries one of
their identifiers, found by column name (candidate/employee/person id or key; their interview, application,
resume, complaint and document ids; their e-mail match key), following links to their other records (the HRIS row
naming them, the crosswalk, a shared e-mail key) to a fixed point. Free text (raw.quarantine, the ops ledgers, the
model registry, the restricted store's payloads) is matched on what identifies them: ids, pseudonyms, e-mails,
phones, and a name no one else in the restricted store has. Their PII leaves restricted/, their rows the landing
files (rewritten; their documents deleted) and the other files of the data home (erasure_files.py); the caller then
rewrites the warehouse and restricted files so that no freed block keeps them (erasure_files.compact_database), and
published snapshots made before the erasure go once a fresh one is published (orchestration/publish.py).
`recordings` deletes their transcripts and every table made from them; `analytics` deletes nothing but keeps them
out of every mart (dbt excludes them).

Nothing here keeps the person's identifiers. The ledger (raw.erasure_log) and the suppression list that stops a
reloaded or re-sent row (raw.erasure_tombstones) hold salted SHA-256 fingerprints; what verification looks for
(cleartext ids, names, e-mails, phones) is kept in restricted/erasure/ only, until `talentloop erasure verify`
passes or EVIDENCE_DAYS pass (erasure_verify.py).

A request that matches nothing is `unmatched`: retried on every run for RETRY_DAYS after it arrived, then
`expired`; both are shown by `talentloop status`, and the person's rows are still stopped at load should they
arrive later (which applies the request). Rows removed from raw are counted per file in raw.erased_rows, so rows
read = loaded + quarantined still reconciles (loaded = in raw + erased); a quarantine row removed takes its count
out of its file's load_log, which then describes the landing file as rewritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

import duckdb

# GDPR Art. 12(3) and PIPL Art. 50: a request is answered within one month, so an unmatched one is retried that
# long, then flagged for a person to look at.
RETRY_DAYS = 30
# 32 hex characters = 128 bits of a salted SHA-256: no two identifiers share a fingerprint in practice.
FINGERPRINT_CHARS = 32
# Requests whose needles go into one regular expression: 200 requests x ~15 needles x ~20 characters keeps the
# pattern near 60 KB, well inside RE2's default program budget.
NEEDLE_BATCH = 200

ERASURE_LOG_DDL = """
create table if not exists raw.erasure_log (
    request_fp varchar, scope varchar, requested_at timestamp, first_seen_at timestamp, last_tried_at timestamp,
    attempts integer, status varchar, applied_at timestamp, rows_deleted varchar, files varchar,
    snapshots_cleared_at timestamp, snapshots_deleted varchar, verified_at timestamp
)"""
ERASED_ROWS_DDL = "create table if not exists raw.erased_rows (source varchar, _source_file varchar, n bigint)"
# What must never load again, by kind (person, email, interview, application, resume, complaint, recording).
TOMBSTONES_DDL = (
    "create table if not exists raw.erasure_tombstones (fingerprint varchar, kind varchar, request_fp varchar)"
)
# Rows stopped at load, by request and file: their landing files still hold them and are rewritten next.
HITS_DDL = """
create table if not exists raw.erasure_hits (
    request_fp varchar, source varchar, _source_file varchar, n bigint, processed boolean
)"""
SALT_DDL = "create table if not exists raw.erasure_salt (salt varchar)"
LEDGER_TABLES = ("erasure_log", "erased_rows", "erasure_tombstones", "erasure_hits", "erasure_salt")

PENDING, UNMATCHED, APPLIED, EXPIRED = "pending", "unmatched", "applied", "expired"

# Identifier columns by name, in any table of any schema (and in landing headers): how a row belongs to a person.
PERSON_COLUMN = re.compile(r"^(?:.*_)?(?:candidate|employee|person)_(?:id|key)$")
RECORD_COLUMNS = {
    "interview": re.compile(r"^(?:.*_)?interview_id$"),
    "application": re.compile(r"^(?:.*_)?application_id$"),
    "resume": re.compile(r"^(?:.*_)?resume_id$"),
    "complaint": re.compile(r"^(?:.*_)?complaint_id$"),
}
# A document id is an interview's or a resume's (ml.text_feature_inputs).
DOCUMENT_COLUMN = re.compile(r"^(?:.*_)?document_id$")
EMAIL_KEY_COLUMN = re.compile(r"^(?:.*_)?email_key$")
# A name's match key: shared by everyone with that name, so it links no one, but it is a pseudonym (key rotation).
NAME_KEY_COLUMN = re.compile(r"^(?:.*_)?full_name_key$")
# A column naming the person as someone else's manager: the other row stays, the reference goes.
REFERENCE_COLUMN = re.compile(r"^(?:.*_)?manager_(?:id|key)$")
RECORDING_TABLE = re.compile(r"(?:^|_)(?:transcript|keyword)")
VARCHAR = ("VARCHAR", "TEXT", "STRING")
# dbt rebuilds these from raw on every run; they are cleaned by key (so no copy survives compaction) but their free
# text is not searched.
DBT_SCHEMAS = ("staging", "intermediate", "marts", "seeds")


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for ddl in (ERASED_ROWS_DDL, TOMBSTONES_DDL, HITS_DDL, SALT_DDL):
        con.execute(ddl)
    if not con.execute("select count(*) from raw.erasure_salt").fetchall()[0][0]:
        con.execute("insert into raw.erasure_salt values (?)", [secrets.token_hex(16)])
    _migrate_legacy_log(con)
    con.execute(ERASURE_LOG_DDL)
    _migrate_legacy_interviews(con)


def _migrate_legacy_log(con: duckdb.DuckDBPyConnection) -> None:
    """An erasure_log from before fingerprints kept each candidate's pseudonym: fingerprint it and let the request
    run again through the full cascade (the earlier one reached raw only); it stays applied if nothing is left."""
    if "candidate_key" not in _columns(con, "raw", "erasure_log"):
        return
    rows = con.execute("select candidate_key, scope, requested_at, applied_at from raw.erasure_log").fetchall()
    con.execute("drop table raw.erasure_log")
    con.execute(ERASURE_LOG_DDL)
    salt = _salt(con)
    for key, scope, requested_at, applied_at in rows:
        con.execute(
            "insert into raw.erasure_log (request_fp, scope, requested_at, first_seen_at, attempts, status, "
            "applied_at) values (?, ?, ?, ?, 0, ?, ?)",
            [fingerprint(salt, key), scope, requested_at, applied_at, PENDING, applied_at],
        )


def _migrate_legacy_interviews(con: duckdb.DuckDBPyConnection) -> None:
    """raw.erased_interviews kept interview ids beside the candidate's pseudonym: fingerprints replace both."""
    if not _columns(con, "raw", "erased_interviews"):
        return
    salt = _salt(con)
    rows = con.execute("select interview_id, candidate_key from raw.erased_interviews").fetchall()
    _insert_many(
        con,
        "insert into raw.erasure_tombstones values (?, 'interview', ?)",
        [[fingerprint(salt, i), fingerprint(salt, k)] for i, k in rows],
    )
    con.execute("drop table raw.erased_interviews")


def _insert_many(con: duckdb.DuckDBPyConnection, sql: str, rows: list) -> None:
    """executemany, which DuckDB refuses for an empty list."""
    if rows:
        con.executemany(sql, rows)


def _salt(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select salt from raw.erasure_salt limit 1").fetchall()[0][0]


def salt(con: duckdb.DuckDBPyConnection) -> str:
    ensure_tables(con)
    return _salt(con)


def fingerprint(salt: str, value: str) -> str:
    return hashlib.sha256((salt + value).encode()).hexdigest()[:FINGERPRINT_CHARS]


def _fp_sql(expr: str) -> str:
    """The same fingerprint in SQL (the salt is a parameter)."""
    return f"left(sha256(? || {expr}), {FINGERPRINT_CHARS})"


# ---------------------------------------------------------------------------------------------------------------
# At load: stop rows of erased people (called by ingestion/load.py inside its transaction)
# ---------------------------------------------------------------------------------------------------------------


def remove_erased(con: duckdb.DuckDBPyConnection, source: str, files: list[str] | None = None) -> int:
    """Delete rows of erased people from raw.<source> (only in `files` if given), counting them per file
    (raw.erased_rows) and per request (raw.erasure_hits: their landing files are rewritten by the next
    apply_erasures). A pending request of scope all stops its person's rows from the moment it is known."""
    ensure_tables(con)
    if not _columns(con, "raw", source):
        return 0
    salt = _salt(con)
    has_requests = bool(_columns(con, "raw", "erasure_requests"))
    tombstones = "select fingerprint, kind, request_fp from raw.erasure_tombstones"
    pending = (
        f" union all select {_fp_sql('candidate_id')}, 'person', {_fp_sql('candidate_id')} from raw.erasure_requests"
        " where coalesce(scope, 'all') = 'all'"
    )
    file_filter, file_params = ("and t._source_file in (select unnest(?))", [files]) if files is not None else ("", [])
    parts, params = [], []
    for column, kind in identifier_columns(con, "raw", source):
        if kind in ("reference", "document"):
            continue
        # A request row is never stopped by its own request: only rows of a person already erased go.
        with_pending = has_requests and kind == "person" and source != "erasure_requests"
        parts.append(
            f"select t.rowid as rid, t._source_file, s.request_fp from raw.{source} t "
            f"join ({tombstones}{pending if with_pending else ''}) s "
            f"on s.kind = '{kind}' and s.fingerprint = {_fp_sql(f't.{column}')} "
            f"where t.{column} is not null {file_filter}"
        )
        params += [*([salt, salt] if with_pending else []), salt, *file_params]
    if has_requests and is_recording_table(con, "raw", source):
        parts.append(
            f"select t.rowid, t._source_file, {_fp_sql('i.candidate_id')} from raw.{source} t "
            "join raw.interviews i on i.interview_id = t.interview_id "
            "join raw.erasure_requests r on r.candidate_id = i.candidate_id and r.scope = 'recordings' "
            f"where true {file_filter}"
        )
        params += [salt, *file_params]
    if not parts:
        return 0
    con.execute("create or replace temp table _erasure_stopped as " + " union all ".join(parts), params)
    try:
        counts = con.execute(
            "select _source_file, count(distinct rid) from _erasure_stopped group by 1 order by 1"
        ).fetchall()
        if not counts:
            return 0
        con.execute(
            "insert into raw.erasure_hits select request_fp, ?, _source_file, count(distinct rid), false "
            "from _erasure_stopped group by request_fp, _source_file",
            [source],
        )
        con.execute(f"delete from raw.{source} where rowid in (select rid from _erasure_stopped)")
        _insert_many(con, "insert into raw.erased_rows values (?, ?, ?)", [[source, f, n] for f, n in counts])
        return sum(n for _, n in counts)
    finally:
        con.execute("drop table if exists _erasure_stopped")


def forget_file_counts(con: duckdb.DuckDBPyConnection, source: str, files: list[str]) -> None:
    """A reloaded file starts its erased count again (its rows were deleted and inserted anew)."""
    ensure_tables(con)
    con.execute("delete from raw.erased_rows where source = ? and _source_file in (select unnest(?))", [source, files])
    con.execute(
        "delete from raw.erasure_hits where source = ? and not processed and _source_file in (select unnest(?))",
        [source, files],
    )


class ErasedKeys:
    """The pseudonyms whose PII must never be stored again: people of pending requests of scope all, and anyone with
    a tombstone (tested by fingerprint: the pseudonym itself is no longer kept)."""

    def __init__(self, pending: set[str], tombstones: set[str], salt: str):
        self._pending, self._tombstones, self._salt = pending, tombstones, salt

    def __contains__(self, key) -> bool:
        if not isinstance(key, str):
            return False
        return key in self._pending or fingerprint(self._salt, key) in self._tombstones

    def __len__(self) -> int:
        return len(self._pending) + len(self._tombstones)


def erased_candidates(con: duckdb.DuckDBPyConnection) -> ErasedKeys:
    """Keys of people whose erasure (scope all) is requested or done: their PII is never stored again."""
    ensure_tables(con)
    pending: set[str] = set()
    if _columns(con, "raw", "erasure_requests"):
        rows = con.execute("select candidate_id from raw.erasure_requests where coalesce(scope, 'all') = 'all'")
        pending = {r[0] for r in rows.fetchall()}
    rows = con.execute("select fingerprint from raw.erasure_tombstones where kind = 'person'").fetchall()
    return ErasedKeys(pending, {r[0] for r in rows}, _salt(con))


# ---------------------------------------------------------------------------------------------------------------
# Applying requests
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Request:
    """One request being processed: what it found and removed, and what identifies its person (needles: kind ->
    cleartext values; they live in memory and in restricted/erasure/ only)."""

    request_fp: str
    key: str | None
    scope: str
    requested_at: dt.datetime | None = None
    first_seen_at: dt.datetime | None = None
    status: str = PENDING
    applied_at: dt.datetime | None = None
    attempts: int = 0
    last_tried_at: dt.datetime | None = None
    deleted: dict[str, int] = field(default_factory=dict)
    files: dict[str, dict] = field(default_factory=dict)
    needles: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    lineage: set[str] = field(default_factory=set)  # landing files (relative to landing/) that may hold the person
    shared_names: int = 0

    def count(self, label: str, n: int) -> None:
        if n:
            self.deleted[label] = self.deleted.get(label, 0) + n

    @property
    def all_needles(self) -> set[str]:
        return {v for values in self.needles.values() for v in values if v}

    landing_rows: int = 0  # rows of theirs found in landing files other than the request's own
    matched: bool = False

    @property
    def found(self) -> bool:
        """Whether anything of the person was found (their own request rows do not count)."""
        removed = any(n for label, n in self.deleted.items() if not label.endswith("_unlinked"))
        return removed or self.landing_rows > 0


def apply_erasures(
    con: duckdb.DuckDBPyConnection,
    pii_con: duckdb.DuckDBPyConnection | None,
    settings=None,
    key: bytes | None = None,
    now: dt.datetime | None = None,
) -> list[dict]:
    """Apply every erasure request not yet applied, retry unmatched ones, and clean the landing files behind rows
    stopped at load since the last call; one audit row per request in raw.erasure_log.

    settings (ingestion.settings.Settings) and key (the pseudonym key) let the erasure reach files: landing files
    and other files of the data home are rewritten without the person, app_state references dropped, and the
    verification evidence kept in restricted/erasure/. Without them, only the warehouse and the restricted store
    are cleaned (the unit tests). Returns one record per request decided by this call (applied, unmatched or
    expired). The caller compacts the database files afterwards when any_applied(records).
    """
    ensure_tables(con)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if not _columns(con, "raw", "erasure_requests"):
        return []
    salt = _salt(con)
    _sync_log(con, salt, now)
    due = _due_requests(con, salt)
    late = [Request(fp, None, "all", status=APPLIED) for fp in _late_hits(con) if fp not in {r.request_fp for r in due}]
    if not due and not late:
        return []
    erasing = [r for r in due if r.scope == "all"] + late
    by_fp = {r.request_fp: r for r in erasing}
    for request_fp, file in _hit_files(con):
        if request_fp in by_fp:
            by_fp[request_fp].lineage.add(file)
    _request_files(con, salt, erasing)
    subject = Subject(con, salt)
    subject.start([r for r in erasing if r.key])
    _cascade(con, subject, by_fp)
    eraser = None
    if settings is not None and key is not None:
        from ingestion.erasure_files import FileEraser

        eraser = FileEraser(settings, key, salt, subject, by_fp, pii_con)
        _learn(con, eraser, subject, by_fp, _rejected_files(con))
    _collect_needles(pii_con, subject, erasing)
    quarantined = _erase_free_text(con, erasing)
    if eraser is not None:
        # The quarantined rows removed came from landing files that may name more of the person's records, and a
        # landing file no row in the warehouse points to any more (an older erasure, a day not loaded) may still
        # hold them: every landing file is searched for their cleartext values.
        _learn(con, eraser, subject, by_fp, quarantined)
        if eraser.sweep([r for r in erasing if r.key], _swept_until(erasing)):
            _learn(con, eraser, subject, by_fp, [])
        _collect_needles(pii_con, subject, erasing)
        _erase_free_text(con, erasing)
    if pii_con is not None:
        _erase_pii(pii_con, subject, erasing)
    hits = {r[0] for r in con.execute("select distinct request_fp from raw.erasure_hits").fetchall()}
    for r in erasing:
        r.matched = r.found or r.request_fp in hits or r.status == APPLIED
    if eraser is not None:
        # Only a request that found its person changes files: an unmatched one keeps its own request row in
        # landing, so that it is retried when the files are loaded again.
        matched = {r.request_fp for r in erasing if r.matched}
        eraser.rewrite(matched)
        eraser.rewrite_other(matched)
        from ingestion.erasure_files import erase_app_state

        erase_app_state(settings.app_state, subject, {fp: r for fp, r in by_fp.items() if fp in matched})
    for r in (r for r in due if r.scope == "recordings"):
        _erase_recordings(con, salt, r)
    for r in (r for r in due if r.scope == "analytics"):
        found = con.execute("select count(*) from raw.candidates where candidate_id = ?", [r.key]).fetchall()[0][0]
        r.count("candidates_excluded", found)
    records = _close(con, salt, subject, due, late, now, settings)
    con.execute("update raw.erasure_hits set processed = true where not processed")
    return records


# Rounds of learning from landing files: a candidate's row names their e-mail, whose employee row names their
# employee id, whose reviews name nothing new; a third round has never found anything on the generated worlds.
LEARN_ROUNDS = 3


def _learn(con, eraser, subject: Subject, by_fp: dict[str, Request], extra_files: list[str]) -> bool:
    """Read the lineage files for identifiers the warehouse no longer has (rows stopped at load), link and cascade
    what they add; whether anything was added."""
    grown = False
    for _ in range(LEARN_ROUNDS):
        eraser.learn(extra_files)
        if not subject.grew():
            break
        grown = True
        subject.relink()
        _cascade(con, subject, by_fp)
    return grown


def _swept_until(requests: list[Request]) -> dt.datetime | None:
    """Landing files older than this were searched for every one of these people already (each is a retry that
    found nothing last time): only newer files need searching. None: search them all."""
    tried = [r.last_tried_at for r in requests if r.key]
    if not tried or any(t is None for t in tried) or any(r.status != UNMATCHED for r in requests if r.key):
        return None
    return min(tried)


def _collect_needles(pii_con, subject: Subject, requests: list[Request]) -> None:
    _collect_key_needles(subject, requests)
    _collect_pii_needles(pii_con, subject, requests)


def any_applied(records: list[dict]) -> bool:
    """Whether a call removed anything, so that the database files must be rewritten."""
    return any(r["status"] == APPLIED and r["scope"] in ("all", "recordings") for r in records)


def _sync_log(con, salt: str, now: dt.datetime) -> None:
    """A ledger row for every (person, scope) requested, the first time the request is seen; request rows of a
    person already erased (landed again, or sent twice) are done and go, as they carry a pseudonym."""
    con.execute(
        f"""
        insert into raw.erasure_log (request_fp, scope, requested_at, first_seen_at, attempts, status)
        select q.request_fp, q.scope, q.requested_at, ?, 0, ?
        from (
            select {_fp_sql("candidate_id")} as request_fp, coalesce(scope, 'all') as scope,
                   max(requested_at) as requested_at
            from raw.erasure_requests group by 1, 2
        ) q
        where not exists (select 1 from raw.erasure_log l where l.request_fp = q.request_fp and l.scope = q.scope)
        """,
        [now, PENDING, salt],
    )
    done = con.execute("select request_fp from raw.erasure_log where scope = 'all' and status = ?", [APPLIED])
    done = [r[0] for r in done.fetchall()]
    _delete_request_rows(con, salt, done)


def _delete_request_rows(con, salt: str, request_fps: list[str]) -> int:
    if not request_fps:
        return 0
    where = f"{_fp_sql('candidate_id')} in (select unnest(?))"
    counts = con.execute(
        f"select _source_file, count(*) from raw.erasure_requests where {where} group by 1", [salt, request_fps]
    ).fetchall()
    if counts:
        _insert_many(con, "insert into raw.erased_rows values ('erasure_requests', ?, ?)", [list(c) for c in counts])
        con.execute(f"delete from raw.erasure_requests where {where}", [salt, request_fps])
    return sum(n for _, n in counts)


def _due_requests(con, salt: str) -> list[Request]:
    rows = con.execute(
        f"""
        select l.request_fp, any_value(r.candidate_id), l.scope, l.requested_at, l.first_seen_at, l.status,
               l.applied_at, l.attempts, l.last_tried_at
        from raw.erasure_log l
        join raw.erasure_requests r
          on l.request_fp = {_fp_sql("r.candidate_id")} and l.scope = coalesce(r.scope, 'all')
        where l.status in ('{PENDING}', '{UNMATCHED}')
           or (l.status = '{EXPIRED}' and l.request_fp in (select request_fp from raw.erasure_hits where not processed))
        group by all
        order by l.requested_at, l.request_fp
        """,
        [salt],
    ).fetchall()
    return [Request(*row) for row in rows]


def _late_hits(con) -> list[str]:
    """Requests already applied whose people had rows stopped at load since: their landing files need cleaning."""
    return [
        r[0]
        for r in con.execute(
            "select distinct h.request_fp from raw.erasure_hits h join raw.erasure_log l "
            "on l.request_fp = h.request_fp and l.scope = 'all' and l.status = ? where not h.processed order by 1",
            [APPLIED],
        ).fetchall()
    ]


def _hit_files(con) -> list[tuple[str, str]]:
    return con.execute(
        "select distinct request_fp, _source_file from raw.erasure_hits where not processed "
        "and _source_file is not null order by 1, 2"
    ).fetchall()


def _request_files(con, salt: str, requests: list[Request]) -> None:
    """The landing files of the requests themselves: they hold the candidate id in the clear."""
    with_keys = {r.key: r for r in requests if r.key}
    if not with_keys:
        return
    for key, file in con.execute(
        "select distinct candidate_id, _source_file from raw.erasure_requests where candidate_id in (select unnest(?))",
        [sorted(with_keys)],
    ).fetchall():
        if file:
            with_keys[key].lineage.add(file)


def _rejected_files(con) -> list[str]:
    """Files rejected whole (never split into rows): they may hold anyone, so they are searched too."""
    rows = con.execute(
        "select distinct _source_file from raw.quarantine where _row_number = 0 and _source_file is not null order by 1"
    ).fetchall()
    return [r[0] for r in rows]


# ---------------------------------------------------------------------------------------------------------------
# Who the person is: their keys and record ids, linked across tables
# ---------------------------------------------------------------------------------------------------------------


class Subject:
    """request_fp x kind -> values (pseudonyms, e-mail match keys, record ids) of the people being erased, in the
    temp table _erasure_subject for the cascade's joins; tombstones hold the same values as fingerprints."""

    KINDS = ("person", "email", *RECORD_COLUMNS)

    def __init__(self, con: duckdb.DuckDBPyConnection, salt: str):
        self.con, self.salt = con, salt
        con.execute("create or replace temp table _erasure_subject (request_fp varchar, kind varchar, value varchar)")
        self._grown = False
        self._tables: list = []

    def start(self, requests: list[Request]) -> None:
        self.add([(r.request_fp, "person", r.key) for r in requests])
        tables = [(s, t, identifier_columns(self.con, s, t)) for s, t in base_tables(self.con)]
        self._tables = [(s, t, cols) for s, t, cols in tables if cols and t != "erasure_requests"]
        self.relink()
        self._grown = False

    def relink(self) -> None:
        self.link(self._tables)

    def link(self, tables) -> None:
        """Follow every table that pairs two of a person's keys (candidate and employee id, key and e-mail key), to
        a fixed point, then take the ids of their records from every table that pairs a person with them."""
        linking_kinds = ("person", "email")
        while True:
            before = self._count()
            for schema, table, cols in tables:
                linking = [(c, k) for c, k in cols if k in linking_kinds]
                for a, kind_a in linking:
                    for b, kind_b in linking:
                        if a != b:
                            self._insert_linked(schema, table, a, kind_a, b, kind_b)
            if self._count() == before:
                break
        for schema, table, cols in tables:
            persons = [c for c, k in cols if k == "person"]
            for column, kind in cols:
                if kind in RECORD_COLUMNS:
                    for person in persons:
                        self._insert_linked(schema, table, person, "person", column, kind)

    def _insert_linked(self, schema, table, from_col, from_kind, to_col, to_kind) -> None:
        self.con.execute(
            f"""
            insert into _erasure_subject
            select distinct s.request_fp, '{to_kind}', t."{to_col}"
            from "{schema}"."{table}" t join _erasure_subject s on s.kind = '{from_kind}' and t."{from_col}" = s.value
            where t."{to_col}" is not null and not exists (
                select 1 from _erasure_subject x
                where x.request_fp = s.request_fp and x.kind = '{to_kind}' and x.value = t."{to_col}"
            )
            """
        )

    def add(self, rows: list[tuple[str, str, str]]) -> None:
        """(request_fp, kind, value) learnt elsewhere (landing files); new ones mark the subject as grown."""
        have = self.values()
        new = [list(r) for r in rows if r[2] and r[2] not in have.get(r[0], {}).get(r[1], set())]
        if new:
            _insert_many(self.con, "insert into _erasure_subject values (?, ?, ?)", new)
            self._grown = True

    def grew(self) -> bool:
        grown, self._grown = self._grown, False
        return grown

    def _count(self) -> int:
        return self.con.execute("select count(*) from _erasure_subject").fetchall()[0][0]

    def values(self) -> dict[str, dict[str, set[str]]]:
        out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for request_fp, kind, value in self.con.execute("select distinct * from _erasure_subject").fetchall():
            out[request_fp][kind].add(value)
        return out

    def fingerprints(self) -> dict[tuple[str, str], str]:
        """(kind, fingerprint) -> request_fp, of the subject and of every tombstone: what a landing row is tested
        against (a request already applied is known by its tombstones only)."""
        out = {
            (kind, fp): request_fp
            for fp, kind, request_fp in self.con.execute(
                "select fingerprint, kind, request_fp from raw.erasure_tombstones"
            ).fetchall()
        }
        for request_fp, kinds in self.values().items():
            for kind, values in kinds.items():
                for v in values:
                    out[(kind, fingerprint(self.salt, v))] = request_fp
        return out


def base_tables(con) -> list[tuple[str, str]]:
    """Every base table of the database but the erasure ledger itself."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables where table_catalog = current_database() "
        "and table_type = 'BASE TABLE' order by 1, 2"
    ).fetchall()
    return [(s, t) for s, t in rows if not (s == "raw" and t in LEDGER_TABLES)]


def _columns(con, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = current_database() "
        "and table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    return dict(rows)


def column_kind(name: str) -> str | None:
    """What an identifier column names, by its name: person, email, document, reference or a record kind."""
    name = name.strip().lower()
    if PERSON_COLUMN.match(name):
        return "person"
    if EMAIL_KEY_COLUMN.match(name):
        return "email"
    if DOCUMENT_COLUMN.match(name):
        return "document"
    if REFERENCE_COLUMN.match(name):
        return "reference"
    for kind, pattern in RECORD_COLUMNS.items():
        if pattern.match(name):
            return kind
    return None


def identifier_columns(con, schema: str, table: str) -> list[tuple[str, str]]:
    """(column, kind) of every text column of a table that names a person or one of their records."""
    out = []
    for column, data_type in _columns(con, schema, table).items():
        kind = column_kind(column) if data_type.upper() in VARCHAR else None
        if kind:
            out.append((column, kind))
    return out


def is_recording_table(con, schema: str, table: str) -> bool:
    columns = {c.lower() for c in _columns(con, schema, table)}
    return "interview_id" in columns and (RECORDING_TABLE.search(table) is not None or "segment_no" in columns)


# ---------------------------------------------------------------------------------------------------------------
# The warehouse
# ---------------------------------------------------------------------------------------------------------------


def _kind_match(column: str, kind: str) -> str:
    kinds = "('interview', 'resume')" if kind == "document" else f"('{kind}')"
    return f'(s.kind in {kinds} and t."{column}" = s.value)'


def _cascade(con, subject: Subject, by_fp: dict[str, Request]) -> None:
    """Delete every row of every base table that carries one of the subjects' identifiers (request rows aside: they
    go when the request closes) and drop references to them from other people's rows. Counts go to each request,
    the source files of raw rows to its lineage."""
    for schema, table in base_tables(con):
        if schema == "raw" and table == "erasure_requests":
            continue
        cols = identifier_columns(con, schema, table)
        matching = [(c, k) for c, k in cols if k != "reference"]
        label = table if schema == "raw" else f"{schema}.{table}"
        has_file = schema == "raw" and "_source_file" in _columns(con, schema, table)
        if matching:
            file_col = ", t._source_file" if has_file else ""
            parts = [
                f'select s.request_fp, t.rowid as rid{file_col} from "{schema}"."{table}" t '
                f"join _erasure_subject s on {_kind_match(c, k)}"
                for c, k in matching
            ]
            con.execute("create or replace temp table _erasure_rows as " + " union all ".join(parts))
            for request_fp, n in con.execute(
                "select request_fp, count(distinct rid) from _erasure_rows group by 1"
            ).fetchall():
                by_fp[request_fp].count(label, n)
            if has_file:
                for request_fp, file in con.execute(
                    "select distinct request_fp, _source_file from _erasure_rows where _source_file is not null"
                ).fetchall():
                    by_fp[request_fp].lineage.add(file)
                counts = con.execute(
                    "select _source_file, count(distinct rid) from _erasure_rows group by 1"
                ).fetchall()
                _insert_many(con, "insert into raw.erased_rows values (?, ?, ?)", [[table, f, n] for f, n in counts])
            con.execute(f'delete from "{schema}"."{table}" where rowid in (select rid from _erasure_rows)')
            con.execute("drop table _erasure_rows")
        for column in (c for c, k in cols if k == "reference"):
            for request_fp, n in con.execute(
                f'select s.request_fp, count(*) from "{schema}"."{table}" t join _erasure_subject s '
                f"on s.kind = 'person' and t.\"{column}\" = s.value group by 1"
            ).fetchall():
                by_fp[request_fp].count(f"{label}.{column}_unlinked", n)
            con.execute(
                f'update "{schema}"."{table}" set "{column}" = null where "{column}" in '
                "(select value from _erasure_subject where kind = 'person')"
            )


def _erase_recordings(con, salt: str, request: Request) -> None:
    """Scope recordings: the person's transcripts and every table made from them, by their interview ids."""
    interviews = []
    if _columns(con, "raw", "interviews"):
        rows = con.execute("select interview_id from raw.interviews where candidate_id = ?", [request.key])
        interviews = sorted({r[0] for r in rows.fetchall()})
    request.count("interviews_found", len(interviews))
    if not interviews:
        return
    for schema, table in base_tables(con):
        if not is_recording_table(con, schema, table):
            continue
        label = table if schema == "raw" else f"{schema}.{table}"
        where = "interview_id in (select unnest(?))"
        if schema == "raw" and "_source_file" in _columns(con, schema, table):
            counts = con.execute(
                f'select _source_file, count(*) from "{schema}"."{table}" where {where} group by 1', [interviews]
            ).fetchall()
            _insert_many(con, "insert into raw.erased_rows values (?, ?, ?)", [[table, f, n] for f, n in counts])
        request.count(
            label, con.execute(f'delete from "{schema}"."{table}" where {where}', [interviews]).fetchall()[0][0]
        )
    _insert_many(
        con,
        "insert into raw.erasure_tombstones values (?, 'recording', ?)",
        [[fingerprint(salt, i), request.request_fp] for i in interviews],
    )


def _collect_key_needles(subject: Subject, requests: list[Request]) -> None:
    """Pseudonyms and record ids, as the free-text search and the verification look for them."""
    values = subject.values()
    for r in requests:
        kinds = values.get(r.request_fp, {})
        r.needles["pseudonym"] |= kinds.get("person", set()) | kinds.get("email", set())
        for kind in RECORD_COLUMNS:
            r.needles[f"{kind}_id"] |= kinds.get(kind, set())


def _collect_pii_needles(pii_con, subject: Subject, requests: list[Request]) -> None:
    """Names, e-mails and phones from the restricted store, read before its rows go."""
    if pii_con is None or not _columns(pii_con, "main", "pii"):
        return
    values = subject.values()
    for r in requests:
        persons = sorted(values.get(r.request_fp, {}).get("person", set()))
        rows = pii_con.execute(
            "select full_name, email, phone from pii where person_key in (select unnest(?)) "
            "or candidate_key in (select unnest(?))",
            [persons, persons],
        ).fetchall()
        for full_name, email, phone in rows:
            add_pii_needles(pii_con, r, persons, full_name=full_name, email=email, phone=phone)


# A name this short identifies no one on its own.
MIN_NAME_CHARS = 5


def add_pii_needles(pii_con, request: Request, persons: list[str], **values: str | None) -> None:
    """A name, e-mail or phone of the person. A name anyone else in the restricted store also has (compared
    normalised) is not a needle: searching free text for it would take another person's rows with it."""
    from ingestion.privacy import normalise_for_match

    for column, value in values.items():
        value = (value or "").strip()
        if not value:
            continue
        if column != "full_name":
            request.needles[column].add(value)
            continue
        if value in request.needles["name"]:
            continue
        norm = normalise_for_match("full_name", value)
        others = 0
        if pii_con is not None and _columns(pii_con, "main", "pii"):
            rows = pii_con.execute(
                "select full_name, person_key, candidate_key from pii where lower(trim(full_name)) = ?",
                [value.lower()],
            ).fetchall()
            others = len(
                {
                    p or c
                    for name, p, c in rows
                    if normalise_for_match("full_name", name) == norm and p not in persons and c not in persons
                }
            )
        if others or len(value) < MIN_NAME_CHARS:
            request.shared_names += 1
        else:
            request.needles["name"].add(value)


def needle_pattern(values: set[str]) -> str | None:
    """An RE2 (and Python) pattern matching any of the values as a whole token, case-insensitively."""
    values = {v for v in values if v}
    if not values:
        return None
    alternatives = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    return f"(?i)(?:^|[^0-9A-Za-z])(?:{alternatives})(?:[^0-9A-Za-z]|$)"


def _erase_free_text(con, requests: list[Request]) -> list[str]:
    """Rows whose free text names the person: raw.quarantine (payload and message hold the original row) and every
    table with no identifier column outside the dbt schemas (ops ledgers, model registry, load log). Returns the
    landing files of the quarantine rows removed."""
    with_needles = [r for r in requests if r.all_needles]
    files: set[str] = set()
    if not with_needles:
        return []
    for schema, table in base_tables(con):
        if schema in DBT_SCHEMAS or (identifier_columns(con, schema, table) and table != "quarantine"):
            continue
        cols = _columns(con, schema, table)
        text_cols = [c for c, t in cols.items() if t.upper() in VARCHAR and not c.startswith("_")]
        if not text_cols:
            continue
        label = table if schema == "raw" else f"{schema}.{table}"
        quarantine = schema == "raw" and table == "quarantine"
        for start in range(0, len(with_needles), NEEDLE_BATCH):
            batch = with_needles[start : start + NEEDLE_BATCH]
            pattern = needle_pattern(set().union(*(r.all_needles for r in batch)))
            text = " || chr(10) || ".join(f"coalesce(\"{c}\", '')" for c in text_cols)
            extra = ", source, _source_file" if quarantine else ""
            rows = con.execute(
                f'select rowid, {text} as text{extra} from "{schema}"."{table}" where regexp_matches({text}, ?)',
                [pattern],
            ).fetchall()
            if not rows:
                continue
            patterns = [(r, re.compile(needle_pattern(r.all_needles))) for r in batch]
            for row in rows:
                owner = next((r for r, p in patterns if p.search(row[1])), batch[0])
                owner.count(label, 1)
                if quarantine and row[3]:
                    owner.lineage.add(row[3])
                    files.add(row[3])
                    # The landing file is rewritten without the row: its log describes the file as it now is.
                    con.execute(
                        "update raw.load_log set rows_read = rows_read - 1, rows_quarantined = rows_quarantined - 1 "
                        "where source = ? and _source_file = ?",
                        [row[2], row[3]],
                    )
            con.execute(
                f'delete from "{schema}"."{table}" where rowid in (select unnest(?))', [[row[0] for row in rows]]
            )
    return sorted(files)


def _erase_pii(pii_con, subject: Subject, requests: list[Request]) -> None:
    """The restricted store: PII rows of the person's keys, and unsplittable payloads that name them."""
    values = subject.values()
    for r in requests:
        persons = sorted(values.get(r.request_fp, {}).get("person", set()))
        if persons and _columns(pii_con, "main", "pii"):
            n = pii_con.execute(
                "delete from pii where person_key in (select unnest(?)) or candidate_key in (select unnest(?))",
                [persons, persons],
            ).fetchall()[0][0]
            r.count("pii", n)
        pattern = needle_pattern(r.all_needles)
        if pattern and _columns(pii_con, "main", "quarantine_payloads"):
            n = pii_con.execute(
                "delete from quarantine_payloads where regexp_matches(coalesce(payload, ''), ?)", [pattern]
            ).fetchall()[0][0]
            r.count("restricted.quarantine_payloads", n)


def _close(con, salt, subject: Subject, due, late, now: dt.datetime, settings) -> list[dict]:
    """Decide each request, write its tombstones, ledger row and evidence; records of the due ones."""
    values = subject.values()
    have = {(kind, fp) for fp, kind in con.execute("select fingerprint, kind from raw.erasure_tombstones").fetchall()}
    records = []
    late_ids = {id(r) for r in late}
    for r in [*due, *late]:
        if r.scope == "all":
            found = r.matched
            rows = [
                (fingerprint(salt, v), kind, r.request_fp)
                for kind, vs in values.get(r.request_fp, {}).items()
                for v in vs
            ]
            new = [list(t) for t in rows if (t[1], t[0]) not in have]
            if found and new:
                _insert_many(con, "insert into raw.erasure_tombstones values (?, ?, ?)", new)
        else:
            found = r.found
        if id(r) in late_ids:
            _record_late(con, r, now, settings)
            continue
        if found or (r.applied_at is not None and r.scope == "all"):
            status, applied_at = APPLIED, now
        elif now - r.first_seen_at > dt.timedelta(days=RETRY_DAYS):
            status, applied_at = EXPIRED, None
        else:
            status, applied_at = UNMATCHED, None
        if status == APPLIED and r.scope == "all":
            _delete_request_rows(con, salt, [r.request_fp])
            if settings is not None:
                from ingestion.erasure_verify import write_evidence

                write_evidence(settings, r.request_fp, r.needles, now)
        deleted, files = json.dumps(r.deleted, sort_keys=True), json.dumps(r.files, sort_keys=True)
        con.execute(
            "update raw.erasure_log set status = ?, applied_at = coalesce(?, applied_at), last_tried_at = ?, "
            "attempts = attempts + 1, rows_deleted = ?, files = ? where request_fp = ? and scope = ?",
            [status, applied_at, now, deleted, files, r.request_fp, r.scope],
        )
        records.append(
            {
                "candidate_key": r.key,
                "request_fp": r.request_fp,
                "scope": r.scope,
                "status": status,
                "requested_at": r.requested_at,
                "applied_at": applied_at,
                "rows_deleted": deleted,
                "files": files,
                "shared_names": r.shared_names,
            }
        )
    return records


def _record_late(con, r: Request, now: dt.datetime, settings) -> None:
    """An applied request that cleaned more later: its counts and files are added to its ledger row."""
    row = con.execute(
        "select rows_deleted, files from raw.erasure_log where request_fp = ? and scope = 'all'", [r.request_fp]
    ).fetchall()[0]
    deleted = json.loads(row[0] or "{}")
    for label, n in r.deleted.items():
        deleted[label] = deleted.get(label, 0) + n
    files = {**json.loads(row[1] or "{}"), **r.files}
    con.execute(
        "update raw.erasure_log set rows_deleted = ?, files = ?, applied_at = ?, last_tried_at = ? "
        "where request_fp = ? and scope = 'all'",
        [json.dumps(deleted, sort_keys=True), json.dumps(files, sort_keys=True), now, now, r.request_fp],
    )
    if settings is not None and r.all_needles:
        from ingestion.erasure_verify import write_evidence

        write_evidence(settings, r.request_fp, r.needles, now)


# ---------------------------------------------------------------------------------------------------------------
# Snapshots, status
# ---------------------------------------------------------------------------------------------------------------


def snapshots_to_clear(con: duckdb.DuckDBPyConnection) -> dt.datetime | None:
    """The time of the latest erasure whose pre-erasure snapshots are not all deleted yet (None: nothing to clear)."""
    if not _columns(con, "raw", "erasure_log"):
        return None
    return con.execute(
        "select max(applied_at) from raw.erasure_log where status = 'applied' and scope in ('all', 'recordings') "
        "and (snapshots_cleared_at is null or snapshots_cleared_at < applied_at)"
    ).fetchall()[0][0]


def record_snapshots_cleared(con: duckdb.DuckDBPyConnection, deleted: list[str], now: dt.datetime) -> None:
    con.execute(
        "update raw.erasure_log set snapshots_cleared_at = ?, "
        "snapshots_deleted = coalesce(snapshots_deleted, '') || ? where status = 'applied' "
        "and scope in ('all', 'recordings') and (snapshots_cleared_at is null or snapshots_cleared_at < applied_at)",
        [now, ", ".join(deleted)],
    )


STATUS_COLUMNS = (
    "request",
    "scope",
    "status",
    "requested_at",
    "first_seen_at",
    "attempts",
    "applied_at",
    "retry_until",
    "verified_at",
)


def status_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """One row per request, unresolved first (columns STATUS_COLUMNS; request = a fingerprint prefix)."""
    if not _columns(con, "raw", "erasure_log"):
        return []
    return con.execute(
        f"""
        select left(request_fp, 12), scope, status, requested_at, first_seen_at, attempts, applied_at,
               first_seen_at + interval {RETRY_DAYS} day, verified_at
        from raw.erasure_log
        order by status = 'applied', requested_at
        """
    ).fetchall()
