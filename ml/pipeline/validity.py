"""ml.validity: each competency's observed validity per job family and outcome, with its corrections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ml.pipeline.contracts import DEFAULT_CRITERION_RELIABILITY, OUTCOMES, conform
from ml.pipeline.frames import _scores, prepare_hires
from ml.validity import SUPERVISOR_RATING_RELIABILITY, validity_table


def validity_tables(
    hires: pd.DataFrame,
    applicants: pd.DataFrame,
    competencies: Sequence[str],
    outcomes: Sequence[str] = OUTCOMES,
    criterion_reliability: Mapping[str, float] | None = None,
    default_reliability: float = SUPERVISOR_RATING_RELIABILITY,
) -> pd.DataFrame:
    """ml.validity: observed r with CI and N beside its range-restriction and operational corrections."""
    h = prepare_hires(hires, competencies)
    a = _scores(applicants, competencies)
    outcomes = [o for o in outcomes if o in h.columns]
    reliability = {**DEFAULT_CRITERION_RELIABILITY, **dict(criterion_reliability or {})}
    table = validity_table(h, a, competencies, outcomes, "job_family", reliability, default_reliability)
    table = table.rename(
        columns={
            "competency": "competency_code",
            "r_operational_ci_low": "ci_low_operational",
            "r_operational_ci_high": "ci_high_operational",
        }
    )
    return conform(table, "validity")
