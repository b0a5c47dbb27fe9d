"""Scorecard weight recommendation: non-negative weights summing to 1, shrunk toward the current weights.

The fit, for one job family:
1. criterion y = sum_k mix_k * z(outcome_k); the sign of mix_k says which direction is good, so
   {"rating_6m": .6, "retained_12m": .3, "complaints_per_1000d": -.1} rewards ratings and retention and
   penalises complaints, with |mix_k| the importance of one SD of that outcome.
2. validity-max direction: NNLS of centred y on the centred competency scores; c = sum of its coefficients
   is the composite's scale, and beta / c is the unpenalised simplex solution.
3. recommended = argmin over the simplex of mean((y - c X w)^2) + lambda * ||w - w_current||^2,
   lambda picked by expanding-window, time-ordered cross-validation (train on older hires, score on newer)
   maximising the mean held-out correlation of composite and criterion.
4. a per-cycle change cap |w - w_current| <= max_change, by exact projection onto the capped simplex.
Competency scores are used as given (they should be standardised, on the scale the composite uses), so the
weights mean exactly what the scorecard composite sum_k w_k * score_k means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize
from sklearn.model_selection import TimeSeriesSplit

from ml.text_features import assert_no_prohibited_features

DEFAULT_LAMBDAS: tuple[float, ...] = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
# Below ~100 hires a validity of .2 has a 95% CI about +-.19 wide: too uncertain to move weights on.
DEFAULT_MIN_HIRES = 100


@dataclass
class WeightRecommendation:
    """Outcome of recommend_weights for one job family; weights is None unless status == 'ok'."""

    status: str
    n_available: int
    n_needed: int
    competencies: list[str]
    weights: pd.DataFrame | None = None
    validity: pd.DataFrame | None = None
    cv: pd.DataFrame | None = None
    lam: float = float("nan")
    holdout_start: object = None
    notes: list[str] = field(default_factory=list)

    def recommended(self) -> dict[str, float] | None:
        """Recommended weights as {competency: weight}, or None when there is no recommendation."""
        if self.weights is None:
            return None
        return dict(zip(self.weights["competency"], self.weights["recommended"].astype(float), strict=True))

    def to_frame(self) -> pd.DataFrame:
        """One row per competency with status and evidence counts (a single status row when gated)."""
        if self.weights is None:
            return pd.DataFrame(
                [
                    {
                        "competency": None,
                        "status": self.status,
                        "n_available": self.n_available,
                        "n_needed": self.n_needed,
                    }
                ]
            )
        out = self.weights.copy()
        out["status"] = self.status
        out["n_available"] = self.n_available
        out["n_needed"] = self.n_needed
        out["lambda"] = self.lam
        return out


def build_criterion(df: pd.DataFrame, outcome_mix: Mapping[str, float]) -> pd.Series:
    """Signed sum of z-scored outcomes; NaN where any outcome in the mix is missing."""
    # z-scores use every hire with complete outcomes: the criterion is a fixed definition of success, and
    # correlations with it do not depend on its location or scale.
    outcomes = list(outcome_mix)
    vals = df[outcomes].apply(pd.to_numeric, errors="coerce").astype(float)
    complete = vals.notna().all(axis=1)
    crit = pd.Series(np.nan, index=df.index)
    if complete.sum() < 2:
        return crit
    total = pd.Series(0.0, index=df.index[complete])
    for col, weight in outcome_mix.items():
        v = vals.loc[complete, col]
        sd = v.std(ddof=1)
        if sd > 0:
            total += float(weight) * (v - v.mean()) / sd
    crit.loc[complete] = total
    return crit


def project_to_capped_simplex(v, lower, upper, tol: float = 1e-12) -> np.ndarray:
    """Euclidean projection of v onto {w : sum(w) = 1, lower <= w <= upper}."""
    v, lower, upper = (np.asarray(a, dtype=float) for a in (v, lower, upper))
    if lower.sum() > 1 + 1e-9 or upper.sum() < 1 - 1e-9:
        raise ValueError("box bounds do not contain any point of the simplex")
    # sum(clip(v - tau, lower, upper)) falls monotonically in tau, so bisection finds the threshold.
    lo, hi = (v - upper).min() - 1.0, (v - lower).max() + 1.0
    for _ in range(200):
        tau = 0.5 * (lo + hi)
        if np.clip(v - tau, lower, upper).sum() > 1:
            lo = tau
        else:
            hi = tau
        if hi - lo < tol:
            break
    return np.clip(v - 0.5 * (lo + hi), lower, upper)


def apply_change_cap(weights, current, max_change: float) -> np.ndarray:
    """Limit every weight to within max_change of its current value, staying on the simplex."""
    current = np.asarray(current, dtype=float)
    lower = np.maximum(0.0, current - max_change)
    upper = np.minimum(1.0, current + max_change)
    return project_to_capped_simplex(weights, lower, upper)


def fit_simplex_weights(X, y, current, lam: float) -> np.ndarray:
    """Simplex weights minimising mean((y - c X w)^2) + lam * ||w - current||^2 (c from the NNLS fit)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w0 = np.asarray(current, dtype=float)
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    beta, _ = optimize.nnls(Xc, yc)
    c = beta.sum()
    if c <= 0:
        # No competency relates positively to the criterion: the data give no direction, keep the current weights.
        return w0.copy()
    if lam == 0:
        return beta / c
    n = len(yc)
    xtx = c * c * (Xc.T @ Xc) / n
    xty = c * (Xc.T @ yc) / n

    def objective(w):
        d = w - w0
        return w @ xtx @ w - 2 * w @ xty + lam * d @ d

    def gradient(w):
        return 2 * xtx @ w - 2 * xty + 2 * lam * (w - w0)

    res = optimize.minimize(
        objective,
        w0,
        jac=gradient,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * len(w0),
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    # Guard against an SLSQP stop short of the optimum: never return worse than either end of the path.
    candidates = [project_to_capped_simplex(res.x, np.zeros_like(w0), np.ones_like(w0)), w0, beta / c]
    return min(candidates, key=objective)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def time_ordered_folds(dates, n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window folds: every training row was hired strictly before every test row."""
    dates = pd.to_datetime(pd.Series(dates)).to_numpy()
    order = np.argsort(dates, kind="stable")
    sorted_dates = dates[order]
    folds = []
    for _, test_pos in TimeSeriesSplit(n_splits=n_splits).split(order):
        t0, t1 = sorted_dates[test_pos[0]], sorted_dates[test_pos[-1]]
        # Snap to cohort boundaries so hires from one date never sit on both sides of a split.
        train = order[sorted_dates < t0]
        test = order[(sorted_dates >= t0) & (sorted_dates <= t1)]
        if len(train) and len(test):
            folds.append((train, test))
    return folds


def choose_lambda(X, y, dates, current, lambdas: Sequence[float] = DEFAULT_LAMBDAS, n_splits: int = 5):
    """Pick the penalty with the best mean held-out correlation over time-ordered folds; returns (lam, table)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    folds = time_ordered_folds(dates, n_splits)
    rows = []
    for lam in lambdas:
        scores = []
        for train, test in folds:
            w = fit_simplex_weights(X[train], y[train], current, lam)
            scores.append(_corr(X[test] @ w, y[test]))
        scores = np.asarray(scores, dtype=float)
        valid = scores[~np.isnan(scores)]
        rows.append({"lambda": lam, "mean_r": valid.mean() if len(valid) else np.nan, "n_folds": len(valid)})
    table = pd.DataFrame(rows)
    if table["mean_r"].isna().all():
        return float(max(lambdas)), table
    best = table["mean_r"].max()
    # Ties go to the larger penalty: with equal evidence, prefer the smaller change to the scorecard.
    lam = float(table.loc[table["mean_r"] >= best - 1e-12, "lambda"].max())
    return lam, table


def _normalise_current(current: Mapping[str, float], competencies: Sequence[str], notes: list[str]) -> np.ndarray:
    w = np.array([float(current.get(c, 0.0)) for c in competencies])
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("current weights must be finite and non-negative")
    if w.sum() <= 0:
        notes.append("current weights sum to 0; unit weights used as the current weights")
        return np.full(len(w), 1.0 / len(w))
    if abs(w.sum() - 1.0) > 1e-9:
        notes.append(f"current weights summed to {w.sum():.4f}; rescaled to 1")
    return w / w.sum()


def recommend_weights(
    hires: pd.DataFrame,
    competencies: Sequence[str],
    outcome_mix: Mapping[str, float],
    current_weights: Mapping[str, float],
    date_col: str = "hire_date",
    min_hires: int = DEFAULT_MIN_HIRES,
    max_change: float = 0.10,
    lambdas: Sequence[float] = DEFAULT_LAMBDAS,
    n_splits: int = 5,
    holdout_fraction: float = 0.2,
    n_bootstrap: int = 500,
    level: float = 0.95,
    seed: int = 0,
) -> WeightRecommendation:
    """Recommend scorecard weights for one job family.

    hires: one row per hire with date_col, the competency score columns and the outcome columns of outcome_mix.
    Hires missing any of these are not evidence. With fewer than min_hires eligible hires the status is
    'insufficient_evidence' and no weights are returned.
    The newest holdout_fraction of hires (by date) is held out: lambda is chosen by time-ordered CV on the
    older hires, and weights fitted on them are scored on the holdout (validity table: current, recommended,
    unit, validity_max). The returned weights are then refitted on all eligible hires with that lambda, so the
    holdout validity describes the procedure, fitted without the newest cohort.
    weights table: competency, current, estimate (shrunk fit, before the cap), recommended (after the cap),
    change, ci_low, ci_high (percentile bootstrap of estimate over n_bootstrap resamples, seeded), at_cap,
    validity_max (the unpenalised, uncapped fit, for the fairness trade-off table).
    """
    competencies = list(competencies)
    assert_no_prohibited_features(competencies)
    notes: list[str] = []
    w_cur = _normalise_current(current_weights, competencies, notes)

    df = hires.copy()
    df["_criterion"] = build_criterion(df, outcome_mix)
    df[date_col] = pd.to_datetime(df[date_col], errors="coerce")
    scores = df[competencies].apply(pd.to_numeric, errors="coerce")
    eligible = scores.notna().all(axis=1) & df["_criterion"].notna() & df[date_col].notna()
    n = int(eligible.sum())
    if n < min_hires:
        return WeightRecommendation(
            "insufficient_evidence",
            n,
            min_hires,
            competencies,
            notes=notes + [f"{n} hires with complete scores and outcomes; {min_hires} needed"],
        )

    df = df[eligible].sort_values(date_col, kind="stable")
    X = scores.loc[df.index].to_numpy(dtype=float)
    y = df["_criterion"].to_numpy(dtype=float)
    dates = df[date_col].to_numpy()
    constant = [c for c, sd in zip(competencies, X.std(axis=0), strict=True) if sd == 0]
    if constant:
        notes.append(f"no variance among hires, so no evidence on: {', '.join(constant)}")

    cutoff = dates[int(np.floor(n * (1 - holdout_fraction)))] if holdout_fraction > 0 else None
    is_train = dates < cutoff if cutoff is not None else np.ones(n, dtype=bool)
    if cutoff is not None and (is_train.sum() < 2 * n_splits or (~is_train).sum() < 3):
        notes.append("hire dates too concentrated for a time-ordered holdout; validity not estimated")
        is_train = np.ones(n, dtype=bool)
        cutoff = None

    lam, cv_table = choose_lambda(X[is_train], y[is_train], dates[is_train], w_cur, lambdas, n_splits)

    validity = None
    if cutoff is not None:
        X_tr, y_tr, X_te, y_te = X[is_train], y[is_train], X[~is_train], y[~is_train]
        train_rec = apply_change_cap(fit_simplex_weights(X_tr, y_tr, w_cur, lam), w_cur, max_change)
        candidates = {
            "current": w_cur,
            "recommended": train_rec,
            "unit": np.full(len(w_cur), 1.0 / len(w_cur)),
            "validity_max": fit_simplex_weights(X_tr, y_tr, w_cur, 0.0),
        }
        validity = pd.DataFrame(
            [
                {
                    "weighting": name,
                    "holdout_r": _corr(X_te @ w, y_te),
                    "holdout_n": int(len(y_te)),
                    **{f"w_{c}": float(v) for c, v in zip(competencies, w, strict=True)},
                }
                for name, w in candidates.items()
            ]
        )

    estimate = fit_simplex_weights(X, y, w_cur, lam)
    recommended = apply_change_cap(estimate, w_cur, max_change)
    validity_max = fit_simplex_weights(X, y, w_cur, 0.0)

    rng = np.random.default_rng(seed)
    boot = np.empty((n_bootstrap, len(competencies)))
    for b in range(n_bootstrap):
        idx = rng.integers(0, n, n)
        boot[b] = fit_simplex_weights(X[idx], y[idx], w_cur, lam)
    alpha = (1 - level) / 2
    ci_low, ci_high = (
        np.quantile(boot, [alpha, 1 - alpha], axis=0)
        if n_bootstrap
        else (np.full(len(w_cur), np.nan), np.full(len(w_cur), np.nan))
    )

    weights = pd.DataFrame(
        {
            "competency": competencies,
            "current": w_cur,
            "estimate": estimate,
            "recommended": recommended,
            "change": recommended - w_cur,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "at_cap": np.abs(recommended - w_cur) >= max_change - 1e-9,
            "validity_max": validity_max,
        }
    )
    return WeightRecommendation(
        "ok",
        n,
        min_hires,
        competencies,
        weights,
        validity,
        cv_table,
        lam,
        pd.Timestamp(cutoff) if cutoff is not None else None,
        notes,
    )


def recommend_weights_by_group(
    hires: pd.DataFrame,
    competencies: Sequence[str],
    outcome_mix: Mapping[str, float],
    current_weights: Mapping[str, Mapping[str, float]],
    group_col: str = "job_family",
    **kwargs,
) -> dict[object, WeightRecommendation]:
    """recommend_weights for each job family; current_weights maps family -> {competency: weight}."""
    out = {}
    for group, g in hires.groupby(group_col, sort=True):
        current = current_weights.get(group)
        rec = recommend_weights(g, competencies, outcome_mix, current or dict.fromkeys(competencies, 1.0), **kwargs)
        if current is None:
            rec.notes.append("no current weights on record; unit weights used as the current weights")
        out[group] = rec
    return out
