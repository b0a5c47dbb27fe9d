"""Erasure requests: cascade a candidate's deletion through raw and the restricted store, and keep an audit record.

Scope `all` deletes every row about the candidate (profile, applications, resumes, interviews, their scores and
transcripts, PII) and unlinks any employee record from them; `recordings` deletes transcripts only; `analytics`
deletes nothing but keeps them out of every mart (dbt excludes them). Marts and model outputs are rebuilt from raw
on every run, so they follow; published snapshots follow as older ones are pruned.

A reloaded landing day would bring erased rows back: every load re-applies the erasures to what it loaded, and the
rows it removes are counted per file in raw.erased_rows, so rows read = loaded + quarantined still reconciles
(with loaded = in raw + erased).
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb

ERASURE_LOG_DDL = """
create table if not exists raw.erasure_log (
    candidate_key varchar, scope varchar, requested_at timestamp, applied_at timestamp, rows_deleted varchar
)"""
ERASED_ROWS_DDL = "create table if not exists raw.erased_rows (source varchar, _source_file varchar, n bigint)"
# Interviews of erased candidates: their scores and transcripts are found through these once the interview rows
# themselves are gone.
ERASED_INTERVIEWS_DDL = "create table if not exists raw.erased_interviews (interview_id varchar, candidate_key varchar)"

# How each raw table's rows belong to a candidate: directly, or through their interviews.
_BY_CANDIDATE = ("candidates", "application_events", "resumes", "interviews")
_BY_INTERVIEW = ("interview_scores", "transcript_segments")
SCOPE_TABLES = {"all": _BY_CANDIDATE + _BY_INTERVIEW, "recordings": ("transcript_segments",), "analytics": ()}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(ERASURE_LOG_DDL)
    con.execute(ERASED_ROWS_DDL)
    con.execute(ERASED_INTERVIEWS_DDL)


def _erased_filter(source: str, scopes: str) -> str:
    """SQL predicate on raw.<source> for rows of erased candidates (scopes whose tables include source)."""
    keys = f"select candidate_id from raw.erasure_requests where coalesce(scope, 'all') in ({scopes})"
    if source in _BY_CANDIDATE:
        return f"candidate_id in ({keys})"
    return (
        f"(interview_id in (select interview_id from raw.interviews where candidate_id in ({keys}))"
        " or interview_id in (select interview_id from raw.erased_interviews))"
        if "'all'" in scopes
        else f"interview_id in (select interview_id from raw.interviews where candidate_id in ({keys}))"
    )


def _scopes_for(source: str) -> str:
    return ", ".join(f"'{s}'" for s, tables in SCOPE_TABLES.items() if source in tables)


def remove_erased(con: duckdb.DuckDBPyConnection, source: str, files: list[str] | None = None) -> int:
    """Delete rows of erased candidates from raw.<source> (only in `files` if given), counting them per file."""
    ensure_tables(con)
    scopes = _scopes_for(source)
    if not scopes or not _has_table(con, "erasure_requests"):
        return 0
    where = _erased_filter(source, scopes)
    if files is not None:
        where += " and _source_file in (select unnest(?))"
    params = [files] if files is not None else []
    counts = con.execute(f"select _source_file, count(*) from raw.{source} where {where} group by 1", params).fetchall()
    if not counts:
        return 0
    if source == "interviews":
        con.execute(
            f"insert into raw.erased_interviews select interview_id, candidate_id from raw.interviews where {where}",
            params,
        )
    con.execute(f"delete from raw.{source} where {where}", params)
    con.executemany("insert into raw.erased_rows values (?, ?, ?)", [[source, file, n] for file, n in counts])
    return sum(n for _, n in counts)


def forget_file_counts(con: duckdb.DuckDBPyConnection, source: str, files: list[str]) -> None:
    """A reloaded file starts its erased count again (its rows were deleted and inserted anew)."""
    ensure_tables(con)
    con.execute("delete from raw.erased_rows where source = ? and _source_file in (select unnest(?))", [source, files])


def apply_erasures(con: duckdb.DuckDBPyConnection, pii_con: duckdb.DuckDBPyConnection | None) -> list[dict]:
    """Apply every erasure request not yet applied; one audit row each, with what was deleted."""
    ensure_tables(con)
    if not _has_table(con, "erasure_requests"):
        return []
    pending = con.execute(
        """
        select candidate_id, coalesce(scope, 'all'), max(requested_at)
        from raw.erasure_requests r
        where not exists (
            select 1 from raw.erasure_log l
            where l.candidate_key = r.candidate_id and l.scope = coalesce(r.scope, 'all')
        )
        group by 1, 2
        order by 3, 1
        """
    ).fetchall()
    applied = []
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for key, scope, requested_at in pending:
        deleted: dict[str, int] = {}
        # Interview rows go last: the interview-linked tables find their rows through them.
        for source in sorted(SCOPE_TABLES.get(scope, ()), key=lambda s: s == "interviews"):
            deleted[source] = _delete_one(con, source, key)
        if scope == "all":
            deleted["employees_unlinked"] = (
                con.execute("update raw.employees set candidate_id = null where candidate_id = ?", [key]).fetchone()[0]
                if _has_table(con, "employees")
                else 0
            )
            if pii_con is not None and _has_table(pii_con, "pii", schema="main"):
                deleted["pii"] = pii_con.execute(
                    "delete from pii where candidate_key = ? or person_key = ?", [key, key]
                ).fetchone()[0]
        record = {
            "candidate_key": key,
            "scope": scope,
            "requested_at": requested_at,
            "applied_at": now,
            "rows_deleted": json.dumps(deleted, sort_keys=True),
        }
        con.execute("insert into raw.erasure_log values (?, ?, ?, ?, ?)", list(record.values()))
        applied.append(record)
    return applied


def _delete_one(con: duckdb.DuckDBPyConnection, source: str, key: str) -> int:
    if not _has_table(con, source):
        return 0
    if source in _BY_CANDIDATE:
        where, params = "candidate_id = ?", [key]
    else:
        where, params = "interview_id in (select interview_id from raw.interviews where candidate_id = ?)", [key]
    counts = con.execute(f"select _source_file, count(*) from raw.{source} where {where} group by 1", params).fetchall()
    if counts:
        if source == "interviews":
            con.execute(
                "insert into raw.erased_interviews select interview_id, candidate_id from raw.interviews where "
                + where,
                params,
            )
        con.execute(f"delete from raw.{source} where {where}", params)
        con.executemany("insert into raw.erased_rows values (?, ?, ?)", [[source, f, n] for f, n in counts])
    return sum(n for _, n in counts)


def erased_candidates(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Keys of candidates whose erasure (scope all) is requested: their PII is never stored again."""
    if not _has_table(con, "erasure_requests"):
        return set()
    rows = con.execute("select candidate_id from raw.erasure_requests where coalesce(scope, 'all') = 'all'").fetchall()
    return {r[0] for r in rows}


def _has_table(con: duckdb.DuckDBPyConnection, table: str, schema: str = "raw") -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )
