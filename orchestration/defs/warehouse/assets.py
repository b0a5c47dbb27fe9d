"""The dbt project as Dagster assets: one asset per model and seed, dbt tests as asset checks."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_duckdb import DuckDBResource

from data_quality.results import DBT_TEST, CheckResult, record_check_results
from orchestration.resources import dbt_project, prepare_dbt_manifest

prepare_dbt_manifest()


class TalentLoopTranslator(DagsterDbtTranslator):
    """dbt folder = Dagster group = warehouse schema (staging, intermediate, marts, seeds)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props.get("resource_type") in ("model", "seed", "snapshot"):
            return spec.replace_attributes(group_name=props.get("schema") or "warehouse")
        return spec


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=TalentLoopTranslator(),
    pool="duckdb_writer",
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: DuckDBResource):
    """dbt build: seeds, models and their tests, in dependency order; test outcomes go to the check-results ledger."""
    results: list[CheckResult] = []
    try:
        for event in dbt.cli(["build"], context=context).stream():
            if isinstance(event, dg.AssetCheckResult):
                results.append(dbt_test_result(event))
            yield event
    finally:
        # dbt has exited (a failed build raises only after its process ends), so the warehouse is free to write.
        if results:
            with warehouse.get_connection() as con:
                record_check_results(con, results, context.run_id)


def dbt_test_result(event: dg.AssetCheckResult) -> CheckResult:
    failed = event.metadata.get("dagster_dbt/failed_row_count")
    status = event.metadata.get("status")
    value = lambda m: getattr(m, "value", m)  # noqa: E731
    return CheckResult(
        kind=DBT_TEST,
        check_name=event.check_name,
        asset=".".join(event.asset_key.path),
        severity="error" if event.severity == dg.AssetCheckSeverity.ERROR else "warn",
        passed=bool(event.passed),
        failing_rows=None if failed is None else int(value(failed)),
        detail=None if status is None or event.passed else str(value(status)),
    )
