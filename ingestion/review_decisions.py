"""Review decisions from the dashboards' own store, copied into raw so dbt can build the weights history.

The store is SQLite, written by the dashboards; the pipeline only opens it read-only, so a talent leader's
approval never waits for the nightly run and the nightly run never waits for a dashboard.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pandas as pd

COLUMNS = (
    "decision_id",
    "recommendation_id",
    "job_family",
    "decision",
    "weights_json",
    "effective_from",
    "reason",
    "flagged",
    "flags_json",
    "flag_acknowledged",
    "decided_by",
    "decided_at",
)
DDL = """
create table if not exists raw.review_decisions (
    decision_id bigint, recommendation_id varchar, job_family varchar, decision varchar, weights_json varchar,
    effective_from date, reason varchar, flagged boolean, flags_json varchar, flag_acknowledged boolean,
    decided_by varchar, decided_at timestamp, _loaded_at timestamp
)"""


def read_decisions(app_state: Path) -> pd.DataFrame:
    """Every decision in the store, oldest first; an empty frame before the store exists."""
    if not app_state.exists():
        return pd.DataFrame(columns=COLUMNS)
    con = sqlite3.connect(f"file:{app_state}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
        if "review_decisions" not in tables:
            return pd.DataFrame(columns=COLUMNS)
        return pd.read_sql_query(f"select {', '.join(COLUMNS)} from review_decisions order by decision_id", con)
    finally:
        con.close()


def import_decisions(con: duckdb.DuckDBPyConnection, app_state: Path) -> int:
    """Replace raw.review_decisions with the store's append-only log; returns the number of decisions."""
    frame = read_decisions(app_state)
    frame["flagged"] = frame["flagged"].astype(bool)
    frame["flag_acknowledged"] = frame["flag_acknowledged"].astype(bool)
    con.execute("create schema if not exists raw")
    con.execute(DDL)
    con.register("_decisions", frame)
    try:
        con.execute("begin transaction")
        con.execute("delete from raw.review_decisions")
        con.execute(
            f"insert into raw.review_decisions select {', '.join(f'{c}::{t}' for c, t in _TYPES.items())}, "
            "current_timestamp from _decisions"
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_decisions")
    return len(frame)


_TYPES = {
    "decision_id": "bigint",
    "recommendation_id": "varchar",
    "job_family": "varchar",
    "decision": "varchar",
    "weights_json": "varchar",
    "effective_from": "date",
    "reason": "varchar",
    "flagged": "boolean",
    "flags_json": "varchar",
    "flag_acknowledged": "boolean",
    "decided_by": "varchar",
    "decided_at": "timestamp",
}
