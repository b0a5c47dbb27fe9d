"""From warehouse marts to model output tables: the data shaping around the estimators in ml/.

`load_*` functions read mart-shaped frames from a DuckDB connection; the `*_tables` functions take those frames
and return the output tables, with the columns in CONTRACTS first (the dashboards read exactly these names) and any
extra detail after. Assets call one of each; tests call the `*_tables` functions on hand-made frames.

Frames, as the marts give them:
- hires: one row per hire (marts.hires) plus the candidate's gender and ethnicity; competency scores in
  score_<competency> (0-1 mean over raters), outcomes rating_3m/6m/12m (0-1), is_retained_12m, count_complaints,
  complaints_per_1000_days, tenure_days, termination_date/_type, hire_date, score_band, as_of_date.
- applicants: one row per candidate x job family, their latest completed, scored interview (the applicant pool:
  unrestricted score SDs, and the pool that selection is simulated on), with gender, ethnicity and `hired`.
- current weights: {job_family: {competency: weight}} from marts.job_families.weight_<competency>.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ml.complaints import DEFAULT_DISPERSION_THRESHOLD, fit_complaint_model
from ml.fairness import (
    FOUR_FIFTHS,
    INTERSECTION_SEP,
    UNKNOWN,
    adverse_impact_table,
    composite_scores,
    rate_table,
    simulate_selection,
)
from ml.outputs import REGISTRY_DDL, _type_null_columns, data_snapshot, record_fit
from ml.survival import exit_durations, fit_cox, heldout_concordance, kaplan_meier_by_band
from ml.text_features import (
    RESUME_PARSE_COLUMNS,
    assert_no_prohibited_features,
    keyword_evidence_rows,
    load_lexicon,
    parse_resume_texts,
    resume_interview_consistency,
    resume_job_fit,
    transcript_features,
)
from ml.validity import SUPERVISOR_RATING_RELIABILITY, validity_table
from ml.weights import DEFAULT_MIN_HIRES, build_criterion, recommend_weights

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
DEFAULT_CV_SPLITS = 5
DEFAULT_BLEND_SHARES: tuple[float, ...] = (0.5,)
# A flagged group must be big enough that its impact ratio means something; smaller ones stay in fairness_gate.
DEFAULT_FLAG_MIN_GROUP_N = 20
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
        "notes": "string",
    },
    "recommendation_weights": {"estimate_weight": "float64", "validity_max_weight": "float64"},
    "recommendation_validity": {
        "min_impact_ratio_group": "string",
        "n_groups_below_four_fifths": "Int64",
        "weights": "string",
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


def competencies_from_weights(job_families: pd.DataFrame) -> list[str]:
    """Competency codes of the scorecard, from the weight_<competency> columns of marts.job_families."""
    return [c[len(WEIGHT_PREFIX) :] for c in job_families.columns if c.startswith(WEIGHT_PREFIX)]


def current_weights_from(job_families: pd.DataFrame, competencies: Sequence[str]) -> dict[str, dict[str, float]]:
    """{job_family: {competency: weight}} for families with weights on record."""
    out = {}
    for row in job_families.itertuples(index=False):
        weights = {c: getattr(row, f"{WEIGHT_PREFIX}{c}") for c in competencies}
        if all(pd.notna(v) for v in weights.values()):
            out[row.job_family] = {c: float(v) for c, v in weights.items()}
    return out


def _scores(frame: pd.DataFrame, competencies: Sequence[str]) -> pd.DataFrame:
    """The frame with score_<competency> columns copied to bare competency names (the estimators' inputs)."""
    assert_no_prohibited_features(frame.columns)
    assert_no_prohibited_features(competencies)
    out = frame.copy()
    for c in competencies:
        out[c] = pd.to_numeric(out[f"{SCORE_PREFIX}{c}"], errors="coerce").astype(float)
    return out


def prepare_hires(hires: pd.DataFrame, competencies: Sequence[str]) -> pd.DataFrame:
    """Hires with bare competency columns, retained_12m as 0/1 and dates as timestamps."""
    out = _scores(hires, competencies)
    if "retained_12m" not in out.columns and "is_retained_12m" in out.columns:
        out["retained_12m"] = out["is_retained_12m"].astype("boolean").astype("Float64").astype(float)
    for col in ("hire_date", "termination_date", "as_of_date"):
        if col in out.columns:
            out[col] = pd.to_datetime(out[col], errors="coerce")
    for col in OUTCOMES:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def _standardise(hires: pd.DataFrame, applicants: pd.DataFrame, competencies: Sequence[str]) -> pd.DataFrame:
    """Competency columns re-expressed in SD units of the job family's applicant pool (mean 0 there)."""
    out = hires.copy()
    for family, idx in out.groupby("job_family").groups.items():
        pool = applicants[applicants["job_family"] == family]
        for c in competencies:
            mean, sd = pool[c].mean(), pool[c].std(ddof=1)
            if not (np.isfinite(sd) and sd > 0):
                # Without an applicant pool, the hires' own SD is the only scale there is.
                mean, sd = out.loc[idx, c].mean(), out.loc[idx, c].std(ddof=1)
            out.loc[idx, c] = (out.loc[idx, c] - mean) / sd if sd and np.isfinite(sd) and sd > 0 else np.nan
    return out


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# ---------------------------------------------------------------------------------------------------- validity


def validity_tables(
    hires: pd.DataFrame,
    applicants: pd.DataFrame,
    competencies: Sequence[str],
    outcomes: Sequence[str] = OUTCOMES,
    criterion_reliability: Mapping[str, float] | None = None,
    default_reliability: float = SUPERVISOR_RATING_RELIABILITY,
) -> pd.DataFrame:
    """ml.validity: observed r with CI and N beside its range-restriction and operational corrections."""
    h = prepare_hires(hires, competencies)
    a = _scores(applicants, competencies)
    outcomes = [o for o in outcomes if o in h.columns]
    reliability = {**DEFAULT_CRITERION_RELIABILITY, **dict(criterion_reliability or {})}
    table = validity_table(h, a, competencies, outcomes, "job_family", reliability, default_reliability)
    table = table.rename(
        columns={
            "competency": "competency_code",
            "r_operational_ci_low": "ci_low_operational",
            "r_operational_ci_high": "ci_high_operational",
        }
    )
    return conform(table, "validity")


# --------------------------------------------------------------------------------------------- recommendations


def next_quarter_start(day) -> dt.date:
    """First day of the calendar quarter after the one `day` falls in: weights change at quarter boundaries."""
    day = pd.Timestamp(day).date()
    first_month = 3 * ((day.month - 1) // 3) + 1
    year, month = (day.year + 1, 1) if first_month == 10 else (day.year, first_month + 3)
    return dt.date(year, month, 1)


def _recommendation_id(job_family: str, version: str) -> str:
    return f"{job_family}@{version}"


def _impact_rows(pool: pd.DataFrame, weights: Mapping[str, float], competencies, selection_rate: float):
    """Selection (top-k at the historical rate) and scoring (above the median) rates per group, one weighting."""
    composite = composite_scores(pool, weights, competencies)
    frame = pool.assign(_selected=simulate_selection(composite, selection_rate).astype(float), _composite=composite)
    table = adverse_impact_table(frame, "_selected", "_composite", group_cols=("sex", "ethnicity"))
    table["dimension"] = table["dimension"].map(DIMENSION_NAMES).fillna(table["dimension"])
    return table.rename(columns={"group": "group_label"})


def _flag_text(row) -> str:
    return (
        f"{row.group_label} {row.metric} impact ratio falls from {row.baseline_impact_ratio:.2f} "
        f"to {row.impact_ratio:.2f} (below {FOUR_FIFTHS:g}; p = {row.p_value:.3f}, n = {row.n})"
    )


def fairness_gate_table(
    pool: pd.DataFrame,
    current: Mapping[str, float],
    recommended: Mapping[str, float] | None,
    competencies: Sequence[str],
    selection_rate: float,
    flag_min_group_n: int = DEFAULT_FLAG_MIN_GROUP_N,
) -> pd.DataFrame:
    """Impact under current and recommended weights, each group against its current-weights baseline.

    pool: the family's applicant pool with bare competency columns, sex and ethnicity. lowered_below_baseline
    marks a recommended-weights ratio below the same group's current-weights ratio. `flag` marks the ones that
    also show adverse impact by both tests in use, four-fifths and significance against the reference group,
    in a known group of at least flag_min_group_n people. Any reweighting nudges some ratio down a little, and
    in a pool of a few hundred a 20-person intersection crosses .8 by chance; the flagged rows are the drops a
    reviewer must sign off explicitly, and every other row stays in the table for them to see.
    """
    weightings = {"current": current}
    if recommended is not None:
        weightings["recommended"] = recommended
    frames = [
        _impact_rows(pool, w, competencies, selection_rate).assign(weighting=name) for name, w in weightings.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    key = ["metric", "dimension", "group_label"]
    base = table[table["weighting"] == "current"][[*key, "impact_ratio"]].rename(
        columns={"impact_ratio": "baseline_impact_ratio"}
    )
    table = table.merge(base, on=key, how="left")
    table["lowered_below_baseline"] = (table["weighting"] == "recommended") & (
        table["impact_ratio"] < table["baseline_impact_ratio"] - 1e-12
    )
    known = ~table["group_label"].astype(str).str.split(INTERSECTION_SEP).map(lambda parts: UNKNOWN in parts)
    table["flag"] = (
        table["lowered_below_baseline"]
        & (table["impact_ratio"] < FOUR_FIFTHS)
        & table["significant"].astype(bool)
        & (table["n"] >= flag_min_group_n)
        & known
    )
    table["selection_rate"] = selection_rate
    return table


def _holdout_r(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    comp = X @ w
    if len(y) < 3 or np.std(comp) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(comp, y)[0, 1])


def _tradeoff_rows(
    rec,
    family_hires: pd.DataFrame,
    pool: pd.DataFrame,
    competencies: Sequence[str],
    outcome_mix: Mapping[str, float],
    selection_rate: float,
    blend_shares: Sequence[float],
) -> pd.DataFrame:
    """Validity vs adverse impact per weighting: out-of-sample r of weights fitted without the newest hires,
    and the smallest impact ratio (known groups of 5+) that the weights fitted on all hires would give."""
    k = len(competencies)
    unit = np.full(k, 1.0 / k)
    w = rec.weights.set_index("competency").loc[list(competencies)]
    final = {
        "current": w["current"].to_numpy(),
        "recommended": w["recommended"].to_numpy(),
        "unit": unit,
        "validity_max": w["validity_max"].to_numpy(),
    }
    train = {}
    if rec.validity is not None:
        for row in rec.validity.itertuples(index=False):
            train[row.weighting] = np.array([getattr(row, f"w_{c}") for c in competencies])
    for share in blend_shares:
        name = f"blend_{round(share * 100)}"
        final[name] = share * final["validity_max"] + (1 - share) * unit
        if "validity_max" in train:
            train[name] = share * train["validity_max"] + (1 - share) * unit

    df = family_hires.copy()
    df["_criterion"] = build_criterion(df, outcome_mix)
    df = df[df[list(competencies)].notna().all(axis=1) & df["_criterion"].notna() & df["hire_date"].notna()]
    test = df[df["hire_date"] >= rec.holdout_start] if rec.holdout_start is not None else df.iloc[0:0]
    X_te, y_te = test[list(competencies)].to_numpy(float), test["_criterion"].to_numpy(float)
    rows = []
    for name, weights in final.items():
        impact = rate_table(
            pool.assign(
                _sel=simulate_selection(
                    composite_scores(pool, dict(zip(competencies, weights, strict=True)), competencies),
                    selection_rate,
                ).astype(float)
            ),
            "_sel",
            ("sex", "ethnicity"),
        )
        known = impact[(impact["n"] >= 5) & ~impact["group"].str.split(INTERSECTION_SEP).map(lambda p: UNKNOWN in p)]
        known = known.dropna(subset=["impact_ratio"])
        worst = known.loc[known["impact_ratio"].idxmin()] if len(known) else None
        rows.append(
            {
                "weighting": name,
                "holdout_r": _holdout_r(X_te, y_te, train[name]) if name in train else np.nan,
                "holdout_n": len(y_te) if name in train else 0,
                "min_impact_ratio": float(worst["impact_ratio"]) if worst is not None else np.nan,
                "min_impact_ratio_group": (
                    f"{DIMENSION_NAMES.get(worst['dimension'], worst['dimension'])}={worst['group']}"
                    if worst is not None
                    else None
                ),
                "n_groups_below_four_fifths": int((known["impact_ratio"] < FOUR_FIFTHS).sum()),
                "weights": _json({c: round(float(v), 4) for c, v in zip(competencies, weights, strict=True)}),
            }
        )
    return pd.DataFrame(rows)


def recommendation_tables(
    hires: pd.DataFrame,
    applicants: pd.DataFrame,
    current_weights: Mapping[str, Mapping[str, float]],
    competencies: Sequence[str],
    version: str,
    as_of=None,
    outcome_mix: Mapping[str, float] | None = None,
    min_hires: int = DEFAULT_MIN_HIRES,
    max_change: float = DEFAULT_MAX_CHANGE,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    holdout_fraction: float = DEFAULT_HOLDOUT_FRACTION,
    n_splits: int = DEFAULT_CV_SPLITS,
    blend_shares: Sequence[float] = DEFAULT_BLEND_SHARES,
    flag_min_group_n: int = DEFAULT_FLAG_MIN_GROUP_N,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """ml.recommendations, ml.recommendation_weights, ml.recommendation_validity and ml.fairness_gate.

    One recommendation per job family (every family with hires or weights on record), identified as
    '<job_family>@<version>'. A family with fewer than min_hires hires with complete scores and outcomes is
    'insufficient_evidence': it gets its count and the count needed, its current-weights fairness baseline, and
    no weights, validity or recommended-weights impact, ever.
    """
    outcome_mix = dict(DEFAULT_OUTCOME_MIX if outcome_mix is None else outcome_mix)
    h = prepare_hires(hires, competencies)
    pool_all = _scores(applicants, competencies).rename(columns={"gender": "sex"})
    if as_of is None:
        as_of = (
            h["as_of_date"].max() if "as_of_date" in h.columns and h["as_of_date"].notna().any() else dt.date.today()
        )
    families = sorted(set(h["job_family"].dropna()) | set(current_weights), key=str)
    recs, weights, validity, gates = [], [], [], []
    for family in families:
        rec_id = _recommendation_id(family, version)
        fam = h[h["job_family"] == family]
        pool = pool_all[(pool_all["job_family"] == family) & pool_all[list(competencies)].notna().all(axis=1)]
        current = dict(current_weights.get(family) or dict.fromkeys(competencies, 1.0 / len(competencies)))
        rec = recommend_weights(
            fam,
            competencies,
            outcome_mix,
            current,
            date_col="hire_date",
            min_hires=min_hires,
            max_change=max_change,
            n_splits=n_splits,
            holdout_fraction=holdout_fraction,
            n_bootstrap=n_bootstrap,
            seed=seed,
        )
        if family not in current_weights:
            rec.notes.append("no current weights on record; unit weights used as the current weights")
        ok = rec.status == "ok"
        selection_rate = float(pool["hired"].astype(float).mean()) if len(pool) else float("nan")
        gate = pd.DataFrame()
        if len(pool) and np.isfinite(selection_rate):
            gate = fairness_gate_table(
                pool, current, rec.recommended() if ok else None, competencies, selection_rate, flag_min_group_n
            ).assign(recommendation_id=rec_id, job_family=family)
            gates.append(gate)
        flagged_rows = gate[gate["flag"]] if len(gate) else gate
        flags = [_flag_text(r) for r in flagged_rows.itertuples(index=False)]
        flagged_groups = sorted(
            {f"{r.metric}:{r.dimension}={r.group_label}" for r in flagged_rows.itertuples(index=False)}
        )
        row = {
            "recommendation_id": rec_id,
            "job_family": family,
            "status": "recommended" if ok else "insufficient_evidence",
            "n_hires_with_outcomes": rec.n_available,
            "n_needed": rec.n_needed,
            "outcome_mix": _json(outcome_mix),
            "lambda": rec.lam if ok else np.nan,
            "max_change": max_change,
            "flagged": bool(flags),
            "flags": _json(flags),
            "flagged_groups": _json(flagged_groups),
            "effective_from_suggested": next_quarter_start(as_of) if ok else None,
            "recommendation_version": version,
            "n_applicants": len(pool),
            "selection_rate": selection_rate,
            "holdout_start": rec.holdout_start,
            "notes": _json(rec.notes),
        }
        if ok:
            tradeoff = _tradeoff_rows(rec, fam, pool, competencies, outcome_mix, selection_rate, blend_shares)
            validity.append(tradeoff.assign(recommendation_id=rec_id, job_family=family))
            by_name = tradeoff.set_index("weighting")["holdout_r"]
            row.update({f"holdout_r_{k}": by_name.get(k, np.nan) for k in ("current", "recommended", "unit")})
            w = rec.weights.rename(
                columns={
                    "competency": "competency_code",
                    "current": "current_weight",
                    "recommended": "recommended_weight",
                    "estimate": "estimate_weight",
                    "validity_max": "validity_max_weight",
                }
            )
            weights.append(w.assign(recommendation_id=rec_id, job_family=family))
        recs.append(row)

    def _stack(frames, name):
        return conform(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), name)

    return {
        "recommendations": _stack([pd.DataFrame(recs)] if recs else [], "recommendations"),
        "recommendation_weights": _stack(weights, "recommendation_weights"),
        "recommendation_validity": _stack(validity, "recommendation_validity"),
        "fairness_gate": _stack(gates, "fairness_gate"),
    }


# ---------------------------------------------------------------------------------------------------- turnover


def _scopes(frame: pd.DataFrame, min_hires: int) -> list[tuple[str, pd.DataFrame]]:
    """('all', every row) then each job family with at least min_hires rows."""
    out = [("all", frame)]
    for family, g in frame.groupby("job_family", sort=True):
        if len(g) >= min_hires:
            out.append((family, g))
    return out


def _too_few_events(n_events: int, n_terms: int, per_term: int) -> str | None:
    needed = per_term * n_terms
    if n_events < needed:
        return f"{n_events} events for {n_terms} terms; {needed} needed ({per_term} per term)"
    return None


def turnover_tables(
    hires: pd.DataFrame,
    applicants: pd.DataFrame,
    competencies: Sequence[str],
    as_of=None,
    min_hires: int = DEFAULT_SURVIVAL_MIN_HIRES,
    holdout_fraction: float = DEFAULT_HOLDOUT_FRACTION,
    ph_alpha: float = 0.05,
    min_events_per_term: int = DEFAULT_MIN_EVENTS_PER_TERM,
) -> dict[str, pd.DataFrame]:
    """ml.turnover_km (Kaplan-Meier by score band) and ml.turnover_cox (voluntary exit, Cox PH).

    Voluntary exit is the event; involuntary exits are censored at their date, active staff at as_of. The Cox
    model takes the competency scores in applicant-pool SD units of each hire's family; the 'all' scope adds
    job family (treatment-coded) since baseline turnover differs by family, and leaves out families with fewer
    than min_events_per_term exits (their term would have no estimate). A scope with fewer than
    min_events_per_term events per term gets one row with status 'not_fitted' and the reason, no ratios.
    """
    h = prepare_hires(hires, competencies)
    a = _scores(applicants, competencies)
    if as_of is None:
        as_of = h["as_of_date"].max()
    d = exit_durations(h, as_of)
    d = d[d["duration_days"].notna()]
    if "score_band" not in d.columns:
        d["score_band"] = "unscored"
    km_frames, cox_rows = [], []
    for scope, g in _scopes(d, min_hires):
        km = kaplan_meier_by_band(g, band_col="score_band")
        km_frames.append(km.assign(job_family=scope))

    scored = _standardise(d[d[list(competencies)].notna().all(axis=1)], a, competencies)
    for scope, g in _scopes(scored, min_hires):
        note = COX_NOTE
        if scope == "all":
            events = g.groupby("job_family")["event"].sum()
            few = sorted(events[events < min_events_per_term].index)
            if few and len(few) < len(events):
                g = g[~g["job_family"].isin(few)]
                note += f"; left out for fewer than {min_events_per_term} exits: {', '.join(few)}"
        categorical = ("job_family",) if scope == "all" and g["job_family"].nunique() > 1 else ()
        covariates = [*competencies, *categorical]
        n_terms = len(competencies) + (g["job_family"].nunique() - 1 if categorical else 0)
        base = {"scope": scope, "n": len(g), "n_events": int(g["event"].sum()), "note": note}
        gate = _too_few_events(base["n_events"], n_terms, min_events_per_term)
        if gate:
            cox_rows.append({**base, "status": "not_fitted", "term": None, "reason": gate})
            continue
        fit = fit_cox(g, covariates=covariates, categorical=categorical, ph_alpha=ph_alpha)
        base.update(n=fit.n, n_events=fit.n_events, status=fit.status)
        if fit.status != "ok":
            cox_rows.append({**base, "term": None, "reason": fit.reason})
            continue
        held = heldout_concordance(g, covariates=covariates, categorical=categorical, test_fraction=holdout_fraction)
        if held["reason"] is None and held["n_test_events"] < MIN_HOLDOUT_EVENTS:
            held["concordance"] = np.nan
            held["reason"] = f"{held['n_test_events']} exits among held-out hires; {MIN_HOLDOUT_EVENTS} needed"
        ph = fit.ph_test.set_index("term")
        for r in fit.hazard_ratios.itertuples(index=False):
            ph_p = float(ph.at[r.term, "p_value"]) if r.term in ph.index else np.nan
            cox_rows.append(
                {
                    **base,
                    "term": r.term,
                    "coef": r.coef,
                    "se": r.se,
                    "hazard_ratio": r.hazard_ratio,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "p_value": r.p_value,
                    "ph_p_value": ph_p,
                    "ph_ok": bool(ph_p >= ph_alpha) if np.isfinite(ph_p) else pd.NA,
                    "concordance_train": fit.concordance_train,
                    "concordance_holdout": held["concordance"],
                    "n_holdout": held["n_test"],
                    "n_holdout_events": held["n_test_events"],
                    "reason": held["reason"],
                }
            )
    km = pd.concat(km_frames, ignore_index=True) if km_frames else pd.DataFrame()
    km = km.rename(columns={"band": "score_band", "time": "time_days", "lower": "ci_low", "upper": "ci_high"})
    return {"turnover_km": conform(km, "turnover_km"), "turnover_cox": conform(pd.DataFrame(cox_rows), "turnover_cox")}


# -------------------------------------------------------------------------------------------------- complaints


def care_mentions(transcripts: pd.DataFrame, competency: str = CARE_COMPETENCY) -> pd.DataFrame:
    """interview_id -> care_mention (1 if the candidate used any term of the competency's lexicon), from
    ml.transcript_features."""
    col = f"kw_{competency}"
    if transcripts is None or transcripts.empty or col not in transcripts.columns:
        return pd.DataFrame(columns=["interview_id", "care_mention"])
    return pd.DataFrame(
        {
            "interview_id": transcripts["interview_id"].astype(str),
            "care_mention": (pd.to_numeric(transcripts[col], errors="coerce").fillna(0) > 0).astype(float),
        }
    )


def complaint_tables(
    hires: pd.DataFrame,
    applicants: pd.DataFrame,
    competencies: Sequence[str],
    transcripts: pd.DataFrame | None = None,
    families: Sequence[str] | None = None,
    min_hires: int = DEFAULT_COMPLAINT_MIN_HIRES,
    dispersion_threshold: float = DEFAULT_DISPERSION_THRESHOLD,
    care_competency: str = CARE_COMPETENCY,
    min_events_per_term: int = DEFAULT_MIN_EVENTS_PER_TERM,
) -> pd.DataFrame:
    """ml.complaint_model: complaints ~ competency scores (+ transcript care mention) with a log-exposure offset.

    Customer-facing families are `families`, or by default every family in which any hire has a complaint on
    record. Scopes: each such family with min_hires hires, and 'all' of them pooled with job family as a term.
    care_mention = the hiring interview's transcript has a customer-orientation keyword; hires without a
    transcript (no recording consent, onsite interview, erasure) get care_mention 0 and no_transcript 1, so the
    care effect is estimated among hires whose transcript could show it. A scope with fewer than
    min_events_per_term complaints per term gets one 'not_fitted' row with the reason.
    """
    h = prepare_hires(hires, competencies)
    a = _scores(applicants, competencies)
    if families is None:
        counts = pd.to_numeric(h["count_complaints"], errors="coerce").fillna(0).groupby(h["job_family"]).sum()
        families = sorted(counts[counts > 0].index)
    h = h[h["job_family"].isin(list(families)) & h[list(competencies)].notna().all(axis=1)]
    h = h.assign(
        exposure_1000_days=pd.to_numeric(h["tenure_days"], errors="coerce") / 1000.0,
        n_complaints=pd.to_numeric(h["count_complaints"], errors="coerce"),
    )
    care = care_mentions(transcripts, care_competency)
    extra: list[str] = []
    if len(care):
        mention = care.drop_duplicates("interview_id").set_index("interview_id")["care_mention"]
        h["care_mention"] = h["interview_id"].astype(str).map(mention)
        h["no_transcript"] = h["care_mention"].isna().astype(float)
        h["care_mention"] = h["care_mention"].fillna(0.0)
        extra = ["care_mention", "no_transcript"]
    h = _standardise(h, a, competencies)
    rows = []
    for scope, g in _scopes(h, min_hires):
        if scope == "all" and g["job_family"].nunique() < 2:
            continue
        categorical = ("job_family",) if scope == "all" else ()
        covariates = [*competencies, *[c for c in extra if g[c].nunique() > 1], *categorical]
        n_terms = len(covariates) + (g["job_family"].nunique() - 2 if categorical else 0)
        gate = _too_few_events(int(g["n_complaints"].sum()), n_terms, min_events_per_term)
        if gate:
            rows.append(
                {
                    "scope": scope,
                    "n": len(g),
                    "n_complaints": int(g["n_complaints"].sum()),
                    "status": "not_fitted",
                    "term": None,
                    "reason": gate,
                    "note": COMPLAINT_NOTE,
                }
            )
            continue
        fit = fit_complaint_model(
            g, "n_complaints", "exposure_1000_days", covariates, categorical, dispersion_threshold
        )
        base = {
            "scope": scope,
            "model": fit.model,
            "dispersion": fit.dispersion,
            "alpha": fit.alpha,
            "alpha_lr_p": fit.alpha_lr_p,
            "poisson_aic": fit.poisson_aic,
            "nb_aic": fit.nb_aic,
            "n": fit.n,
            "n_complaints": int(g["n_complaints"].sum()),
            "status": fit.status,
            "note": COMPLAINT_NOTE,
        }
        if fit.status != "ok":
            rows.append({**base, "term": None, "reason": fit.reason})
            continue
        for r in fit.rate_ratios.itertuples(index=False):
            rows.append(
                {
                    **base,
                    "term": r.term,
                    "coef": r.coef,
                    "se": r.se,
                    "rate_ratio": r.rate_ratio,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "p_value": r.p_value,
                }
            )
    return conform(pd.DataFrame(rows), "complaint_model")


# ------------------------------------------------------------------------------------------------------- text


def _normalise_space(text: str) -> str:
    """Each whitespace run as one space, ends trimmed."""
    # Same as re.sub(r"\s+", " ", text).strip() (str.split and re's \s agree on every code point), at a fifth
    # of the cost: it runs once per segment with a keyword hit.
    return " ".join((text or "").split())


def _cut_snippet(text: str, keyword: str, width: int = SNIPPET_CHARS) -> str:
    """At most `width` characters of whitespace-normalised text around the first occurrence of the keyword."""
    if len(text) <= width:
        return text
    pos = text.lower().find(keyword.lower())
    pos = max(pos, 0)
    start = min(max(0, pos - (width - len(keyword)) // 2), len(text) - width)
    return text[start : start + width]


def _snippet(text: str, keyword: str, width: int = SNIPPET_CHARS) -> str:
    """At most `width` characters of the segment around the first occurrence of the keyword."""
    return _cut_snippet(_normalise_space(text), keyword, width)


def _snippets(texts: np.ndarray, segment_rows: np.ndarray, keywords: Sequence[str]) -> list[str]:
    """_snippet for each hit: each segment's text is normalised once, however many hits it holds."""
    rows, inverse = np.unique(segment_rows, return_inverse=True)
    normalised = np.array([_normalise_space(t if isinstance(t, str) else "") for t in texts[rows]] + [""], dtype=object)
    return [
        text if len(text) <= SNIPPET_CHARS else _cut_snippet(text, keyword)
        for text, keyword in zip(normalised[inverse], keywords, strict=True)
    ]


def transcript_tables(segments: pd.DataFrame, lexicon: Mapping | None = None) -> dict[str, pd.DataFrame]:
    """ml.transcript_features (one row per interview) and ml.keyword_evidence (one row per keyword hit).

    segments: interview_id, candidate_key, segment_no, question_id, speaker, start_s, end_s, text, language,
    already limited to candidates with recording consent and no erasure. Only candidate speech counts.
    Every output row depends on its own interview's segments only, so interviews may be passed in batches
    and the results concatenated (refresh_text_tables does).
    """
    features, evidence = _transcript_frames(segments, lexicon)
    return {
        "transcript_features": conform(features, "transcript_features"),
        "keyword_evidence": conform(evidence, "keyword_evidence"),
    }


def _transcript_frames(segments: pd.DataFrame, lexicon: Mapping | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """transcript_tables before conform: the same rows and values, Python str or None in the text columns."""
    assert_no_prohibited_features(segments.columns)
    lexicon = load_lexicon() if lexicon is None else lexicon
    segs = segments.copy()
    segs["interview_id"] = segs["interview_id"].astype(str)
    # Keywords are matched once: the evidence rows, and the per-interview counts as their tallies.
    evidence = keyword_evidence_rows(segs, lexicon)
    segment_rows = evidence.pop("segment_row").to_numpy()
    features = transcript_features(segs, lexicon, evidence)
    keys = segs.drop_duplicates("interview_id").set_index("interview_id")["candidate_key"]
    features["candidate_key"] = features["interview_id"].map(keys)
    features = features.rename(
        columns={
            "candidate_word_count": "words",
            "candidate_speaking_s": "speaking_seconds",
            "speaking_rate_wpm": "words_per_minute",
        }
    )
    assert_no_prohibited_features(features.columns)

    evidence = evidence.rename(columns={"competency": "competency_code"})
    if len(evidence):
        evidence["snippet"] = _snippets(segs["text"].to_numpy(dtype=object), segment_rows, evidence["keyword"])
        evidence["candidate_key"] = evidence["interview_id"].map(keys)
    return features, evidence


def _pct_within(values: pd.Series, groups: pd.Series) -> pd.Series:
    return values.groupby(groups).rank(pct=True, method="average")


def resume_tables(
    resumes: pd.DataFrame,
    applicants: pd.DataFrame,
    lexicon: Mapping | None = None,
    high: float = 0.75,
    low: float = 0.25,
) -> pd.DataFrame:
    """ml.resume_features: parsed education, years, skills and job match, and the resume-interview mismatch flag.

    resumes: resume_id, candidate_key, text (analysable candidates only). Each resume is read against the job
    family of the candidate's latest completed interview. resume_strength is the mean within-family percentile of
    skills claimed, years claimed and job match (where the family has a skill list); the mismatch flag marks a
    resume in its family's top quarter whose interview composite sits in the bottom quarter.
    """
    assert_no_prohibited_features(resumes.columns)
    lexicon = load_lexicon() if lexicon is None else lexicon
    parsed = parse_resume_texts(resumes["text"].tolist(), lexicon)
    return resume_tables_from_parsed(resumes[["resume_id", "candidate_key"]], parsed, applicants, lexicon, high, low)


def resume_tables_from_parsed(
    resumes: pd.DataFrame,
    parsed: pd.DataFrame,
    applicants: pd.DataFrame,
    lexicon: Mapping,
    high: float = 0.75,
    low: float = 0.25,
) -> pd.DataFrame:
    """resume_tables from resumes already parsed: resumes (resume_id, candidate_key) and parsed
    (parse_resume_texts of their texts, row for row). Everything read against the job family or ranked within
    it is computed here, for every resume, on every run: it changes when others' resumes or interviews do."""
    assert_no_prohibited_features(resumes.columns)
    latest = (
        applicants.sort_values("started_at", kind="stable")
        .drop_duplicates("candidate_key", keep="last")
        .set_index("candidate_key")
    )
    df = resumes[["resume_id", "candidate_key"]].reset_index(drop=True)
    df["job_family"] = df["candidate_key"].map(latest["job_family"]).astype(object)
    df["job_family"] = df["job_family"].where(df["job_family"].notna(), None)
    df["interview_composite"] = pd.to_numeric(df["candidate_key"].map(latest["composite_score"]), errors="coerce")
    parsed = parsed.reset_index(drop=True)
    fit = resume_job_fit(parsed["skills"], parsed["blank"], df["job_family"].tolist(), lexicon)
    out = pd.concat([df, parsed[[c for c in RESUME_PARSE_COLUMNS if c != "blank"]], fit], axis=1)
    family = out["job_family"].fillna("")
    parts = [
        _pct_within(out["n_skills"].astype(float), family),
        _pct_within(out["years_experience"].astype(float), family),
        _pct_within(out["resume_job_match"].astype(float), family),
    ]
    out["resume_strength"] = pd.concat(parts, axis=1).mean(axis=1, skipna=True)
    out["resume_pct"] = np.nan
    out["interview_pct"] = np.nan
    out["resume_interview_mismatch"] = False
    for _, g in out[out["job_family"].notna()].groupby("job_family"):
        cons = resume_interview_consistency(g, "resume_strength", "interview_composite", high, low)
        out.loc[cons.index, "resume_pct"] = cons["resume_pct"]
        out.loc[cons.index, "interview_pct"] = cons["interview_pct"]
        out.loc[cons.index, "resume_interview_mismatch"] = cons["flag_resume_high_interview_low"].astype(bool)
    out["skills"] = out["skills"].map(lambda s: ", ".join(s) if isinstance(s, list) else None)
    assert_no_prohibited_features(out.columns)
    return conform(out, "resume_features")


# ------------------------------------------------------------------------------------------------------ loading

HIRES_SQL = """
    select hires.*, candidates.gender, candidates.ethnicity
    from marts.hires as hires
    inner join marts.candidates as candidates on hires.candidate_key = candidates.candidate_key
    order by hires.employee_key
"""

APPLICANTS_SQL = """
    with ranked as (
        select
            interviews.*,
            row_number() over (
                partition by interviews.candidate_key, interviews.job_family
                order by interviews.started_at desc, interviews.interview_id desc
            ) as pool_rank
        from marts.interviews as interviews
        where interviews.is_completed and interviews.composite_score is not null
    ),
    hired as (
        select distinct candidate_key, job_family from marts.hires where candidate_key is not null
    )
    select
        ranked.* exclude (pool_rank),
        candidates.gender,
        candidates.ethnicity,
        hired.candidate_key is not null as hired
    from ranked
    inner join marts.candidates as candidates on ranked.candidate_key = candidates.candidate_key
    left join hired on ranked.candidate_key = hired.candidate_key and ranked.job_family = hired.job_family
    where ranked.pool_rank = 1
    order by ranked.job_family, ranked.candidate_key
"""

# The analysable transcripts: candidates with recording consent and no recording erasure. The segments, their
# per-interview fingerprints and the batches share this clause, so all three see the same interviews.
_SEGMENTS_FROM = """
    from staging.stg_interview_vendor__transcript_segments as segments
    inner join marts.interviews as interviews on segments.interview_id = interviews.interview_id
    inner join marts.candidates as candidates on interviews.candidate_key = candidates.candidate_key
    where candidates.consent_recording and not candidates.is_recording_erased
"""
_SEGMENT_COLUMNS = """
        segments.interview_id,
        interviews.candidate_key,
        segments.segment_no,
        segments.question_id,
        segments.speaker,
        segments.start_seconds as start_s,
        segments.end_seconds as end_s,
        segments.segment_text as text,
        segments.language
"""
SEGMENTS_SQL = f"select {_SEGMENT_COLUMNS} {_SEGMENTS_FROM} order by segments.interview_id, segments.segment_no"
# One batch of interviews. A filter on the staging view's key reaches the raw scan (DuckDB pushes it below the
# view's row_number() window), so a batch reads its own rows: ~0.3 s for 2,000 interviews at 100k candidates,
# where reading every segment takes 4 s.
SEGMENT_BATCH_SQL = (
    f"select {_SEGMENT_COLUMNS} {_SEGMENTS_FROM} and segments.interview_id in ? "
    "order by segments.interview_id, segments.segment_no"
)
# What each interview's features depend on: its candidate and its segments. Raw data is append-only and the
# staging view keeps the latest version of each segment, so a segment added, re-delivered (a later landing day or
# load) or erased changes the count or the sum of the versions' hashes. Only keys and load times are read: the
# view's row_number() window then sorts no text (at 100k candidates 1.7 s and ~200 MB instead of 2.6 s and
# ~500 MB for a hash of every column).
INTERVIEW_FINGERPRINTS_SQL = f"""
    select
        segments.interview_id as document_id,
        min(interviews.candidate_key) as candidate_key,
        cast(count(*) as varchar) || ':'
            || cast(sum(hash(segments.segment_no, segments.landed_on, segments.loaded_at)::hugeint) as varchar)
            as fingerprint
    {_SEGMENTS_FROM}
    group by segments.interview_id
    order by document_id
"""

_RESUMES_FROM = """
    from staging.stg_ats__resumes as resumes
    inner join marts.candidates as candidates on resumes.candidate_key = candidates.candidate_key
"""
_RESUME_COLUMNS = "resumes.resume_id, resumes.candidate_key, resumes.received_at, resumes.resume_text as text"
RESUMES_SQL = f"select {_RESUME_COLUMNS} {_RESUMES_FROM} order by resumes.resume_id"
RESUME_BATCH_SQL = f"select {_RESUME_COLUMNS} {_RESUMES_FROM} where resumes.resume_id in ? order by resumes.resume_id"
# A resume's parsed fields depend on its text only, which changes only with a new version (landing day, load).
RESUME_FINGERPRINTS_SQL = f"""
    select
        resumes.resume_id as document_id,
        resumes.candidate_key,
        cast(hash(resumes.landed_on, resumes.loaded_at) as varchar) as fingerprint
    {_RESUMES_FROM}
    order by document_id
"""


def load_hires(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """marts.hires of analysable candidates, with gender and ethnicity."""
    return con.execute(HIRES_SQL).df()


def load_applicants(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per candidate x job family: the latest completed, scored interview, with `hired`."""
    return con.execute(APPLICANTS_SQL).df()


def load_job_families(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("select * from marts.job_families order by job_family").df()


def load_segments(con: duckdb.DuckDBPyConnection, interview_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Transcript segments of analysable candidates with recording consent and no recording erasure (of the given
    interviews only, if given)."""
    if interview_ids is None:
        return con.execute(SEGMENTS_SQL).df()
    return con.execute(SEGMENT_BATCH_SQL, [list(interview_ids)]).df()


def load_resumes(con: duckdb.DuckDBPyConnection, resume_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Resume text of analysable candidates (read here, never written out); of the given resumes only, if given."""
    if resume_ids is None:
        return con.execute(RESUMES_SQL).df()
    return con.execute(RESUME_BATCH_SQL, [list(resume_ids)]).df()


def load_ml_table(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """An ml.<name> output table, or an empty frame when it has not been built."""
    try:
        return con.execute(f"select * from ml.{name}").df()
    except duckdb.CatalogException:
        return pd.DataFrame()


def recommendation_version(run_id: str, fitted_at: dt.datetime | None = None) -> str:
    """The version in recommendation ids: fit time and run, so one run's recommendations share it."""
    fitted_at = fitted_at or dt.datetime.now(dt.UTC)
    return f"weights-{fitted_at:%Y%m%dT%H%M%S}-{run_id[:8]}"


# ------------------------------------------------------------------------------------------ incremental text

# Interviews per batch: ~50 segments each, so ~100k segments and ~100 MB of frames per batch, however long the
# history is. Resumes are ~1 kB each.
TEXT_BATCH_INTERVIEWS = 2_000
RESUME_BATCH = 10_000
# One row per analysed document: what its stored rows were computed from. Written with the three tables.
TEXT_STATE = "text_feature_inputs"
# Bump when a change to the text rules (ml/text_features.py, the snippet) changes any output for unchanged
# input, so that stored rows computed by the older rules are recomputed instead of reused.
TEXT_RULES_VERSION = "1"
INTERVIEW_TABLES: tuple[str, ...] = ("transcript_features", "keyword_evidence")
RESUME_TABLES: tuple[str, ...] = ("resume_features",)
_STATE_COLUMNS = ["document_id", "candidate_key", "fingerprint"]
_SEGMENT_FRAME_COLUMNS = [
    "interview_id",
    "candidate_key",
    "segment_no",
    "question_id",
    "speaker",
    "start_s",
    "end_s",
    "text",
    "language",
]


class TextRefresh(NamedTuple):
    """What refresh_text_tables wrote: each table's version and row count, and the run's metrics."""

    versions: dict[str, str]
    rows: dict[str, int]
    metrics: dict


def text_rules_digest(lexicon: Mapping) -> str:
    """A digest of everything besides a document's own text that its stored rows depend on."""
    payload = {"lexicon": lexicon, "rules": TEXT_RULES_VERSION, "snippet_chars": SNIPPET_CHARS}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _outputs_key(versions: Mapping[str, str | None], tables: Sequence[str]) -> str:
    return json.dumps({t: versions.get(t) for t in tables}, sort_keys=True)


def previous_text_state(con: duckdb.DuckDBPyConnection, kind: str, digest: str) -> pd.DataFrame:
    """document_id, candidate_key, fingerprint of the `kind` documents ('interview' or 'resume') whose rows in the
    ml tables were computed under these rules; empty when nothing can be reused."""
    tables = INTERVIEW_TABLES if kind == "interview" else RESUME_TABLES
    empty = pd.DataFrame(columns=_STATE_COLUMNS)
    if not _ml_exists(con, TEXT_STATE, "model_runs"):
        return empty
    state = con.execute(
        f"select document_id, candidate_key, fingerprint, rules, outputs from ml.{TEXT_STATE} where document_kind = ?",
        [kind],
    ).df()
    latest = con.execute(
        "select model, arg_max(model_version, fitted_at) from ml.model_runs where model in ? group by model",
        [list(tables)],
    ).fetchall()
    # Valid only with the tables it was written with: the versions it names must be the latest registered ones
    # (a table rewritten any other way since then makes every document new again).
    current = _outputs_key(dict(latest), tables)
    if state.empty or set(state["rules"]) != {digest} or set(state["outputs"]) != {current}:
        return empty
    return state[_STATE_COLUMNS]


def _unchanged(current: pd.DataFrame, previous: pd.DataFrame) -> list[str]:
    """document_id of the current documents whose fingerprint and candidate are as before."""
    if previous.empty:
        return []
    same = current[_STATE_COLUMNS].merge(previous.astype(object), on=_STATE_COLUMNS, how="inner")
    return same["document_id"].astype(str).tolist()


def _batches(ids: Sequence[str], size: int):
    for start in range(0, len(ids), max(1, size)):
        yield list(ids[start : start + size])


def _ml_exists(con: duckdb.DuckDBPyConnection, *names: str) -> bool:
    """Whether every ml.<name> table exists in the connection's database."""
    # Asked of the catalog, not by querying and catching the error: for a missing table DuckDB first tries a
    # Python variable of that name (a replacement scan), and this module has functions named like its tables.
    found = con.execute(
        "select count(distinct table_name) from duckdb_tables() "
        "where database_name = current_database() and schema_name = 'ml' and table_name in ?",
        [list(names)],
    ).fetchall()[0][0]
    return found == len(set(names))


def _ml_rows(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> pd.DataFrame:
    """The result of a query on ml.<table>, or an empty frame when the table does not exist yet."""
    return con.execute(sql).df() if _ml_exists(con, table) else pd.DataFrame()


def _keep_ids(con: duckdb.DuckDBPyConnection, name: str, ids: Sequence[str]) -> None:
    """A temporary one-column table of document ids, for semi-joins against the ml tables."""
    con.execute(f"create or replace temp table {name} (document_id varchar)")
    if len(ids):
        con.register("_text_ids", pd.DataFrame({"document_id": pd.Series(list(ids), dtype=object)}))
        con.execute(f"insert into {name} select document_id from _text_ids")
        con.unregister("_text_ids")


def _refresh_transcripts(
    con: duckdb.DuckDBPyConnection,
    lexicon: Mapping,
    interviews: pd.DataFrame,
    previous: pd.DataFrame,
    batch_size: int,
) -> tuple[pd.DataFrame, str, int]:
    """ml.transcript_features as a frame, the query that yields ml.keyword_evidence, and the number of
    interviews computed. Kept rows come from the current ml tables; new evidence goes to a temporary table a batch
    at a time, so that neither the segments nor the evidence of the whole history is ever held in memory."""
    _keep_ids(con, "_text_kept_interviews", _unchanged(interviews, previous))
    kept_features = _ml_rows(
        con,
        "transcript_features",
        "select * exclude (model_version, fitted_at) from ml.transcript_features "
        "where interview_id in (select document_id from _text_kept_interviews)",
    )
    kept = set(kept_features["interview_id"]) if len(kept_features) else set()
    # Only interviews whose feature row was found count as kept (their evidence may rightly be empty).
    _keep_ids(con, "_text_kept_interviews", sorted(kept))
    todo = [i for i in interviews["document_id"] if i not in kept]

    evidence_columns = conform(pd.DataFrame(), "keyword_evidence")
    con.register("_text_batch", evidence_columns)
    con.execute("create or replace temp table _text_new_evidence as select * from _text_batch")
    con.unregister("_text_batch")
    frames = [kept_features] if len(kept_features) else []
    for ids in _batches(todo, batch_size):
        new_features, new_evidence = _transcript_frames(load_segments(con, ids), lexicon)
        frames.append(new_features)
        if len(new_evidence):
            # Not conformed here: at ~10 rows an interview, conform's per-value loop would cost more than finding
            # the keywords. The text columns hold str or None (from the warehouse, or made here), which DuckDB
            # stores as conform would; the numbers get their contract types first.
            new_evidence = new_evidence.astype({"segment_no": "Int64", "start_s": "float64"})
            con.register("_text_batch", new_evidence)
            con.execute("insert into _text_new_evidence by name select * from _text_batch")
            con.unregister("_text_batch")
    if frames:
        features = pd.concat(frames, ignore_index=True).sort_values("interview_id", kind="stable")
        features = conform(features, "transcript_features")
    else:
        features = transcript_tables(pd.DataFrame(columns=_SEGMENT_FRAME_COLUMNS), lexicon)["transcript_features"]

    cols = ", ".join(f'"{c}"' for c in evidence_columns.columns)
    kept_evidence = (
        f"select {cols} from ml.keyword_evidence "
        "where interview_id in (select document_id from _text_kept_interviews) union all "
        if kept and _ml_exists(con, "keyword_evidence")
        else ""
    )
    evidence = (
        f"select * from ({kept_evidence}select {cols} from _text_new_evidence) "
        "order by interview_id, segment_no, competency_code, keyword"
    )
    return features, evidence, len(todo)


def _parsed_from_output(rows: pd.DataFrame) -> pd.DataFrame:
    """parse_resume_texts columns recovered from ml.resume_features rows, indexed by resume_id."""
    return pd.DataFrame(
        {
            "education_level": rows["education_level"].astype(object).to_numpy(),
            "education_rank": rows["education_rank"].astype(np.int64).to_numpy(),
            "years_experience": rows["years_experience"].astype(float).to_numpy(),
            "skills": [s.split(", ") if isinstance(s, str) and s else [] for s in rows["skills"]],
            "n_skills": rows["n_skills"].astype(np.int64).to_numpy(),
            # resume_job_fit puts "empty resume text" first in the reason exactly when the text is blank.
            "blank": rows["reason"].fillna("").astype(str).str.startswith("empty resume text").to_numpy(dtype=bool),
        },
        index=pd.Index(rows["resume_id"].astype(str), name="resume_id"),
        columns=RESUME_PARSE_COLUMNS,
    )


def _refresh_resumes(
    con: duckdb.DuckDBPyConnection,
    lexicon: Mapping,
    resumes: pd.DataFrame,
    previous: pd.DataFrame,
    batch_size: int,
    applicants: pd.DataFrame,
    high: float,
    low: float,
) -> tuple[pd.DataFrame, int]:
    """ml.resume_features, and the number of resumes parsed: unchanged resumes keep their parsed fields, the rest
    are parsed a batch at a time; family fit, ranks and the mismatch flag are computed for all."""
    _keep_ids(con, "_text_kept_resumes", _unchanged(resumes, previous))
    kept = _ml_rows(
        con,
        "resume_features",
        "select resume_id, education_level, education_rank, years_experience, skills, n_skills, reason "
        "from ml.resume_features where resume_id in (select document_id from _text_kept_resumes)",
    )
    parsed = [_parsed_from_output(kept)] if len(kept) else []
    reused = set(parsed[0].index) if parsed else set()
    todo = [r for r in resumes["document_id"] if r not in reused]
    for ids in _batches(todo, batch_size):
        batch = load_resumes(con, ids)
        index = pd.Index(batch["resume_id"].astype(str), name="resume_id")
        parsed.append(parse_resume_texts(batch["text"].tolist(), lexicon).set_axis(index))
    parsed_all = pd.concat(parsed) if parsed else pd.DataFrame(columns=RESUME_PARSE_COLUMNS)
    docs = resumes[resumes["document_id"].isin(parsed_all.index)]
    table = resume_tables_from_parsed(
        docs.rename(columns={"document_id": "resume_id"})[["resume_id", "candidate_key"]],
        parsed_all.loc[docs["document_id"]].reset_index(drop=True),
        applicants,
        lexicon,
        high,
        low,
    )
    return table, len(todo)


def _state_rows(kind: str, documents: pd.DataFrame, digest: str, versions: Mapping[str, str]) -> pd.DataFrame:
    tables = INTERVIEW_TABLES if kind == "interview" else RESUME_TABLES
    return pd.DataFrame(
        {
            "document_kind": kind,
            **{c: documents[c].astype(object).to_numpy() for c in _STATE_COLUMNS},
            "rules": digest,
            "outputs": _outputs_key(versions, tables),
        },
        index=range(len(documents)),
    )


def _write_text_outputs(
    con: duckdb.DuckDBPyConnection,
    sources: Mapping[str, pd.DataFrame | str],
    state: pd.DataFrame,
    versions: Mapping[str, str],
    fitted_at: dt.datetime,
    run_id: str,
    parameters: Mapping,
    metrics: dict,
) -> dict[str, int]:
    """write_model_output for each table (ml.<name>, its history, a registry row; same versions and columns),
    from a frame or a query, and ml.text_feature_inputs, all in one transaction; returns the row counts."""
    # The evidence of every interview is ~10 rows each: at a million candidates it is too big to pass through
    # pandas, so it is written by a query over the kept and the new rows instead of write_model_output's frame.
    con.execute("create schema if not exists ml")
    con.execute(REGISTRY_DDL)
    snapshot = data_snapshot(con)  # outside the transaction: a failed lookup must not abort the write
    frames = {name: src for name, src in sources.items() if isinstance(src, pd.DataFrame)}
    for name, frame in frames.items():
        con.register(f"_text_out_{name}", frame)
    con.register("_text_state", state)
    rows: dict[str, int] = {}
    try:
        con.execute("begin transaction")
        for name, src in sources.items():
            select = f"select * from _text_out_{name}" if name in frames else src
            con.execute(
                f"create or replace table ml.{name} as "
                f"select *, ?::varchar as model_version, ?::timestamp as fitted_at from ({select})",
                [versions[name], fitted_at],
            )
            _type_null_columns(con, f"ml.{name}")
            rows[name] = con.execute(f"select count(*) from ml.{name}").fetchall()[0][0]
        metrics.update(
            interviews=rows["transcript_features"],
            keyword_hits=rows["keyword_evidence"],
            resumes=rows["resume_features"],
        )
        for name in sources:
            record_fit(con, name, versions[name], run_id, fitted_at, rows[name], parameters, metrics, snapshot)
        con.execute(f"create or replace table ml.{TEXT_STATE} as select * from _text_state")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        for name in frames:
            con.unregister(f"_text_out_{name}")
        con.unregister("_text_state")
    return rows


def refresh_text_tables(
    con: duckdb.DuckDBPyConnection,
    lexicon: Mapping | None = None,
    run_id: str = "manual",
    parameters: Mapping | None = None,
    high: float = 0.75,
    low: float = 0.25,
    applicants: pd.DataFrame | None = None,
    batch_interviews: int = TEXT_BATCH_INTERVIEWS,
    batch_resumes: int = RESUME_BATCH,
    full_refresh: bool = False,
) -> TextRefresh:
    """Write ml.transcript_features, ml.keyword_evidence and ml.resume_features, computing text features only for
    the interviews and resumes that are new or changed since the last run.

    An interview's features and evidence and a resume's parsed fields depend on that document's text only: they
    are kept from the last run when the document's fingerprint (INTERVIEW_/RESUME_FINGERPRINTS_SQL) and the rules
    (text_rules_digest) are unchanged, computed in batches otherwise, and dropped with documents that are no
    longer analysable. What is read against the job family or ranked within it is computed for every resume. The
    tables equal those of a from-scratch run (the first run, or full_refresh=True). The three tables, their
    history and registry rows and ml.text_feature_inputs are written in one transaction.
    """
    lexicon = load_lexicon() if lexicon is None else lexicon
    digest = text_rules_digest(lexicon)
    applicants = load_applicants(con) if applicants is None else applicants
    interviews = con.execute(INTERVIEW_FINGERPRINTS_SQL).df()
    resumes = con.execute(RESUME_FINGERPRINTS_SQL).df()
    none = pd.DataFrame(columns=_STATE_COLUMNS)
    try:
        features, evidence, n_interviews = _refresh_transcripts(
            con,
            lexicon,
            interviews,
            none if full_refresh else previous_text_state(con, "interview", digest),
            batch_interviews,
        )
        resume_table, n_resumes = _refresh_resumes(
            con,
            lexicon,
            resumes,
            none if full_refresh else previous_text_state(con, "resume", digest),
            batch_resumes,
            applicants,
            high,
            low,
        )
        fitted_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        versions = {t: f"{t}-{fitted_at:%Y%m%dT%H%M%S}-{run_id[:8]}" for t in (*INTERVIEW_TABLES, *RESUME_TABLES)}
        state = pd.concat(
            [
                _state_rows(
                    "interview", interviews[interviews["document_id"].isin(features["interview_id"])], digest, versions
                ),
                _state_rows(
                    "resume", resumes[resumes["document_id"].isin(resume_table["resume_id"])], digest, versions
                ),
            ],
            ignore_index=True,
        )
        metrics = {
            "resume_interview_mismatches": int(resume_table["resume_interview_mismatch"].sum()),
            "interviews_computed": n_interviews,
            "resumes_parsed": n_resumes,
        }
        rows = _write_text_outputs(
            con,
            {"transcript_features": features, "keyword_evidence": evidence, "resume_features": resume_table},
            state,
            versions,
            fitted_at,
            run_id,
            parameters or {},
            metrics,
        )
    finally:
        for name in ("_text_kept_interviews", "_text_kept_resumes", "_text_new_evidence"):
            con.execute(f"drop table if exists temp.{name}")
    return TextRefresh(versions, rows, metrics)
