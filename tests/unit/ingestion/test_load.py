"""Loading a landing day: delete-then-insert, reconciliation, restricted PII, crash safety."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from data_quality.reconciliation import unreconciled_files
from ingestion import load as load_mod
from ingestion import reasons
from ingestion.load import ingest_days, load_partition

KEY = b"k" * 32
DAY = dt.date(2024, 1, 3)


def land(root: Path, source: str, day: dt.date, name: str, text: str) -> Path:
    folder = root / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def world(tmp_path):
    landing = tmp_path / "landing"
    land(
        landing,
        "requisitions",
        DAY,
        "r.csv",
        "requisition_id,job_family,job_title,department,region,opened_at,closed_at,headcount\n"
        "R1,sales,AE,Sales,EMEA,2024-01-01,,2\n",
    )
    land(
        landing,
        "candidates",
        DAY,
        "c.csv",
        "candidate_id,full_name,email,phone,gender,ethnicity,age_band,source_channel,region,consent_recording,"
        "consent_analytics,consent_at\n"
        "C1,Ann Lee,ann@example.com,+44 20 7946 0000,female,,,referral,EMEA,true,true,2024-01-02\n"
        "C2,Bo Chen,bo@example.com,,male,,,job_board,EMEA,true,false,2024-01-02\n",
    )
    land(
        landing,
        "interviews",
        DAY,
        "i.csv",
        "interview_id,application_id,candidate_id,requisition_id,started_at,ended_at,mode,status,vendor,jurisdiction\n"
        "I1,A1,C1,R1,2024-01-03T10:00:00,,ai_video,completed,v,GB\n"
        "I2,A2,C2,R1,2024-01-03T11:00:00,,ai_video,completed,v,GB\n"
        "I3,A3,C9,R1,2024-01-03T11:00:00,,ai_video,completed,v,GB\n",
    )
    land(
        landing,
        "interview_scores",
        DAY,
        "s.csv",
        "interview_id,rater_id,competency,rater_type,score,scale_min,scale_max,scored_at,model_version\n"
        "I1,ai:v,Communication,ai,4,1,5,2024-01-03T12:00:00,m\n"
        "I1,INT-1,Communication,human,yes,0,1,2024-01-03T12:00:00,\n"
        "I1,ai:v,Communication,ai,9,1,5,2024-01-03T12:00:00,m\n"
        "I2,ai:v,Leadership Presence,ai,4,1,5,2024-01-03T12:00:00,m\n",
    )
    return tmp_path, landing


def load_all(con, pii, landing, day=DAY):
    return [load_partition(con, landing, s, day, KEY, pii) for s in load_mod.LOAD_ORDER]


def contents(con) -> dict[str, list]:
    out = {}
    for source in load_mod.LOAD_ORDER:
        cols = [c for c, _ in load_mod.raw_columns(load_mod.CONTRACTS[source]) if c not in ("_loaded_at", "_batch_id")]
        out[source] = con.execute(f"select {', '.join(cols)} from raw.{source} order by all").fetchall()
    out["quarantine"] = con.execute(
        "select source, _source_file, _row_number, reason_code, message from raw.quarantine order by all"
    ).fetchall()
    return out


def test_every_row_loaded_or_quarantined_and_reconciled(world):
    tmp, landing = world
    con, pii = duckdb.connect(), duckdb.connect(str(tmp / "pii.duckdb"))
    results = {r.source: r for r in load_all(con, pii, landing)}
    assert results["interview_scores"].rows_read == 4
    assert results["interview_scores"].rows_loaded == 2
    assert results["interview_scores"].quarantined_by_reason == {reasons.OUT_OF_RANGE: 1, reasons.UNKNOWN_LABEL: 1}
    assert results["interviews"].quarantined_by_reason == {reasons.ORPHAN_REFERENCE: 1}
    for source in load_mod.LOAD_ORDER:
        assert unreconciled_files(con, source) == []


def test_pii_only_in_the_restricted_store(world):
    tmp, landing = world
    con, pii = duckdb.connect(), duckdb.connect(str(tmp / "pii.duckdb"))
    load_all(con, pii, landing)
    everything = str(contents(con))
    for secret in ("Ann Lee", "ann@example.com", "7946", "C1"):
        assert secret not in everything
    assert pii.execute("select count(*) from pii where email = 'ann@example.com'").fetchone()[0] == 1


def test_loading_a_day_twice_changes_nothing(world):
    tmp, landing = world
    con, pii = duckdb.connect(), duckdb.connect(str(tmp / "pii.duckdb"))
    load_all(con, pii, landing)
    first = contents(con)
    load_all(con, pii, landing)
    assert contents(con) == first
    assert pii.execute("select count(*) from pii").fetchone()[0] == 2


def test_a_crash_mid_load_loses_nothing_and_a_rerun_recovers(world, monkeypatch):
    tmp, landing = world
    con, pii = duckdb.connect(), duckdb.connect(str(tmp / "pii.duckdb"))
    load_all(con, pii, landing)
    before = contents(con)

    def boom(*args, **kwargs):
        raise RuntimeError("killed mid-load")

    monkeypatch.setattr(load_mod, "_quarantine_duplicates", boom)
    with pytest.raises(RuntimeError):
        load_partition(con, landing, "interview_scores", DAY, KEY, pii)
    assert contents(con) == before, "the failed load rolled back: the day still holds its previous rows"
    monkeypatch.undo()
    load_partition(con, landing, "interview_scores", DAY, KEY, pii)
    assert contents(con) == before


def test_a_row_resent_on_a_later_day_is_a_duplicate_and_a_correction_is_a_new_version(world):
    tmp, landing = world
    con, pii = duckdb.connect(), duckdb.connect(str(tmp / "pii.duckdb"))
    load_all(con, pii, landing)
    later = DAY + dt.timedelta(days=1)
    land(
        landing,
        "requisitions",
        later,
        "r.csv",
        "requisition_id,job_family,job_title,department,region,opened_at,closed_at,headcount\n"
        "R1,sales,AE,Sales,EMEA,2024-01-01,,2\n"
        "R1,sales,AE,Sales,EMEA,2024-01-01,2024-01-04,2\n",
    )
    (result,) = ingest_days(con, landing, "requisitions", [later], KEY, pii)
    assert result.quarantined_by_reason == {reasons.DUPLICATE_ROW: 1}
    assert result.rows_loaded == 1
    versions = con.execute("select _partition_date, closed_at from raw.requisitions order by 1").fetchall()
    assert versions == [(DAY, None), (later, dt.date(2024, 1, 4))], "history kept; staging picks the latest"
    assert unreconciled_files(con, "requisitions") == []


def test_a_file_that_cannot_be_read_is_quarantined_whole_and_the_run_goes_on(world):
    tmp, landing = world
    land(landing, "interview_scores", DAY, "zz_empty.csv", "")
    con, pii = duckdb.connect(), duckdb.connect(str(tmp / "pii.duckdb"))
    results = {r.source: r for r in load_all(con, pii, landing)}
    assert results["interview_scores"].quarantined_by_reason[reasons.EMPTY_FILE] == 1
    assert results["interview_scores"].rows_loaded == 2
    assert unreconciled_files(con, "interview_scores") == []


def test_an_erasure_cascades_is_audited_and_survives_a_reload(world):
    from ingestion.erasure import apply_erasures
    from ingestion.privacy import pseudonym

    tmp, landing = world
    con, pii = duckdb.connect(), duckdb.connect(str(tmp / "pii.duckdb"))
    load_all(con, pii, landing)
    later = DAY + dt.timedelta(days=2)
    land(landing, "erasure_requests", later, "e.csv", "candidate_id,requested_at,scope\nC1,2024-01-05T09:00:00,all\n")
    load_partition(con, landing, "erasure_requests", later, KEY, pii)
    (record,) = apply_erasures(con, pii)
    c1 = pseudonym("C1", KEY)
    assert record["candidate_key"] == c1
    assert '"interview_scores": 2' in record["rows_deleted"] and '"pii": 1' in record["rows_deleted"]
    for table, column in (("candidates", "candidate_id"), ("interviews", "candidate_id")):
        assert con.execute(f"select count(*) from raw.{table} where {column} = ?", [c1]).fetchone()[0] == 0
    assert con.execute("select count(*) from raw.interview_scores").fetchone()[0] == 0
    assert pii.execute("select count(*) from pii where email = 'ann@example.com'").fetchone()[0] == 0
    assert apply_erasures(con, pii) == [], "an erasure is applied once"
    load_all(con, pii, landing)  # the original files are reloaded: the erased candidate must not come back
    assert con.execute("select count(*) from raw.candidates where candidate_id = ?", [c1]).fetchone()[0] == 0
    assert con.execute("select count(*) from raw.interview_scores").fetchone()[0] == 0
    assert pii.execute("select count(*) from pii where email = 'ann@example.com'").fetchone()[0] == 0
    for source in load_mod.LOAD_ORDER:
        assert unreconciled_files(con, source) == [], source
    assert con.execute("select count(*) from raw.erasure_log").fetchone()[0] == 1
