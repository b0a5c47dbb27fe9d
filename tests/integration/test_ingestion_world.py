"""Ingestion on the generator's dirty world: every planted fault quarantined with its reason, every clean row loaded,
and a load killed mid-way then rerun leaves exactly what one clean load leaves."""

from __future__ import annotations

import csv
import hashlib
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from ingestion.contracts import CONTRACTS
from ingestion.erasure import apply_erasures
from ingestion.load import LOAD_ORDER, ingest_days, landed_days, raw_columns
from ingestion.settings import Settings

pytestmark = pytest.mark.slow
KEY = b"integration-test-key"


@pytest.fixture(scope="module")
def dirty_world(tmp_path_factory):
    from ingestion.generator import generate

    home = tmp_path_factory.mktemp("dirty")
    truth = generate(out_dir=home, candidates=2000, days=400, seed=5, dirty=0.02)
    return Settings(home=home).ensure(), truth


def ingest_all(settings: Settings, warehouse: Path, erase: bool = False, workers: int = 1) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(warehouse))
    pii = duckdb.connect(str(warehouse.with_suffix(".pii.duckdb")))
    days = landed_days(settings.landing)
    for source in LOAD_ORDER:
        ingest_days(con, settings.landing, source, days, KEY, pii, workers=workers)
    if erase:
        apply_erasures(con, pii)
    pii.close()
    return con


def checksum(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Content of every raw table and the quarantine, without load times and batch ids."""
    out = {}
    for source in LOAD_ORDER:
        cols = [c for c, _ in raw_columns(CONTRACTS[source]) if c not in ("_loaded_at", "_batch_id")]
        rows = con.execute(f"select {', '.join(cols)} from raw.{source} order by all").fetchall()
        out[source] = hashlib.sha256(repr(rows).encode()).hexdigest()
    q = con.execute("select source, _source_file, _row_number, reason_code from raw.quarantine order by all").fetchall()
    out["quarantine"] = hashlib.sha256(repr(q).encode()).hexdigest()
    return out


def test_every_fault_is_quarantined_with_its_reason_and_every_clean_row_loads(dirty_world, tmp_path):
    settings, truth = dirty_world
    con = ingest_all(settings, tmp_path / "w.duckdb")
    with open(settings.world_manifest / "faults.csv", newline="", encoding="utf-8") as f:
        faults = list(csv.DictReader(f))
    assert len(faults) > 100
    expected = {
        (f["file"].removeprefix("landing/"), int(f["row_number"]), f["expected_reason"])
        for f in faults
        if f["expected_reason"] != "loaded"
    }
    found = set(con.execute("select _source_file, _row_number, reason_code from raw.quarantine").fetchall())
    assert expected - found == set(), "planted faults missing from quarantine (or quarantined for another reason)"
    assert found - expected == set(), "clean rows quarantined"
    for source, n in truth["world"]["counts"].items():
        loaded = con.execute(f"select count(*) from raw.{source}").fetchone()[0]
        assert loaded == n, f"{source}: {loaded} loaded, {n} clean rows in the world"
    files_meant_to_load = {f["file"].removeprefix("landing/") for f in faults if f["expected_reason"] == "loaded"}
    statuses = dict(con.execute("select _source_file, file_status from raw.load_log").fetchall())
    assert {statuses[f] for f in files_meant_to_load} == {"loaded"}, "GBK, BOM+CRLF and extra-column files load"
    unbalanced = con.execute(
        "select count(*) from raw.load_log where rows_read <> rows_loaded + rows_quarantined"
    ).fetchone()[0]
    assert unbalanced == 0


def test_a_killed_load_then_a_rerun_equals_one_clean_load(dirty_world, tmp_path):
    settings, _ = dirty_world
    reference = checksum(ingest_all(settings, tmp_path / "reference.duckdb", erase=True))
    target = tmp_path / "killed.duckdb"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from ingestion.settings import Settings
        from tests.integration.test_ingestion_world import ingest_all
        ingest_all(Settings(home=Path({str(settings.home)!r})), Path({str(target)!r}), erase=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    time.sleep(6)  # long enough to be inside a load, short of the whole world
    assert proc.poll() is None, "the load finished before it could be killed; give the world more days"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rerun = ingest_all(settings, target, erase=True)
    assert checksum(rerun) == reference


def test_column_wise_check_equals_the_row_by_row_reference(dirty_world):
    """check_file (a value checked once per column, rows checked one by one only when something fails) gives what
    check_file_by_row gives on every file of the dirty world: the same rows, values, hashes, reasons and messages."""
    import copy
    import datetime as dt

    from ingestion.load import read_seed_column
    from ingestion.readers import FileRejected, iter_landed_files, read_file
    from ingestion.validate import Context, check_file, check_file_by_row

    settings, _ = dirty_world
    ctx = Context(
        now=dt.datetime(2100, 1, 1),
        key=KEY,
        competency_labels=read_seed_column("competency_labels.csv", "label"),
        rating_words=read_seed_column("rating_words.csv", "word"),
    )
    files = quarantined = 0
    for source in LOAD_ORDER:
        contract = CONTRACTS[source]
        for day in landed_days(settings.landing, source):
            for path in iter_landed_files(settings.landing / source / day.isoformat()):
                try:
                    parsed = read_file(path)
                    reference = check_file_by_row(contract, parsed, path.name, copy.deepcopy(ctx))
                except FileRejected:
                    continue
                outcome = check_file(contract, parsed, path.name, ctx)
                assert outcome.columns == reference.columns, path
                assert outcome.quarantined == reference.quarantined, path
                assert outcome.extra_columns == reference.extra_columns, path
                files += 1
                quarantined += len(outcome.quarantined)
    assert files > 1000 and quarantined > 100


def test_reading_days_in_worker_processes_loads_what_one_process_loads(dirty_world, tmp_path):
    settings, _ = dirty_world
    one = ingest_all(settings, tmp_path / "one.duckdb")
    two = ingest_all(settings, tmp_path / "two.duckdb", workers=2)
    assert checksum(two) == checksum(one)
    log = "select source, _source_file, rows_read, rows_loaded, rows_quarantined from raw.load_log order by all"
    assert two.execute(log).fetchall() == one.execute(log).fetchall()
