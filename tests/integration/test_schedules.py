"""The nightly schedule asks for the day that just ended; the landing sensor asks for days whose files changed."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from orchestration.defs.schedules import landing_sensor, nightly


def test_nightly_ingests_yesterday():
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2025, 3, 10, 2, 0, tzinfo=dt.UTC))
    request = nightly(ctx)
    assert request.partition_key == "2025-03-09"
    assert request.run_key == "nightly-2025-03-09"


def test_landing_sensor_requests_new_and_changed_days_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path))
    day = tmp_path / "landing" / "interview_scores" / "2025-03-09"
    day.mkdir(parents=True)
    (day / "a.csv").write_text("x\n1\n")
    ctx = dg.build_sensor_context()
    first = list(landing_sensor(ctx))
    assert [r.partition_key for r in first] == ["2025-03-09"]
    ctx = dg.build_sensor_context(cursor=ctx.cursor)
    assert list(landing_sensor(ctx)) == [], "nothing changed, nothing requested"
    (day / "b.csv").write_text("x\n2\n")
    ctx = dg.build_sensor_context(cursor=ctx.cursor)
    again = list(landing_sensor(ctx))
    assert [r.partition_key for r in again] == ["2025-03-09"]
    assert again[0].run_key != first[0].run_key, "a late correction is a new run"
