"""The output contracts: the columns the dashboards read, in order and typed, the detail columns kept beside
them, and conform(); with the defaults and constants the sections share."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa

from ml.fairness import INTERSECTION_SEP
from ml.validity import SUPERVISOR_RATING_RELIABILITY

SCORE_PREFIX = "score_"
WEIGHT_PREFIX = "weight_"
OUTCOMES: tuple[str, ...] = ("rating_3m", "rating_6m", "rating_12m", "retained_12m", "complaints_per_1000_days")
# Ratings come from one supervisor (ryy .52, Viswesvaran, Ones & Schmidt 1996); staying and complaints are
# recorded, not judged, so they carry no rater error.
DEFAULT_CRITERION_RELIABILITY: dict[str, float] = {
    "rating_3m": SUPERVISOR_RATING_RELIABILITY,
    "rating_6m": SUPERVISOR_RATING_RELIABILITY,
    "rating_12m": SUPERVISOR_RATING_RELIABILITY,
    "retained_12m": 1.0,
    "complaints_per_1000_days": 1.0,
}
DEFAULT_OUTCOME_MIX: dict[str, float] = {"rating_6m": 0.6, "retained_12m": 0.3, "complaints_per_1000_days": -0.1}
DEFAULT_MAX_CHANGE = 0.10
# 200 resamples put a 95% percentile bound within about +-.01 of its 2,000-resample value for weights of this
# size, and keep the fit for five families at 20k candidates to a few seconds.
DEFAULT_BOOTSTRAP = 200
DEFAULT_HOLDOUT_FRACTION = 0.2
# A hire who left before a review counts as the lowest rating (ml.weights): early leavers are failures, not gaps.
DEFAULT_EARLY_LEAVER_POLICY = "floor"
DEFAULT_CV_SPLITS = 5
DEFAULT_BLEND_SHARES: tuple[float, ...] = (0.5,)
# Kaplan-Meier curves and a Cox model per family need enough hires (and exits) to say anything; 'all' always fits.
DEFAULT_SURVIVAL_MIN_HIRES = 100
DEFAULT_COMPLAINT_MIN_HIRES = 100
# Concordance on a handful of held-out exits is noise (one exit gives 0 or 1).
MIN_HOLDOUT_EVENTS = 10
# Events per model term below which Cox and Poisson coefficients and Wald intervals go unstable (Vittinghoff &
# McCulloch 2007 find 5-9 events per term workable; fewer, and a family with no exits drives a coefficient to
# -inf). Scopes under it are reported as not fitted, with the count.
DEFAULT_MIN_EVENTS_PER_TERM = 5
# The transcript feature for complaints: any candidate mention of a customer-orientation lexicon term.
CARE_COMPETENCY = "customer_orientation"
SNIPPET_CHARS = 160
DIMENSION_NAMES = {"sex": "sex", "ethnicity": "ethnicity", f"sex{INTERSECTION_SEP}ethnicity": "sex_x_ethnicity"}
COX_NOTE = (
    "voluntary exit; involuntary exits censored at their date (cause-specific hazard); hazard ratio per "
    "applicant-pool SD of the competency score"
)
COMPLAINT_NOTE = (
    "rate ratio per applicant-pool SD of the competency score; exposure = days employed; const per 1000 days"
)

DATE = pd.ArrowDtype(pa.date32())


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value))


# Output columns the dashboards are built against, in order, with their pandas dtypes ("date" is an Arrow date32).
CONTRACTS: dict[str, dict[str, str]] = {
    "validity": {
        "job_family": "string",
        "competency_code": "string",
        "outcome": "string",
        "n": "Int64",
        "r": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
        "p_value": "float64",
        "u": "float64",
        "ryy": "float64",
        "r_range_corrected": "float64",
        "r_operational": "float64",
        "ci_low_operational": "float64",
        "ci_high_operational": "float64",
    },
    "recommendations": {
        "recommendation_id": "string",
        "job_family": "string",
        "status": "string",
        "n_hires_with_outcomes": "Int64",
        "n_needed": "Int64",
        "outcome_mix": "string",
        "lambda": "float64",
        "max_change": "float64",
        "flagged": "boolean",
        "flags": "string",
        "flagged_groups": "string",
        "effective_from_suggested": "date",
    },
    "recommendation_weights": {
        "recommendation_id": "string",
        "job_family": "string",
        "competency_code": "string",
        "current_weight": "float64",
        "recommended_weight": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
        "change": "float64",
        "at_cap": "boolean",
    },
    "recommendation_validity": {
        "recommendation_id": "string",
        "job_family": "string",
        "weighting": "string",
        "holdout_r": "float64",
        "holdout_n": "Int64",
        "min_impact_ratio": "float64",
    },
    "fairness_gate": {
        "recommendation_id": "string",
        "job_family": "string",
        "weighting": "string",
        "metric": "string",
        "dimension": "string",
        "group_label": "string",
        "n": "Int64",
        "n_positive": "Int64",
        "rate": "float64",
        "reference_group": "string",
        "impact_ratio": "float64",
        "below_four_fifths": "boolean",
        "test": "string",
        "p_value": "float64",
        "significant": "boolean",
        "small_group": "boolean",
        "baseline_impact_ratio": "float64",
        "lowered_below_baseline": "boolean",
    },
    "tradeoff_front": {
        "recommendation_id": "string",
        "job_family": "string",
        "weighting": "string",
        "validity_applicants": "float64",
        "validity_holdout": "float64",
        "min_impact_ratio": "float64",
        "min_impact_group": "string",
        "n_groups_below_four_fifths": "Int64",
        "on_front": "boolean",
    },
    "recommendation_moments": {
        "recommendation_id": "string",
        "job_family": "string",
        "kind": "string",
        "row_code": "string",
        "col_code": "string",
        "value": "float64",
        "n": "Int64",
    },
    "turnover_km": {
        "job_family": "string",
        "score_band": "string",
        "time_days": "float64",
        "survival": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
        "at_risk": "Int64",
        "events": "Int64",
    },
    "turnover_cox": {
        "scope": "string",
        "term": "string",
        "hazard_ratio": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
        "p_value": "float64",
        "ph_p_value": "float64",
        "ph_ok": "boolean",
        "n": "Int64",
        "n_events": "Int64",
        "concordance_train": "float64",
        "concordance_holdout": "float64",
        "note": "string",
    },
    "complaint_model": {
        "scope": "string",
        "term": "string",
        "rate_ratio": "float64",
        "ci_low": "float64",
        "ci_high": "float64",
        "p_value": "float64",
        "model": "string",
        "dispersion": "float64",
        "alpha": "float64",
        "n": "Int64",
    },
    "transcript_features": {
        "interview_id": "string",
        "candidate_key": "string",
        "words": "Int64",
        "speaking_seconds": "float64",
        "words_per_minute": "float64",
    },
    "keyword_evidence": {
        "interview_id": "string",
        "candidate_key": "string",
        "competency_code": "string",
        "keyword": "string",
        "question_id": "string",
        "segment_no": "Int64",
        "start_s": "float64",
        "snippet": "string",
    },
    "resume_features": {
        "candidate_key": "string",
        "resume_id": "string",
        "education_level": "string",
        "years_experience": "float64",
        "skills": "string",
        "resume_job_match": "float64",
        "resume_interview_mismatch": "boolean",
    },
}


# Detail kept beside the contract. Listed so every run writes the same columns whatever it found (a family with
# no recommendation, a model not fitted): ml.<name>_history takes each run's rows by column name.
EXTRAS: dict[str, dict[str, str]] = {
    "validity": {
        "sd_applicants": "float64",
        "sd_hired": "float64",
        "r_range_corrected_ci_low": "float64",
        "r_range_corrected_ci_high": "float64",
        "q_value": "float64",
        "significant_bh": "boolean",
        "n_corrected": "Int64",
        "correction": "string",
        "reason": "string",
    },
    "recommendations": {
        "recommendation_version": "string",
        "n_applicants": "Int64",
        "selection_rate": "float64",
        "holdout_start": "datetime64[ns]",
        "holdout_r_current": "float64",
        "holdout_r_recommended": "float64",
        "holdout_r_unit": "float64",
        "holdout_r_target": "float64",
        "gain_vs_current": "float64",
        "gain_vs_current_ci_low": "float64",
        "gain_vs_current_ci_high": "float64",
        "gain_vs_unit": "float64",
        "target_gain_vs_unit": "float64",
        "cycles_to_target": "Int64",
        "early_leaver_policy": "string",
        "criterion_counts": "string",
        "notes": "string",
    },
    "recommendation_weights": {
        "estimate_weight": "float64",
        "validity_max_weight": "float64",
        "target_weight": "float64",
        "target_ci_low": "float64",
        "target_ci_high": "float64",
        "target_se": "float64",
    },
    "recommendation_validity": {
        "holdout_ci_low": "float64",
        "holdout_ci_high": "float64",
        "min_impact_ratio_group": "string",
        "n_groups_below_four_fifths": "Int64",
        "weights": "string",
        "gain_vs_current": "float64",
        "gain_vs_current_ci_low": "float64",
        "gain_vs_current_ci_high": "float64",
        "gain_vs_current_p": "float64",
        "beats_current": "boolean",
        "gain_vs_unit": "float64",
        "gain_vs_unit_ci_low": "float64",
        "gain_vs_unit_ci_high": "float64",
        "gain_vs_unit_p": "float64",
        "beats_unit": "boolean",
    },
    "fairness_gate": {"reference_rate": "float64", "flag": "boolean", "selection_rate": "float64", "reason": "string"},
    "turnover_km": {"censored": "Int64"},
    "turnover_cox": {
        "status": "string",
        "coef": "float64",
        "se": "float64",
        "n_holdout": "Int64",
        "n_holdout_events": "Int64",
        "reason": "string",
    },
    "complaint_model": {
        "status": "string",
        "coef": "float64",
        "se": "float64",
        "alpha_lr_p": "float64",
        "poisson_aic": "float64",
        "nb_aic": "float64",
        "n_complaints": "Int64",
        "note": "string",
        "reason": "string",
    },
    "transcript_features": {"language": "string", "n_candidate_segments": "Int64", "reason": "string"},
    "keyword_evidence": {"language": "string"},
    "resume_features": {
        "job_family": "string",
        "education_rank": "Int64",
        "n_skills": "Int64",
        "resume_strength": "float64",
        "interview_composite": "float64",
        "resume_pct": "float64",
        "interview_pct": "float64",
        "reason": "string",
    },
}


def conform(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Contract columns first, then the listed extras, in order and typed (missing ones added empty), then the
    rest (the lexicon's kw_<competency> counts)."""
    contract = {**CONTRACTS[name], **EXTRAS.get(name, {})}
    out = frame.copy()
    for col, dtype in contract.items():
        values = out[col] if col in out.columns else pd.Series(None, index=out.index, dtype=object)
        if dtype == "date":
            days = [pd.Timestamp(v).date() if not _missing(v) else None for v in values.astype(object)]
            out[col] = pd.Series(pd.array(pa.array(days, pa.date32()), dtype=DATE), index=out.index)
        elif dtype == "string":
            # Typed even when every value is missing, so DuckDB gets VARCHAR rather than a NULL-typed column
            # that the next run's text could not be inserted into.
            out[col] = pd.Series(
                [None if _missing(v) else str(v) for v in values.astype(object)], index=out.index, dtype="string"
            )
        else:
            out[col] = values.astype(dtype)
    extra = [c for c in out.columns if c not in contract]
    return out[[*contract, *extra]].reset_index(drop=True)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
