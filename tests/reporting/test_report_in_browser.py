"""The report as a person sees it: opened from a file in a real headless Chromium, offline.

Uses Debian's ``chromium`` (``apt-get install -y chromium``; ``.ci/run`` installs it). Locally the
test skips with the reason when it is missing; in CI (``CI`` set) it fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from episode_builders import AS_OF, SAMPLE_CHARTS, sample_history
from playwright.sync_api import Browser, Page, sync_playwright

from connector.outcomes import FunnelInput
from connector.reporting import build_figures, render_html

CHROMIUM = Path(os.environ.get("HANDOFF_TEST_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        # root in CI: Chromium's own sandbox needs user namespaces, which containers often lack
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


class Opened:
    """A report page open in the browser, with what went wrong while it loaded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        # nothing but the file itself may load: anything else would need a network at view time
        page.route("**/*", self._only_the_file)

    def _only_the_file(self, route) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()


def open_report(browser: Browser, data: FunnelInput, path: Path) -> Opened:
    path.write_text(render_html(build_figures(data, AS_OF)), encoding="utf-8")
    opened = Opened(browser.new_page(viewport={"width": 1280, "height": 900}))
    opened.page.goto(path.as_uri(), wait_until="load")
    return opened


def test_every_chart_of_the_sample_report_renders_offline(browser, tmp_path):
    opened = open_report(browser, sample_history(), tmp_path / "report.html")
    page = opened.page
    page.wait_for_function(
        "() => [...document.querySelectorAll('figure.chart')].every(f => f.querySelector('.js-plotly-plot svg.main-svg'))",
        timeout=30_000,
    )
    names = page.eval_on_selector_all("figure.chart", "figures => figures.map(f => f.dataset.chart)")
    assert names == SAMPLE_CHARTS
    for name in names:
        chart = page.locator(f'figure.chart[data-chart="{name}"]')
        assert chart.locator(".js-plotly-plot svg.main-svg").count() >= 1, name
        # drawn marks, not just an empty frame: bars, lines, funnel steps
        assert chart.locator("g.trace path, g.trace .point").count() > 0, name
        assert chart.locator("figcaption").inner_text().strip(), name
        assert chart.bounding_box()["height"] > 150, name
    assert "720" in page.locator("#headline").inner_text()
    assert page.locator("#funnel table.data tbody tr").count() == 7  # six cohorts and the total
    assert opened.errors == []
    assert opened.requests == []
    screenshot = tmp_path / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.close()


def test_an_empty_report_says_so_in_the_browser(browser, tmp_path):
    opened = open_report(browser, FunnelInput(), tmp_path / "empty.html")
    page = opened.page
    assert page.locator("#nothing h2").inner_text() == "Nothing to report yet"
    assert page.locator("figure.chart").count() == 0
    assert opened.errors == [] and opened.requests == []
    page.screenshot(path=str(tmp_path / "empty.png"))
    page.close()
