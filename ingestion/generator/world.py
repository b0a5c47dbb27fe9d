"""generate(): simulate the world chunk by chunk, land its files day by day, and record truth and faults."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingestion.contracts import SOURCES
from ingestion.generator import params, scoring, truth
from ingestion.generator.chunk import ChunkSimulation, Counters, Stats, WorldSpec
from ingestion.generator.faults import FAULT_COLUMNS, FILE_FAULTS, ROW_FAULTS, FaultInjector
from ingestion.generator.formats import text_rows, write_csv
from ingestion.generator.landing import LandingWriter, Spill, window_days_for
from ingestion.generator.vocab import COMPETENCIES

SCHEMA_VERSION = 1
# Transcript segments are the biggest source, about 16 rows per candidate: it sizes the spill windows.
LARGEST_SOURCE_ROWS_PER_CANDIDATE = 16
# Orphan ids use numbers from 9..., so the world must never issue that many (see faults.ORPHAN_PREFIX).
ID_LIMITS = {"candidate": 9_000_000, "requisition": 900_000, "interview": 90_000_000, "employee": 900_000}


def generate(
    out_dir: Path,
    candidates: int = 2000,
    days: int = 540,
    seed: int = 7,
    dirty: float = 0.0,
    start_date: date = date(2024, 1, 1),
    chunk_size: int = 50_000,
    overwrite: bool = False,
) -> dict:
    """Write landing/<source>/<YYYY-MM-DD>/ files, world/truth.json, world/faults.csv and world/hires.csv.

    Same arguments, same bytes. `overwrite` replaces existing landing/ and world/ folders under out_dir;
    without it, generating into a non-empty landing folder is an error (it may hold real source files).
    """
    _check_arguments(candidates, days, dirty, chunk_size)
    out_dir = Path(out_dir)
    _prepare(out_dir, overwrite)
    spec = WorldSpec(seed, candidates, days, start_date, chunk_size)
    params.check_parameters()
    interviewers = scoring.make_interviewers(np.random.default_rng([seed, 0]), candidates)
    counters, stats = Counters(), Stats()
    injector = FaultInjector(seed, dirty)
    window = window_days_for(candidates * LARGEST_SOURCE_ROWS_PER_CANDIDATE, days)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".spill-") as tmp:
        spill = Spill(Path(tmp), days, window)
        for index, offset in enumerate(range(0, candidates, chunk_size)):
            size = min(chunk_size, candidates - offset)
            spill.add(index, ChunkSimulation(spec, index, offset, size, counters, interviewers, stats).run())
        _check_id_ranges(candidates, counters)
        file_faults, skipped = plan_file_faults(spill, seed, days) if dirty > 0 else ({}, [])
        writer = LandingWriter(out_dir, seed, start_date, injector, file_faults)
        for source in SOURCES:
            writer.write_source(source, spill)
    world_dir = out_dir / "world"
    world_dir.mkdir(parents=True, exist_ok=True)
    _write_faults(world_dir / "faults.csv", injector)
    _write_hires(world_dir / "hires.csv", stats)
    document = _assemble(spec, dirty, writer, injector, stats, interviewers, skipped)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    (world_dir / "truth.json").write_text(text + "\n", encoding="utf-8")
    return json.loads(text)


def _check_arguments(candidates: int, days: int, dirty: float, chunk_size: int) -> None:
    if not 1 <= candidates < ID_LIMITS["candidate"]:
        raise ValueError(f"candidates must be between 1 and {ID_LIMITS['candidate'] - 1}")
    if days < 30:
        raise ValueError("days must be at least 30: the funnel alone takes weeks")
    if not 0.0 <= dirty < 0.5:
        raise ValueError("dirty is a rate of damaged rows, 0 <= dirty < 0.5")
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")


def _prepare(out_dir: Path, overwrite: bool) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("landing", "world"):
        target = out_dir / name
        if target.exists() and any(target.iterdir()):
            if not overwrite:
                raise FileExistsError(f"{target} is not empty; pass overwrite=True to replace it")
            shutil.rmtree(target)


def _check_id_ranges(candidates: int, counters: Counters) -> None:
    issued = {
        "candidate": candidates,
        "requisition": counters.requisition,
        "interview": counters.interview,
        "employee": counters.employee,
    }
    for kind, count in issued.items():
        if count >= ID_LIMITS[kind]:
            raise ValueError(f"{count} {kind} ids would collide with planted orphan ids")


def plan_file_faults(spill: Spill, seed: int, days: int) -> tuple[dict, list[str]]:
    """Pick a day for each whole-file fault, preferring the middle of the world; report those with no fit."""
    rng = np.random.default_rng([seed, 4])
    plan: dict[tuple[str, int], list[tuple[str, str]]] = {}
    skipped = []
    for fault_type, source, expected in FILE_FAULTS:
        fits = spill.day_counts.get(source, np.zeros(days, dtype=np.int64)) >= 2
        if fault_type == "gbk_encoding":
            fits &= spill.zh_label_days > 0
        taken = [d for (s, d) in plan if s == source]
        fits[taken] = False
        options = np.flatnonzero(fits)
        if len(options) == 0:
            skipped.append(fault_type)
            continue
        middle = options[(options >= days // 4) & (options < 3 * days // 4)]
        pool = middle if len(middle) else options
        day = int(pool[rng.integers(0, len(pool))])
        plan.setdefault((source, day), []).append((fault_type, expected))
    return plan, skipped


def _write_faults(path: Path, injector: FaultInjector) -> None:
    rows = sorted((f.as_row() for f in injector.faults), key=lambda r: (r[0], r[2], r[3]))
    write_csv(path, list(FAULT_COLUMNS), [[str(v) for v in r] for r in rows])


def _write_hires(path: Path, stats: Stats) -> None:
    """The true candidate behind each employee, with the link method the HRIS row allows."""
    table = pa.concat_tables(stats.hires).sort_by("employee_id")
    write_csv(path, table.column_names, text_rows(table))


def _assemble(
    spec: WorldSpec,
    dirty: float,
    writer: LandingWriter,
    injector: FaultInjector,
    stats: Stats,
    interviewers: scoring.Interviewers,
    skipped: list[str],
) -> dict:
    optimal = truth.optimal_weights(spec.seed, interviewers)
    criterion = truth.criterion_truth(spec.seed, interviewers)
    by_type = Counter(f.fault_type for f in injector.faults)
    video = stats.video_interviews
    return {
        "schema_version": SCHEMA_VERSION,
        "world": {
            "seed": spec.seed,
            "candidates": spec.candidates,
            "days": spec.days,
            "start_date": spec.start_date.isoformat(),
            "end_date": (spec.start_date + timedelta(days=spec.days)).isoformat(),
            "last_data_date": (spec.start_date + timedelta(days=spec.days - 1)).isoformat(),
            "dirty": dirty,
            "chunk_size": spec.chunk_size,
            "layout": "landing/<source>/<YYYY-MM-DD>/<source>_<YYYYMMDD>[_<part>].<csv|jsonl|parquet|xlsx>",
            "counts": {source: writer.rows.get(source, 0) for source in SOURCES},
            "files": {source: writer.files.get(source, 0) for source in SOURCES},
            "documents": {kind: writer.documents.get(kind, 0) for kind in ("pdf", "docx")},
        },
        "faults": {
            "file": "world/faults.csv",
            "total": len(injector.faults),
            "row_faults": sum(by_type[t] for t in ROW_FAULTS),
            "by_type": dict(sorted(by_type.items())),
            "whole_file_types": [f for f, _, _ in FILE_FAULTS],
            "skipped_whole_file_types": skipped,
        },
        "competencies": list(COMPETENCIES),
        "job_families": truth.family_truth(optimal, criterion),
        "optimal_weights_method": truth.OPTIMAL_WEIGHTS_METHOD,
        "selection": truth.selection_truth(stats),
        "group_differences": params.GROUP_DIFFERENCES,
        "interviewers": truth.interviewer_truth(interviewers),
        "technical_failure_rate_by_region": {
            "planted": params.TECHNICAL_FAILURE_RATE_BY_REGION,
            "observed": {r: round(v[1] / v[0], 4) if v[0] else None for r, v in sorted(video.items())},
            "video_interviews": {r: v[0] for r, v in sorted(video.items())},
            "unit": "share of video interview attempts (ai_video, human_video); onsite never fails",
        },
        "resume_interview_mismatch": {
            "rule": f"mean latent < {params.MISMATCH_LATENT_THRESHOLD} and, with probability {params.MISMATCH_SHARE}, "
            "resume claims 5-10 extra years and 11-14 skills; listed when the resume was sent and the interview "
            "completed in the world",
            "count": stats.mismatch_count,
            "candidate_ids": sorted(stats.mismatch_ids),
            "list_capped_at": params.MISMATCH_LIST_CAP,
        },
        "employee_links": {
            "file": "world/hires.csv",
            "expected_methods": dict(sorted(stats.link_methods.items())),
            "candidate_id_blank_share": params.HRIS_CANDIDATE_ID_BLANK,
            "hire_date_max_shift_days": params.HRIS_HIRE_DATE_MAX_SHIFT_DAYS,
        },
        **truth.model_truth(),
    }
