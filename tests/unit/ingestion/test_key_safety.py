"""The pseudonym key: never made anew over existing data, a different key stops the run, rotation re-keys all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from ingestion.load import LOAD_ORDER, load_partition
from ingestion.privacy import (
    KEY_ENV,
    PseudonymKeyError,
    check_warehouse_key,
    checked_key,
    key_fingerprint,
    load_or_create_key,
    match_key,
    pending_key_file,
    pseudonym,
    recorded_fingerprint,
    warehouse_fingerprint,
)
from ingestion.settings import Settings

DAY = dt.date(2024, 1, 3)


def land(root: Path, source: str, name: str, text: str) -> None:
    folder = root / source / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def home(tmp_path) -> Settings:
    """A data home with a few landed people, loaded under its own (file) key."""
    settings = Settings(home=tmp_path / "home").ensure()
    land(
        settings.landing,
        "requisitions",
        "r.csv",
        "requisition_id,job_family,job_title,department,region,opened_at,closed_at,headcount\n"
        "R1,sales,AE,Sales,EMEA,2024-01-01,,2\n",
    )
    land(
        settings.landing,
        "candidates",
        "c.csv",
        "candidate_id,full_name,email,phone,gender,ethnicity,age_band,source_channel,region,consent_recording,"
        "consent_analytics,consent_at\n"
        "C1,Ann Lee,ann@example.com,+44 20 7946 0000,female,,,referral,EMEA,true,true,2024-01-02\n"
        "C2,Bo Chen,bo@example.com,,male,,,job_board,EMEA,true,true,2024-01-02\n",
    )
    land(
        settings.landing,
        "employees",
        "e.csv",
        "employee_id,candidate_id,email,full_name,hire_date,job_family,department,manager_id,region,"
        "termination_date,termination_type,termination_reason\n"
        "E1,C1,ann@example.com,Ann Lee,2024-01-03,sales,Sales,E2,EMEA,,,\n"
        "E2,,boss@example.com,Cy Boss,2020-01-01,sales,Sales,,EMEA,,,\n",
    )
    land(settings.landing, "erasure_requests", "x.csv", "candidate_id,requested_at,scope\nC9,2024-01-03T09:00:00,all\n")
    with duckdb.connect(str(settings.warehouse)) as con, duckdb.connect(str(settings.pii_database)) as pii:
        key = checked_key(settings.pseudonym_key_file, con, environ={})
        for source in LOAD_ORDER:
            load_partition(con, settings.landing, source, DAY, key, pii)
        # A model history table, as ml/outputs.py writes them: re-keyed by column name like every other table.
        con.execute("create schema ml")
        con.execute(
            "create table ml.scores_history as select candidate_id as candidate_key, 0.5 as s from raw.candidates"
        )
    return settings


def test_a_fresh_home_gets_a_key_and_its_fingerprint(tmp_path):
    settings = Settings(home=tmp_path / "fresh").ensure()
    key = load_or_create_key(settings.pseudonym_key_file, environ={})
    assert settings.pseudonym_key_file.stat().st_mode & 0o777 == 0o600
    assert recorded_fingerprint(settings.pseudonym_key_file) == key_fingerprint(key)
    assert load_or_create_key(settings.pseudonym_key_file, environ={}) == key
    assert key_fingerprint(key) != key.decode()[:16], "the fingerprint is not a piece of the key"


def test_a_missing_key_with_existing_data_stops_with_a_clear_message(home):
    home.pseudonym_key_file.unlink()
    with pytest.raises(PseudonymKeyError, match="No pseudonym key.*already holds data.*Restore the key file"):
        load_or_create_key(home.pseudonym_key_file, environ={})
    # Even with the restricted folder's fingerprint gone too, the warehouse's data stops it.
    (home.restricted / "pseudonym.fingerprint").unlink()
    with pytest.raises(PseudonymKeyError, match="No pseudonym key"):
        load_or_create_key(home.pseudonym_key_file, environ={})
    with duckdb.connect(str(home.warehouse)) as con, pytest.raises(PseudonymKeyError, match="No pseudonym key"):
        checked_key(home.pseudonym_key_file, con, environ={})
    assert not home.pseudonym_key_file.exists(), "no key was made"


def test_a_different_key_stops_with_a_clear_message(home):
    other = {KEY_ENV: "another-secret"}
    with pytest.raises(PseudonymKeyError, match=r"is not the key this data home's data was made with.*key rotate"):
        load_or_create_key(home.pseudonym_key_file, environ=other)
    # The warehouse keeps its own record: a key file swapped along with the fingerprint file is caught there.
    with duckdb.connect(str(home.warehouse)) as con:
        assert warehouse_fingerprint(con) == recorded_fingerprint(home.pseudonym_key_file)
        with pytest.raises(PseudonymKeyError, match="ops.key_fingerprint"):
            check_warehouse_key(con, b"another-secret")


def test_talentloop_run_stops_before_running_when_the_key_is_missing(home, monkeypatch, capsys):
    from orchestration.cli import main

    home.pseudonym_key_file.unlink()
    monkeypatch.setenv("TALENTLOOP_HOME", str(home.home))
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert main(["run"]) == 2
    assert "No pseudonym key" in capsys.readouterr().err
    assert not home.pseudonym_key_file.exists()


def _keys(settings: Settings) -> dict[str, set]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        out = {
            "candidates": {r[0] for r in con.execute("select candidate_id from raw.candidates").fetchall()},
            "email_keys": {r[0] for r in con.execute("select email_key from raw.candidates").fetchall()},
            "employees": {
                r for r in con.execute("select employee_id, candidate_id, manager_id from raw.employees").fetchall()
            },
            "history": {r[0] for r in con.execute("select candidate_key from ml.scores_history").fetchall()},
            "requests": {r[0] for r in con.execute("select candidate_id from raw.erasure_requests").fetchall()},
            "fingerprint": {warehouse_fingerprint(con)},
        }
    with duckdb.connect(str(settings.pii_database), read_only=True) as pii:
        out["pii"] = {r for r in pii.execute("select person_key, candidate_key from pii").fetchall()}
    return out


def test_rotation_re_pseudonymises_every_table_consistently(home):
    from ingestion.key_rotation import rotate

    old = load_or_create_key(home.pseudonym_key_file, environ={})
    report = rotate(home, environ={})
    new = load_or_create_key(home.pseudonym_key_file, environ={})
    assert new != old and report.new_fingerprint == key_fingerprint(new)
    keys = _keys(home)
    assert keys["candidates"] == keys["history"] == {pseudonym("C1", new), pseudonym("C2", new)}
    assert keys["email_keys"] == {match_key("email", "ann@example.com", new), match_key("email", "bo@example.com", new)}
    assert keys["employees"] == {
        (pseudonym("E1", new), pseudonym("C1", new), pseudonym("E2", new)),
        (pseudonym("E2", new), None, None),
    }
    assert keys["requests"] == {pseudonym("C9", new)}, "a pending erasure request follows its person"
    assert keys["fingerprint"] == {key_fingerprint(new)} and recorded_fingerprint(
        home.pseudonym_key_file
    ) == key_fingerprint(new)
    assert (pseudonym("C1", new), pseudonym("C1", new)) in keys["pii"]
    # Nothing under the old key is left in the files (the re-keyed databases were rewritten whole).
    for path in (home.warehouse, home.pii_database):
        assert pseudonym("C1", old).encode() not in path.read_bytes()
    # The next load under the new key joins what is there: the same people, no second version of anyone.
    with duckdb.connect(str(home.warehouse)) as con, duckdb.connect(str(home.pii_database)) as pii:
        key = checked_key(home.pseudonym_key_file, con, environ={})
        for source in LOAD_ORDER:
            load_partition(con, home.landing, source, DAY, key, pii)
        assert con.execute("select count(*), count(distinct candidate_id) from raw.candidates").fetchone() == (2, 2)
    with pytest.raises(PseudonymKeyError, match="is not the key"):
        load_or_create_key(home.pseudonym_key_file, environ={KEY_ENV: old.decode()})


def test_an_interrupted_rotation_stops_runs_and_finishes_when_run_again(home):
    from ingestion.key_rotation import rotate

    pending = pending_key_file(home.pseudonym_key_file)
    pending.write_bytes(b"the-new-key-written-before-the-crash")
    with pytest.raises(PseudonymKeyError, match="rotation was started and not finished"):
        load_or_create_key(home.pseudonym_key_file, environ={})
    report = rotate(home, environ={})
    assert report.resumed and not pending.exists()
    assert load_or_create_key(home.pseudonym_key_file, environ={}) == b"the-new-key-written-before-the-crash"
    assert _keys(home)["candidates"] == {pseudonym(c, b"the-new-key-written-before-the-crash") for c in ("C1", "C2")}


def test_rotation_refuses_what_it_cannot_re_key_and_changes_nothing(home):
    from ingestion.key_rotation import rotate

    old = home.pseudonym_key_file.read_bytes()
    with duckdb.connect(str(home.warehouse)) as con:
        # A row whose source id is in no landing file any more: its new pseudonym cannot be computed.
        con.execute("insert into raw.candidates (candidate_id) values ('0123456789abcdef0123')")
    before = _keys(home)
    with pytest.raises(PseudonymKeyError, match=r"no source id left in landing.*raw\.candidates\.candidate_id \(1\)"):
        rotate(home, environ={})
    assert home.pseudonym_key_file.read_bytes() == old and not pending_key_file(home.pseudonym_key_file).exists()
    assert _keys(home) == before
    with pytest.raises(PseudonymKeyError, match="TALENTLOOP_PSEUDONYM_KEY"):
        rotate(home, environ={KEY_ENV: old.decode()})
