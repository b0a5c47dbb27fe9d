"""The dbt project as Dagster assets: one asset per model and seed, dbt tests as asset checks."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

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
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """dbt build: seeds, models and their tests, in dependency order."""
    yield from dbt.cli(["build"], context=context).stream()
