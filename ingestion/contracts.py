"""Source contracts: the canonical columns every reader maps to (DESIGN.md, 'Source contracts')."""

from __future__ import annotations

from dataclasses import dataclass, field

STRING, INT, FLOAT, BOOL, DATE, TIMESTAMP = "string", "int", "float", "bool", "date", "timestamp"
# A score arrives as a number or as a rating word (strong_yes ...): it stays text until the rating seed maps it.
SCORE = "score"

APPLICATION_EVENTS = (
    "applied",
    "screened_in",
    "screened_out",
    "interview_invited",
    "interview_completed",
    "offer_made",
    "offer_accepted",
    "offer_declined",
    "hired",
    "rejected",
    "withdrawn",
)
TERMINAL_EVENTS = ("hired", "rejected", "withdrawn", "screened_out", "offer_declined")


@dataclass(frozen=True)
class Column:
    name: str
    type: str = STRING
    required: bool = False
    allowed: tuple[str, ...] | None = None
    pii: bool = False
    # "source.column": the value must exist among that source's loaded keys.
    references: str | None = None
    # A person identifier: replaced in raw by a keyed hash (<name> keeps its name, the value is the key).
    pseudonymise: bool = False
    # A PII column kept in raw only as a keyed hash in <name>_key, so hires can be matched without the value.
    match_key: bool = False
    # Longest text accepted in this column, in characters; longer is quarantined, never cut.
    max_length: int = 10_000


@dataclass(frozen=True)
class Contract:
    source: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.source} has no column {name!r}")


def _c(name: str, type_: str = STRING, **kw) -> Column:
    return Column(name, type_, **kw)


CONTRACTS: dict[str, Contract] = {
    c.source: c
    for c in (
        Contract(
            "requisitions",
            key=("requisition_id",),
            columns=(
                _c("requisition_id", required=True),
                _c("job_family", required=True),
                _c("job_title"),
                _c("department", required=True),
                _c("region", required=True),
                _c("opened_at", DATE, required=True),
                _c("closed_at", DATE),
                _c("headcount", INT),
            ),
        ),
        Contract(
            "candidates",
            key=("candidate_id",),
            columns=(
                _c("candidate_id", required=True, pseudonymise=True),
                _c("full_name", pii=True, match_key=True),
                _c("email", pii=True, match_key=True),
                _c("phone", pii=True),
                _c("gender"),
                _c("ethnicity"),
                _c("age_band"),
                _c("source_channel"),
                _c("region"),
                _c("consent_recording", BOOL),
                _c("consent_analytics", BOOL),
                _c("consent_at", TIMESTAMP, required=True),
            ),
        ),
        Contract(
            "application_events",
            key=("application_id", "event", "event_at"),
            columns=(
                _c("application_id", required=True),
                _c("event", required=True, allowed=APPLICATION_EVENTS),
                _c("event_at", TIMESTAMP, required=True),
                _c("candidate_id", required=True, references="candidates.candidate_id", pseudonymise=True),
                _c("requisition_id", required=True, references="requisitions.requisition_id"),
            ),
        ),
        Contract(
            "resumes",
            key=("resume_id",),
            columns=(
                _c("resume_id", required=True),
                _c("candidate_id", required=True, references="candidates.candidate_id", pseudonymise=True),
                _c("received_at", TIMESTAMP, required=True),
                _c("format", required=True, allowed=("txt", "pdf", "docx")),
                # Either the text itself or a path, relative to the landing file, of a document to extract.
                _c("text", max_length=200_000),
                _c("file_path"),
            ),
        ),
        Contract(
            "interviews",
            key=("interview_id",),
            columns=(
                _c("interview_id", required=True),
                _c("application_id", required=True),
                _c("candidate_id", required=True, references="candidates.candidate_id", pseudonymise=True),
                _c("requisition_id", required=True, references="requisitions.requisition_id"),
                _c("started_at", TIMESTAMP, required=True),
                _c("ended_at", TIMESTAMP),
                _c("mode", required=True, allowed=("ai_video", "human_video", "onsite")),
                _c("status", required=True, allowed=("completed", "abandoned", "technical_failure")),
                _c("vendor"),
                _c("jurisdiction"),
            ),
        ),
        Contract(
            "interview_scores",
            key=("interview_id", "rater_id", "competency"),
            columns=(
                _c("interview_id", required=True, references="interviews.interview_id"),
                _c("rater_id", required=True),
                _c("competency", required=True),
                _c("rater_type", required=True, allowed=("ai", "human")),
                _c("score", SCORE, required=True),
                _c("scale_min", FLOAT, required=True),
                _c("scale_max", FLOAT, required=True),
                _c("scored_at", TIMESTAMP, required=True),
                _c("model_version"),
            ),
        ),
        Contract(
            "transcript_segments",
            key=("interview_id", "segment_no"),
            columns=(
                _c("interview_id", required=True, references="interviews.interview_id"),
                _c("segment_no", INT, required=True),
                _c("question_id"),
                _c("speaker", required=True, allowed=("candidate", "interviewer", "system")),
                _c("start_s", FLOAT),
                _c("end_s", FLOAT),
                _c("text", max_length=20_000),
                _c("language"),
            ),
        ),
        Contract(
            "employees",
            key=("employee_id",),
            columns=(
                _c("employee_id", required=True, pseudonymise=True),
                _c("candidate_id", pseudonymise=True),
                _c("email", pii=True, match_key=True),
                _c("full_name", pii=True, match_key=True),
                _c("hire_date", DATE, required=True),
                _c("job_family", required=True),
                _c("department"),
                _c("manager_id", pseudonymise=True),
                _c("region"),
                _c("termination_date", DATE),
                _c("termination_type", allowed=("voluntary", "involuntary")),
                _c("termination_reason"),
            ),
        ),
        Contract(
            "performance_reviews",
            key=("employee_id", "review_date", "review_period"),
            columns=(
                _c("employee_id", required=True, references="employees.employee_id", pseudonymise=True),
                _c("review_date", DATE, required=True),
                _c("review_period", required=True, allowed=("probation", "3m", "6m", "12m", "annual")),
                _c("rating", SCORE),
                _c("scale_min", FLOAT),
                _c("scale_max", FLOAT),
                _c("reviewer_id"),
                _c("probation_passed", BOOL),
            ),
        ),
        Contract(
            "complaints",
            key=("complaint_id",),
            columns=(
                _c("complaint_id", required=True),
                _c("employee_id", required=True, references="employees.employee_id", pseudonymise=True),
                _c("received_at", TIMESTAMP, required=True),
                _c("channel"),
                _c("category"),
                _c("severity", allowed=("low", "medium", "high")),
                _c("substantiated", BOOL),
            ),
        ),
        Contract(
            "erasure_requests",
            key=("candidate_id",),
            columns=(
                _c("candidate_id", required=True, pseudonymise=True),
                _c("requested_at", TIMESTAMP, required=True),
                _c("scope", allowed=("all", "recordings", "analytics")),
            ),
        ),
    )
}

SOURCES: tuple[str, ...] = tuple(CONTRACTS)

# Columns every raw table carries beside its contract columns (DESIGN.md, 'Data flow').
# _partition_date is the landing folder's day: a rerun of that day replaces exactly its rows.
LINEAGE_COLUMNS = ("_source_file", "_row_number", "_loaded_at", "_batch_id", "_row_hash", "_partition_date")
