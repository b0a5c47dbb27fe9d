"""Erasure reaches every byte: people present in every source, in quarantine and in the model history are erased
through two pipeline runs, and `talentloop erasure verify` finds no byte of them in any file of the data home.

The world is a copy of the session's built small world (tests/conftest.py), so only the erasure day and the
reloaded days are run here. The pipeline runs in subprocesses: orchestration.definitions binds its resources to
the data home it was first imported with, and this test's home is not the session's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from data_quality.reconciliation import unreconciled_files
from ingestion.load import LOAD_ORDER
from ingestion.privacy import load_or_create_key, normalise_for_match, pseudonym
from ingestion.settings import Settings

pytestmark = pytest.mark.slow

UNKNOWN = "C-9999998"  # a request for someone the data home has never held


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "TALENTLOOP_WAREHOUSE")}
    # One reader process: a one-day run reads one day, and spawned readers would cost more than they save.
    return {**env, "TALENTLOOP_HOME": str(home), "TALENTLOOP_INGEST_WORKERS": "1"}


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=1200,
    )


def _people(settings: Settings, key: bytes) -> dict[str, dict]:
    """Candidates to erase: one hired and linked by candidate id (with a resume document), one hired and linked only
    by e-mail, one never hired; each with an interview, its transcript, a resume, performance reviews if hired,
    model history rows, and a name no other person has (so the name itself must be gone from every file)."""
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    pii = duckdb.connect(str(settings.pii_database), read_only=True)
    try:
        holders: dict[str, set[str]] = {}
        for name, holder in pii.execute(
            "select full_name, coalesce(person_key, candidate_key) from pii where full_name is not null"
        ).fetchall():
            holders.setdefault(normalise_for_match("full_name", name), set()).add(holder)
        names = dict(
            pii.execute(
                "select candidate_key, any_value(full_name) from pii where source = 'candidates' group by 1"
            ).fetchall()
        )
        eligible = dict(
            con.execute(
                """
                select c.candidate_id, bool_or(r.file_path is not null)
                from raw.candidates c
                join raw.interviews i using (candidate_id)
                join raw.transcript_segments t on t.interview_id = i.interview_id
                join raw.resumes r on r.candidate_id = c.candidate_id
                where c.candidate_id in (select candidate_key from ml.keyword_evidence_history)
                  and c.candidate_id in (select candidate_key from ml.resume_features_history)
                  and c.candidate_id in (select candidate_key from ml.transcript_features_history)
                group by 1
                """
            ).fetchall()
        )
        reviewed = {r[0] for r in con.execute("select distinct employee_id from raw.performance_reviews").fetchall()}
    finally:
        con.close()
        pii.close()

    def alone(candidate_key: str, own: set[str]) -> bool:
        name = names.get(candidate_key)
        return bool(name) and holders.get(normalise_for_match("full_name", name), set()) <= own

    with open(settings.world_manifest / "hires.csv", encoding="utf-8") as f:
        hires = list(csv.DictReader(f))
    chosen: dict[str, dict] = {}
    for link in ("candidate_id", "email"):
        for hire in hires:
            k, e = pseudonym(hire["candidate_id"], key), pseudonym(hire["employee_id"], key)
            with_document = link == "email" or eligible.get(k)
            if hire["expected_link"] == link and k in eligible and e in reviewed and alone(k, {k, e}) and with_document:
                chosen[hire["candidate_id"]] = {"employee_id": hire["employee_id"], "link": link}
                break
    hired = {h["candidate_id"] for h in hires}
    for candidate_id in _landed_candidate_ids(settings):
        k = pseudonym(candidate_id, key)
        if candidate_id not in hired and k in eligible and alone(k, {k}):
            chosen[candidate_id] = {"employee_id": None, "link": None}
            break
    assert len(chosen) == 3, chosen
    return chosen


def _landed_candidate_ids(settings: Settings) -> list[str]:
    from ingestion.erasure_files import parse

    out = []
    for path in sorted((settings.landing / "candidates").rglob("*")):
        parsed = parse(path) if path.is_file() else None
        out += [r.values["candidate_id"] for r in parsed.rows if r.values.get("candidate_id")] if parsed else []
    return out


def _landed_row(settings: Settings, source: str, column: str, value: str) -> tuple[list[str], dict, Path]:
    """The header, values and file of the first landed row of a source whose column holds the value."""
    from ingestion.erasure_files import parse

    for path in sorted((settings.landing / source).rglob("*")):
        parsed = parse(path) if path.is_file() and path.parent.name != "files" else None
        for row in parsed.rows if parsed else []:
            if row.values.get(column) == value:
                return list(row.values), row.values, path
    raise AssertionError(f"no {source} row with {column} = {value}")


def _line(header: list[str], values: dict) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([values.get(h) or "" for h in header])
    return buffer.getvalue()


def _seed_quarantine_and_app_state(settings: Settings, key: bytes, who: str, day: dt.date) -> None:
    """Land, on the erasure day, rows of `who` that the contract checks reject: a resume in a format not accepted
    (its whole text, with name, e-mail and phone, goes to raw.quarantine), an unsplittable candidate row (to the
    restricted store's payloads), a byte-identical copy of their candidate row (a duplicate, quarantined as its
    pseudonymised JSON) and a score outside its scale; and a dashboard view of their profile in the access log."""
    header, values, _ = _landed_row(settings, "candidates", "candidate_id", who)
    folder = settings.landing / "candidates" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "candidates_late.csv").write_text(
        ",".join(header) + "\n" + _line(header, values) + "\n" + f"{who},{values['full_name']},{values['email']}\n",
        encoding="utf-8",
    )
    _, resume, _ = _landed_row(settings, "resumes", "candidate_id", who)
    folder = settings.landing / "resumes" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    text = f"{values['full_name']}\n{values['email']} | {values.get('phone') or ''}\n\nSUMMARY\nResent as RTF."
    with open(folder / "resumes_late.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["resume_id", "candidate_id", "received_at", "format", "text", "file_path"])
        w.writerow([resume["resume_id"] + "-RTF", who, f"{day}T09:00:00", "rtf", text, ""])
    _, interview, _ = _landed_row(settings, "interviews", "candidate_id", who)
    folder = settings.landing / "interview_scores" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "interview_scores_late.csv").write_text(
        "interview_id,rater_id,competency,rater_type,score,scale_min,scale_max,scored_at,model_version\n"
        f"{interview['interview_id']},ai:late,communication,ai,9,1,5,{day}T09:00:00,v9\n",
        encoding="utf-8",
    )
    from dashboards.app_state import LOG_PAGES, AppState

    state = AppState(settings.app_state)
    state.create_user("erasure-auditor", "Tq8#vLm2!pZx9@wRk4", "admin")
    page = sorted(p for p in LOG_PAGES if p != "login")[0]
    state.log_access("erasure-auditor", page, "view_candidate", pseudonym(who, key))


@pytest.fixture(scope="module")
def erased_home(built_home, tmp_path_factory):
    """A copy of the built world after erasure requests for three people (and one unknown id) and two runs."""
    return erase_a_copy(built_home, tmp_path_factory.mktemp("erasure") / "home")


def erase_a_copy(built_home: Settings, home: Path) -> dict:
    shutil.copytree(built_home.home, home, ignore=shutil.ignore_patterns("dagster"))
    settings = Settings(home=home).ensure()
    key = load_or_create_key(settings.pseudonym_key_file)
    people = _people(settings, key)
    first = next(iter(people))
    last_day = max(dt.date.fromisoformat(p.name) for p in settings.landing.glob("*/*") if p.is_dir())
    day = last_day + dt.timedelta(days=1)
    _seed_quarantine_and_app_state(settings, key, first, day)
    folder = settings.landing / "erasure_requests" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{c},{day}T08:00:00,all" for c in [*people, UNKNOWN]]
    (folder / "erasure_requests_late.csv").write_text("candidate_id,requested_at,scope\n" + "\n".join(lines) + "\n")
    their_days = sorted(
        {
            dt.date.fromisoformat(p.parent.name)
            for p in settings.landing.rglob("*")
            if p.is_file() and p.suffix in (".csv", ".jsonl") and first.encode() in p.read_bytes()
        }
    )
    before = sorted(p.name for p in settings.published.glob("warehouse-*.duckdb"))
    timings = {}
    start = dt.datetime.now()
    run1 = _cli(home, "run", "--day", day.isoformat())
    timings["run 1 (talentloop run --day)"] = (dt.datetime.now() - start).total_seconds()
    assert run1.returncode == 0, run1.stdout[-3000:] + run1.stderr[-6000:]
    start = dt.datetime.now()
    # Run 2 reloads the first landing day that held them (a nightly run of one day: its files as rewritten).
    run2 = _cli(home, "run", "--day", their_days[0].isoformat())
    timings[f"run 2 (talentloop run --day {their_days[0]})"] = (dt.datetime.now() - start).total_seconds()
    assert run2.returncode == 0, run2.stdout[-3000:] + run2.stderr[-6000:]
    return {"settings": settings, "key": key, "people": people, "before": before, "timings": timings, "day": day}


def test_verify_finds_no_byte_of_the_erased_in_any_file(erased_home):
    settings, people = erased_home["settings"], erased_home["people"]
    verified = _cli(settings.home, "erasure", "verify", *people)
    print(verified.stdout, erased_home["timings"])
    assert verified.returncode == 0, verified.stdout[-6000:] + verified.stderr[-3000:]
    assert "PASS" in verified.stdout
    # Their evidence (cleartext, in restricted/) goes once verification passes, which the ledger records; what is
    # left belongs to requests not verified yet (the generated world's own).
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        verified, waiting = con.execute(
            "select count(verified_at), count(*) - count(verified_at) from raw.erasure_log "
            "where scope = 'all' and status = 'applied'"
        ).fetchall()[0]
    finally:
        con.close()
    assert verified == len(people)
    assert len(list((settings.restricted / "erasure").glob("*.json"))) == waiting


def test_every_trace_was_removed_and_audited(erased_home):
    settings = erased_home["settings"]
    con = duckdb.connect(str(settings.warehouse))  # the reconciliation makes its ledger tables if missing
    try:
        log = con.execute(
            "select status, rows_deleted, files, snapshots_deleted, applied_at, attempts from raw.erasure_log "
            "where scope = 'all' and requested_at >= ?",
            [erased_home["day"]],
        ).fetchall()
        for source in LOAD_ORDER:
            assert unreconciled_files(con, source) == [], source
    finally:
        con.close()
    applied = [row for row in log if row[0] == "applied"]
    assert len(applied) == 3 and [r[0] for r in log].count("unmatched") == 1, log
    deleted = Counter()
    files: dict[str, dict] = {}
    for _, rows_deleted, file_json, *_ in applied:
        deleted.update(json.loads(rows_deleted))
        files.update(json.loads(file_json))
    for table in (
        "candidates",
        "interviews",
        "transcript_segments",
        "employees",
        "performance_reviews",
        "quarantine",
        "pii",
        "restricted.quarantine_payloads",
        "ml.keyword_evidence_history",
        "ml.resume_features_history",
        "ml.transcript_features_history",
        "app_state.access_log.candidate_key_unlinked",
    ):
        assert deleted[table] > 0, (table, deleted)
    assert any(f.get("documents_deleted") for f in files.values()), files
    assert any(path.startswith("world/") for path in files), files
    # Snapshots made before the erasure went once a fresh one was published.
    left = {p.name for p in settings.published.glob("warehouse-*.duckdb")}
    assert not left & set(erased_home["before"]), (left, erased_home["before"])
    assert all(row[3] for row in applied)


def test_an_unmatched_request_stays_visible_and_is_retried(erased_home):
    settings = erased_home["settings"]
    status = _cli(settings.home, "status")
    assert status.returncode == 0, status.stderr
    assert "1 unmatched" in status.stdout and "UNMATCHED" in status.stdout, status.stdout
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        (attempts,) = con.execute("select attempts from raw.erasure_log where status = 'unmatched'").fetchone()
    finally:
        con.close()
    assert attempts == 2, "tried on both runs"
    # Its request is kept (in landing and raw) to be retried, so verify does find it.
    assert _cli(settings.home, "erasure", "verify", UNKNOWN).returncode == 1
