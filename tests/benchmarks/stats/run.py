"""`make bench-stats`: the weight recommendation and its intervals judged over many simulated worlds.

Each (size, seed, job family) is one world from the generator's own data-generating process
(tests/benchmarks/stats/worlds.py). The product's code runs on it exactly as the pipeline runs it
(ml.pipeline.prepare_hires, ml.weights.recommend_weights, ml.validity.validity_table) and every figure the review
desk shows is compared with the planted truth for the product's own criterion (ingestion.generator.truth
.criterion_truth): coverage of every interval, distance of the target from the planted optimum, the Spearman
correlation of the validity ranking with the planted ranking, and how often a recommendation is made and is truly
better (population validity of the step against current and unit weights, on a 200,000-applicant reference pool).

    python -m tests.benchmarks.stats.run --seeds 100 --sizes 150 330 1100
writes tests/benchmarks/results/stats-<utc>.json (summary per size and family), stats-<utc>-worlds.json.gz (every
world) and stats.png.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ingestion.generator import truth
from ingestion.generator.vocab import COMPETENCIES, JOB_FAMILIES
from ml.pipeline import prepare_hires
from ml.weights import apply_change_cap, build_criterion, recommend_weights
from tests.benchmarks.stats.worlds import SIZES, benchmark_truth, simulate_world

RESULTS = Path(__file__).resolve().parents[1] / "results"
MIX = dict(truth.CRITERION_MIX)
MAX_CHANGE = 0.10
TRUTH_SEED = 7
# A planted weight below this is "on the boundary": the estimator cannot go below 0, so its interval's coverage is
# reported apart from the interior weights'.
BOUNDARY = 0.02


@lru_cache(maxsize=1)
def planted() -> dict:
    """Per family: the planted optimum and validities (the law on 1,000,000 applicants, cached under .bench/), and
    a 200,000-applicant reference pool with its criterion to score any weighting's true validity."""
    law = benchmark_truth(MIX)
    pool = truth.reference_pool(TRUTH_SEED)
    out = {}
    for family in JOB_FAMILIES:
        _, y, _, _ = truth.reference_criterion(TRUTH_SEED, pool, family, MIX)
        c = law[family]
        out[family] = {
            "optimum": np.array([c["optimal_weights_applicants"][k] for k in COMPETENCIES]),
            "optimum_hires": np.array([c["optimal_weights_hires"][k] for k in COMPETENCIES]),
            "validity": np.array([c["validity_by_competency"][k] for k in COMPETENCIES]),
            "scores": pool.scores,
            "y": y,
        }
    return out


def population_validity(family: str, w) -> float:
    p = planted()[family]
    return float(np.corrcoef(p["scores"] @ np.asarray(w, dtype=float), p["y"])[0, 1])


def _covers(lo, hi, value) -> np.ndarray:
    return (np.asarray(lo) - 1e-9 <= value) & (value <= np.asarray(hi) + 1e-9)


def evaluate(size: int, seed: int, family: str, n_bootstrap: int) -> dict:
    """One world: run the product's estimators and compare each figure with the truth."""
    t0 = time.perf_counter()
    world = simulate_world(seed, family, n_hires=size)
    hires = prepare_hires(world.hires, COMPETENCIES)
    applicants = world.applicants.copy()
    for c in COMPETENCIES:
        applicants[c] = applicants[f"score_{c}"]
    current = world.current_weights
    w_cur = np.array([current[c] for c in COMPETENCIES])
    rec = recommend_weights(
        hires, COMPETENCIES, MIX, current, max_change=MAX_CHANGE, n_bootstrap=n_bootstrap, seed=seed
    )
    p = planted()[family]
    row = {
        "size": size,
        "seed": seed,
        "job_family": family,
        "n_eligible": rec.n_available,
        "n_hires": int(len(hires)),
        "status": rec.status,
        "criterion": rec.criterion,
    }
    if not rec.fitted:
        row["seconds"] = time.perf_counter() - t0
        return row
    w = rec.weights.set_index("competency").loc[list(COMPETENCIES)]
    target = w["target"].to_numpy()
    step = w["recommended"].to_numpy()
    capped_optimum = apply_change_cap(p["optimum"], w_cur, MAX_CHANGE)
    row.update(
        {
            "target": target.round(4).tolist(),
            "target_ci": [w["target_ci_low"].round(4).tolist(), w["target_ci_high"].round(4).tolist()],
            "step": step.round(4).tolist(),
            "step_ci": [w["ci_low"].round(4).tolist(), w["ci_high"].round(4).tolist()],
            "target_error": (target - p["optimum"]).round(4).tolist(),
            "target_max_abs_error": float(np.abs(target - p["optimum"]).max()),
            "target_covered": _covers(w["target_ci_low"], w["target_ci_high"], p["optimum"]).tolist(),
            "target_covered_hires_optimum": _covers(
                w["target_ci_low"], w["target_ci_high"], p["optimum_hires"]
            ).tolist(),
            "step_covered": _covers(w["ci_low"], w["ci_high"], capped_optimum).tolist(),
            "step_inside_own_interval": bool(_covers(w["ci_low"], w["ci_high"], step).all()),
            "cycles_to_target": rec.cycles_to_target,
            "true_validity": {
                "current": population_validity(family, w_cur),
                "unit": population_validity(family, np.full(len(COMPETENCIES), 1 / len(COMPETENCIES))),
                "target": population_validity(family, target),
                "recommended": population_validity(family, step),
                "optimum": population_validity(family, p["optimum"]),
            },
        }
    )
    oos = rec.validity.set_index("weighting")
    row["holdout"] = {k: float(oos.loc[k, "holdout_r"]) for k in oos.index}
    row["holdout_n"] = int(oos["holdout_n"].iloc[0])
    comparisons = rec.comparisons
    row["comparisons"] = {
        f"{r.weighting}-{r.baseline}": {
            "difference": r.difference,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "beats": bool(r.beats),
        }
        for r in comparisons.itertuples(index=False)
    }
    # Validity of each competency against the criterion, corrected for selection on the composite.
    from ml.validity import validity_table

    hires["_criterion"] = build_criterion(hires, MIX, early_leaver_policy="floor")
    table = validity_table(
        hires, applicants, COMPETENCIES, ["_criterion"], criterion_reliability={"_criterion": 1.0}, seed=seed
    ).set_index("competency")
    table = table.loc[list(COMPETENCIES)]
    corrected = table["r_range_corrected"].to_numpy()
    row["validity_corrected"] = corrected.round(4).tolist()
    row["validity_ci"] = [
        table["r_range_corrected_ci_low"].round(4).tolist(),
        table["r_range_corrected_ci_high"].round(4).tolist(),
    ]
    row["validity_covered"] = _covers(
        table["r_range_corrected_ci_low"], table["r_range_corrected_ci_high"], p["validity"]
    ).tolist()
    row["validity_observed_covered"] = _covers(table["ci_low"], table["ci_high"], p["validity"]).tolist()
    row["spearman_corrected"] = float(stats.spearmanr(corrected, p["validity"]).statistic)
    row["spearman_observed"] = float(stats.spearmanr(table["r"], p["validity"]).statistic)
    row["pair_order_agreement"] = pair_agreement(corrected, p["validity"])
    row["seconds"] = time.perf_counter() - t0
    return row


# Planted validities closer than this are near-ties (four of six are within .03 in software engineering), whose
# order no sample of a few hundred can settle; the pair agreement counts only pairs further apart.
DISTINCT_GAP = 0.05


def pair_agreement(estimate, truth_values, gap: float = DISTINCT_GAP) -> float | None:
    """Share of competency pairs whose planted validities differ by at least `gap` that the estimate orders alike."""
    est, tru = np.asarray(estimate, dtype=float), np.asarray(truth_values, dtype=float)
    agree = total = 0
    for i in range(len(tru)):
        for j in range(i + 1, len(tru)):
            if abs(tru[i] - tru[j]) >= gap:
                total += 1
                agree += int(np.sign(est[i] - est[j]) == np.sign(tru[i] - tru[j]))
    return agree / total if total else None


def _task(args) -> dict:
    return evaluate(*args)


def _mean(values) -> float | None:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return round(float(np.mean(values)), 4) if values else None


def summarise(rows: list[dict]) -> dict:
    """Per size (all families, and per family): the figures the issue sets targets for."""
    out = {}
    frame = pd.DataFrame(rows)
    for size, by_size in frame.groupby("size"):
        entry = {}
        for family, g in [("all", by_size), *by_size.groupby("job_family")]:
            fitted = g[g["status"] != "insufficient_evidence"]
            if not len(fitted):
                entry[family] = {"worlds": len(g), "fitted": 0}
                continue
            opt = np.stack([planted()[f]["optimum"] for f in fitted["job_family"]])
            covered = np.stack(fitted["target_covered"].to_numpy())
            interior = opt >= BOUNDARY
            rec = fitted[fitted["status"] == "recommended"]
            tv = pd.DataFrame(list(fitted["true_validity"]))
            tv_rec = pd.DataFrame(list(rec["true_validity"])) if len(rec) else pd.DataFrame()
            gains = pd.DataFrame(list(fitted["comparisons"].map(lambda c: {k: v["difference"] for k, v in c.items()})))
            beats = pd.DataFrame(list(fitted["comparisons"].map(lambda c: {k: v["beats"] for k, v in c.items()})))
            entry[family] = {
                "worlds": len(g),
                "fitted": len(fitted),
                "mean_eligible_hires": _mean(g["n_eligible"]),
                "share_recommended": round(len(rec) / len(g), 4),
                "target_coverage_interior": _mean(covered[interior]),
                "target_coverage_boundary": _mean(covered[~interior]),
                "target_coverage_all": _mean(covered.ravel()),
                "target_coverage_vs_hires_optimum": _mean(np.stack(fitted["target_covered_hires_optimum"]).ravel()),
                "step_coverage": _mean(np.stack(fitted["step_covered"]).ravel()),
                "step_inside_own_interval": _mean(fitted["step_inside_own_interval"].astype(float)),
                "target_mean_max_abs_error": _mean(fitted["target_max_abs_error"]),
                "target_share_within_0_05": _mean((fitted["target_max_abs_error"] <= 0.05).astype(float)),
                "target_mean_abs_error": _mean(np.abs(np.stack(fitted["target_error"])).ravel()),
                "validity_coverage_corrected": _mean(np.stack(fitted["validity_covered"]).ravel()),
                "validity_coverage_observed_r": _mean(np.stack(fitted["validity_observed_covered"]).ravel()),
                "spearman_corrected": _mean(fitted["spearman_corrected"]),
                "spearman_observed": _mean(fitted["spearman_observed"]),
                "pair_order_agreement_distinct": _mean(fitted["pair_order_agreement"]),
                "mean_cycles_to_target": _mean(fitted["cycles_to_target"]),
                "true_gain_target_over_unit": _mean(tv["target"] - tv["unit"]),
                "true_gain_step_over_current": _mean(tv["recommended"] - tv["current"]),
                "holdout_gain_step_over_current": _mean(gains.get("recommended-current", pd.Series(dtype=float))),
                "holdout_gain_target_over_unit": _mean(gains.get("target-unit", pd.Series(dtype=float))),
                "share_step_beats_current": _mean(
                    beats.get("recommended-current", pd.Series(dtype=float)).astype(float)
                ),
                "share_target_beats_unit": _mean(beats.get("target-unit", pd.Series(dtype=float)).astype(float)),
                "recommended_truly_beats_current": (
                    _mean((tv_rec["recommended"] > tv_rec["current"]).astype(float)) if len(rec) else None
                ),
                "recommended_target_truly_beats_unit": (
                    _mean((tv_rec["target"] > tv_rec["unit"]).astype(float)) if len(rec) else None
                ),
                "mean_seconds": _mean(g["seconds"]),
            }
        out[int(size)] = entry
    return out


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(summary)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = (
        ("Coverage of 95% intervals", ["target_coverage_interior", "step_coverage", "validity_coverage_corrected"]),
        ("Accuracy", ["target_mean_max_abs_error", "spearman_corrected", "spearman_observed"]),
        ("Decisions", ["share_recommended", "recommended_truly_beats_current", "recommended_target_truly_beats_unit"]),
    )
    for ax, (title, keys) in zip(axes, panels, strict=True):
        for key in keys:
            ax.plot(sizes, [summary[s]["all"].get(key) or np.nan for s in sizes], marker="o", label=key)
        if title.startswith("Coverage"):
            ax.axhspan(0.93, 0.97, color="green", alpha=0.1)
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("hires per family with a complete first year")
        ax.set_title(title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="worlds per size and job family")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="hires per family")
    parser.add_argument("--families", nargs="+", default=list(JOB_FAMILIES), choices=JOB_FAMILIES)
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples (the pipeline's default)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.time()
    planted()
    tasks = [(s, seed, f, args.bootstrap) for s in args.sizes for seed in range(args.seeds) for f in args.families]
    with ProcessPoolExecutor(args.workers, initializer=planted) as pool:
        rows = list(pool.map(_task, tasks, chunksize=4))
    summary = summarise(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    doc = {
        "kind": "stats",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "seeds": args.seeds,
        "sizes": args.sizes,
        "bootstrap": args.bootstrap,
        "mix": MIX,
        "max_change": MAX_CHANGE,
        "truth": {
            f: {
                "optimum": dict(zip(COMPETENCIES, planted()[f]["optimum"].tolist(), strict=True)),
                "validity": dict(zip(COMPETENCIES, planted()[f]["validity"].tolist(), strict=True)),
            }
            for f in args.families
        },
        "seconds": round(time.time() - started, 1),
        "summary": summary,
        "worlds_file": f"stats-{stamp}-worlds.json.gz",
    }
    path = args.out / f"stats-{stamp}.json"
    path.write_text(json.dumps(doc, indent=1, default=float) + "\n", encoding="utf-8")
    # Every world's figures (targets, intervals, gains) beside the summary, compressed: ~0.5 MB for 1,500 worlds.
    with gzip.open(args.out / doc["worlds_file"], "wt", encoding="utf-8") as fh:
        json.dump(rows, fh, default=float)
    plot(summary, args.out / "stats.png")
    print(json.dumps({s: e["all"] for s, e in summary.items()}, indent=1))
    print(f"wrote {path} in {doc['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
