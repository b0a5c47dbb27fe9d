"""`make bench`: full build, incremental night, floor and page renders at one world size; results as JSON + plot.

Stages run as separate processes so each has its own wall time and peak memory (the whole process tree,
dbt included). Generation is timed apart from the pipeline. The last day of the world is held back from the
full build and landed afterwards, as the incremental night. The world spans 540 days by default, so that hires of
its first months have their 12-month outcomes and the weight models have evidence to fit (a 365-day world has
none: every family would be 'insufficient evidence' and the models' cost would not be measured).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from ingestion.settings import Settings
from tests.benchmarks.floor import dbt_node_seconds
from tests.benchmarks.rss import run_measured
from tests.benchmarks.stage import STEPS_MARK

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "benchmarks" / "results"
PIPELINE_STAGES = ("ingest", "warehouse", "models", "publish")
PACKAGES = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "pandas", "scikit-learn", "streamlit")


def machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {p: metadata.version(p) for p in PACKAGES},
    }


def hold_back(landing: Path, day: str, to: Path) -> None:
    for folder in landing.glob(f"*/{day}"):
        target = to / folder.parent.name / day
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(target))


def land(held: Path, landing: Path) -> None:
    for folder in held.glob("*/*"):
        target = landing / folder.parent.name / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(target))


def stage(name: str, env: dict, days: list[str] | None = None) -> dict:
    cmd = [sys.executable, "-m", "tests.benchmarks.stage", name, *[a for d in days or [] for a in ("--day", d)]]
    m = run_measured(cmd, env=env, cwd=ROOT)
    if m.returncode != 0:
        raise RuntimeError(f"stage {name} failed:\n{m.output_tail}")
    figures = {"seconds": round(m.seconds, 2), "peak_rss_mb": round(m.peak_rss_bytes / 2**20, 1)}
    marked = [line for line in m.output_tail.splitlines() if line.startswith(STEPS_MARK)]
    if marked:  # each Dagster step's own seconds, slowest first: where a stage's time goes
        steps = json.loads(marked[-1][len(STEPS_MARK) :])
        figures["step_seconds"] = dict(sorted(steps.items(), key=lambda kv: -kv[1]))
    return figures


def generated_world(work: Path, size: int, days: int, seed: int) -> Path:
    """The generated world for these parameters, made once and kept under work/worlds/ (generation is timed apart
    from the pipeline, and the same seed gives the same files, so a kept world is the world the run would make)."""
    world = work / "worlds" / f"{size}x{days}-seed{seed}"
    if (world / "generate.json").exists():
        return world
    shutil.rmtree(world, ignore_errors=True)
    world.mkdir(parents=True)
    cmd = [sys.executable, "-m", "orchestration.cli", "generate", "--candidates", str(size), "--days", str(days)]
    gen = run_measured([*cmd, "--seed", str(seed), "--out", str(world)], env=dict(os.environ), cwd=ROOT)
    if gen.returncode != 0:
        raise RuntimeError(gen.output_tail)
    figures = {
        "seconds": round(gen.seconds, 2),
        "peak_rss_mb": round(gen.peak_rss_bytes / 2**20, 1),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (world / "generate.json").write_text(json.dumps(figures, indent=2))  # written last: marks the world complete
    return world


def floor_figures(home: Path, env: dict, warehouse_stage: dict) -> dict:
    """The bare-DuckDB floor, and the pipeline's warehouse stage (and dbt schema by schema) as ratios to it."""
    cmd = [sys.executable, "-m", "tests.benchmarks.floor", "--warehouse", str(home / "warehouse.duckdb")]
    done = subprocess.run(
        [*cmd, "--scratch", str(home / "floor.duckdb")], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    floor = json.loads(done.stdout.strip().splitlines()[-1])
    floor["warehouse_ratio"] = round(warehouse_stage["seconds"] / max(floor["seconds"], 1e-9), 2)
    dbt_seconds = warehouse_stage.get("dbt_seconds") or {}
    # Schema by schema: dbt's own time to build a schema's models over the bare SQL's time for the same models.
    floor["dbt_ratio_by_schema"] = {
        schema: round(dbt_seconds[schema] / seconds, 2)
        for schema, seconds in floor["by_schema"].items()
        if schema in dbt_seconds and seconds > 0
    }
    return floor


def save(result: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


def _json_from(cmd: list[str], env: dict) -> dict:
    """The JSON a measuring script prints last, or its error: one failed measure does not lose the others."""
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stdout[-2000:] + done.stderr[-2000:]).strip()}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=10_000, help="candidates in the world")
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", default=str(ROOT / ".bench"))
    parser.add_argument(
        "--no-pages", dest="pages", action="store_false", help="skip the dashboard page renders in Chromium"
    )
    parser.add_argument("--generate-only", action="store_true", help="only generate (or find) the world")
    parser.add_argument(
        "--resume",
        metavar="RESULTS_JSON",
        help="carry on an incomplete run: its data home is kept and the steps it measured are not run again",
    )
    args = parser.parse_args()

    home = Path(args.work) / str(args.size)
    world = generated_world(Path(args.work), args.size, args.days, args.seed)
    if args.generate_only:
        print(f"World ready: {world}")
        return 0
    env = {**os.environ, "TALENTLOOP_HOME": str(home)}
    if args.resume:
        out = Path(args.resume)
        result = json.loads(out.read_text())
        result.setdefault("resumed_at", []).append(dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        last_day = json.loads((home / "world" / "truth.json").read_text())["world"]["last_data_date"]
        held = home / "held_back"
    else:
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        for part in ("landing", "world"):  # hard links: the pipeline reads landed files and never changes them
            shutil.copytree(world / part, home / part, copy_function=os.link)
        result = {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "duckdb_memory_limit": Settings.from_env().duckdb_memory_limit,
            "world": {"candidates": args.size, "days": args.days, "seed": args.seed},
            "generate": json.loads((world / "generate.json").read_text()),
        }
        out = RESULTS / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{args.size}.json"
        result["complete"] = False  # saved after every step: a run stopped half-way still leaves what it measured
        truth = json.loads((home / "world" / "truth.json").read_text())
        result["world"]["counts"] = truth["world"]["counts"]
        last_day = truth["world"]["last_data_date"]
        held = home / "held_back"
        hold_back(home / "landing", last_day, held)

    full = result.setdefault("full_build", {})
    for name in PIPELINE_STAGES:
        if name in full:
            continue
        started = time.time()
        full[name] = stage(name, env)
        if name == "warehouse":
            full[name]["dbt_seconds"] = dbt_node_seconds(started)
        save(result, out)
    stages = [full[name] for name in PIPELINE_STAGES]
    full["total_seconds"] = round(sum(v["seconds"] for v in stages), 2)
    full["peak_rss_mb"] = max(v["peak_rss_mb"] for v in stages)
    save(result, out)

    if "floor" not in result:
        result["floor"] = floor_figures(home, env, full["warehouse"])
        save(result, out)
    if "models" not in result:
        result["models"] = _json_from(
            [sys.executable, "-m", "tests.benchmarks.models", "--warehouse", str(home / "warehouse.duckdb")], env
        )
        save(result, out)

    night = result.setdefault("incremental_night", {})
    if "ingest" not in night:
        land(held, home / "landing")
        night["ingest"] = stage("ingest", env, [last_day])
        save(result, out)
    for name in PIPELINE_STAGES[1:]:
        if name not in night:
            night[name] = stage(name, env)
            save(result, out)
    night["total_seconds"] = round(sum(night[name]["seconds"] for name in PIPELINE_STAGES), 2)
    night["share_of_full_build"] = round(night["total_seconds"] / full["total_seconds"], 3)
    save(result, out)

    if args.pages and "page_render_seconds" not in result:
        result["page_render_seconds"] = _json_from(
            [sys.executable, "-m", "tests.benchmarks.pages", "--home", str(home)], env
        )

    result["complete"] = True
    save(result, out)
    print(json.dumps(result, indent=2))
    print(f"Results: {out}")
    subprocess.run([sys.executable, "-m", "tests.benchmarks.plot"], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
