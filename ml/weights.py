"""Scorecard weight recommendation: where the evidence points, what to change this cycle, and whether it helps.

For one job family:
1. The criterion (build_criterion): y = sum_k mix_k * z(outcome_k); the sign of mix_k says which direction is
   good. Every hire whose outcome window is complete counts: a hire who left before a review counts as the
   lowest rating (policy "floor", the default) instead of dropping out, so early leavers are failures, not
   missing. Which hires are eligible depends on the hire date only, never on the outcome.
2. The target: the evidence-optimal weights, the non-negative least-squares direction of y on the competency
   scores scaled to sum to 1 (it maximises corr(Xw, y) over the simplex when the NNLS fit is interior).
3. The step proposed this cycle: the fit shrunk toward the current weights, its penalty chosen by time-ordered
   cross-validation, then held within max_change of the current weights (exact projection on the capped
   simplex). Cycles to the target = how many steps of max_change the largest gap needs.
4. Intervals: a bootstrap of the whole procedure (criterion scaling, target, penalty choice, step) on resampled
   hires; percentile bounds for the target and, separately, for the step.
5. Proof of value: composites of every weighting scored on hires the fit never saw (expanding-window folds:
   train on older hires, score on newer), with a paired comparison on the same hires (Zou 2007 interval for the
   difference of two correlations sharing the criterion). Unit weights are the baseline to beat (Bobko,
   Roth & Buster 2007): the step is recommended only when it beats both the current and the unit weights with
   evidence (a one-sided 5% test each); otherwise the answer is "keep the current weights".
Competency scores are used as given (0-1 normalised), so the weights mean exactly what the scorecard composite
sum_k w_k * score_k means.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.model_selection import TimeSeriesSplit

from ml.text_features import assert_no_prohibited_features
from ml.validity import compare_dependent_correlations, fisher_ci, lawley_correction

DEFAULT_LAMBDAS: tuple[float, ...] = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
# Below ~100 hires a validity of .2 has a 95% CI about +-.19 wide: too uncertain to move weights on.
DEFAULT_MIN_HIRES = 100
# Nominal review days after hire (the review mart's 3m/6m/12m periods).
REVIEW_DAYS: dict[str, int] = {"rating_3m": 91, "rating_6m": 182, "rating_12m": 365}
# Reviews fall due up to ten days after the nominal day and may be held a little later: a hire who left before
# the nominal day + 30 and has no rating left before the review; one who stayed longer and has none is missing.
REVIEW_GRACE_DAYS = 30
EARLY_LEAVER_POLICIES = ("floor", "exclude")
# The out-of-sample check trains on at least the older half of the hires: a fold trained on a sixth of 150
# hires would judge the procedure by a fit no one would deploy.
OOS_FIRST_TRAIN_SHARE = 0.5
OOS_BLOCKS = 3
STATUS_RECOMMENDED = "recommended"
STATUS_KEEP = "keep_current"
STATUS_INSUFFICIENT = "insufficient_evidence"


@dataclass
class WeightRecommendation:
    """Outcome of recommend_weights for one job family; weights is None when evidence is insufficient."""

    status: str
    n_available: int
    n_needed: int
    competencies: list[str]
    weights: pd.DataFrame | None = None
    validity: pd.DataFrame | None = None
    comparisons: pd.DataFrame | None = None
    cv: pd.DataFrame | None = None
    lam: float = float("nan")
    holdout_start: object = None
    cycles_to_target: int | None = None
    criterion: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Covariances for scoring any fixed weighting without refitting (the trade-off front, a what-if):
    # {"hires" | "holdout" | "applicants": {"S": k x k, "c": k, "var_y": float, "n": int}}.
    moments: dict = field(default_factory=dict)

    @property
    def fitted(self) -> bool:
        return self.weights is not None

    def recommended(self) -> dict[str, float] | None:
        """The proposed step as {competency: weight}, or None when nothing is recommended."""
        if self.status != STATUS_RECOMMENDED:
            return None
        return self.column("recommended")

    def column(self, name: str) -> dict[str, float] | None:
        """One weights column ('current', 'target', 'recommended', ...) as {competency: weight}."""
        if self.weights is None:
            return None
        return dict(zip(self.weights["competency"], self.weights[name].astype(float), strict=True))

    def to_frame(self) -> pd.DataFrame:
        """One row per competency with status and evidence counts (a single status row when not fitted)."""
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


# ---------------------------------------------------------------------------------------------------- criterion


def _left_before(df: pd.DataFrame, days: int) -> pd.Series:
    """True for hires who left before `days` after hire (plus the review grace); False when unknown."""
    if "termination_date" in df.columns and "hire_date" in df.columns:
        hired = pd.to_datetime(df["hire_date"], errors="coerce")
        left = pd.to_datetime(df["termination_date"], errors="coerce")
        tenure = (left - hired).dt.days
    elif "tenure_days" in df.columns and "termination_type" in df.columns:
        tenure = pd.to_numeric(df["tenure_days"], errors="coerce").where(df["termination_type"].notna())
    else:
        return pd.Series(False, index=df.index)
    return (tenure < days + REVIEW_GRACE_DAYS).fillna(False).astype(bool)


def criterion_inputs(
    df: pd.DataFrame, outcome_mix: Mapping[str, float], early_leaver_policy: str = "floor"
) -> tuple[pd.DataFrame, dict]:
    """The outcome columns of the mix as floats, early leavers' missing ratings filled, and a count breakdown.

    A rating missing because the hire left before the review is 0 (the bottom of the 0-1 scale) under policy
    "floor" and stays missing under "exclude". Breakdown keys: n_hires, n_window_incomplete (an outcome not yet
    observable, e.g. retained_12m within a year of hire), n_early_leavers_floored, n_missing_rating (stayed but
    no rating), n_complete.
    """
    if early_leaver_policy not in EARLY_LEAVER_POLICIES:
        raise ValueError(f"early_leaver_policy must be one of {EARLY_LEAVER_POLICIES}")
    missing_cols = [c for c in outcome_mix if c not in df.columns]
    if missing_cols:
        raise KeyError(f"outcome column(s) not in the hires frame: {', '.join(missing_cols)}")
    vals = df[list(outcome_mix)].apply(pd.to_numeric, errors="coerce").astype(float)
    if "retained_12m" in vals.columns:
        window_open = vals["retained_12m"].isna()
    else:
        window_open = pd.Series(False, index=df.index)
    floored = pd.Series(False, index=df.index)
    missing_rating = pd.Series(False, index=df.index)
    for col in outcome_mix:
        if col not in REVIEW_DAYS:
            continue
        gone = _left_before(df, REVIEW_DAYS[col]) & vals[col].isna()
        if early_leaver_policy == "floor":
            vals.loc[gone, col] = 0.0
            floored |= gone
        missing_rating |= vals[col].isna() & ~gone & ~window_open
    complete = vals.notna().all(axis=1)
    breakdown = {
        "n_hires": len(df),
        "n_window_incomplete": int((window_open).sum()),
        "n_early_leavers_floored": int((floored & complete).sum()),
        "n_missing_rating": int((missing_rating & ~window_open).sum()),
        "n_complete": int(complete.sum()),
        "early_leaver_policy": early_leaver_policy,
    }
    return vals, breakdown


def criterion_from_outcomes(values: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """Signed sum of z-scored outcome columns (rows complete); a constant column contributes nothing."""
    values = np.asarray(values, dtype=float)
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])
    scale = np.divide(mix, sd, out=np.zeros_like(mix, dtype=float), where=sd > 0)
    return (values - mean) @ scale


def build_criterion(
    df: pd.DataFrame, outcome_mix: Mapping[str, float], early_leaver_policy: str = "exclude"
) -> pd.Series:
    """Signed sum of z-scored outcomes over hires with every outcome known; NaN elsewhere.

    z-scores use every hire with complete outcomes: the criterion is a fixed definition of success, and
    correlations with it do not depend on its location or scale. The default policy leaves missing ratings
    missing; recommend_weights passes "floor" so early leavers count.
    """
    vals, _ = criterion_inputs(df, outcome_mix, early_leaver_policy)
    complete = vals.notna().all(axis=1)
    crit = pd.Series(np.nan, index=df.index)
    if complete.sum() < 2:
        return crit
    mix = np.array([float(v) for v in outcome_mix.values()])
    crit.loc[complete] = criterion_from_outcomes(vals.loc[complete].to_numpy(), mix)
    return crit


# ------------------------------------------------------------------------------------------------ exact solvers


@lru_cache(maxsize=16)
def _supports(k: int) -> np.ndarray:
    """Every non-empty subset of k coordinates as a boolean mask, shape (2^k - 1, k)."""
    return np.array([[i in s for i in range(k)] for r in range(1, k + 1) for s in itertools.combinations(range(k), r)])


def _kkt_solve(A: np.ndarray, b: np.ndarray, simplex: bool) -> np.ndarray:
    """argmin w'Aw - 2b'w over w >= 0 (and sum w = 1 when simplex), for a batch of problems.

    Exact: the optimum of a convex quadratic programme is the KKT point of its own support, so solving the
    equality-constrained problem on every support (63 for six competencies) and keeping the best feasible point
    finds it. A: (..., k, k) positive semi-definite, b: (..., k). Returns (..., k).
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    k = A.shape[-1]
    masks = _supports(k)
    m = len(masks)
    lead = A.shape[:-2]
    # A whisper of ridge keeps supports with collinear or constant competencies solvable; 1e-10 of the
    # diagonal moves no weight by more than ~1e-9.
    jitter = 1e-10 * np.maximum(np.trace(A, axis1=-2, axis2=-1) / k, 1e-12)
    A = A + jitter[..., None, None] * np.eye(k)
    pair = masks[:, :, None] & masks[:, None, :]
    size = k + 1 if simplex else k
    K = np.zeros((*lead, m, size, size))
    K[..., :k, :k] = np.where(pair, A[..., None, :, :], np.eye(k))
    rhs = np.zeros((*lead, m, size))
    rhs[..., :k] = np.where(masks, b[..., None, :], 0.0)
    if simplex:
        K[..., :k, k] = masks
        K[..., k, :k] = masks
        rhs[..., k] = 1.0
    w = np.linalg.solve(K, rhs[..., None])[..., 0][..., :k]
    w = np.where(masks, w, 0.0)
    feasible = (w >= -1e-10).all(axis=-1)
    value = np.einsum("...i,...ij,...j->...", w, A[..., None, :, :], w) - 2 * np.einsum(
        "...i,...i->...", w, b[..., None, :]
    )
    value = np.where(feasible, value, np.inf)
    if not simplex:
        # The zero vector is feasible too (objective 0): no competency relates positively to the target.
        value = np.where(value < 0, value, np.inf)
    best = np.argmin(value, axis=-1)
    out = np.take_along_axis(w, best[..., None, None], axis=-2)[..., 0, :]
    if not simplex:
        none = ~np.isfinite(np.take_along_axis(value, best[..., None], axis=-1)[..., 0])
        out = np.where(none[..., None], 0.0, out)
    return np.clip(out, 0.0, None)


def _moments(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    n = len(y)
    return Xc.T @ Xc / n, Xc.T @ yc / n


def nnls_direction(X, y) -> np.ndarray:
    """Non-negative least-squares slopes of y on X (with intercept); all zero when no slope is positive."""
    S, c = _moments(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
    return _kkt_solve(S, c, simplex=False)


def target_weights(X, y, current) -> np.ndarray:
    """The evidence-optimal weights: NNLS slopes scaled to sum to 1 (current weights when none is positive)."""
    beta = nnls_direction(X, y)
    total = beta.sum()
    return beta / total if total > 0 else np.asarray(current, dtype=float).copy()


def fit_simplex_path(X, y, current, lambdas: Sequence[float]) -> np.ndarray:
    """Simplex weights minimising mean((y - c X w)^2) + lam * ||w - current||^2 for each lam; shape (L, k).

    c is the NNLS fit's total slope, so the loss is in the criterion's units and lam = 0 gives the target.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w0 = np.asarray(current, dtype=float)
    S, cov = _moments(X, y)
    beta = _kkt_solve(S, cov, simplex=False)
    c = beta.sum()
    lambdas = np.asarray(lambdas, dtype=float)
    if c <= 0:
        # No competency relates positively to the criterion: the data give no direction, keep the current weights.
        return np.tile(w0, (len(lambdas), 1))
    eye = np.eye(len(w0))
    A = c * c * S[None] + lambdas[:, None, None] * eye
    b = c * cov[None] + lambdas[:, None] * w0
    path = _kkt_solve(A, b, simplex=True)
    # lam = 0 is the scaled NNLS direction exactly; the KKT search agrees to ~1e-9, the exact value is cleaner.
    path[lambdas == 0] = beta / c
    return path


def fit_simplex_weights(X, y, current, lam: float) -> np.ndarray:
    """Simplex weights minimising mean((y - c X w)^2) + lam * ||w - current||^2 (c from the NNLS fit)."""
    return fit_simplex_path(X, y, current, [lam])[0]


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


def cycles_to_reach(target, current, max_change: float) -> int:
    """Review cycles needed to move from current to target at max_change per weight per cycle."""
    gap = float(np.abs(np.asarray(target, dtype=float) - np.asarray(current, dtype=float)).max())
    if max_change <= 0:
        return 0 if gap < 1e-9 else -1
    return int(np.ceil(gap / max_change - 1e-9))


# ------------------------------------------------------------------------------------------- cross-validation


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _corr_columns(C: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Correlation of each column of C with y (NaN for constant columns)."""
    Cc = C - C.mean(axis=0)
    yc = y - y.mean()
    den = np.sqrt((Cc**2).sum(axis=0) * (yc**2).sum())
    return np.divide(Cc.T @ yc, den, out=np.full(C.shape[1], np.nan), where=den > 0)


def _as_datetimes(dates) -> np.ndarray:
    """datetime64 values; a datetime64 array passes through untouched (the bootstrap calls this ~1,000 times)."""
    if isinstance(dates, np.ndarray) and np.issubdtype(dates.dtype, np.datetime64):
        return dates
    return pd.to_datetime(pd.Series(dates)).to_numpy()


def time_ordered_folds(dates, n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window folds: every training row was hired strictly before every test row."""
    dates = _as_datetimes(dates)
    order = np.argsort(dates, kind="stable")
    sorted_dates = dates[order]
    folds = []
    if len(dates) <= n_splits:
        return folds
    for _, test_pos in TimeSeriesSplit(n_splits=n_splits).split(order):
        t0, t1 = sorted_dates[test_pos[0]], sorted_dates[test_pos[-1]]
        # Snap to cohort boundaries so hires from one date never sit on both sides of a split.
        train = order[sorted_dates < t0]
        test = order[(sorted_dates >= t0) & (sorted_dates <= t1)]
        if len(train) and len(test):
            folds.append((train, test))
    return folds


def out_of_sample_folds(
    dates, first_train_share: float = OOS_FIRST_TRAIN_SHARE, n_blocks: int = OOS_BLOCKS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds for judging the procedure: the newer (1 - first_train_share) of hires in n_blocks blocks, each
    scored by a fit on every older hire."""
    dates = _as_datetimes(dates)
    n = len(dates)
    order = np.argsort(dates, kind="stable")
    sorted_dates = dates[order]
    start = int(np.floor(n * first_train_share))
    edges = np.linspace(start, n, n_blocks + 1).round().astype(int)
    # Blocks start at a date, so hires of one date are never split between blocks or between train and test.
    starts = sorted({sorted_dates[e] for e in edges[:-1] if 0 < e < n})
    folds = []
    for j, t0 in enumerate(starts):
        train = order[sorted_dates < t0]
        later = sorted_dates >= t0
        if j + 1 < len(starts):
            later &= sorted_dates < starts[j + 1]
        test = order[later]
        if len(train) and len(test):
            folds.append((train, test))
    return folds


def cv_scores(X, y, dates, current, lambdas: Sequence[float] = DEFAULT_LAMBDAS, n_splits: int = 5) -> pd.DataFrame:
    """Mean held-out correlation of each penalty's composite over time-ordered folds."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    scores = []
    for train, test in time_ordered_folds(dates, n_splits):
        path = fit_simplex_path(X[train], y[train], current, lambdas)
        scores.append(_corr_columns(X[test] @ path.T, y[test]) if len(test) >= 3 else np.full(len(lambdas), np.nan))
    scores = np.asarray(scores, dtype=float).reshape(-1, len(lambdas))
    valid = ~np.isnan(scores)
    with np.errstate(invalid="ignore"):
        mean = np.where(valid.any(axis=0), np.nansum(scores, axis=0) / np.maximum(valid.sum(axis=0), 1), np.nan)
    return pd.DataFrame({"lambda": list(lambdas), "mean_r": mean, "n_folds": valid.sum(axis=0)})


def choose_lambda(X, y, dates, current, lambdas: Sequence[float] = DEFAULT_LAMBDAS, n_splits: int = 5):
    """Pick the penalty with the best mean held-out correlation over time-ordered folds; returns (lam, table)."""
    table = cv_scores(X, y, dates, current, lambdas, n_splits)
    if table["mean_r"].isna().all():
        return float(max(lambdas)), table
    best = table["mean_r"].max()
    # Ties go to the larger penalty: with equal evidence, prefer the smaller change to the scorecard.
    lam = float(table.loc[table["mean_r"] >= best - 1e-12, "lambda"].max())
    return lam, table


# ------------------------------------------------------------------------------------------------- procedure


@dataclass
class _Fit:
    target: np.ndarray
    estimate: np.ndarray
    step: np.ndarray
    lam: float
    cv: pd.DataFrame


def _procedure(X, outcomes, mix, dates, w_cur, max_change, lambdas, n_splits) -> _Fit:
    """The whole fit on one sample: criterion scaling, target, penalty by CV, shrunk estimate, capped step."""
    y = criterion_from_outcomes(outcomes, mix)
    target = target_weights(X, y, w_cur)
    lam, table = choose_lambda(X, y, dates, w_cur, lambdas, n_splits)
    estimate = fit_simplex_weights(X, y, w_cur, lam)
    return _Fit(target, estimate, apply_change_cap(estimate, w_cur, max_change), lam, table)


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


def out_of_sample_validity(
    X: np.ndarray,
    outcomes: np.ndarray,
    mix: np.ndarray,
    dates: np.ndarray,
    w_cur: np.ndarray,
    max_change: float,
    lambdas: Sequence[float],
    n_splits: int,
    extra: Mapping[str, np.ndarray] | None = None,
    level: float = 0.95,
    blend_shares: Sequence[float] = (),
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Validity of each weighting on hires the fit never saw, and paired comparisons on those same hires.

    Weightings: current, unit, target (refitted on each fold's training hires), recommended (the step,
    refitted likewise), blend_<pct> (that share of the fold's target, the rest unit weights) and any fixed
    `extra` weightings (an edit). The criterion of the scored hires is
    scaled on all hires (a fixed definition of success). Returns (validity, comparisons, composites):
    validity has weighting, holdout_r, ci_low, ci_high, holdout_n; comparisons has weighting, baseline,
    r, r_baseline, r_between, difference, ci_low, ci_high, p_value (Zou 2007 interval, Meng-Rosenthal-Rubin
    1992 test), ci_low_one_sided and beats (the one-sided 95% lower bound above 0).
    """
    k = X.shape[1]
    y_all = criterion_from_outcomes(outcomes, mix)
    unit = np.full(k, 1.0 / k)
    fixed = {"current": w_cur, "unit": unit, **{n: np.asarray(w, dtype=float) for n, w in (extra or {}).items()}}
    blends = {f"blend_{round(share * 100)}": share for share in blend_shares}
    comps: dict[str, list[np.ndarray]] = {name: [] for name in ("target", "recommended", *blends, *fixed)}
    ys = []
    for train, test in out_of_sample_folds(dates):
        fit = _procedure(X[train], outcomes[train], mix, dates[train], w_cur, max_change, lambdas, n_splits)
        comps["target"].append(X[test] @ fit.target)
        comps["recommended"].append(X[test] @ fit.step)
        for name, share in blends.items():
            comps[name].append(X[test] @ (share * fit.target + (1 - share) * unit))
        for name, w in fixed.items():
            comps[name].append(X[test] @ w)
        ys.append(y_all[test])
    if not ys:
        empty = pd.DataFrame(columns=["weighting", "holdout_r", "ci_low", "ci_high", "holdout_n"])
        return empty, pd.DataFrame(), pd.DataFrame()
    y = np.concatenate(ys)
    frame = pd.DataFrame({name: np.concatenate(v) for name, v in comps.items()})
    n = len(y)
    rows = []
    r = {}
    for name in frame.columns:
        r[name] = _corr(frame[name].to_numpy(), y)
        lo, hi = fisher_ci(r[name], n, level) if np.isfinite(r[name]) else (np.nan, np.nan)
        rows.append(
            {"weighting": name, "holdout_r": r[name], "ci_low": float(lo), "ci_high": float(hi), "holdout_n": n}
        )
    validity = pd.DataFrame(rows)
    comparisons = []
    for name in [c for c in frame.columns if c not in ("current", "unit")]:
        for base in ("current", "unit"):
            r12 = _corr(frame[name].to_numpy(), frame[base].to_numpy())
            res = compare_dependent_correlations(r[name], r[base], r12, n, level)
            comparisons.append({"weighting": name, "baseline": base, **res})
    frame["_criterion"] = y
    return validity, pd.DataFrame(comparisons), frame


def _comparison(comparisons: pd.DataFrame, weighting: str, baseline: str):
    if comparisons is None or not len(comparisons):
        return None
    row = comparisons[(comparisons["weighting"] == weighting) & (comparisons["baseline"] == baseline)]
    return row.iloc[0] if len(row) else None


def _says(row, what: str) -> str:
    return f"{what} (difference in r {row['difference']:+.3f}, 95% CI [{row['ci_low']:+.3f}, {row['ci_high']:+.3f}])"


def decide(comparisons: pd.DataFrame, step, current, require_gain: bool = True) -> tuple[str, list[str]]:
    """Recommend the step only when the learned target beats unit weights and the step beats the current
    weights, each out of sample on the same hires with the interval above 0; returns (status, notes)."""
    if np.allclose(step, current, atol=1e-6):
        return STATUS_KEEP, ["the evidence-optimal weights are the current weights: keep the current weights"]
    if not require_gain:
        return STATUS_RECOMMENDED, []
    notes = []
    learned = _comparison(comparisons, "target", "unit")
    gain = _comparison(comparisons, "recommended", "current")
    if learned is None or gain is None:
        return STATUS_KEEP, ["no out-of-sample comparison was possible: keep the current weights"]
    status = STATUS_RECOMMENDED
    if not learned["beats"]:
        status = STATUS_KEEP
        notes.append(_says(learned, "the evidence-optimal weights do not beat unit weights out of sample"))
    if not gain["beats"]:
        status = STATUS_KEEP
        notes.append(_says(gain, "this cycle's step does not beat the current weights out of sample"))
    unit = _comparison(comparisons, "recommended", "unit")
    if status == STATUS_RECOMMENDED and unit is not None and unit["ci_high"] < 0:
        notes.append(_says(unit, "unit weights still beat this cycle's step; further steps toward the target close it"))
    if status == STATUS_KEEP:
        notes.append("keep the current weights")
    return status, notes


def _moment_dict(X: np.ndarray, y: np.ndarray) -> dict:
    C = np.cov(np.column_stack([X, y]).T)
    k = X.shape[1]
    return {"S": C[:k, :k], "c": C[:k, k], "var_y": float(C[k, k]), "n": len(y)}


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
    n_bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
    early_leaver_policy: str = "floor",
    extra_weightings: Mapping[str, Mapping[str, float]] | None = None,
    require_gain: bool = True,
    blend_shares: Sequence[float] = (),
    applicant_cov: np.ndarray | None = None,
) -> WeightRecommendation:
    """Recommend scorecard weights for one job family.

    hires: one row per hire with date_col, the competency score columns and the outcome columns of outcome_mix
    (plus hire_date/termination_date or tenure_days/termination_type, so early leavers can be recognised).
    Hires with an incomplete outcome window or missing scores are not evidence; fewer than min_hires eligible
    hires gives 'insufficient_evidence' and no weights. Otherwise the weights table has, per competency:
    current, target (evidence-optimal) with target_ci_low/high, estimate (shrunk fit before the cap),
    recommended (this cycle's capped step) with ci_low/ci_high, change, at_cap, validity_max (= target, the
    trade-off table's name) and the bootstrap's target_se. applicant_cov (the pool's competency covariance) adds
    the range-corrected applicant-pool moments to `moments`. Status 'recommended' when the step beats the
    current and the unit weights out of sample with evidence (require_gain), 'keep_current' otherwise.
    """
    competencies = list(competencies)
    assert_no_prohibited_features(competencies)
    notes: list[str] = []
    w_cur = _normalise_current(current_weights, competencies, notes)

    df = hires.copy()
    df[date_col] = pd.to_datetime(df[date_col], errors="coerce")
    outcome_vals, breakdown = criterion_inputs(df, outcome_mix, early_leaver_policy)
    scores = df[competencies].apply(pd.to_numeric, errors="coerce")
    eligible = scores.notna().all(axis=1) & outcome_vals.notna().all(axis=1) & df[date_col].notna()
    n = int(eligible.sum())
    breakdown["n_missing_scores"] = int((outcome_vals.notna().all(axis=1) & scores.isna().any(axis=1)).sum())
    breakdown["n_eligible"] = n
    if n < min_hires:
        return WeightRecommendation(
            STATUS_INSUFFICIENT,
            n,
            min_hires,
            competencies,
            criterion=breakdown,
            notes=notes + [f"{n} hires with complete scores and outcomes; {min_hires} needed"],
        )

    order = df.index[eligible][np.argsort(df.loc[eligible, date_col].to_numpy(), kind="stable")]
    X = scores.loc[order].to_numpy(dtype=float)
    outcomes = outcome_vals.loc[order].to_numpy(dtype=float)
    mix = np.array([float(v) for v in outcome_mix.values()])
    dates = df.loc[order, date_col].to_numpy()
    constant = [c for c, sd in zip(competencies, X.std(axis=0), strict=True) if sd == 0]
    if constant:
        notes.append(f"no variance among hires, so no evidence on: {', '.join(constant)}")

    fit = _procedure(X, outcomes, mix, dates, w_cur, max_change, lambdas, n_splits)

    rng = np.random.default_rng(seed)
    k = len(competencies)
    boot_target = np.full((n_bootstrap, k), np.nan)
    boot_step = np.full((n_bootstrap, k), np.nan)
    for b in range(n_bootstrap):
        idx = np.sort(rng.integers(0, n, n))
        bf = _procedure(X[idx], outcomes[idx], mix, dates[idx], w_cur, max_change, lambdas, n_splits)
        boot_target[b], boot_step[b] = bf.target, bf.step
    alpha = (1 - level) / 2
    if n_bootstrap:
        t_lo, t_hi = np.quantile(boot_target, [alpha, 1 - alpha], axis=0)
        s_lo, s_hi = np.quantile(boot_step, [alpha, 1 - alpha], axis=0)
        t_se = boot_target.std(axis=0, ddof=1) if n_bootstrap > 1 else np.full(k, np.nan)
    else:
        t_lo = t_hi = s_lo = s_hi = t_se = np.full(k, np.nan)

    extra = {
        name: np.array([float(w.get(c, 0.0)) for c in competencies]) for name, w in (extra_weightings or {}).items()
    }
    validity, comparisons, _ = out_of_sample_validity(
        X, outcomes, mix, dates, w_cur, max_change, lambdas, n_splits, extra, level, blend_shares
    )
    holdout_start = None
    folds = out_of_sample_folds(dates)
    if folds:
        holdout_start = pd.Timestamp(dates[folds[0][1]].min())
    else:
        notes.append("hire dates too concentrated for a time-ordered holdout; validity not estimated")

    y_all = criterion_from_outcomes(outcomes, mix)
    moments = {"hires": _moment_dict(X, y_all)}
    tested = np.concatenate([t for _, t in folds]) if folds else np.array([], dtype=int)
    if len(tested) > len(competencies) + 2:
        moments["holdout"] = _moment_dict(X[tested], y_all[tested])
    if applicant_cov is not None:
        h = moments["hires"]
        corrected = lawley_correction(applicant_cov, h["S"], h["c"], h["var_y"])
        moments["applicants"] = {
            "S": np.asarray(applicant_cov, dtype=float),
            "c": corrected["c"],
            "var_y": corrected["var_y"],
            "n": n,
        }

    status, why = decide(comparisons, fit.step, w_cur, require_gain)
    notes.extend(why)
    weights = pd.DataFrame(
        {
            "competency": competencies,
            "current": w_cur,
            "target": fit.target,
            "target_ci_low": t_lo,
            "target_ci_high": t_hi,
            "target_se": t_se,
            "estimate": fit.estimate,
            "recommended": fit.step,
            "change": fit.step - w_cur,
            "ci_low": s_lo,
            "ci_high": s_hi,
            "at_cap": np.abs(fit.step - w_cur) >= max_change - 1e-9,
            "validity_max": fit.target,
        }
    )
    return WeightRecommendation(
        status,
        n,
        min_hires,
        competencies,
        weights,
        validity,
        comparisons,
        fit.cv,
        fit.lam,
        holdout_start,
        cycles_to_reach(fit.target, w_cur, max_change),
        breakdown,
        notes,
        moments,
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
