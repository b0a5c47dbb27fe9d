"""Page render times in headless Chromium: click a page in the navigation, stop when its last chart is drawn.

The app is loaded (and each page's cached data warmed) once first; the front-end bundle's first load is not a
page's cost (DESIGN.md, 'How we measure').
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from dashboards.app_state import AppState
from ingestion.settings import Settings
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, login

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "bench-admin", "benchmark-password-long-enough"
# The page is done when Streamlit reports it is no longer running and every Plotly chart has drawn its SVG.
DONE_JS = """() => {
  const running = document.querySelector('[data-testid="stStatusWidget"]');
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  return !running && plots.every(p => p.querySelector('.main-svg'));
}"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_pages(home: Path, rounds: int = 2) -> dict[str, float]:
    state = AppState(Settings(home=home).app_state)
    if state.get_user(USER) is None:
        state.create_user(USER, PASSWORD, "admin")
    port = _port()
    env = {**os.environ, "TALENTLOOP_HOME": str(home)}
    server = subprocess.Popen(
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
            "--browser.gatherUsageStats",
            "false",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            login(page, url, USER)
            nav = page.locator("[data-testid='stSidebarNav'] a")
            titles = [nav.nth(i).inner_text().strip() for i in range(nav.count())]
            times: dict[str, float] = {}
            for r in range(rounds):  # the first round warms each page's cached queries
                for title in titles:
                    start = time.perf_counter()
                    page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
                    page.wait_for_timeout(50)
                    page.wait_for_function(DONE_JS, timeout=60_000, polling=25)
                    if r == rounds - 1:
                        times[title] = round(time.perf_counter() - start, 3)
            browser.close()
        return times
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True)
    args = parser.parse_args()
    print(json.dumps(time_pages(Path(args.home))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
