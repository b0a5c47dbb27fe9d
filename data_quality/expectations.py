"""Great Expectations (GX 1.x) suites for what dbt tests cannot say: distributions, drift, parse quality, volumes.

Each check is a query that shapes a frame in the warehouse plus the expectations that frame must meet. GX runs
them in an ephemeral context on pandas: no GX project folder, nothing written, nothing fetched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache

import duckdb
import numpy as np
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class Check:
    name: str
    asset: tuple[str, ...]
    description: str
    sql: str
    expectations: tuple  # () -> list of GX expectation objects, built lazily (GX imports slowly)
    blocking: bool = True
    required_tables: tuple[str, ...] = field(default_factory=tuple)


@dataclass
class Outcome:
    passed: bool
    rows: int
    results: list[dict]
    skipped: str | None = None


@cache
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = ctx.data_sources.add_pandas("talentloop")
    return ctx, source


def validate_frame(frame: pd.DataFrame, suite_name: str, expectations: list) -> Outcome:
    """Run expectations on a frame; one result row per expectation with what GX observed."""
    import great_expectations as gx

    ctx, source = _context()
    asset_name = f"frame_{suite_name}"
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(asset_name)
    try:
        batch_def = asset.get_batch_definition("whole")
    except (KeyError, LookupError):
        batch_def = asset.add_batch_definition_whole_dataframe("whole")
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    suite = gx.ExpectationSuite(name=suite_name, expectations=expectations)
    result = batch.validate(suite)
    rows = []
    for r in result.results:
        observed = r.result.get("observed_value", r.result.get("unexpected_percent"))
        rows.append(
            {
                "expectation": r.expectation_config.type,
                "column": r.expectation_config.kwargs.get("column"),
                "success": bool(r.success),
                "observed": _plain(observed),
                "unexpected_percent": _plain(r.result.get("unexpected_percent")),
                "unexpected_count": _plain(r.result.get("unexpected_count")),
            }
        )
    return Outcome(passed=bool(result.success), rows=len(frame), results=rows)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def run_check(con: duckdb.DuckDBPyConnection, check: Check) -> Outcome:
    missing = [t for t in check.required_tables if not table_exists(con, t)]
    if missing:
        return Outcome(passed=True, rows=0, results=[], skipped=f"not built yet: {', '.join(missing)}")
    frame = con.execute(check.sql).df()
    if frame.empty:
        return Outcome(passed=True, rows=0, results=[], skipped="no rows to check yet")
    return validate_frame(frame, check.name, list(check.expectations()))


def _score_drift_expectations():
    import great_expectations.expectations as gxe

    # Recent scores against the earlier ones, on ten equal bins of the 0-1 scale: a KL divergence above
    # 0.1 nats is a shift of roughly a third of a standard deviation, which a vendor model change produces.
    return [gxe.ExpectColumnValuesToBeBetween(column="kl_divergence", min_value=0, max_value=0.1)]


def _volume_expectations():
    import great_expectations.expectations as gxe

    # A day with under a fifth or over five times the trailing median volume is an export gone wrong
    # (a partial file, a doubled file), not seasonality; 2% of days may still be odd without failing.
    return [gxe.ExpectColumnValuesToBeBetween(column="ratio_to_median", min_value=0.2, max_value=5.0, mostly=0.98)]


def _resume_expectations():
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="extracted_text", mostly=0.95),
        # A real resume has at least a couple of hundred characters; less means the extraction failed.
        gxe.ExpectColumnValuesToBeBetween(column="text_length", min_value=200, mostly=0.9),
    ]


def _transcript_expectations():
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="text", mostly=0.98),
        gxe.ExpectColumnValuesToBeInSet(column="language", value_set=["en", "zh"], mostly=0.99),
        gxe.ExpectColumnValuesToBeBetween(column="duration_s", min_value=0, max_value=1800, mostly=0.999),
    ]


def _agreement_bounds():
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeBetween(column="r", min_value=-1, max_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="n_interviews", min_value=1),
    ]


def _weights_on_simplex():
    import great_expectations.expectations as gxe

    # Weights are a share of the composite: each in [0, 1] and together 1; 1e-6 absorbs the optimiser's rounding.
    return [
        gxe.ExpectColumnValuesToBeBetween(column="min_weight", min_value=-1e-6),
        gxe.ExpectColumnValuesToBeBetween(column="max_weight", max_value=1 + 1e-6),
        gxe.ExpectColumnValuesToBeBetween(column="total_weight", min_value=1 - 1e-6, max_value=1 + 1e-6),
    ]


def _ratios_positive(column: str):
    def expectations():
        import great_expectations.expectations as gxe

        # exp(coefficient) and its interval bounds: zero or negative means the table was written wrong.
        return [
            gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, strict_min=True)
            for c in (column, "ci_low", "ci_high")
        ]

    return expectations


def _impact_ratios_bounds():
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeBetween(column="impact_ratio", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="baseline_impact_ratio", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="rate", min_value=0, max_value=1),
    ]


def _ratings_spread():
    import great_expectations.expectations as gxe

    # Normalised ratings that collapse to one value (stdev under .05) mean a scale was mis-declared upstream.
    return [
        gxe.ExpectColumnMeanToBeBetween(column="score_normalised", min_value=0.15, max_value=0.85),
        gxe.ExpectColumnStdevToBeBetween(column="score_normalised", min_value=0.05),
    ]


def volume_check(source: str) -> Check:
    return Check(
        name="daily_volume_in_range",
        asset=("raw", source),
        description=f"Rows landed per day for {source} stay within 0.2x-5x of the trailing 28-day median.",
        sql=f"""
            with daily as (
                select _partition_date as day, count(*) as n from raw.{source} group by 1
            ),
            trailing_window as (
                select day, n, median(n) over (order by day rows between 28 preceding and 1 preceding) as med
                from daily
            )
            select day, n, med, n / med as ratio_to_median from trailing_window where med is not null
        """,
        expectations=_volume_expectations,
        blocking=False,
        required_tables=(f"raw.{source}",),
    )


SCORE_DRIFT = Check(
    name="score_distribution_stable",
    asset=("marts", "interview_ratings"),
    description="AI scores of the latest 90 days follow the earlier distribution (KL divergence <= 0.1).",
    sql="""
        with scored as (
            select
                competency_code,
                score_normalised,
                scored_at >= (select max(scored_at) from marts.interview_ratings) - interval 90 day as recent,
                least(floor(score_normalised * 10), 9) as bin
            from marts.interview_ratings
            where rater_type = 'ai'
        ),
        hist as (
            select competency_code, recent, bin, count(*) as n
            from scored group by all
        ),
        p as (
            select competency_code, bin,
                   sum(case when recent then n else 0 end) as n_recent,
                   sum(case when not recent then n else 0 end) as n_prior
            from hist group by all
        ),
        totals as (
            select competency_code, sum(n_recent) as t_recent, sum(n_prior) as t_prior from p group by 1
        )
        select p.competency_code,
               sum((p.n_recent + 0.5) / (t.t_recent + 5) * ln(((p.n_recent + 0.5) / (t.t_recent + 5))
                   / ((p.n_prior + 0.5) / (t.t_prior + 5)))) as kl_divergence,
               min(t.t_recent) as n_recent,
               min(t.t_prior) as n_prior
        from p join totals t using (competency_code)
        group by 1
        having min(t.t_recent) >= 50 and min(t.t_prior) >= 50
    """,
    expectations=_score_drift_expectations,
    required_tables=("marts.interview_ratings",),
)

RATINGS_SPREAD = Check(
    name="normalised_scores_spread",
    asset=("marts", "interview_ratings"),
    description="Normalised scores are centred away from the ends and spread out (a scale mix-up collapses them).",
    sql="select score_normalised from marts.interview_ratings",
    expectations=_ratings_spread,
    required_tables=("marts.interview_ratings",),
)

RESUME_PARSE = Check(
    name="resume_text_extracted",
    asset=("raw", "resumes"),
    description="Resume text was extracted from at least 95% of resumes, and 90% have 200+ characters.",
    sql="select extracted_text, length(extracted_text) as text_length from raw.resumes",
    expectations=_resume_expectations,
    blocking=False,
    required_tables=("raw.resumes",),
)

TRANSCRIPT_PARSE = Check(
    name="transcript_segments_parse",
    asset=("raw", "transcript_segments"),
    description="Transcript segments carry text, a known language, and a sane duration.",
    sql="select text, language, end_s - start_s as duration_s from raw.transcript_segments",
    expectations=_transcript_expectations,
    blocking=False,
    required_tables=("raw.transcript_segments",),
)

AGREEMENT_BOUNDS = Check(
    name="agreement_within_bounds",
    asset=("ml", "rater_agreement"),
    description="Model output bounds: correlations in [-1, 1], each from at least one interview.",
    sql="select r, n_interviews from ml.rater_agreement where r is not null",
    expectations=_agreement_bounds,
    required_tables=("ml.rater_agreement",),
)

WEIGHTS_ON_SIMPLEX = Check(
    name="weights_on_simplex",
    asset=("ml", "recommendation_weights"),
    description="Model output bounds: recommended weights lie in [0, 1] and sum to 1 per recommendation.",
    sql="""
        select
            recommendation_id,
            min(recommended_weight) as min_weight,
            max(recommended_weight) as max_weight,
            sum(recommended_weight) as total_weight
        from ml.recommendation_weights
        group by recommendation_id
    """,
    expectations=_weights_on_simplex,
    required_tables=("ml.recommendation_weights",),
)

HAZARD_RATIOS_POSITIVE = Check(
    name="hazard_ratios_positive",
    asset=("ml", "turnover_cox"),
    description="Model output bounds: hazard ratios and their interval bounds are positive.",
    sql="select hazard_ratio, ci_low, ci_high from ml.turnover_cox where hazard_ratio is not null",
    expectations=_ratios_positive("hazard_ratio"),
    required_tables=("ml.turnover_cox",),
)

RATE_RATIOS_POSITIVE = Check(
    name="rate_ratios_positive",
    asset=("ml", "complaint_model"),
    description="Model output bounds: complaint rate ratios and their interval bounds are positive.",
    sql="select rate_ratio, ci_low, ci_high from ml.complaint_model where rate_ratio is not null",
    expectations=_ratios_positive("rate_ratio"),
    required_tables=("ml.complaint_model",),
)

IMPACT_RATIOS_BOUNDS = Check(
    name="impact_ratios_nonnegative",
    asset=("ml", "fairness_gate"),
    description="Model output bounds: impact ratios are non-negative and group rates lie in [0, 1].",
    sql="""
        select impact_ratio, coalesce(baseline_impact_ratio, impact_ratio) as baseline_impact_ratio, rate
        from ml.fairness_gate
        where impact_ratio is not null
    """,
    expectations=_impact_ratios_bounds,
    required_tables=("ml.fairness_gate",),
)

VOLUME_SOURCES = ("application_events", "interviews", "interview_scores", "transcript_segments", "resumes")

CHECKS: tuple[Check, ...] = (
    *(volume_check(s) for s in VOLUME_SOURCES),
    RESUME_PARSE,
    TRANSCRIPT_PARSE,
    SCORE_DRIFT,
    RATINGS_SPREAD,
    AGREEMENT_BOUNDS,
    WEIGHTS_ON_SIMPLEX,
    HAZARD_RATIOS_POSITIVE,
    RATE_RATIOS_POSITIVE,
    IMPACT_RATIOS_BOUNDS,
)
