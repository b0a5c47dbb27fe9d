"""Readers and contract checks: each kind of bad input gets a clear reason, never a crash."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from ingestion import reasons
from ingestion.contracts import CONTRACTS
from ingestion.readers import FileRejected, read_file
from ingestion.validate import Context, check_file

NOW = dt.datetime(2026, 1, 1, 12, 0)
HEADER = "interview_id,rater_id,competency,rater_type,score,scale_min,scale_max,scored_at,model_version\n"


def ctx(**known) -> Context:
    return Context(
        now=NOW,
        key=b"test-key",
        competency_labels=frozenset({"communication", "沟通能力"}),
        rating_words=frozenset({"strong_yes", "yes", "no", "definitely_not"}),
        known_keys={"interviews.interview_id": set(known.get("interviews", {"I1", "I2"}))},
    )


def check(tmp_path, text: str | bytes, name="scores.csv", source="interview_scores"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return check_file(CONTRACTS[source], read_file(path), name, ctx())


def reasons_of(outcome) -> list[str]:
    return [q["reason"] for q in outcome.quarantined]


def test_clean_csv_loads_every_row(tmp_path):
    out = check(
        tmp_path,
        HEADER + "I1,ai:v,Communication,ai,4,1,5,2025-01-02T10:00:00,m1\nI2,INT-1,沟通能力,human,yes,1,5,2025-01-02,\n",
    )
    assert len(out.rows) == 2 and out.quarantined == []
    assert out.rows[0]["competency"] == "Communication"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("I1,ai:v,Communication,ai,6,1,5,2025-01-02,m", reasons.OUT_OF_RANGE),
        ("I1,ai:v,Communication,ai,3,5,1,2025-01-02,m", reasons.OUT_OF_RANGE),
        (",ai:v,Communication,ai,3,1,5,2025-01-02,m", reasons.MISSING_KEY),
        ("I1,ai:v,Communication,ai,3,1,5,02/01/2025,m", reasons.INVALID_DATE),
        ("I1,ai:v,Communication,ai,3,1,5,2199-01-01,m", reasons.FUTURE_DATE),
        ("I1,ai:v,Communication,robot,3,1,5,2025-01-02,m", reasons.INVALID_VALUE),
        ("I1,ai:v,Kommunikation,ai,3,1,5,2025-01-02,m", reasons.UNKNOWN_LABEL),
        ("I1,INT-1,Communication,human,maybe,1,5,2025-01-02,m", reasons.UNKNOWN_RATING_WORD),
        ("I9,ai:v,Communication,ai,3,1,5,2025-01-02,m", reasons.ORPHAN_REFERENCE),
        ("I1,ai:v,Communication,ai,3,one,5,2025-01-02,m", reasons.INVALID_TYPE),
        ("I1,\"=cmd|' /C calc'!A0\",Communication,ai,3,1,5,2025-01-02,m", reasons.FORMULA_INJECTION),
        ("I1,@SUM(1+1),Communication,ai,3,1,5,2025-01-02,m", reasons.FORMULA_INJECTION),
        ("I1,ai:v,Communication,ai,3,1,5", reasons.MALFORMED_ROW),
    ],
)
def test_each_bad_row_is_quarantined_with_its_reason(tmp_path, row, reason):
    good = "I2,ai:v,Communication,ai,3,1,5,2025-01-02,m\n"
    out = check(tmp_path, HEADER + good + row + "\n")
    assert reasons_of(out) == [reason]
    assert len(out.rows) == 1, "the good row of the same file still loads"
    assert out.quarantined[0]["message"], "every quarantine row explains itself"
    assert out.quarantined[0]["row_number"] == 2


def test_duplicate_row_in_a_file(tmp_path):
    row = "I1,ai:v,Communication,ai,3,1,5,2025-01-02,m\n"
    out = check(tmp_path, HEADER + row + row)
    assert reasons_of(out) == [reasons.DUPLICATE_ROW] and len(out.rows) == 1


def test_gbk_encoded_legacy_csv_is_read(tmp_path):
    data = (HEADER + "I1,INT-1,沟通能力,human,4,1,5,2025-01-02,\n").encode("gbk")
    out = check(tmp_path, data)
    assert len(out.rows) == 1 and out.rows[0]["competency"] == "沟通能力"


def test_bom_and_crlf(tmp_path):
    data = ("\ufeff" + HEADER + "I1,ai:v,Communication,ai,4,1,5,2025-01-02,m\n").replace("\n", "\r\n").encode()
    out = check(tmp_path, data)
    assert len(out.rows) == 1 and out.quarantined == []


def test_empty_and_header_only_files_are_rejected(tmp_path):
    with pytest.raises(FileRejected) as e:
        check(tmp_path, b"")
    assert e.value.reason == reasons.EMPTY_FILE
    with pytest.raises(FileRejected) as e:
        check(tmp_path, HEADER)
    assert e.value.reason == reasons.EMPTY_FILE


def test_truncated_file_keeps_complete_rows(tmp_path):
    text = HEADER + "I1,ai:v,Communication,ai,4,1,5,2025-01-02,m\nI2,ai:v,Commun"
    out = check(tmp_path, text)
    assert len(out.rows) == 1 and reasons_of(out) == [reasons.MALFORMED_ROW]
    assert "truncated" in out.quarantined[0]["message"]


def test_missing_required_column_rejects_the_file(tmp_path):
    with pytest.raises(FileRejected) as e:
        check(tmp_path, "interview_id,rater_id,competency\nI1,ai:v,Communication\n")
    assert e.value.reason == reasons.MISSING_COLUMNS and "score" in e.value.message


def test_extra_column_is_ignored_and_reported(tmp_path):
    out = check(tmp_path, HEADER.strip() + ",vendor_note\nI1,ai:v,Communication,ai,4,1,5,2025-01-02,m,hello\n")
    assert len(out.rows) == 1 and out.extra_columns == ["vendor_note"]


def test_ten_megabyte_field(tmp_path):
    big = "x" * 10_000_000
    out = check(tmp_path, HEADER + f"I1,ai:v,Communication,ai,4,1,5,2025-01-02,{big}\n")
    assert reasons_of(out) == [reasons.FIELD_TOO_LONG]


def test_binary_garbage_is_unreadable(tmp_path):
    with pytest.raises(FileRejected) as e:
        check(tmp_path, bytes(range(256)) * 10, name="scores.xlsx")
    assert e.value.reason == reasons.UNREADABLE_FILE


def test_jsonl_parquet_and_excel_read_the_same(tmp_path):
    rows = [
        {
            "interview_id": "I1",
            "rater_id": "ai:v",
            "competency": "Communication",
            "rater_type": "ai",
            "score": "4",
            "scale_min": 1,
            "scale_max": 5,
            "scored_at": "2025-01-02T10:00:00",
            "model_version": "m",
        },
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    pd.DataFrame(rows).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame(rows).to_excel(tmp_path / "a.xlsx", index=False)
    for name in ("a.jsonl", "a.parquet", "a.xlsx"):
        out = check_file(CONTRACTS["interview_scores"], read_file(tmp_path / name), name, ctx())
        assert len(out.rows) == 1, name
        assert out.rows[0]["scale_max"] == 5.0
    out = check_file(CONTRACTS["interview_scores"], read_file(tmp_path / "a.jsonl"), "a.jsonl", ctx())
    assert reasons_of(out) == [reasons.MALFORMED_ROW]


def test_pii_never_in_loaded_rows_and_redacted_in_quarantine(tmp_path):
    header = (
        "candidate_id,full_name,email,phone,gender,ethnicity,age_band,source_channel,region,"
        "consent_recording,consent_analytics,consent_at\n"
    )
    text = header + "C1,Ann Lee,ann@example.com,+86 138 0000 0000,female,,25-34,referral,east,true,true,2025-01-01\n"
    text += "C2,Bo Chen,bo@example.com,,male,,,,east,true,maybe,2025-01-01\n"
    out = check(tmp_path, text, name="c.csv", source="candidates")
    assert len(out.rows) == 1
    row = out.rows[0]
    assert "full_name" not in row and "email" not in row and "phone" not in row
    assert row["candidate_id"] != "C1" and len(row["candidate_id"]) == 20, "pseudonymous key, not the source id"
    assert row["email_key"] and row["full_name_key"]
    assert "bo@example.com" not in out.quarantined[0]["payload"]


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_file_in_an_unsupported_encoding_is_rejected_with_a_reason(tmp_path, encoding):
    data = (HEADER + "I1,ai:v,Café Communication,ai,4,1,5,2025-01-02,m\n").encode(encoding)
    with pytest.raises(FileRejected) as e:
        check(tmp_path, data)
    assert e.value.reason == reasons.UNREADABLE_FILE
    assert "GB18030" in e.value.message
