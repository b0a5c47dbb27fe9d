"""Transcript and resume features on hand-made segments and resumes; the prohibited-feature guard."""

import numpy as np
import pandas as pd
import pytest

from ml.prohibited import ProhibitedFeatureError, assert_no_prohibited_features
from ml.text_features import (
    count_words,
    keyword_evidence,
    load_lexicon,
    resume_features,
    resume_interview_consistency,
    resume_interview_correlation,
    transcript_features,
    years_of_experience,
)


@pytest.fixture(scope="module")
def lexicon():
    return load_lexicon()


def _segments():
    cols = ["interview_id", "segment_no", "question_id", "speaker", "start_s", "end_s", "text", "language"]
    rows = [
        ("i1", 1, "q1", "interviewer", 0.0, 5.0, "Tell me about a customer you helped.", "en"),
        (
            "i1",
            2,
            "q1",
            "candidate",
            5.0,
            35.0,
            "I listened to the client and explained the solution to our customers.",
            "en",
        ),
        ("i1", 3, "q2", "Candidate", 40.0, 70.0, "Our team worked together.", "en"),
        ("i2", 1, "q1", "candidate", 0.0, 30.0, "我会倾听客户的需求", "zh"),
        ("i2", 2, "q2", "candidate", 30.0, 30.0, "团队合作很重要", "zh"),
        ("i3", 1, "q1", "interviewer", 0.0, 10.0, "Hello, can you hear me?", "en"),
    ]
    return pd.DataFrame(rows, columns=cols)


def test_count_words_latin_and_cjk():
    assert count_words("I listened to the client.") == 5
    assert count_words("我会倾听客户的需求") == 9
    # Latin tokens "Python" and "3" plus nine Han characters.
    assert count_words("我用Python分析了3年的数据") == 11
    assert count_words(None) == 0 and count_words("don't stop") == 2


def test_transcript_features_by_hand(lexicon):
    out = transcript_features(_segments(), lexicon).set_index("interview_id")
    i1, i2, i3 = out.loc["i1"], out.loc["i2"], out.loc["i3"]
    # i1: 12 + 4 candidate words over 60 s; the interviewer's "customer" does not count.
    assert i1["candidate_word_count"] == 16 and i1["candidate_speaking_s"] == 60
    assert i1["speaking_rate_wpm"] == pytest.approx(16.0)
    assert i1["kw_customer_orientation"] == 3  # listened, client, customers
    assert i1["kw_communication"] == 1 and i1["kw_problem_solving"] == 1 and i1["kw_teamwork"] == 2
    # i2: the zero-length segment counts as words but not as speaking time: 9 characters in 30 s.
    assert i2["candidate_word_count"] == 16 and i2["speaking_rate_wpm"] == pytest.approx(18.0)
    assert i2["kw_customer_orientation"] == 2 and i2["kw_teamwork"] == 2 and i2["language"] == "zh"
    assert np.isnan(i3["speaking_rate_wpm"]) and i3["reason"] == "no candidate segments"
    assert i3["kw_teamwork"] == 0
    assert_no_prohibited_features(out.columns)


def test_keyword_evidence_points_at_transcript_moments(lexicon):
    ev = keyword_evidence(_segments(), lexicon)
    co = ev[(ev["interview_id"] == "i1") & (ev["competency"] == "customer_orientation")]
    assert sorted(co["keyword"]) == ["client", "customer", "listen"]
    assert set(co["question_id"]) == {"q1"} and set(co["start_s"]) == {5.0} and set(co["segment_no"]) == {2}
    zh = ev[ev["interview_id"] == "i2"]
    assert set(zip(zh["competency"], zh["keyword"], zh["start_s"], strict=True)) == {
        ("customer_orientation", "倾听", 0.0),
        ("customer_orientation", "客户", 0.0),
        ("teamwork", "团队", 30.0),
        ("teamwork", "合作", 30.0),
    }


def test_overlapping_terms_count_once():
    lex = {"competencies": {"communication": {"en": ["explain", "explained"], "zh": ["客户", "客户服务"]}}}
    segs = pd.DataFrame(
        {
            "interview_id": ["x"],
            "segment_no": [1],
            "question_id": ["q"],
            "speaker": ["candidate"],
            "start_s": [0.0],
            "end_s": [10.0],
            "text": ["I explained 客户服务"],
            "language": ["en"],
        }
    )
    ev = keyword_evidence(segs, lex)
    # "explain" and "explained" both cover the word "explained" (prefix match): one hit, as is "客户服务".
    assert len(ev) == 2 and "客户服务" in set(ev["keyword"])


def test_years_of_experience_rules():
    assert years_of_experience("5 years of experience; 28 years old") == 5
    assert years_of_experience("10+ years in sales, 3.5 yrs as lead") == 10
    assert years_of_experience("2015年本科毕业，拥有三年客服经验") == 3
    assert years_of_experience("十二年工作经验") == 12 and years_of_experience("二十年") == 20
    assert np.isnan(years_of_experience("3年级 2019年"))  # a school grade and a calendar year
    assert np.isnan(years_of_experience(None))


def test_resume_features_by_hand(lexicon):
    resumes = pd.DataFrame(
        {
            "resume_id": ["r1", "r2", "r3", "r4"],
            "candidate_id": ["c1", "c2", "c3", "c4"],
            "job_family": ["data_analyst", "customer_service", None, "data_analyst"],
            "text": [
                "BSc in Computer Science, MSc Statistics. 5 years of experience as a data analyst using SQL, "
                "Python and Excel. Built Tableau dashboards. 28 years old.",
                "2015年本科毕业于复旦大学，2018年获得硕士学位，后攻读博士。拥有三年客服经验，熟练使用CRM系统，英语流利。",
                "High school diploma. Mastered Excel.",
                "",
            ],
        }
    )
    out = resume_features(resumes, lexicon).set_index("resume_id")
    assert out.loc["r1", "education_level"] == "master" and out.loc["r1", "education_rank"] == 3
    assert out.loc["r1", "years_experience"] == 5
    assert out.loc["r1", "skills"] == ["excel", "python", "sql", "statistics", "tableau"]
    assert out.loc["r1", "resume_job_match"] == 1.0
    assert out.loc["r2", "education_level"] == "doctorate" and out.loc["r2", "years_experience"] == 3
    assert out.loc["r2", "skills"] == ["crm", "customer_service", "english"]
    assert out.loc["r2", "resume_job_match"] == 0.75
    # "Mastered" is not a master's degree.
    assert out.loc["r3", "education_level"] == "secondary" and out.loc["r3", "skills"] == ["excel"]
    assert np.isnan(out.loc["r3", "resume_job_match"]) and out.loc["r3", "reason"] == "no job family given"
    assert out.loc["r4", "education_level"] == "none" and np.isnan(out.loc["r4", "years_experience"])
    assert "empty resume text" in out.loc["r4", "reason"]
    assert_no_prohibited_features(out.columns)


def test_resume_interview_consistency_flag_and_rank_correlation():
    df = pd.DataFrame(
        {
            "resume_job_match": [0.1, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, np.nan],
            "interview_composite": [0.2, 0.3, 0.5, 0.4, 0.6, 0.7, 0.8, 0.1, 0.5],
        }
    )
    out = resume_interview_consistency(df)
    # Best resume (1.0) with the lowest interview composite (0.1) is the only flag; the NaN row is never flagged.
    assert out["flag_resume_high_interview_low"].tolist() == [False] * 7 + [True, False]
    assert out.loc[7, "resume_pct"] == 1.0 and out.loc[7, "interview_pct"] == pytest.approx(1 / 8)
    res = resume_interview_correlation(df)
    both = df.dropna()
    ranks = both.rank()
    assert res["n"] == 8
    assert res["rho"] == pytest.approx(np.corrcoef(ranks.iloc[:, 0], ranks.iloc[:, 1])[0, 1])
    assert resume_interview_correlation(df.iloc[:2])["reason"].startswith("fewer than 3")


@pytest.mark.parametrize(
    "column",
    [
        "emotion_joy",
        "Facial Expression Score",
        "voice-tone",
        "tone_of_voice",
        "affect_valence",
        "eye_contact_pct",
        "face",
        "sentiment_face",
        "video_sentiment",
        "micro_expression_count",
        "vocal_energy",
        "smile_ratio",
    ],
)
def test_prohibited_features_are_refused(column):
    with pytest.raises(ProhibitedFeatureError, match="refused"):
        assert_no_prohibited_features(["communication", column])


def test_legitimate_features_pass():
    assert_no_prohibited_features(
        [
            "communication",
            "sales_pitch",
            "customer_interface",
            "speaking_rate_wpm",
            "kw_customer_orientation",
            "years_experience",
            "surface_area",
        ]
    )
