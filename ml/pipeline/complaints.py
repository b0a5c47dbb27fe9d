"""ml.complaint_model: complaints against competency scores and the transcript's care mention, per scope."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ml.complaints import DEFAULT_DISPERSION_THRESHOLD, fit_complaint_model
from ml.pipeline.contracts import (
    CARE_COMPETENCY,
    COMPLAINT_NOTE,
    DEFAULT_COMPLAINT_MIN_HIRES,
    DEFAULT_MIN_EVENTS_PER_TERM,
    conform,
)
from ml.pipeline.frames import _scores, _standardise, prepare_hires
from ml.pipeline.turnover import _scopes, _too_few_events


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
