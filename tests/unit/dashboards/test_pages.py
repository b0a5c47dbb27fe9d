"""Every page for every role through Streamlit's AppTest, on a real published snapshot of the small world.

Also: a department head's pages never receive another department's rows (checked on every query result the pages
get from the query layer, and on the query layer directly); the review desk records a decision and refuses an
unaddressed flagged approval; a talent-pool profile view writes an access-log row; pages without the model outputs
say "not available yet" instead of failing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import queries, read, review
from dashboards.auth import ROLES, AccessDenied, RowScope, allowed_pages
from dashboards.i18n import competency_name, page_title

APP = Path(__file__).resolve().parents[3] / "dashboards" / "streamlit_app.py"
USER_FOR_ROLE = {"admin": "admin", "hr_analyst": "analyst", "talent_leader": "leader", "department_head": "head"}
# Marts and model outputs that pool every department: a department head's pages must never read them.
ORG_WIDE = re.compile(
    r"\b(marts\.(funnel|quality_of_hire|quality_of_hire_by_competency|retention_cohorts|complaint_rates|"
    r"adverse_impact)|ml\.turnover_km)\b"
)


def open_page(username: str, page: str, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["talentloop_user"] = username
    if lang:
        at.session_state["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    at.switch_page(f"app_pages/{page}.py").run()
    return at


def assert_ok(at: AppTest, page: str, lang: str = "en") -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [page_title(page, lang)]


def widget(widgets, label: str):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget labelled {label!r}: {[w.label for w in widgets]}"
    return found[0]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role(dash_home, use_home, role):
    use_home(dash_home)
    for page in allowed_pages(role):
        at = open_page(USER_FOR_ROLE[role], page)
        assert_ok(at, page)
        assert not [e.value for e in at.error if "not available" in e.value.lower()]


def test_pages_render_in_chinese(dash_home, use_home):
    use_home(dash_home)
    for page in ("overview", "quality_of_hire", "weight_review", "fairness_audit"):
        at = open_page("admin", page, lang="zh-CN")
        assert_ok(at, page, "zh-CN")


def test_pages_say_not_available_before_the_models_land(bare_home, use_home):
    use_home(bare_home)
    for page in allowed_pages("admin"):
        at = open_page("admin", page)
        assert_ok(at, page)
    at = open_page("leader", "weight_review")
    assert any("Not available yet" in i.value and "ml.recommendations" in i.value for i in at.info)
    at = open_page("analyst", "retention")
    assert any("ml.turnover_km" in i.value for i in at.info)


def test_a_role_cannot_open_a_page_outside_it(dash_home, use_home):
    use_home(dash_home)
    at = open_page("analyst", "overview")
    with pytest.raises(ValueError):
        at.switch_page("app_pages/admin.py")


# department heads


@pytest.fixture
def recorded_queries(monkeypatch):
    """Every (sql, result) the pages get from the read layer during a test."""
    seen: list[tuple[str, pd.DataFrame]] = []
    original = read._query

    def spy(path, sql, params):
        result = original(path, sql, params)
        seen.append((sql, result))
        return result

    monkeypatch.setattr(read, "_query", spy)
    return seen


def test_department_head_pages_get_only_their_departments_rows(dash_home, use_home, recorded_queries):
    use_home(dash_home)
    for page in allowed_pages("department_head"):
        at = open_page("head", page)
        assert_ok(at, page)
    assert recorded_queries
    for sql, result in recorded_queries:
        assert not ORG_WIDE.search(sql), f"a department head's page read an organisation-wide mart: {sql}"
        if "department" in result.columns:
            assert set(result["department"].dropna()) <= {dash_home.department}, sql


def test_department_scope_in_the_query_layer(dash_home, use_home):
    use_home(dash_home)
    mine = RowScope(dash_home.department, "department_head")
    everyone = RowScope(None, "hr_analyst")
    snapshot = str(dash_home.settings.current_snapshot())

    top, counts = queries.talent_search(mine, limit=10_000)
    assert len(top) and set(top["department"]) == {dash_home.department}
    assert counts["n"].sum() == _count(snapshot, "marts.talent_pool", dash_home.department)

    theirs = queries.talent_search(RowScope(dash_home.other_department, "department_head"))[0]
    other_key = theirs["candidate_key"].iloc[0]
    assert queries.candidate_profile(mine, other_key).empty
    assert queries.keyword_evidence(mine, other_key).empty
    assert len(queries.candidate_profile(everyone, other_key)) == 1

    funnel = queries.funnel(mine, "all", None)
    applied = funnel.loc[funnel["stage_name"] == "applied", "n_entered"].iloc[0]
    assert applied == _count(snapshot, "marts.applications", dash_home.department)

    complaints = queries.complaint_rates(mine)
    total = complaints[(complaints["job_family"] == "all") & (complaints["score_band"] == "all")]
    assert total["n_hires"].iloc[0] == _count(snapshot, "marts.hires", dash_home.department)

    raters = set(queries.interviewers(mine)["rater_id"])
    assert raters and raters <= set(queries.interviewers(everyone)["rater_id"])
    assert raters == _raters(snapshot, dash_home.department)

    for org_wide in (
        lambda: queries._funnel_mart(mine, "all", None),
        lambda: queries.adverse_impact(everyone, "all", "overall") is not None and queries._org_wide(mine),
    ):
        with pytest.raises(AccessDenied):
            org_wide()


def test_department_aggregates_are_suppressed_below_five(dash_home, use_home):
    use_home(dash_home)
    mine = RowScope(dash_home.department, "department_head")
    for frame, count in (
        (queries.quality_of_hire(mine, "all", "hire_cohort"), "n_hires"),
        (queries.adverse_impact(mine, "all", "overall"), "n"),
        (queries.funnel(mine, "source_channel", None), "n_entered"),
    ):
        shown = frame[count].dropna()
        assert (shown >= queries.MIN_CELL).all()
        assert frame.loc[frame["is_suppressed"], count].isna().all()


def _count(snapshot: str, table: str, department: str) -> int:
    import duckdb

    with duckdb.connect(snapshot, read_only=True) as con:
        return con.execute(f"select count(*) from {table} where department = ?", [department]).fetchone()[0]


def _raters(snapshot: str, department: str) -> set[str]:
    import duckdb

    with duckdb.connect(snapshot, read_only=True) as con:
        rows = con.execute(
            "select distinct rater_id from marts.interview_ratings where rater_type = 'human' and department = ? "
            "and rater_id in (select rater_id from marts.interviewers)",
            [department],
        ).fetchall()
    return {r[0] for r in rows}


# the review desk


def _families(home) -> tuple[str, str]:
    import duckdb

    with duckdb.connect(str(home.settings.current_snapshot()), read_only=True) as con:
        rows = con.execute("select job_family, flagged from ml.recommendations where status = 'recommended'").fetchall()
    flagged = next(f for f, is_flagged in rows if is_flagged)
    plain = next(f for f, is_flagged in rows if not is_flagged)
    return flagged, plain


def _decide(at: AppTest, family: str, decision: str, reason: str, acknowledge: bool = False) -> AppTest:
    widget(at.selectbox, "Job family").set_value(family).run()
    at.radio(key=f"review_decision_{family}").set_value(decision).run()
    if acknowledge:
        widget(at.checkbox, "I have read the fairness flag and address it in my reason.").check().run()
    at.text_area(key="review_reason").input(reason).run()
    widget(at.button, "Submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_weight_review_refuses_an_unaddressed_flagged_approval_and_records_decisions(dash_home, use_home):
    use_home(dash_home)
    flagged, plain = _families(dash_home)
    state = dash_home.state
    before = len(state.decisions())

    at = _decide(open_page("leader", "weight_review"), flagged, "approved", "The validity gain is worth it, approve.")
    assert any("acknowledge the flag" in e.value for e in at.error)
    at = _decide(at, flagged, "approved", "The validity gain is clearly worth it here, so approve this.", True)
    assert any("must address the flag" in e.value for e in at.error)
    assert len(state.decisions()) == before

    reason = "Female impact ratio drops to 0.74; we accept it for one cycle and re-check the impact next quarter."
    at = _decide(at, flagged, "approved", reason, True)
    assert any("Decision recorded" in s.value for s in at.success), [e.value for e in at.error]
    no = "Too little change to be worth a cycle."
    rejected = _decide(open_page("leader", "weight_review"), plain, "rejected", no)
    assert any("Decision recorded" in s.value for s in rejected.success)

    log = state.decisions()
    assert len(log) == before + 2
    approved = log.iloc[-2]
    assert (approved["job_family"], approved["decision"], approved["decided_by"]) == (flagged, "approved", "leader")
    assert approved["flagged"] and approved["flag_acknowledged"] and approved["reason"] == reason
    assert dt.date.fromisoformat(approved["effective_from"]) >= dt.datetime.now(dt.UTC).date()
    assert (log.iloc[-1]["job_family"], log.iloc[-1]["decision"]) == (plain, "rejected")
    shown = open_page("leader", "weight_review")
    assert any(reason in df.value.to_string() for df in shown.dataframe)


def test_weight_review_edit_must_sum_to_one(dash_home, use_home):
    use_home(dash_home)
    _, plain = _families(dash_home)
    at = open_page("leader", "weight_review")
    widget(at.selectbox, "Job family").set_value(plain).run()
    at.radio(key=f"review_decision_{plain}").set_value("edited").run()
    first = at.number_input[0]
    first.set_value(round(first.value + 0.2, 3)).run()
    # The what-if refuses to judge weights that are not weights, and so does the store.
    assert any("sum to 1" in e.value and "what-if has not run" in e.value for e in at.error)
    at.text_area(key="review_reason").input("Weight the first competency more than the model suggests.").run()
    widget(at.button, "Submit").click().run()
    assert any(e.value.startswith("Weights must sum to 1") for e in at.error)


# talent pool


def test_talent_pool_profile_view_writes_the_access_log(dash_home, use_home):
    use_home(dash_home)
    at = open_page("analyst", "talent_pool")
    box = widget(at.selectbox, "Candidate")
    key = box.options[1]
    box.set_value(key).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("access log" in c.value for c in at.caption)
    log = dash_home.state.access_log(candidate_key=key)
    assert len(log) >= 1
    row = log.iloc[0]
    assert (row["username"], row["page"], row["action"]) == ("analyst", "talent_pool", "view_profile")


def test_admin_adds_a_user(dash_home, use_home):
    use_home(dash_home)
    at = open_page("admin", "admin")
    form = at.get("form")[0] if at.get("form") else None
    assert form is not None
    at.text_input[0].input("newanalyst")
    at.text_input[1].input("another-long-password-42")
    at.button[0].click().run()
    assert not at.exception
    user = dash_home.state.get_user("newanalyst")
    assert user is not None and user.role == "hr_analyst"
    assert (
        dash_home.state.access_log(username="admin", page="admin")["action"] == "user_create newanalyst hr_analyst"
    ).any()


def test_interviewer_queries_pick_what_the_page_shows(dash_home, use_home):
    """The warehouse-side picks of the calibration page equal the same picks made in pandas on the whole mart."""
    use_home(dash_home)
    everyone = RowScope(None, "hr_analyst")
    people = queries.interviewers(everyone)
    whole = queries.interviewer_calibration(everyone)
    assert set(whole["rater_id"]) == set(people["rater_id"])

    limit = 5
    heat = queries.interviewer_heatmap(everyone, limit)
    ranked = people.assign(distance=people["leniency"].abs()).sort_values(
        ["needs_calibration", "distance", "rater_id"], ascending=[False, False, True], na_position="last"
    )
    expected = list(ranked["rater_id"].head(limit))
    assert list(heat.drop_duplicates("rater_id").sort_values("rank")["rater_id"]) == expected
    per_competency = whole[(whole["competency_code"] != "all") & whole["rater_id"].isin(expected)]
    merged = heat.merge(per_competency, on=["rater_id", "competency_code"], suffixes=("", "_mart"))
    assert len(merged) == len(heat) == len(per_competency)
    assert merged["leniency"].equals(merged["leniency_mart"])

    competencies = queries.calibration_competencies()
    assert competencies and "all" not in competencies
    one = queries.interviewer_calibration(everyone, competencies[0])
    flagged = queries.interviewer_calibration(everyone, competencies[0], flagged_only=True)
    cells = whole[whole["competency_code"] == competencies[0]]
    assert set(one["rater_id"]) == set(cells["rater_id"])
    assert set(flagged["rater_id"]) == set(cells.loc[cells["needs_calibration"], "rater_id"])
    assert flagged["needs_calibration"].all()

    mine = RowScope(dash_home.department, "department_head")
    assert set(queries.interviewer_heatmap(mine, 1_000)["rater_id"]) == set(queries.interviewers(mine)["rater_id"])


# the review desk: what it shows, in words and numbers


def _review(home) -> dict[str, pd.DataFrame]:
    import duckdb

    with duckdb.connect(str(home.settings.current_snapshot()), read_only=True) as con:
        return {
            name: con.execute(f"select * from ml.{name}").df()
            for name in ("recommendations", "recommendation_weights", "recommendation_validity")
        }


def _family(tables, status: str, flagged: bool | None = None) -> pd.Series:
    recs = tables["recommendations"]
    rows = recs[(recs["status"] == status) & ((recs["flagged"] == flagged) if flagged is not None else True)]
    assert len(rows), f"the desk's test world has no {status} family (flagged={flagged})"
    return rows.iloc[0]


def _open_family(family: str, lang: str | None = None) -> AppTest:
    at = open_page("leader", "weight_review", lang)
    at.selectbox[0].set_value(family).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frame(at: AppTest, column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def _pct(v) -> str:
    return f"{v:.1%}"


def _signed(v) -> str:
    return "0.00" if round(v, 2) == 0 else f"{v:+.2f}"


def test_the_desk_shows_the_models_own_figures(dash_home, use_home):
    use_home(dash_home)
    tables = _review(dash_home)
    rec = _family(tables, "recommended", True)
    at = _open_family(rec["job_family"])
    status = at.success[0].value

    weights = tables["recommendation_weights"]
    weights = weights[weights["recommendation_id"] == rec["recommendation_id"]].set_index("competency_code")
    shown = _frame(at, "This cycle's step").set_index("Competency")
    for code, w in weights.iterrows():
        row = shown.loc[competency_name(code)]
        assert row["Current"] == _pct(w["current_weight"])
        assert row["This cycle's step"] == _pct(w["recommended_weight"])
        assert row["Step: 95% interval"] == f"[{_pct(w['ci_low'])}, {_pct(w['ci_high'])}]"
        assert row["Target"] == _pct(w["target_weight"])
        assert row["Target: 95% interval"] == f"[{_pct(w['target_ci_low'])}, {_pct(w['target_ci_high'])}]"
        assert row["At the cap"] == ("yes" if w["at_cap"] else "no")
        if abs(w["recommended_weight"] - w["current_weight"]) >= 0.0005:
            change = f"{competency_name(code)}: {_pct(w['current_weight'])} → {_pct(w['recommended_weight'])}"
            assert change in status
    cycles = widget(at.metric, "Cycles to reach the target at the cap")
    assert cycles.value == str(int(rec["cycles_to_target"]))

    gain = f"{_signed(rec['gain_vs_current'])} [{_signed(rec['gain_vs_current_ci_low'])}, "
    gain += f"{_signed(rec['gain_vs_current_ci_high'])}]"
    validity = tables["recommendation_validity"]
    validity = validity[validity["recommendation_id"] == rec["recommendation_id"]].set_index("weighting")
    n = int(validity.loc["recommended", "holdout_n"])
    assert f"{gain} in validity on {n} hires the model never saw" in status
    proof = _frame(at, "Validity (r)").set_index("Weighting")
    for code, name in (
        ("current", "Current weights"),
        ("unit", "Equal weights"),
        ("recommended", "This cycle's step"),
        ("validity_max", "Target (evidence-optimal)"),
    ):
        v = validity.loc[code]
        assert proof.loc[name, "Validity (r)"] == f"{v['holdout_r']:.2f}"
        assert proof.loc[name, "95% interval"] == f"[{v['holdout_ci_low']:.2f}, {v['holdout_ci_high']:.2f}]"
        assert proof.loc[name, "Hires never seen"] == f"{n:,}"
    assert proof.loc["This cycle's step", "Gain vs current weights [95% interval]"] == gain

    # The lowered group's flag, from its message key, and the trade-off front with the named weightings.
    assert any("lower the selection impact ratio of female (Sex)" in e.value for e in at.error)
    names = [tr.get("name") for chart in at.get("plotly_chart") for tr in json.loads(chart.proto.spec)["data"]]
    assert {"Other possible weightings", "Front (best trade-offs)", "This cycle's step", "Current weights"} <= set(
        names
    )
    assert not [d for d in at.dataframe if d.value.isin(["None", "nan", "NaN"]).any().any()]


def test_keep_current_and_insufficient_evidence_say_so_in_their_own_words(dash_home, use_home):
    use_home(dash_home)
    tables = _review(dash_home)
    keep = _family(tables, "keep_current")
    at = _open_family(keep["job_family"])
    said = at.info[0].value
    assert said.startswith("Keep the current weights.")
    step = f"difference in validity {keep['gain_vs_current']:+.3f}"
    assert "This cycle's step does not beat the current weights" in said and step in said
    assert at.radio(key=f"review_decision_{keep['job_family']}").options == ["Edit", "Reject"]
    # The current weights already show adverse impact: said on its own, and never a green "no flag".
    assert any("already show adverse impact" in w.value for w in at.warning)
    assert not any("raised no flag" in s.value for s in at.success)
    assert widget(at.metric, "Cycles to reach the target at the cap")

    thin = _family(tables, "insufficient_evidence")
    counts = json.loads(thin["criterion_counts"])
    at = _open_family(thin["job_family"])
    said = at.warning[0].value
    assert said.startswith("Not enough evidence yet")
    assert f"{counts['n_hires']:,} hires in this job family" in said
    assert f"{counts['n_window_incomplete']:,} still inside their first year" in said
    assert f"{counts['n_early_leavers_floored']:,} who left before a review, counted as the lowest rating" in said
    assert f"{counts['n_missing_rating']:,} who stayed but have no rating" in said
    assert f"{counts['n_eligible']:,} hires count as evidence; {int(thin['n_needed']):,} are needed" in said
    assert not at.get("plotly_chart")


def _edit(at: AppTest, family: str, weights: dict[str, float]) -> AppTest:
    at.radio(key=f"review_decision_{family}").set_value("edited").run()
    for box in at.number_input:
        box.set_value(weights[box.key.removeprefix(f"w_{family}_")])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_edit_is_judged_by_the_gate_before_it_can_be_recorded(dash_home, use_home):
    use_home(dash_home)
    tables = _review(dash_home)
    family = _family(tables, "recommended", False)["job_family"]
    competencies = queries.competencies()
    state = dash_home.state
    before = len(state.decisions())

    # Weight on customer_orientation, where the world's female applicants score lower: flagged before recording.
    toward = {c: (0.5 if c == "customer_orientation" else 0.5 / (len(competencies) - 1)) for c in competencies}
    toward = {c: round(v, 3) for c, v in toward.items()}
    toward[competencies[0]] = round(toward[competencies[0]] + 1 - sum(toward.values()), 3)
    at = _edit(_open_family(family), family, toward)
    flagged = [e.value for e in at.error if "This edit lowers a group's impact ratio" in e.value]
    assert flagged and "female (Sex)" in flagged[0]
    assert any("Validity of your weights on" in m.value and "held-out hires" in m.value for m in at.markdown)
    assert any(
        "a weighting on the front at the same validity has lowest impact ratio" in m.value.lower() for m in at.markdown
    )
    names = [tr.get("name") for chart in at.get("plotly_chart") for tr in json.loads(chart.proto.spec)["data"]]
    assert "Your edit" in names

    at.text_area(key="review_reason").input("Customer orientation matters more than the model says.").run()
    widget(at.button, "Submit").click().run()
    assert any("acknowledge the flag" in e.value for e in at.error)
    widget(at.checkbox, "I have read the fairness flag and address it in my reason.").check().run()
    widget(at.button, "Submit").click().run()
    assert any("must address the flag" in e.value for e in at.error)
    assert len(state.decisions()) == before

    reason = "Female applicants lose selection share under this edit; we accept it for one quarter and re-audit."
    at.text_area(key="review_reason").input(reason).run()
    widget(at.button, "Submit").click().run()
    assert any("Decision recorded" in s.value for s in at.success), [e.value for e in at.error]
    row = state.decisions().iloc[-1]
    assert (row["decision"], row["reason"], bool(row["flagged"]), bool(row["flag_acknowledged"])) == (
        "edited",
        reason,
        True,
        True,
    )
    gate = json.loads(row["gate_json"])
    assert gate["source"] == "whatif" and gate["weights"] == pytest.approx(toward) and row["evaluation_fingerprint"]
    assert any("female (Sex)" in f for f in json.loads(row["flags_json"]))
    assert {f["kind"] for f in gate["flag_rows"]} >= {"lowered"}


def _latin_words(text: str, allowed: set[str]) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]{3,}", str(text)) if w not in allowed]


def _shown_texts(at: AppTest, stop_at: str) -> list[str]:
    """Every text the page shows above `stop_at` (a subheader): labels, values, options, table cells, charts."""
    texts: list[str] = []

    def walk(node) -> bool:
        for child in getattr(node, "children", {}).values():
            kind = type(child).__name__
            if kind == "Subheader" and child.value == stop_at:
                return False
            if kind == "Dataframe":
                frame = child.value
                texts.extend(map(str, frame.columns))
                texts.extend(str(v) for v in frame.to_numpy().ravel())
            elif kind == "UnknownElement" and child.type == "plotly_chart":
                spec = json.loads(child.proto.spec)
                layout = spec["layout"]
                texts.extend(str(tr.get("name") or "") for tr in spec["data"])
                texts.extend(str(x) for tr in spec["data"] for x in (tr.get("x") or []) if isinstance(x, str))
                texts.append(str((layout.get("title") or {}).get("text") or ""))
                for axis in ("xaxis", "yaxis"):
                    texts.append(str(((layout.get(axis) or {}).get("title") or {}).get("text") or ""))
                texts.extend(str(a.get("text") or "") for a in layout.get("annotations", []))
            else:
                # A widget's value is a code or the reader's own input; what it shows is its label and options.
                shown = (
                    ("label", "placeholder", "help")
                    if hasattr(child, "options") or kind.endswith("Input")
                    else ("label", "value", "placeholder", "help")
                )
                for attr in shown:
                    value = getattr(child, attr, None)
                    if isinstance(value, str):
                        texts.append(value)
                options = getattr(child, "options", None)
                if isinstance(options, list):
                    texts.extend(map(str, options))
            if not walk(child):
                return False
        return True

    walk(at.main)
    return texts


def test_the_desk_in_chinese_shows_no_english(dash_home, use_home):
    from dashboards.i18n import t

    use_home(dash_home)
    tables = _review(dash_home)
    # Method names, file formats and user names are names; the model version is an identifier.
    allowed = {"minP", "maxT", "Holm", "Benjamini", "Hochberg", "Bonferroni", "CSV", "Excel", "UTC", "stand", "leader"}
    log_title = t("label.decision_log", "zh-CN")
    for rec in tables["recommendations"].itertuples():
        at = _open_family(rec.job_family, "zh-CN")
        texts = _shown_texts(at, log_title)
        if rec.status != "insufficient_evidence":
            assert any(t("desk.section.proof", "zh-CN") == x for x in texts)
        english = sorted({w for x in texts for w in _latin_words(x, allowed)})
        assert english == [], (rec.job_family, english)
        assert not [x for x in texts if x in ("None", "nan", "NaN")]
    family = _family(tables, "recommended", False)["job_family"]
    at = _open_family(family, "zh-CN")
    at = _edit(at, family, review.edit_defaults(review.load(family).baseline_weights()))
    english = sorted({w for x in _shown_texts(at, log_title) for w in _latin_words(x, allowed)})
    assert english == [], english
