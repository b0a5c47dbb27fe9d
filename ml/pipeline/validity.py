"""ml.validity: each competency's observed validity per job family and outcome, with its corrections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ml.pipeline.contracts import (
    DEFAULT_CRITERION_RELIABILITY,
    DEFAULT_EARLY_LEAVER_POLICY,
    DEFAULT_OUTCOME_MIX,
    OUTCOMES,
    conform,
)
from ml.pipeline.frames import _scores, prepare_hires
from ml.validity import SUPERVISOR_RATING_RELIABILITY, validity_table
from ml.weights import build_criterion

# The weight model's success criterion as one more outcome, so the desk's ranking and the weights agree. Its
# error variance is not known (ratings are unreliable, staying is not), so it gets no unreliability correction:
# the operational value is then the range-corrected one, an underestimate rather than a guess.
CRITERION_OUTCOME = "criterion"


def validity_tables(
    hires: pd.DataFrame,
    applicants: pd.DataFrame,
    competencies: Sequence[str],
    outcomes: Sequence[str] = OUTCOMES,
    criterion_reliability: Mapping[str, float] | None = None,
    default_reliability: float = SUPERVISOR_RATING_RELIABILITY,
    outcome_mix: Mapping[str, float] | None = None,
    early_leaver_policy: str = DEFAULT_EARLY_LEAVER_POLICY,
) -> pd.DataFrame:
    """ml.validity: observed r with CI and N beside its multivariate range-restriction and operational
    corrections, per outcome and for the weight model's criterion (outcome 'criterion')."""
    h = prepare_hires(hires, competencies)
    a = _scores(applicants, competencies)
    outcomes = [o for o in outcomes if o in h.columns]
    mix = dict(DEFAULT_OUTCOME_MIX if outcome_mix is None else outcome_mix)
    if all(o in h.columns for o in mix):
        h[CRITERION_OUTCOME] = pd.concat(
            [build_criterion(g, mix, early_leaver_policy) for _, g in h.groupby("job_family", sort=False)]
        ).reindex(h.index)
        outcomes = [*outcomes, CRITERION_OUTCOME]
    reliability = {**DEFAULT_CRITERION_RELIABILITY, CRITERION_OUTCOME: 1.0, **dict(criterion_reliability or {})}
    table = validity_table(h, a, competencies, outcomes, "job_family", reliability, default_reliability)
    table = table.rename(
        columns={
            "competency": "competency_code",
            "r_operational_ci_low": "ci_low_operational",
            "r_operational_ci_high": "ci_high_operational",
        }
    )
    return conform(table, "validity")
