"""Interviewer calibration's ICC against an independent two-way ANOVA computation (McGraw & Wong ICC(A,1))."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

pytestmark = pytest.mark.slow


def icc_a1(matrix: np.ndarray) -> float:
    """ICC(A,1) from the full n x k ANOVA decomposition (no k = 2 shortcut)."""
    n, k = matrix.shape
    grand = matrix.mean()
    ss_rows = k * ((matrix.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((matrix.mean(axis=0) - grand) ** 2).sum()
    ss_error = ((matrix - grand) ** 2).sum() - ss_rows - ss_cols
    msr, msc, mse = ss_rows / (n - 1), ss_cols / (k - 1), ss_error / ((n - 1) * (k - 1))
    return (msr - mse) / (msr + (k - 1) * mse + k / n * (msc - mse))


def test_textbook_value():
    # Shrout & Fleiss (1979) table: 6 targets x 4 judges; McGraw & Wong's ICC(A,1) for it is 0.29.
    sf = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
    assert icc_a1(sf) == pytest.approx(0.29, abs=0.005)


def test_mart_icc_matches_the_anova_computation(built_home):
    with duckdb.connect(str(built_home.current_snapshot()), read_only=True) as con:
        ratings = con.execute(
            "select interview_id, competency_code, rater_id, rater_type, score_normalised from marts.interview_ratings"
        ).df()
        mart = con.execute(
            "select rater_id, competency_code, agreement_icc from marts.interviewer_calibration "
            "where competency_code <> 'all' and agreement_icc is not null"
        ).df()
    assert len(mart) > 10
    panel = ratings.groupby(["interview_id", "competency_code"])["score_normalised"].agg(["sum", "count"])
    humans = ratings[ratings["rater_type"] == "human"].join(panel, on=["interview_id", "competency_code"])
    humans = humans[humans["count"] > 1]
    humans["others"] = (humans["sum"] - humans["score_normalised"]) / (humans["count"] - 1)
    for row in mart.itertuples():
        pairs = humans[(humans["rater_id"] == row.rater_id) & (humans["competency_code"] == row.competency_code)]
        expected = icc_a1(pairs[["score_normalised", "others"]].to_numpy())
        assert row.agreement_icc == pytest.approx(expected, abs=1e-9), (row.rater_id, row.competency_code)
