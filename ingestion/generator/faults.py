"""Planted faults: damaged extra rows and damaged files, each recorded with the reason ingestion must give.

Rule: a fault never replaces or removes a clean record. A row fault is a damaged *copy* of a clean row, inserted
right after it (so a duplicate always follows its original); a file fault is either a clean file in an awkward
encoding or shape that must load in full, or an extra file in the same day folder built from copies. So with any
dirty rate, the clean world (and every count in truth.json) is the same as with dirty=0 for the same seed, and
ingestion can be checked as: every listed fault quarantined with its reason, every other row loaded.

Row faults go only into CSV and JSON lines files (typed Parquet and Excel columns cannot hold a malformed date).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion import reasons
from ingestion.contracts import CONTRACTS, SOURCES
from ingestion.generator.vocab import UNKNOWN_LABELS, UNKNOWN_RATING_WORDS

FAULT_COLUMNS = ("file", "source", "row_number", "fault_type", "expected_reason", "column", "detail")
LOADED = "loaded"

ROW_FAULTS = (
    reasons.DUPLICATE_ROW,
    reasons.MISSING_KEY,
    reasons.ORPHAN_REFERENCE,
    reasons.OUT_OF_RANGE,
    reasons.INVALID_DATE,
    reasons.FUTURE_DATE,
    reasons.UNKNOWN_LABEL,
    reasons.UNKNOWN_RATING_WORD,
    reasons.INVALID_VALUE,
)

# The date column that puts a row in its day folder: the one invalid_date and future_date damage.
EVENT_DATE_COLUMN = {
    "requisitions": "opened_at",
    "candidates": "consent_at",
    "application_events": "event_at",
    "resumes": "received_at",
    "interviews": "started_at",
    "interview_scores": "scored_at",
    "employees": "hire_date",
    "performance_reviews": "review_date",
    "complaints": "received_at",
    "erasure_requests": "requested_at",
}
SCORE_COLUMN = {"interview_scores": "score", "performance_reviews": "rating"}
# Ids of a shape the world issues, from a number range it never reaches (asserted in world.py).
ORPHAN_PREFIX = {
    "candidates": ("C-9", 6),
    "requisitions": ("REQ-9", 5),
    "interviews": ("IV-9", 7),
    "employees": ("EMP-9", 5),
}
INVALID_DATES = ("2024-13-01", "2024-02-30", "2024-06-31T09:15:00", "not a date", "0000-00-00", "2024-00-10")
INVALID_ENUMS = {
    "event": "interview_scheduled",
    "format": "rtf",
    "mode": "phone_screen",
    "status": "no_show",
    "rater_type": "panel",
    "speaker": "narrator",
    "termination_type": "layoff",
    "review_period": "9m",
    "severity": "critical",
    "scope": "everything",
}

# Whole-file faults: (fault_type, source, expected_reason), at least one each whenever dirty > 0.
FILE_FAULTS = (
    ("bom_crlf", "candidates", LOADED),
    ("gbk_encoding", "interview_scores", LOADED),
    ("extra_column", "application_events", LOADED),
    ("truncated_row", "interviews", reasons.MALFORMED_ROW),
    ("empty_file", "performance_reviews", reasons.EMPTY_FILE),
    ("missing_column", "employees", reasons.MISSING_COLUMNS),
)
EXTRA_COLUMN = "export_batch"
DROPPED_COLUMN = {"employees": "hire_date"}


@dataclass(frozen=True)
class Fault:
    file: str
    source: str
    row_number: int
    fault_type: str
    expected_reason: str
    column: str = ""
    detail: str = ""

    def as_row(self) -> tuple:
        return tuple(getattr(self, name) for name in FAULT_COLUMNS)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


class RowDamage:
    """What each row fault does to one text row of a source, and whether it can apply to that row."""

    def __init__(self, source: str, header: list[str]):
        self.source = source
        self.contract = CONTRACTS[source]
        self.index = {name: i for i, name in enumerate(header)}
        self.required = [c.name for c in self.contract.columns if c.required]
        self.references = [c for c in self.contract.columns if c.references]
        self.enums = [c.name for c in self.contract.columns if c.allowed and c.name in INVALID_ENUMS]
        self.date_column = EVENT_DATE_COLUMN.get(source)
        self.score_column = SCORE_COLUMN.get(source)

    def applicable(self, fault: str, row: tuple) -> bool:
        if fault in (reasons.DUPLICATE_ROW, reasons.MISSING_KEY):
            return True
        if fault == reasons.ORPHAN_REFERENCE:
            return bool(self.references)
        if fault in (reasons.INVALID_DATE, reasons.FUTURE_DATE):
            return self.date_column is not None and row[self.index[self.date_column]] != ""
        if fault == reasons.INVALID_VALUE:
            return bool(self.enums)
        if fault == reasons.UNKNOWN_LABEL:
            return self.source == "interview_scores"
        score = row[self.index[self.score_column]] if self.score_column else ""
        if fault == reasons.OUT_OF_RANGE:
            return score != "" and _is_number(score)
        if fault == reasons.UNKNOWN_RATING_WORD:
            return self.source == "interview_scores" and score != "" and not _is_number(score)
        return False

    def damage(self, fault: str, row: tuple, rng: np.random.Generator, original: int) -> tuple[list, str, str]:
        """The damaged copy, the column damaged and a short description."""
        out = list(row)
        if fault == reasons.DUPLICATE_ROW:
            return out, "", f"copy of row {original}"
        if fault == reasons.MISSING_KEY:
            filled = [c for c in self.required if out[self.index[c]] != ""]
            column = filled[rng.integers(0, len(filled))]
            out[self.index[column]] = ""
            return out, column, "blanked"
        if fault == reasons.ORPHAN_REFERENCE:
            ref = self.references[rng.integers(0, len(self.references))]
            prefix, digits = ORPHAN_PREFIX[ref.references.split(".")[0]]
            value = prefix + str(rng.integers(0, 10**digits)).zfill(digits)
            out[self.index[ref.name]] = value
            return out, ref.name, value
        if fault == reasons.INVALID_DATE:
            value = INVALID_DATES[rng.integers(0, len(INVALID_DATES))]
            out[self.index[self.date_column]] = value
            return out, self.date_column, value
        if fault == reasons.FUTURE_DATE:
            old = out[self.index[self.date_column]]
            # Past 2100, so the date is in the future whenever the file is loaded; 29 Feb moves to a safe day.
            value = str(rng.integers(2101, 2200)) + old[4:].replace("-02-29", "-02-28")
            out[self.index[self.date_column]] = value
            return out, self.date_column, value
        if fault == reasons.INVALID_VALUE:
            column = self.enums[rng.integers(0, len(self.enums))]
            out[self.index[column]] = INVALID_ENUMS[column]
            return out, column, INVALID_ENUMS[column]
        if fault == reasons.UNKNOWN_LABEL:
            value = UNKNOWN_LABELS[rng.integers(0, len(UNKNOWN_LABELS))]
            out[self.index["competency"]] = value
            return out, "competency", value
        if fault == reasons.UNKNOWN_RATING_WORD:
            value = UNKNOWN_RATING_WORDS[rng.integers(0, len(UNKNOWN_RATING_WORDS))]
            out[self.index["score"]] = value
            return out, "score", value
        if fault == reasons.OUT_OF_RANGE:
            return self._out_of_range(out, rng)
        raise ValueError(fault)

    def _out_of_range(self, out: list, rng: np.random.Generator) -> tuple[list, str, str]:
        column = self.score_column
        lo = float(out[self.index["scale_min"]])
        hi = float(out[self.index["scale_max"]])
        span = hi - lo
        above = rng.random() < 0.7
        value = hi + span * rng.uniform(0.2, 1.0) if above else lo - span * rng.uniform(0.2, 1.0)
        value = float(np.ceil(value)) if above else float(np.floor(value))
        out[self.index[column]] = _number_text(value)
        return out, column, out[self.index[column]]


class FaultInjector:
    """Decides, per file, which rows get a damaged copy, and records every fault it plants."""

    def __init__(self, seed: int, rate: float):
        self.seed = seed
        self.rate = rate
        self.faults: list[Fault] = []
        # Until each row fault type has appeared once, the first file that can carry it gets one.
        self.pending = list(ROW_FAULTS) if rate > 0 else []

    def record(self, fault: Fault) -> None:
        self.faults.append(fault)

    def inject(self, source: str, rel_path: str, header: list[str], rows: list, day: int, part: int) -> list:
        if self.rate <= 0 or not rows:
            return rows
        rng = np.random.default_rng([self.seed, 3, SOURCES.index(source), day, part])
        damage = RowDamage(source, header)
        plan: dict[int, list[str]] = {}
        for i in np.flatnonzero(rng.random(len(rows)) < self.rate):
            options = [f for f in ROW_FAULTS if damage.applicable(f, rows[i])]
            plan.setdefault(int(i), []).append(options[rng.integers(0, len(options))])
        for fault in list(self.pending):
            fits = [i for i in range(len(rows)) if damage.applicable(fault, rows[i])]
            if fits:
                plan.setdefault(fits[rng.integers(0, len(fits))], []).append(fault)
                self.pending.remove(fault)
        out: list = []
        for i, row in enumerate(rows):
            out.append(row)
            original = len(out)
            for fault in plan.get(i, ()):
                damaged, column, detail = damage.damage(fault, row, rng, original)
                out.append(damaged)
                self.record(Fault(rel_path, source, len(out), fault, fault, column, detail))
        return out
