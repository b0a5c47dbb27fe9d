"""Model outputs as warehouse tables: latest fit in ml.<name>, each fit in ml.<name>_history, a registry row a run."""

from __future__ import annotations

import datetime as dt
import json

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
        row = con.execute("select max(_partition_date), max(_loaded_at) from raw.load_log").fetchone()
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
    con.register("_fit", frame)
    try:
        con.execute("begin transaction")
        con.execute(f"create or replace table ml.{name} as select * from _fit")
        con.execute(f"create table if not exists ml.{name}_history as select * from _fit where false")
        con.execute(f"insert into ml.{name}_history by name select * from _fit")
        con.execute(
            "insert into ml.model_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                name,
                version,
                run_id,
                fitted_at,
                len(frame),
                json.dumps(parameters, default=str),
                json.dumps(metrics or {}, default=str),
                data_snapshot(con),
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_fit")
    return version
