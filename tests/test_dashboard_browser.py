"""End to end: the real Streamlit server in headless Chromium, every page, screenshots.

Needs Debian's chromium at /usr/bin/chromium (CI installs it); skipped only without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_dashboard_fixtures import REPO, demo_database, running_dashboard

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]  # fmt: skip
PAGES = {
    "overview": "",
    "refills": "refills",
    "complications": "complications",
    "worklist": "worklist",
    "timeline": "timeline",
    "quality": "quality",
    "definitions": "definitions",
}
READY = {
    "overview": "stPlotlyChart",
    "refills": "stPlotlyChart",
    "complications": "stPlotlyChart",
    "worklist": "stDataFrame",
    "timeline": "stPlotlyChart",
    "quality": "stDataFrame",
    "definitions": "stDataFrame",
}
SHOTS = REPO / "test-output" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_dashboard(demo_database(tmp_path_factory.getbasetemp())) as port:
        yield f"http://127.0.0.1:{port}"


def test_every_page_in_a_real_browser(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1800})
            page.goto(server)
            values = page.get_by_test_id("stMetricValue")
            expect(values.nth(4)).to_be_visible(timeout=60_000)
            assert values.count() >= 5
            assert "%" in values.first.inner_text()
            for name, path in PAGES.items():
                if path:
                    page.get_by_test_id("stSidebarNav").get_by_role("link").filter(
                        has_text=_title(name)
                    ).first.click()
                    page.wait_for_url(f"**/{path}*", timeout=30_000)
                expect(page.locator("h1").first).to_be_visible(timeout=60_000)
                expect(page.get_by_test_id(READY[name]).first).to_be_visible(timeout=60_000)
                _settle(page)
                assert page.get_by_test_id("stException").count() == 0, name
                assert page.locator('[data-testid="stAlertContentError"]').count() == 0, name
                expect(
                    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox")
                ).to_have_count(6, timeout=30_000)
                page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
            # the filters live in the URL: a link reproduces the view
            page.goto(f"{server}/refills?site=B")
            expect(page.locator("h1").first).to_have_text("Refills", timeout=60_000)
            _settle(page)
            sidebar = page.get_by_test_id("stSidebar")
            expect(sidebar.get_by_role("combobox", name="Site")).to_have_value("B", timeout=30_000)
        finally:
            browser.close()


def _title(name: str) -> str:
    return {"timeline": "Patient timeline", "quality": "Data quality"}.get(name, name.title())


def _settle(page: object) -> None:
    """Wait until Streamlit has finished running the page (the status widget is gone)."""
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSpinner\"]')",
        timeout=60_000,
    )
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]  (plotly and grids draw last)
