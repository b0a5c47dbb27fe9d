"""Model assets: read marts, fit, write ml.* with a version per run."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from ml.agreement import rater_agreement
from ml.outputs import write_model_output


@dg.asset(
    key=["ml", "rater_agreement"],
    deps=[dg.AssetKey(["marts", "interview_ratings"])],
    group_name="ml",
    kinds={"python", "duckdb"},
    pool="duckdb_writer",
)
def rater_agreement_asset(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    """Agreement between the AI rater and the human panel, per job family and competency."""
    with warehouse.get_connection() as con:
        ratings = con.execute(
            "select interview_id, rater_type, competency_code, job_family, score_normalised "
            "from marts.interview_ratings"
        ).df()
        table = rater_agreement(ratings)
        version = write_model_output(con, "rater_agreement", table, context.run_id, {"method": "pearson"})
    return dg.MaterializeResult(
        metadata={
            "rows": len(table),
            "model_version": version,
            "median_r": float(table["r"].median()) if len(table) else float("nan"),
        }
    )


model_assets = [rater_agreement_asset]
