"""Every query the pages run: read-only, cached (read.query), aggregated in SQL, limited to the user's rows.

Row scope, page by page (a department head's RowScope names one department; the others read every row):
- Marts that carry a `department` column (applications, interviews, interview_ratings, hires, talent_pool,
  workforce_monthly) are always read through `auth.scoped_sql`, and any aggregate over them is taken *outside*
  the scoped subquery, so the department filter applies to the rows before they are counted.
- The pre-aggregated marts (funnel, quality_of_hire(_by_competency), retention_cohorts, complaint_rates,
  adverse_impact) and ml.turnover_km have no department: they mix every department's people, so they are read
  only for an all-rows scope (`_org_wide` refuses otherwise). For a department head the same figures are computed
  here, in SQL, from the department-scoped atomic mart, with the same definitions and the same <5 suppression.
- Interviewers have no department: a department head sees the interviewers who rated their department's
  interviews (a semi-join on the scoped interview_ratings), with those interviewers' own calibration statistics.
- Model estimates (validity, rater agreement, hazard ratios, rate ratios) are organisation-wide coefficients with
  no person or department rows; pages label them "organisation-wide". The review desk's tables (recommendations,
  fairness gate) belong to a page department heads cannot open.
- ops.* (loads, quarantine counts, publish time) describe the pipeline, not people; only counts are shown, never
  a quarantined row's payload.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import TypeVar

import pandas as pd

from dashboards import read
from dashboards.auth import AccessDenied, RowScope, scoped_sql

T = TypeVar("T")
# The marts' var('min_cell_size'): a count or rate about fewer people is shown as "<5".
MIN_CELL = 5
# The dbt var('retention_interval_days'): department survival curves use the same life-table step as the mart.
RETENTION_INTERVAL_DAYS = 30
STAGES = ("applied", "screened_in", "interview_invited", "interview_completed", "offer_made", "offer_accepted", "hired")
SCORE_BANDS = ("low", "medium", "high", "unscored")
QOH_OUTCOMES = ("rating_3m", "rating_6m", "rating_12m", "probation_passed", "retained_12m")
FAIRNESS_DIMENSIONS = ("sex", "ethnicity", "sex × ethnicity")
FAIRNESS_STAGES = (*STAGES[1:], "overall")
# Breakdowns the funnel offers, and the applications column each reads (the candidate's region, as the mart does).
FUNNEL_DIMENSIONS = {
    "all": "'all'",
    "job_family": "job_family",
    "source_channel": "source_channel",
    "region": "candidate_region",
}
TALENT_POOL_LIMIT = 200
_BAND_ORDER = "case score_band when 'all' then 0 when 'low' then 1 when 'medium' then 2 when 'high' then 3 else 4 end"


class NotAvailable(LookupError):
    """A table (or a column) the page needs is not in the published snapshot yet."""

    def __init__(self, table: str, missing: Sequence[str] = ()) -> None:
        self.table = table + (f" ({', '.join(missing)})" if missing else "")
        super().__init__(self.table)


# plumbing


def columns(schema: str, table: str) -> list[str]:
    """The table's columns in order; empty if the table does not exist."""
    found = read.query(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        (schema, table),
    )
    return list(found["column_name"])


def require(schema: str, table: str, needed: Sequence[str] = ()) -> None:
    """Raise NotAvailable unless `schema.table` exists with every `needed` column."""
    have = columns(schema, table)
    if not have:
        raise NotAvailable(f"{schema}.{table}")
    missing = [c for c in needed if c not in have]
    if missing:
        raise NotAvailable(f"{schema}.{table}", missing)


def optional(fetch: Callable[[], T]) -> T | None:
    """`fetch()`, or None if a table it needs is not published yet."""
    try:
        return fetch()
    except NotAvailable:
        return None


def available(schema: str, table: str) -> bool:
    return bool(columns(schema, table))


def _scoped(inner: str, scope: RowScope, params: Sequence = ()) -> tuple[str, list]:
    """The department-filtered form of `inner` (which must select a `department` column) and its parameters."""
    return scoped_sql(inner, scope, "department", params)


def _org_wide(scope: RowScope) -> None:
    # These marts pool every department's people; a department scope must never read them.
    if not scope.all_rows:
        raise AccessDenied("organisation-wide aggregates are not available to a department-scoped user")


def _suppress(expr: str, people: str) -> str:
    return f"case when {people} >= {MIN_CELL} then {expr} end"


def competencies() -> list[str]:
    """Canonical competency codes in the marts' order (the weight_<code> columns of marts.job_families)."""
    return [c.removeprefix("weight_") for c in columns("marts", "job_families") if c.startswith("weight_")]


def _competency_columns(chosen: Sequence[str]) -> list[str]:
    # Identifiers are interpolated only after checking them against the warehouse's own list.
    known = competencies()
    bad = [c for c in chosen if c not in known]
    if bad:
        raise ValueError(f"unknown competencies: {bad}")
    return list(chosen)


# freshness


def publish_info() -> dict:
    """run_id, published_at, landed_through of the snapshot (empty if the publisher wrote none)."""
    if not available("ops", "publish_info"):
        return {}
    frame = read.query("select * from ops.publish_info")
    return frame.iloc[0].to_dict() if len(frame) else {}


def as_of_date() -> dt.date:
    """The day the data runs to: the landed-through day of the publish, else the latest application."""
    landed = publish_info().get("landed_through")
    if landed is not None and not pd.isna(landed):
        return pd.Timestamp(landed).date()
    latest = read.query("select max(applied_at) as d from marts.applications")["d"].iloc[0]
    return pd.Timestamp(latest).date() if latest is not None and not pd.isna(latest) else dt.date.today()


def model_runs() -> pd.DataFrame:
    """The latest run of each model."""
    require("ml", "model_runs")
    return read.query(
        "select model, model_version, fitted_at, rows, data_snapshot from ml.model_runs "
        "qualify row_number() over (partition by model order by fitted_at desc) = 1 order by model"
    )


# overview


def overview_kpis(scope: RowScope, start: dt.date, end: dt.date) -> dict:
    """Applicants, interviews completed and hires in [start, end), 12-month retention and hire quality, in scope."""
    inner = (
        "select department, 'applicants' as measure, candidate_key as person, applied_at as at, "
        "null::double as value from marts.applications where applied_at >= ? and applied_at < ? "
        "union all select department, 'interviews', candidate_key, started_at, null from marts.interviews "
        "where is_completed and started_at >= ? and started_at < ? "
        "union all select department, 'hires', employee_key, hire_date, null from marts.hires "
        "where hire_date >= ? and hire_date < ? "
        "union all select department, 'retained_12m', employee_key, hire_date, is_retained_12m::int from marts.hires "
        "where is_retained_12m is not null "
        "union all select department, 'rating_6m', employee_key, hire_date, rating_6m from marts.hires "
        "where rating_6m is not null and hire_date >= ? "
    )
    year_ago = end - dt.timedelta(days=365)
    sql, params = _scoped(inner, scope, [start, end, start, end, start, end, year_ago])
    frame = read.query(
        f"select measure, count(distinct person) as n, count(*) as rows, avg(value) as mean "
        f"from ({sql}) as in_scope group by measure",
        tuple(params),
    ).set_index("measure")

    def count(measure: str) -> int | None:
        n = int(frame.loc[measure, "n"]) if measure in frame.index else 0
        return n if n >= MIN_CELL else None

    def mean(measure: str) -> tuple[float | None, int]:
        if measure not in frame.index:
            return None, 0
        n = int(frame.loc[measure, "rows"])
        return (float(frame.loc[measure, "mean"]) if n >= MIN_CELL else None), n

    retention, n_ret = mean("retained_12m")
    rating, n_rating = mean("rating_6m")
    return {
        "applicants": count("applicants"),
        "interviews": count("interviews"),
        "hires": count("hires"),
        "retention_12m": retention,
        "n_retention": n_ret,
        "rating_6m": rating,
        "n_rating": n_rating,
    }


def monthly_activity(scope: RowScope, since: dt.date) -> pd.DataFrame:
    """Applications, completed interviews and hires per month since `since`, in scope; <5 months are null."""
    inner = (
        "select department, 'applications' as measure, date_trunc('month', applied_at) as month "
        "from marts.applications where applied_at >= ? "
        "union all select department, 'interviews', date_trunc('month', started_at) from marts.interviews "
        "where is_completed and started_at >= ? "
        "union all select department, 'hires', date_trunc('month', hire_date) from marts.hires where hire_date >= ?"
    )
    sql, params = _scoped(inner, scope, [since, since, since])
    return read.query(
        f"select measure, month::date as month, {_suppress('count(*)', 'count(*)')} as n "
        f"from ({sql}) as in_scope group by measure, month order by month, measure",
        tuple(params),
    )


def headcount_trend(scope: RowScope) -> pd.DataFrame:
    """Month-end headcount and 12-month rolling retention: the company rows, or the department's own rows."""
    level = "company" if scope.all_rows else "department"
    sql, params = _scoped(
        "select department, month_start, headcount_end, retention_rate_12m, is_suppressed "
        "from marts.workforce_monthly where rollup_level = ?",
        scope,
        [level],
    )
    return read.query(f"select * from ({sql}) as in_scope order by month_start", tuple(params))


def open_recommendations() -> pd.DataFrame:
    """Recommendations the model made (status 'recommended'), for the review desk's queue."""
    require("ml", "recommendations", ("recommendation_id", "job_family", "status"))
    return read.query(
        "select recommendation_id, job_family, flagged from ml.recommendations where status = 'recommended'"
    )


# funnel


def funnel_months() -> list[dt.date]:
    months = read.query(
        "select distinct applied_month from marts.applications where applied_month is not null order by 1 desc"
    )
    return [pd.Timestamp(m).date() for m in months["applied_month"]]


def funnel_groups(scope: RowScope, dimension: str) -> list[str]:
    """The groups of a breakdown, largest first, in scope."""
    column = FUNNEL_DIMENSIONS[dimension]
    sql, params = _scoped(
        f"select department, coalesce({column}, 'unknown') as dimension_value from marts.applications", scope
    )
    frame = read.query(
        f"select dimension_value from ({sql}) as in_scope group by 1 order by count(*) desc, 1", tuple(params)
    )
    return list(frame["dimension_value"])


def funnel(scope: RowScope, dimension: str, month: dt.date | None) -> pd.DataFrame:
    """One row per group x stage: entered, passed, pass-through, days in stage, interview and offer measures."""
    if dimension not in FUNNEL_DIMENSIONS:
        raise ValueError(f"unknown funnel breakdown {dimension!r}")
    if scope.all_rows:
        return _funnel_mart(scope, dimension, month)
    return _funnel_department(scope, dimension, month)


_FUNNEL_COLUMNS = (
    "dimension_value, stage_name, stage_order, is_suppressed, n_entered, n_passed, pass_through_rate, "
    "avg_days_in_stage, n_interviews, interview_completion_rate, technical_failure_rate, n_offers, "
    "avg_days_to_offer, offer_acceptance_rate"
)


def _funnel_mart(scope: RowScope, dimension: str, month: dt.date | None) -> pd.DataFrame:
    _org_wide(scope)
    if month is None:
        return read.query(
            f"select {_FUNNEL_COLUMNS} from marts.funnel where period_grain = 'all' and dimension = ? "
            "order by dimension_value, stage_order",
            (dimension,),
        )
    return read.query(
        f"select {_FUNNEL_COLUMNS} from marts.funnel where period_grain = 'month' and dimension = ? "
        "and applied_month = ? order by dimension_value, stage_order",
        (dimension, month),
    )


def _funnel_department(scope: RowScope, dimension: str, month: dt.date | None) -> pd.DataFrame:
    # The definitions of marts/funnel.sql, on the department's applications only.
    column = FUNNEL_DIMENSIONS[dimension]
    inner = (
        f"select application_id, department, coalesce({column}, 'unknown') as dimension_value, "
        "furthest_stage_order, count_interviews, count_interviews_completed, count_technical_failures, "
        "days_to_offer, offer_made_at, "
        "case when offer_accepted_at >= offer_made_at then 1 else 0 end as is_accepted, "
        "case when offer_declined_at >= offer_made_at then 1 else 0 end as is_declined "
        "from marts.applications where (?::date is null or applied_month = ?::date)"
    )
    sql, params = _scoped(inner, scope, [month, month])
    stages = " union all ".join(f"select '{s}' as stage_name, {i} as stage_order" for i, s in enumerate(STAGES, 1))
    last = len(STAGES)
    return read.query(
        f"""
        with apps as ({sql}),
        stages as ({stages}),
        reach as (
            select dimension_value, stage_name, stage_order,
                sum(case when furthest_stage_order >= stage_order then 1 else 0 end) as n_entered,
                sum(case when furthest_stage_order >= stage_order + 1 then 1 else 0 end) as n_passed
            from apps cross join stages group by all
        ),
        measures as (
            select dimension_value, sum(count_interviews) as n_interviews,
                sum(count_interviews_completed) as n_completed, sum(count_technical_failures) as n_failed,
                count(offer_made_at) as n_offers, avg(days_to_offer) as avg_days_to_offer,
                sum(is_accepted) as n_accepted, sum(is_declined) as n_declined
            from apps group by all
        ),
        time_in_stage as (
            select apps.dimension_value, h.stage_name, avg(h.days_in_stage) as avg_days, count(*) as n_closed
            from marts.application_stage_history as h inner join apps on h.application_id = apps.application_id
            where not h.is_terminal and h.valid_until is not null group by all
        )
        select r.dimension_value, r.stage_name, r.stage_order, r.n_entered < {MIN_CELL} as is_suppressed,
            {_suppress("r.n_entered", "r.n_entered")} as n_entered,
            case when r.stage_order < {last} then {_suppress("r.n_passed", "r.n_entered")} end as n_passed,
            case when r.stage_order < {last} then {_suppress("1.0 * r.n_passed / r.n_entered", "r.n_entered")}
                end as pass_through_rate,
            {_suppress("t.avg_days", "t.n_closed")} as avg_days_in_stage,
            case when r.stage_name = 'interview_invited' then {_suppress("m.n_interviews", "r.n_entered")} end
                as n_interviews,
            case when r.stage_name = 'interview_invited'
                then {_suppress("1.0 * m.n_completed / nullif(m.n_interviews, 0)", "m.n_interviews")} end
                as interview_completion_rate,
            case when r.stage_name = 'interview_invited'
                then {_suppress("1.0 * m.n_failed / nullif(m.n_interviews, 0)", "m.n_interviews")} end
                as technical_failure_rate,
            case when r.stage_name = 'offer_made' then {_suppress("m.n_offers", "r.n_entered")} end as n_offers,
            case when r.stage_name = 'offer_made' then {_suppress("m.avg_days_to_offer", "m.n_offers")} end
                as avg_days_to_offer,
            case when r.stage_name = 'offer_made' then {
            _suppress("1.0 * m.n_accepted / nullif(m.n_accepted + m.n_declined, 0)", "m.n_accepted + m.n_declined")
        } end
                as offer_acceptance_rate
        from reach as r
        inner join measures as m on r.dimension_value = m.dimension_value
        left join time_in_stage as t on r.dimension_value = t.dimension_value and r.stage_name = t.stage_name
        where r.n_entered > 0
        order by r.dimension_value, r.stage_order
        """,
        tuple(params),
    )


# quality of hire


def hire_cohorts(scope: RowScope) -> list[str]:
    """Hire cohorts ('YYYY-Qn'), newest first, in scope."""
    sql, params = _scoped(
        "select department, strftime(hire_date, '%Y') || '-Q' || quarter(hire_date) as hire_cohort from marts.hires",
        scope,
    )
    frame = read.query(f"select distinct hire_cohort from ({sql}) as in_scope order by 1 desc", tuple(params))
    return list(frame["hire_cohort"])


def job_families(scope: RowScope) -> list[str]:
    """Job families with applications in scope (a department belongs to one family)."""
    sql, params = _scoped("select department, job_family from marts.applications", scope)
    frame = read.query(f"select distinct job_family from ({sql}) as in_scope order by 1", tuple(params))
    return list(frame["job_family"])


_QOH_MEASURES = (
    "n_hires, mean_composite, n_rated_3m, mean_rating_3m, n_rated_6m, mean_rating_6m, n_rated_12m, "
    "mean_rating_12m, n_probation_reviewed, probation_pass_rate, n_retention_observed, retention_rate_12m"
)


def quality_of_hire(scope: RowScope, job_family: str, by: str) -> pd.DataFrame:
    """Hire outcomes by score band (`by`='score_band', every cohort) or by cohort x band (`by`='hire_cohort')."""
    if by not in ("score_band", "hire_cohort"):
        raise ValueError(by)
    if scope.all_rows:
        _org_wide(scope)
        cohort = "hire_cohort = 'all'" if by == "score_band" else "hire_cohort <> 'all'"
        return read.query(
            f"select hire_cohort, score_band, is_suppressed, {_QOH_MEASURES} from marts.quality_of_hire "
            f"where job_family = ? and {cohort} order by hire_cohort, {_BAND_ORDER}",
            (job_family,),
        )
    # marts/quality_of_hire.sql on the department's hires.
    sql, params = _scoped(
        "select department, job_family, score_band, composite_score, rating_3m, rating_6m, rating_12m, "
        "probation_passed::int as probation_passed, is_retained_12m::int as retained, "
        "strftime(hire_date, '%Y') || '-Q' || quarter(hire_date) as hire_cohort "
        "from marts.hires where (? = 'all' or job_family = ?)",
        scope,
        [job_family, job_family],
    )
    if by == "score_band":
        cohort, group = "'all'", "grouping sets ((score_band), ())"
    else:
        cohort, group = "hire_cohort", "grouping sets ((hire_cohort, score_band), (hire_cohort))"
    return read.query(
        f"""
        select {cohort} as hire_cohort, coalesce(score_band, 'all') as score_band, count(*) < {MIN_CELL}
                as is_suppressed,
            {_suppress("count(*)", "count(*)")} as n_hires,
            {_suppress("avg(composite_score)", "count(composite_score)")} as mean_composite,
            {_suppress("count(rating_3m)", "count(*)")} as n_rated_3m,
            {_suppress("avg(rating_3m)", "count(rating_3m)")} as mean_rating_3m,
            {_suppress("count(rating_6m)", "count(*)")} as n_rated_6m,
            {_suppress("avg(rating_6m)", "count(rating_6m)")} as mean_rating_6m,
            {_suppress("count(rating_12m)", "count(*)")} as n_rated_12m,
            {_suppress("avg(rating_12m)", "count(rating_12m)")} as mean_rating_12m,
            {_suppress("count(probation_passed)", "count(*)")} as n_probation_reviewed,
            {_suppress("avg(probation_passed)", "count(probation_passed)")} as probation_pass_rate,
            {_suppress("count(retained)", "count(*)")} as n_retention_observed,
            {_suppress("avg(retained)", "count(retained)")} as retention_rate_12m
        from ({sql}) as in_scope group by {group} order by 1, {_BAND_ORDER}
        """,
        tuple(params),
    )


def quality_by_competency(scope: RowScope, job_family: str, outcome: str) -> pd.DataFrame:
    """Mean outcome by competency-score quintile among hires, per competency."""
    if outcome not in QOH_OUTCOMES:
        raise ValueError(outcome)
    if scope.all_rows:
        _org_wide(scope)
        return read.query(
            "select competency_code, competency_quintile, is_suppressed, n_hires, n_observed, mean_outcome "
            "from marts.quality_of_hire_by_competency where job_family = ? and outcome = ? "
            "order by competency_code, competency_quintile",
            (job_family, outcome),
        )
    value = {"probation_passed": "probation_passed::int", "retained_12m": "is_retained_12m::int"}.get(outcome, outcome)
    scores = ", ".join(f"score_{c}" for c in competencies())
    sql, params = _scoped(
        f"select department, {value} as outcome, {scores} from marts.hires where (? = 'all' or job_family = ?)",
        scope,
        [job_family, job_family],
    )
    return read.query(
        f"""
        with long as (
            unpivot ({sql}) on {scores} into name competency_code value score
        ),
        ranked as (
            select replace(competency_code, 'score_', '') as competency_code, outcome,
                ntile(5) over (partition by competency_code order by score) as competency_quintile
            from long
        )
        select competency_code, competency_quintile, count(*) < {MIN_CELL} as is_suppressed,
            {_suppress("count(*)", "count(*)")} as n_hires,
            {_suppress("count(outcome)", "count(*)")} as n_observed,
            {_suppress("avg(outcome)", "count(outcome)")} as mean_outcome
        from ranked group by all order by 1, 2
        """,
        tuple(params),
    )


# retention


def km_curves(scope: RowScope, job_family: str) -> pd.DataFrame:
    """Kaplan–Meier survival to voluntary exit by score band, with 95% intervals."""
    if scope.all_rows:
        _org_wide(scope)
        require("ml", "turnover_km", ("job_family", "score_band", "time_days", "survival", "ci_low", "ci_high"))
        return read.query(
            "select score_band as curve, time_days, survival, ci_low, ci_high, at_risk, events "
            "from ml.turnover_km where job_family = ? order by score_band, time_days",
            (job_family,),
        )
    return _life_table(scope, job_family, "score_band")


def cohort_curves(scope: RowScope, job_family: str) -> pd.DataFrame:
    """Survival to voluntary exit by hire cohort (every score band)."""
    if scope.all_rows:
        _org_wide(scope)
        return read.query(
            "select hire_cohort as curve, interval_end_day as time_days, km_survival_voluntary as survival, "
            "null::double as ci_low, null::double as ci_high, at_risk, voluntary_exits as events "
            "from marts.retention_cohorts where job_family = ? and score_band = 'all' and hire_cohort <> 'all' "
            "and not is_suppressed order by hire_cohort, time_days",
            (job_family,),
        )
    return _life_table(scope, job_family, "hire_cohort")


def _life_table(scope: RowScope, job_family: str, by: str) -> pd.DataFrame:
    # Kaplan–Meier on 30-day intervals (as marts/retention_cohorts.sql) with Greenwood's variance; only intervals
    # with at least MIN_CELL people at risk are returned.
    curve = {"score_band": "score_band", "hire_cohort": "strftime(hire_date, '%Y') || '-Q' || quarter(hire_date)"}[by]
    step = RETENTION_INTERVAL_DAYS
    sql, params = _scoped(
        f"select department, {curve} as curve, tenure_days, (termination_type = 'voluntary') as is_event "
        "from marts.hires where (? = 'all' or job_family = ?)",
        scope,
        [job_family, job_family],
    )
    return read.query(
        f"""
        with hires as ({sql}),
        grid as (
            select curve, unnest(range(0, max(tenure_days) // {step} + 1)) as k from hires group by curve
        ),
        life as (
            select g.curve, g.k,
                count(*) filter (where h.tenure_days >= g.k * {step}) as at_risk,
                count(*) filter (where h.is_event and h.tenure_days // {step} = g.k) as events
            from grid as g inner join hires as h on g.curve = h.curve group by all
        ),
        km as (
            select curve, k, at_risk, events,
                exp(sum(ln(greatest(1 - events / at_risk, 1e-12))) over w) as survival,
                sum(case when at_risk > events then events / (at_risk * (at_risk - events)) end) over w as gw
            from life where at_risk > 0
            window w as (partition by curve order by k rows between unbounded preceding and current row)
        )
        select curve, (k + 1) * {step} as time_days, survival,
            greatest(survival - 1.96 * survival * sqrt(gw), 0) as ci_low,
            least(survival + 1.96 * survival * sqrt(gw), 1) as ci_high, at_risk, events
        from km where at_risk >= {MIN_CELL} order by curve, time_days
        """,
        tuple(params),
    )


def _model_scope(table: str, job_family: str) -> pd.DataFrame:
    # A model fitted for the chosen family if there is one, else the model over every family.
    return read.query(
        f"select * from ml.{table} where scope = (select coalesce(max(scope) filter (where scope = ?), 'all') "
        f"from ml.{table}) order by term",
        (job_family,),
    )


def cox_terms(job_family: str = "all") -> pd.DataFrame:
    """Hazard ratios of voluntary exit (organisation-wide model): the family's own fit if any, else all families."""
    require("ml", "turnover_cox", ("scope", "term", "hazard_ratio", "ci_low", "ci_high", "p_value"))
    return _model_scope("turnover_cox", job_family)


# complaints


def complaint_rates(scope: RowScope) -> pd.DataFrame:
    """Complaints per 1,000 days of exposure by job family x score band (with 'all' rows)."""
    if scope.all_rows:
        _org_wide(scope)
        return read.query(
            "select job_family, score_band, is_suppressed, n_hires, exposure_days, n_complaints, "
            "n_substantiated_complaints, complaints_per_1000_days, substantiated_per_1000_days "
            f"from marts.complaint_rates order by job_family, {_BAND_ORDER}"
        )
    sql, params = _scoped(
        "select department, job_family, score_band, tenure_days, count_complaints, count_substantiated_complaints "
        "from marts.hires",
        scope,
    )
    return read.query(
        f"""
        select coalesce(job_family, 'all') as job_family, coalesce(score_band, 'all') as score_band,
            count(*) < {MIN_CELL} as is_suppressed,
            {_suppress("count(*)", "count(*)")} as n_hires,
            {_suppress("sum(tenure_days)", "count(*)")} as exposure_days,
            {_suppress("sum(count_complaints)", "count(*)")} as n_complaints,
            {_suppress("sum(count_substantiated_complaints)", "count(*)")} as n_substantiated_complaints,
            {_suppress("1000.0 * sum(count_complaints) / nullif(sum(tenure_days), 0)", "count(*)")}
                as complaints_per_1000_days,
            {_suppress("1000.0 * sum(count_substantiated_complaints) / nullif(sum(tenure_days), 0)", "count(*)")}
                as substantiated_per_1000_days
        from ({sql}) as in_scope group by grouping sets ((job_family, score_band), (job_family), ())
        order by 1, {_BAND_ORDER}
        """,
        tuple(params),
    )


def complaint_model(job_family: str = "all") -> pd.DataFrame:
    """Incidence-rate ratios of complaints (organisation-wide model): the family's own fit if any, else all."""
    require("ml", "complaint_model", ("scope", "term", "rate_ratio", "ci_low", "ci_high", "p_value"))
    return _model_scope("complaint_model", job_family)


# interviewers


def _raters_in_scope(scope: RowScope) -> tuple[str, list]:
    sql, params = _scoped(
        "select distinct rater_id, department from marts.interview_ratings where rater_type = 'human'", scope
    )
    return f"(select rater_id from ({sql}) as raters_in_scope)", params


_CALIBRATION_COLUMNS = (
    "rater_id, competency_code, count_interviews, is_suppressed, mean_score, leniency, score_sd, agreement_r, "
    "needs_calibration, calibration_status"
)
# Flagged first, then furthest from the panel: the order every interviewer list on the page uses.
_FURTHEST_FIRST = "needs_calibration desc, abs(leniency) desc nulls last, rater_id"


def interviewer_heatmap(scope: RowScope, limit: int) -> pd.DataFrame:
    """Leniency per competency of the `limit` interviewers furthest from the panel, flagged ones first; `rank`
    orders them (1 = first shown). The warehouse picks the rows, so the page never holds every interviewer's grid."""
    raters, params = _raters_in_scope(scope)
    return read.query(
        "with shown as (select rater_id, row_number() over (order by "
        f"{_FURTHEST_FIRST}) as rank from marts.interviewers where rater_id in {raters} "
        f"order by {_FURTHEST_FIRST} limit ?) "
        "select shown.rank, c.rater_id, c.competency_code, c.leniency from marts.interviewer_calibration as c "
        "join shown using (rater_id) where c.competency_code <> 'all' order by shown.rank, c.competency_code",
        (*params, int(limit)),
    )


def calibration_competencies() -> list[str]:
    """The competencies the calibration mart has rows for."""
    return list(
        read.query(
            "select distinct competency_code from marts.interviewer_calibration where competency_code <> 'all' "
            "order by competency_code"
        )["competency_code"]
    )


def interviewer_calibration(scope: RowScope, competency: str | None = None, flagged_only: bool = False) -> pd.DataFrame:
    """Leniency, spread and agreement per human interviewer x competency ('all' = pooled), flagged and furthest
    from the panel first; `competency` keeps one competency's rows, `flagged_only` the rows needing calibration."""
    raters, params = _raters_in_scope(scope)
    where = [f"rater_id in {raters}"]
    if competency is not None:
        where.append("competency_code = ?")
        params = [*params, competency]
    if flagged_only:
        where.append("needs_calibration")
    return read.query(
        f"select {_CALIBRATION_COLUMNS} from marts.interviewer_calibration where {' and '.join(where)} "
        f"order by {_FURTHEST_FIRST}, competency_code",
        tuple(params),
    )


def interviewers(scope: RowScope) -> pd.DataFrame:
    """One row per human interviewer: volume, pooled leniency and agreement, competencies flagged."""
    raters, params = _raters_in_scope(scope)
    return read.query(
        "select rater_id, count_interviews, count_candidates, mean_score, leniency, agreement_r, calibration_status, "
        f"needs_calibration, count_competencies_flagged from marts.interviewers where rater_id in {raters} "
        "order by needs_calibration desc, count_competencies_flagged desc, abs(leniency) desc nulls last, rater_id",
        tuple(params),
    )


def rater_agreement() -> pd.DataFrame:
    """AI rater vs the human panel per job family x competency (organisation-wide model)."""
    require("ml", "rater_agreement", ("job_family", "competency_code", "r", "ci_low", "ci_high", "n_interviews"))
    return read.query(
        "select job_family, competency_code, r, ci_low, ci_high, n_interviews from ml.rater_agreement "
        f"where n_interviews >= {MIN_CELL} order by job_family, competency_code"
    )


# talent pool


def talent_pool_regions(scope: RowScope) -> list[str]:
    sql, params = _scoped("select department, region from marts.talent_pool", scope)
    return list(
        read.query(f"select distinct region from ({sql}) as s where region is not null order by 1", tuple(params))[
            "region"
        ]
    )


def _talent_filter(
    scope: RowScope,
    strengths: Sequence[str],
    min_score: float,
    families: Sequence[str],
    regions: Sequence[str],
    since: dt.date | None,
) -> tuple[str, list]:
    clauses, params = ["true"], []
    for code in _competency_columns(strengths):
        clauses.append(f"score_{code} >= ?")
        params.append(float(min_score))
    if families:
        clauses.append(f"job_family in ({', '.join('?' for _ in families)})")
        params.extend(families)
    if regions:
        clauses.append(f"region in ({', '.join('?' for _ in regions)})")
        params.extend(regions)
    if since is not None:
        clauses.append("last_activity_date >= ?")
        params.append(since)
    scores = ", ".join(f"score_{c}" for c in competencies())
    inner = (
        "select candidate_key, job_family, department, region, composite_score, count_strong_competencies, tags, "
        f"last_outcome, last_activity_date, {scores} from marts.talent_pool where " + " and ".join(clauses)
    )
    return _scoped(inner, scope, params)


def talent_search(
    scope: RowScope,
    strengths: Sequence[str] = (),
    min_score: float = 0.75,
    families: Sequence[str] = (),
    regions: Sequence[str] = (),
    since: dt.date | None = None,
    limit: int = TALENT_POOL_LIMIT,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The best-scoring matches (at most `limit`) and the match counts by job family x region, in scope."""
    sql, params = _talent_filter(scope, tuple(strengths), min_score, tuple(families), tuple(regions), since)
    top = read.query(
        f"select * from ({sql}) as matches order by composite_score desc nulls last, candidate_key limit ?",
        (*params, int(limit)),
    )
    counts = read.query(
        f"select job_family, region, count(*) as n from ({sql}) as matches group by all order by 1, 2", tuple(params)
    )
    return top, counts


def candidate_profile(scope: RowScope, candidate_key: str) -> pd.DataFrame:
    """One talent-pool row, only if the candidate is in scope (else empty)."""
    sql, params = _scoped("select * from marts.talent_pool where candidate_key = ?", scope, [candidate_key])
    return read.query(sql, tuple(params))


def keyword_evidence(scope: RowScope, candidate_key: str) -> pd.DataFrame:
    """The transcript moments behind a candidate's keyword tags, only for a candidate in scope."""
    require("ml", "keyword_evidence", ("candidate_key", "competency_code", "keyword", "question_id", "start_s"))
    sql, params = _scoped(
        "select candidate_key, department from marts.talent_pool where candidate_key = ?", scope, [candidate_key]
    )
    return read.query(
        "select e.competency_code, e.keyword, e.question_id, e.segment_no, e.start_s, e.snippet, e.interview_id "
        f"from ml.keyword_evidence as e where e.candidate_key in (select candidate_key from ({sql}) as c) "
        "order by e.competency_code, e.start_s",
        tuple(params),
    )


# weight review (talent leaders and admins; organisation-wide by design)


def recommendations() -> pd.DataFrame:
    require(
        "ml",
        "recommendations",
        ("recommendation_id", "job_family", "status", "n_hires_with_outcomes", "n_needed", "flagged", "flags"),
    )
    return read.query("select * from ml.recommendations order by job_family")


def weights_in_force(job_family: str) -> pd.DataFrame:
    """The scorecard weights in force for a job family (marts.job_families), one row per competency."""
    cols = ", ".join(f"weight_{c}" for c in competencies())
    return read.query(
        f"select replace(competency_code, 'weight_', '') as competency_code, weight as current_weight, "
        f"weights_valid_from, weights_source from (unpivot (select job_family, weights_valid_from, weights_source, "
        f"{cols} from marts.job_families where job_family = ?) on {cols} into name competency_code value weight) "
        "order by competency_code",
        (job_family,),
    )


def recommendation_weights(recommendation_id: str) -> pd.DataFrame:
    require(
        "ml",
        "recommendation_weights",
        ("recommendation_id", "competency_code", "current_weight", "recommended_weight", "ci_low", "ci_high"),
    )
    return read.query(
        "select * from ml.recommendation_weights where recommendation_id = ? order by competency_code",
        (recommendation_id,),
    )


def recommendation_validity(recommendation_id: str) -> pd.DataFrame:
    require("ml", "recommendation_validity", ("recommendation_id", "weighting", "holdout_r", "holdout_n"))
    return read.query(
        "select * from ml.recommendation_validity where recommendation_id = ? "
        "order by case weighting when 'current' then 1 when 'recommended' then 2 else 3 end",
        (recommendation_id,),
    )


def fairness_gate(recommendation_id: str | None = None, job_family: str | None = None) -> pd.DataFrame:
    """Gate rows of one recommendation, or of the latest recommendation of a job family."""
    require(
        "ml",
        "fairness_gate",
        (
            "recommendation_id",
            "job_family",
            "weighting",
            "metric",
            "dimension",
            "group_label",
            "n",
            "rate",
            "impact_ratio",
        ),
    )
    if recommendation_id is not None:
        return read.query(
            "select * from ml.fairness_gate where recommendation_id = ? "
            "order by metric, dimension, weighting, group_label",
            (recommendation_id,),
        )
    return read.query(
        "select * from ml.fairness_gate where job_family = ? and recommendation_id = ("
        "select max(recommendation_id) from ml.fairness_gate where job_family = ?) "
        "order by metric, dimension, weighting, group_label",
        (job_family, job_family),
    )


# The gate rows the desk shows. Rates and ratios of a group of fewer than MIN_CELL applicants are suppressed here,
# in SQL, like every other count the dashboards show; the group itself stays listed, with n '<5'.
_GATE_COLUMNS = {
    "weighting": None,
    "metric": None,
    "dimension": None,
    "group_label": None,
    "reference_group": None,
    "n": "n",
    "rate": "n",
    "impact_ratio": "n",
    "ci_low": "n",
    "ci_high": "n",
    "baseline_impact_ratio": "n",
    "change": "n",
    "change_ci_low": "n",
    "change_ci_high": "n",
    "p_adjusted": None,
    "p_adjusted_change": None,
    "eligible": None,
    "excluded_small": None,
    "is_unknown": None,
    "floor_n": None,
    "impact_flag": None,
    "lowered_below_baseline": None,
    "flag": None,
}


def gate_rows(recommendation_id: str) -> pd.DataFrame:
    """The fairness gate of one recommendation for the desk: one row per weighting x metric x dimension x group,
    with `is_suppressed` for groups under MIN_CELL (their figures null); columns an older model did not write
    come back null."""
    require("ml", "fairness_gate", ("recommendation_id", "weighting", "metric", "dimension", "group_label", "n"))
    have = set(columns("ml", "fairness_gate"))
    select = []
    for col, people in _GATE_COLUMNS.items():
        expr = col if col in have else "null"
        select.append(f"{_suppress(expr, people) if people else expr} as {col}")
    return read.query(
        f"select {', '.join(select)}, n < {MIN_CELL} as is_suppressed from ml.fairness_gate "
        "where recommendation_id = ? order by metric, dimension, group_label, weighting",
        (recommendation_id,),
    )


def tradeoff_front(recommendation_id: str) -> pd.DataFrame:
    """The validity / lowest-impact-ratio front of one recommendation: ~300 lattice weightings, the named ones,
    on_front, and the weights (w_<competency>)."""
    require(
        "ml",
        "tradeoff_front",
        ("recommendation_id", "weighting", "validity_applicants", "min_impact_ratio", "on_front"),
    )
    return read.query(
        "select * exclude (recommendation_id, job_family) from ml.tradeoff_front where recommendation_id = ? "
        "order by validity_applicants",
        (recommendation_id,),
    )


def recommendation_moments(recommendation_id: str) -> pd.DataFrame:
    """The covariances (hires, holdout, applicants) a what-if scores an edited weighting with."""
    require("ml", "recommendation_moments", ("recommendation_id", "kind", "row_code", "col_code", "value", "n"))
    return read.query(
        "select kind, row_code, col_code, value, n from ml.recommendation_moments where recommendation_id = ? "
        "order by kind, row_code, col_code",
        (recommendation_id,),
    )


def applicant_pool(scope: RowScope, job_family: str) -> pd.DataFrame:
    """One family's applicant pool as the weight model reads it (marts.applicant_pool, rows with every score, in
    candidate order): requisition, sex, ethnicity and bare competency columns, for the desk's what-if. The gate
    judges the whole pool, so a department scope is refused rather than given a partial pool."""
    _org_wide(scope)
    require("marts", "applicant_pool", ("job_family", "requisition_id", "gender", "ethnicity"))
    codes = _competency_columns(competencies())
    scores = ", ".join(f"score_{c} as {c}" for c in codes)
    complete = " and ".join(f"score_{c} is not null" for c in codes) or "true"
    return read.query(
        f"select requisition_id, gender as sex, ethnicity, {scores} from marts.applicant_pool "
        f"where job_family = ? and {complete} order by candidate_key",
        (job_family,),
    )


def model_parameters(model: str) -> dict:
    """The parameters of the latest run of `model` (ml.model_runs), e.g. the gate's bootstrap size and seed."""
    if not available("ml", "model_runs") or "parameters" not in columns("ml", "model_runs"):
        return {}
    rows = read.query("select parameters from ml.model_runs where model = ? order by fitted_at desc limit 1", (model,))
    return parse_json_object(rows["parameters"].iloc[0]) if len(rows) else {}


def validity(job_family: str) -> pd.DataFrame:
    require("ml", "validity", ("job_family", "competency_code", "outcome", "n", "r", "ci_low", "ci_high"))
    return read.query("select * from ml.validity where job_family = ? order by outcome, competency_code", (job_family,))


def parse_json_list(value) -> list[str]:
    """A JSON list column as a Python list of strings (tolerates None, lists, and plain text)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def parse_json_object(value) -> dict:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


# fairness audit


def adverse_impact(scope: RowScope, job_family: str, stage: str) -> pd.DataFrame:
    """Selection rates and impact ratios by sex, ethnicity and their intersection at one funnel step."""
    if stage not in FAIRNESS_STAGES:
        raise ValueError(stage)
    cols = (
        "dimension, group_label, is_suppressed, n, n_passed, selection_rate, reference_group, impact_ratio, "
        "is_below_four_fifths"
    )
    if scope.all_rows:
        _org_wide(scope)
        return read.query(
            f"select {cols} from marts.adverse_impact where job_family = ? and stage_name = ? "
            "order by dimension, group_label",
            (job_family, stage),
        )
    # marts/adverse_impact.sql on the department's applications.
    if stage == "overall":
        pool, passed = "true", f"furthest_stage_order >= {len(STAGES)}"
    else:
        order = STAGES.index(stage) + 1
        pool, passed = f"furthest_stage_order >= {order - 1}", f"furthest_stage_order >= {order}"
    sql, params = _scoped(
        "select a.department, a.job_family, a.furthest_stage_order, "
        "coalesce(nullif(trim(c.gender), ''), 'unknown') as sex, "
        "coalesce(nullif(trim(c.ethnicity), ''), 'unknown') as ethnicity "
        "from marts.applications as a inner join marts.candidates as c on a.candidate_key = c.candidate_key "
        "where (? = 'all' or a.job_family = ?)",
        scope,
        [job_family, job_family],
    )
    return read.query(
        f"""
        with apps as (select * from ({sql}) as s where {pool}),
        grouped as (
            select 'sex' as dimension, sex as group_label, count(*) as n,
                count(*) filter (where {passed}) as n_passed from apps group by all
            union all
            select 'ethnicity', ethnicity, count(*), count(*) filter (where {passed}) from apps group by all
            union all
            select 'sex × ethnicity', sex || ' × ' || ethnicity, count(*), count(*) filter (where {passed})
            from apps group by all
        ),
        rated as (
            select *, 1.0 * n_passed / n as rate,
                n >= {MIN_CELL} and group_label not like '%unknown%' as is_eligible
            from grouped
        ),
        reference as (
            select dimension, arg_max(group_label, rate) as reference_group, max(rate) as reference_rate
            from rated where is_eligible group by dimension
        )
        select r.dimension, r.group_label, r.n < {MIN_CELL} as is_suppressed,
            {_suppress("r.n", "r.n")} as n, {_suppress("r.n_passed", "r.n")} as n_passed,
            {_suppress("r.rate", "r.n")} as selection_rate, ref.reference_group,
            {_suppress("r.rate / nullif(ref.reference_rate, 0)", "r.n")} as impact_ratio,
            coalesce(r.n >= {MIN_CELL} and r.rate / nullif(ref.reference_rate, 0) < 0.8, false)
                as is_below_four_fifths
        from rated as r left join reference as ref on r.dimension = ref.dimension
        order by r.dimension, r.group_label
        """,
        tuple(params),
    )


def scoring_rates(job_family: str) -> pd.DataFrame:
    """Scoring rates (share at or above the scoring cut) by group under the current weights (organisation-wide)."""
    gate = fairness_gate(job_family=job_family)
    return gate[(gate["metric"] == "scoring") & (gate["weighting"] == "current")]


# data quality (pipeline ledgers: counts only)


def quarantine_counts() -> pd.DataFrame:
    require("ops", "quarantine", ("source", "reason_code"))
    return read.query(
        "select source, reason_code, count(*) as n_rows, count(distinct _source_file) as n_files, "
        "max(_partition_date) as last_seen from ops.quarantine group by all order by n_rows desc"
    )


def load_reconciliation() -> pd.DataFrame:
    """Per source: files, rows read = loaded + quarantined, and the newest landed day."""
    require("ops", "load_log", ("source", "rows_read", "rows_loaded", "rows_quarantined"))
    return read.query(
        "select source, count(*) as n_files, count(*) filter (where file_status <> 'loaded') as n_files_not_loaded, "
        "sum(rows_read) as rows_read, sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined, "
        "sum(rows_read) - sum(rows_loaded) - sum(rows_quarantined) as rows_unaccounted, "
        "max(_partition_date) as landed_through, max(_loaded_at) as last_loaded_at "
        "from ops.load_log group by source order by source"
    )


def daily_loads(since: dt.date) -> pd.DataFrame:
    require("ops", "load_log", ("_partition_date", "rows_loaded", "rows_quarantined"))
    return read.query(
        "select _partition_date as day, sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined "
        "from ops.load_log where _partition_date >= ? group by 1 order by 1",
        (since,),
    )


# The latest result of each check; for a failing check, when its current run of failures began.
LATEST_CHECK_RESULTS_SQL = """
with last_pass as (
    select kind, check_name, max(checked_at) as last_passed_at
    from ops.check_results
    where passed
    group by kind, check_name
),
streak as (
    select results.kind, results.check_name, min(results.checked_at) as failing_since
    from ops.check_results as results
    left join last_pass using (kind, check_name)
    where not results.passed and results.checked_at > coalesce(last_pass.last_passed_at, timestamp '1900-01-01')
    group by results.kind, results.check_name
),
latest as (
    select *
    from ops.check_results
    qualify row_number() over (partition by kind, check_name order by checked_at desc) = 1
)
select
    latest.check_name, latest.kind, latest.asset, latest.severity, latest.passed, latest.skipped,
    latest.rows_checked, latest.failing_rows, latest.checked_at,
    case when not latest.passed then streak.failing_since end as failing_since,
    latest.detail
from latest
left join streak using (kind, check_name)
order by latest.passed, latest.severity, latest.kind, latest.check_name
"""


def check_results() -> pd.DataFrame:
    """The latest outcome of every data-quality check (GX suites and dbt tests), failures first, with since when a
    failing check has failed."""
    require("ops", "check_results")
    return read.query(LATEST_CHECK_RESULTS_SQL)


def application_period(scope: RowScope) -> tuple[dt.date | None, dt.date]:
    """First and last application day in scope: the period an audit covers."""
    sql, params = _scoped("select department, applied_at from marts.applications", scope)
    row = read.query(f"select min(applied_at) as first, max(applied_at) as last from ({sql}) as s", tuple(params))
    first, last = row["first"].iloc[0], row["last"].iloc[0]
    as_date = lambda v: None if v is None or pd.isna(v) else pd.Timestamp(v).date()  # noqa: E731
    return as_date(first), as_date(last) or as_of_date()
