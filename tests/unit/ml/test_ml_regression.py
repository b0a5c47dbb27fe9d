"""OLS helper against numpy, scikit-learn and the published ugtests result."""

import numpy as np
import pandas as pd
import peopleanalyticsdata as pad
import pytest
from sklearn.linear_model import LinearRegression

from ml.regression import design_matrix, fit_ols

PREDICTORS = ["Yr1", "Yr2", "Yr3"]


def test_ugtests_coefficients_match_independent_implementations():
    data = pad.ugtests()
    res = fit_ols(data, "Final", PREDICTORS)
    coef = res.coefficients.set_index("term")["estimate"]
    X = np.column_stack([np.ones(len(data)), data[PREDICTORS].to_numpy(float)])
    lstsq, *_ = np.linalg.lstsq(X, data["Final"].to_numpy(float), rcond=None)
    np.testing.assert_allclose(coef.to_numpy(), lstsq, atol=5e-4)
    sk = LinearRegression().fit(data[PREDICTORS], data["Final"])
    assert coef["const"] == pytest.approx(sk.intercept_, abs=5e-4)
    np.testing.assert_allclose(coef[PREDICTORS].to_numpy(), sk.coef_, atol=5e-4)
    # Published in McNulty, Handbook of Regression Modeling in People Analytics, ch. 4 (lm(Final ~ Yr1 + Yr2 + Yr3)).
    np.testing.assert_allclose(coef.to_numpy(), [14.146, 0.076, 0.431, 0.866], atol=5e-4)
    assert res.n == 975 and res.n_dropped == 0


def test_standard_errors_and_r_squared_by_hand():
    data = pad.ugtests()
    res = fit_ols(data, "Final", PREDICTORS)
    X = np.column_stack([np.ones(len(data)), data[PREDICTORS].to_numpy(float)])
    y = data["Final"].to_numpy(float)
    beta = np.linalg.solve(X.T @ X, X.T @ y)
    resid = y - X @ beta
    sigma2 = resid @ resid / (len(y) - X.shape[1])
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(X.T @ X)))
    np.testing.assert_allclose(res.coefficients["std_error"], se, rtol=1e-8)
    r2 = 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))
    assert res.r_squared == pytest.approx(r2)
    assert res.residual_se == pytest.approx(np.sqrt(sigma2))


def test_missing_rows_dropped_and_collinearity_reported():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, np.nan], "a": [1.0, 2, 3, 5, 4, 6], "b": [2.0, 4, 6, 10, 8, 12]})
    res = fit_ols(df, "y", ["a", "b"])
    assert res.status == "not_fitted" and "collinear" in res.reason and res.n_dropped == 1
    res = fit_ols(df, "y", ["a"])
    assert res.status == "ok" and res.n == 5


def test_design_matrix_treatment_coding():
    df = pd.DataFrame({"shift": ["Night", "Day", None, "Evening"], "x": [1, 2, 3, 4]})
    X = design_matrix(df, ["x", "shift"], ["shift"])
    assert list(X.columns) == ["const", "x", "shift=Evening", "shift=Night"]
    assert X.loc[0, "shift=Night"] == 1 and X.loc[1, ["shift=Evening", "shift=Night"]].sum() == 0
    assert X.loc[2, ["shift=Evening", "shift=Night"]].isna().all()
