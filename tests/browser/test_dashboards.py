"""Drive the real dashboards in headless Chromium: log in, open pages, save screenshots as artifacts."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, login, open_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_login_and_open_interviewers(dashboard_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    login(page, dashboard_url, "analyst")
    open_page(page, "Interviewers")
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    assert page.get_by_role("heading", name="Interviewers").is_visible()
    page.screenshot(path=str(ARTIFACTS / "interviewers.png"), full_page=True)
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
