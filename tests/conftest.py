"""Shared fixtures: a small generated world, and that world run through the whole pipeline once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingestion.settings import Settings

# Small enough to build in about a minute on 2 cores, large enough for every job family to hire.
SMALL_WORLD = {"candidates": 1500, "days": 420, "seed": 11}


@pytest.fixture(scope="session")
def small_world(tmp_path_factory) -> tuple[Settings, dict]:
    from ingestion.generator import generate

    home = tmp_path_factory.mktemp("home")
    truth = generate(out_dir=home, **SMALL_WORLD)
    return Settings(home=home).ensure(), truth


@pytest.fixture(scope="session")
def built_home(small_world) -> Settings:
    """The small world after `talentloop run`: ingested, built, fitted and published."""
    from orchestration.cli import run_pipeline

    settings, _ = small_world
    old = {k: os.environ.get(k) for k in ("TALENTLOOP_HOME", "TALENTLOOP_WAREHOUSE", "DAGSTER_HOME")}
    os.environ["TALENTLOOP_HOME"] = str(settings.home)
    steps: dict[str, float] = {}
    try:
        results = run_pipeline(settings, record=False, step_seconds=steps)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert results == {"ingest": True, "build_warehouse": True}, results
    # Each step's own time, as the benchmark reports it: the dbt build and the publish are steps of their own.
    assert steps["warehouse_dbt_assets"] > 0 and all(seconds >= 0 for seconds in steps.values()), steps
    assert "published_snapshot" in steps, steps
    return settings


def landing_files(settings: Settings, source: str) -> list[Path]:
    return sorted(p for p in (settings.landing / source).rglob("*") if p.is_file() and p.parent.name != "files")
