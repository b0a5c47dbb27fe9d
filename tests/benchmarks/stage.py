"""One pipeline stage in its own process, so the benchmark measures its time and memory alone."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from ingestion.settings import Settings
from orchestration.cli import STAGES, run_pipeline

STEPS_MARK = "STEP_SECONDS "


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--day", action="append", help="landing day(s) to ingest (default: every landed day)")
    args = parser.parse_args()
    days = [dt.date.fromisoformat(d) for d in args.day] if args.day else None
    steps: dict[str, float] = {}
    results = run_pipeline(
        Settings.from_env().ensure(), days=days, record=False, stages=(args.stage,), step_seconds=steps
    )
    print(results)
    print(STEPS_MARK + json.dumps(steps))  # last line: run.py reads each step's seconds from it
    return 0 if results and all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
