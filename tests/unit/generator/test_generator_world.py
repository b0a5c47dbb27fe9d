"""The world's own files against its truth.json: shapes, dates, counts, and the planted effects being visible."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import docx
import numpy as np
import pandas as pd
import pytest
from generator_helpers import landing_files, read_clean_source, read_header, read_rows
from pypdf import PdfReader

from ingestion.contracts import CONTRACTS, DATE, SOURCES, TIMESTAMP
from ingestion.generator.vocab import CARE_LEXICON, COMPETENCIES, CUSTOMER_FACING, emitted_labels, emitted_words

FILE_NAME = re.compile(r"^(?P<source>[a-z_]+)_(?P<day>\d{8})(?:_(?P<part>\d+))?\.(csv|jsonl|parquet|xlsx)$")


@pytest.fixture(scope="module")
def world(stats_world):
    return stats_world


@pytest.fixture(scope="module")
def scores_by_candidate(world) -> pd.DataFrame:
    """Mean-over-raters normalised (0-1) score per completed interview and competency, indexed by candidate."""
    out, _ = world
    labels = {label: meta[0] for label, meta in emitted_labels().items()}
    words = emitted_words()
    scores = read_clean_source(out, "interview_scores").copy()
    scores["code"] = scores["competency"].map(labels)
    number = pd.to_numeric(scores["score"], errors="coerce")
    lo, hi = scores["scale_min"].astype(float), scores["scale_max"].astype(float)
    scores["normalised"] = np.where(number.notna(), (number - lo) / (hi - lo), scores["score"].map(words))
    means = scores.groupby(["interview_id", "code"])["normalised"].mean().unstack()
    interviews = read_clean_source(out, "interviews").set_index("interview_id")
    return means.join(interviews["candidate_id"]).set_index("candidate_id")


def test_every_file_has_its_contract_columns_in_order(world):
    out, _ = world
    for source in SOURCES:
        files = landing_files(out, source)
        assert files, source
        for path in files:
            assert read_header(path) == list(CONTRACTS[source].column_names), path


def test_files_are_laid_out_by_source_and_day(world):
    out, truth = world
    last = date.fromisoformat(truth["world"]["last_data_date"])
    for source in SOURCES:
        for path in landing_files(out, source):
            match = FILE_NAME.match(path.name)
            assert match and match["source"] == source, path
            folder_day = date.fromisoformat(path.parent.name)
            assert folder_day.strftime("%Y%m%d") == match["day"]
            assert date.fromisoformat(truth["world"]["start_date"]) <= folder_day <= last


def test_no_date_after_the_worlds_end(world):
    out, truth = world
    last = truth["world"]["last_data_date"]
    for source, contract in CONTRACTS.items():
        dated = [col.name for col in contract.columns if col.type in (DATE, TIMESTAMP)]
        frame = read_clean_source(out, source) if dated else None
        for name in dated:
            values = frame[name].dropna().str[:10]
            assert values.empty or values.max() <= last, (source, name)


def test_each_row_lands_on_the_day_it_became_known(world):
    out, _ = world
    day_column = {
        "requisitions": None,
        "candidates": "consent_at",
        "application_events": "event_at",
        "interview_scores": "scored_at",
        "performance_reviews": "review_date",
        "complaints": "received_at",
    }
    for source, column in day_column.items():
        for path in landing_files(out, source)[:40]:
            header, rows = read_rows(path)
            if column is None:  # a requisition's row comes on the day it opens, its update on the day it closes
                days = {r[header.index("closed_at")] or r[header.index("opened_at")] for r in rows}
            else:
                days = {r[header.index(column)] for r in rows}
            assert {d[:10] for d in days} == {path.parent.name}, path


def test_truth_counts_are_the_rows_in_the_files(world):
    out, truth = world
    for source in SOURCES:
        assert len(read_clean_source(out, source)) == truth["world"]["counts"][source], source


def test_a_termination_arrives_as_a_later_version_of_the_employee(world):
    out, _ = world
    employees = read_clean_source(out, "employees")
    terminated = employees[employees["termination_date"].notna()]
    assert len(terminated) > 10
    assert set(terminated["termination_type"]) == {"voluntary", "involuntary"}
    first = employees[employees["termination_date"].isna()].set_index("employee_id")
    assert terminated["employee_id"].isin(first.index).all()
    assert (terminated["termination_date"].values > terminated["hire_date"].values).all()


def test_strong_competencies_predict_the_6_month_rating_and_zero_beta_ones_do_not(world, scores_by_candidate):
    out, truth = world
    hires = pd.read_csv(out / "world" / "hires.csv")
    reviews = read_clean_source(out, "performance_reviews")
    six = reviews[reviews["review_period"] == "6m"].copy()
    lo, hi = six["scale_min"].astype(float), six["scale_max"].astype(float)
    six["rating01"] = (six["rating"].astype(float) - lo) / (hi - lo)
    frame = hires.merge(six[["employee_id", "rating01"]], on="employee_id").merge(
        scores_by_candidate, left_on="candidate_id", right_index=True
    )
    betas = {f: v["performance_betas"] for f, v in truth["job_families"].items()}
    strong = frame.apply(lambda r: r[max(betas[r.job_family], key=betas[r.job_family].get)], axis=1)
    zero = frame.apply(lambda r: r[next(c for c, b in betas[r.job_family].items() if b == 0)], axis=1)
    assert len(frame) >= 100
    r_strong, r_zero = strong.corr(frame["rating01"]), zero.corr(frame["rating01"])
    assert r_strong > 0.15
    assert r_strong - r_zero > 0.15


def test_hiring_on_the_composite_restricts_its_range(world, scores_by_candidate):
    out, truth = world
    composite = scores_by_candidate[list(COMPETENCIES)].mean(axis=1)
    hired = composite[composite.index.isin(pd.read_csv(out / "world" / "hires.csv")["candidate_id"])]
    assert hired.std() < 0.7 * composite.std()
    selection = truth["selection"]
    assert selection["hired_composite_sd"] < 0.7 * selection["applicant_composite_sd"]
    assert selection["applicant_composite_sd"] == pytest.approx(composite.std(), rel=0.05)


def test_planted_group_differences_show_in_mean_scores(world, scores_by_candidate):
    out, truth = world
    candidates = read_clean_source(out, "candidates").set_index("candidate_id")
    frame = scores_by_candidate.join(candidates[["gender", "ethnicity"]])
    by_gender = frame.groupby("gender")[["communication", "customer_orientation"]].mean()
    assert (by_gender.loc["female"] > by_gender.loc["male"]).all()
    by_ethnicity = frame.groupby("ethnicity")["logical_thinking"].mean()
    assert truth["group_differences"]["ethnicity"]["black"]["logical_thinking"] < 0
    assert by_ethnicity["black"] < by_ethnicity["white"] - 0.02
    assert by_ethnicity["hispanic_latino"] < by_ethnicity["white"] - 0.02


def test_technical_failures_are_more_common_in_the_planted_regions(world):
    out, truth = world
    interviews = read_clean_source(out, "interviews")
    candidates = read_clean_source(out, "candidates").set_index("candidate_id")
    video = interviews[interviews["mode"] != "onsite"].join(candidates["region"], on="candidate_id")
    rate = (video["status"] == "technical_failure").groupby(video["region"]).mean()
    planted = truth["technical_failure_rate_by_region"]["planted"]
    high = max(planted, key=planted.get)
    assert rate[high] > 2 * rate["NA"]
    assert truth["technical_failure_rate_by_region"]["observed"][high] == pytest.approx(rate[high], abs=0.03)


def test_completed_interviews_have_an_ai_rater_and_one_to_three_humans_on_every_competency(world):
    out, truth = world
    scores = read_clean_source(out, "interview_scores")
    # Human scores come up to three days after the interview: at the world's end some are still to come.
    settled = date.fromisoformat(truth["world"]["last_data_date"]) - timedelta(days=4)
    first_scored = scores.groupby("interview_id")["scored_at"].transform("min").str[:10]
    scores = scores[first_scored < settled.isoformat()]
    per_rater = scores.groupby(["interview_id", "rater_id"]).size()
    assert set(per_rater) == {len(COMPETENCIES)}
    kinds = scores.drop_duplicates(["interview_id", "rater_id"]).groupby("interview_id")["rater_type"]
    humans = kinds.apply(lambda k: (k == "human").sum())
    assert set(humans) <= {1, 2, 3} and humans.nunique() == 3
    assert (kinds.apply(lambda k: (k == "ai").sum()) <= 1).all()
    numbers = pd.to_numeric(scores["score"], errors="coerce")
    assert (numbers.dropna() >= scores.loc[numbers.notna(), "scale_min"].astype(float)).all()
    assert (numbers.dropna() <= scores.loc[numbers.notna(), "scale_max"].astype(float)).all()
    scales = set(zip(scores["scale_min"], scores["scale_max"], strict=True))
    assert {("0", "1"), ("1", "5"), ("0", "100"), ("0", "10")} <= scales
    assert scores.loc[numbers.isna(), "score"].isin(emitted_words()).all()


def test_interviewer_leniency_is_recorded_and_visible(world):
    out, truth = world
    scores = read_clean_source(out, "interview_scores")
    scores = scores[(scores["rater_type"] == "human") & (scores["scale_max"] == "5")]
    mean = scores.assign(s=scores["score"].astype(float)).groupby("rater_id")["s"].agg(["mean", "size"])
    mean = mean[mean["size"] >= 60]
    leniency = pd.Series({k: v["leniency"] for k, v in truth["interviewers"].items()})
    assert len(mean) >= 8
    assert np.corrcoef(mean["mean"], leniency[mean.index])[0, 1] > 0.5


def test_truth_weights_are_valid_and_differ_from_the_current_ones(world):
    _, truth = world
    for family, entry in truth["job_families"].items():
        optimal, current = entry["optimal_weights"], entry["current_weights"]
        assert set(optimal) == set(COMPETENCIES) == set(current)
        assert min(optimal.values()) >= 0
        assert sum(optimal.values()) == pytest.approx(1, abs=1e-3)
        assert sum(current.values()) == pytest.approx(1, abs=1e-3)
        assert max(abs(optimal[c] - current[c]) for c in COMPETENCIES) > 0.1, family
        assert entry["validity_in_applicants"]["optimal"] >= entry["validity_in_applicants"]["current"]
        strongest = max(entry["performance_betas"], key=entry["performance_betas"].get)
        assert max(optimal, key=optimal.get) == strongest
    for family in CUSTOMER_FACING:
        assert "complaint_log_rate_ratios" in truth["job_families"][family]


def test_complaints_only_for_customer_facing_hires(world):
    out, _ = world
    employees = read_clean_source(out, "employees").drop_duplicates("employee_id").set_index("employee_id")
    complaints = read_clean_source(out, "complaints")
    assert len(complaints) > 20
    assert set(employees.loc[complaints["employee_id"], "job_family"]) <= set(CUSTOMER_FACING)


def test_hris_rows_can_be_linked_the_way_truth_says(world):
    out, truth = world
    hires = pd.read_csv(out / "world" / "hires.csv").set_index("employee_id")
    employees = read_clean_source(out, "employees").drop_duplicates("employee_id").set_index("employee_id")
    candidates = read_clean_source(out, "candidates").set_index("candidate_id")
    events = read_clean_source(out, "application_events")
    hired_on = events[events["event"] == "hired"].set_index("candidate_id")["event_at"].str[:10]
    joined = hires.join(employees, rsuffix="_hris")
    assert employees["candidate_id"].isna().mean() == pytest.approx(0.3, abs=0.08)
    by_id = joined[joined["expected_link"] == "candidate_id"]
    assert (by_id["candidate_id_hris"] == by_id["candidate_id"]).all()
    by_email = joined[joined["expected_link"] == "email"]
    assert by_email["candidate_id_hris"].isna().all()
    assert (by_email["email"].values == candidates.loc[by_email["candidate_id"], "email"].values).all()
    by_name = joined[joined["expected_link"] == "name_hire_date"]
    truth_ids = by_name["candidate_id"]
    assert by_name["candidate_id_hris"].isna().all() and not by_name["email"].isin(candidates["email"]).any()
    assert (by_name["full_name"].values == candidates.loc[truth_ids, "full_name"].values).all()
    gap = pd.to_datetime(by_name["hire_date"]).values - pd.to_datetime(hired_on.loc[truth_ids]).values
    assert (abs(gap) <= np.timedelta64(truth["employee_links"]["hire_date_max_shift_days"], "D")).all()


def test_resume_documents_are_real_pdf_and_docx_files(world):
    out, truth = world
    resumes = read_clean_source(out, "resumes")
    docs = resumes[resumes["file_path"].notna()]
    assert set(docs["format"]) == {"pdf", "docx"}
    assert resumes.loc[resumes["format"] == "txt", "text"].notna().all()
    counted = sum(truth["world"]["documents"].values())
    assert counted == len(docs)
    paths = {Path(p).name: p for p in (out / "landing" / "resumes").rglob("files/*")}
    for _, row in docs.groupby("format").head(3).iterrows():
        path = paths[Path(row["file_path"]).name]
        text = (
            "\n".join(page.extract_text() for page in PdfReader(path).pages)
            if row["format"] == "pdf"
            else "\n".join(p.text for p in docx.Document(path).paragraphs)
        )
        assert "SKILLS" in text and "years of experience" in text


def test_resume_claims_disagree_with_interviews_for_the_planted_candidates(world, scores_by_candidate):
    out, truth = world
    mismatch = truth["resume_interview_mismatch"]
    assert mismatch["count"] == len(mismatch["candidate_ids"]) > 20
    resumes = read_clean_source(out, "resumes").set_index("candidate_id")
    text = resumes["text"].dropna()
    years = text.str.extract(r"with (\d+) years of experience")[0].astype(float)
    planted = years.index.isin(mismatch["candidate_ids"])
    assert years[planted].mean() > years[~planted].mean() + 4
    composite = scores_by_candidate[list(COMPETENCIES)].mean(axis=1)
    flagged = composite.index.isin(mismatch["candidate_ids"])
    assert composite[flagged].mean() < composite[~flagged].mean() - 0.05


def test_care_keywords_in_transcripts_match_the_planted_trait(world):
    out, truth = world
    segments = read_clean_source(out, "transcript_segments")
    assert {"en", "zh"} == set(segments["language"])
    spoken = segments[segments["speaker"] == "candidate"]
    pattern = "|".join(re.escape(term) for term in CARE_LEXICON)
    mentions = spoken["text"].str.lower().str.contains(pattern)
    interviews = read_clean_source(out, "interviews").set_index("interview_id")
    by_candidate = mentions.groupby(spoken["interview_id"].map(interviews["candidate_id"])).any()
    hires = pd.read_csv(out / "world" / "hires.csv").set_index("candidate_id")
    recorded = hires.index.intersection(by_candidate.index)
    assert (by_candidate[recorded] == hires.loc[recorded, "care_mention"]).all()
    assert truth["transcript_keyword_effect"]["lexicon"] == list(CARE_LEXICON)
    assert truth["transcript_keyword_effect"]["rate_ratio"] < 1


def test_truth_json_is_complete(world):
    out, truth = world
    assert json.loads((out / "world" / "truth.json").read_text(encoding="utf-8")) == truth
    for key in (
        "world",
        "faults",
        "job_families",
        "selection",
        "group_differences",
        "interviewers",
        "technical_failure_rate_by_region",
        "resume_interview_mismatch",
        "employee_links",
        "transcript_keyword_effect",
    ):
        assert key in truth, key
    for entry in truth["job_families"].values():
        for key in ("performance_betas", "optimal_weights", "current_weights", "exit_log_hazard"):
            assert set(entry[key]) == set(COMPETENCIES)
    end = date.fromisoformat(truth["world"]["start_date"]) + timedelta(days=truth["world"]["days"])
    assert truth["world"]["end_date"] == end.isoformat()
