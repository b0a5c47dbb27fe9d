"""Great Expectations checks find what they are for, and pass on data that is fine."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from data_quality.expectations import AGREEMENT_BOUNDS, RESUME_PARSE, SCORE_DRIFT, run_check, volume_check


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("create schema raw; create schema marts; create schema ml")
    return c


def _daily(con, counts):
    start = dt.date(2024, 1, 1)
    rows = [(start + dt.timedelta(days=i),) for i, n in enumerate(counts) for _ in range(n)]
    con.execute("create or replace table raw.interviews (_partition_date date)")
    con.executemany("insert into raw.interviews values (?)", rows)


def test_volume_check_passes_steady_days_and_flags_a_collapsed_day(con):
    rng = np.random.default_rng(0)
    steady = list(rng.integers(80, 120, size=60))
    _daily(con, steady)
    assert run_check(con, volume_check("interviews")).passed
    _daily(con, steady + [3, 3])  # two partial exports: more than 2% of days are odd
    outcome = run_check(con, volume_check("interviews"))
    assert not outcome.passed
    assert outcome.results[0]["unexpected_percent"] > 2


def _scores(con, recent_shift: float):
    rng = np.random.default_rng(1)
    start = dt.datetime(2024, 1, 1)
    frames = []
    for day in range(360):
        shift = recent_shift if day >= 270 else 0.0
        s = np.clip(rng.normal(0.5 + shift, 0.15, size=20), 0, 1)
        frames.append(pd.DataFrame({"score_normalised": s, "scored_at": start + dt.timedelta(days=day)}))
    f = pd.concat(frames)
    f["competency_code"] = "communication"
    f["rater_type"] = "ai"
    con.execute("create or replace table marts.interview_ratings as select * from f")


def test_drift_check_passes_a_stable_vendor_and_flags_a_shifted_one(con):
    _scores(con, 0.0)
    stable = run_check(con, SCORE_DRIFT)
    assert stable.passed and stable.results[0]["success"]
    _scores(con, 0.12)  # 0.8 SD upward: a vendor model change
    assert not run_check(con, SCORE_DRIFT).passed


def test_resume_parse_quality(con):
    con.execute("create table raw.resumes (extracted_text varchar)")
    con.executemany("insert into raw.resumes values (?)", [["x" * 500]] * 97 + [[None]] * 3)
    assert run_check(con, RESUME_PARSE).passed
    con.executemany("insert into raw.resumes values (?)", [[None]] * 10)
    assert not run_check(con, RESUME_PARSE).passed


def test_model_output_bounds_and_a_missing_table_is_skipped_not_failed(con):
    outcome = run_check(con, AGREEMENT_BOUNDS)
    assert outcome.passed and outcome.skipped
    con.execute("create table ml.rater_agreement as select 0.5 as r, 10 as n_interviews union all select 1.2, 10")
    assert not run_check(con, AGREEMENT_BOUNDS).passed
