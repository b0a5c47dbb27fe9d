"""The Dagster code location: every domain's assets, checks, jobs, schedules and sensors."""

import dagster as dg

from orchestration.defs import schedules
from orchestration.defs.ingestion.assets import ingestion_assets, review_decisions
from orchestration.defs.ingestion.checks import reconciliation_checks
from orchestration.defs.models.assets import model_assets
from orchestration.defs.publish.assets import published_snapshot
from orchestration.defs.quality.checks import gx_checks
from orchestration.defs.warehouse.assets import warehouse_dbt_assets
from orchestration.resources import build_resources

defs = dg.Definitions(
    assets=[*ingestion_assets, review_decisions, warehouse_dbt_assets, *model_assets, published_snapshot],
    asset_checks=[*reconciliation_checks, *gx_checks],
    jobs=schedules.jobs,
    schedules=schedules.schedules,
    sensors=schedules.sensors,
    resources=build_resources(),
    executor=dg.in_process_executor,  # one process, one DuckDB writer; dbt runs as its child
)
