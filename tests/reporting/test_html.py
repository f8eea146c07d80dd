"""The report page as text: self-contained, escaped, the right sections for the data it has."""

from __future__ import annotations

import json
import re

from episode_builders import AS_OF, SAMPLE_CHARTS, at, episode, sample_history, ten_episodes

from connector.model import Stage
from connector.outcomes import FunnelInput
from connector.reporting import build_figures, render_html


def page_of(data: FunnelInput) -> str:
    return render_html(build_figures(data, AS_OF))


def charts_in(page: str) -> list[str]:
    return re.findall(r'<figure class="chart" data-chart="([^"]+)"', page)


def embedded_figures(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="report-figures">(.*?)</script>', page, re.S)
    assert match, "the figures are embedded as JSON"
    return json.loads(match.group(1))


def test_empty_input_says_there_is_nothing_to_report_yet():
    page = page_of(FunnelInput())
    assert "Nothing to report yet" in page
    assert charts_in(page) == []
    assert "Plotly" not in page  # no charts, so no chart library either
    assert embedded_figures(page)["funnel"]["mql"] == 0


def test_page_needs_no_network():
    page = page_of(sample_history())
    assert "Plotly" in page and len(page) > 1_000_000  # plotly.js is inside the page
    assert not re.search(r'<script[^>]+src=|<link[^>]+href=|@import|url\(\s*["\']?https?:', page)


def test_sample_history_has_every_chart_with_a_caption():
    page = page_of(sample_history())
    assert charts_in(page) == SAMPLE_CHARTS
    assert page.count("<figcaption>") == 9


def test_headline_numbers_come_first_and_match_the_figures():
    figures = build_figures(ten_episodes(), AS_OF)
    page = render_html(figures)
    assert page.index('id="headline"') < page.index('id="funnel"')
    headline = page[page.index('id="headline"') : page.index('id="funnel"')]
    for text in ("40", "62.5% of MQL", "2 straight to SQL", "4,000", "30 min", "85.7%", "0.85"):
        assert text in headline, text
    assert embedded_figures(page) == json.loads(json.dumps(figures.to_json()))


def test_one_rules_version_and_no_shadow_leave_those_sections_out():
    page = page_of(ten_episodes())
    assert 'id="versions"' not in page and 'id="shadow"' not in page
    assert "versions" not in charts_in(page)


def test_text_from_the_crm_is_escaped():
    hostile = "<img src=x onerror=alert(1)>"
    data = FunnelInput(
        (
            episode("a", owner_id=hostile, sql=at(0), touch_minutes=5, rules=(hostile,), rejected_at=at(1),
                    sales_reason="</script><script>alert(2)</script>", score=10),
            episode("b", sql=at(0), score=90, opportunity_at=at(2), shadow_level=Stage.SQL, shadow_score=1),
        )
    )  # fmt: skip
    page = page_of(data)
    assert hostile not in page and "<script>alert(2)" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert embedded_figures(page)["rejection_reasons"][0]["reason"] == "</script><script>alert(2)</script>"


def test_sections_without_data_say_so_instead_of_an_empty_chart():
    page = page_of(FunnelInput((episode("a", mql=at(0)),), {"2026-09": 10}))
    assert "No SQL lead has had a first sales touch yet." in page
    assert "No decided episode with a score yet." in page
    assert "Sales has not recycled or rejected a lead yet." in page
    assert charts_in(page) == ["funnel", "cohorts"]


def test_the_shadow_section_puts_both_rule_sets_score_bands_side_by_side():
    data = FunnelInput(
        (
            episode("a", score=80, shadow_score=60, shadow_level=Stage.MQL, opportunity_at=at(3)),
            episode("b", score=90, shadow_score=30, shadow_level=Stage.LEAD, rejected_at=at(1)),
        )
    )
    page = page_of(data)
    assert 'id="shadow"' in page
    assert "<th>live scores</th>" in page and "<th>shadow scores</th>" in page
    assert "<td>30–30</td>" in page and "<td>90–90</td>" in page
