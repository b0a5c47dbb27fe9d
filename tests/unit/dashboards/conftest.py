"""Dashboard test homes on the built small world: with every model output (real or stand-in), and without."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from dashboards.app_state import AppState
from ingestion.settings import Settings
from tests.unit.dashboards.standins import drop_ml_tables, ensure_reviewable, make_home

PASSWORD = "correct-horse-battery-staple"
ROLES = {"admin": "admin", "analyst": "hr_analyst", "leader": "talent_leader", "head": "department_head"}


@dataclass(frozen=True)
class DashHome:
    settings: Settings
    department: str
    other_department: str

    @property
    def state(self) -> AppState:
        return AppState(self.settings.app_state)


def _users(settings: Settings) -> tuple[str, str]:
    with duckdb.connect(str(settings.current_snapshot()), read_only=True) as con:
        departments = [
            r[0]
            for r in con.execute(
                "select department from marts.talent_pool group by 1 order by count(*) desc, 1"
            ).fetchall()
        ]
    state = AppState(settings.app_state)
    for name, role in ROLES.items():
        state.create_user(name, PASSWORD, role, department=departments[0] if role == "department_head" else None)
    return departments[0], departments[1]


@pytest.fixture(scope="session")
def dash_home(built_home, tmp_path_factory) -> DashHome:
    """The built world's snapshot plus stand-ins for missing model outputs, and a store with one user per role."""
    settings = make_home(built_home, tmp_path_factory.mktemp("dash"))
    ensure_reviewable(settings.current_snapshot())
    return DashHome(settings, *_users(settings))


@pytest.fixture(scope="session")
def bare_home(built_home, tmp_path_factory) -> DashHome:
    """The snapshot as it was before the models landed: only rater agreement and the run registry in ml."""
    settings = make_home(built_home, tmp_path_factory.mktemp("bare"), standins=False)
    drop_ml_tables(settings.current_snapshot())
    return DashHome(settings, *_users(settings))


@pytest.fixture
def use_home(monkeypatch):
    """Point the dashboards (which read TALENTLOOP_HOME) at a test home."""

    def use(home: DashHome) -> DashHome:
        monkeypatch.setenv("TALENTLOOP_HOME", str(home.settings.home))
        return home

    return use


def snapshot_of(home: DashHome) -> Path:
    path = home.settings.current_snapshot()
    assert path is not None
    return path


os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
