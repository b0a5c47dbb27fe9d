"""Bias-audit reports (ml/audit_report.py) from the warehouse: `talentloop audit`, and the nightly reports and
score-threshold view that the Fairness audit page offers (ml.audit_reports, ml.fairness_thresholds).

The pool is the scored applicants, one row per candidate x job family with their latest completed, scored
interview (as marts.adverse_impact and the weight model count them), kept when that interview is dated in the
period; hired = hired into the family. Reading is read-only: the published snapshot by default, or the
pipeline's warehouse (which fails while a run holds it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion.settings import Settings

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

# duckdb, pandas and ml are imported where they are used: `talentloop` builds every subcommand's parser, and
# these imports would add seconds to each of its commands.

# The nightly reports cover the twelve months up to the data's last day: LL144 wants an audit no older than a year.
NIGHTLY_MONTHS = 12
# The pool marts.adverse_impact and the weight model count: applicant_pool keeps each candidate's latest completed,
# scored interview per family.
POOL_SQL = """
    select job_family, started_at, composite_score as composite, gender as sex, ethnicity, hired
    from marts.applicant_pool
"""
REPORT_TABLE_COLUMNS = [
    "job_family",
    "period_start",
    "period_end",
    "audit_date",
    "format",
    "file_name",
    "n_assessed",
    "n_flags",
    "content",
]


def load_pool(con: duckdb.DuckDBPyConnection, start: dt.date | None = None, end: dt.date | None = None) -> pd.DataFrame:
    """Scored applicants (job_family, started_at, composite, sex, ethnicity, hired) whose pool interview falls in
    [start, end] (interview dates; either bound may be None)."""
    import pandas as pd

    pool = con.execute(f"select * from ({POOL_SQL}) as pool order by job_family, started_at").df()
    day = pd.to_datetime(pool["started_at"]).dt.date
    keep = pd.Series(True, index=pool.index)
    if start is not None:
        keep &= day >= start
    if end is not None:
        keep &= day <= end
    out = pool[keep].reset_index(drop=True)
    out["hired"] = out["hired"].astype(bool).astype(float)
    return out


def data_source(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, dt.date | None]:
    """What the numbers were read from, in words, and the last landed day."""
    import pandas as pd

    tables = "marts.applicant_pool (from marts.interviews, marts.hires and marts.candidates)"
    if _exists(con, "ops", "publish_info"):
        run_id, published_at, landed = con.execute(
            "select run_id, published_at, landed_through from ops.publish_info"
        ).fetchall()[0]
        where = f"published snapshot {path.name} (run {str(run_id)[:8]}, published {published_at:%Y-%m-%d %H:%M} UTC)"
    else:
        landed = (
            con.execute("select max(_partition_date) from raw.load_log").fetchall()[0][0]
            if _exists(con, "raw", "load_log")
            else None
        )
        where = f"warehouse {path.name}"
    source = (
        f"TalentLoop {where}: {tables}. Interview scores from the interview vendor's AI and human raters; "
        "hires from the HRIS, linked to candidates; sex and race/ethnicity self-reported in the applicant "
        "tracking system."
    )
    return source, pd.Timestamp(landed).date() if landed is not None and not pd.isna(landed) else None


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_catalog = current_database() "
            "and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )


def safe_name(text: str) -> str:
    """A job family as a file-name part: letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-") or "family"


def report_file_stem(job_family: str, start: dt.date, end: dt.date) -> str:
    return f"audit_{safe_name(job_family)}_{start.isoformat()}_{end.isoformat()}"


def family_report(
    pool: pd.DataFrame,
    job_family: str,
    start: dt.date,
    end: dt.date,
    source: str,
    data_through: dt.date | None,
    *,
    audit_date: dt.date | None = None,
    auditor: str | None = None,
    suppress_below: int | None = None,
    n_perm: int | None = None,
):
    """The AuditReport of one family over [start, end] from a load_pool frame."""
    import pandas as pd

    from ml import audit_report, fairness

    meta = audit_report.AuditMeta(
        job_family=job_family,
        period_start=start,
        period_end=end,
        source=source,
        audit_date=audit_date or dt.datetime.now(dt.UTC).date(),
        auditor=auditor,
        data_through=data_through,
    )
    rows = pool[(pool["job_family"] == job_family) & (pd.to_datetime(pool["started_at"]).dt.date.between(start, end))]
    return audit_report.build_report(
        rows,
        meta,
        suppress_below=fairness.SMALL_GROUP_N if suppress_below is None else suppress_below,
        n_perm=fairness.DEFAULT_PERMUTATIONS if n_perm is None else n_perm,
    )


def write_report_files(report, out_dir: Path) -> list[Path]:
    """audit_<family>_<from>_<to>.pdf and .html in out_dir."""
    from ml import audit_report

    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_file_stem(report.meta.job_family, report.meta.period_start, report.meta.period_end)
    pdf, page = out_dir / f"{stem}.pdf", out_dir / f"{stem}.html"
    pdf.write_bytes(audit_report.to_pdf(report))
    page.write_text(audit_report.to_html(report), encoding="utf-8")
    return [pdf, page]


def open_readonly(settings: Settings, warehouse: bool) -> tuple[duckdb.DuckDBPyConnection, Path]:
    import duckdb

    path = settings.warehouse if warehouse else settings.current_snapshot()
    if path is None or not Path(path).exists():
        raise FileNotFoundError(
            "no warehouse at " + str(settings.warehouse)
            if warehouse
            else "nothing published yet: run `talentloop run` first (or pass --warehouse)"
        )
    return duckdb.connect(str(path), read_only=True), Path(path)


def add_parser(sub) -> argparse.ArgumentParser:
    """The `audit` subcommand's arguments."""
    a = sub.add_parser(
        "audit", help="bias-audit report (NYC Local Law 144) of a job family over a period: PDF and HTML"
    )
    a.add_argument("--job-family", required=True, help="job family code, or 'all' for one report per family")
    a.add_argument("--from", dest="start", required=True, type=dt.date.fromisoformat, help="first interview day")
    a.add_argument("--to", dest="end", required=True, type=dt.date.fromisoformat, help="last interview day")
    a.add_argument("--out", default=".", help="folder to write audit_<family>_<from>_<to>.pdf/.html (default: .)")
    a.add_argument("--auditor", help="the independent auditor's name, printed on the report")
    a.add_argument("--audit-date", type=dt.date.fromisoformat, help="date of the audit (default: today, UTC)")
    a.add_argument(
        "--warehouse", action="store_true", help="read the pipeline's warehouse (read-only) instead of the snapshot"
    )
    a.add_argument(
        "--show-small-counts",
        action="store_true",
        help="print counts under 5 instead of '<5' (a confidential copy for the auditor)",
    )
    a.set_defaults(func=cmd_audit)
    return a


def cmd_audit(args: argparse.Namespace) -> int:
    import duckdb

    if args.end < args.start:
        print(f"--to {args.end} is before --from {args.start}")
        return 2
    settings = Settings.from_env()
    try:
        con, path = open_readonly(settings, args.warehouse)
    except (FileNotFoundError, duckdb.IOException) as exc:
        print(f"Cannot read the data: {exc}")
        return 1
    try:
        pool = load_pool(con, args.start, args.end)
        source, data_through = data_source(con, path)
    finally:
        con.close()
    families = sorted(pool["job_family"].dropna().unique()) if args.job_family == "all" else [args.job_family]
    if not families:
        print(f"No scored applicants with an interview between {args.start} and {args.end}.")
        return 1
    status = 0
    for family in families:
        report = family_report(
            pool,
            family,
            args.start,
            args.end,
            source,
            data_through,
            audit_date=args.audit_date,
            auditor=args.auditor,
            suppress_below=0 if args.show_small_counts else None,
        )
        if report.n_assessed == 0:
            print(f"{family}: no scored applicants with an interview between {args.start} and {args.end}.")
            status = 1
            continue
        files = write_report_files(report, Path(args.out).resolve())
        flags = int(report.table["flag"].sum())
        print(f"{family}: {report.n_assessed:,} applicants assessed, {flags} adverse-impact flag(s)")
        for f in files:
            print(f"  {f}")
    return status


# ---------------------------------------------------------------------------------------------------------------
# Nightly outputs the Fairness audit page reads (the dashboards import no ml code)
# ---------------------------------------------------------------------------------------------------------------


def nightly_period(data_through: dt.date, months: int = NIGHTLY_MONTHS) -> tuple[dt.date, dt.date]:
    """The `months` up to and including data_through."""
    import pandas as pd

    start = (pd.Timestamp(data_through) - pd.DateOffset(months=months) + pd.Timedelta(days=1)).date()
    return start, data_through


def nightly_reports(
    con: duckdb.DuckDBPyConnection, path: Path, audit_date: dt.date | None = None, n_perm: int | None = None
) -> pd.DataFrame:
    """ml.audit_reports rows: each family's PDF and HTML report of the last NIGHTLY_MONTHS months of data."""
    import pandas as pd

    from ml import audit_report

    source, data_through = data_source(con, path)
    pool = load_pool(con)
    if data_through is None:
        last = pd.to_datetime(pool["started_at"]).max()
        data_through = last.date() if pd.notna(last) else dt.datetime.now(dt.UTC).date()
    start, end = nightly_period(data_through)
    rows = []
    for family in sorted(pool["job_family"].dropna().unique()):
        report = family_report(pool, family, start, end, source, data_through, audit_date=audit_date, n_perm=n_perm)
        if report.n_assessed == 0:
            continue
        stem = report_file_stem(family, start, end)
        common = {
            "job_family": family,
            "period_start": start,
            "period_end": end,
            "audit_date": report.meta.audit_date,
            "n_assessed": report.n_assessed,
            "n_flags": int(report.table["flag"].sum()),
        }
        rows.append({**common, "format": "pdf", "file_name": f"{stem}.pdf", "content": audit_report.to_pdf(report)})
        html = audit_report.to_html(report).encode("utf-8")
        rows.append({**common, "format": "html", "file_name": f"{stem}.html", "content": html})
    return pd.DataFrame(rows, columns=REPORT_TABLE_COLUMNS)


THRESHOLD_COLUMNS = [
    "job_family",
    "cutoff_quantile",
    "cutoff_score",
    "pass_share",
    "dimension",
    "group_label",
    "n",
    "n_positive",
    "rate",
    "reference_group",
    "reference_rate",
    "impact_ratio",
    "ci_low",
    "ci_high",
    "below_four_fifths",
    "p_adjusted",
    "flag",
    "floor_n",
    "eligible",
    "is_unknown",
    "excluded_small",
    "small_group",
]


def threshold_rows(pool: pd.DataFrame, families: Sequence[str] | None = None) -> pd.DataFrame:
    """ml.fairness_thresholds: per family, pass rates and impact ratios at the composite cut-offs of
    ml.fairness.threshold_table (the 5th to the 95th percentile in steps of 5)."""
    import pandas as pd

    from ml.fairness import threshold_table

    frames = []
    for family in families if families is not None else sorted(pool["job_family"].dropna().unique()):
        rows = pool[pool["job_family"] == family]
        if rows["composite"].notna().sum() == 0:
            continue
        table = threshold_table(rows, "composite").rename(columns={"group": "group_label"})
        frames.append(table.assign(job_family=family))
    if not frames:
        return pd.DataFrame(columns=THRESHOLD_COLUMNS)
    return pd.concat(frames, ignore_index=True)[THRESHOLD_COLUMNS]


def write_reports_table(
    con: duckdb.DuckDBPyConnection, table: pd.DataFrame, run_id: str, parameters: dict | None = None
) -> str:
    """Replace ml.audit_reports and register the run in ml.model_runs; returns the version.

    No ml.audit_reports_history: the reports are files (about 100 KB a family a night) that the next run
    rebuilds from the marts, and every history table travels in every published snapshot.
    """
    import json

    from ml.outputs import REGISTRY_DDL, data_snapshot

    fitted_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    version = f"audit_reports-{fitted_at:%Y%m%dT%H%M%S}-{run_id[:8]}"
    frame = table.assign(model_version=version, fitted_at=fitted_at)
    con.execute("create schema if not exists ml")
    con.execute(REGISTRY_DDL)
    snapshot = data_snapshot(con)
    columns = (
        "job_family varchar, period_start date, period_end date, audit_date date, format varchar, "
        "file_name varchar, n_assessed bigint, n_flags bigint, content blob, model_version varchar, "
        "fitted_at timestamp"
    )
    con.execute("begin transaction")
    try:
        con.execute(f"create or replace table ml.audit_reports ({columns})")
        if len(frame):
            con.executemany(
                f"insert into ml.audit_reports values ({', '.join('?' * 11)})",
                [
                    [*(r[c] for c in REPORT_TABLE_COLUMNS), r["model_version"], r["fitted_at"]]
                    for r in frame.to_dict("records")
                ],
            )
        con.execute(
            "insert into ml.model_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                "audit_reports",
                version,
                run_id,
                fitted_at,
                len(frame),
                json.dumps(parameters or {}, default=str),
                json.dumps({"families": sorted(set(frame["job_family"]))}, default=str),
                snapshot,
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return version
