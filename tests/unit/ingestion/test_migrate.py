"""Legacy migration through declarative mappings: the three public HR files, unknown labels, GBK, reruns."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
import yaml

from data_quality.reconciliation import unreconciled_files
from ingestion import migrate as mig
from ingestion import reasons
from ingestion.settings import Settings

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ENV = {"SHARED_DATA": str(SHARED)}
DAY = dt.date(2024, 6, 3)
V14 = mig.MAPPINGS_DIR / "hrdataset_v14.yaml"
IBM = mig.MAPPINGS_DIR / "ibm_attrition.yaml"
HR560 = mig.MAPPINGS_DIR / "hr560_production_staff.yaml"

needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason=f"public data not found at {SHARED}")


@pytest.fixture
def home(tmp_path) -> tuple[Settings, duckdb.DuckDBPyConnection]:
    settings = Settings(home=tmp_path / "home").ensure()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield settings, con
    con.close()


def run(mapping, settings, con, **kw) -> dict:
    kw.setdefault("landing_day", DAY)
    return mig.migrate(mapping, settings, con=con, environ=ENV, **kw)


def assert_reconciled(report: dict, con) -> None:
    assert report["balanced"], report["targets"]
    for source, t in report["targets"].items():
        assert t["generated"] == t["written"] + t["withheld_by_mapping"], source
        assert t["written"] == t["loaded"] + t["quarantined"], source
        assert sum(t["quarantined_by_reason"].values()) == t["quarantined"], source
        assert unreconciled_files(con, source) == []


def assert_checksums(report: dict) -> None:
    sums = report["checksums"]
    for value in [sums["input_sha256"], sums["mapping_sha256"], *sums["landing_sha256"].values()]:
        assert len(value) == 64 and int(value, 16) >= 0
    assert all(len(v) == 64 for v in sums["loaded_content_sha256"].values())


def raw_snapshot(con, sources) -> dict:
    """Everything raw holds for these sources, minus the per-run stamps."""
    out = {}
    for s in sources:
        out[s] = con.execute(f"select * exclude (_loaded_at, _batch_id) from raw.{s} order by all").fetchall()
    out["quarantine"] = con.execute(
        "select * exclude (_loaded_at, _batch_id, payload) from raw.quarantine order by all"
    ).fetchall()
    out["load_log"] = con.execute("select * exclude (_loaded_at, _batch_id) from raw.load_log order by all").fetchall()
    return out


def export_rows(path: Path, encoding: str = "utf-8-sig") -> list[dict]:
    with open(path, encoding=encoding, newline="") as f:
        return [r for r in csv.DictReader(f) if any(v.strip() for v in r.values())]


@needs_data
def test_hrdataset_v14_migrates_end_to_end(home):
    settings, con = home
    report = run(V14, settings, con)
    assert report["input"]["rows_in"] == 311 and report["input"]["encoding"] == "utf-8-sig"
    emp = report["targets"]["employees"]
    assert emp["loaded"] == 311 and emp["quarantined"] == 0
    assert emp["coverage"]["termination_date"]["loaded_count"] == 104
    assert report["targets"]["candidates"]["loaded"] == 311
    assert report["targets"]["performance_reviews"]["loaded"] == 311
    assert report["unmapped_labels"] == []
    assert_reconciled(report, con)
    assert_checksums(report)
    exits = dict(con.execute("select termination_type, count(*) from raw.employees group by 1").fetchall())
    assert exits == {"voluntary": 88, "involuntary": 16, None: 207}
    assert con.execute("select count(*) from raw.employees where termination_date is null").fetchone()[0] == 207
    ratings = dict(con.execute("select rating, count(*) from raw.performance_reviews group by 1").fetchall())
    assert ratings == {"4": 37, "3": 243, "2": 18, "1": 13}
    genders = dict(con.execute("select gender, count(*) from raw.candidates group by 1").fetchall())
    assert genders == {"female": 176, "male": 135}
    # Names reach only the restricted store; raw keeps a match key.
    assert "full_name" not in [c[0] for c in con.execute("describe raw.employees").fetchall()]
    pii = duckdb.connect(str(settings.pii_database), read_only=True)
    try:
        assert pii.execute("select count(full_name) from pii where source = 'employees'").fetchone()[0] == 311
    finally:
        pii.close()
    folder = Path(report["report_dir"])
    assert json.loads((folder / "report.json").read_text())["targets"]["employees"]["loaded"] == 311
    md = (folder / "report.md").read_text()
    assert "balanced" in md and "Adinolfi" not in md and "Adinolfi" not in (folder / "report.json").read_text()


@needs_data
def test_ibm_attrition_migrates_with_derived_dates(home):
    settings, con = home
    report = run(IBM, settings, con)
    emp = report["targets"]["employees"]
    assert report["input"]["rows_in"] == 1470
    assert emp["loaded"] == 1470 and emp["coverage"]["termination_date"]["loaded_count"] == 237
    assert emp["coverage"]["termination_type"]["loaded_count"] == 237
    assert report["targets"]["performance_reviews"]["loaded"] == 1470
    assert_reconciled(report, con)
    assert_checksums(report)
    assert {(d["target"], d["column"]) for d in report["derived_columns"]} == {
        ("employees", "hire_date"),
        ("employees", "termination_date"),
        ("performance_reviews", "review_date"),
    }
    rows = {r["EmployeeNumber"]: r for r in export_rows(SHARED / "ibm_attrition/WA_Fn-UseC_-HR-Employee-Attrition.csv")}
    loaded = con.execute(
        "select hire_date, termination_date, termination_type from raw.employees "
        "where _source_file like '%ibm%' and hire_date = date '2017-03-31' - to_years(?)",
        [int(rows["1"]["YearsAtCompany"])],
    ).fetchall()
    assert loaded, "hire_date = as_of minus YearsAtCompany"
    leavers = con.execute(
        "select count(*) from raw.employees where termination_type = 'voluntary' and termination_date = '2017-03-31'"
    ).fetchone()[0]
    assert leavers == sum(r["Attrition"] == "Yes" for r in rows.values()) == 237
    scales = con.execute("select distinct rating, scale_min, scale_max from raw.performance_reviews order by 1")
    assert scales.fetchall() == [("3", 1.0, 4.0), ("4", 1.0, 4.0)]


@needs_data
def test_hr560_skips_blank_rows_and_expands_complaint_counts(home):
    settings, con = home
    report = run(HR560, settings, con)
    source = SHARED / "hr560_production_staff/production_staff.csv"
    expected = sum(int(r["90-day Complaints"]) for r in export_rows(source, "utf-8"))
    assert report["input"]["skipped_blank_rows"] == 47 and report["input"]["rows_in"] == 209
    assert report["targets"]["employees"]["loaded"] == 209
    complaints = report["targets"]["complaints"]
    assert complaints["generated"] == complaints["loaded"] == expected == 66
    assert_reconciled(report, con)
    assert_checksums(report)
    outside = con.execute(
        """
        select count(*) from raw.complaints c join raw.employees e using (employee_id)
        where c.received_at < e.hire_date or c.received_at > e.hire_date + 90
           or c.received_at > coalesce(e.termination_date, c.received_at)
        """
    ).fetchone()[0]
    assert outside == 0
    assert con.execute("select count(distinct complaint_id) from raw.complaints").fetchone()[0] == 66


@needs_data
def test_v14_and_hr560_employee_ids_line_up(home):
    settings, con = home
    # HR560 lands a day before v14, as its mapping advises, so staging prefers v14's later record.
    run(V14, settings, con)
    report = run(HR560, settings, con, landing_day=DAY - dt.timedelta(days=1))
    assert report["targets"]["complaints"]["quarantined"] == 0
    shared = con.execute(
        """
        select count(*) from (select employee_id from raw.employees where _source_file like '%hrdataset_v14%')
        join (select employee_id from raw.employees where _source_file like '%hr560%') using (employee_id)
        """
    ).fetchone()[0]
    assert shared == 196
    # Most complaints attach to people whose hire, exit and review history comes from v14.
    on_v14 = con.execute(
        "select count(*) from raw.complaints where employee_id in "
        "(select employee_id from raw.employees where _source_file like '%hrdataset_v14%')"
    ).fetchone()[0]
    assert on_v14 == 62


@needs_data
@pytest.mark.parametrize("mapping", [V14, IBM, HR560], ids=lambda p: p.stem)
def test_rerun_gives_the_same_checksums_and_leaves_raw_identical(home, mapping):
    settings, con = home
    first = run(mapping, settings, con, landing_day=None, now=dt.datetime(2024, 6, 3, 9))
    sources = list(first["targets"])
    before = raw_snapshot(con, sources)
    # A day later, without --day: the rerun replaces the earlier landing instead of adding a second copy.
    second = run(mapping, settings, con, landing_day=None, now=dt.datetime(2024, 6, 4, 9))
    assert second["landing_day"] == first["landing_day"] == "2024-06-03"
    assert second["checksums"] == first["checksums"]
    assert raw_snapshot(con, sources) == before
    assert second["report_dir"] != first["report_dir"]


@needs_data
def test_unknown_labels_are_withheld_or_quarantined_never_guessed(home, tmp_path):
    settings, con = home
    doc = yaml.safe_load(V14.read_text())
    doc["input"]["path"] = str(SHARED / "hrdataset_v14/HRDataset_v14.csv")
    doc["targets"]["candidates"]["columns"]["gender"]["map"] = {"F": "female"}  # "M" is unknown
    del doc["targets"]["employees"]["columns"]["termination_type"]["map"]["Terminated for Cause"]
    del doc["targets"]["performance_reviews"]["columns"]["rating"]["map"]["PIP"]
    path = tmp_path / "v14_partial.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    report = run(path, settings, con)
    assert_reconciled(report, con)

    cand = report["targets"]["candidates"]
    assert cand["withheld_by_reason"] == {reasons.UNKNOWN_LABEL: 135} and cand["loaded"] == 176
    assert con.execute("select count(*) from raw.candidates where gender <> 'female'").fetchone()[0] == 0
    with open(Path(report["report_dir"]) / "withheld.csv", encoding="utf-8") as f:
        withheld = list(csv.DictReader(f))
    assert len(withheld) == 135 and "'M'" in withheld[0]["message"] and "Sex" in withheld[0]["message"]

    # Enumerated and score columns pass the raw label on, so the contract quarantines it in raw.quarantine.
    assert report["targets"]["employees"]["quarantined_by_reason"] == {reasons.INVALID_VALUE: 16}
    rows = export_rows(SHARED / "hrdataset_v14/HRDataset_v14.csv")
    # Reviews of the 16 quarantined employees have no employee to attach to (two of them fail on PIP first).
    orphans = sum(r["EmploymentStatus"] == "Terminated for Cause" and r["PerformanceScore"] != "PIP" for r in rows)
    assert report["targets"]["performance_reviews"]["quarantined_by_reason"] == {
        reasons.UNKNOWN_RATING_WORD: 13,
        reasons.ORPHAN_REFERENCE: orphans,
    }
    found = {(u["column"], u["value"]): (u["rows"], u["outcome"]) for u in report["unmapped_labels"]}
    assert found == {
        ("gender", "M"): (135, "withheld from landing (unknown_label)"),
        ("termination_type", "Terminated for Cause"): (16, "passed to the contract check"),
        ("rating", "PIP"): (13, "passed to the contract check"),
    }
    message = con.execute(
        "select message from raw.quarantine where source = 'employees' and reason_code = ?", [reasons.INVALID_VALUE]
    ).fetchone()[0]
    assert "Terminated for Cause" in message


def test_gbk_export_with_chinese_headers(home):
    settings, con = home
    report = mig.migrate(FIXTURES / "legacy_gbk.yaml", settings, landing_day=DAY, con=con)
    assert report["input"]["encoding"] == "gb18030"
    assert report["input"]["skipped_blank_rows"] == 1 and report["input"]["rows_in"] == 5
    assert_reconciled(report, con)
    employees = con.execute(
        "select hire_date, termination_date, termination_type, job_family, department from raw.employees "
        "order by hire_date"
    ).fetchall()
    assert employees[0] == (dt.date(1998, 5, 20), dt.date(2021, 10, 31), "involuntary", "operations", "运营部")
    assert employees[1] == (dt.date(2019, 7, 1), dt.date(2021, 1, 1), "voluntary", "sales", "销售部")
    # 李娜 has no rating: `when` leaves her out of reviews rather than writing an empty review.
    reviews = report["targets"]["performance_reviews"]
    assert reviews["not_applicable"] == 1 and reviews["loaded"] == 4
    assert report["unmapped_labels"] == [
        {
            "target": "candidates",
            "column": "gender",
            "source": "性别",
            "value": "未知",
            "rows": 1,
            "outcome": "left empty",
        }
    ]
    assert con.execute("select count(*), count(gender) from raw.candidates").fetchone() == (5, 4)


def test_declared_encoding_and_delimiter(home, tmp_path):
    settings, con = home
    text = (FIXTURES / "legacy_gbk.csv").read_bytes().decode("gbk").replace(",", ";")
    (tmp_path / "export.csv").write_bytes(text.encode("gbk"))
    doc = yaml.safe_load((FIXTURES / "legacy_gbk.yaml").read_text(encoding="utf-8"))
    doc["input"] = {"path": str(tmp_path / "export.csv"), "encoding": "gbk", "csv": {"delimiter": ";"}}
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    report = mig.migrate(tmp_path / "m.yaml", settings, landing_day=DAY, con=con)
    assert report["input"]["encoding"] == "gbk" and report["targets"]["employees"]["loaded"] == 5


def test_mapping_errors_are_caught_before_anything_is_written(home, tmp_path):
    settings, con = home
    base = yaml.safe_load((FIXTURES / "legacy_gbk.yaml").read_text(encoding="utf-8"))
    base["input"]["path"] = str(FIXTURES / "legacy_gbk.csv")

    def attempt(edit, text=None) -> str:
        doc = json.loads(json.dumps(base))
        edit(doc)
        path = tmp_path / "bad.yaml"
        path.write_text(text or yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        with pytest.raises(mig.MappingError) as err:
            mig.migrate(path, settings, landing_day=DAY, con=con)
        return str(err.value)

    assert "工号X" in attempt(lambda d: d["targets"]["employees"]["columns"].update(employee_id="工号X"))
    assert "hire_date" in attempt(lambda d: d["targets"]["employees"]["columns"].pop("hire_date"))
    assert "salary" in attempt(lambda d: d["targets"]["employees"]["columns"].update(salary="工号"))
    assert "nope" in attempt(lambda d: d["targets"]["employees"]["columns"].update(region={"const": "${nope}"}))
    unquoted = "name: x\ninput: {path: legacy_gbk.csv}\ntargets:\n  employees:\n    columns:\n" + (
        "      employee_id: 工号\n      hire_date: 入职日期\n      job_family: {from: 岗位, map: {Yes: sales}}\n"
    )
    assert "quote it" in attempt(lambda d: None, unquoted)
    assert not any(settings.landing.rglob("*.csv"))


def test_value_helpers():
    assert mig._parse_date("07/10/51", {"format": "%m/%d/%y", "max_year": 2005}) == dt.date(1951, 7, 10)
    assert mig._parse_date("07/10/05", {"format": "%m/%d/%y", "max_year": 2005}) == dt.date(2005, 7, 10)
    assert mig._parse_date("40756", "excel_serial") == dt.date(2011, 8, 1)
    assert mig._normalise("Adinolfi, Wilson  K", "person_name") == "Wilson K Adinolfi"
    assert mig._normalise("Adinolfi, Wilson  K", "person_name_key") == mig._normalise(
        "Wilson Adinolfi", "person_name_key"
    )
    assert mig._normalise("LeBlanc, Brandon  R", "person_name_key") == mig._normalise(
        "Brandon R. LeBlanc", "person_name_key"
    )
    assert mig._normalise("王 伟", "person_name_key") == "王 伟"  # CJK single characters are not initials


@needs_data
def test_cli_without_load(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TALENTLOOP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SHARED_DATA", str(SHARED))
    assert mig.main(["--mapping", "hr560_production_staff", "--day", "2024-05-01", "--no-load"]) == 0
    out = capsys.readouterr().out
    assert "209 rows in (47 blank skipped)" in out and "Report:" in out
    landed = tmp_path / "home/landing/complaints/2024-05-01/migration_hr560_production_staff.csv"
    assert len(landed.read_text(encoding="utf-8").splitlines()) == 67
    assert not (tmp_path / "home/warehouse.duckdb").exists()
    assert mig.main(["--mapping", str(tmp_path / "missing.yaml")]) == 2
