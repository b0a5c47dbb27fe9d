"""The dbt manifest is parsed again only when the project changed or the warehouse it was parsed for did."""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

from orchestration import resources


def test_a_manifest_is_fresh_until_a_project_file_or_the_warehouse_changes(tmp_path, monkeypatch):
    model = tmp_path / "models" / "marts" / "hires.sql"
    model.parent.mkdir(parents=True)
    model.write_text("select 1")
    manifest = tmp_path / "target" / "manifest.json"
    manifest.parent.mkdir()
    monkeypatch.setattr(resources, "DBT_PROJECT_DIR", tmp_path)
    monkeypatch.setattr(resources, "dbt_project", SimpleNamespace(manifest_path=manifest))
    env = {"TALENTLOOP_HOME": "/data", "TALENTLOOP_WAREHOUSE": "/data/warehouse.duckdb"}
    assert not resources.manifest_is_fresh(env)  # never parsed

    manifest.write_text("{}")
    (tmp_path / "target" / "talentloop_parse.json").write_text(json.dumps(env))
    (tmp_path / "target" / "run_results.json").write_text("{}")  # the project's own outputs do not count
    assert resources.manifest_is_fresh(env)
    assert not resources.manifest_is_fresh({**env, "TALENTLOOP_WAREHOUSE": "/other/warehouse.duckdb"})

    later = time.time() + 5
    os.utime(model, (later, later))  # a model edited after the parse
    assert not resources.manifest_is_fresh(env)
