"""Ordinary least squares with a tidy coefficient table (statsmodels underneath)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from ml.prohibited import assert_no_prohibited_features


@dataclass
class OLSResult:
    """Coefficients (term, estimate, std_error, t, p_value, ci_low, ci_high) and fit statistics."""

    coefficients: pd.DataFrame
    n: int
    n_dropped: int
    r_squared: float
    adj_r_squared: float
    residual_se: float
    status: str = "ok"
    reason: str | None = None


def design_matrix(
    df: pd.DataFrame, predictors: Sequence[str], categorical: Sequence[str] = (), add_constant: bool = True
) -> pd.DataFrame:
    """Numeric predictors plus treatment-coded categoricals (first level in sorted order is the reference)."""
    numeric = [p for p in predictors if p not in set(categorical)]
    parts = [df[numeric].apply(pd.to_numeric, errors="coerce").astype(float)]
    for col in categorical:
        levels = sorted(df[col].dropna().unique(), key=str)
        cat = pd.Categorical(df[col], categories=levels)
        dummies = pd.get_dummies(cat, prefix=col, prefix_sep="=", drop_first=True, dtype=float)
        dummies.index = df.index
        dummies[df[col].isna()] = np.nan
        parts.append(dummies)
    X = pd.concat(parts, axis=1)
    if add_constant:
        X.insert(0, "const", 1.0)
    return X


def fit_ols(
    df: pd.DataFrame, outcome: str, predictors: Sequence[str], categorical: Sequence[str] = (), level: float = 0.95
) -> OLSResult:
    """Fit outcome ~ predictors by OLS on complete cases; returns an OLSResult."""
    assert_no_prohibited_features(predictors)
    X = design_matrix(df, predictors, categorical)
    y = pd.to_numeric(df[outcome], errors="coerce")
    keep = X.notna().all(axis=1) & y.notna()
    X, y = X[keep], y[keep]
    n, k = X.shape
    empty = pd.DataFrame(columns=["term", "estimate", "std_error", "t", "p_value", "ci_low", "ci_high"])
    if n <= k:
        return OLSResult(
            empty, n, int((~keep).sum()), np.nan, np.nan, np.nan, "not_fitted", f"{n} complete rows for {k} parameters"
        )
    if np.linalg.matrix_rank(X.to_numpy()) < k:
        return OLSResult(
            empty, n, int((~keep).sum()), np.nan, np.nan, np.nan, "not_fitted", "predictors are collinear or constant"
        )
    fit = sm.OLS(y, X).fit()
    ci = fit.conf_int(alpha=1 - level)
    coefs = pd.DataFrame(
        {
            "term": X.columns,
            "estimate": fit.params.to_numpy(),
            "std_error": fit.bse.to_numpy(),
            "t": fit.tvalues.to_numpy(),
            "p_value": fit.pvalues.to_numpy(),
            "ci_low": ci[0].to_numpy(),
            "ci_high": ci[1].to_numpy(),
        }
    )
    return OLSResult(
        coefs, n, int((~keep).sum()), float(fit.rsquared), float(fit.rsquared_adj), float(np.sqrt(fit.scale))
    )
