"""The dashboards' only way into the warehouse: read-only queries of the published snapshot.

Each publish writes a new snapshot file and points CURRENT at it, so a cached connection is keyed by the
snapshot's path: a new publish opens a new read-only connection, and nothing here ever holds a write lock
on a file the pipeline writes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from ingestion.settings import Settings


class NoSnapshot(RuntimeError):
    """Nothing has been published yet."""


def snapshot_path() -> Path:
    path = Settings.from_env().current_snapshot()
    if path is None:
        raise NoSnapshot("No published warehouse yet: run `make run` (or the nightly job) first.")
    return path


@st.cache_resource(max_entries=2)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(path, read_only=True)


@st.cache_data(ttl=300, max_entries=256, show_spinner=False)
def _query(path: str, sql: str, params: tuple) -> pd.DataFrame:
    # A cursor per query: the cached connection is shared by every session's script thread.
    return _connection(path).cursor().execute(sql, list(params)).df()


def query(sql: str, params: tuple = ()) -> pd.DataFrame:
    """Run a read-only query on the current snapshot; results are cached per snapshot."""
    return _query(str(snapshot_path()), sql, tuple(params))


def table_exists(schema: str, table: str) -> bool:
    found = query(
        "select count(*) as n from information_schema.tables where table_schema = ? and table_name = ?",
        (schema, table),
    )
    return bool(found["n"].iloc[0])
