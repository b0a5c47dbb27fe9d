"""ml.turnover_km and ml.turnover_cox: Kaplan-Meier curves by score band and a Cox model of voluntary exit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml.pipeline.contracts import (
    COX_NOTE,
    DEFAULT_HOLDOUT_FRACTION,
    DEFAULT_MIN_EVENTS_PER_TERM,
    DEFAULT_SURVIVAL_MIN_HIRES,
    MIN_HOLDOUT_EVENTS,
    conform,
)
from ml.pipeline.frames import _scores, _standardise, prepare_hires
from ml.survival import exit_durations, fit_cox, heldout_concordance, kaplan_meier_by_band


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
