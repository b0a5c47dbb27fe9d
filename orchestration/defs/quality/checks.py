"""Great Expectations suites as Dagster asset checks; a failed blocking check stops the publish step."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from data_quality.expectations import CHECKS, Check, run_check
from data_quality.results import gx_result, record_check_results


def build_gx_check(check: Check) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(check.asset)),
        name=check.name,
        description=check.description,
        blocking=check.blocking,
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as con:
            outcome = run_check(con, check)
            record_check_results(con, [gx_result(check, outcome)], context.run.run_id)
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
            metadata={
                "rows_checked": outcome.rows,
                "expectations": dg.MetadataValue.json(outcome.results),
                **({"skipped": outcome.skipped} if outcome.skipped else {}),
            },
        )

    return _check


gx_checks = [build_gx_check(c) for c in CHECKS]
