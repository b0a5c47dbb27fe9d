"""The Fairness audit page's queries: read-only, cached (read.query), aggregated in SQL.

- Scored applicants (selection and scoring rates under the audit's rule), the nightly bias-audit reports and the
  score-threshold view pool every department: they are read for an all-rows scope only.
- Funnel steps: marts.adverse_impact for an all-rows scope; for a department head the same figures are computed
  here from the department-scoped applications, with the mart's rule (reference floor max(30, 2% of the step's
  pool), 'unknown' never the reference) and its <5 suppression.
"""

from __future__ import annotations

import pandas as pd

from dashboards import queries, read
from dashboards.auth import AccessDenied, RowScope, scoped_sql

# marts/adverse_impact.sql's var('reference_floor_n', 30) and var('reference_floor_share', 0.02), which are
# ml.fairness.REFERENCE_FLOOR_N and REFERENCE_FLOOR_SHARE (a unit test holds the three together).
REFERENCE_FLOOR_N = 30
REFERENCE_FLOOR_SHARE = 0.02
MIN_CELL = queries.MIN_CELL
FOUR_FIFTHS = 0.8
METRICS = ("selection", "scoring")
SCORED_STAGE = "scored"
REPORT_FORMATS = {"pdf": "application/pdf", "html": "text/html"}
IMPACT_COLUMNS = (
    "metric",
    "dimension",
    "group_label",
    "is_suppressed",
    "n",
    "n_passed",
    "rate",
    "reference_group",
    "impact_ratio",
    "ci_low",
    "ci_high",
    "is_below_four_fifths",
    "is_eligible",
    "is_unknown",
    "is_excluded_small",
    "floor_n",
)


def _org_wide(scope: RowScope) -> None:
    if not scope.all_rows:
        raise AccessDenied("the bias audit pools every department")


def scored_impact(scope: RowScope, job_family: str) -> pd.DataFrame:
    """Selection (hired) and scoring (above the median composite) rates and impact ratios of the scored
    applicants, by sex, ethnicity and their intersection (marts.adverse_impact, stage 'scored')."""
    _org_wide(scope)
    queries.require("marts", "adverse_impact", IMPACT_COLUMNS)
    return read.query(
        f"select {', '.join(IMPACT_COLUMNS)} from marts.adverse_impact "
        "where job_family = ? and stage_name = ? "
        "order by metric, dimension, is_unknown, is_excluded_small, group_label",
        (job_family, SCORED_STAGE),
    )


def funnel_impact(scope: RowScope, job_family: str, stage: str) -> pd.DataFrame:
    """Selection rates and impact ratios at one funnel step, for the user's rows."""
    if stage not in queries.FAIRNESS_STAGES:
        raise ValueError(stage)
    cols = [c for c in IMPACT_COLUMNS if c not in ("metric", "rate")] + ["selection_rate"]
    if scope.all_rows:
        queries.require("marts", "adverse_impact", cols)
        return read.query(
            f"select {', '.join(cols)} from marts.adverse_impact "
            "where job_family = ? and stage_name = ? and metric = 'selection' "
            "order by dimension, is_unknown, is_excluded_small, group_label",
            (job_family, stage),
        )
    if stage == "overall":
        pool, passed = "true", f"furthest_stage_order >= {len(queries.STAGES)}"
    else:
        order = queries.STAGES.index(stage) + 1
        pool, passed = f"furthest_stage_order >= {order - 1}", f"furthest_stage_order >= {order}"
    sql, params = scoped_sql(
        "select a.department, a.job_family, a.furthest_stage_order, "
        "coalesce(nullif(trim(c.gender), ''), 'unknown') as sex, "
        "coalesce(nullif(trim(c.ethnicity), ''), 'unknown') as ethnicity "
        "from marts.applications as a inner join marts.candidates as c on a.candidate_key = c.candidate_key "
        "where (? = 'all' or a.job_family = ?)",
        scope,
        "department",
        [job_family, job_family],
    )
    suppress = lambda v: f"case when r.n >= {MIN_CELL} then {v} end"  # noqa: E731
    return read.query(
        f"""
        with apps as (select * from ({sql}) as s where {pool}),
        grouped as (
            select 'sex' as dimension, sex as group_label, sex = 'unknown' as is_unknown, count(*) as n,
                count(*) filter (where {passed}) as n_passed from apps group by all
            union all
            select 'ethnicity', ethnicity, ethnicity = 'unknown', count(*), count(*) filter (where {passed})
            from apps group by all
            union all
            select 'sex × ethnicity', sex || ' × ' || ethnicity, sex = 'unknown' or ethnicity = 'unknown',
                count(*), count(*) filter (where {passed})
            from apps group by all
        ),
        floored as (
            select *, cast(n_passed as double) / n as rate,
                greatest({REFERENCE_FLOOR_N}, cast(ceil(cast({REFERENCE_FLOOR_SHARE} as double)
                    * sum(n) over (partition by dimension) - 1e-9) as integer)) as floor_n
            from grouped
        ),
        rated as (
            select *, n < floor_n as is_excluded_small, not is_unknown and n >= floor_n as is_eligible
            from floored
        ),
        ranked as (
            select dimension, group_label as reference_group, rate as reference_rate,
                row_number() over (partition by dimension order by rate desc, n desc, group_label) as k
            from rated where is_eligible
        )
        select r.dimension, r.group_label, r.n < {MIN_CELL} as is_suppressed,
            {suppress("r.n")} as n, {suppress("r.n_passed")} as n_passed, ref.reference_group,
            {suppress("r.rate / nullif(ref.reference_rate, 0)")} as impact_ratio,
            cast(null as double) as ci_low, cast(null as double) as ci_high,
            coalesce(r.n >= {MIN_CELL} and r.rate / nullif(ref.reference_rate, 0) < {FOUR_FIFTHS}, false)
                as is_below_four_fifths,
            r.is_eligible, r.is_unknown, r.is_excluded_small, r.floor_n,
            {suppress("r.rate")} as selection_rate
        from rated as r left join ranked as ref on r.dimension = ref.dimension and ref.k = 1
        order by r.dimension, r.is_unknown, r.is_excluded_small, r.group_label
        """,
        tuple(params),
    )


def reports(scope: RowScope, job_family: str) -> pd.DataFrame:
    """The job family's published audit reports (one row per format), without their content."""
    _org_wide(scope)
    queries.require("ml", "audit_reports", ("job_family", "format", "file_name", "period_start", "period_end"))
    return read.query(
        "select job_family, format, file_name, period_start, period_end, audit_date, n_assessed, n_flags "
        "from ml.audit_reports where job_family = ? order by format",
        (job_family,),
    )


def report_content(scope: RowScope, job_family: str, fmt: str) -> bytes | None:
    """The bytes of one published report (PDF or HTML), or None."""
    _org_wide(scope)
    if fmt not in REPORT_FORMATS:
        raise ValueError(fmt)
    rows = read.query(
        "select content from ml.audit_reports where job_family = ? and format = ?",
        (job_family, fmt),
    )
    return bytes(rows["content"].iloc[0]) if len(rows) else None


THRESHOLD_COLUMNS = (
    "cutoff_quantile",
    "cutoff_score",
    "pass_share",
    "dimension",
    "group_label",
    "n",
    "n_positive",
    "rate",
    "reference_group",
    "impact_ratio",
    "ci_low",
    "ci_high",
    "flag",
    "eligible",
    "is_unknown",
)


def thresholds(scope: RowScope, job_family: str) -> pd.DataFrame:
    """Pass rates and impact ratios per group at each composite cut-off (ml.fairness_thresholds); counts and
    rates of fewer than five people are null (suppressed)."""
    _org_wide(scope)
    queries.require("ml", "fairness_thresholds", THRESHOLD_COLUMNS)
    shown = lambda c: f"case when n >= {MIN_CELL} then {c} end as {c}"  # noqa: E731
    return read.query(
        "select cutoff_quantile, cutoff_score, pass_share, dimension, group_label, n < "
        f"{MIN_CELL} as is_suppressed, {shown('n')}, {shown('n_positive')}, {shown('rate')}, reference_group, "
        f"{shown('impact_ratio')}, {shown('ci_low')}, {shown('ci_high')}, flag, eligible, is_unknown "
        "from ml.fairness_thresholds where job_family = ? order by dimension, group_label, cutoff_quantile",
        (job_family,),
    )
