"""The fairness audit's export: selection and scoring rates with impact ratios, in the shape published bias audits
use (one row per category: applicants, selected, rate, impact ratio), with the scope and period it covers."""

from __future__ import annotations

import datetime as dt

import pandas as pd

DIMENSION_TITLES = {"sex": "Sex", "ethnicity": "Race/Ethnicity", "sex × ethnicity": "Intersectional"}


def summary(
    selection: pd.DataFrame,
    scoring: pd.DataFrame | None,
    *,
    job_family: str,
    stage: str,
    period_start: dt.date | None,
    period_end: dt.date,
    scope: str,
) -> pd.DataFrame:
    """Rows of the audit summary; a group of fewer than five people reads "<5" in every count and rate."""
    rows = []
    for r in selection.itertuples():
        small = bool(r.is_suppressed)
        rows.append(
            {
                "metric": "selection",
                "category_type": DIMENSION_TITLES.get(r.dimension, r.dimension),
                "category": r.group_label,
                "n_applicants": "<5" if small else r.n,
                "n_selected": "<5" if small else r.n_passed,
                "selection_rate": "<5" if small else r.selection_rate,
                "impact_ratio": "<5" if small else r.impact_ratio,
                "below_four_fifths": False if small else bool(r.is_below_four_fifths),
                "reference_group": r.reference_group,
            }
        )
    if scoring is not None:
        for r in scoring.itertuples():
            small = bool(getattr(r, "small_group", False)) or (pd.notna(r.n) and r.n < 5)
            rows.append(
                {
                    "metric": "scoring",
                    "category_type": DIMENSION_TITLES.get(r.dimension, r.dimension),
                    "category": r.group_label,
                    "n_applicants": "<5" if small else r.n,
                    "n_selected": "<5" if small else getattr(r, "n_positive", None),
                    "selection_rate": "<5" if small else r.rate,
                    "impact_ratio": "<5" if small else r.impact_ratio,
                    "below_four_fifths": False if small else bool(getattr(r, "below_four_fifths", False)),
                    "reference_group": getattr(r, "reference_group", None),
                }
            )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out.insert(0, "scope", scope)
    out.insert(1, "job_family", job_family)
    out.insert(2, "stage", stage)
    out.insert(3, "period_start", period_start)
    out.insert(4, "period_end", period_end)
    return out
