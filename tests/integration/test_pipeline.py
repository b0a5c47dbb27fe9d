"""The whole graph on a small generated world: landed files to the published snapshot a dashboard reads."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pandas as pd
import pytest

from ingestion.load import read_seed_column
from ingestion.readers import read_file
from ingestion.validate import normalise_label
from tests.conftest import landing_files

pytestmark = pytest.mark.slow


def _landed(settings, source: str) -> pd.DataFrame:
    frames = []
    for path in landing_files(settings, source):
        parsed = read_file(path)
        frames.append(pd.DataFrame([r.values for r in parsed.records if r.values is not None]))
    if not frames:
        from ingestion.contracts import CONTRACTS

        return pd.DataFrame(columns=list(CONTRACTS[source].column_names))
    return pd.concat(frames, ignore_index=True)


def test_mart_rows_match_an_independent_count_from_the_landed_files(built_home):
    """interview_ratings holds one row per interview x rater x competency of consenting candidates."""
    candidates = _landed(built_home, "candidates")
    consenting = set(candidates.loc[candidates["consent_analytics"].str.lower() == "true", "candidate_id"])
    erasures = _landed(built_home, "erasure_requests")
    consenting -= set(erasures.loc[erasures["scope"].fillna("all").isin(["all", "analytics"]), "candidate_id"])
    interviews = _landed(built_home, "interviews")
    interviews = interviews[interviews["candidate_id"].isin(consenting)]
    scores = _landed(built_home, "interview_scores")
    labels = pd.read_csv("dbt_project/seeds/competency_labels.csv")
    code = {normalise_label(k): v for k, v in zip(labels["label"], labels["competency_code"], strict=True)}
    scores = scores[scores["interview_id"].isin(set(interviews["interview_id"]))].copy()
    scores["code"] = scores["competency"].map(lambda s: code.get(normalise_label(s)))
    expected = scores.drop_duplicates(["interview_id", "rater_id", "code"]).shape[0]
    assert expected > 1000
    snapshot = built_home.current_snapshot()
    with duckdb.connect(str(snapshot), read_only=True) as con:
        got = con.execute("select count(*) from marts.interview_ratings").fetchone()[0]
        agreement = con.execute("select count(*), min(n_interviews) from ml.rater_agreement").fetchone()
        published = con.execute("select count(*) from ops.load_log").fetchone()[0]
    assert got == expected
    assert agreement[0] > 0 and agreement[1] > 0
    assert published > 0
    assert read_seed_column("competency_labels.csv", "label")


def test_dashboard_reads_the_snapshot_while_the_pipeline_writes_and_publishes(built_home):
    """Another process holds the warehouse and publishes new snapshots; readers see no lock error, one view each."""
    script = textwrap.dedent(
        f"""
        import duckdb, pathlib
        from orchestration.publish import publish_snapshot
        con = duckdb.connect({str(built_home.warehouse)!r})
        for i in range(4):
            con.execute("create or replace table main.busy as select range as i from range(200000)")
            publish_snapshot(con, pathlib.Path({str(built_home.published)!r}), f"concurrent-{{i}}")
        """
    )
    writer = subprocess.Popen([sys.executable, "-c", script])
    errors: list[Exception] = []
    seen: set[int] = set()
    try:
        while writer.poll() is None:
            try:
                with duckdb.connect(str(built_home.current_snapshot()), read_only=True) as reader:
                    seen.add(reader.execute("select count(*) from marts.interview_ratings").fetchone()[0])
            except duckdb.Error as exc:
                errors.append(exc)
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0
    assert errors == []
    assert len(seen) == 1, "every snapshot is complete: the same mart row count each time"


def test_a_failed_blocking_check_stops_publish_and_loses_nothing(built_home, monkeypatch):
    """Model output out of bounds: the check fails, publish does not run, the last snapshot stays current."""
    import dagster as dg

    from orchestration.defs.models import assets as model_assets
    from orchestration.defs.publish.assets import published_snapshot
    from orchestration.defs.quality.checks import gx_checks
    from orchestration.resources import build_resources

    def broken(ratings):
        return pd.DataFrame(
            {
                "job_family": ["sales"],
                "competency_code": ["communication"],
                "r": [1.7],
                "ci_low": [None],
                "ci_high": [None],
                "n_interviews": [40],
                "mean_ai": [0.5],
                "mean_human": [0.5],
            }
        )

    monkeypatch.setattr(model_assets, "rater_agreement", broken)
    before = built_home.current_snapshot()
    check = next(c for c in gx_checks if any(k.name == "agreement_within_bounds" for k in c.check_keys))
    result = dg.materialize(
        [model_assets.rater_agreement_asset, published_snapshot, check],
        resources=build_resources(built_home),
        raise_on_error=False,
    )
    evaluations = result.get_asset_check_evaluations()
    assert [e.passed for e in evaluations] == [False]
    assert dg.AssetKey(["published_snapshot"]) not in {m.asset_key for m in result.get_asset_materialization_events()}
    assert built_home.current_snapshot() == before
    with duckdb.connect(str(built_home.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from ml.rater_agreement_history").fetchone()[0] >= 2, "history kept"


def test_every_check_outcome_is_published_for_the_data_quality_page(built_home):
    """Each Great Expectations suite and each dbt test of the run is in the snapshot's check-results ledger."""
    from data_quality.expectations import CHECKS

    with duckdb.connect(str(built_home.current_snapshot()), read_only=True) as con:
        rows = con.execute(
            "select kind, check_name, passed, severity from ops.check_results "
            "qualify row_number() over (partition by kind, check_name order by checked_at desc) = 1"
        ).df()
    gx = rows[rows["kind"] == "great_expectations"]
    dbt = rows[rows["kind"] == "dbt_test"]
    assert set(gx["check_name"]) == {c.name for c in CHECKS}
    assert len(dbt) > 100  # every dbt test of the project, one row each
    # The generated clean world passes every blocking check (a failure would have stopped the publish).
    assert rows.loc[rows["severity"] == "error", "passed"].all()
