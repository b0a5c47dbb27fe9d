"""Resources every domain shares: where the data lives, the warehouse connection, the dbt CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from ingestion.privacy import checked_key, load_or_create_key
from ingestion.settings import DBT_PROJECT_DIR, Settings


class TalentLoopHome(dg.ConfigurableResource):
    """The data home (TALENTLOOP_HOME) and what lives in it."""

    home: str

    @property
    def settings(self) -> Settings:
        return Settings(home=Path(self.home)).ensure()

    def pseudonym_key(self, con: duckdb.DuckDBPyConnection | None = None) -> bytes:
        """The checked key (ingestion/privacy.py): with the warehouse connection, also against its fingerprint."""
        if con is None:
            return load_or_create_key(self.settings.pseudonym_key_file)
        return checked_key(self.settings.pseudonym_key_file, con)

    def pii_connection(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.pii_database))


def dbt_executable() -> str:
    """The dbt of this environment, found beside the running Python when the environment is not activated."""
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


# Files whose change changes what dbt parses (the project's own outputs and logs are not among them).
_PARSED_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".md", ".py", ".jinja")
_SKIPPED_DIRS = ("target", "logs", "dbt_packages")


def manifest_is_fresh(settings_env: dict[str, str]) -> bool:
    """The manifest exists, is newer than every project file, and was parsed for the same warehouse."""
    manifest = dbt_project.manifest_path
    stamp = manifest.with_name("talentloop_parse.json")
    if not manifest.exists() or not stamp.exists():
        return False
    if json.loads(stamp.read_text()) != settings_env:
        return False
    newest = max(
        (
            p.stat().st_mtime
            for p in DBT_PROJECT_DIR.rglob("*")
            if p.suffix in _PARSED_SUFFIXES and p.relative_to(DBT_PROJECT_DIR).parts[0] not in _SKIPPED_DIRS
        ),
        default=0.0,
    )
    return manifest.stat().st_mtime >= newest


def prepare_dbt_manifest(force: bool = False, settings: Settings | None = None) -> Path:
    """dbt parse, so the asset graph can be read; run when the manifest is missing or the project changed
    (a parse costs 10-15 s, once per process that loads the definitions)."""
    settings_env = (settings or Settings.from_env()).env()
    if force or not manifest_is_fresh(settings_env):
        env = {**os.environ, **settings_env}
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
        dbt_project.manifest_path.with_name("talentloop_parse.json").write_text(json.dumps(settings_env))
    return dbt_project.manifest_path


def build_resources(settings: Settings | None = None) -> dict:
    settings = settings or Settings.from_env()
    os.environ.update(settings.env())  # dbt's profiles.yml reads the same path the resources use
    return {
        "talentloop": TalentLoopHome(home=str(settings.home)),
        "warehouse": DuckDBResource(database=str(settings.warehouse), connection_config=settings.duckdb_config()),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
