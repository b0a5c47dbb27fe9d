"""Reconciliation of loads: what ingestion read against what it loaded and quarantined."""

from __future__ import annotations

import duckdb

from ingestion.erasure import ensure_tables


def unreconciled_files(con: duckdb.DuckDBPyConnection, source: str) -> list[dict]:
    """Files whose load log does not add up, or whose log disagrees with the rows in raw, erased and quarantined."""
    ensure_tables(con)
    rows = con.execute(
        f"""
        with logged as (
            select _source_file, _partition_date, rows_read, rows_loaded, rows_quarantined
            from raw.load_log where source = ?
        ),
        loaded as (
            select _source_file, count(*) as n from raw.{source} group by 1
        ),
        quarantined as (
            select _source_file, count(*) as n from raw.quarantine where source = ? group by 1
        ),
        erased as (
            select _source_file, sum(n) as n from raw.erased_rows where source = ? group by 1
        )
        select l._source_file, l.rows_read, l.rows_loaded, l.rows_quarantined,
               coalesce(d.n, 0) as in_raw, coalesce(q.n, 0) as in_quarantine, coalesce(e.n, 0) as erased
        from logged l
        left join loaded d using (_source_file)
        left join quarantined q using (_source_file)
        left join erased e using (_source_file)
        where l.rows_read <> l.rows_loaded + l.rows_quarantined
           or l.rows_loaded <> coalesce(d.n, 0) + coalesce(e.n, 0)
           or l.rows_quarantined <> coalesce(q.n, 0)
        order by 1
        """,
        [source, source, source],
    ).fetchall()
    cols = ["file", "rows_read", "rows_loaded", "rows_quarantined", "in_raw", "in_quarantine", "erased"]
    return [dict(zip(cols, r, strict=True)) for r in rows]
