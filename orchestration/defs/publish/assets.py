"""Publish a read-only snapshot for dashboards once the warehouse and models are built."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.models.assets import model_assets
from orchestration.defs.warehouse.assets import warehouse_dbt_assets
from orchestration.publish import publish_snapshot
from orchestration.resources import TalentLoopHome

_upstream = sorted(
    [k for k in warehouse_dbt_assets.keys if warehouse_dbt_assets.specs_by_key[k].group_name == "marts"]
    + [k for a in model_assets for k in a.keys],
    key=lambda k: k.to_user_string(),
)


@dg.asset(key=["published_snapshot"], deps=_upstream, group_name="publish", kinds={"duckdb"}, pool="duckdb_writer")
def published_snapshot(context: dg.AssetExecutionContext, talentloop: TalentLoopHome, warehouse: DuckDBResource):
    """A consistent read-only copy of marts and ml for dashboards, swapped in atomically."""
    with warehouse.get_connection() as con:
        path = publish_snapshot(con, talentloop.settings.published, context.run_id)
    return dg.MaterializeResult(metadata={"path": str(path), "size_mb": round(path.stat().st_size / 1e6, 2)})
