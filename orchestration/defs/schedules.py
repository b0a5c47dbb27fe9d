"""The nightly schedule, the landing-folder sensor, and the hand-off from ingestion to the warehouse build."""

import datetime as dt
import hashlib
import json

import dagster as dg

from ingestion.settings import Settings
from orchestration.defs.ingestion.assets import daily

ingest_job = dg.define_asset_job(
    "ingest", selection=dg.AssetSelection.groups("raw"), partitions_def=daily, description="Load landed files by day."
)
build_job = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("raw"),
    description="dbt build, model fits and publish.",
)


@dg.schedule(job=ingest_job, cron_schedule="0 2 * * *", execution_timezone="UTC")
def nightly(context: dg.ScheduleEvaluationContext):
    """At 02:00 UTC, ingest the day that just ended; the warehouse build follows on success."""
    day = (context.scheduled_execution_time - dt.timedelta(days=1)).date().isoformat()
    return dg.RunRequest(run_key=f"nightly-{day}", partition_key=day)


def landing_fingerprints(settings: Settings) -> dict[str, str]:
    """One fingerprint per landing day: the names, sizes and modification times of its files."""
    by_day: dict[str, list[str]] = {}
    if not settings.landing.is_dir():
        return {}
    for source_dir in sorted(p for p in settings.landing.iterdir() if p.is_dir()):
        for day_dir in sorted(p for p in source_dir.iterdir() if p.is_dir()):
            for f in sorted(p for p in day_dir.rglob("*") if p.is_file()):
                st = f.stat()
                by_day.setdefault(day_dir.name, []).append(
                    f"{f.relative_to(settings.landing)}:{st.st_size}:{st.st_mtime_ns}"
                )
    return {day: hashlib.sha1("\n".join(items).encode()).hexdigest() for day, items in by_day.items()}


@dg.sensor(job=ingest_job, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext):
    """A day whose landed files changed (new, replaced, late corrections) is ingested again."""
    seen = json.loads(context.cursor) if context.cursor else {}
    now = landing_fingerprints(Settings.from_env())
    valid = set(daily.get_partition_keys())
    for day, fingerprint in sorted(now.items()):
        if seen.get(day) != fingerprint and day in valid:
            yield dg.RunRequest(run_key=f"landing-{day}-{fingerprint[:12]}", partition_key=day)
    context.update_cursor(json.dumps(now))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=build_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def build_after_ingest(context: dg.RunStatusSensorContext):
    """Rebuild the warehouse once an ingestion run succeeds (runs are queued one at a time: one DuckDB writer)."""
    return dg.RunRequest(run_key=f"build-after-{context.dagster_run.run_id}")


schedules = [nightly]
sensors = [landing_sensor, build_after_ingest]
jobs = [ingest_job, build_job]
