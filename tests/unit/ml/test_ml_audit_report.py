"""The bias-audit report: its figures are ml.fairness.adverse_impact_table's, its PDF renders and carries those
figures in its tables, its HTML escapes every value, small groups read "<5", and the rule's constants agree
between ml.fairness, the mart and the dashboards."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pypdfium2
import pytest
from pypdf import PdfReader

from ml import audit_report, fairness
from ml.audit_report import AuditMeta, build_report, to_html, to_pdf

ROOT = Path(__file__).resolve().parents[3]
EVIL = "<script>alert('x')</script>"
META = AuditMeta(
    job_family="sales & <b>marketing</b>",
    period_start=dt.date(2025, 1, 1),
    period_end=dt.date(2025, 12, 31),
    source="hand-made frame",
    audit_date=dt.date(2026, 1, 15),
    auditor="A. Auditor",
)


def _pool(seed: int = 3, n: int = 1200) -> pd.DataFrame:
    """Applicants of one family: women score lower and are hired less (planted), an unknown share, a category
    under the floor and one whose label is markup."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male", None], n, p=[0.47, 0.48, 0.05])
    ethnicity = rng.choice(["asian", "black", "white", EVIL, ""], n, p=[0.3, 0.2, 0.44, 0.015, 0.045])
    composite = rng.normal(0.55, 0.1, n) - 0.06 * (sex == "female")
    hired = (composite + rng.normal(0, 0.05, n) > np.quantile(composite, 0.7)).astype(int)
    return pd.DataFrame({"sex": sex, "ethnicity": ethnicity, "composite": composite, "hired": hired})


@pytest.fixture(scope="module")
def report():
    return build_report(_pool(), META, n_perm=500)


def test_figures_are_adverse_impact_table(report):
    pool = _pool()
    expected = fairness.adverse_impact_table(pool, "hired", "composite", n_perm=500)
    cols = ["metric", "dimension", "group", "n", "n_positive", "rate", "impact_ratio", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(
        report.table[[*cols, "p_adjusted", "flag"]].reset_index(drop=True),
        expected[[*cols, "p_adjusted", "flag"]].reset_index(drop=True),
    )
    assert report.n_assessed == len(pool)
    assert report.n_selected == int(pool["hired"].sum())
    assert report.median_score == pytest.approx(float(pool["composite"].median()))
    assert report.unknown["sex"] == int(pool["sex"].isna().sum())
    assert report.unknown["ethnicity"] == int((pool["ethnicity"] == "").sum())
    either = pool["sex"].isna() | (pool["ethnicity"] == "")
    assert report.unknown["sex × ethnicity"] == int(either.sum())
    assert report.floor == {"selection": 30, "scoring": 30}
    # The planted gap is found: women's selection and scoring ratios are flagged.
    flagged = report.table[report.table["flag"]]
    assert {("selection", "female"), ("scoring", "female")} <= set(
        zip(flagged["metric"], flagged["group"], strict=True)
    )


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _row_after(text: str, label: str, cells: int) -> list[str]:
    """The `cells` values that follow a category label in the extracted text (labels may wrap over lines)."""
    pattern = r"(?:^|\n)" + r"\s+".join(map(re.escape, label.split())) + r"\s+" + r"\s+".join([r"(\S+)"] * cells)
    found = re.search(pattern, text)
    assert found, label
    return list(found.groups())


def test_pdf_renders_and_its_tables_carry_the_figures(report):
    data = to_pdf(report)
    assert data[:5] == b"%PDF-"
    doc = pypdfium2.PdfDocument(data)
    assert len(doc) >= 3
    for i in range(len(doc)):
        image = doc[i].render(scale=0.5).to_pil().convert("L")
        # A page with text on it is not one flat colour.
        assert image.getextrema()[0] < 128, f"page {i + 1} is blank"
    doc.close()

    text = _pdf_text(data)
    for needle in (
        "Date of the audit 2026-01-15",
        "2025-01-01 to 2025-12-31",
        f"Applicants assessed (scored) {report.n_assessed:,}",
        f"Sex unknown {report.unknown['sex']:,}",
        "Selection rates: Sex",
        "Scoring rates: Intersectional",
        "Categories excluded from the impact-ratio calculation",
        "Westfall-Young minP",
    ):
        assert needle in " ".join(text.split()), needle

    # Every compared row of every table: applicants, positives, rate and impact ratio as the table has them.
    t = report.table
    pages = {metric: _pdf_text(data).split(audit_report.METRIC_TITLES[metric] + "\n", 1)[1] for metric in ("scoring",)}
    pages["selection"] = text.split("Selection rates\n", 1)[1].split("Scoring rates\n", 1)[0]
    checked = 0
    for (metric, dimension), part in t[t["eligible"]].groupby(["metric", "dimension"]):
        section = pages[metric].split(audit_report.table_title(metric, dimension), 1)[1]
        for r in part.itertuples():
            n, positive, rate, ratio = _row_after(section, r.group, 4)
            assert int(n.replace(",", "")) == r.n and int(positive.replace(",", "")) == r.n_positive
            assert float(rate) == pytest.approx(round(r.rate, 3), abs=1e-12)
            assert float(ratio) == pytest.approx(round(r.impact_ratio, 3), abs=1e-12)
            checked += 1
    assert checked == int(t["eligible"].sum()) > 10


def test_html_escapes_every_value(report):
    page = to_html(report)
    assert "<script>" not in page and "<b>marketing</b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "sales &amp; &lt;b&gt;marketing&lt;/b&gt;" in page
    # Six results tables (two metrics x three dimensions) and the excluded categories.
    assert page.count("<table>") == 2 * 3 + 1


def test_small_groups_read_fewer_than_five_unless_asked():
    pool = _pool(n=600)
    pool.loc[:2, "sex"] = "nonbinary"
    shown = build_report(pool, META, n_perm=100)
    rows = {r[0]: r for r in audit_report.table_rows(shown, "selection", "sex")}
    assert rows["nonbinary"][1:4] == ["<5", "<5", "<5"]
    assert rows["nonbinary"][-1] == "excluded: n < 30"
    assert rows["unknown"][4] == "-" and rows["unknown"][-1] == "unknown: not compared"
    full = build_report(pool, META, n_perm=100, suppress_below=0)
    assert {r[0]: r for r in audit_report.table_rows(full, "selection", "sex")}["nonbinary"][1] == "3"
    excluded = {(r[1], r[2]) for r in audit_report.excluded_rows(shown)}
    assert ("Sex", "nonbinary") in excluded and ("Race/ethnicity", EVIL) in excluded


def test_an_empty_period_still_renders():
    empty = build_report(_pool().iloc[:0], META)
    assert empty.n_assessed == 0
    assert "nothing to audit" in to_html(empty)
    assert len(pypdfium2.PdfDocument(to_pdf(empty))) >= 1


def test_the_rule_constants_agree_across_layers():
    from dashboards import audit_queries

    sql = (ROOT / "dbt_project/models/marts/adverse_impact.sql").read_text()
    assert f"var('reference_floor_n', {fairness.REFERENCE_FLOOR_N})" in sql
    assert f"var('reference_floor_share', {fairness.REFERENCE_FLOOR_SHARE})" in sql
    z = float(re.search(r"set katz_z = ([0-9.]+)", sql).group(1))
    assert z == pytest.approx(fairness._z_two_sided(fairness.CI_LEVEL), abs=1e-15)
    assert audit_queries.REFERENCE_FLOOR_N == fairness.REFERENCE_FLOOR_N
    assert audit_queries.REFERENCE_FLOOR_SHARE == fairness.REFERENCE_FLOOR_SHARE
    assert audit_queries.MIN_CELL == fairness.SMALL_GROUP_N


def test_nightly_assets_write_reports_and_thresholds_and_rerun_safely(tmp_path):
    """The two model assets on a temporary DuckDB holding a hand-made applicant pool: every family gets a PDF and an
    HTML of its last 12 months; a second run replaces the reports (no history of files) and registers itself."""
    import dagster as dg
    import duckdb
    from dagster_duckdb import DuckDBResource

    from orchestration.defs.models import assets

    pool = pd.concat(
        [
            _pool(seed=1, n=400).assign(job_family="alpha"),
            _pool(seed=2, n=300).assign(job_family="beta"),
        ],
        ignore_index=True,
    )
    pool = pool.rename(columns={"sex": "gender", "composite": "composite_score"}).assign(
        started_at=pd.Timestamp("2025-06-01") - pd.to_timedelta(np.arange(len(pool)) % 500, "D"),
        hired=lambda f: f["hired"].astype(bool),
    )
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema raw")
        con.execute("create table raw.load_log as select date '2025-06-01' as _partition_date, now() as _loaded_at")
        con.register("_pool", pool)
        con.execute("create table marts.applicant_pool as select * from _pool")
    resources = {"warehouse": DuckDBResource(database=str(path))}
    for _ in range(2):
        result = dg.materialize([assets.fairness_thresholds_asset, assets.audit_reports_asset], resources=resources)
        assert result.success
    with duckdb.connect(str(path), read_only=True) as con:
        reports = con.execute("select job_family, format, file_name, period_start, content from ml.audit_reports").df()
        runs = con.execute("select count(*) from ml.model_runs where model = 'audit_reports'").fetchall()[0][0]
        grid = con.execute(
            "select job_family, count(distinct cutoff_quantile) from ml.fairness_thresholds group by 1"
        ).df()
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    assert sorted(zip(reports["job_family"], reports["format"], strict=True)) == [
        ("alpha", "html"),
        ("alpha", "pdf"),
        ("beta", "html"),
        ("beta", "pdf"),
    ]
    assert set(reports["file_name"]) >= {
        "audit_alpha_2024-06-02_2025-06-01.pdf",
        "audit_beta_2024-06-02_2025-06-01.html",
    }
    assert all(bytes(c)[:5] == b"%PDF-" for c in reports.loc[reports["format"] == "pdf", "content"])
    assert runs == 2 and "audit_reports_history" not in tables
    assert sorted(grid.itertuples(index=False, name=None)) == [("alpha", 19), ("beta", 19)]
