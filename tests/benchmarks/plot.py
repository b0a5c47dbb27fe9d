"""Time versus world size on log-log axes, from every results file; names stages that grow faster than linearly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def latest_by_size() -> dict[int, dict]:
    by_size: dict[int, dict] = {}
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        if "full_build" in data and data.get("complete", True):  # whole runs only
            by_size[data["world"]["candidates"]] = data
    return by_size


def slopes(by_size: dict[int, dict]) -> dict[str, float]:
    """Log-log slope of each stage between the smallest and largest size: 1 is linear."""
    sizes = sorted(by_size)
    if len(sizes) < 2:
        return {}
    lo, hi = by_size[sizes[0]], by_size[sizes[-1]]
    out = {}
    for stage in ("ingest", "warehouse", "models", "publish"):
        a, b = lo["full_build"][stage]["seconds"], hi["full_build"][stage]["seconds"]
        out[stage] = round(math.log(b / a) / math.log(sizes[-1] / sizes[0]), 2)
    return out


def main() -> None:
    by_size = latest_by_size()
    if not by_size:
        return
    sizes = sorted(by_size)
    fig, ax = plt.subplots(figsize=(7, 5))
    for stage in ("generate", "ingest", "warehouse", "models", "publish", "total"):
        ys = []
        for s in sizes:
            r = by_size[s]
            ys.append(
                r["generate"]["seconds"]
                if stage == "generate"
                else r["full_build"]["total_seconds"]
                if stage == "total"
                else r["full_build"][stage]["seconds"]
            )
        ax.plot(sizes, ys, marker="o", label=stage)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("candidates")
    ax.set_ylabel("seconds (full build)")
    ax.set_title("TalentLoop: time versus world size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "scaling.png", dpi=120)
    s = slopes(by_size)
    (RESULTS / "scaling.json").write_text(
        json.dumps(
            {"sizes": sizes, "log_log_slopes": s, "superlinear": [k for k, v in s.items() if v > 1.15]}, indent=2
        )
    )


if __name__ == "__main__":
    main()
