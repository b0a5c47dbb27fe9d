"""Where TalentLoop keeps its data: resolved once, from TALENTLOOP_HOME, for Dagster, dbt, CLI and dashboards."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = ".talentloop"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
# DuckDB's memory cap for every warehouse writer (dbt and the Python steps). Past it, large joins, sorts and
# aggregates spill to disk beside the warehouse instead of growing the process: a 1,000,000-candidate dbt build
# peaks at 4.3 GB with it, in the same time as at 7.8 GB without (tests/benchmarks). TALENTLOOP_DUCKDB_MEMORY_LIMIT
# overrides it; dbt_project/profiles.yml has the same default.
DEFAULT_DUCKDB_MEMORY_LIMIT = "4GB"


@dataclass(frozen=True)
class Settings:
    home: Path
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            home=Path(env.get("TALENTLOOP_HOME", DEFAULT_HOME)).expanduser().resolve(),
            duckdb_memory_limit=env.get("TALENTLOOP_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
        )

    @property
    def landing(self) -> Path:
        """landing/<source>/<YYYY-MM-DD>/*: where source systems drop files."""
        return self.home / "landing"

    @property
    def warehouse(self) -> Path:
        """The pipeline's own DuckDB file: one writer, the nightly run."""
        return self.home / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        """Read-only snapshots for dashboards, one file per publish, CURRENT names the newest."""
        return self.home / "published"

    def current_snapshot(self) -> Path | None:
        """The published snapshot CURRENT names, or None before the first publish."""
        pointer = self.published / "CURRENT"
        if not pointer.exists():
            return None
        path = self.published / pointer.read_text().strip()
        return path if path.exists() else None

    @property
    def app_state(self) -> Path:
        """The dashboards' own store: users, review decisions, access log (SQLite, many small writes)."""
        return self.home / "app_state.sqlite"

    @property
    def restricted(self) -> Path:
        """The one restricted place: PII and the pseudonymisation key (mode 0700)."""
        return self.home / "restricted"

    @property
    def pii_database(self) -> Path:
        return self.restricted / "pii.duckdb"

    @property
    def pseudonym_key_file(self) -> Path:
        return self.restricted / "pseudonym.key"

    @property
    def world_manifest(self) -> Path:
        """Planted truth and injected faults of a generated world."""
        return self.home / "world"

    @property
    def dbt_target(self) -> Path:
        return self.home / "dbt_target"

    def env(self) -> dict[str, str]:
        """The variables dbt's profiles.yml and subprocesses read: the same values, spelled once."""
        return {
            "TALENTLOOP_HOME": str(self.home),
            "TALENTLOOP_WAREHOUSE": str(self.warehouse),
            "TALENTLOOP_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
        }

    def duckdb_config(self) -> dict[str, str]:
        """Settings for every connection that writes the warehouse."""
        return {"memory_limit": self.duckdb_memory_limit}

    def ensure(self) -> Settings:
        for d in (self.home, self.landing, self.published, self.world_manifest):
            d.mkdir(parents=True, exist_ok=True)
        self.restricted.mkdir(parents=True, exist_ok=True)
        os.chmod(self.restricted, 0o700)
        return self
