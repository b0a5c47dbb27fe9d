"""The talentloop command: generate a world, run the pipeline, see its status."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import textwrap
from pathlib import Path

from ingestion.settings import Settings
from orchestration import audit

DAGSTER_YAML = """\
# Written by talentloop: one run at a time, because DuckDB has one writer per file.
concurrency:
  runs:
    max_concurrent_runs: 1
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def prepare_instance(settings: Settings) -> Path:
    """DAGSTER_HOME under the data home, with the single-writer run limit."""
    dagster_home = settings.home / "dagster"
    dagster_home.mkdir(parents=True, exist_ok=True)
    cfg = dagster_home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ.update(settings.env())
    return dagster_home


def cmd_generate(args: argparse.Namespace) -> int:
    from ingestion.generator import generate

    settings = Settings.from_env().ensure()
    out = Path(args.out).resolve() if args.out else settings.home
    truth = generate(
        out_dir=out,
        candidates=args.candidates,
        days=args.days,
        seed=args.seed,
        dirty=args.dirty,
        start_date=dt.date.fromisoformat(args.start_date),
        overwrite=getattr(args, "overwrite", False),
    )
    counts = truth.get("counts", {})
    print(f"Generated a world of {args.candidates:,} candidates over {args.days} days (seed {args.seed}) in {out}")
    for source, n in sorted(counts.items()):
        print(f"  {source:<22} {n:>12,}")
    return 0


# Dagster's default SQLite run storage commits every event (planned, materialised) per partition: at ~17 ms a
# commit on this disk class a year of daily partitions x 11 sources costs ~8 minutes of bookkeeping alone. A
# backfill longer than this runs on an in-memory instance; nightly runs (one day) are recorded in full.
RECORDED_BACKFILL_DAYS = 31


STAGES = ("ingest", "warehouse", "models", "publish")
# Which asset groups each build stage materialises (dbt folder = group; app_state feeds the weights history).
STAGE_GROUPS = {
    "warehouse": ("app_state", "seeds", "staging", "intermediate", "marts"),
    "models": ("ml",),
    "publish": ("publish",),
}


def run_pipeline(
    settings: Settings,
    days: list[dt.date] | None = None,
    record: bool | None = None,
    stages: tuple[str, ...] = STAGES,
    step_seconds: dict[str, float] | None = None,
) -> dict:
    """Ingest the landed days, then build, fit and publish, all in this process; returns success per stage.
    `step_seconds`, when given, receives each successful Dagster step's duration (for the benchmark)."""
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from ingestion.load import landed_days
    from orchestration.resources import prepare_dbt_manifest

    prepare_instance(settings)
    prepare_dbt_manifest(settings=settings)
    from orchestration.definitions import defs

    days = days or landed_days(settings.landing)
    if record is None:
        record = len(days) <= RECORDED_BACKFILL_DAYS
    instance = dg.DagsterInstance.get() if record else dg.DagsterInstance.ephemeral()
    results: dict[str, bool] = {}
    if "ingest" in stages and days:
        start, end = days[0].isoformat(), days[-1].isoformat()
        if not record:
            print(f"Backfilling {len(days)} landing days without recording per-partition run history.")
        tags = {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}
        done = defs.resolve_job_def("ingest").execute_in_process(instance=instance, tags=tags)
        _record_step_seconds(done, step_seconds)
        results["ingest"] = done.success
        if not results["ingest"]:
            return results
    build_stages = [s for s in stages if s in STAGE_GROUPS]
    if build_stages == list(STAGE_GROUPS):
        done = defs.resolve_job_def("build_warehouse").execute_in_process(instance=instance)
        _record_step_seconds(done, step_seconds)
        results["build_warehouse"] = done.success
        return results
    graph = defs.resolve_asset_graph()
    for stage in build_stages:
        keys = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name in STAGE_GROUPS[stage]}
        job = defs.resolve_job_def("build_warehouse").get_subset(asset_selection=keys)
        done = job.execute_in_process(instance=instance)
        _record_step_seconds(done, step_seconds)
        results[stage] = done.success
        if not results[stage]:
            break
    return results


def _record_step_seconds(done, into: dict[str, float] | None) -> None:
    if into is None:
        return
    for event in done.all_events:
        if event.is_step_success:
            into[event.step_key] = round(event.event_specific_data.duration_ms / 1000, 2)


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env().ensure()
    from ingestion.load import landed_days

    if not landed_days(settings.landing):
        print(f"No landed files under {settings.landing}: generating the demo world first.")
        cmd_generate(
            argparse.Namespace(
                out=None, candidates=args.candidates, days=args.days, seed=7, dirty=0.0, start_date="2024-01-01"
            )
        )
    days = None
    if args.day:
        days = [dt.date.fromisoformat(args.day)]
    problem = key_problem(settings)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    results = run_pipeline(settings, days)
    ok = all(results.values())
    print(
        textwrap.dedent(
            f"""
            Pipeline {"succeeded" if ok else "FAILED"}: {results}
            Data home:           {settings.home}
            Warehouse (writer):  {settings.warehouse}
            Published snapshot:  {settings.published}/CURRENT
            Dashboards:          make dashboard   (then open http://localhost:8501)
            Dagster UI:          make dagster     (then open http://localhost:3000)
            Status:              .venv/bin/talentloop status
            """
        )
    )
    if not settings.app_state.exists():
        print("No dashboard account exists yet. Create the first administrator with:")
        print("  .venv/bin/talentloop user add --username NAME --role admin")
    return 0 if ok else 1


def cmd_prepare(args: argparse.Namespace) -> int:
    """Data home, Dagster instance config and the dbt manifest, so `dagster dev` loads with no error."""
    from orchestration.resources import prepare_dbt_manifest

    settings = Settings.from_env().ensure()
    dagster_home = prepare_instance(settings)
    prepare_dbt_manifest(force=True, settings=settings)
    print(f"Data home {settings.home}; DAGSTER_HOME {dagster_home}; dbt manifest parsed.")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    import duckdb

    settings = Settings.from_env()
    snap = settings.current_snapshot()
    print(f"Data home: {settings.home}")
    if snap is None:
        print("Nothing published yet: run `make run`.")
        return 1
    con = duckdb.connect(str(snap), read_only=True)
    try:
        info = con.execute("select run_id, published_at, landed_through, tables from ops.publish_info").fetchone()
        print(f"Published: {snap.name} at {info[1]:%Y-%m-%d %H:%M} UTC (run {info[0][:8]}), landed through {info[2]}")
        print(f"Tables: {info[3]}")
        for source, files, read, loaded, quarantined in con.execute(
            "select source, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined) "
            "from ops.load_log group by 1 order by 1"
        ).fetchall():
            counts = f"read {read:>10,}  loaded {loaded:>10,}  quarantined {quarantined:>8,}"
            print(f"  {source:<22} files {files:>6,}  {counts}")
        published_erasures = (
            con.execute("select * from ops.erasure_status").fetchall() if _has(con, "ops", "erasure_status") else []
        )
    finally:
        con.close()
    print_erasure_status(settings, published_erasures)
    return 0


def _has(con, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
        ).fetchall()[0][0]
    )


def print_erasure_status(settings: Settings, published: list[tuple]) -> None:
    """Erasure requests by status, unresolved ones listed: from the warehouse when no run holds it (the latest
    state), else as last published."""
    import duckdb

    from ingestion.erasure import status_rows

    rows, source = published, "as last published"
    if settings.warehouse.exists():
        try:
            con = duckdb.connect(str(settings.warehouse), read_only=True)
        except duckdb.Error:
            pass  # a run holds the warehouse: the published state stands
        else:
            try:
                rows, source = status_rows(con), "now"
            finally:
                con.close()
    if not rows:
        print("Erasure requests: none")
        return
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row[2]] = by_status.get(row[2], 0) + 1
    unverified = sum(1 for r in rows if r[2] == "applied" and r[1] == "all" and r[8] is None)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
    print(f"Erasure requests ({source}): {summary}; {unverified} applied but not yet verified")
    for request, scope, status, requested_at, _seen, attempts, _applied, retry_until, _verified in rows:
        if status in ("unmatched", "expired", "pending"):
            until = f"retried until {retry_until:%Y-%m-%d}" if status == "unmatched" else "no longer retried: check it"
            print(
                f"  {status.upper():<9} request {request} ({scope}) requested {requested_at:%Y-%m-%d}, "
                f"{attempts} attempts, matched nothing; {until}"
            )


def key_problem(settings: Settings) -> str | None:
    """Why the pseudonym key cannot be used for a run (missing with data present, not the data's key, rotation
    unfinished), or None. Creates the key in a data home that holds no data yet."""
    import duckdb

    from ingestion.privacy import (
        PseudonymKeyError,
        key_fingerprint,
        load_or_create_key,
        read_key,
        warehouse_fingerprint,
        warehouse_has_data,
    )

    present, recorded = None, None
    if settings.warehouse.exists():
        try:
            con = duckdb.connect(str(settings.warehouse), read_only=True)
        except duckdb.Error:
            return None  # a run holds it: that run's own check stands, and this one would queue behind it
        try:
            present, recorded = warehouse_has_data(con), warehouse_fingerprint(con)
        finally:
            con.close()
    try:
        key = load_or_create_key(settings.pseudonym_key_file, data_present=present)
    except PseudonymKeyError as exc:
        return str(exc)
    if recorded is not None and recorded != key_fingerprint(key):
        source = read_key(settings.pseudonym_key_file)[1]
        return (
            f"The pseudonym key from {source} (fingerprint {key_fingerprint(key)}) is not the key the warehouse's data "
            f"was made with (fingerprint {recorded}, in ops.key_fingerprint). Use the original key; to change keys on "
            "purpose run `talentloop key rotate`. Nothing was changed."
        )
    return None


def cmd_erasure(args: argparse.Namespace) -> int:
    """talentloop erasure verify ID [ID ...]: exit 0 when no byte of them is left, 1 on any hit, 2 when a file
    could not be searched or the key is unusable."""
    from ingestion.erasure_verify import format_report, verify
    from ingestion.privacy import PseudonymKeyError, read_key

    settings = Settings.from_env()
    key, source = read_key(settings.pseudonym_key_file)
    if key is None:
        print(f"No pseudonym key ({source}): ids cannot be turned into pseudonyms to search for.", file=sys.stderr)
        return 2
    problem = key_problem(settings)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        report = verify(settings, args.ids, key, record=not args.keep_evidence)
    except PseudonymKeyError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(format_report(report, limit=args.max_hits))
    if report.hits:
        return 1
    return 2 if report.incomplete else 0


def cmd_key(args: argparse.Namespace) -> int:
    """talentloop key check | rotate [--dry-run] [--force]."""
    import duckdb

    from ingestion.privacy import PseudonymKeyError, key_fingerprint, read_key, recorded_fingerprint

    settings = Settings.from_env()
    if args.key_command == "check":
        key, source = read_key(settings.pseudonym_key_file)
        print(f"Key: {source}" + (f", fingerprint {key_fingerprint(key)}" if key else " (missing)"))
        print(f"Recorded in restricted/: {recorded_fingerprint(settings.pseudonym_key_file) or '(none)'}")
        problem = key_problem(settings)
        print(problem or "The key matches the data.")
        return 2 if problem else 0
    from ingestion.key_rotation import rotate
    from orchestration.publish import publish_snapshot

    try:
        report = rotate(settings, dry_run=args.dry_run, force=args.force)
    except PseudonymKeyError as exc:
        print(exc, file=sys.stderr)
        return 2
    verb = "Would re-key" if report.dry_run else "Re-keyed"
    print(f"{verb} {sum(report.updated.values()):,} values ({report.mapped:,} pseudonyms mapped from landing/):")
    for target, n in sorted(report.updated.items()):
        print(f"  {target:<60} {n:>10,}")
    if report.stale_tombstones:
        print(
            f"{report.stale_tombstones:,} erasure tombstones were made under the old key: they still record what was "
            "erased, but no longer stop a row re-sent for those people (ask the source systems to erase them too)."
        )
    if report.dry_run:
        return 0
    print(f"Key {report.old_fingerprint} -> {report.new_fingerprint}; warehouse and restricted store compacted.")
    if settings.current_snapshot() is not None:
        con = duckdb.connect(str(settings.warehouse), config=settings.duckdb_config())
        try:
            path = publish_snapshot(con, settings.published, "key-rotation", only_this=True)
        finally:
            con.close()
        print(f"Published {path.name} under the new key; older snapshots deleted.")
    return 0


def cmd_user(argv: list[str]) -> int:
    """Accounts live with the dashboards; orchestration does not import them, it hands over the command line."""
    import subprocess

    return subprocess.call([sys.executable, "-m", "dashboards.users", *argv])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="talentloop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write a sample world with planted truth into the landing folder")
    g.add_argument("--candidates", type=int, default=2000)
    g.add_argument("--days", type=int, default=540)
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--dirty", type=float, default=0.0, help="rate of injected faults, e.g. 0.02")
    g.add_argument("--start-date", default="2024-01-01")
    g.add_argument("--out", help="data home to write into (default: TALENTLOOP_HOME)")
    g.add_argument("--overwrite", action="store_true", help="replace a world already landed there")
    g.set_defaults(func=cmd_generate)

    r = sub.add_parser("run", help="ingest landed files, build the warehouse, fit models, publish")
    r.add_argument("--day", help="ingest only this landing day (YYYY-MM-DD)")
    r.add_argument("--candidates", type=int, default=2000, help="size of the demo world if none is landed")
    r.add_argument("--days", type=int, default=540, help="days of the demo world if none is landed")
    r.set_defaults(func=cmd_run)

    p = sub.add_parser("prepare", help="set up the data home, Dagster instance and dbt manifest")
    p.set_defaults(func=cmd_prepare)
    sub.add_parser("migrate", help="import a legacy HR export through a mapping (see `talentloop migrate -h`)")
    sub.add_parser("user", help="dashboard accounts: add, passwd, role, disable, list (see `talentloop user -h`)")

    s = sub.add_parser("status", help="what is published, what each source loaded, erasure requests")
    s.set_defaults(func=cmd_status)

    e = sub.add_parser("erasure", help="erasure requests: verify that no byte of a person is left")
    esub = e.add_subparsers(dest="erasure_command", required=True)
    v = esub.add_parser("verify", help="search every file of the data home for the people of these requests")
    v.add_argument("ids", nargs="+", metavar="ID", help="candidate ids as the erasure requests name them")
    v.add_argument("--keep-evidence", action="store_true", help="keep the evidence in restricted/ after a pass")
    v.add_argument("--max-hits", type=int, default=200, help="hits to list (all are counted)")
    e.set_defaults(func=cmd_erasure)

    k = sub.add_parser("key", help="the pseudonym key: check it against the data, or rotate it")
    ksub = k.add_subparsers(dest="key_command", required=True)
    ksub.add_parser("check", help="whether the key is the one the data was made with")
    rot = ksub.add_parser("rotate", help="new key; re-pseudonymise every table and file consistently")
    rot.add_argument("--dry-run", action="store_true", help="count what would be re-keyed, change nothing")
    rot.add_argument("--force", action="store_true", help="rotate although erasures wait for verification")
    k.set_defaults(func=cmd_key)

    audit.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["user"]:
        return cmd_user(argv[1:])
    if argv[:1] == ["migrate"]:
        from ingestion.migrate import main as migrate_main

        return migrate_main(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
