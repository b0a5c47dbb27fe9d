"""The bias audit end to end: marts.adverse_impact equals ml.fairness on the same applicants (a hand-made warehouse
with the rule's edge cases, built by dbt, and the small world), `talentloop audit` writes a PDF and an HTML whose
tables carry those figures, and the nightly run publishes every family's report and the score-threshold view."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pypdfium2
import pytest
from pypdf import PdfReader

from ingestion.settings import DBT_PROJECT_DIR
from ml import audit_report
from ml.fairness import adverse_impact_table, rate_table, threshold_table
from orchestration import audit

pytestmark = pytest.mark.slow

TOL = 1e-9
MIN_CELL = 5
COMPARED = ["rate", "impact_ratio", "ci_low", "ci_high"]
FLAGS = {"eligible": "is_eligible", "excluded_small": "is_excluded_small", "is_unknown": "is_unknown"}


# ---------------------------------------------------------------------------------------------------------------
# Comparing the mart with ml.fairness
# ---------------------------------------------------------------------------------------------------------------


def assert_mart_equals(mart: pd.DataFrame, expected: pd.DataFrame, where: str) -> int:
    """Every group of `expected` (an ml.fairness table with a 'metric' column) is a mart row with the same
    reference, floor, eligibility and, for groups of 5 or more, the same counts, rates, ratios and intervals
    (to 1e-9); groups under 5 are suppressed. Returns the number of rows compared."""
    m = mart.rename(columns={"group_label": "group"})
    joined = expected.merge(m, on=["metric", "dimension", "group"], how="outer", suffixes=("", "_mart"), indicator=True)
    missing = joined[joined["_merge"] != "both"]
    assert missing.empty, f"{where}: rows in only one table\n{missing[['metric', 'dimension', 'group', '_merge']]}"
    assert (joined["reference_group"].fillna("") == joined["reference_group_mart"].fillna("")).all(), where
    assert (joined["floor_n"] == joined["floor_n_mart"]).all(), where
    for ml_col, mart_col in FLAGS.items():
        assert (joined[ml_col].astype(bool) == joined[mart_col].astype(bool)).all(), f"{where}: {ml_col}"
    small = joined["n"] < MIN_CELL
    assert joined.loc[small, "is_suppressed"].all() and joined.loc[small, "n_mart"].isna().all(), where
    big = joined[~small]
    assert (big["n"] == big["n_mart"]).all() and (big["n_positive"] == big["n_passed"]).all(), where
    for col in COMPARED:
        a, b = big[col].astype(float).to_numpy(), big[f"{col}_mart"].astype(float).to_numpy()
        assert (np.isnan(a) == np.isnan(b)).all(), f"{where}: {col} missing in one table only"
        ok = ~np.isnan(a)
        assert np.allclose(a[ok], b[ok], rtol=0, atol=TOL), f"{where}: {col} differs by {np.abs(a - b)[ok].max()}"
    return len(joined)


def per_row_from_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """One row per application from funnel-step counts of one dimension (label, n, n_passed)."""
    rows = [
        {"group": r.group_label, "passed": float(i < r.n_passed)}
        for r in counts.itertuples(index=False)
        for i in range(int(r.n))
    ]
    return pd.DataFrame(rows)


def funnel_expected(counts: pd.DataFrame) -> pd.DataFrame:
    """ml.fairness.rate_table of every (family, stage, dimension) of int_selections_counted-shaped counts."""
    frames = []
    for (family, stage, dimension), part in counts.groupby(["job_family", "stage_name", "dimension"]):
        people = per_row_from_counts(part).rename(columns={"group": "label"})
        table = rate_table(people, "passed", ["label"], intersection=False, adjust=None)
        frames.append(table.assign(job_family=family, stage_name=stage, dimension=dimension, metric="selection"))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------------------------
# A hand-made warehouse with the rule's edge cases, built by dbt
# ---------------------------------------------------------------------------------------------------------------


def _applicants(rng: np.random.Generator) -> pd.DataFrame:
    """The truth: one row per candidate x family with the pool interview's composite and `hired`.

    big (2,600): the floor is 52, so a 45-person non-binary group with the top hire rate is excluded although over
    30; 'unknown' (blank answers) has the highest rate and is never the reference; no Pacific Islander is hired
    (a zero cell: Haldane interval); composites on a 0.01 grid, so many sit exactly on the median.
    tie: two groups of 100 with 50 hired each, the reference is the first label. small: nobody reaches 30.
    """
    parts = []
    n = 2600
    sex = rng.choice(["female", "male", "nonbinary", ""], n, p=[0.46, 0.48, 45 / n, 1 - 0.94 - 45 / n])
    eth = rng.choice(
        ["asian", "black", "white", "hispanic or latino", "pacific islander", "native american", "   "],
        n,
        p=[0.25, 0.2, 0.38, 0.06, 0.03, 0.015, 0.065],
    )
    score = np.round(np.clip(rng.normal(0.55, 0.12, n) - 0.05 * (sex == "female"), 0, 1), 2)
    p_hire = 0.08 + 0.5 * (score > 0.62) + 0.3 * (sex == "nonbinary") + 0.4 * (sex == "")
    hired = (rng.random(n) < np.clip(p_hire, 0, 1)) & (eth != "pacific islander")
    parts.append(pd.DataFrame({"job_family": "big", "sex": sex, "ethnicity": eth, "composite": score, "hired": hired}))
    tie = pd.DataFrame(
        {
            "job_family": "tie",
            "sex": ["male"] * 100 + ["female"] * 100 + [""] * 40,
            "ethnicity": "white",
            "composite": np.round(np.linspace(0.2, 0.9, 240), 2),
            "hired": [i < 50 for i in range(100)] * 2 + [True] * 40,
        }
    )
    parts.append(tie)
    parts.append(
        pd.DataFrame(
            {
                "job_family": "small",
                "sex": ["female", "male"] * 10,
                "ethnicity": "asian",
                "composite": np.linspace(0.3, 0.7, 20),
                "hired": [True, False, False, False] * 5,
            }
        )
    )
    out = pd.concat(parts, ignore_index=True)
    out["candidate_key"] = [f"c{i:05d}" for i in range(len(out))]
    return out


def _applicant_pool(truth: pd.DataFrame) -> pd.DataFrame:
    """marts.applicant_pool of `truth` (its own unit test holds which interview is each candidate's)."""
    return truth.rename(columns={"sex": "gender", "composite": "composite_score"}).assign(
        interview_id=lambda f: "i" + f["candidate_key"], started_at=pd.Timestamp("2025-03-01 09:00")
    )


FUNNEL_COUNTS = pd.DataFrame(
    [
        # 1,995 in the step's pool: the floor is 40; b ties a at .5 and is smaller; c (35) has the top rate.
        ("ops", "hired", 7, "ethnicity", "a", 1000, 500),
        ("ops", "hired", 7, "ethnicity", "b", 960, 480),
        ("ops", "hired", 7, "ethnicity", "c", 35, 35),
        ("ops", "offer_made", 5, "sex", "female", 40, 20),
        ("ops", "offer_made", 5, "sex", "male", 40, 10),
        ("ops", "offer_made", 5, "sex", "nonbinary", 3, 3),
        ("ops", "offer_made", 5, "sex", "unknown", 40, 36),
        ("ops", "offer_made", 5, "sex × ethnicity", "female × unknown", 60, 60),
        ("ops", "offer_made", 5, "sex × ethnicity", "male × asian", 30, 0),
        ("ops", "offer_made", 5, "sex × ethnicity", "female × asian", 31, 30),
    ],
    columns=["job_family", "stage_name", "stage_order", "dimension", "group_label", "n", "n_passed"],
)


def _dbt_run(work: Path, warehouse: Path) -> None:
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "TALENTLOOP_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    result = subprocess.run(
        [
            str(dbt if dbt.exists() else "dbt"),
            "run",
            "--select",
            "adverse_impact",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
        ],
        env=env,
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory):
    """A hand-made applicant pool and funnel counts, adverse_impact built on them by dbt: (truth, mart)."""
    work = tmp_path_factory.mktemp("audit_dbt")
    warehouse = work / "warehouse.duckdb"
    rng = np.random.default_rng(20)
    truth = _applicants(rng)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts; create schema intermediate")
        for name, frame in {
            "marts.applicant_pool": _applicant_pool(truth),
            "intermediate.int_selections_counted": FUNNEL_COUNTS,
        }.items():
            con.register("_frame", frame)
            con.execute(f"create table {name} as select * from _frame")
            con.unregister("_frame")
    _dbt_run(work, warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mart = con.execute("select * from marts.adverse_impact").df()
    return truth, mart


def _expected_scored(truth: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """ml.fairness.adverse_impact_table per family (and 'all', the families pooled) of the true pool."""
    pools = {f: p for f, p in truth.groupby("job_family")} | {"all": truth}
    return {f: adverse_impact_table(p, "hired", "composite", adjust=None) for f, p in pools.items()}


def test_mart_scored_rows_equal_ml_fairness_on_hand_made_marts(hand_made):
    truth, mart = hand_made
    scored = mart[mart["stage_name"] == "scored"]
    compared = 0
    for family, expected in _expected_scored(truth).items():
        compared += assert_mart_equals(scored[scored["job_family"] == family], expected, family)
    assert compared == len(scored)
    big = scored[(scored["job_family"] == "big") & (scored["dimension"] == "sex")].set_index(["metric", "group_label"])
    assert (big["floor_n"] == 52).all()
    nonbinary, unknown = big.loc[("selection", "nonbinary")], big.loc[("selection", "unknown")]
    assert nonbinary["is_excluded_small"] and not nonbinary["is_eligible"] and nonbinary["rate"] > big["rate"].min()
    # Both have a higher rate than the reference, and neither is it.
    reference_rate = big.xs("selection").query("is_reference")["rate"].iloc[0]
    assert unknown["is_unknown"] and min(unknown["rate"], nonbinary["rate"]) > reference_rate
    pacific = scored[(scored["job_family"] == "big") & (scored["group_label"] == "pacific islander")]
    assert (pacific.loc[pacific["metric"] == "selection", "ci_method"] == "katz_log_haldane_0.5").all()
    tie = scored[(scored["job_family"] == "tie") & (scored["dimension"] == "sex") & (scored["metric"] == "selection")]
    assert set(tie["reference_group"]) == {"female"}
    small = scored[scored["job_family"] == "small"]
    assert small["reference_group"].isna().all() and small["impact_ratio"].isna().all()


def test_mart_funnel_rows_follow_the_same_rule(hand_made):
    _, mart = hand_made
    steps = mart[mart["stage_name"] != "scored"]
    expected = funnel_expected(FUNNEL_COUNTS)
    for (family, stage), part in expected.groupby(["job_family", "stage_name"]):
        rows = steps[(steps["job_family"] == family) & (steps["stage_name"] == stage)]
        assert_mart_equals(rows, part.drop(columns=["job_family", "stage_name"]), f"{family}/{stage}")
    hired = steps[steps["stage_name"] == "hired"].set_index("group_label")
    assert hired["reference_group"].eq("a").all() and hired.loc["c", "is_excluded_small"]
    offer = steps[steps["stage_name"] == "offer_made"].set_index("group_label")
    assert offer.loc["female × asian", "is_reference"] and offer.loc["female × unknown", "is_unknown"]


# ---------------------------------------------------------------------------------------------------------------
# The small world through the whole pipeline
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(built_home) -> Path:
    path = built_home.current_snapshot()
    assert path is not None
    return path


@pytest.fixture(scope="module")
def world_pool(snapshot) -> pd.DataFrame:
    with duckdb.connect(str(snapshot), read_only=True) as con:
        return audit.load_pool(con)


def test_mart_equals_ml_fairness_in_the_small_world(snapshot, world_pool):
    with duckdb.connect(str(snapshot), read_only=True) as con:
        mart = con.execute("select * from marts.adverse_impact").df()
        applications = con.execute(
            "select a.job_family, a.furthest_stage_order, c.gender, c.ethnicity from marts.applications as a "
            "inner join marts.candidates as c on a.candidate_key = c.candidate_key"
        ).df()
    scored = mart[mart["stage_name"] == "scored"]
    pools = {f: p for f, p in world_pool.groupby("job_family")} | {"all": world_pool}
    assert len(pools) >= 4
    for family, pool in pools.items():
        expected = adverse_impact_table(pool, "hired", "composite", adjust=None)
        assert_mart_equals(scored[scored["job_family"] == family], expected, family)
    # The funnel's 'overall' step: hired of all applications, per family.
    overall = mart[mart["stage_name"] == "overall"]
    applications["hired"] = (applications["furthest_stage_order"] >= 7).astype(float)
    applications = applications.rename(columns={"gender": "sex"})
    for family, apps in [*applications.groupby("job_family"), ("all", applications)]:
        expected = rate_table(apps, "hired", adjust=None).assign(metric="selection")
        assert_mart_equals(overall[overall["job_family"] == family], expected, f"{family}/overall")


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _cells_after(text: str, label: str, count: int) -> list[str]:
    pattern = r"(?:^|\n)" + r"\s+".join(map(re.escape, label.split())) + r"\s+" + r"\s+".join([r"(\S+)"] * count)
    found = re.search(pattern, text)
    assert found, label
    return list(found.groups())


def test_cli_writes_a_report_whose_tables_are_the_mart(built_home, snapshot, world_pool, tmp_path, monkeypatch):
    from orchestration.cli import main

    monkeypatch.setenv("TALENTLOOP_HOME", str(built_home.home))
    family = world_pool["job_family"].value_counts().index[0]
    days = pd.to_datetime(world_pool["started_at"]).dt.date
    start, end = days.min(), days.max()
    args = ["audit", "--job-family", family, "--from", str(start), "--to", str(end), "--out", str(tmp_path)]
    assert main([*args, "--audit-date", "2026-01-31"]) == 0
    stem = f"audit_{family}_{start}_{end}"
    pdf, page = tmp_path / f"{stem}.pdf", tmp_path / f"{stem}.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([pdf.name, page.name])

    doc = pypdfium2.PdfDocument(pdf.read_bytes())
    assert len(doc) >= 3
    assert doc[0].render(scale=0.5).to_pil().convert("L").getextrema()[0] < 128
    doc.close()

    with duckdb.connect(str(snapshot), read_only=True) as con:
        mart = con.execute(
            "select * from marts.adverse_impact where stage_name = 'scored' and job_family = ?", [family]
        ).df()
    text = _pdf_text(pdf.read_bytes())
    flat = " ".join(text.split())
    assert f"Applicants assessed (scored) {len(world_pool[world_pool['job_family'] == family]):,}" in flat
    assert "Date of the audit 2026-01-31" in flat and f"{start} to {end}" in flat
    assert f"published snapshot {snapshot.name}" in flat
    selection = text.split("Selection rates\n", 1)[1].split("Scoring rates\n", 1)[0]
    scoring = text.split("Scoring rates\n", 1)[1]
    checked = 0
    for r in mart[mart["is_eligible"]].itertuples():
        section = (selection if r.metric == "selection" else scoring).split(
            audit_report.table_title(r.metric, r.dimension), 1
        )[1]
        n, positive, rate, ratio = _cells_after(section, r.group_label, 4)
        assert (int(n.replace(",", "")), int(positive.replace(",", ""))) == (r.n, r.n_passed)
        assert float(rate) == round(r.rate, 3) and float(ratio) == round(r.impact_ratio, 3)
        checked += 1
    assert checked >= 4
    # Unknown and excluded categories keep their counts in the tables, never a ratio.
    for r in mart[~mart["is_eligible"] & ~mart["is_suppressed"]].itertuples():
        section = (selection if r.metric == "selection" else scoring).split(
            audit_report.table_title(r.metric, r.dimension), 1
        )[1]
        n, positive, rate, ratio = _cells_after(section, r.group_label, 4)
        assert (int(n.replace(",", "")), float(rate), ratio) == (r.n, round(r.rate, 3), "-")
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "Scoring rates: Intersectional" in html


def test_cli_refuses_an_empty_period_and_a_reversed_one(built_home, tmp_path, monkeypatch, capsys):
    from orchestration.cli import main

    monkeypatch.setenv("TALENTLOOP_HOME", str(built_home.home))
    base = ["audit", "--job-family", "sales", "--out", str(tmp_path)]
    assert main([*base, "--from", "1990-01-01", "--to", "1990-12-31"]) == 1
    assert main([*base, "--from", "2025-02-01", "--to", "2025-01-01"]) == 2
    assert list(tmp_path.iterdir()) == []
    assert "before" in capsys.readouterr().out


def test_nightly_run_publishes_reports_and_thresholds(snapshot, world_pool):
    with duckdb.connect(str(snapshot), read_only=True) as con:
        reports = con.execute("select * from ml.audit_reports").df()
        grid = con.execute("select * from ml.fairness_thresholds").df()
        through = con.execute("select landed_through from ops.publish_info").fetchall()[0][0]
    start, end = audit.nightly_period(pd.Timestamp(through).date())
    days = pd.to_datetime(world_pool["started_at"]).dt.date
    families = sorted(world_pool.loc[days.between(start, end), "job_family"].unique())
    assert sorted(reports.loc[reports["format"] == "pdf", "job_family"]) == families
    assert sorted(reports.loc[reports["format"] == "html", "job_family"]) == families
    assert (reports["period_start"].dt.date == start).all() and (reports["period_end"].dt.date == end).all()
    for r in reports.itertuples():
        content = bytes(r.content)
        assert r.file_name == f"audit_{r.job_family}_{start}_{end}.{r.format}"
        if r.format == "pdf":
            assert content[:5] == b"%PDF-" and len(pypdfium2.PdfDocument(content)) >= 3
        else:
            assert "Bias audit" in content.decode("utf-8")

    family = families[0]
    expected = threshold_table(world_pool[world_pool["job_family"] == family], "composite")
    got = grid[grid["job_family"] == family].rename(columns={"group_label": "group"})
    joined = expected.merge(got, on=["cutoff_quantile", "dimension", "group"], suffixes=("", "_published"))
    assert len(joined) == len(expected) == len(got)
    for col in ("cutoff_score", "rate", "impact_ratio", "p_adjusted"):
        a, b = joined[col].astype(float).to_numpy(), joined[f"{col}_published"].astype(float).to_numpy()
        assert np.allclose(a, b, rtol=0, atol=TOL, equal_nan=True), col
    assert (joined["flag"] == joined["flag_published"]).all()


def test_the_dashboards_read_what_was_published(built_home, snapshot, monkeypatch):
    """The page's queries (no ml import) give the snapshot's figures and files, and refuse a department scope."""
    from dashboards import audit_queries
    from dashboards.auth import AccessDenied, RowScope

    monkeypatch.setenv("TALENTLOOP_HOME", str(built_home.home))
    everyone = RowScope(None, "hr_analyst")
    with duckdb.connect(str(snapshot), read_only=True) as con:
        family, pdf = con.execute(
            "select job_family, content from ml.audit_reports where format = 'pdf' order by job_family limit 1"
        ).fetchall()[0]
        rows = con.execute(
            "select count(*) from marts.adverse_impact where stage_name = 'scored' and job_family = ?", [family]
        ).fetchall()[0][0]
    scored = audit_queries.scored_impact(everyone, family)
    assert len(scored) == rows and set(scored["metric"]) == {"selection", "scoring"}
    assert set(audit_queries.reports(everyone, family)["format"]) == {"pdf", "html"}
    assert audit_queries.report_content(everyone, family, "pdf") == bytes(pdf)
    grid = audit_queries.thresholds(everyone, family)
    assert grid["n"].dropna().min() >= MIN_CELL and grid["cutoff_quantile"].nunique() == 19
    head = RowScope("Sales", "department_head")
    for fetch in (audit_queries.scored_impact, audit_queries.reports, audit_queries.thresholds):
        with pytest.raises(AccessDenied):
            fetch(head, family)


def test_a_department_heads_funnel_follows_the_same_rule(built_home, snapshot, monkeypatch):
    """The page computes a department's funnel step in SQL; its rule is the mart's, i.e. ml.fairness's."""
    from dashboards import audit_queries
    from dashboards.auth import RowScope

    monkeypatch.setenv("TALENTLOOP_HOME", str(built_home.home))
    with duckdb.connect(str(snapshot), read_only=True) as con:
        apps = con.execute(
            "select a.department, a.furthest_stage_order, c.gender as sex, c.ethnicity from marts.applications as a "
            "inner join marts.candidates as c on a.candidate_key = c.candidate_key"
        ).df()
    department = apps["department"].value_counts().index[0]
    mine = apps[apps["department"] == department]
    for stage, pool_order in (("overall", 1), ("interview_completed", 3)):
        got = audit_queries.funnel_impact(RowScope(department, "department_head"), "all", stage)
        order = 7 if stage == "overall" else pool_order + 1
        people = mine[mine["furthest_stage_order"] >= pool_order]
        people = people.assign(passed=(people["furthest_stage_order"] >= order).astype(float))
        expected = rate_table(people, "passed", adjust=None).assign(metric="selection")
        got = got.rename(columns={"selection_rate": "rate"}).assign(metric="selection")
        # The page's department figures have no interval (the mart's do).
        expected[["ci_low", "ci_high"]] = np.nan
        assert assert_mart_equals(got, expected, f"{department}/{stage}") == len(got)
