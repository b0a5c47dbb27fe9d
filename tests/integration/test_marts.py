"""The marts against truths computed independently, in pandas, from the landed files of the small world.

Each expectation here is derived from the files in landing/ (what the source systems sent), never from the
warehouse, so a wrong join, filter or window in dbt shows up as a count that differs. The last test builds
the incremental models twice on a copy of the warehouse, once incrementally after new days land and once
with --full-refresh, and requires the same rows.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from ingestion.contracts import CONTRACTS
from ingestion.privacy import load_or_create_key, pseudonym
from ingestion.readers import read_file
from ingestion.settings import DBT_PROJECT_DIR, Settings
from tests.conftest import landing_files

pytestmark = pytest.mark.slow

FUNNEL = ("applied", "screened_in", "interview_invited", "interview_completed", "offer_made", "offer_accepted", "hired")
MIN_CELL = 5
INTERVAL_DAYS = 30
INCREMENTAL_MODELS = (
    "intermediate.int_applications_pivoted",
    "intermediate.int_interview_competencies_aggregated",
    "marts.interview_ratings",
)
INCREMENTAL_KEYS = {
    "intermediate.int_applications_pivoted": ["application_id"],
    "intermediate.int_interview_competencies_aggregated": ["interview_id", "competency_code"],
    "marts.interview_ratings": ["interview_rating_id"],
}


# ---------------------------------------------------------------------------------------------------------------
# Independent truth from the landed files
# ---------------------------------------------------------------------------------------------------------------


def landed(settings: Settings, source: str) -> pd.DataFrame:
    """Every landed row of a source as text, with its landing day, file and row number (the version order)."""
    frames = []
    for path in landing_files(settings, source):
        parsed = read_file(path)
        rows = [r.values for r in parsed.records if r.values is not None]
        frame = pd.DataFrame(rows)
        frame["_day"] = dt.date.fromisoformat(path.parent.name)
        frame["_file"] = path.name
        frame["_row"] = [r.row_number for r in parsed.records if r.values is not None]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def latest(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The latest version of each key: later landing day, then later row (as staging's latest_by_key)."""
    ordered = frame.sort_values(["_day", "_file", "_row"], kind="stable")
    return ordered.drop_duplicates(key, keep="last").reset_index(drop=True)


def as_of_date(settings: Settings) -> dt.date:
    """The day after the last landing day of any source: what the warehouse measures tenure and exposure to."""
    days = [
        dt.date.fromisoformat(d.name)
        for source in CONTRACTS
        if (settings.landing / source).is_dir()
        for d in (settings.landing / source).iterdir()
        if d.is_dir() and any(p.is_file() for p in d.iterdir())
    ]
    return max(days) + dt.timedelta(days=1)


def timestamps(series: pd.Series | None) -> pd.Series:
    """Text timestamps as written by any landing format (CSV, JSON lines, Parquet, XLSX)."""
    return pd.to_datetime(series, format="mixed", errors="coerce")


def truthy(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().str.lower().isin(["true", "1", "yes"])


def eligible_candidates(settings: Settings) -> set[str]:
    """Source candidate ids analysis may use: analytics consent and no erasure of scope all/analytics."""
    candidates = latest(landed(settings, "candidates"), ["candidate_id"])
    consenting = set(candidates.loc[truthy(candidates["consent_analytics"]), "candidate_id"])
    erasures = latest(landed(settings, "erasure_requests"), ["candidate_id"])
    scope = erasures["scope"].fillna("all") if "scope" in erasures else pd.Series("all", index=erasures.index)
    erased = set(erasures.loc[scope.isin(["all", "analytics"]), "candidate_id"])
    return consenting - erased


def employees_truth(settings: Settings) -> pd.DataFrame:
    """One row per employee (latest version) with tenure and exit as of the warehouse's as-of day."""
    employees = latest(landed(settings, "employees"), ["employee_id"])
    as_of = pd.Timestamp(as_of_date(settings))
    hire = timestamps(employees["hire_date"]).dt.normalize()
    term = timestamps(employees.get("termination_date")).dt.normalize()
    left = term.notna() & (term < as_of)
    employees["tenure_days"] = ((term.where(left, as_of)) - hire).dt.days
    kind = employees.get("termination_type", pd.Series(None, index=employees.index)).astype("string")
    employees["end_reason"] = np.where(
        ~left, "censored", np.where(kind.isin(["voluntary", "involuntary"]), kind.fillna("other"), "other")
    )
    return employees


# ---------------------------------------------------------------------------------------------------------------
# Reading the published marts
# ---------------------------------------------------------------------------------------------------------------


def mart(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.current_snapshot()), read_only=True) as con:
        return con.execute(sql).df()


# ---------------------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------------------


def test_funnel_counts_per_stage_match_the_landed_events(built_home):
    """Applications entering each stage (reached it or a later one), overall and per job family."""
    eligible = eligible_candidates(built_home)
    events = landed(built_home, "application_events")
    events = latest(events, ["application_id", "event", "event_at"])
    events = events[events["candidate_id"].isin(eligible)]
    order = {stage: i + 1 for i, stage in enumerate(FUNNEL)}
    events["stage_order"] = events["event"].map(order)
    furthest = events.groupby("application_id").agg(
        furthest=("stage_order", "max"), requisition_id=("requisition_id", "first")
    )
    furthest["furthest"] = furthest["furthest"].fillna(1)
    requisitions = latest(landed(built_home, "requisitions"), ["requisition_id"]).set_index("requisition_id")
    furthest["job_family"] = furthest["requisition_id"].map(requisitions["job_family"])

    got = mart(
        built_home,
        "select dimension_value, stage_name, n_entered, n_passed, is_suppressed from marts.funnel "
        "where period_grain = 'all' and dimension in ('all', 'job_family')",
    ).set_index(["dimension_value", "stage_name"])
    groups = {"all": furthest, **{f: g for f, g in furthest.groupby("job_family")}}
    checked = 0
    for group, frame in groups.items():
        for stage, k in order.items():
            entered = int((frame["furthest"] >= k).sum())
            if entered == 0:
                assert (group, stage) not in got.index
                continue
            row = got.loc[(group, stage)]
            if entered < MIN_CELL:
                assert row["is_suppressed"] and pd.isna(row["n_entered"]), (group, stage)
                continue
            assert row["n_entered"] == entered, (group, stage)
            if k < len(FUNNEL):
                assert row["n_passed"] == int((frame["furthest"] >= k + 1).sum()), (group, stage)
            checked += 1
    assert got.loc[("all", "applied"), "n_entered"] == len(furthest) > 500
    assert got.loc[("all", "hired"), "n_entered"] > 20
    assert checked >= 20


def test_hires_are_every_hris_employee_and_links_are_right(built_home):
    """hires has one row per landed employee; each link points at the planted candidate, by the planted method."""
    employees = latest(landed(built_home, "employees"), ["employee_id"])
    hires = mart(built_home, "select employee_key, candidate_key, match_method, is_linked from marts.hires")
    assert len(hires) == employees["employee_id"].nunique() > 30

    key = load_or_create_key(built_home.pseudonym_key_file)
    truth = pd.read_csv(built_home.world_manifest / "hires.csv", dtype=str)
    truth["employee_key"] = truth["employee_id"].map(lambda v: pseudonym(v, key))
    truth["true_candidate_key"] = truth["candidate_id"].map(lambda v: pseudonym(v, key))
    eligible = eligible_candidates(built_home)
    truth["eligible"] = truth["candidate_id"].isin(eligible)
    merged = truth.merge(hires, on="employee_key", how="inner", validate="one_to_one")
    assert len(merged) == len(truth)

    usable = merged[merged["eligible"]]
    method = {"candidate_id": "candidate_key", "email": "email", "name_hire_date": "name_hire_date"}
    assert (usable["match_method"] == usable["expected_link"].map(method)).all()
    assert (usable["candidate_key"] == usable["true_candidate_key"]).all()
    assert set(usable["expected_link"]) == set(method), "every link method is exercised"

    # A hire whose candidate may not be analysed is kept, and linked to nobody.
    excluded = merged[~merged["eligible"]]
    assert excluded["candidate_key"].isna().all()
    assert set(excluded["match_method"]) <= {"candidate_key_not_eligible", "unlinked"}


def test_exit_counts_and_retention_life_table_match_the_landed_employees(built_home):
    """Voluntary and involuntary exits, kept apart, in hires, workforce_monthly and retention_cohorts."""
    employees = employees_truth(built_home)
    voluntary = int((employees["end_reason"] == "voluntary").sum())
    involuntary = int((employees["end_reason"] == "involuntary").sum())
    assert voluntary > 5 and involuntary > 0

    hires = mart(built_home, "select termination_type, count(*) as n from marts.hires group by 1")
    by_type = dict(zip(hires["termination_type"].fillna("active"), hires["n"], strict=True))
    assert by_type.get("voluntary", 0) == voluntary
    assert by_type.get("involuntary", 0) == involuntary

    company = mart(
        built_home,
        "select sum(voluntary_exits) as v, sum(involuntary_exits) as i, sum(hires) as h, "
        "sum(case when is_suppressed then 1 else 0 end) as suppressed "
        "from marts.workforce_monthly where rollup_level = 'company'",
    ).iloc[0]
    if company["suppressed"] == 0:
        assert company["v"] == voluntary and company["i"] == involuntary and company["h"] == len(employees)

    table = mart(
        built_home,
        "select interval_index, at_risk, voluntary_exits, involuntary_exits, censored, is_suppressed "
        "from marts.retention_cohorts where hire_cohort = 'all' and job_family = 'all' and score_band = 'all' "
        "order by interval_index",
    )
    tenure, reason = employees["tenure_days"].to_numpy(), employees["end_reason"].to_numpy()
    assert len(table) == tenure.max() // INTERVAL_DAYS + 1
    for row in table.itertuples():
        start, end = row.interval_index * INTERVAL_DAYS, (row.interval_index + 1) * INTERVAL_DAYS
        at_risk = int((tenure >= start).sum())
        inside = (tenure >= start) & (tenure < end)
        if at_risk < MIN_CELL:
            assert row.is_suppressed and pd.isna(row.at_risk)
            continue
        assert row.at_risk == at_risk
        assert row.voluntary_exits == int((inside & (reason == "voluntary")).sum())
        assert row.involuntary_exits == int((inside & (reason == "involuntary")).sum())
        assert row.censored == int((inside & (reason == "censored")).sum())


def test_complaint_count_and_rate_per_1000_days_for_customer_service(built_home):
    """Complaints of customer-service hires and their exposure-weighted rate, from complaints and employees."""
    employees = employees_truth(built_home)
    family = employees[employees["job_family"] == "customer_service"]
    complaints = latest(landed(built_home, "complaints"), ["complaint_id"])
    received = timestamps(complaints["received_at"]).dt.date
    complaints = complaints[(received < as_of_date(built_home)) & complaints["employee_id"].isin(family["employee_id"])]
    exposure = int(family["tenure_days"].sum())
    expected_rate = 1000.0 * len(complaints) / exposure
    assert len(complaints) > 5

    got = mart(
        built_home,
        "select n_hires, exposure_days, n_complaints, complaints_per_1000_days from marts.complaint_rates "
        "where job_family = 'customer_service' and score_band = 'all'",
    ).iloc[0]
    assert got["n_hires"] == len(family)
    assert got["exposure_days"] == exposure
    assert got["n_complaints"] == len(complaints)
    assert got["complaints_per_1000_days"] == pytest.approx(expected_rate, rel=1e-12)

    per_hire = mart(
        built_home,
        "select sum(count_complaints) as n, sum(tenure_days) as days from marts.hires "
        "where job_family = 'customer_service'",
    ).iloc[0]
    assert per_hire["n"] == len(complaints) and per_hire["days"] == exposure


def test_only_analysable_candidates_reach_the_marts(built_home):
    """Consent and erasure: marts.candidates is exactly the analysable set; no other mart names anyone else."""
    key = load_or_create_key(built_home.pseudonym_key_file)
    eligible = {pseudonym(c, key) for c in eligible_candidates(built_home)}
    everyone = {pseudonym(c, key) for c in landed(built_home, "candidates")["candidate_id"].unique()}
    assert 0 < len(eligible) < len(everyone), "the small world must hold some candidates analysis may not use"
    with duckdb.connect(str(built_home.current_snapshot()), read_only=True) as con:
        assert {r[0] for r in con.execute("select candidate_key from marts.candidates").fetchall()} == eligible
        tables = con.execute(
            "select table_name from information_schema.columns "
            "where table_schema = 'marts' and column_name = 'candidate_key'"
        ).fetchall()
        assert len(tables) >= 8
        for (table,) in tables:
            keys = {r[0] for r in con.execute(f"select distinct candidate_key from marts.{table}").fetchall()}
            assert keys - {None} <= eligible, table


def _dbt(project_target: Path, warehouse: Path, *args: str) -> None:
    dbt = Path(sys.executable).parent / "dbt"
    env = {
        **os.environ,
        "TALENTLOOP_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [
            str(dbt if dbt.exists() else "dbt"),
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(project_target / "target"),
            "--log-path",
            str(project_target / "logs"),
            "--select",
            *[f"+{m.split('.')[1]}" for m in INCREMENTAL_MODELS],
        ],
        env=env,
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _snapshot(warehouse: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        out = {}
        for table in INCREMENTAL_MODELS:
            frame = con.execute(f"select * from {table}").df()
            out[table] = frame.sort_values(INCREMENTAL_KEYS[table]).reset_index(drop=True)
        return out


def test_incremental_run_gives_the_same_rows_as_a_full_refresh(built_home, tmp_path):
    """Hold back the last 30 landing days, build, land them again (plus a score correction and an erasure),
    build incrementally, then rebuild with --full-refresh: the incremental models must agree row for row."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_home.warehouse, warehouse)
    sources = list(CONTRACTS)
    with duckdb.connect(str(warehouse)) as con:
        last_day = con.execute("select max(_partition_date) from raw.application_events").fetchone()[0]
        cutoff = last_day - dt.timedelta(days=30)
        for source in sources:
            con.execute(
                f"create table main.held_{source} as select * from raw.{source} where _partition_date > ?", [cutoff]
            )
            con.execute(f"delete from raw.{source} where _partition_date > ?", [cutoff])

    _dbt(tmp_path, warehouse, "run", "--full-refresh")
    before = _snapshot(warehouse)

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=1)
    new_day = last_day + dt.timedelta(days=1)
    with duckdb.connect(str(warehouse)) as con:
        for source in sources:
            con.execute(
                f"insert into raw.{source} select * replace (cast(? as timestamp) as _loaded_at) "
                f"from main.held_{source}",
                [now],
            )
        built = before["marts.interview_ratings"]
        erased = built["candidate_key"].iloc[0]
        ai_rated = built[(built["candidate_key"] != erased) & (built["rater_type"] == "ai")]
        corrected = ai_rated["interview_id"].iloc[0]
        # A candidate already in the marts asks for erasure; a vendor re-sends one score of an old interview.
        con.execute(
            "insert into raw.erasure_requests by name select ? as candidate_id, cast(? as timestamp) as requested_at,"
            " 'analytics' as scope, 'test' as _source_file, 1 as _row_number, cast(? as timestamp) as _loaded_at,"
            " 'test' as _batch_id, 'test' as _row_hash, cast(? as date) as _partition_date",
            [erased, now, now, new_day],
        )
        con.execute(
            "insert into raw.interview_scores by name select * replace (cast(scale_max as varchar) as score,"
            " cast(? as timestamp) as _loaded_at, cast(? as date) as _partition_date) "
            "from raw.interview_scores where interview_id = ? and rater_type = 'ai' limit 1",
            [now, new_day, corrected],
        )
        for source in sources:
            con.execute(f"drop table main.held_{source}")

    _dbt(tmp_path, warehouse, "run")
    incremental = _snapshot(warehouse)
    _dbt(tmp_path, warehouse, "run", "--full-refresh")
    full = _snapshot(warehouse)

    for table in INCREMENTAL_MODELS:
        assert len(incremental[table]) > len(before[table]), f"{table}: the held-back days added nothing"
        pd.testing.assert_frame_equal(
            incremental[table][sorted(full[table].columns)],
            full[table][sorted(full[table].columns)],
            check_exact=False,
            rtol=1e-12,
            obj=table,
        )
    ratings = incremental["marts.interview_ratings"]
    assert erased not in set(ratings["candidate_key"])
    assert (
        ratings.loc[(ratings["interview_id"] == corrected) & (ratings["rater_type"] == "ai"), "score_normalised"] == 1.0
    ).any()
