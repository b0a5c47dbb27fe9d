"""Mart-shaped frames: reading them from the warehouse, and shaping them into the estimators' inputs.

Frames, as the marts give them:
- hires: one row per hire (marts.hires) plus the candidate's gender and ethnicity; competency scores in
  score_<competency> (0-1 mean over raters), outcomes rating_3m/6m/12m (0-1), is_retained_12m, count_complaints,
  complaints_per_1000_days, tenure_days, termination_date/_type, hire_date, score_band, as_of_date.
- applicants: one row per candidate x job family, their latest completed, scored interview (the applicant pool:
  unrestricted score SDs, and the pool that selection is simulated on), with gender, ethnicity and `hired`.
- current weights: {job_family: {competency: weight}} from marts.job_families.weight_<competency>.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from ml.pipeline.contracts import OUTCOMES, SCORE_PREFIX, WEIGHT_PREFIX
from ml.prohibited import assert_no_prohibited_features


def competencies_from_weights(job_families: pd.DataFrame) -> list[str]:
    """Competency codes of the scorecard, from the weight_<competency> columns of marts.job_families."""
    return [c[len(WEIGHT_PREFIX) :] for c in job_families.columns if c.startswith(WEIGHT_PREFIX)]


def current_weights_from(job_families: pd.DataFrame, competencies: Sequence[str]) -> dict[str, dict[str, float]]:
    """{job_family: {competency: weight}} for families with weights on record."""
    out = {}
    for row in job_families.itertuples(index=False):
        weights = {c: getattr(row, f"{WEIGHT_PREFIX}{c}") for c in competencies}
        if all(pd.notna(v) for v in weights.values()):
            out[row.job_family] = {c: float(v) for c, v in weights.items()}
    return out


def _scores(frame: pd.DataFrame, competencies: Sequence[str]) -> pd.DataFrame:
    """The frame with score_<competency> columns copied to bare competency names (the estimators' inputs)."""
    assert_no_prohibited_features(frame.columns)
    assert_no_prohibited_features(competencies)
    out = frame.copy()
    for c in competencies:
        out[c] = pd.to_numeric(out[f"{SCORE_PREFIX}{c}"], errors="coerce").astype(float)
    return out


def prepare_hires(hires: pd.DataFrame, competencies: Sequence[str]) -> pd.DataFrame:
    """Hires with bare competency columns, retained_12m as 0/1 and dates as timestamps."""
    out = _scores(hires, competencies)
    if "retained_12m" not in out.columns and "is_retained_12m" in out.columns:
        out["retained_12m"] = out["is_retained_12m"].astype("boolean").astype("Float64").astype(float)
    for col in ("hire_date", "termination_date", "as_of_date"):
        if col in out.columns:
            out[col] = pd.to_datetime(out[col], errors="coerce")
    for col in OUTCOMES:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def _standardise(hires: pd.DataFrame, applicants: pd.DataFrame, competencies: Sequence[str]) -> pd.DataFrame:
    """Competency columns re-expressed in SD units of the job family's applicant pool (mean 0 there)."""
    out = hires.copy()
    for family, idx in out.groupby("job_family").groups.items():
        pool = applicants[applicants["job_family"] == family]
        for c in competencies:
            mean, sd = pool[c].mean(), pool[c].std(ddof=1)
            if not (np.isfinite(sd) and sd > 0):
                # Without an applicant pool, the hires' own SD is the only scale there is.
                mean, sd = out.loc[idx, c].mean(), out.loc[idx, c].std(ddof=1)
            out.loc[idx, c] = (out.loc[idx, c] - mean) / sd if sd and np.isfinite(sd) and sd > 0 else np.nan
    return out


HIRES_SQL = """
    select hires.*, candidates.gender, candidates.ethnicity
    from marts.hires as hires
    inner join marts.candidates as candidates on hires.candidate_key = candidates.candidate_key
    order by hires.employee_key
"""

# marts.applicant_pool computes the pool (latest completed, scored interview per candidate x family, with sex,
# ethnicity and `hired`) once, in dbt, so the review desk's what-if reads exactly the rows the model saw.
APPLICANTS_SQL = """
    select * from marts.applicant_pool
    order by job_family, candidate_key
"""

# The analysable transcripts: candidates with recording consent and no recording erasure. The segments, their
# per-interview fingerprints and the batches share this clause, so all three see the same interviews.
_SEGMENTS_FROM = """
    from staging.stg_interview_vendor__transcript_segments as segments
    inner join marts.interviews as interviews on segments.interview_id = interviews.interview_id
    inner join marts.candidates as candidates on interviews.candidate_key = candidates.candidate_key
    where candidates.consent_recording and not candidates.is_recording_erased
"""
_SEGMENT_COLUMNS = """
        segments.interview_id,
        interviews.candidate_key,
        segments.segment_no,
        segments.question_id,
        segments.speaker,
        segments.start_seconds as start_s,
        segments.end_seconds as end_s,
        segments.segment_text as text,
        segments.language
"""
SEGMENTS_SQL = f"select {_SEGMENT_COLUMNS} {_SEGMENTS_FROM} order by segments.interview_id, segments.segment_no"
# One batch of interviews. A filter on the staging view's key reaches the raw scan (DuckDB pushes it below the
# view's row_number() window), so a batch reads its own rows: ~0.3 s for 2,000 interviews at 100k candidates,
# where reading every segment takes 4 s.
SEGMENT_BATCH_SQL = (
    f"select {_SEGMENT_COLUMNS} {_SEGMENTS_FROM} and segments.interview_id in ? "
    "order by segments.interview_id, segments.segment_no"
)
# What each interview's features depend on: its candidate and its segments. Raw data is append-only and the
# staging view keeps the latest version of each segment, so a segment added, re-delivered (a later landing day or
# load) or erased changes the count or the sum of the versions' hashes. Only keys and load times are read: the
# view's row_number() window then sorts no text (at 100k candidates 1.7 s and ~200 MB instead of 2.6 s and
# ~500 MB for a hash of every column).
INTERVIEW_FINGERPRINTS_SQL = f"""
    select
        segments.interview_id as document_id,
        min(interviews.candidate_key) as candidate_key,
        cast(count(*) as varchar) || ':'
            || cast(sum(hash(segments.segment_no, segments.landed_on, segments.loaded_at)::hugeint) as varchar)
            as fingerprint
    {_SEGMENTS_FROM}
    group by segments.interview_id
    order by document_id
"""

_RESUMES_FROM = """
    from staging.stg_ats__resumes as resumes
    inner join marts.candidates as candidates on resumes.candidate_key = candidates.candidate_key
"""
_RESUME_COLUMNS = "resumes.resume_id, resumes.candidate_key, resumes.received_at, resumes.resume_text as text"
RESUMES_SQL = f"select {_RESUME_COLUMNS} {_RESUMES_FROM} order by resumes.resume_id"
RESUME_BATCH_SQL = f"select {_RESUME_COLUMNS} {_RESUMES_FROM} where resumes.resume_id in ? order by resumes.resume_id"
# A resume's parsed fields depend on its text only, which changes only with a new version (landing day, load).
RESUME_FINGERPRINTS_SQL = f"""
    select
        resumes.resume_id as document_id,
        resumes.candidate_key,
        cast(hash(resumes.landed_on, resumes.loaded_at) as varchar) as fingerprint
    {_RESUMES_FROM}
    order by document_id
"""


def load_hires(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """marts.hires of analysable candidates, with gender and ethnicity."""
    return con.execute(HIRES_SQL).df()


def load_applicants(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per candidate x job family: the latest completed, scored interview, with `hired`."""
    return con.execute(APPLICANTS_SQL).df()


def load_job_families(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("select * from marts.job_families order by job_family").df()


def load_segments(con: duckdb.DuckDBPyConnection, interview_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Transcript segments of analysable candidates with recording consent and no recording erasure (of the given
    interviews only, if given)."""
    if interview_ids is None:
        return con.execute(SEGMENTS_SQL).df()
    return con.execute(SEGMENT_BATCH_SQL, [list(interview_ids)]).df()


def load_resumes(con: duckdb.DuckDBPyConnection, resume_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Resume text of analysable candidates (read here, never written out); of the given resumes only, if given."""
    if resume_ids is None:
        return con.execute(RESUMES_SQL).df()
    return con.execute(RESUME_BATCH_SQL, [list(resume_ids)]).df()


def load_ml_table(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """An ml.<name> output table, or an empty frame when it has not been built."""
    try:
        return con.execute(f"select * from ml.{name}").df()
    except duckdb.CatalogException:
        return pd.DataFrame()


def recommendation_version(run_id: str, fitted_at: dt.datetime | None = None) -> str:
    """The version in recommendation ids: fit time and run, so one run's recommendations share it."""
    fitted_at = fitted_at or dt.datetime.now(dt.UTC)
    return f"weights-{fitted_at:%Y%m%dT%H%M%S}-{run_id[:8]}"
