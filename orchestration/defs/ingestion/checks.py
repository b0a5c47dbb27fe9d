"""Reconciliation: every row read is either loaded or quarantined, file by file."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from data_quality.reconciliation import unreconciled_files
from ingestion.load import LOAD_ORDER


def build_reconciliation_check(source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["raw", source]), name="rows_reconcile", blocking=True)
    def _check(warehouse: DuckDBResource) -> dg.AssetCheckResult:
        """Rows read equal rows loaded plus rows quarantined, for every file."""
        with warehouse.get_connection() as con:
            bad = unreconciled_files(con, source)
        return dg.AssetCheckResult(
            passed=not bad,
            metadata={"unreconciled_files": dg.MetadataValue.json(bad[:50]), "count": len(bad)},
        )

    return _check


reconciliation_checks = [build_reconciliation_check(s) for s in LOAD_ORDER]
