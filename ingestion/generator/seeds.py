"""Write the three dbt seeds the generator's vocabulary defines: `python -m ingestion.generator.seeds`.

competency_labels.csv and rating_words.csv cover every label and word the generator emits (plus common variants);
scorecard_weights_initial.csv holds the current weights, equal per family, deliberately not the planted optimum.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ingestion.generator.chunk import current_weights
from ingestion.generator.vocab import COMPETENCIES, JOB_FAMILIES, competency_label_rows, rating_word_rows

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
# Before any generated world starts, so the initial weights are in force for all of its data.
INITIAL_WEIGHTS_EFFECTIVE_FROM = "2020-01-01"


def _write(path: Path, header: list[str], rows: list) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def weight_rows() -> list[tuple[str, str, str, str]]:
    # Ten decimals: six equal weights then sum to 1 within 1e-9.
    weights = current_weights()
    return [
        (family, code, f"{weights[f, k]:.10f}", INITIAL_WEIGHTS_EFFECTIVE_FROM)
        for f, family in enumerate(JOB_FAMILIES)
        for k, code in enumerate(COMPETENCIES)
    ]


def write_seeds(folder: Path = SEEDS_DIR) -> None:
    _write(
        folder / "competency_labels.csv", ["label", "competency_code", "language", "origin"], competency_label_rows()
    )
    _write(folder / "rating_words.csv", ["word", "value_0_1"], rating_word_rows())
    _write(
        folder / "scorecard_weights_initial.csv",
        ["job_family", "competency_code", "weight", "effective_from"],
        weight_rows(),
    )


if __name__ == "__main__":
    write_seeds()
