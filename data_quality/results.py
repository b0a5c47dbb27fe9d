"""The check-results ledger: every data-quality check's outcome per run (Great Expectations suites and dbt tests),
kept in the warehouse's ops schema so the Data quality page can show what passed, what failed and since when."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

# A quarter of nightly history: enough to see since when a check fails, small enough to publish every night.
KEEP_DAYS = 92
DDL = """
create schema if not exists ops;
create table if not exists ops.check_results (
    checked_at timestamp,
    run_id varchar,
    kind varchar,
    check_name varchar,
    asset varchar,
    severity varchar,
    passed boolean,
    skipped varchar,
    rows_checked bigint,
    failing_rows bigint,
    detail varchar
)"""
COLUMNS = (
    "checked_at",
    "run_id",
    "kind",
    "check_name",
    "asset",
    "severity",
    "passed",
    "skipped",
    "rows_checked",
    "failing_rows",
    "detail",
)
GREAT_EXPECTATIONS, DBT_TEST = "great_expectations", "dbt_test"


@dataclass(frozen=True)
class CheckResult:
    kind: str
    check_name: str
    asset: str
    severity: str  # "error" blocks the publish; "warn" is shown, not blocking
    passed: bool
    rows_checked: int | None = None
    failing_rows: int | None = None
    skipped: str | None = None
    detail: str | None = None


def record_check_results(
    con: duckdb.DuckDBPyConnection, results: Iterable[CheckResult], run_id: str, now: dt.datetime | None = None
) -> int:
    """Append this run's results (replacing any this run recorded before for the same checks); prune old runs."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [
        (now, run_id, r.kind, r.check_name, r.asset, r.severity, r.passed, r.skipped, r.rows_checked, r.failing_rows,
         r.detail)
        for r in results
    ]  # fmt: skip
    con.execute(DDL)
    con.execute("begin transaction")
    try:
        for row in rows:
            con.execute(
                "delete from ops.check_results where run_id = ? and kind = ? and check_name = ?", [run_id, *row[2:4]]
            )
        if rows:
            con.executemany(f"insert into ops.check_results values ({', '.join('?' * len(COLUMNS))})", rows)
        con.execute("delete from ops.check_results where checked_at < ?", [now - dt.timedelta(days=KEEP_DAYS)])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return len(rows)


def gx_result(check, outcome) -> CheckResult:
    """A Great Expectations suite's outcome (data_quality.expectations.Outcome) as a ledger row."""
    failing = [r for r in outcome.results if not r.get("success", True)]
    unexpected = sum(int(r.get("unexpected_count") or 0) for r in failing)
    return CheckResult(
        kind=GREAT_EXPECTATIONS,
        check_name=check.name,
        asset=".".join(check.asset),
        severity="error" if check.blocking else "warn",
        passed=bool(outcome.passed),
        rows_checked=int(outcome.rows),
        failing_rows=unexpected if failing else 0,
        skipped=outcome.skipped,
        detail=json.dumps(failing, ensure_ascii=False, default=str) if failing else None,
    )
