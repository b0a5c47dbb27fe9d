"""Drive the real dashboards in headless Chromium: log in, open every page by clicking the navigation, decide on a
weight recommendation, edit one (flagged by the what-if before it can be recorded), and time each page's render;
screenshots and timings are saved as artifacts."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform

import duckdb
import pytest

from tests.browser.conftest import ARTIFACTS, PAGE_TITLES, login, open_page, timed_open, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _slug(title: str) -> str:
    return title.lower().replace(" ", "_")


def test_every_page_opens_and_is_timed(dashboard_url, browser, browser_home, built_home):
    """Click each page twice: the first pass fills the query caches, the second is the benchmark's page render."""
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    login(page, dashboard_url, "admin")
    wait_idle(page)
    passes = []
    for n in range(2):
        times = {}
        for title in PAGE_TITLES:
            times[title] = timed_open(page, title)
            assert not page.locator("[data-testid='stException']").count(), f"{title} raised"
            if n == 1:
                page.screenshot(path=str(ARTIFACTS / f"{_slug(title)}.png"), full_page=True)
        passes.append(times)
    page.close()
    with duckdb.connect(str(browser_home.current_snapshot()), read_only=True) as con:
        candidates = con.execute("select count(*) from marts.candidates").fetchone()[0]
    truth = built_home.world_manifest / "truth.json"
    world = json.loads(truth.read_text())["world"] if truth.exists() else {}
    result = {
        "measure": "seconds from a click in the navigation to the last Plotly chart drawn (to the last element on a "
        "page without charts), in a browser that has loaded the app; pass 1 fills the caches, pass 2 is warm",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "world": {
            **{k: world.get(k) for k in ("seed", "candidates", "days")},
            "candidates_in_snapshot": candidates,
        },
        "first_pass": passes[0],
        "warm": passes[1],
    }
    (ARTIFACTS / "page_times.json").write_text(json.dumps(result, indent=2) + "\n")
    for title, t in passes[1].items():
        took = t["to_last_chart_s"] if t["to_last_chart_s"] is not None else t["to_last_element_s"]
        assert took is not None and took < 10, (title, t)


def _unflagged_recommended(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute(
        "select job_family from ml.recommendations where status = 'recommended' and not flagged "
        "order by job_family limit 1"
    ).fetchone()[0]


def _open_desk(page, url: str, family: str) -> None:
    """Log in as the talent leader and open the review desk on `family`."""
    from dashboards.i18n import job_family_name

    login(page, url, "leader")
    open_page(page, "Weight review")
    page.get_by_test_id("stSelectbox").filter(has_text="Job family").click()
    page.get_by_role("option", name=job_family_name(family)).first.click()
    wait_idle(page)


def test_leader_approves_a_recommendation_with_a_reason(dashboard_url, browser, browser_home):
    with duckdb.connect(str(browser_home.current_snapshot()), read_only=True) as con:
        family = _unflagged_recommended(con)

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _open_desk(page, dashboard_url, family)
    page.get_by_text("Approve", exact=True).click()
    reason = "Out-of-sample validity improves from 0.21 to 0.27 with no impact ratio below four-fifths."
    page.get_by_role("textbox", name="Reason", exact=True).fill(reason)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Decision recorded").wait_for(timeout=30_000)
    wait_idle(page)
    log = page.get_by_test_id("stDataFrame").last
    log.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "weight_review_decided.png"), full_page=True)
    page.close()

    from dashboards.app_state import AppState

    decisions = AppState(browser_home.app_state).decisions(family)
    assert len(decisions) == 1
    assert (decisions.iloc[0]["decision"], decisions.iloc[0]["decided_by"]) == ("approved", "leader")
    assert decisions.iloc[0]["reason"] == reason


def test_an_edit_that_lowers_a_groups_ratio_is_flagged_before_it_is_recorded(dashboard_url, browser, browser_home):
    """The leader edits an unflagged recommendation toward a competency on which female applicants score lower: the
    what-if flags it before anything is recorded, the store refuses it without the acknowledgement and an
    addressing reason, and records it with both."""
    from dashboards.app_state import AppState
    from dashboards.i18n import competency_name

    with duckdb.connect(str(browser_home.current_snapshot()), read_only=True) as con:
        family = _unflagged_recommended(con)
        columns = con.execute("select * from marts.job_families limit 0").df().columns
        competencies = [c.removeprefix("weight_") for c in columns if c.startswith("weight_")]
    store = AppState(browser_home.app_state)
    before = len(store.decisions(family))
    edit = {c: (0.5 if c == "customer_orientation" else 0.1) for c in competencies}

    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    _open_desk(page, dashboard_url, family)
    page.get_by_role("radiogroup", name="Decision").get_by_text("Edit", exact=True).click()
    wait_idle(page)
    page.get_by_test_id("stNumberInput").first.wait_for(timeout=30_000)
    for code, value in edit.items():
        box = page.get_by_test_id("stNumberInput").get_by_label(competency_name(code), exact=True)
        box.fill(f"{value:.3f}")
        box.press("Enter")
        wait_idle(page, 60)
    flag = page.get_by_text("This edit lowers a group's impact ratio", exact=False)
    flag.wait_for(timeout=60_000)
    assert page.get_by_text("female (Sex)", exact=False).count() >= 1
    flag.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "weight_review_edit_flagged.png"), full_page=True)
    assert len(store.decisions(family)) == before, "the what-if must not record anything"

    reason_box = page.get_by_role("textbox", name="Reason", exact=True)
    reason_box.fill("Customer orientation matters more here than the model gives it credit for.")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("acknowledge the flag first", exact=False).wait_for(timeout=30_000)
    page.get_by_text("I have read the fairness flag and address it in my reason.").click()
    wait_idle(page, 60)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("The reason must address the flag", exact=False).wait_for(timeout=30_000)
    assert len(store.decisions(family)) == before

    reason = "Female applicants lose selection share under this edit; we accept it for one quarter and re-audit."
    reason_box.fill(reason)
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Decision recorded", exact=False).wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "weight_review_edit_recorded.png"), full_page=True)
    page.close()

    decisions = store.decisions(family)
    assert len(decisions) == before + 1
    row = decisions.iloc[-1]
    assert (row["decision"], row["decided_by"], row["reason"]) == ("edited", "leader", reason)
    assert row["flagged"] and row["flag_acknowledged"] and row["evaluation_fingerprint"]
    gate = json.loads(row["gate_json"])
    assert gate["source"] == "whatif" and gate["flagged"]
    assert json.loads(row["weights_json"]) == pytest.approx(edit)


def test_department_head_sees_the_scope_notice(dashboard_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    login(page, dashboard_url, "head")
    open_page(page, "Talent pool")
    page.get_by_test_id("stDataFrame").first.wait_for(timeout=30_000)
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert page.get_by_text("Showing rows for department").count() == 1
    assert page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Weight review").count() == 0
    page.screenshot(path=str(ARTIFACTS / "talent_pool_department_head.png"), full_page=True)
    page.close()


def test_wrong_password_is_refused(dashboard_url, browser):
    page = browser.new_page()
    page.goto(dashboard_url)
    page.get_by_label("Username").fill("analyst")
    page.get_by_label("Password", exact=True).fill("not-the-password-at-all")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("[data-testid='stAlert']", timeout=15_000)
    assert page.locator("[data-testid='stSidebar']").count() == 0
    page.close()
