"""The model assets on a temporary DuckDB holding hand-made marts: SQL loads, versioned writes, fit metadata."""

from __future__ import annotations

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from ml import pipeline
from orchestration.defs.models import assets as model_assets
from tests.unit.ml.test_ml_pipeline import small_world

FITTED = [
    model_assets.validity_asset,
    model_assets.recommendation_assets,
    model_assets.turnover_assets,
    model_assets.text_assets,
    model_assets.complaint_asset,
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    hires, applicants, weights = small_world(n_applicants=500)
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    candidates = applicants[["candidate_key", "gender", "ethnicity"]].assign(
        consent_recording=True, is_recording_erased=False
    )
    interviews = applicants.drop(columns=["gender", "ethnicity", "hired"]).assign(is_completed=True)
    care_text = "I always listen to the customer first."
    segments = pd.DataFrame(
        {
            "interview_id": hires["interview_id"],
            "segment_no": 1,
            "question_id": "Q05",
            "speaker": "candidate",
            "start_seconds": 0.0,
            "end_seconds": 20.0,
            "segment_text": [care_text if c else "I wrote a short summary afterwards." for c in hires["care"]],
            "language": "en",
            # Staging columns the text features' change detection reads.
            "landed_on": pd.Timestamp("2023-09-01").date(),
            "loaded_at": pd.Timestamp("2023-09-01 02:00"),
        }
    )
    resumes = pd.DataFrame(
        {
            "resume_id": [f"R{i}" for i in range(len(hires))],
            "candidate_key": hires["candidate_key"],
            "received_at": pd.Timestamp("2023-08-01"),
            "resume_text": "Engineer with 4 years of experience. Bachelor's degree. SKILLS Python, SQL",
            "landed_on": pd.Timestamp("2023-08-01").date(),
            "loaded_at": pd.Timestamp("2023-08-01 02:00"),
        }
    )
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema staging; create schema raw")
        # write_model_output records the landing snapshot from raw.load_log, which every real warehouse has.
        con.execute("create table raw.load_log as select date '2025-08-31' as _partition_date, now() as _loaded_at")
        for name, frame in {
            "marts.hires": hires.drop(columns=["gender", "ethnicity", "hired"]),
            "marts.interviews": interviews,
            # small_world's applicants are one row per candidate x family already: the pool dbt would build.
            "marts.applicant_pool": applicants,
            "marts.candidates": candidates,
            "marts.job_families": weights,
            "staging.stg_interview_vendor__transcript_segments": segments,
            "staging.stg_ats__resumes": resumes,
        }.items():
            con.register("_frame", frame)
            con.execute(f"create table {name} as select * from _frame")
            con.unregister("_frame")
    result = dg.materialize(
        FITTED,
        resources={"warehouse": DuckDBResource(database=str(path))},
        run_config={"ops": {"recommendation_assets": {"config": {"bootstrap_reps": 10, "min_hires": 40}}}},
    )
    assert result.success
    return path, result, hires


def test_every_table_is_written_with_its_contract_and_a_registry_row(warehouse):
    path, _, _ = warehouse
    with duckdb.connect(str(path), read_only=True) as con:
        for name, contract in pipeline.CONTRACTS.items():
            cols = [r[0] for r in con.execute(f"describe ml.{name}").fetchall()]
            assert cols[: len(contract)] == list(contract), name
            assert "model_version" in cols
            assert con.execute(f"select count(*) from ml.{name}_history").fetchone()[0] > 0, name
        runs = con.execute("select model, parameters, metrics from ml.model_runs").df().set_index("model")
        assert set(pipeline.CONTRACTS) <= set(runs.index)
        ids = con.execute("select distinct recommendation_id from ml.recommendation_weights").fetchall()
        recs = con.execute("select recommendation_id, status from ml.recommendations").fetchall()
    assert {r[0] for r in ids} <= {r[0] for r in recs} and all(r[1] in ("recommended", "keep_current") for r in recs)
    assert '"bootstrap_reps": 10' in runs.at["recommendations", "parameters"]


def test_fit_statistics_are_asset_metadata(warehouse):
    _, result, _ = warehouse

    def metadata(*key):
        events = result.asset_materializations_for_node(
            {
                "validity": "ml__validity",
                "recommendations": "recommendation_assets",
                "turnover_cox": "turnover_assets",
                "complaint_model": "ml__complaint_model",
            }[key[-1]]
        )
        return next(e.metadata for e in events if e.asset_key == dg.AssetKey(list(key)))

    rec = metadata("ml", "recommendations")
    assert {"lambda", "holdout_r", "n_hires_with_outcomes", "fit_seconds", "model_version"} <= set(rec)
    assert {"concordance_holdout", "n_events"} <= set(metadata("ml", "turnover_cox"))
    assert {"dispersion", "model", "n"} <= set(metadata("ml", "complaint_model"))
    assert "n_hires_with_rating_6m" in metadata("ml", "validity")


def test_complaint_model_reads_the_care_mention_from_the_transcript_features(warehouse):
    path, _, hires = warehouse
    with duckdb.connect(str(path), read_only=True) as con:
        kw = con.execute("select interview_id, kw_customer_orientation from ml.transcript_features").df()
        terms = set(con.execute("select term from ml.complaint_model where scope = 'all'").df()["term"])
    mentioned = set(kw.loc[kw["kw_customer_orientation"] > 0, "interview_id"])
    assert mentioned == set(hires.loc[hires["care"], "interview_id"])
    assert "care_mention" in terms


def test_models_with_too_little_evidence_still_materialise_with_their_reasons(warehouse, tmp_path):
    path, _, _ = warehouse
    copy = tmp_path / "thin.duckdb"
    copy.write_bytes(path.read_bytes())
    gate = {"config": {"min_events_per_term": 10_000}}
    result = dg.materialize(
        [model_assets.turnover_assets, model_assets.complaint_asset],
        resources={"warehouse": DuckDBResource(database=str(copy))},
        run_config={"ops": {"turnover_assets": gate, "ml__complaint_model": gate}},
    )
    assert result.success
    with duckdb.connect(str(copy), read_only=True) as con:
        for name in ("turnover_cox", "complaint_model"):
            rows = con.execute(f"select status, reason from ml.{name}").df()
            assert (rows["status"] == "not_fitted").all() and rows["reason"].str.contains("events for").all()


def test_history_grows_a_column_a_later_fit_adds():
    import duckdb
    import pandas as pd

    from ml.outputs import write_model_output

    con = duckdb.connect()
    write_model_output(con, "demo", pd.DataFrame({"a": [1.0], "b": [None]}), "run-one-0", {})
    write_model_output(con, "demo", pd.DataFrame({"a": [2.0], "b": ["x"], "c": [3]}), "run-two-0", {})
    rows = con.execute("select a, b, c from ml.demo_history order by a").fetchall()
    assert rows == [(1.0, None, None), (2.0, "x", 3)]
    assert con.execute("select count(*) from ml.model_runs").fetchone()[0] == 2
