"""Attacks on ingestion's input: paths that leave the landing folder, and files built to exhaust time or memory.

Each test performs the attack and checks that the file or row is quarantined with its reason, that nothing from
outside the landing folder reaches raw, and that the good rows beside it still load.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import time
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from data_quality.reconciliation import unreconciled_files
from ingestion import readers, reasons
from ingestion.documents import DocumentError, document_path, extract_text
from ingestion.load import load_partition
from ingestion.readers import FileRejected, Limits, confine, read_file

KEY = b"k" * 32
DAY = dt.date(2024, 1, 3)
SECRET = "TOP-SECRET-HOST-FILE root:x:0:0"
CANDIDATES = (
    "candidate_id,full_name,email,phone,gender,ethnicity,age_band,source_channel,region,consent_recording,"
    "consent_analytics,consent_at\n"
    "C1,Ann Lee,ann@example.com,,female,,,referral,EMEA,true,true,2024-01-02\n"
)
RESUMES_HEADER = "resume_id,candidate_id,received_at,format,text,file_path\n"
SCORES_HEADER = "interview_id,rater_id,competency,rater_type,score,scale_min,scale_max,scored_at,model_version\n"


@pytest.fixture
def home(tmp_path):
    """A landing folder with one candidate loaded, and a host file outside it that no row may read."""
    landing = tmp_path / "landing"
    day = landing / "candidates" / DAY.isoformat()
    day.mkdir(parents=True)
    (day / "c.csv").write_text(CANDIDATES)
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    con, pii = duckdb.connect(), duckdb.connect(str(tmp_path / "pii.duckdb"))
    load_partition(con, landing, "candidates", DAY, KEY, pii)
    yield landing, secret, con, pii
    con.close()
    pii.close()


def resume_day(landing: Path) -> Path:
    folder = landing / "resumes" / DAY.isoformat()
    (folder / "files").mkdir(parents=True, exist_ok=True)
    return folder


def land_resumes(landing: Path, file_paths: list[str]) -> None:
    """One resume row with inline text (always good) and one row per file path."""
    rows = ["R0,C1,2024-01-03T09:00:00,txt,inline resume text,"]
    rows += [f"R{i},C1,2024-01-03T09:00:00,pdf,,{p}" for i, p in enumerate(file_paths, start=1)]
    (resume_day(landing) / "resumes.csv").write_text(RESUMES_HEADER + "\n".join(rows) + "\n")


def load_resumes(home):
    landing, _, con, pii = home
    result = load_partition(con, landing, "resumes", DAY, KEY, pii)
    texts = [r[0] for r in con.execute("select extracted_text from raw.resumes order by resume_id").fetchall()]
    quarantine = con.execute(
        "select _row_number, reason_code, message from raw.quarantine where source = 'resumes' order by 1"
    ).fetchall()
    assert unreconciled_files(con, "resumes") == [], "rows read = loaded + quarantined"
    return result, texts, quarantine


def write_pdf(path: Path, pages: int, text: str = "Resume of a data engineer: Python, SQL, dbt.") -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for i in range(pages):
        pdf.add_page()
        pdf.cell(0, 5, f"{text} Page {i + 1}.")
    path.write_bytes(bytes(pdf.output()))
    return path


def write_slow_pdf(path: Path, operators: int = 300_000) -> Path:
    """One page whose compressed content stream (~15 KB) holds 300,000 text operators: pypdf needs ~20 s for it."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    stream = StreamObject()
    stream.set_data(("BT /F1 10 Tf 72 720 Td " + "(resume) Tj 0 -1 Td " * operators + "ET").encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    page.compress_content_streams()
    writer.write(path)
    return path


def zip_bomb(path: Path, member: str, expanded_bytes: int, extra: dict[str, bytes] | None = None) -> Path:
    """A zip whose `member` inflates from a few KB to `expanded_bytes` (the shape of the 6.5 MB -> 1.68 GB xlsx)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
        with archive.open(member, "w", force_zip64=True) as f:
            block = b"<row><c><v>1</v></c></row>" * 4096
            for _ in range(expanded_bytes // len(block)):
                f.write(block)
    return path


# A. paths outside the landing folder


@pytest.mark.parametrize(
    "file_path",
    ["../../../outside/secret.txt", "files/../../../../outside/secret.txt", "ABSOLUTE", "files/\x00secret.txt"],
)
def test_a_resume_row_cannot_read_a_file_outside_landing(home, file_path):
    landing, secret, _, _ = home
    file_path = str(secret) if file_path == "ABSOLUTE" else file_path
    land_resumes(landing, [file_path])
    result, texts, quarantine = load_resumes(home)
    assert texts == ["inline resume text"], "the good row loads, the secret never does"
    assert [(n, reason) for n, reason, _ in quarantine] == [(2, reasons.PATH_OUTSIDE_LANDING)]
    assert result.rows_read == 2 and result.rows_loaded == 1


def test_a_symlinked_document_pointing_out_is_refused_and_one_pointing_inside_is_read(home):
    landing, secret, _, _ = home
    files = resume_day(landing) / "files"
    (files / "leak.txt").symlink_to(secret)
    (files / "real.txt").write_text("Resume kept under another name")
    (files / "alias.txt").symlink_to(files / "real.txt")
    land_resumes(landing, ["files/leak.txt", "files/alias.txt"])
    _, texts, quarantine = load_resumes(home)
    assert sorted(texts) == ["Resume kept under another name", "inline resume text"]
    assert [(n, reason) for n, reason, _ in quarantine] == [(2, reasons.PATH_OUTSIDE_LANDING)]
    assert "symlink" in quarantine[0][2] or "outside" in quarantine[0][2]


def test_a_symlinked_landing_csv_pointing_out_is_quarantined_whole(home, tmp_path):
    landing, _, con, pii = home
    outside = tmp_path / "outside" / "scores.csv"
    outside.write_text(SCORES_HEADER + "I1,ai:v,Communication,ai,4,1,5,2024-01-03T12:00:00,m\n")
    folder = landing / "interview_scores" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "a_link.csv").symlink_to(outside)
    (folder / "b_dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    result = load_partition(con, landing, "interview_scores", DAY, KEY, pii)
    rows = con.execute(
        "select _source_file, _row_number, reason_code from raw.quarantine where source = 'interview_scores' order by 1"
    ).fetchall()
    assert rows == [
        ("interview_scores/2024-01-03/a_link.csv", 0, reasons.PATH_OUTSIDE_LANDING),
        ("interview_scores/2024-01-03/b_dangling.csv", 0, reasons.PATH_OUTSIDE_LANDING),
    ]
    assert result.rows_loaded == 0 and con.execute("select count(*) from raw.interview_scores").fetchone() == (0,)
    assert unreconciled_files(con, "interview_scores") == []


def test_a_symlinked_day_folder_pointing_out_reads_nothing_from_it(home, tmp_path):
    landing, secret, con, pii = home
    (landing / "resumes").mkdir()
    outside_day = tmp_path / "outside" / "day"
    outside_day.mkdir()
    (outside_day / "resumes.csv").write_text(RESUMES_HEADER + f"R1,C1,2024-01-03T09:00:00,txt,{SECRET},\n")
    (landing / "resumes" / DAY.isoformat()).symlink_to(outside_day)
    load_partition(con, landing, "resumes", DAY, KEY, pii)
    assert con.execute("select count(*) from raw.resumes").fetchone() == (0,)
    reasons_found = con.execute("select reason_code from raw.quarantine where source = 'resumes'").fetchall()
    assert reasons_found == [(reasons.PATH_OUTSIDE_LANDING,)]


def test_a_symlink_inside_landing_is_followed(home):
    landing, _, con, pii = home
    folder = landing / "interview_scores" / DAY.isoformat()
    folder.mkdir(parents=True)
    kept = landing / "interview_scores" / "kept.csv"
    kept.write_text(SCORES_HEADER + "I1,ai:v,Communication,ai,4,1,5,2024-01-03T12:00:00,m\n")
    (folder / "s.csv").symlink_to(kept)
    assert confine(folder / "s.csv", landing) == kept.resolve()


def test_a_fifo_in_the_landing_folder_is_quarantined_not_waited_on(home):
    landing, _, con, pii = home
    folder = landing / "interview_scores" / DAY.isoformat()
    folder.mkdir(parents=True)
    os.mkfifo(folder / "pipe.csv")
    started = time.monotonic()
    load_partition(con, landing, "interview_scores", DAY, KEY, pii)
    assert time.monotonic() - started < 10
    rows = con.execute("select reason_code, message from raw.quarantine where source = 'interview_scores'").fetchall()
    assert rows == [(reasons.UNREADABLE_FILE, "pipe.csv is not a regular file")]


def test_document_path_rules(tmp_path):
    root = tmp_path / "landing"
    day = root / "resumes" / "2024-01-03"
    (day / "files").mkdir(parents=True)
    assert document_path(day, "files/a.pdf", root) == (day / "files" / "a.pdf").resolve()
    for bad in ("/etc/passwd", "~/.ssh/id_rsa", "files/../../2024-01-02/files/a.pdf", "..", "a\x00b"):
        with pytest.raises(DocumentError) as err:
            document_path(day, bad, root)
        assert err.value.reason == reasons.PATH_OUTSIDE_LANDING, bad


# B. hostile files


def test_a_pdf_over_the_page_limit_is_refused_before_its_text_is_extracted(tmp_path):
    pdf = write_pdf(tmp_path / "long.pdf", pages=10)
    started = time.monotonic()
    with pytest.raises(DocumentError) as err:
        extract_text(pdf, Limits(max_pdf_pages=5))
    assert err.value.reason == reasons.TOO_MANY_PAGES and "10 pages" in str(err.value)
    assert time.monotonic() - started < 10
    assert "Page 1." in extract_text(write_pdf(tmp_path / "short.pdf", pages=5), Limits(max_pdf_pages=5))


def test_a_pdf_that_parses_too_long_is_killed_and_the_next_document_still_reads(tmp_path):
    slow = write_slow_pdf(tmp_path / "slow.pdf")
    assert slow.stat().st_size < 64 * 1024
    started = time.monotonic()
    with pytest.raises(DocumentError) as err:
        extract_text(slow, Limits(document_timeout_s=1.0))
    elapsed = time.monotonic() - started
    assert err.value.reason == reasons.PARSE_TIMEOUT
    assert elapsed < 8, f"the parser was stopped after {elapsed:.1f} s"
    assert "data engineer" in extract_text(write_pdf(tmp_path / "ok.pdf", pages=1), Limits(document_timeout_s=30))


def test_hostile_documents_in_a_landing_day_quarantine_their_rows_only(home, monkeypatch):
    landing, _, _, _ = home
    monkeypatch.setenv("TALENTLOOP_MAX_PDF_PAGES", "5")
    monkeypatch.setenv("TALENTLOOP_MAX_DOCUMENT_MB", "0.05")
    files = resume_day(landing) / "files"
    write_pdf(files / "pages.pdf", pages=10)
    write_pdf(files / "good.pdf", pages=1)
    (files / "big.txt").write_text("x" * 100_000)
    zip_bomb(files / "bomb.docx", "word/document.xml", 8 * 1024 * 1024)
    land_resumes(landing, ["files/pages.pdf", "files/good.pdf", "files/big.txt", "files/bomb.docx", "files/gone.pdf"])
    result, texts, quarantine = load_resumes(home)
    assert len(texts) == 2 and any("data engineer" in t for t in texts)
    assert [(n, reason) for n, reason, _ in quarantine] == [
        (2, reasons.TOO_MANY_PAGES),
        (4, reasons.FILE_TOO_LARGE),
        (5, reasons.EXPANDS_TOO_LARGE),
        (6, reasons.UNREADABLE_DOCUMENT),
    ]
    assert "TALENTLOOP_MAX_DOCUMENT_MB" in quarantine[1][2], "the message names the setting to raise"


def test_a_document_whose_text_is_longer_than_the_contract_allows_is_quarantined(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("y" * 1_000)
    with pytest.raises(DocumentError) as err:
        extract_text(path, Limits(), max_chars=500)
    assert err.value.reason == reasons.FIELD_TOO_LONG


def test_an_xlsx_zip_bomb_is_refused_from_its_directory_before_openpyxl_opens_it(tmp_path, monkeypatch):
    import openpyxl

    bomb = zip_bomb(tmp_path / "bomb.xlsx", "xl/worksheets/sheet1.xml", 32 * 1024 * 1024)
    assert bomb.stat().st_size < 200 * 1024

    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not open a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    started = time.monotonic()
    with pytest.raises(FileRejected) as err:
        read_file(bomb, Limits())
    assert err.value.reason == reasons.EXPANDS_TOO_LARGE and "x limit" in err.value.message
    assert time.monotonic() - started < 2


def test_an_xlsx_over_the_unzipped_size_limit_is_refused(tmp_path, monkeypatch):
    rows = [{"interview_id": f"I{i}", "rater_id": f"r{i * 7919 % 10007}", "score": i % 5} for i in range(15_000)]
    pd.DataFrame(rows).to_excel(tmp_path / "big.xlsx", index=False)
    monkeypatch.setenv("TALENTLOOP_MAX_EXPANDED_MB", "1")
    with pytest.raises(FileRejected) as err:
        read_file(tmp_path / "big.xlsx")
    assert err.value.reason == reasons.EXPANDS_TOO_LARGE and "TALENTLOOP_MAX_EXPANDED_MB" in err.value.message
    assert len(read_file(tmp_path / "big.xlsx", Limits()).records) == 15_000


def test_a_csv_past_the_size_limit_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    with path.open("w") as f:
        f.write(SCORES_HEADER)
        f.write("I1,ai:v,Communication,ai,4,1,5,2024-01-03T12:00:00,m\n" * 40_000)
    monkeypatch.setenv("TALENTLOOP_MAX_FILE_MB", "1")
    opened = []
    monkeypatch.setattr(readers, "_file_encoding", lambda p: opened.append(p))
    with pytest.raises(FileRejected) as err:
        read_file(path)
    assert err.value.reason == reasons.FILE_TOO_LARGE and "TALENTLOOP_MAX_FILE_MB" in err.value.message
    assert opened == [], "refused from its size on disk"


def test_a_parquet_file_that_decodes_past_the_limit_is_refused(tmp_path):
    path = tmp_path / "wide.parquet"
    pd.DataFrame({"interview_id": ["I" + "1" * 100] * 20_000}).to_parquet(path)
    assert path.stat().st_size < 64 * 1024, "run-length encoding makes it small on disk"
    with pytest.raises(FileRejected) as err:
        read_file(path, Limits(max_file_mb=1))
    assert err.value.reason == reasons.EXPANDS_TOO_LARGE and "decodes to 2.0 MB" in err.value.message
    with pytest.raises(FileRejected) as err:
        read_file(path, Limits(max_file_mb=0.1))
    assert err.value.reason == reasons.EXPANDS_TOO_LARGE and "20,000 cells" in err.value.message
    assert len(read_file(path, Limits()).records) == 20_000


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_a_csv_read_in_chunks_gives_what_reading_it_whole_gives(tmp_path, monkeypatch, chunk):
    """Chunk edges inside a multi-byte character, inside \\r\\n, inside a quoted newline, and a truncated last row."""
    text = (
        SCORES_HEADER.replace("\n", "\r\n")
        + 'I1,INT-1,沟通能力,human,4,1,5,2025-01-02,"multi\r\nline"\r\n'
        + "\r\n"
        + "I2,ai:v,Communication,ai,3,1,5,2025-01-02,m\rI3,ai:v,Comm"
    )
    for encoding in ("utf-8-sig", "gb18030"):
        path = tmp_path / f"s-{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        whole = read_file(path, Limits())
        monkeypatch.setattr(readers, "_CHUNK_BYTES", chunk)
        chunked = read_file(path, Limits())
        monkeypatch.setattr(readers, "_CHUNK_BYTES", 1 << 20)
        assert chunked.records == whole.records and chunked.encoding == whole.encoding == encoding
        assert [r.row_number for r in whole.records] == [1, 2, 3]
        assert whole.records[0].values["model_version"] == "multi\r\nline"
        assert "truncated" in whole.records[2].error


def test_a_deeply_nested_json_line_is_a_malformed_row_not_a_crash(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"interview_id": "I1"}\n' + '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    parsed = read_file(path, Limits())
    assert parsed.records[0].values == {"interview_id": "I1"}
    assert parsed.records[1].values is None and "unreadable JSON line" in parsed.records[1].error


def test_limits_from_the_environment():
    limits = Limits.from_env({"TALENTLOOP_MAX_PDF_PAGES": "7", "TALENTLOOP_DOCUMENT_TIMEOUT_S": "2.5"})
    assert (limits.max_pdf_pages, limits.document_timeout_s, limits.max_file_mb) == (7, 2.5, 64.0)
    assert Limits.from_env({}) == Limits()
    with pytest.raises(ValueError, match="TALENTLOOP_MAX_FILE_MB"):
        Limits.from_env({"TALENTLOOP_MAX_FILE_MB": "lots"})
    with pytest.raises(ValueError, match="positive"):
        Limits.from_env({"TALENTLOOP_MAX_PDF_PAGES": "0"})


def test_a_small_real_workbook_and_document_pass_the_zip_checks(tmp_path):
    rows = [{"interview_id": "I1", "score": 4}]
    pd.DataFrame(rows).to_excel(tmp_path / "ok.xlsx", index=False)
    readers.check_zip(tmp_path / "ok.xlsx", Limits())
    import docx

    doc = docx.Document()
    doc.add_paragraph("Resume of a nurse: triage, ICU.")
    buffer = io.BytesIO()
    doc.save(buffer)
    (tmp_path / "ok.docx").write_bytes(buffer.getvalue())
    assert extract_text(tmp_path / "ok.docx", Limits()) == "Resume of a nurse: triage, ICU."
    assert json.loads(json.dumps(Limits.ENV))  # every setting is documented by name
