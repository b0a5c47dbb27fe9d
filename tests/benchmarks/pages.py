"""Page render times in headless Chromium, measured inside the browser as the browser test measures them.

A page's time runs from the click in the navigation to the last Plotly chart drawn (to the last element on a
page without charts). The app is loaded once first, and every page is opened once to warm its cached queries
(DESIGN.md, 'How we measure'); the second pass is the page's render time. Both passes are reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dashboards.app_state import AppState
from ingestion.settings import Settings
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TITLES,
    PASSWORD,
    login,
    streamlit_server,
    timed_open,
    wait_idle,
)

ROOT = Path(__file__).resolve().parents[2]
USER = "bench-admin"
# The first request of a fresh server imports every page module and opens the snapshot: allow for it.
STARTUP_TIMEOUT_S = 180


def _seconds(t: dict) -> float | None:
    took = t["to_last_chart_s"] if t["to_last_chart_s"] is not None else t["to_last_element_s"]
    return None if took is None else round(took, 3)


def time_pages(home: Path, titles: list[str] | None = None) -> dict:
    """Render times of `titles` (default: every page), cold then warm."""
    titles = titles or list(PAGE_TITLES)
    unknown = sorted(set(titles) - set(PAGE_TITLES))
    if unknown:
        raise ValueError(f"no such page: {unknown}; pages are {list(PAGE_TITLES)}")
    state = AppState(Settings(home=home).app_state)
    if state.get_user(USER) is None:
        state.create_user(USER, PASSWORD, "admin")
    else:
        state.set_password(USER, PASSWORD)
    from playwright.sync_api import sync_playwright

    with streamlit_server(home, STARTUP_TIMEOUT_S) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(STARTUP_TIMEOUT_S * 1000)
        login(page, url, USER, STARTUP_TIMEOUT_S)
        wait_idle(page, timeout_s=STARTUP_TIMEOUT_S)
        passes = []
        # A click on the page already shown draws nothing: a lone page is left for another between passes.
        elsewhere = next(t for t in PAGE_TITLES if t != titles[0]) if len(titles) == 1 else None
        for _ in range(2):  # the first pass fills each page's query caches; the second is the measure
            if elsewhere and passes:
                timed_open(page, elsewhere, timeout_s=STARTUP_TIMEOUT_S)
            passes.append({title: _seconds(timed_open(page, title, timeout_s=STARTUP_TIMEOUT_S)) for title in titles})
            if page.locator("[data-testid='stException']").count():
                raise RuntimeError("a page raised an exception")
        browser.close()
    warm = passes[1]
    return {
        "measure": "seconds from a click in the navigation to the last chart drawn, inside the browser",
        "first_pass": passes[0],
        "warm": warm,
        "slowest_page": max(warm, key=lambda k: warm[k] or 0),
        "max_seconds": max(v or 0 for v in warm.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True)
    parser.add_argument("--page", action="append", help="a page title to time (repeatable; default: every page)")
    args = parser.parse_args()
    print(json.dumps(time_pages(Path(args.home), args.page)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
