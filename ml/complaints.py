"""Complaint counts: Poisson GLM with a log-exposure offset, negative binomial when overdispersed; rate ratios."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial

from ml.prohibited import assert_no_prohibited_features
from ml.regression import design_matrix

# Pearson chi2/df of a correct Poisson model is 1 with SD about sqrt(2/df) (~.08 at df = 300); 1.25 is beyond
# sampling noise for any realistic job family, and at that ratio Poisson SEs are already ~12% too small.
DEFAULT_DISPERSION_THRESHOLD = 1.25
_IRR_COLS = ["term", "coef", "se", "rate_ratio", "ci_low", "ci_high", "p_value"]


@dataclass
class CountModelResult:
    """Chosen model ('poisson' or 'negative_binomial'), rate ratios and the overdispersion evidence."""

    status: str
    model: str | None
    rate_ratios: pd.DataFrame
    n: int
    n_dropped: int
    dispersion: float = float("nan")
    alpha: float = float("nan")
    alpha_lr_p: float = float("nan")
    poisson_aic: float = float("nan")
    nb_aic: float = float("nan")
    reason: str | None = None
    notes: list[str] = field(default_factory=list)


def _ratio_table(params: pd.Series, bse: pd.Series, pvalues: pd.Series, ci: pd.DataFrame) -> pd.DataFrame:
    keep = [t for t in params.index if t != "alpha"]
    return pd.DataFrame(
        {
            "term": keep,
            "coef": params[keep].to_numpy(),
            "se": bse[keep].to_numpy(),
            "rate_ratio": np.exp(params[keep].to_numpy()),
            "ci_low": np.exp(ci.loc[keep].iloc[:, 0].to_numpy()),
            "ci_high": np.exp(ci.loc[keep].iloc[:, 1].to_numpy()),
            "p_value": pvalues[keep].to_numpy(),
        }
    )


def fit_complaint_model(
    df: pd.DataFrame,
    count_col: str = "n_complaints",
    exposure_col: str | None = "exposure_days",
    covariates: Sequence[str] = (),
    categorical: Sequence[str] = (),
    dispersion_threshold: float = DEFAULT_DISPERSION_THRESHOLD,
    level: float = 0.95,
) -> CountModelResult:
    """Fit complaints ~ covariates with offset log(exposure); switch to NB2 when Pearson chi2/df > threshold.

    Input: one row per employee with count_col (non-negative integer), exposure_col (time at risk, e.g. days
    employed in a customer-facing role; None means equal exposure) and the covariates. Rows with missing values
    or non-positive exposure are dropped and counted in n_dropped. Rate ratios are exp(coef); the 'const' row is
    the baseline rate per one unit of exposure. The negative binomial (statsmodels NegativeBinomial, NB2,
    alpha by maximum likelihood) is always fitted when possible so its AIC and the likelihood-ratio p-value for
    alpha = 0 (boundary-corrected, halved) are reported beside the choice.
    """
    assert_no_prohibited_features(covariates)
    X = design_matrix(df, covariates, categorical)
    y = pd.to_numeric(df[count_col], errors="coerce")
    exposure = (
        pd.to_numeric(df[exposure_col], errors="coerce") if exposure_col is not None else pd.Series(1.0, index=df.index)
    )
    keep = X.notna().all(axis=1) & y.notna() & (y >= 0) & exposure.gt(0)
    n_dropped = int((~keep).sum())
    X, y, exposure = X[keep], y[keep].astype(float), exposure[keep].astype(float)
    n, k = X.shape
    empty = pd.DataFrame(columns=_IRR_COLS)
    if n <= k:
        return CountModelResult("not_fitted", None, empty, n, n_dropped, reason=f"{n} complete rows for {k} terms")
    if y.sum() == 0:
        return CountModelResult("not_fitted", None, empty, n, n_dropped, reason="no complaints recorded")
    if np.linalg.matrix_rank(X.to_numpy()) < k:
        return CountModelResult("not_fitted", None, empty, n, n_dropped, reason="covariates collinear or constant")

    offset = np.log(exposure.to_numpy())
    poisson = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
    dispersion = float(poisson.pearson_chi2 / poisson.df_resid)
    notes = []
    nb = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = NegativeBinomial(y, X, loglike_method="nb2", offset=offset).fit(disp=0, maxiter=200)
        if not nb.mle_retvals.get("converged", True):
            notes.append("negative binomial fit did not converge")
            nb = None
    except (np.linalg.LinAlgError, ValueError) as exc:
        notes.append(f"negative binomial fit failed: {exc}")
    alpha = alpha_lr_p = nb_aic = np.nan
    if nb is not None:
        alpha = float(nb.params["alpha"])
        nb_aic = float(nb.aic)
        lr = max(0.0, 2 * (nb.llf - poisson.llf))
        # alpha = 0 lies on the boundary of its space, so the LR statistic is a 50:50 mix of chi2(0) and chi2(1).
        alpha_lr_p = float(0.5 * stats.chi2.sf(lr, 1))

    use_nb = dispersion > dispersion_threshold and nb is not None
    if dispersion > dispersion_threshold and nb is None:
        notes.append("overdispersed but the negative binomial failed; Poisson SEs are too small")
    fit = nb if use_nb else poisson
    ci = fit.conf_int(alpha=1 - level)
    table = _ratio_table(fit.params, fit.bse, fit.pvalues, ci)
    return CountModelResult(
        "ok",
        "negative_binomial" if use_nb else "poisson",
        table,
        n,
        n_dropped,
        dispersion,
        alpha,
        alpha_lr_p,
        float(poisson.aic),
        nb_aic,
        None,
        notes,
    )
