"""Turnover: Kaplan-Meier retention by score band and Cox proportional hazards for voluntary exit.

Voluntary exit is the event. An involuntary exit (dismissal, redundancy) is censored at its date: from then on
the person can no longer quit, and treating a dismissal as a quit would credit interview scores with predicting
the employer's decision. This is the cause-specific hazard of voluntary exit; it assumes the two kinds of exit are
independent given the covariates, and it must not be turned into "probability of quitting by t" without a
competing-risks (cumulative incidence) estimator.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import proportional_hazard_test
from lifelines.utils import concordance_index

from ml.prohibited import assert_no_prohibited_features
from ml.regression import design_matrix


def exit_durations(
    hires: pd.DataFrame,
    as_of,
    hire_date_col: str = "hire_date",
    termination_date_col: str = "termination_date",
    termination_type_col: str = "termination_type",
    voluntary_value: str = "voluntary",
) -> pd.DataFrame:
    """Add duration_days, event (1 = voluntary exit) and reason to a copy of hires.

    Input columns: hire_date, termination_date (missing while employed), termination_type (voluntary,
    involuntary). Active staff and exits after as_of are censored at as_of; involuntary exits are censored at
    their date; an exit with no type is censored at its date with a reason. A termination before the hire
    date or a missing hire date gives NaN duration and a reason.
    """
    out = hires.copy()
    as_of = pd.Timestamp(as_of)
    start = pd.to_datetime(out[hire_date_col], errors="coerce")
    end = pd.to_datetime(out[termination_date_col], errors="coerce")
    left = end.notna() & (end <= as_of)
    kind = out[termination_type_col].astype("string").str.strip().str.lower()
    stop = end.where(left, as_of)
    duration = (stop - start).dt.days.astype(float)
    out["event"] = (left & (kind == voluntary_value).fillna(False).astype(bool)).astype(int)
    reason = pd.Series(None, index=out.index, dtype=object)
    reason[left & kind.isna()] = "exit type missing; censored at exit date"
    bad = start.isna() | (duration < 0)
    reason[start.isna()] = "hire date missing"
    reason[start.notna() & (duration < 0)] = "termination before hire date"
    out["duration_days"] = duration.mask(bad)
    out.loc[bad, "event"] = 0
    out["reason"] = reason
    return out


def score_bands(scores, labels: Sequence[str] = ("low", "medium", "high")) -> pd.Series:
    """Equal-count bands of a score (quantile cut); missing scores get band 'unknown'."""
    s = pd.to_numeric(pd.Series(scores), errors="coerce")
    bands = pd.qcut(s.rank(method="first"), len(labels), labels=list(labels))
    return bands.astype(object).where(s.notna(), "unknown")


def kaplan_meier_by_band(
    df: pd.DataFrame,
    duration_col: str = "duration_days",
    event_col: str = "event",
    band_col: str = "score_band",
    level: float = 0.95,
) -> pd.DataFrame:
    """Tidy Kaplan-Meier curves per band: band, time, survival, lower, upper, at_risk, events, censored.

    Pointwise CIs are lifelines' exponential Greenwood (log-log) intervals. Rows with a missing duration are
    left out; a missing band is 'unknown'.
    """
    cols = ["band", "time", "survival", "lower", "upper", "at_risk", "events", "censored"]
    data = df[[duration_col, event_col, band_col]].copy()
    data[band_col] = data[band_col].astype(object).where(data[band_col].notna(), "unknown")
    data = data[pd.to_numeric(data[duration_col], errors="coerce").notna()]
    frames = []
    for band, g in data.groupby(band_col, sort=True):
        kmf = KaplanMeierFitter(alpha=1 - level)
        kmf.fit(g[duration_col].astype(float), g[event_col].astype(int), label="s")
        table = kmf.event_table
        ci = kmf.confidence_interval_survival_function_
        frames.append(
            pd.DataFrame(
                {
                    "band": band,
                    "time": kmf.survival_function_.index.to_numpy(dtype=float),
                    "survival": kmf.survival_function_["s"].to_numpy(),
                    "lower": ci.iloc[:, 0].to_numpy(),
                    "upper": ci.iloc[:, 1].to_numpy(),
                    "at_risk": table["at_risk"].to_numpy(dtype=int),
                    "events": table["observed"].to_numpy(dtype=int),
                    "censored": table["censored"].to_numpy(dtype=int),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


@dataclass
class CoxResult:
    """Cox fit: hazard ratios with CIs, Schoenfeld-residual PH test, training concordance."""

    status: str
    n: int
    n_events: int
    hazard_ratios: pd.DataFrame
    ph_test: pd.DataFrame
    concordance_train: float = float("nan")
    reason: str | None = None
    notes: list[str] = field(default_factory=list)
    model: CoxPHFitter | None = None
    columns: list[str] = field(default_factory=list)


_HR_COLS = ["term", "coef", "se", "hazard_ratio", "ci_low", "ci_high", "p_value"]
_PH_COLS = ["term", "test_statistic", "p_value", "violates_ph"]


def cox_design(df: pd.DataFrame, covariates: Sequence[str], categorical: Sequence[str] = ()) -> pd.DataFrame:
    """Numeric covariates plus treatment-coded categoricals, no intercept (the baseline hazard absorbs it)."""
    assert_no_prohibited_features(covariates)
    return design_matrix(df, covariates, categorical, add_constant=False)


def fit_cox(
    df: pd.DataFrame,
    duration_col: str = "duration_days",
    event_col: str = "event",
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
    level: float = 0.95,
    penalizer: float = 0.0,
    ph_alpha: float = 0.05,
) -> CoxResult:
    """Fit a Cox model (lifelines, Efron ties) on complete cases and test proportional hazards.

    Input: one row per hire with duration_col, event_col (1 = event, 0 = censored) and the covariates;
    categorical covariates are treatment-coded with the first sorted level as reference ('col=level' terms).
    Constant columns are dropped with a note. The PH test is lifelines' Schoenfeld-residual test with the rank
    time transform; violates_ph marks p < ph_alpha.
    """
    X = cox_design(df, covariates, categorical)
    data = pd.concat(
        [
            X,
            pd.to_numeric(df[duration_col], errors="coerce").rename("_T"),
            pd.to_numeric(df[event_col], errors="coerce").rename("_E"),
        ],
        axis=1,
    ).dropna()
    notes = []
    constant = [c for c in X.columns if data[c].nunique() < 2]
    if constant:
        notes.append(f"constant columns dropped: {', '.join(constant)}")
        data = data.drop(columns=constant)
    terms = [c for c in data.columns if c not in ("_T", "_E")]
    n, n_events = len(data), int(data["_E"].sum())
    empty = CoxResult(
        "not_fitted", n, n_events, pd.DataFrame(columns=_HR_COLS), pd.DataFrame(columns=_PH_COLS), notes=notes
    )
    if not terms:
        empty.reason = "no covariate with variance"
        return empty
    if n_events < len(terms) + 1:
        empty.reason = f"{n_events} events for {len(terms)} terms"
        return empty
    cph = CoxPHFitter(alpha=1 - level, penalizer=penalizer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cph.fit(data, duration_col="_T", event_col="_E")
    except ConvergenceError as exc:
        empty.reason = f"Cox fit did not converge: {exc}"
        return empty
    s = cph.summary
    hr = pd.DataFrame(
        {
            "term": s.index.to_numpy(),
            "coef": s["coef"].to_numpy(),
            "se": s["se(coef)"].to_numpy(),
            "hazard_ratio": s["exp(coef)"].to_numpy(),
            "ci_low": np.exp(s.filter(like="coef lower").iloc[:, 0].to_numpy()),
            "ci_high": np.exp(s.filter(like="coef upper").iloc[:, 0].to_numpy()),
            "p_value": s["p"].to_numpy(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ph = proportional_hazard_test(cph, data, time_transform="rank").summary
    ph_table = pd.DataFrame(
        {
            "term": ph.index.to_numpy(),
            "test_statistic": ph["test_statistic"].to_numpy(),
            "p_value": ph["p"].to_numpy(),
        }
    )
    ph_table["violates_ph"] = ph_table["p_value"] < ph_alpha
    return CoxResult("ok", n, n_events, hr, ph_table, float(cph.concordance_index_), None, notes, cph, terms)


def heldout_concordance(
    df: pd.DataFrame,
    date_col: str = "hire_date",
    duration_col: str = "duration_days",
    event_col: str = "event",
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
    test_fraction: float = 0.2,
    penalizer: float = 0.0,
) -> dict:
    """Fit on older hires, report Harrell's concordance on the newest test_fraction (split by hire date).

    Returns concordance, n_train, n_test, n_test_events, cutoff (first hire date in the test set), reason.
    """
    dates = pd.to_datetime(df[date_col], errors="coerce")
    out = {"concordance": np.nan, "n_train": 0, "n_test": 0, "n_test_events": 0, "cutoff": None, "reason": None}
    valid = dates.notna()
    if valid.sum() < 10:
        out["reason"] = "fewer than 10 hires with a hire date"
        return out
    cutoff = dates[valid].sort_values(kind="stable").iloc[int(np.floor(valid.sum() * (1 - test_fraction)))]
    # Design on all rows first so categorical levels, and hence columns, agree between train and test.
    X = cox_design(df, covariates, categorical)
    full = pd.concat([X, df[[duration_col, event_col]]], axis=1)
    train, test = full[valid & (dates < cutoff)], full[valid & (dates >= cutoff)]
    fit = fit_cox(train, duration_col, event_col, list(X.columns), (), penalizer=penalizer)
    test = test[[*fit.columns, duration_col, event_col]].dropna() if fit.status == "ok" else test.dropna()
    out.update(n_train=fit.n, n_test=len(test), n_test_events=int(test[event_col].sum()), cutoff=cutoff)
    if fit.status != "ok":
        out["reason"] = f"training fit failed: {fit.reason}"
        return out
    if out["n_test_events"] == 0:
        out["reason"] = "no events among held-out hires"
        return out
    risk = fit.model.predict_partial_hazard(test[fit.columns]).to_numpy()
    # concordance_index expects higher scores for longer survival, so the partial hazard is negated.
    out["concordance"] = float(concordance_index(test[duration_col], -risk, test[event_col]))
    return out
