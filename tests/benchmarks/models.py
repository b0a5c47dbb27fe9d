"""Model cost per job family on a built warehouse: the weight fit, its cross-validation and its bootstrap apart.

The recommendation is fitted twice per family, with the configured bootstrap and without one: the difference is
the bootstrap's cost. Time spent choosing lambda (time-ordered cross-validation) is measured inside the first fit.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from unittest import mock

import duckdb

from ml import pipeline, weights


def time_models(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        job_families = pipeline.load_job_families(con)
        hires = pipeline.load_hires(con)
    competencies = pipeline.competencies_from_weights(job_families)
    current = pipeline.current_weights_from(job_families, competencies)
    prepared = pipeline.prepare_hires(hires, competencies)
    cv_seconds = [0.0]
    choose = weights.choose_lambda

    def timed_choose(*args, **kwargs):
        start = time.perf_counter()
        try:
            return choose(*args, **kwargs)
        finally:
            cv_seconds[0] += time.perf_counter() - start

    out: dict = {"bootstrap_reps": pipeline.DEFAULT_BOOTSTRAP, "cv_splits": pipeline.DEFAULT_CV_SPLITS, "families": {}}
    for family, group in prepared.groupby("job_family", sort=True):
        kwargs = dict(date_col="hire_date", n_splits=pipeline.DEFAULT_CV_SPLITS)
        cv_seconds[0] = 0.0
        start = time.perf_counter()
        with mock.patch.object(weights, "choose_lambda", timed_choose):
            rec = weights.recommend_weights(
                group,
                competencies,
                pipeline.DEFAULT_OUTCOME_MIX,
                current.get(family) or dict.fromkeys(competencies, 1.0),
                n_bootstrap=pipeline.DEFAULT_BOOTSTRAP,
                **kwargs,
            )
        full = time.perf_counter() - start
        cv = cv_seconds[0]
        start = time.perf_counter()
        weights.recommend_weights(
            group,
            competencies,
            pipeline.DEFAULT_OUTCOME_MIX,
            current.get(family) or dict.fromkeys(competencies, 1.0),
            n_bootstrap=0,
            **kwargs,
        )
        no_boot = time.perf_counter() - start
        out["families"][str(family)] = {
            "status": rec.status,
            "hires_with_outcomes": rec.n_available,
            "total_seconds": round(full, 3),
            "cross_validation_seconds": round(cv, 3),
            "bootstrap_seconds": round(max(full - no_boot, 0.0), 3),
            "fit_seconds": round(max(no_boot - cv, 0.0), 3),
        }
    fams = out["families"].values()
    out["total_seconds"] = round(sum(f["total_seconds"] for f in fams), 3)
    out["cross_validation_seconds"] = round(sum(f["cross_validation_seconds"] for f in fams), 3)
    out["bootstrap_seconds"] = round(sum(f["bootstrap_seconds"] for f in fams), 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", required=True)
    args = parser.parse_args()
    print(json.dumps(time_models(Path(args.warehouse))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
