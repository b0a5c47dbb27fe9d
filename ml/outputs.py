"""Model outputs as warehouse tables: latest fit in ml.<name>, each fit in ml.<name>_history, a registry row a run."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import duckdb
import pandas as pd

REGISTRY_DDL = """
create table if not exists ml.model_runs (
    model varchar, model_version varchar, run_id varchar, fitted_at timestamp,
    rows bigint, parameters varchar, metrics varchar, data_snapshot varchar
)"""


def data_snapshot(con: duckdb.DuckDBPyConnection) -> str:
    """What the fit saw: the newest landing day and load time in raw."""
    try:
        row = con.execute("select max(_partition_date), max(_loaded_at) from raw.load_log").fetchall()[0]
    except duckdb.CatalogException:
        return "unknown"
    return f"landed_through={row[0]};loaded_at={row[1]}"


def write_model_output(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table: pd.DataFrame,
    run_id: str,
    parameters: dict,
    metrics: dict | None = None,
) -> str:
    """Replace ml.<name> with this fit, append it to the history, and register the run; returns the version."""
    fitted_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    version = f"{name}-{fitted_at:%Y%m%dT%H%M%S}-{run_id[:8]}"
    frame = table.copy()
    frame["model_version"] = version
    frame["fitted_at"] = fitted_at
    con.execute("create schema if not exists ml")
    con.execute(REGISTRY_DDL)
    snapshot = data_snapshot(con)  # outside the transaction: a failed lookup must not abort the write
    con.register("_fit", frame)
    try:
        con.execute("begin transaction")
        con.execute(f"create or replace table ml.{name} as select * from _fit")
        _type_null_columns(con, f"ml.{name}")
        record_fit(con, name, version, run_id, fitted_at, len(frame), parameters, metrics, snapshot)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_fit")
    return version


def record_fit(
    con: duckdb.DuckDBPyConnection,
    name: str,
    version: str,
    run_id: str,
    fitted_at,
    rows: int,
    parameters: Mapping,
    metrics: Mapping | None,
    snapshot,
) -> None:
    """Append ml.<name> (just written) to ml.<name>_history and register the fit in ml.model_runs; the caller
    holds the transaction."""
    con.execute(f"create table if not exists ml.{name}_history as select * from ml.{name} where false")
    # A model that gains a column keeps its history: the history table grows the column (older fits: null).
    _type_null_columns(con, f"ml.{name}_history")
    have = {r[0] for r in con.execute(f"describe ml.{name}_history").fetchall()}
    for column, sql_type, *_ in con.execute(f"describe ml.{name}").fetchall():
        if column not in have:
            con.execute(f'alter table ml.{name}_history add column "{column}" {sql_type}')
    con.execute(f"insert into ml.{name}_history by name select * from ml.{name}")
    con.execute(
        "insert into ml.model_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            name,
            version,
            run_id,
            fitted_at,
            rows,
            json.dumps(dict(parameters), default=str),
            json.dumps(dict(metrics or {}), default=str),
            snapshot,
        ],
    )


def _type_null_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An all-missing column arrives typed NULL, which no later value can be cast to: make it text."""
    for column, sql_type, *_ in con.execute(f"describe {table}").fetchall():
        if sql_type == '"NULL"' or sql_type == "NULL":
            con.execute(f'alter table {table} alter column "{column}" type varchar')
