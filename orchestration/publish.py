"""Publishing: a complete, read-only copy of what dashboards read, swapped in atomically.

DuckDB allows one writer per file, and a reader that opens a file someone writes sees a lock error. So
dashboards never open the pipeline's file: each publish writes a new snapshot file, then replaces the
one-line pointer CURRENT with os.replace (atomic on POSIX). A dashboard opens whatever CURRENT names,
read-only; a snapshot it already has open stays valid until it reopens, even after pruning (POSIX keeps an
unlinked open file alive).

An erasure also reaches the snapshots: once a fresh one is current, every snapshot made before the latest erasure
is deleted (the pointer moves first, then the old files go), whatever KEEP_SNAPSHOTS says, and the erasure's
ledger row records when and which.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb

from ingestion import erasure

PUBLISHED_SCHEMAS = ("marts", "ml")
POINTER = "CURRENT"
KEEP_SNAPSHOTS = 3


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    published_dir: Path,
    run_id: str,
    keep: int = KEEP_SNAPSHOTS,
    only_this: bool = False,
) -> Path:
    """Copy marts, ml and the data-quality ledgers into a new file and point CURRENT at it.
    only_this: delete every older snapshot once this one is current (after a key rotation)."""
    published_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    target = published_dir / f"warehouse-{stamp}.duckdb"
    con.execute(f"attach '{target}' as snap")
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_type = 'BASE TABLE' and table_schema in "
            f"({', '.join(repr(s) for s in PUBLISHED_SCHEMAS)}) order by 1, 2"
        ).fetchall()
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f"create schema if not exists snap.{schema}")
        for schema, table in tables:
            con.execute(f"create table snap.{schema}.{table} as select * from {schema}.{table}")
        con.execute("create schema if not exists snap.ops")
        for table in ("quarantine", "load_log"):
            if _exists(con, "raw", table):
                con.execute(f"create table snap.ops.{table} as select * from raw.{table}")
        if _exists(con, "ops", "check_results"):
            con.execute("create table snap.ops.check_results as select * from ops.check_results")
        status = erasure.status_rows(con)
        columns = ", ".join(f"{c} {t}" for c, t in _STATUS_TYPES)
        con.execute(f"create table snap.ops.erasure_status ({columns})")
        if status:
            con.executemany(
                f"insert into snap.ops.erasure_status values ({', '.join('?' * len(_STATUS_TYPES))})", status
            )
        landed = (
            con.execute("select max(_partition_date) from raw.load_log").fetchall()[0][0]
            if _exists(con, "raw", "load_log")
            else None
        )
        con.execute(
            "create table snap.ops.publish_info as select ? as run_id, ?::timestamp as published_at, "
            "?::date as landed_through, ? as tables",
            [run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), landed, len(tables)],
        )
    finally:
        con.execute("detach snap")
    tmp = published_dir / f".{POINTER}.tmp"
    tmp.write_text(target.name + "\n")
    os.replace(tmp, published_dir / POINTER)
    _prune(published_dir, keep)
    if only_this:
        _delete_older(published_dir, target, None)
    else:
        erased_at = erasure.snapshots_to_clear(con)
        if erased_at is not None:
            deleted = _delete_older(published_dir, target, erased_at)
            erasure.record_snapshots_cleared(con, deleted, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    return target


# ops.erasure_status: request fingerprint prefix, scope, status, then times and counts (erasure.STATUS_COLUMNS).
_STATUS_TYPES = tuple(
    zip(
        erasure.STATUS_COLUMNS,
        ("varchar",) * 3 + ("timestamp", "timestamp", "integer", "timestamp", "timestamp", "timestamp"),
        strict=True,
    )
)


def _made_at(path: Path) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(path.stem.removeprefix("warehouse-"), "%Y%m%dT%H%M%S%f")
    except ValueError:
        return None


def _delete_older(published_dir: Path, current: Path, before: dt.datetime | None) -> list[str]:
    """Delete every snapshot but `current` made before `before` (None: all of them); their names."""
    deleted = []
    for old in sorted(published_dir.glob("warehouse-*.duckdb")):
        made = _made_at(old)
        if old == current or (before is not None and made is not None and made > before):
            continue
        old.unlink(missing_ok=True)
        Path(str(old) + ".wal").unlink(missing_ok=True)
        deleted.append(old.name)
    return deleted


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_catalog = current_database() "
            "and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def _prune(published_dir: Path, keep: int) -> None:
    current = published_dir / (published_dir / POINTER).read_text().strip()
    snapshots = sorted(published_dir.glob("warehouse-*.duckdb"))
    for old in snapshots[:-keep]:
        if old != current:
            old.unlink(missing_ok=True)
            Path(str(old) + ".wal").unlink(missing_ok=True)
