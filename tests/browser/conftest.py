"""A real Streamlit server on the built small world, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from dashboards.app_state import AppState
from tests.unit.dashboards.standins import ensure_reviewable, make_home

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Offline machine: no background networking, no component updates, no first-run pages.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PASSWORD = "correct-horse-battery-staple"
USERS = {
    "analyst": ("hr_analyst", None),
    "leader": ("talent_leader", None),
    "admin": ("admin", None),
    "head": ("department_head", None),
}
# Page titles in navigation order for an administrator (every page).
PAGE_TITLES = (
    "Overview",
    "Hiring funnel",
    "Quality of hire",
    "Retention",
    "Customer complaints",
    "Interviewer calibration",
    "Talent pool",
    "Weight review",
    "Fairness audit",
    "Data quality",
    "Administration",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser_home(built_home, tmp_path_factory):
    """A copy of the built world's snapshot with stand-ins for model outputs not published yet (see standins.py),
    and a review desk that has a recommended and a flagged recommended job family to decide on."""
    settings = make_home(built_home, tmp_path_factory.mktemp("browser"))
    ensure_reviewable(settings.current_snapshot())
    return settings


@pytest.fixture(scope="session")
def dashboard_url(browser_home):
    state = AppState(browser_home.app_state)
    with duckdb.connect(str(browser_home.current_snapshot()), read_only=True) as con:
        largest = con.execute(
            "select department from marts.applications group by 1 order by count(*) desc, 1 limit 1"
        ).fetchone()[0]
    for name, (role, dept) in USERS.items():
        if state.get_user(name) is None:
            state.create_user(name, PASSWORD, role, department=dept or (largest if role == "department_head" else None))
    with streamlit_server(browser_home.home) as url:
        yield url


@contextlib.contextmanager
def streamlit_server(home: Path, startup_timeout_s: float = 60) -> Iterator[str]:
    """The real dashboards on a free local port, reading the data home's published snapshot; yields the URL."""
    port = _free_port()
    env = {**os.environ, "TALENTLOOP_HOME": str(home)}
    # A file, not a pipe: a long session's log must never block the server.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed when the server stops)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "dashboards" / "streamlit_app.py"),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + startup_timeout_s
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        log.seek(0)
        raise RuntimeError("streamlit did not start: " + log.read().decode(errors="replace")[-2000:])
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make browser-deps` installs Debian's chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def login(page, url: str, username: str, timeout_s: float = 30) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("[data-testid='stSidebar']", timeout=timeout_s * 1000)


def open_page(page, title: str, timeout_s: float = 30) -> None:
    """Click a page in the navigation, as a person would (a new URL would start a new, logged-out session)."""
    nav = page.locator("[data-testid='stSidebarNav']")
    if nav.count():
        nav.get_by_role("link", name=title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for(timeout=timeout_s * 1000)
    wait_idle(page, timeout_s)


def wait_idle(page, timeout_s: float = 30) -> None:
    """Wait until the app's script run has finished (Streamlit shows a status widget while it runs)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_s * 1000
    )


# Records, in the page itself, when the user clicked and when the last Plotly chart (or, on a page without charts,
# the last element) was added after that click: the page-render benchmark of DESIGN.md, measured inside the browser.
RENDER_PROBE = """
() => {
  if (window.__tl) return;
  window.__tl = {click: null, lastChart: null, lastElement: null};
  document.addEventListener('click', () => {
    window.__tl.click = performance.now(); window.__tl.lastChart = null; window.__tl.lastElement = null;
  }, true);
  new MutationObserver(records => {
    if (window.__tl.click === null) return;
    const now = performance.now();
    for (const r of records) for (const n of r.addedNodes) {
      if (!(n instanceof Element)) continue;
      if (n.matches('.main-svg') || n.querySelector('.main-svg')) window.__tl.lastChart = now;
      if (n.closest('[data-testid="stMain"]')) window.__tl.lastElement = now;
    }
  }).observe(document.body, {childList: true, subtree: true});
}
"""


def timed_open(page, title: str, settle_s: float = 1.0, timeout_s: float = 30) -> dict:
    """Open a page by clicking it; return seconds from the click to the last chart drawn (and to the last element)."""
    page.evaluate(RENDER_PROBE)
    open_page(page, title, timeout_s)
    # Charts are drawn after the script finishes; wait until nothing new has appeared for `settle_s`.
    last = None
    while True:
        time.sleep(settle_s)
        probe = page.evaluate("() => window.__tl")
        mark = (probe["lastChart"], probe["lastElement"])
        if mark == last:
            break
        last = mark
    chart = None if probe["lastChart"] is None else (probe["lastChart"] - probe["click"]) / 1000
    element = None if probe["lastElement"] is None else (probe["lastElement"] - probe["click"]) / 1000
    return {"to_last_chart_s": chart, "to_last_element_s": element}
