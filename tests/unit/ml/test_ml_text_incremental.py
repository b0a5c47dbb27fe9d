"""refresh_text_tables on a temporary DuckDB: an incremental run (previous outputs + a day of new, changed and
erased documents) writes exactly the tables a from-scratch run writes on the same data, and recomputes only the
documents that changed."""

import datetime as dt

import duckdb
import pandas as pd
import pytest

from ml import pipeline
from ml.outputs import write_model_output

TABLES = ("transcript_features", "keyword_evidence", "resume_features")
DAY1, DAY2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)
SAY = {
    "i1": ["I listened to the customer and explained the solution.", "Our team worked together on the data."],
    "i2": ["I took ownership and delivered on time.", "I analysed the root cause."],
    "i3": ["我会倾听客户的需求，团队合作很重要。"],
    "i4": ["I like to learn a new skill every month."],
    "i5": ["Step by step, I explained my reasoning to the client."],
}
WRITE = {
    "r1": "Software engineer, 6 years of experience. BSc Computer Science. SKILLS Python, SQL, Docker, AWS",
    "r2": "Customer service agent with 3 years of experience. High school. SKILLS CRM, Zendesk, English",
    "r3": "Engineer, 12 years. Master's degree. SKILLS Java, Kubernetes, Git, Linux, Python",
    "r4": "拥有五年客服经验，本科，英语流利",
    "r5": "Support specialist, 2 yrs. SKILLS live chat, ticket triage",
    "r6": "",
}


def _day(day: int) -> dict[str, pd.DataFrame]:
    """Mart and staging frames as they stand after `day` (1 or 2)."""
    keys = [f"c{k}" for k in range(1, 8 if day == 2 else 7)]
    candidates = pd.DataFrame(
        {
            "candidate_key": keys,
            "gender": "unknown",
            "ethnicity": "unknown",
            "consent_recording": True,
            # Day 2: c3 has their recordings erased; c4 is erased altogether (gone from the marts).
            "is_recording_erased": [day == 2 and k == "c3" for k in keys],
        }
    )
    families = {"c1": "software_engineering", "c2": "customer_service", "c3": "software_engineering"}
    interviews = [
        (f"i{k}", f"c{k}", families.get(f"c{k}", "customer_service" if k % 2 else "software_engineering"), DAY1, s)
        for k, s in zip(range(1, 7), [0.8, 0.4, 0.6, 0.5, 0.3, 0.7], strict=True)
    ]
    segments = [
        (i, n, f"Q{n}", "candidate", 10.0 * n, 10.0 * n + 8, text, "zh" if i == "i3" else "en", DAY1)
        for i, texts in SAY.items()
        for n, text in enumerate(texts, start=1)
    ]
    segments.append(("i1", 9, "Q9", "interviewer", 90.0, 95.0, "Thanks, customer service matters.", "en", DAY1))
    resumes = [(f"r{k}", f"c{k}", WRITE[f"r{k}"], DAY1) for k in range(1, 7)]
    if day == 2:
        # A new candidate with an interview and a resume; c1 interviews again, in another family; i2's second
        # segment and r5 are delivered again, changed.
        interviews += [("i7", "c7", "customer_service", DAY2, 0.9), ("i8", "c1", "customer_service", DAY2, 0.2)]
        segments += [
            ("i7", 1, "Q1", "candidate", 0.0, 12.0, "I support colleagues and satisfy every customer.", "en", DAY2),
            ("i7", 2, "Q2", "Candidate", 12.0, 12.0, "Feedback helps me learn.", None, DAY2),
        ]
        segments = [s for s in segments if s[:2] != ("i2", 2)]
        segments.append(
            ("i2", 2, "Q2", "candidate", 10.0, 30.0, "I solved it with a structured hypothesis.", "en", DAY2)
        )
        resumes = [r for r in resumes if r[0] != "r5"]
        resumes += [
            ("r5", "c5", "Support specialist, 4 yrs. SKILLS live chat, CRM, English. Bachelor", DAY2),
            ("r7", "c7", "Customer service, 1 year. SKILLS Zendesk, call handling", DAY2),
        ]
        candidates = candidates[candidates["candidate_key"] != "c4"]
    interview_frame = pd.DataFrame(
        interviews, columns=["interview_id", "candidate_key", "job_family", "started_at", "composite_score"]
    ).assign(is_completed=True, started_at=lambda f: pd.to_datetime(f["started_at"]))
    segment_frame = pd.DataFrame(
        segments,
        columns=[
            "interview_id",
            "segment_no",
            "question_id",
            "speaker",
            "start_seconds",
            "end_seconds",
            "segment_text",
            "language",
            "landed_on",
        ],
    ).assign(loaded_at=lambda f: pd.to_datetime(f["landed_on"]) + pd.Timedelta(hours=2))
    resume_frame = pd.DataFrame(resumes, columns=["resume_id", "candidate_key", "resume_text", "landed_on"]).assign(
        received_at=lambda f: pd.to_datetime(f["landed_on"]),
        loaded_at=lambda f: pd.to_datetime(f["landed_on"]) + pd.Timedelta(hours=2),
    )
    analysable = interview_frame[interview_frame["candidate_key"].isin(candidates["candidate_key"])]
    hires = pd.DataFrame({"candidate_key": ["c2"], "job_family": ["customer_service"]})
    # marts.applicant_pool as dbt builds it: each candidate has one interview per family here, so it is the latest.
    pool = analysable.merge(candidates[["candidate_key", "gender", "ethnicity"]], on="candidate_key").merge(
        hires.assign(hired=True), on=["candidate_key", "job_family"], how="left"
    )
    return {
        "marts.candidates": candidates,
        "marts.interviews": analysable,
        "marts.hires": hires,
        "marts.applicant_pool": pool.assign(hired=pool["hired"].eq(True)),
        "staging.stg_interview_vendor__transcript_segments": segment_frame,
        "staging.stg_ats__resumes": resume_frame,
        "raw.load_log": pd.DataFrame(
            {"_partition_date": [DAY1 if day == 1 else DAY2], "_loaded_at": [pd.Timestamp(DAY1)]}
        ),
    }


def _load(con: duckdb.DuckDBPyConnection, day: int) -> None:
    con.execute(
        "create schema if not exists marts; create schema if not exists staging; create schema if not exists raw"
    )
    for name, frame in _day(day).items():
        con.register("_frame", frame)
        con.execute(f"create or replace table {name} as select * from _frame")
        con.unregister("_frame")


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    return {t: con.execute(f"select * exclude (model_version, fitted_at) from ml.{t}").df() for t in TABLES}


def _assert_same(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)


@pytest.fixture()
def scratch(tmp_path):
    """Day 2 built from scratch: the tables every incremental run must reproduce."""
    con = duckdb.connect(str(tmp_path / "scratch.duckdb"))
    _load(con, 2)
    result = pipeline.refresh_text_tables(con, run_id="scratch-0", full_refresh=True)
    yield con, result
    con.close()


def test_an_incremental_day_equals_a_from_scratch_build(tmp_path, scratch):
    con = duckdb.connect(str(tmp_path / "nightly.duckdb"))
    _load(con, 1)
    first = pipeline.refresh_text_tables(con, run_id="day-one-0")
    assert first.metrics["interviews_computed"] == 5 and first.metrics["resumes_parsed"] == 6
    _load(con, 2)
    second = pipeline.refresh_text_tables(con, run_id="day-two-0")
    # Recomputed: i7 (new) and i2 (re-delivered); r7 (new) and r5 (changed). i3 and i4 (erased), r4 are dropped.
    assert second.metrics["interviews_computed"] == 2 and second.metrics["resumes_parsed"] == 2
    got, want = _tables(con), _tables(scratch[0])
    _assert_same(got, want)
    assert set(got["transcript_features"]["interview_id"]) == {"i1", "i2", "i5", "i7"}
    assert "i3" not in set(got["keyword_evidence"]["interview_id"]) and "r4" not in set(
        got["resume_features"]["resume_id"]
    )
    # c1's latest interview is now customer_service: their unchanged resume is read against it.
    r1 = got["resume_features"].set_index("resume_id").loc["r1"]
    assert r1["job_family"] == "customer_service" and r1["skills"] == "aws, docker, python, sql"
    # Versions, history and the registry as write_model_output keeps them.
    for name in TABLES:
        versions = con.execute(f"select distinct model_version from ml.{name}").fetchall()
        assert versions == [(second.versions[name],)] and second.versions[name].startswith(f"{name}-")
        runs = con.execute(f"select count(distinct model_version) from ml.{name}_history").fetchall()[0][0]
        assert runs == 2
    registered = con.execute("select model, run_id, rows from ml.model_runs where run_id = 'day-two-0'").fetchall()
    assert {(m, n) for m, _, n in registered} == {(t, second.rows[t]) for t in TABLES}
    con.close()


def test_the_batch_path_equals_the_plain_table_functions(scratch):
    con, _ = scratch
    plain = pipeline.transcript_tables(pipeline.load_segments(con))
    plain["resume_features"] = pipeline.resume_tables(pipeline.load_resumes(con), pipeline.load_applicants(con))
    got = _tables(con)
    for name in TABLES:
        want = pipeline.conform(plain[name], name)
        pd.testing.assert_frame_equal(pipeline.conform(got[name], name), want, check_exact=True, obj=name)
    assert len(got["keyword_evidence"]) > 10 and got["resume_features"]["resume_interview_mismatch"].dtype == bool


def test_batches_of_one_interview_give_the_same_tables(tmp_path, scratch):
    con = duckdb.connect(str(tmp_path / "small.duckdb"))
    _load(con, 2)
    pipeline.refresh_text_tables(con, run_id="small-0", batch_interviews=1, batch_resumes=1)
    _assert_same(_tables(con), _tables(scratch[0]))
    con.close()


def test_new_rules_or_a_table_rewritten_elsewhere_mean_recomputing_everything(tmp_path, scratch):
    con = duckdb.connect(str(tmp_path / "rules.duckdb"))
    _load(con, 2)
    pipeline.refresh_text_tables(con, run_id="one-0")
    again = pipeline.refresh_text_tables(con, run_id="two-0")
    assert again.metrics["interviews_computed"] == 0 and again.metrics["resumes_parsed"] == 0
    lexicon = pipeline.load_lexicon()
    lexicon["competencies"]["teamwork"]["en"].append("crew")
    changed = pipeline.refresh_text_tables(con, lexicon, run_id="three-0")
    assert changed.metrics["interviews_computed"] == 4 and changed.metrics["resumes_parsed"] == 6
    pipeline.refresh_text_tables(con, run_id="four-0")  # back to the project lexicon: everything again
    # Another writer replaces a table: the stored fingerprints no longer describe it.
    write_model_output(con, "resume_features", _tables(con)["resume_features"], "other-00", {})
    rewritten = pipeline.refresh_text_tables(con, run_id="five-0")
    assert rewritten.metrics["resumes_parsed"] == 6 and rewritten.metrics["interviews_computed"] == 0
    _assert_same(_tables(con), _tables(scratch[0]))
    con.close()
