"""Model assets: read marts, fit, write ml.* with a version per run; the logic lives in ml/pipeline/."""

import time
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource
from pydantic import Field

from ml import pipeline
from ml.agreement import rater_agreement
from ml.complaints import DEFAULT_DISPERSION_THRESHOLD
from ml.outputs import write_model_output
from ml.validity import SUPERVISOR_RATING_RELIABILITY
from ml.weights import DEFAULT_MIN_HIRES
from orchestration import audit


def _marts(*names: str) -> list[dg.AssetKey]:
    return [dg.AssetKey(["marts", n]) for n in names]


def _specs(names: tuple[str, ...], deps: list[dg.AssetKey], description: str) -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(["ml", n], deps=deps, group_name="ml", kinds={"python", "duckdb"}, description=description)
        for n in names
    ]


def _num(value) -> float | None:
    """A metadata-safe float (Dagster metadata rejects NaN)."""
    return None if value is None or pd.isna(value) or not np.isfinite(float(value)) else round(float(value), 4)


def _text(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


POOL_MARTS = _marts("hires", "interviews", "candidates", "job_families", "applicant_pool")


class ValidityConfig(dg.Config):
    """Criterion reliability per outcome for the unreliability correction; unlisted outcomes get the default."""

    criterion_reliability: dict[str, float] = Field(
        default_factory=lambda: dict(pipeline.DEFAULT_CRITERION_RELIABILITY)
    )
    default_reliability: float = SUPERVISOR_RATING_RELIABILITY


class RecommendationConfig(dg.Config):
    """What success means (outcome mix: signed weights of z-scored outcomes) and how far one cycle may move."""

    outcome_mix: dict[str, float] = Field(default_factory=lambda: dict(pipeline.DEFAULT_OUTCOME_MIX))
    min_hires: int = DEFAULT_MIN_HIRES
    max_change: float = pipeline.DEFAULT_MAX_CHANGE
    bootstrap_reps: int = pipeline.DEFAULT_BOOTSTRAP
    cv_splits: int = pipeline.DEFAULT_CV_SPLITS
    # "floor": a hire who left before a review counts as the lowest rating; "exclude": such hires are left out.
    early_leaver_policy: str = pipeline.DEFAULT_EARLY_LEAVER_POLICY
    blend_shares: list[float] = Field(default_factory=lambda: list(pipeline.DEFAULT_BLEND_SHARES))
    # Paired bootstrap resamples of the fairness gate's change test (ml.fairness.gate_change).
    gate_boot: int = pipeline.DEFAULT_GATE_BOOT
    seed: int = 0


class TurnoverConfig(dg.Config):
    """Hires a family needs for its own curves and Cox model, and the held-out share for concordance."""

    min_hires: int = pipeline.DEFAULT_SURVIVAL_MIN_HIRES
    min_events_per_term: int = pipeline.DEFAULT_MIN_EVENTS_PER_TERM
    holdout_fraction: float = pipeline.DEFAULT_HOLDOUT_FRACTION
    ph_alpha: float = 0.05


class ComplaintConfig(dg.Config):
    """Customer-facing families (empty: every family with complaints on record) and the overdispersion switch."""

    families: list[str] = Field(default_factory=list)
    min_hires: int = pipeline.DEFAULT_COMPLAINT_MIN_HIRES
    min_events_per_term: int = pipeline.DEFAULT_MIN_EVENTS_PER_TERM
    dispersion_threshold: float = DEFAULT_DISPERSION_THRESHOLD
    care_competency: str = pipeline.CARE_COMPETENCY


class TextConfig(dg.Config):
    """Lexicon file (empty: ml/lexicons/lexicons.yaml), the resume-interview mismatch percentile cut-offs, and
    full_refresh to recompute every document's features instead of only new and changed ones."""

    lexicon_path: str = ""
    mismatch_high: float = 0.75
    mismatch_low: float = 0.25
    full_refresh: bool = False
    batch_interviews: int = pipeline.TEXT_BATCH_INTERVIEWS


@dg.asset(
    key=["ml", "rater_agreement"],
    deps=_marts("interview_ratings"),
    group_name="ml",
    kinds={"python", "duckdb"},
    pool="duckdb_writer",
)
def rater_agreement_asset(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    """Agreement between the AI rater and the human panel, per job family and competency."""
    with warehouse.get_connection() as con:
        ratings = con.execute(
            "select interview_id, rater_type, competency_code, job_family, score_normalised "
            "from marts.interview_ratings"
        ).df()
        table = rater_agreement(ratings)
        version = write_model_output(con, "rater_agreement", table, context.run_id, {"method": "pearson"})
    return dg.MaterializeResult(
        metadata={
            "rows": len(table),
            "model_version": version,
            "median_r": float(table["r"].median()) if len(table) else float("nan"),
        }
    )


@dg.asset(key=["ml", "validity"], deps=POOL_MARTS, group_name="ml", kinds={"python", "duckdb"}, pool="duckdb_writer")
def validity_asset(
    context: dg.AssetExecutionContext, config: ValidityConfig, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    """Validity of each competency for each outcome and job family, observed and corrected."""
    with warehouse.get_connection() as con:
        competencies = pipeline.competencies_from_weights(pipeline.load_job_families(con))
        hires, applicants = pipeline.load_hires(con), pipeline.load_applicants(con)
        table = pipeline.validity_tables(
            hires, applicants, competencies, pipeline.OUTCOMES, config.criterion_reliability, config.default_reliability
        )
        rated = table[table["outcome"] == "rating_6m"].groupby("job_family")["n"].max()
        metrics = {
            "n_hires_with_rating_6m": {k: int(v) for k, v in rated.items()},
            "median_r_rating_6m": _num(table.loc[table["outcome"] == "rating_6m", "r"].median()),
            "median_r_operational_rating_6m": _num(
                table.loc[table["outcome"] == "rating_6m", "r_operational"].median()
            ),
        }
        version = write_model_output(con, "validity", table, context.run_id, config.model_dump(), metrics)
    return dg.MaterializeResult(metadata={"model_version": version, "rows": len(table), **metrics})


RECOMMENDATION_TABLES = (
    "recommendations",
    "recommendation_weights",
    "recommendation_validity",
    "fairness_gate",
    "tradeoff_front",
    "recommendation_moments",
)


@dg.multi_asset(
    specs=_specs(RECOMMENDATION_TABLES, POOL_MARTS, "Scorecard weight recommendation with its evidence and fairness."),
    pool="duckdb_writer",
)
def recommendation_assets(context: dg.AssetExecutionContext, config: RecommendationConfig, warehouse: DuckDBResource):
    """Recommended weights per job family, their out-of-sample validity and the fairness gate."""
    started = time.perf_counter()
    with warehouse.get_connection() as con:
        job_families = pipeline.load_job_families(con)
        competencies = pipeline.competencies_from_weights(job_families)
        tables = pipeline.recommendation_tables(
            pipeline.load_hires(con),
            pipeline.load_applicants(con),
            pipeline.current_weights_from(job_families, competencies),
            competencies,
            version=pipeline.recommendation_version(context.run_id),
            outcome_mix=config.outcome_mix,
            min_hires=config.min_hires,
            max_change=config.max_change,
            n_bootstrap=config.bootstrap_reps,
            n_splits=config.cv_splits,
            early_leaver_policy=config.early_leaver_policy,
            blend_shares=config.blend_shares,
            gate_boot=config.gate_boot,
            seed=config.seed,
        )
        fit_seconds = round(time.perf_counter() - started, 2)
        recs = tables["recommendations"]
        metrics = {
            "fit_seconds": fit_seconds,
            "status": dict(zip(recs["job_family"], recs["status"], strict=True)),
            "n_hires_with_outcomes": {
                f: int(n) for f, n in zip(recs["job_family"], recs["n_hires_with_outcomes"], strict=True)
            },
            "lambda": {f: _num(v) for f, v in zip(recs["job_family"], recs["lambda"], strict=True)},
            "holdout_r": {
                f"{r.job_family}:{r.weighting}": _num(r.holdout_r)
                for r in tables["recommendation_validity"].itertuples(index=False)
                if r.weighting in ("current", "recommended", "unit")
            },
            "flagged": [f for f, flag in zip(recs["job_family"], recs["flagged"], strict=True) if flag],
        }
        versions = {
            name: write_model_output(con, name, table, context.run_id, config.model_dump(), metrics)
            for name, table in tables.items()
        }
    for name, table in tables.items():
        yield dg.MaterializeResult(
            asset_key=["ml", name],
            metadata={"model_version": versions[name], "rows": len(table), **metrics},
        )


TURNOVER_TABLES = ("turnover_km", "turnover_cox")


@dg.multi_asset(
    specs=_specs(TURNOVER_TABLES, _marts("hires", "interviews", "candidates"), "Retention by score band; Cox model."),
    pool="duckdb_writer",
)
def turnover_assets(context: dg.AssetExecutionContext, config: TurnoverConfig, warehouse: DuckDBResource):
    """Kaplan-Meier retention by score band and a Cox model of voluntary exit, overall and per family."""
    with warehouse.get_connection() as con:
        competencies = pipeline.competencies_from_weights(pipeline.load_job_families(con))
        tables = pipeline.turnover_tables(
            pipeline.load_hires(con),
            pipeline.load_applicants(con),
            competencies,
            min_hires=config.min_hires,
            holdout_fraction=config.holdout_fraction,
            ph_alpha=config.ph_alpha,
            min_events_per_term=config.min_events_per_term,
        )
        cox = tables["turnover_cox"].drop_duplicates("scope")
        metrics = {
            "n": {r.scope: int(r.n) for r in cox.itertuples(index=False)},
            "n_events": {r.scope: int(r.n_events) for r in cox.itertuples(index=False)},
            "concordance_holdout": {r.scope: _num(r.concordance_holdout) for r in cox.itertuples(index=False)},
            "ph_violations": int((tables["turnover_cox"]["ph_ok"] == False).sum()),  # noqa: E712
        }
        versions = {
            name: write_model_output(con, name, table, context.run_id, config.model_dump(), metrics)
            for name, table in tables.items()
        }
    for name, table in tables.items():
        yield dg.MaterializeResult(
            asset_key=["ml", name], metadata={"model_version": versions[name], "rows": len(table), **metrics}
        )


TEXT_TABLES = ("transcript_features", "keyword_evidence", "resume_features")
TEXT_DEPS = [
    dg.AssetKey(["staging", "stg_interview_vendor__transcript_segments"]),
    dg.AssetKey(["staging", "stg_ats__resumes"]),
    *_marts("interviews", "candidates"),
]


@dg.multi_asset(
    specs=_specs(TEXT_TABLES, TEXT_DEPS, "Words, timing and keywords of what candidates said; resume fields."),
    pool="duckdb_writer",
)
def text_assets(context: dg.AssetExecutionContext, config: TextConfig, warehouse: DuckDBResource):
    """Transcript features, keyword evidence and resume features (no emotion, face or voice-tone features)."""
    lexicon = pipeline.load_lexicon(config.lexicon_path) if config.lexicon_path else pipeline.load_lexicon()
    with warehouse.get_connection() as con:
        result = pipeline.refresh_text_tables(
            con,
            lexicon,
            context.run_id,
            config.model_dump(),
            config.mismatch_high,
            config.mismatch_low,
            batch_interviews=config.batch_interviews,
            full_refresh=config.full_refresh,
        )
    for name in TEXT_TABLES:
        yield dg.MaterializeResult(
            asset_key=["ml", name],
            metadata={"model_version": result.versions[name], "rows": result.rows[name], **result.metrics},
        )


@dg.asset(
    key=["ml", "complaint_model"],
    deps=[*_marts("hires", "interviews", "candidates"), dg.AssetKey(["ml", "transcript_features"])],
    group_name="ml",
    kinds={"python", "duckdb"},
    pool="duckdb_writer",
)
def complaint_asset(
    context: dg.AssetExecutionContext, config: ComplaintConfig, warehouse: DuckDBResource
) -> dg.MaterializeResult:
    """Complaint rate ratios per competency SD (and transcript care mention) in customer-facing families."""
    with warehouse.get_connection() as con:
        competencies = pipeline.competencies_from_weights(pipeline.load_job_families(con))
        table = pipeline.complaint_tables(
            pipeline.load_hires(con),
            pipeline.load_applicants(con),
            competencies,
            pipeline.load_ml_table(con, "transcript_features"),
            families=config.families or None,
            min_hires=config.min_hires,
            dispersion_threshold=config.dispersion_threshold,
            care_competency=config.care_competency,
            min_events_per_term=config.min_events_per_term,
        )
        scopes = table.drop_duplicates("scope")
        metrics = {
            "model": {r.scope: _text(r.model) for r in scopes.itertuples(index=False)},
            "dispersion": {r.scope: _num(r.dispersion) for r in scopes.itertuples(index=False)},
            "alpha": {r.scope: _num(r.alpha) for r in scopes.itertuples(index=False)},
            "n": {r.scope: int(r.n) for r in scopes.itertuples(index=False)},
        }
        version = write_model_output(con, "complaint_model", table, context.run_id, config.model_dump(), metrics)
    return dg.MaterializeResult(metadata={"model_version": version, "rows": len(table), **metrics})


@dg.asset(
    key=["ml", "fairness_thresholds"],
    deps=_marts("applicant_pool"),
    group_name="ml",
    kinds={"python", "duckdb"},
    pool="duckdb_writer",
)
def fairness_thresholds_asset(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    """Pass rates and impact ratios per group at composite cut-offs (the Fairness audit page's threshold view)."""
    with warehouse.get_connection() as con:
        table = audit.threshold_rows(audit.load_pool(con))
        version = write_model_output(con, "fairness_thresholds", table, context.run_id, {"quantiles": "0.05-0.95"})
    return dg.MaterializeResult(metadata={"model_version": version, "rows": len(table)})


@dg.asset(
    key=["ml", "audit_reports"],
    deps=_marts("applicant_pool"),
    group_name="ml",
    kinds={"python", "duckdb"},
    pool="duckdb_writer",
)
def audit_reports_asset(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    """Each job family's bias-audit report (PDF and HTML) of the last 12 months of data, for the audit page."""
    with warehouse.get_connection() as con:
        table = audit.nightly_reports(con, Path(warehouse.database))
        version = audit.write_reports_table(con, table, context.run_id, {"months": audit.NIGHTLY_MONTHS})
    return dg.MaterializeResult(
        metadata={"model_version": version, "families": int(table["job_family"].nunique()), "rows": len(table)}
    )


model_assets = [
    rater_agreement_asset,
    validity_asset,
    recommendation_assets,
    turnover_assets,
    text_assets,
    complaint_asset,
    fairness_thresholds_asset,
    audit_reports_asset,
]
