"""Generated worlds shared by the generator tests, each built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.generator import generate

# Big enough for ~150 hires with a 6-month review (the statistical checks), small enough to build in seconds.
STATS_WORLD = {"candidates": 4000, "days": 540, "seed": 21}
# A dirty world and its clean twin (same seed): the clean rows of the one must be exactly the other.
DIRTY_WORLD = {"candidates": 1200, "days": 300, "seed": 5}
DIRTY_RATE = 0.03


@pytest.fixture(scope="session")
def stats_world(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("stats_world")
    return out, generate(out, **STATS_WORLD)


@pytest.fixture(scope="session")
def dirty_world(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dirty_world")
    return out, generate(out, dirty=DIRTY_RATE, **DIRTY_WORLD)


@pytest.fixture(scope="session")
def clean_twin(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("clean_twin")
    return out, generate(out, dirty=0.0, **DIRTY_WORLD)
