"""One daily-partitioned raw asset per source contract; each load is delete-then-insert by landing day."""

import datetime as dt
import os
import warnings

import dagster as dg
from dagster_duckdb import DuckDBResource

from ingestion.contracts import CONTRACTS
from ingestion.erasure import any_applied, apply_erasures
from ingestion.erasure_files import compact_database
from ingestion.erasure_verify import purge_expired_evidence
from ingestion.load import LOAD_ORDER, ingest_days, reader_workers
from ingestion.review_decisions import import_decisions
from orchestration.resources import TalentLoopHome

# The first landing day the partitions cover; a deployment with older history sets TALENTLOOP_START_DATE.
START_DATE = os.environ.get("TALENTLOOP_START_DATE", "2024-01-01")
warnings.filterwarnings("ignore", category=dg.BetaWarning)  # the single-run backfill policy is beta, and relied on
daily = dg.DailyPartitionsDefinition(start_date=START_DATE, end_offset=1)


def _upstream(source: str) -> list[dg.AssetKey]:
    refs = {c.references.split(".")[0] for c in CONTRACTS[source].columns if c.references}
    if source == "erasure_requests":
        # Erasures apply after every other source of the day is loaded, so that the cascade sees all of a person's
        # rows (and links their employee records) before it writes the tombstones later loads are checked against.
        refs = set(LOAD_ORDER)
    return [dg.AssetKey(["raw", r]) for r in sorted(refs) if r != source]


def build_ingestion_asset(source: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", source],
        partitions_def=daily,
        # A backfill of a year runs as one run that walks the days in order, not 365 runs.
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=_upstream(source),
        group_name="raw",
        kinds={"duckdb"},
        description=f"Contract-checked rows of {source} by landing day; rejected rows go to raw.quarantine.",
        pool="duckdb_writer",
    )
    def _ingest(context: dg.AssetExecutionContext, talentloop: TalentLoopHome, warehouse: DuckDBResource):
        window = context.partition_time_window
        first, last = window.start.date(), window.end.date() - dt.timedelta(days=1)
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        settings = talentloop.settings
        pii = talentloop.pii_connection()
        erased = []
        try:
            with warehouse.get_connection() as con:
                key = talentloop.pseudonym_key(con)
                results = ingest_days(
                    con, settings.landing, source, days, key, pii, context.run_id, workers=reader_workers()
                )
                if source == "erasure_requests":
                    erased = apply_erasures(con, pii, settings, key)
        finally:
            pii.close()
        if any_applied(erased):
            # Deleted rows stay readable in DuckDB's freed blocks: both files are rewritten without them.
            for database in (settings.warehouse, settings.pii_database):
                compact_database(database, settings.duckdb_config() if database == settings.warehouse else None)
        if source == "erasure_requests":
            purge_expired_evidence(settings)
        quarantined: dict[str, int] = {}
        for r in results:
            for reason, n in r.quarantined_by_reason.items():
                quarantined[reason] = quarantined.get(reason, 0) + n
        return dg.MaterializeResult(
            metadata={
                "days": len(days),
                "files": sum(r.files for r in results),
                "rows_read": sum(r.rows_read for r in results),
                "rows_loaded": sum(r.rows_loaded for r in results),
                "rows_quarantined": sum(r.rows_quarantined for r in results),
                "quarantined_by_reason": dg.MetadataValue.json(quarantined),
                **(_erasure_metadata(erased) if source == "erasure_requests" else {}),
            }
        )

    return _ingest


def _erasure_metadata(records: list[dict]) -> dict:
    """Counts by outcome only: the run's metadata (kept in Dagster's storage) names no one."""
    by_status: dict[str, int] = {}
    for r in records:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    return {
        "erasures_applied": by_status.get("applied", 0),
        "erasures_unmatched": by_status.get("unmatched", 0),
        "erasures_expired": by_status.get("expired", 0),
    }


ingestion_assets = [build_ingestion_asset(s) for s in LOAD_ORDER]


@dg.asset(key=["raw", "review_decisions"], group_name="app_state", kinds={"sqlite", "duckdb"}, pool="duckdb_writer")
def review_decisions(talentloop: TalentLoopHome, warehouse: DuckDBResource) -> dg.MaterializeResult:
    """Talent leaders' weight decisions, copied read-only from the dashboards' store."""
    with warehouse.get_connection() as con:
        n = import_decisions(con, talentloop.settings.app_state)
    return dg.MaterializeResult(metadata={"decisions": n})
