"""The text tables, refreshed incrementally: features are computed only for interviews and resumes that are new
or changed since the last run, and the three tables are written in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import duckdb
import numpy as np
import pandas as pd

from ml.outputs import REGISTRY_DDL, _type_null_columns, data_snapshot, record_fit
from ml.pipeline.contracts import SNIPPET_CHARS, conform
from ml.pipeline.frames import (
    INTERVIEW_FINGERPRINTS_SQL,
    RESUME_FINGERPRINTS_SQL,
    load_applicants,
    load_resumes,
    load_segments,
)
from ml.pipeline.text import _transcript_frames, resume_tables_from_parsed, transcript_tables
from ml.text_features import RESUME_PARSE_COLUMNS, load_lexicon, parse_resume_texts

# Interviews per batch: ~50 segments each, so ~100k segments and ~100 MB of frames per batch, however long the
# history is. Resumes are ~1 kB each.
TEXT_BATCH_INTERVIEWS = 2_000
RESUME_BATCH = 10_000
# One row per analysed document: what its stored rows were computed from. Written with the three tables.
TEXT_STATE = "text_feature_inputs"
# Bump when a change to the text rules (ml/text_features.py, the snippet) changes any output for unchanged
# input, so that stored rows computed by the older rules are recomputed instead of reused.
TEXT_RULES_VERSION = "1"
INTERVIEW_TABLES: tuple[str, ...] = ("transcript_features", "keyword_evidence")
RESUME_TABLES: tuple[str, ...] = ("resume_features",)
_STATE_COLUMNS = ["document_id", "candidate_key", "fingerprint"]
_SEGMENT_FRAME_COLUMNS = [
    "interview_id",
    "candidate_key",
    "segment_no",
    "question_id",
    "speaker",
    "start_s",
    "end_s",
    "text",
    "language",
]


class TextRefresh(NamedTuple):
    """What refresh_text_tables wrote: each table's version and row count, and the run's metrics."""

    versions: dict[str, str]
    rows: dict[str, int]
    metrics: dict


def text_rules_digest(lexicon: Mapping) -> str:
    """A digest of everything besides a document's own text that its stored rows depend on."""
    payload = {"lexicon": lexicon, "rules": TEXT_RULES_VERSION, "snippet_chars": SNIPPET_CHARS}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _outputs_key(versions: Mapping[str, str | None], tables: Sequence[str]) -> str:
    return json.dumps({t: versions.get(t) for t in tables}, sort_keys=True)


def previous_text_state(con: duckdb.DuckDBPyConnection, kind: str, digest: str) -> pd.DataFrame:
    """document_id, candidate_key, fingerprint of the `kind` documents ('interview' or 'resume') whose rows in the
    ml tables were computed under these rules; empty when nothing can be reused."""
    tables = INTERVIEW_TABLES if kind == "interview" else RESUME_TABLES
    empty = pd.DataFrame(columns=_STATE_COLUMNS)
    if not _ml_exists(con, TEXT_STATE, "model_runs"):
        return empty
    state = con.execute(
        f"select document_id, candidate_key, fingerprint, rules, outputs from ml.{TEXT_STATE} where document_kind = ?",
        [kind],
    ).df()
    latest = con.execute(
        "select model, arg_max(model_version, fitted_at) from ml.model_runs where model in ? group by model",
        [list(tables)],
    ).fetchall()
    # Valid only with the tables it was written with: the versions it names must be the latest registered ones
    # (a table rewritten any other way since then makes every document new again).
    current = _outputs_key(dict(latest), tables)
    if state.empty or set(state["rules"]) != {digest} or set(state["outputs"]) != {current}:
        return empty
    return state[_STATE_COLUMNS]


def _unchanged(current: pd.DataFrame, previous: pd.DataFrame) -> list[str]:
    """document_id of the current documents whose fingerprint and candidate are as before."""
    if previous.empty:
        return []
    same = current[_STATE_COLUMNS].merge(previous.astype(object), on=_STATE_COLUMNS, how="inner")
    return same["document_id"].astype(str).tolist()


def _batches(ids: Sequence[str], size: int):
    for start in range(0, len(ids), max(1, size)):
        yield list(ids[start : start + size])


def _ml_exists(con: duckdb.DuckDBPyConnection, *names: str) -> bool:
    """Whether every ml.<name> table exists in the connection's database."""
    # Asked of the catalog, not by querying and catching the error: for a missing table DuckDB first tries a
    # Python variable of that name (a replacement scan), and this package has functions named like its tables.
    found = con.execute(
        "select count(distinct table_name) from duckdb_tables() "
        "where database_name = current_database() and schema_name = 'ml' and table_name in ?",
        [list(names)],
    ).fetchall()[0][0]
    return found == len(set(names))


def _ml_rows(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> pd.DataFrame:
    """The result of a query on ml.<table>, or an empty frame when the table does not exist yet."""
    return con.execute(sql).df() if _ml_exists(con, table) else pd.DataFrame()


def _keep_ids(con: duckdb.DuckDBPyConnection, name: str, ids: Sequence[str]) -> None:
    """A temporary one-column table of document ids, for semi-joins against the ml tables."""
    con.execute(f"create or replace temp table {name} (document_id varchar)")
    if len(ids):
        con.register("_text_ids", pd.DataFrame({"document_id": pd.Series(list(ids), dtype=object)}))
        con.execute(f"insert into {name} select document_id from _text_ids")
        con.unregister("_text_ids")


def _refresh_transcripts(
    con: duckdb.DuckDBPyConnection,
    lexicon: Mapping,
    interviews: pd.DataFrame,
    previous: pd.DataFrame,
    batch_size: int,
) -> tuple[pd.DataFrame, str, int]:
    """ml.transcript_features as a frame, the query that yields ml.keyword_evidence, and the number of
    interviews computed. Kept rows come from the current ml tables; new evidence goes to a temporary table a batch
    at a time, so that neither the segments nor the evidence of the whole history is ever held in memory."""
    _keep_ids(con, "_text_kept_interviews", _unchanged(interviews, previous))
    kept_features = _ml_rows(
        con,
        "transcript_features",
        "select * exclude (model_version, fitted_at) from ml.transcript_features "
        "where interview_id in (select document_id from _text_kept_interviews)",
    )
    kept = set(kept_features["interview_id"]) if len(kept_features) else set()
    # Only interviews whose feature row was found count as kept (their evidence may rightly be empty).
    _keep_ids(con, "_text_kept_interviews", sorted(kept))
    todo = [i for i in interviews["document_id"] if i not in kept]

    evidence_columns = conform(pd.DataFrame(), "keyword_evidence")
    con.register("_text_batch", evidence_columns)
    con.execute("create or replace temp table _text_new_evidence as select * from _text_batch")
    con.unregister("_text_batch")
    frames = [kept_features] if len(kept_features) else []
    for ids in _batches(todo, batch_size):
        new_features, new_evidence = _transcript_frames(load_segments(con, ids), lexicon)
        frames.append(new_features)
        if len(new_evidence):
            # Not conformed here: at ~10 rows an interview, conform's per-value loop would cost more than finding
            # the keywords. The text columns hold str or None (from the warehouse, or made here), which DuckDB
            # stores as conform would; the numbers get their contract types first.
            new_evidence = new_evidence.astype({"segment_no": "Int64", "start_s": "float64"})
            con.register("_text_batch", new_evidence)
            con.execute("insert into _text_new_evidence by name select * from _text_batch")
            con.unregister("_text_batch")
    if frames:
        features = pd.concat(frames, ignore_index=True).sort_values("interview_id", kind="stable")
        features = conform(features, "transcript_features")
    else:
        features = transcript_tables(pd.DataFrame(columns=_SEGMENT_FRAME_COLUMNS), lexicon)["transcript_features"]

    cols = ", ".join(f'"{c}"' for c in evidence_columns.columns)
    kept_evidence = (
        f"select {cols} from ml.keyword_evidence "
        "where interview_id in (select document_id from _text_kept_interviews) union all "
        if kept and _ml_exists(con, "keyword_evidence")
        else ""
    )
    evidence = (
        f"select * from ({kept_evidence}select {cols} from _text_new_evidence) "
        "order by interview_id, segment_no, competency_code, keyword"
    )
    return features, evidence, len(todo)


def _parsed_from_output(rows: pd.DataFrame) -> pd.DataFrame:
    """parse_resume_texts columns recovered from ml.resume_features rows, indexed by resume_id."""
    return pd.DataFrame(
        {
            "education_level": rows["education_level"].astype(object).to_numpy(),
            "education_rank": rows["education_rank"].astype(np.int64).to_numpy(),
            "years_experience": rows["years_experience"].astype(float).to_numpy(),
            "skills": [s.split(", ") if isinstance(s, str) and s else [] for s in rows["skills"]],
            "n_skills": rows["n_skills"].astype(np.int64).to_numpy(),
            # resume_job_fit puts "empty resume text" first in the reason exactly when the text is blank.
            "blank": rows["reason"].fillna("").astype(str).str.startswith("empty resume text").to_numpy(dtype=bool),
        },
        index=pd.Index(rows["resume_id"].astype(str), name="resume_id"),
        columns=RESUME_PARSE_COLUMNS,
    )


def _refresh_resumes(
    con: duckdb.DuckDBPyConnection,
    lexicon: Mapping,
    resumes: pd.DataFrame,
    previous: pd.DataFrame,
    batch_size: int,
    applicants: pd.DataFrame,
    high: float,
    low: float,
) -> tuple[pd.DataFrame, int]:
    """ml.resume_features, and the number of resumes parsed: unchanged resumes keep their parsed fields, the rest
    are parsed a batch at a time; family fit, ranks and the mismatch flag are computed for all."""
    _keep_ids(con, "_text_kept_resumes", _unchanged(resumes, previous))
    kept = _ml_rows(
        con,
        "resume_features",
        "select resume_id, education_level, education_rank, years_experience, skills, n_skills, reason "
        "from ml.resume_features where resume_id in (select document_id from _text_kept_resumes)",
    )
    parsed = [_parsed_from_output(kept)] if len(kept) else []
    reused = set(parsed[0].index) if parsed else set()
    todo = [r for r in resumes["document_id"] if r not in reused]
    for ids in _batches(todo, batch_size):
        batch = load_resumes(con, ids)
        index = pd.Index(batch["resume_id"].astype(str), name="resume_id")
        parsed.append(parse_resume_texts(batch["text"].tolist(), lexicon).set_axis(index))
    parsed_all = pd.concat(parsed) if parsed else pd.DataFrame(columns=RESUME_PARSE_COLUMNS)
    docs = resumes[resumes["document_id"].isin(parsed_all.index)]
    table = resume_tables_from_parsed(
        docs.rename(columns={"document_id": "resume_id"})[["resume_id", "candidate_key"]],
        parsed_all.loc[docs["document_id"]].reset_index(drop=True),
        applicants,
        lexicon,
        high,
        low,
    )
    return table, len(todo)


def _state_rows(kind: str, documents: pd.DataFrame, digest: str, versions: Mapping[str, str]) -> pd.DataFrame:
    tables = INTERVIEW_TABLES if kind == "interview" else RESUME_TABLES
    return pd.DataFrame(
        {
            "document_kind": kind,
            **{c: documents[c].astype(object).to_numpy() for c in _STATE_COLUMNS},
            "rules": digest,
            "outputs": _outputs_key(versions, tables),
        },
        index=range(len(documents)),
    )


def _write_text_outputs(
    con: duckdb.DuckDBPyConnection,
    sources: Mapping[str, pd.DataFrame | str],
    state: pd.DataFrame,
    versions: Mapping[str, str],
    fitted_at: dt.datetime,
    run_id: str,
    parameters: Mapping,
    metrics: dict,
) -> dict[str, int]:
    """write_model_output for each table (ml.<name>, its history, a registry row; same versions and columns),
    from a frame or a query, and ml.text_feature_inputs, all in one transaction; returns the row counts."""
    # The evidence of every interview is ~10 rows each: at a million candidates it is too big to pass through
    # pandas, so it is written by a query over the kept and the new rows instead of write_model_output's frame.
    con.execute("create schema if not exists ml")
    con.execute(REGISTRY_DDL)
    snapshot = data_snapshot(con)  # outside the transaction: a failed lookup must not abort the write
    frames = {name: src for name, src in sources.items() if isinstance(src, pd.DataFrame)}
    for name, frame in frames.items():
        con.register(f"_text_out_{name}", frame)
    con.register("_text_state", state)
    rows: dict[str, int] = {}
    try:
        con.execute("begin transaction")
        for name, src in sources.items():
            select = f"select * from _text_out_{name}" if name in frames else src
            con.execute(
                f"create or replace table ml.{name} as "
                f"select *, ?::varchar as model_version, ?::timestamp as fitted_at from ({select})",
                [versions[name], fitted_at],
            )
            _type_null_columns(con, f"ml.{name}")
            rows[name] = con.execute(f"select count(*) from ml.{name}").fetchall()[0][0]
        metrics.update(
            interviews=rows["transcript_features"],
            keyword_hits=rows["keyword_evidence"],
            resumes=rows["resume_features"],
        )
        for name in sources:
            record_fit(con, name, versions[name], run_id, fitted_at, rows[name], parameters, metrics, snapshot)
        con.execute(f"create or replace table ml.{TEXT_STATE} as select * from _text_state")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        for name in frames:
            con.unregister(f"_text_out_{name}")
        con.unregister("_text_state")
    return rows


def refresh_text_tables(
    con: duckdb.DuckDBPyConnection,
    lexicon: Mapping | None = None,
    run_id: str = "manual",
    parameters: Mapping | None = None,
    high: float = 0.75,
    low: float = 0.25,
    applicants: pd.DataFrame | None = None,
    batch_interviews: int = TEXT_BATCH_INTERVIEWS,
    batch_resumes: int = RESUME_BATCH,
    full_refresh: bool = False,
) -> TextRefresh:
    """Write ml.transcript_features, ml.keyword_evidence and ml.resume_features, computing text features only for
    the interviews and resumes that are new or changed since the last run.

    An interview's features and evidence and a resume's parsed fields depend on that document's text only: they
    are kept from the last run when the document's fingerprint (INTERVIEW_/RESUME_FINGERPRINTS_SQL) and the rules
    (text_rules_digest) are unchanged, computed in batches otherwise, and dropped with documents that are no
    longer analysable. What is read against the job family or ranked within it is computed for every resume. The
    tables equal those of a from-scratch run (the first run, or full_refresh=True). The three tables, their
    history and registry rows and ml.text_feature_inputs are written in one transaction.
    """
    lexicon = load_lexicon() if lexicon is None else lexicon
    digest = text_rules_digest(lexicon)
    applicants = load_applicants(con) if applicants is None else applicants
    interviews = con.execute(INTERVIEW_FINGERPRINTS_SQL).df()
    resumes = con.execute(RESUME_FINGERPRINTS_SQL).df()
    none = pd.DataFrame(columns=_STATE_COLUMNS)
    try:
        features, evidence, n_interviews = _refresh_transcripts(
            con,
            lexicon,
            interviews,
            none if full_refresh else previous_text_state(con, "interview", digest),
            batch_interviews,
        )
        resume_table, n_resumes = _refresh_resumes(
            con,
            lexicon,
            resumes,
            none if full_refresh else previous_text_state(con, "resume", digest),
            batch_resumes,
            applicants,
            high,
            low,
        )
        fitted_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        versions = {t: f"{t}-{fitted_at:%Y%m%dT%H%M%S}-{run_id[:8]}" for t in (*INTERVIEW_TABLES, *RESUME_TABLES)}
        state = pd.concat(
            [
                _state_rows(
                    "interview", interviews[interviews["document_id"].isin(features["interview_id"])], digest, versions
                ),
                _state_rows(
                    "resume", resumes[resumes["document_id"].isin(resume_table["resume_id"])], digest, versions
                ),
            ],
            ignore_index=True,
        )
        metrics = {
            "resume_interview_mismatches": int(resume_table["resume_interview_mismatch"].sum()),
            "interviews_computed": n_interviews,
            "resumes_parsed": n_resumes,
        }
        rows = _write_text_outputs(
            con,
            {"transcript_features": features, "keyword_evidence": evidence, "resume_features": resume_table},
            state,
            versions,
            fitted_at,
            run_id,
            parameters or {},
            metrics,
        )
    finally:
        for name in ("_text_kept_interviews", "_text_kept_resumes", "_text_new_evidence"):
            con.execute(f"drop table if exists temp.{name}")
    return TextRefresh(versions, rows, metrics)
