"""Agreement between the AI rater and the human panel on the same interviews."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def fisher_ci(r: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a Pearson r through Fisher's z; NaN below 4 pairs."""
    if n < 4 or not np.isfinite(r) or abs(r) >= 1:
        return (float("nan"), float("nan"))
    z = np.arctanh(r)
    half = stats.norm.ppf(0.5 + level / 2) / np.sqrt(n - 3)
    return (float(np.tanh(z - half)), float(np.tanh(z + half)))


def rater_agreement(
    ratings: pd.DataFrame, group_cols: tuple[str, ...] = ("job_family", "competency_code")
) -> pd.DataFrame:
    """Pearson r between the AI score and the mean human score per interview, by group.

    Input columns: interview_id, rater_type (ai/human), competency_code, job_family, score_normalised.
    """
    cols = [*group_cols, "r", "ci_low", "ci_high", "n_interviews", "mean_ai", "mean_human"]
    if ratings.empty:
        return pd.DataFrame(columns=cols)
    keys = ["interview_id", *group_cols]
    wide = (
        ratings.groupby([*keys, "rater_type"], dropna=False)["score_normalised"]
        .mean()
        .unstack("rater_type")
        .reindex(columns=["ai", "human"])
        .dropna()
        .reset_index()
    )
    rows = []
    for group, part in wide.groupby(list(group_cols), dropna=False):
        n = len(part)
        r = (
            float(np.corrcoef(part["ai"], part["human"])[0, 1])
            if n >= 3 and part["ai"].std() > 0 and part["human"].std() > 0
            else float("nan")
        )
        lo, hi = fisher_ci(r, n)
        rows.append([*group, r, lo, hi, n, float(part["ai"].mean()), float(part["human"].mean())])
    return pd.DataFrame(rows, columns=cols)
