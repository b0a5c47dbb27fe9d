"""The check-results ledger: this run's results replace a rerun's, old runs are pruned, and the Data quality page's
query gives each check's latest outcome with the start of its current run of failures."""

from __future__ import annotations

import datetime as dt

import duckdb

from dashboards.queries import LATEST_CHECK_RESULTS_SQL
from data_quality.expectations import Check, Outcome
from data_quality.results import DBT_TEST, GREAT_EXPECTATIONS, KEEP_DAYS, CheckResult, gx_result, record_check_results

DAY = dt.datetime(2026, 3, 1, 2, 0)


def _result(name: str, passed: bool, kind: str = DBT_TEST) -> CheckResult:
    return CheckResult(kind, name, "marts.hires", "error", passed, failing_rows=0 if passed else 3)


def test_latest_outcome_and_the_start_of_the_current_failing_streak():
    con = duckdb.connect()
    history = {  # night -> (flaky check passed?, steady check passed?)
        0: (False, True),
        1: (True, True),
        2: (False, True),
        3: (False, True),
    }
    for night, (flaky, steady) in history.items():
        record_check_results(
            con, [_result("flaky", flaky), _result("steady", steady)], f"run-{night}", DAY + dt.timedelta(days=night)
        )
    latest = con.execute(LATEST_CHECK_RESULTS_SQL).df().set_index("check_name")
    assert list(latest.index) == ["flaky", "steady"]  # failures first
    assert not latest.loc["flaky", "passed"] and latest.loc["flaky", "failing_rows"] == 3
    # Failed on night 0, passed on night 1, failing again since night 2.
    assert latest.loc["flaky", "failing_since"] == DAY + dt.timedelta(days=2)
    assert latest.loc["flaky", "checked_at"] == DAY + dt.timedelta(days=3)
    assert latest.loc["steady", "passed"] and latest["failing_since"].isna()["steady"]


def test_a_rerun_replaces_its_results_and_old_runs_are_pruned():
    con = duckdb.connect()
    record_check_results(con, [_result("a", False)], "run-1", DAY)
    record_check_results(con, [_result("a", True)], "run-1", DAY + dt.timedelta(hours=1))
    assert con.execute("select count(*), bool_and(passed) from ops.check_results").fetchone() == (1, True)
    later = DAY + dt.timedelta(days=KEEP_DAYS + 1)
    record_check_results(con, [_result("a", True)], "run-2", later)
    assert con.execute("select run_id from ops.check_results").fetchall() == [("run-2",)]


def test_a_great_expectations_outcome_counts_its_unexpected_rows():
    check = Check("volume", ("raw", "load_log"), "daily volume", "select 1", (), blocking=False)
    outcome = Outcome(
        passed=False,
        rows=120,
        results=[
            {"expectation": "expect_column_values_to_be_between", "success": False, "unexpected_count": 4},
            {"expectation": "expect_column_values_to_not_be_null", "success": True, "unexpected_count": 0},
        ],
    )
    row = gx_result(check, outcome)
    assert (row.kind, row.severity, row.passed, row.rows_checked, row.failing_rows) == (
        GREAT_EXPECTATIONS,
        "warn",
        False,
        120,
        4,
    )
    assert "expect_column_values_to_be_between" in row.detail and "not_be_null" not in row.detail
