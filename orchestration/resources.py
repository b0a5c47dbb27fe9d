"""Resources every domain shares: where the data lives, the warehouse connection, the dbt CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from ingestion.privacy import load_or_create_key
from ingestion.settings import DBT_PROJECT_DIR, Settings


class TalentLoopHome(dg.ConfigurableResource):
    """The data home (TALENTLOOP_HOME) and what lives in it."""

    home: str

    @property
    def settings(self) -> Settings:
        return Settings(home=Path(self.home)).ensure()

    def pseudonym_key(self) -> bytes:
        return load_or_create_key(self.settings.pseudonym_key_file)

    def pii_connection(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.pii_database))


def dbt_executable() -> str:
    """The dbt of this environment, found beside the running Python when the environment is not activated."""
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def prepare_dbt_manifest(force: bool = False, settings: Settings | None = None) -> Path:
    """dbt parse, so the asset graph can be read; run when the manifest is missing or the project changed."""
    if force or not dbt_project.manifest_path.exists():
        env = {**os.environ, **(settings or Settings.from_env()).env()}
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
            ],
            env=env,
            check=True,
            cwd=DBT_PROJECT_DIR,
        )
    return dbt_project.manifest_path


def build_resources(settings: Settings | None = None) -> dict:
    settings = settings or Settings.from_env()
    os.environ.update(settings.env())  # dbt's profiles.yml reads the same path the resources use
    return {
        "talentloop": TalentLoopHome(home=str(settings.home)),
        "warehouse": DuckDBResource(database=str(settings.warehouse)),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
