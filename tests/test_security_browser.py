"""Data values render as text in a real browser: a site named with a link, an image and a
script shows as those characters, never as a link, an image or a script.

The real Streamlit server on loopback, headless Chromium; every request to any other
host is aborted (and recorded: an image the page tried to fetch fails the test).
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from security_data import EVIL_SITES, evil_database
from test_dashboard_browser import ARGS, CHROMIUM, _settle
from test_dashboard_fixtures import running_dashboard

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_dashboard(evil_database(tmp_path_factory.mktemp("evil-browser"))) as port:
        yield f"http://127.0.0.1:{port}"


def _no_markup_from_data(page: object) -> str:
    dom = page.evaluate(  # type: ignore[attr-defined]
        """() => ({
            links: [...document.querySelectorAll('a')].map(a => a.getAttribute('href') || ''),
            images: [...document.querySelectorAll('img, image')].map(
                i => i.getAttribute('src') || i.getAttribute('href') || ''),
            scripts: [...document.querySelectorAll('script')].map(s => s.textContent || ''),
            text: document.body.innerText,
        })"""
    )
    assert not [h for h in dom["links"] if "evil" in h], dom["links"]
    assert not [s for s in dom["images"] if "evil" in s], dom["images"]
    assert not [s for s in dom["scripts"] if "alert(1)" in s]
    return dom["text"]  # type: ignore[no-any-return]


def test_site_names_render_as_text(server: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    elsewhere: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=[*ARGS, "--dns-prefetch-disable"]
        )
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1800})

            def guard(route: object) -> None:
                request_url = route.request.url  # type: ignore[attr-defined]
                host = urllib.parse.urlsplit(request_url).hostname
                if host in ("127.0.0.1", "localhost"):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    elsewhere.append(request_url)
                    route.abort()  # type: ignore[attr-defined]

            page.route("**/*", guard)
            site = urllib.parse.quote(EVIL_SITES["C"], safe="")
            page.goto(f"{server}/?site={site}")
            expect(page.locator("h1").first).to_have_text("Overview", timeout=60_000)
            _settle(page)
            text = _no_markup_from_data(page).replace("\u2060", "")
            assert "![t](http://evil.example/track.png)" in text  # the caption, as typed
            page.goto(f"{server}/complications")
            expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=60_000)
            _settle(page)
            _no_markup_from_data(page)
            svg_links = page.evaluate(
                "() => [...document.querySelectorAll('svg a')].map(a =>"
                " a.getAttribute('href') || a.getAttribute('xlink:href') || '')"
            )
            assert not [h for h in svg_links if "evil" in h], svg_links
            assert page.get_by_text("<script>alert(1)</script>", exact=False).count() >= 1
        finally:
            browser.close()
    assert not [u for u in elsewhere if "evil" in u], elsewhere
