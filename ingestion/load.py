"""Load one landing day of one source into raw: delete-then-insert, every row either loaded or quarantined."""

from __future__ import annotations

import csv
import datetime as dt
import json
import multiprocessing
import os
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from ingestion import erasure, reasons
from ingestion.contracts import BOOL, CONTRACTS, DATE, FLOAT, INT, TIMESTAMP, Contract
from ingestion.documents import DocumentError, document_path, extract_text
from ingestion.readers import FileRejected, Limits, confine, iter_landed_files, read_file
from ingestion.settings import SEEDS_DIR
from ingestion.validate import Context, RowError, check_file, normalise_label

# Dependency order inside one day: a row may only reference what is already loaded.
LOAD_ORDER = (
    "requisitions",
    "candidates",
    "application_events",
    "resumes",
    "interviews",
    "interview_scores",
    "transcript_segments",
    "employees",
    "performance_reviews",
    "complaints",
    "erasure_requests",
)
_SQL_TYPES = {INT: "bigint", FLOAT: "double", BOOL: "boolean", DATE: "date", TIMESTAMP: "timestamp"}

QUARANTINE_DDL = """
create table if not exists raw.quarantine (
    source varchar, _partition_date date, _source_file varchar, _row_number bigint,
    reason_code varchar, message varchar, payload varchar, _batch_id varchar, _loaded_at timestamp
)"""
LOAD_LOG_DDL = """
create table if not exists raw.load_log (
    source varchar, _partition_date date, _source_file varchar, file_status varchar, encoding varchar,
    rows_read bigint, rows_loaded bigint, rows_quarantined bigint, extra_columns varchar,
    _batch_id varchar, _loaded_at timestamp
)"""
RESTRICTED_QUARANTINE_DDL = """
create table if not exists quarantine_payloads (
    source varchar, _partition_date date, _source_file varchar, _row_number bigint, payload varchar
)"""
PII_DDL = """
create table if not exists pii (
    source varchar, _partition_date date, person_key varchar, candidate_key varchar,
    full_name varchar, email varchar, phone varchar, _loaded_at timestamp
)"""


@dataclass
class LoadResult:
    source: str
    partition_date: dt.date
    files: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    quarantined_by_reason: dict[str, int]


def raw_columns(contract: Contract) -> list[tuple[str, str]]:
    """(name, SQL type) of the raw table: contract columns with PII replaced by match keys, then lineage."""
    cols: list[tuple[str, str]] = []
    for c in contract.columns:
        if c.pii:
            if c.match_key:
                cols.append((f"{c.name}_key", "varchar"))
            continue
        cols.append((c.name, _SQL_TYPES.get(c.type, "varchar")))
    cols += [
        ("_source_file", "varchar"),
        ("_row_number", "bigint"),
        ("_loaded_at", "timestamp"),
        ("_batch_id", "varchar"),
        ("_row_hash", "varchar"),
        ("_partition_date", "date"),
    ]
    if contract.source == "resumes":
        cols.append(("extracted_text", "varchar"))
    return cols


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for contract in CONTRACTS.values():
        cols = ", ".join(f"{n} {t}" for n, t in raw_columns(contract))
        con.execute(f"create table if not exists raw.{contract.source} ({cols})")
    con.execute(QUARANTINE_DDL)
    con.execute(LOAD_LOG_DDL)


def read_seed_column(name: str, column: str) -> frozenset[str]:
    with open(SEEDS_DIR / name, encoding="utf-8", newline="") as f:
        return frozenset(normalise_label(row[column]) for row in csv.DictReader(f) if row.get(column))


def build_context(con: duckdb.DuckDBPyConnection, contract: Contract, key: bytes, now: dt.datetime) -> Context:
    known: dict[str, set[str]] = {}
    for col in contract.columns:
        if col.references:
            src, ref_col = col.references.split(".")
            rows = con.execute(f"select distinct {ref_col} from raw.{src} where {ref_col} is not null").fetchall()
            known[col.references] = {r[0] for r in rows}
    return Context(
        now=now,
        key=key,
        competency_labels=read_seed_column("competency_labels.csv", "label"),
        rating_words=read_seed_column("rating_words.csv", "word"),
        known_keys=known,
    )


# A document's text is held to the same length as a resume's inline text.
_RESUME_TEXT_MAX = next(c.max_length for c in CONTRACTS["resumes"].columns if c.name == "text")


def _attach_documents(
    rows: list[dict], folder: Path, quarantined: list[dict], landing: Path, limits: Limits
) -> list[dict]:
    """Resumes given as a file: their text is extracted now; a document that is missing, unreadable, outside the
    landing folder or over a limit quarantines the row with its reason."""
    kept = []
    for row in rows:
        text = row.get("text")
        if text is None and row.get("file_path"):
            try:
                path = document_path(folder, row["file_path"], landing)
                text = extract_text(path, limits, _RESUME_TEXT_MAX)
            except DocumentError as err:
                quarantined.append(
                    {
                        "row_number": row["_row_number"],
                        "reason": err.reason,
                        "message": str(err),
                        "payload": json.dumps({k: str(v) for k, v in row.items() if not k.startswith("_")}),
                    }
                )
                continue
        row["extracted_text"] = text
        kept.append(row)
    return kept


def load_partition(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    source: str,
    day: dt.date,
    key: bytes,
    pii_con: duckdb.DuckDBPyConnection | None = None,
    batch_id: str | None = None,
    now: dt.datetime | None = None,
    ctx: Context | None = None,
) -> LoadResult:
    """Replace raw.<source>'s rows of one landing day with what the day's files hold now."""
    return load_days(con, landing, source, [day], key, pii_con, batch_id, now, ctx)[0]


@dataclass
class _Batch:
    columns: dict[str, list] = field(default_factory=dict)  # the good rows of every file, column by column
    n_rows: int = 0
    quarantine: list[dict] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)
    pii: list[dict] = field(default_factory=list)
    restricted_payloads: list[dict] = field(default_factory=list)


def _read_day(contract: Contract, landing: Path, day: dt.date, ctx: Context, batch: _Batch, batch_id, now) -> None:
    """Parse and check every file of one landing day, appending to the batch."""
    source = contract.source
    folder = landing / source / day.isoformat()
    limits = Limits.from_env()
    for path in iter_landed_files(folder):
        rel = str(path.relative_to(landing))
        try:
            # Read where the path really leads, and only if that is inside landing/ (a symlink may lead anywhere).
            parsed = read_file(confine(path, landing), limits)
            outcome = check_file(contract, parsed, path.name, ctx)
        except FileRejected as rej:
            batch.quarantine.append(_q(source, day, rel, 0, rej.reason, rej.message, "", batch_id, now))
            # A rejected file counts as one unit read and one quarantined, so the reconciliation still adds up.
            batch.log.append(_log(source, day, rel, "rejected", None, 1, 0, 1, [], batch_id, now))
            continue
        columns = outcome.columns
        if source == "resumes":
            rows = _attach_documents(outcome.rows, folder, outcome.quarantined, landing, limits)
            columns = {name: [r[name] for r in rows] for name in columns}
            columns["extracted_text"] = [r.get("extracted_text") for r in rows]
        n = len(columns["_row_number"])
        columns.update(
            _source_file=[rel] * n, _loaded_at=[now] * n, _batch_id=[batch_id] * n, _partition_date=[day] * n
        )
        if contract.pii_columns:
            batch.pii += _pii_rows(contract, parsed, columns, day, now)
        for q in outcome.quarantined:
            if "restricted_payload" in q:
                batch.restricted_payloads.append(
                    {
                        "source": source,
                        "_partition_date": day,
                        "_source_file": rel,
                        "_row_number": q["row_number"],
                        "payload": q["restricted_payload"],
                    }
                )
            batch.quarantine.append(
                _q(source, day, rel, q["row_number"], q["reason"], q["message"], q["payload"], batch_id, now)
            )
        _append_columns(batch, columns, n)
        batch.log.append(
            _log(
                source,
                day,
                rel,
                "loaded",
                parsed.encoding,
                len(parsed.records),
                n,
                len(outcome.quarantined),
                outcome.extra_columns,
                batch_id,
                now,
            )
        )


def _append_columns(batch: _Batch, columns: dict[str, list], n: int) -> None:
    for name, values in columns.items():
        batch.columns.setdefault(name, [None] * batch.n_rows).extend(values)
    batch.n_rows += n
    for values in batch.columns.values():
        if len(values) < batch.n_rows:  # a column these rows do not have
            values.extend([None] * (batch.n_rows - len(values)))


def _merge(batch: _Batch, part: _Batch) -> None:
    _append_columns(batch, part.columns, part.n_rows)
    batch.quarantine += part.quarantine
    batch.log += part.log
    batch.pii += part.pii
    batch.restricted_payloads += part.restricted_payloads


# Reading and checking a day's files needs no database, so with many days to load, worker processes read days side
# by side while this process writes. Workers are spawned, not forked: this process holds DuckDB's and Dagster's
# threads, and a fork copies their locks in whatever state they are.
WORKERS_ENV = "TALENTLOOP_INGEST_WORKERS"
_WORKER: dict = {}


def reader_workers() -> int:
    """Worker processes for a backfill: TALENTLOOP_INGEST_WORKERS, else one per core (at most four)."""
    configured = os.environ.get(WORKERS_ENV)
    return max(1, int(configured)) if configured else min(os.cpu_count() or 1, 4)


def _init_reader(contract: Contract, landing: Path, ctx: Context) -> None:
    _WORKER.update(contract=contract, landing=landing, ctx=ctx)


def _read_day_in_worker(args: tuple) -> _Batch:
    day, batch_id, now = args
    batch = _Batch()
    _read_day(_WORKER["contract"], _WORKER["landing"], day, _WORKER["ctx"], batch, batch_id, now)
    return batch


QUARANTINE_COLUMNS = [
    "source",
    "_partition_date",
    "_source_file",
    "_row_number",
    "reason_code",
    "message",
    "payload",
    "_batch_id",
    "_loaded_at",
]
LOG_COLUMNS = [
    "source",
    "_partition_date",
    "_source_file",
    "file_status",
    "encoding",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "extra_columns",
    "_batch_id",
    "_loaded_at",
]


def load_days(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    source: str,
    days: list[dt.date],
    key: bytes,
    pii_con: duckdb.DuckDBPyConnection | None = None,
    batch_id: str | None = None,
    now: dt.datetime | None = None,
    ctx: Context | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[LoadResult]:
    """Replace raw.<source>'s rows of these landing days, in one transaction: all of them or none.

    pool: worker processes made by reader_pool for this source and context, to read the days side by side.
    """
    contract = CONTRACTS[source]
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    batch_id = batch_id or uuid.uuid4().hex
    ensure_raw_schema(con)
    ctx = ctx or build_context(con, contract, key, now)
    days = sorted(set(days))
    batch = _Batch()
    if pool is None or len(days) < 2:
        for day in days:
            _read_day(contract, landing, day, ctx, batch, batch_id, now)
    else:
        for part in pool.map(_read_day_in_worker, [(day, batch_id, now) for day in days]):
            _merge(batch, part)
        for col in contract.key[:1]:  # what the workers' copies of the context learnt
            ctx.known_keys.setdefault(f"{source}.{col}", set()).update(batch.columns.get(col, []))
    columns = [n for n, _ in raw_columns(contract)]
    frame = pa.table({c: _arrow_column(batch.columns.get(c), batch.n_rows) for c in columns})
    qframe = pd.DataFrame(batch.quarantine, columns=QUARANTINE_COLUMNS)
    lframe = pd.DataFrame(batch.log, columns=LOG_COLUMNS)
    day_list = pd.DataFrame({"d": pd.to_datetime(pd.Series(days, dtype="object"))})
    con.execute("begin transaction")
    try:
        con.register("_days", day_list)
        con.execute("create or replace temp table _batch_days as select cast(d as date) as d from _days")
        con.unregister("_days")
        con.execute(f"delete from raw.{source} where _partition_date in (select d from _batch_days)")
        con.execute(
            "delete from raw.quarantine where source = ? and _partition_date in (select d from _batch_days)", [source]
        )
        con.execute(
            "delete from raw.load_log where source = ? and _partition_date in (select d from _batch_days)", [source]
        )
        con.register("batch_rows", frame)
        cast_cols = ", ".join(f"cast({n} as {t}) as {n}" for n, t in raw_columns(contract))
        con.execute(f"create or replace temp table _batch as select {cast_cols} from batch_rows")
        con.unregister("batch_rows")
        moved = _quarantine_duplicates(con, source, batch_id, now)
        con.execute(f"insert into raw.{source} select * from _batch")
        files = sorted(lframe["_source_file"].unique().tolist())
        erasure.forget_file_counts(con, source, files)
        erasure.remove_erased(con, source, files)
        con.register("q_rows", qframe)
        con.execute("insert into raw.quarantine select * from q_rows")
        con.unregister("q_rows")
        for (file, _day), n in moved.items():
            lframe.loc[lframe["_source_file"] == file, "rows_loaded"] -= n
            lframe.loc[lframe["_source_file"] == file, "rows_quarantined"] += n
        con.register("l_rows", lframe)
        con.execute("insert into raw.load_log select * from l_rows")
        con.unregister("l_rows")
        con.execute("drop table _batch")
        con.execute("drop table _batch_days")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    if pii_con is not None and contract.pii_columns:
        erased = erasure.erased_candidates(con)
        kept = [r for r in batch.pii if r["candidate_key"] not in erased and r["person_key"] not in erased]
        store_pii(pii_con, source, days, kept, batch.restricted_payloads)
    return _results(source, days, lframe, qframe, moved)


def _results(source, days, lframe: pd.DataFrame, qframe: pd.DataFrame, moved: dict) -> list[LoadResult]:
    files = lframe.groupby("_partition_date").agg(
        files=("_source_file", "size"), read=("rows_read", "sum"), loaded=("rows_loaded", "sum")
    )
    reasons_by_day = qframe.groupby(["_partition_date", "reason_code"]).size()
    out = []
    for day in days:
        by_reason = {r: int(n) for (d, r), n in reasons_by_day.items() if d == day}
        dups = sum(n for (_, d), n in moved.items() if d == day)
        if dups:
            by_reason[reasons.DUPLICATE_ROW] = by_reason.get(reasons.DUPLICATE_ROW, 0) + dups
        f = files.loc[day] if day in files.index else None
        out.append(
            LoadResult(
                source,
                day,
                0 if f is None else int(f["files"]),
                0 if f is None else int(f["read"]),
                0 if f is None else int(f["loaded"]),
                sum(by_reason.values()),
                by_reason,
            )
        )
    return out


def _quarantine_duplicates(con, source: str, batch_id, now) -> dict[tuple[str, dt.date], int]:
    """A row identical to one already loaded (another day, another file of this batch) adds nothing:
    the first copy loads, later copies are quarantined, so nothing is counted twice."""
    con.execute(
        f"""
        create or replace temp table _dups as
        select b._source_file, b._row_number, b._partition_date from (
            select _source_file, _row_number, _partition_date, _row_hash,
                   row_number() over (partition by _row_hash order by _partition_date, _source_file, _row_number) as k
            from _batch
        ) b
        where b.k > 1
           or exists (select 1 from raw.{source} r where r._row_hash = b._row_hash)
        """
    )
    dup = con.execute("select _source_file, _partition_date, count(*) from _dups group by 1, 2").fetchall()
    if dup:
        con.execute(
            """
            insert into raw.quarantine
            select ?, b._partition_date, b._source_file, b._row_number, ?,
                   'identical to a row already loaded (an earlier day or file)', to_json(b)::varchar, ?, ?
            from _batch b semi join _dups d using (_source_file, _row_number)
            """,
            [source, reasons.DUPLICATE_ROW, batch_id, now],
        )
        con.execute(
            "delete from _batch b where exists (select 1 from _dups d "
            "where d._source_file = b._source_file and d._row_number = b._row_number)"
        )
    con.execute("drop table _dups")
    return {(f, d): n for f, d, n in dup}


def _arrow_column(values: list | None, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n)
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed Python types: text, cast by the insert's SQL
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _pii_rows(contract: Contract, parsed, columns: dict[str, list], day, now) -> list[dict]:
    by_number = {r.row_number: r.values for r in parsed.records if r.values is not None}
    person_col = contract.key[0]
    candidates = columns.get("candidate_id") or [None] * len(columns["_row_number"])
    out = []
    for number, person, candidate in zip(columns["_row_number"], columns[person_col], candidates, strict=True):
        values = {k.strip().lower(): v for k, v in (by_number.get(number) or {}).items()}
        out.append(
            {
                "source": contract.source,
                "_partition_date": day,
                "person_key": person,
                "candidate_key": candidate,
                "full_name": values.get("full_name"),
                "email": values.get("email"),
                "phone": values.get("phone"),
                "_loaded_at": now,
            }
        )
    return out


def store_pii(pii_con: duckdb.DuckDBPyConnection, source: str, days, rows: list[dict], payloads: list[dict]) -> None:
    """Names, e-mails, phones and unsplittable rows of personal sources: only here, in the restricted store."""
    pii_con.execute(PII_DDL)
    pii_con.execute(RESTRICTED_QUARANTINE_DDL)
    frame = pd.DataFrame(
        rows,
        columns=[
            "source",
            "_partition_date",
            "person_key",
            "candidate_key",
            "full_name",
            "email",
            "phone",
            "_loaded_at",
        ],
    )
    pii_con.execute("begin transaction")
    for day in days:
        pii_con.execute("delete from pii where source = ? and _partition_date = ?", [source, day])
    pii_con.register("pii_rows", frame)
    pii_con.execute("insert into pii select * from pii_rows")
    pii_con.unregister("pii_rows")
    for day in days:
        pii_con.execute("delete from quarantine_payloads where source = ? and _partition_date = ?", [source, day])
    if payloads:
        pii_con.executemany(
            "insert into quarantine_payloads values (?, ?, ?, ?, ?)",
            [[p["source"], p["_partition_date"], p["_source_file"], p["_row_number"], p["payload"]] for p in payloads],
        )
    pii_con.execute("commit")


def _q(source, day, file, row_number, reason, message, payload, batch_id, now) -> dict:
    return {
        "source": source,
        "_partition_date": day,
        "_source_file": file,
        "_row_number": row_number,
        "reason_code": reason,
        "message": message,
        "payload": payload,
        "_batch_id": batch_id,
        "_loaded_at": now,
    }


def _log(source, day, file, status, encoding, read, loaded, quarantined, extra, batch_id, now) -> dict:
    return {
        "source": source,
        "_partition_date": day,
        "_source_file": file,
        "file_status": status,
        "encoding": encoding,
        "rows_read": read,
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "extra_columns": ",".join(extra),
        "_batch_id": batch_id,
        "_loaded_at": now,
    }


def ingest_days(
    con: duckdb.DuckDBPyConnection,
    landing: Path,
    source: str,
    days: list[dt.date],
    key: bytes,
    pii_con: duckdb.DuckDBPyConnection | None = None,
    batch_id: str | None = None,
    days_per_transaction: int = 31,
    workers: int = 1,
) -> list[LoadResult]:
    """Load a run of days for one source in date order, a month per transaction to bound memory.

    Days with no folder and nothing loaded before are skipped: a year's backfill costs what was landed.
    workers > 1 reads days in that many spawned processes (reader_workers() gives the configured number). Only a
    caller that owns its process should ask for them: a spawned worker imports the caller's main module, so a
    script must keep its work under `if __name__ == "__main__":`.
    """
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    batch_id = batch_id or uuid.uuid4().hex
    ensure_raw_schema(con)
    loaded = {r[0] for r in con.execute(f"select distinct _partition_date from raw.{source}").fetchall()}
    loaded |= {
        r[0]
        for r in con.execute("select distinct _partition_date from raw.load_log where source = ?", [source]).fetchall()
    }
    landed = set(landed_days(landing, source))
    todo = sorted(d for d in set(days) if d in landed or d in loaded)
    ctx = build_context(con, CONTRACTS[source], key, now)
    pool = reader_pool(CONTRACTS[source], landing, ctx, workers) if workers > 1 and len(todo) > 1 else None
    results = []
    try:
        for i in range(0, len(todo), days_per_transaction):
            chunk = todo[i : i + days_per_transaction]
            results += load_days(con, landing, source, chunk, key, pii_con, batch_id, now, ctx, pool)
    finally:
        if pool is not None:
            pool.shutdown()
    return results


def reader_pool(contract: Contract, landing: Path, ctx: Context, workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_reader,
        initargs=(contract, landing, ctx),
    )


def landed_days(landing: Path, source: str | None = None) -> list[dt.date]:
    """Every day folder present under landing/, for one source or all."""
    days: set[dt.date] = set()
    sources = [source] if source else list(CONTRACTS)
    for s in sources:
        root = landing / s
        if not root.is_dir():
            continue
        for d in root.iterdir():
            try:
                days.add(dt.date.fromisoformat(d.name))
            except ValueError:
                continue
    return sorted(days)


__all__ = [
    "LOAD_ORDER",
    "LoadResult",
    "ingest_days",
    "RowError",
    "ensure_raw_schema",
    "landed_days",
    "load_partition",
    "raw_columns",
]
