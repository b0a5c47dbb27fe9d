"""The talentloop command: generate a world, run the pipeline, see its status."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import textwrap
from pathlib import Path

from ingestion.settings import Settings

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
    finally:
        con.close()
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

    s = sub.add_parser("status", help="what is published, and what each source loaded")
    s.set_defaults(func=cmd_status)
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
