"""An erasure request's life: unmatched and retried, expired after RETRY_DAYS, applied when its person turns up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from ingestion.erasure import RETRY_DAYS, apply_erasures, status_rows
from ingestion.load import LOAD_ORDER, load_partition
from ingestion.privacy import checked_key, pseudonym
from ingestion.settings import Settings

DAY = dt.date(2024, 1, 3)
CANDIDATES = (
    "candidate_id,full_name,email,phone,gender,ethnicity,age_band,source_channel,region,consent_recording,"
    "consent_analytics,consent_at\n"
)


def land(root: Path, source: str, day: dt.date, name: str, text: str) -> Path:
    folder = root / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def test_an_unmatched_request_is_retried_then_expires_and_applies_when_its_person_arrives(tmp_path):
    settings = Settings(home=tmp_path / "home").ensure()
    land(
        settings.landing,
        "candidates",
        DAY,
        "c.csv",
        CANDIDATES + "C1,Ann Lee,ann@example.com,,,,,,EMEA,1,1,2024-01-02\n",
    )
    request = land(
        settings.landing,
        "erasure_requests",
        DAY,
        "x.csv",
        "candidate_id,requested_at,scope\nC7,2024-01-03T09:00:00,all\n",
    )
    con, pii = duckdb.connect(str(settings.warehouse)), duckdb.connect(str(settings.pii_database))
    key = checked_key(settings.pseudonym_key_file, con, environ={})
    for source in LOAD_ORDER:
        load_partition(con, settings.landing, source, DAY, key, pii)
    now = dt.datetime(2024, 1, 4)
    (first,) = apply_erasures(con, pii, settings, key, now=now)
    assert first["status"] == "unmatched" and first["rows_deleted"] == "{}"
    assert request.exists(), "an unmatched request keeps its own landing row, to be retried"
    (again,) = apply_erasures(con, pii, settings, key, now=now + dt.timedelta(days=1))
    assert again["status"] == "unmatched"
    (late,) = apply_erasures(con, pii, settings, key, now=now + dt.timedelta(days=RETRY_DAYS + 1))
    assert late["status"] == "expired"
    assert apply_erasures(con, pii, settings, key, now=now + dt.timedelta(days=RETRY_DAYS + 2)) == []
    assert [r[2] for r in status_rows(con)] == ["expired"]
    # The person arrives after all: their rows are stopped at load and the next call applies the request.
    later = DAY + dt.timedelta(days=40)
    arrived = land(
        settings.landing,
        "candidates",
        later,
        "c.csv",
        CANDIDATES + "C7,Cy Wu,cy@example.com,,,,,,EMEA,1,1,2024-02-01\n",
    )
    load_partition(con, settings.landing, "candidates", later, key, pii)
    assert con.execute(
        "select count(*) from raw.candidates where candidate_id = ?", [pseudonym("C7", key)]
    ).fetchall() == [(0,)]
    assert pii.execute("select count(*) from pii where email = 'cy@example.com'").fetchall() == [(0,)]
    apply_erasures(con, pii, settings, key, now=now + dt.timedelta(days=41))
    assert [r[2] for r in status_rows(con)] == ["applied"]
    assert not arrived.exists() and not request.exists(), "both landing files held only them"
    assert con.execute("select count(*) from raw.erasure_requests").fetchall() == [(0,)]
    con.close()
    pii.close()
