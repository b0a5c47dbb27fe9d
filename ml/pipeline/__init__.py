"""From warehouse marts to model output tables: the data shaping around the estimators in ml/.

`load_*` functions read mart-shaped frames from a DuckDB connection; the `*_tables` functions take those frames
and return the output tables, with the columns in CONTRACTS first (the dashboards read exactly these names) and any
extra detail after. Assets call one of each; tests call the `*_tables` functions on hand-made frames.

Modules: contracts (output columns, conform, shared defaults) <- frames (the frames and their loading) <- one
module per output: validity, recommendations, turnover, complaints, text, text_refresh. Callers use
`from ml import pipeline` and `pipeline.<name>`; every name they use is re-exported here. A test that patches a
name must patch it in the module that uses it.
"""

from __future__ import annotations

from ml.pipeline.complaints import care_mentions, complaint_tables
from ml.pipeline.contracts import (
    CARE_COMPETENCY,
    COMPLAINT_NOTE,
    CONTRACTS,
    COX_NOTE,
    DATE,
    DEFAULT_BLEND_SHARES,
    DEFAULT_BOOTSTRAP,
    DEFAULT_COMPLAINT_MIN_HIRES,
    DEFAULT_CRITERION_RELIABILITY,
    DEFAULT_CV_SPLITS,
    DEFAULT_EARLY_LEAVER_POLICY,
    DEFAULT_HOLDOUT_FRACTION,
    DEFAULT_MAX_CHANGE,
    DEFAULT_MIN_EVENTS_PER_TERM,
    DEFAULT_OUTCOME_MIX,
    DEFAULT_SURVIVAL_MIN_HIRES,
    DIMENSION_NAMES,
    EXTRAS,
    MIN_HOLDOUT_EVENTS,
    OUTCOMES,
    SCORE_PREFIX,
    SNIPPET_CHARS,
    WEIGHT_PREFIX,
    conform,
)
from ml.pipeline.frames import (
    APPLICANTS_SQL,
    HIRES_SQL,
    INTERVIEW_FINGERPRINTS_SQL,
    RESUME_BATCH_SQL,
    RESUME_FINGERPRINTS_SQL,
    RESUMES_SQL,
    SEGMENT_BATCH_SQL,
    SEGMENTS_SQL,
    competencies_from_weights,
    current_weights_from,
    load_applicants,
    load_hires,
    load_job_families,
    load_ml_table,
    load_resumes,
    load_segments,
    prepare_hires,
    recommendation_version,
)
from ml.pipeline.recommendations import (
    DEFAULT_GATE_BOOT,
    fairness_gate_table,
    next_quarter_start,
    recommendation_tables,
)
from ml.pipeline.text import _cut_snippet, _snippets, resume_tables, resume_tables_from_parsed, transcript_tables
from ml.pipeline.text_refresh import (
    INTERVIEW_TABLES,
    RESUME_BATCH,
    RESUME_TABLES,
    TEXT_BATCH_INTERVIEWS,
    TEXT_RULES_VERSION,
    TEXT_STATE,
    TextRefresh,
    previous_text_state,
    refresh_text_tables,
    text_rules_digest,
)
from ml.pipeline.turnover import turnover_tables
from ml.pipeline.validity import validity_tables

# Not the pipeline's own, but read as pipeline.<name> by the assets and tests.
from ml.text_features import load_lexicon
from ml.weights import DEFAULT_MIN_HIRES

__all__ = [
    "APPLICANTS_SQL",
    "CARE_COMPETENCY",
    "COMPLAINT_NOTE",
    "CONTRACTS",
    "COX_NOTE",
    "DATE",
    "DEFAULT_BLEND_SHARES",
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_COMPLAINT_MIN_HIRES",
    "DEFAULT_CRITERION_RELIABILITY",
    "DEFAULT_CV_SPLITS",
    "DEFAULT_GATE_BOOT",
    "DEFAULT_EARLY_LEAVER_POLICY",
    "DEFAULT_HOLDOUT_FRACTION",
    "DEFAULT_MAX_CHANGE",
    "DEFAULT_MIN_EVENTS_PER_TERM",
    "DEFAULT_MIN_HIRES",
    "DEFAULT_OUTCOME_MIX",
    "DEFAULT_SURVIVAL_MIN_HIRES",
    "DIMENSION_NAMES",
    "EXTRAS",
    "HIRES_SQL",
    "INTERVIEW_FINGERPRINTS_SQL",
    "INTERVIEW_TABLES",
    "MIN_HOLDOUT_EVENTS",
    "OUTCOMES",
    "RESUMES_SQL",
    "RESUME_BATCH",
    "RESUME_BATCH_SQL",
    "RESUME_FINGERPRINTS_SQL",
    "RESUME_TABLES",
    "SCORE_PREFIX",
    "SEGMENTS_SQL",
    "SEGMENT_BATCH_SQL",
    "SNIPPET_CHARS",
    "TEXT_BATCH_INTERVIEWS",
    "TEXT_RULES_VERSION",
    "TEXT_STATE",
    "WEIGHT_PREFIX",
    "TextRefresh",
    "_cut_snippet",
    "_snippets",
    "care_mentions",
    "competencies_from_weights",
    "complaint_tables",
    "conform",
    "current_weights_from",
    "fairness_gate_table",
    "load_applicants",
    "load_hires",
    "load_job_families",
    "load_lexicon",
    "load_ml_table",
    "load_resumes",
    "load_segments",
    "next_quarter_start",
    "prepare_hires",
    "previous_text_state",
    "recommendation_tables",
    "recommendation_version",
    "refresh_text_tables",
    "resume_tables",
    "resume_tables_from_parsed",
    "text_rules_digest",
    "transcript_tables",
    "turnover_tables",
    "validity_tables",
]
