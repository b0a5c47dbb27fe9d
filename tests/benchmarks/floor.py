"""The floor: every dbt model's compiled SQL run directly in DuckDB, in dependency order, with no dbt or Dagster."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from ingestion.settings import DBT_PROJECT_DIR


def model_order(manifest: dict) -> list[str]:
    models = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] == "model"}
    graph = {k: [d for d in v["depends_on"]["nodes"] if d in models] for k, v in models.items()}
    return [k for k in TopologicalSorter(graph).static_order()]


def latest_build_target(since: float = 0.0) -> Path | None:
    """The target folder of the newest dbt build (dagster-dbt gives each invocation a folder of its own, with the
    compiled SQL, the manifest and run_results.json)."""
    runs = [p for p in (DBT_PROJECT_DIR / "target").rglob("run_results.json") if p.stat().st_mtime >= since]
    return max(runs, key=lambda p: p.stat().st_mtime).parent if runs else None


def run_floor(warehouse: Path, scratch: Path) -> dict:
    """Copy the built warehouse, then rebuild every model from its compiled SQL; seconds in total and per layer."""
    target = latest_build_target()
    if target is None or not (target / "compiled").is_dir():
        raise SystemExit("no compiled dbt build under dbt_project/target: run the warehouse stage first")
    manifest_path = target / "manifest.json"
    if not manifest_path.exists():
        manifest_path = DBT_PROJECT_DIR / "target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    # Compiled SQL names the database by its file name, so the copy keeps the name in a folder of its own.
    scratch.mkdir(parents=True, exist_ok=True)
    scratch = scratch / warehouse.name
    shutil.copyfile(warehouse, scratch)
    con = duckdb.connect(str(scratch))
    per_schema: dict[str, float] = {}
    total = time.perf_counter()
    for uid in model_order(manifest):
        node = manifest["nodes"][uid]
        compiled = target / "compiled" / node["package_name"] / node["original_file_path"]
        sql = compiled.read_text()
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        start = time.perf_counter()
        con.execute(f"create or replace {kind} {node['schema']}.{node['alias']} as {sql}")
        per_schema[node["schema"]] = per_schema.get(node["schema"], 0.0) + time.perf_counter() - start
    seconds = time.perf_counter() - total
    con.close()
    shutil.rmtree(scratch.parent)
    return {"seconds": seconds, "by_schema": per_schema}


def dbt_node_seconds(since: float) -> dict | None:
    """Seconds dbt spent executing each schema's models, and its tests, in the newest dbt build after `since`
    (dagster-dbt gives each invocation its own target folder; run_results.json records every node's time)."""
    target = latest_build_target(since)
    if target is None:
        return None
    results = json.loads((target / "run_results.json").read_text())
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    out: dict[str, float] = {}
    for r in results["results"]:
        node = manifest["nodes"].get(r["unique_id"], {})
        kind = node.get("resource_type")
        key = node.get("schema", "models") if kind == "model" else "tests" if kind == "test" else kind or "other"
        out[key] = round(out.get(key, 0.0) + float(r.get("execution_time") or 0.0), 3)
    out["elapsed"] = round(float(results.get("elapsed_time") or 0.0), 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--scratch", required=True)
    args = parser.parse_args()
    print(json.dumps(run_floor(Path(args.warehouse), Path(args.scratch))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
