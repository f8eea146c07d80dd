"""The funnel report as one self-contained HTML page: headline numbers, charts, tables, definitions.

Everything the page needs is inside it (plotly's JavaScript, the styles, the figures as JSON), so
it opens from a file or an e-mail attachment with no network. Every text that came from a CRM
(rule names, reasons, owner ids) is escaped.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from connector.reporting.figures import (
    Conversion,
    ReasonCount,
    ReportFigures,
    ScoreBand,
    ShadowComparison,
    SpeedToLead,
    StepCounts,
    VersionFigures,
)

_INK = "#1f2a37"
_MUTED = "#6b7280"
_BLUE = "#2563eb"
_LIGHT_BLUE = "#93c5fd"
_GREEN = "#059669"
_AMBER = "#d97706"
_RED = "#dc2626"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

_STYLE = f"""
:root {{ color-scheme: light; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; font-family: {_FONT}; color: {_INK}; background: #f5f6f8; line-height: 1.45; }}
main {{ max-width: 1120px; margin: 0 auto; padding: 32px 24px 64px; }}
header h1 {{ margin: 0 0 4px; font-size: 26px; font-weight: 650; }}
header p {{ margin: 0; color: {_MUTED}; }}
section {{ background: #fff; border: 1px solid #e5e7eb; border-radius: 10px; padding: 20px 24px; margin-top: 20px; }}
section h2 {{ margin: 0 0 6px; font-size: 18px; font-weight: 620; }}
section > p {{ margin: 4px 0 12px; color: {_MUTED}; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 12px; }}
.card {{ border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 14px; background: #fbfcfd; }}
.card .label {{ font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: {_MUTED}; }}
.card .value {{ font-size: 24px; font-weight: 650; margin-top: 2px; }}
.card .sub {{ font-size: 12px; color: {_MUTED}; }}
figure.chart {{ margin: 12px 0 4px; }}
figure.chart figcaption {{ font-size: 13px; color: {_MUTED}; margin-top: 2px; }}
.pair {{ display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }}
@media (max-width: 820px) {{ .pair {{ grid-template-columns: 1fr; }} }}
table.data {{ border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 12px; }}
table.data th, table.data td {{ padding: 6px 8px; border-bottom: 1px solid #eef0f3; text-align: right; }}
table.data th:first-child, table.data td:first-child {{ text-align: left; }}
table.data th {{ font-weight: 600; color: {_MUTED}; background: #fafbfc; }}
.empty {{ text-align: center; padding: 48px 24px; }}
.empty h2 {{ font-size: 20px; }}
dl.notes dt {{ font-weight: 600; margin-top: 8px; }}
dl.notes dd {{ margin: 0 0 0 0; color: {_MUTED}; }}
footer {{ margin-top: 24px; font-size: 12px; color: {_MUTED}; }}
"""


@dataclass(frozen=True, slots=True)
class _Chart:
    """One chart on the page: a name for tests and anchors, the figure and how to read it."""

    name: str
    figure: go.Figure
    caption: str


# -- formatting -----------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _money(value: Decimal) -> str:
    return f"{value:,.0f}"


def _minutes(value: float | None) -> str:
    """A duration a person reads at a glance: minutes, then hours, then days."""
    if value is None:
        return "—"
    if value < 60:
        return f"{value:.0f} min"
    if value < 48 * 60:
        return f"{value / 60:.1f} h"
    return f"{value / 1440:.1f} days"


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _auc(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


# -- charts ---------------------------------------------------------------------------------------


#: plotly_white's look, written out: a named template loads and copies every trace type plotly has
#: (about half a second per report), and an empty one keeps plotly from applying its default
_GRID = "#ebf0f8"
_AXIS = {"gridcolor": _GRID, "linecolor": _GRID, "zerolinecolor": _GRID, "automargin": True}


def _layout(figure: go.Figure, height: int = 340, **extra: Any) -> go.Figure:
    figure.update_layout(
        template={},
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=_AXIS,
        yaxis=_AXIS,
        height=height,
        margin={"l": 60, "r": 24, "t": 16, "b": 48},
        font={"family": _FONT, "size": 13, "color": _INK},
        legend={"orientation": "h", "y": -0.18},
    )
    figure.update_layout(**extra)  # a chart's own axes go over the common look
    return figure


def _funnel_chart(funnel: StepCounts) -> _Chart:
    steps = [("Leads", funnel.leads), ("MQL", funnel.mql), ("SQL", funnel.sql)]
    steps += [("Opportunity", funnel.opportunity), ("Won", funnel.won)]
    shown = [(label, n) for label, n in steps if n is not None]
    figure = go.Figure(
        go.Funnel(
            y=[label for label, _ in shown],
            x=[n for _, n in shown],
            textinfo="value",
            marker={"color": [_LIGHT_BLUE, _BLUE, "#1d4ed8", _GREEN, "#047857"][-len(shown) :]},
            connector={"line": {"color": "#cbd5e1"}},
        )
    )
    return _Chart(
        "funnel",
        _layout(figure, height=320),
        "How many got to each step, all cohorts together. SQL includes leads that went straight to SQL.",
    )


def _cohort_chart(figures: ReportFigures) -> _Chart:
    months = [c.month for c in figures.cohorts]
    figure = go.Figure()
    series = (
        ("Lead → MQL", "lead_to_mql", _LIGHT_BLUE),
        ("MQL → SQL", "mql_to_sql", _BLUE),
        ("SQL → opportunity", "sql_to_opportunity", _GREEN),
        ("Opportunity → won", "opportunity_to_won", _AMBER),
    )
    for label, attr, colour in series:
        rates = [getattr(c.conversion, attr) for c in figures.cohorts]
        figure.add_trace(
            go.Scatter(
                x=months,
                y=[None if r is None else r * 100 for r in rates],
                name=label,
                mode="lines+markers",
                line={"color": colour, "width": 2},
                hovertemplate="%{x}: %{y:.1f}%<extra>" + label + "</extra>",
            )
        )
    _layout(figure, yaxis={"title": "conversion (%)", "rangemode": "tozero"}, xaxis={"type": "category"})
    return _Chart(
        "cohorts",
        figure,
        "Each point is the share of one month's leads that made the next step. Recent months are still open, "
        "so their later steps keep rising.",
    )


def _speed_chart(overall: SpeedToLead, by_owner: Sequence[SpeedToLead]) -> _Chart:
    rows = [overall, *by_owner]
    labels = ["Everyone", *[s.owner or "" for s in by_owner]]
    figure = go.Figure(
        [
            go.Bar(x=labels, y=[s.median_minutes for s in rows], name="median", marker_color=_BLUE),
            go.Bar(x=labels, y=[s.p90_minutes for s in rows], name="slowest tenth (p90)", marker_color=_LIGHT_BLUE),
        ]
    )
    _layout(figure, barmode="group", yaxis={"title": "minutes"}, xaxis={"type": "category"})
    return _Chart(
        "speed",
        figure,
        "Shorter is better. The dark bar is the typical wait from SQL to the first sales touch, "
        "the light bar how long the slowest tenth waited.",
    )


def _bands_chart(figures: ReportFigures) -> _Chart:
    bands = figures.score_bands
    labels = [f"{b.min_score}" if b.min_score == b.max_score else f"{b.min_score}–{b.max_score}" for b in bands]
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=[b.rate * 100 for b in bands],
            text=[f"{b.converted}/{b.episodes}" for b in bands],
            textposition="outside",
            marker_color=_BLUE,
            hovertemplate="score %{x}: %{y:.1f}% converted (%{text})<extra></extra>",
        )
    )
    top = max((b.rate * 100 for b in bands), default=0)
    _layout(
        figure,
        xaxis={"type": "category", "title": "score when the lead qualified (lowest band left)"},
        yaxis={"title": "converted (%)", "range": [0, max(10.0, top * 1.18)]},
    )
    return _Chart(
        "score-bands",
        figure,
        "Each bar is one band of leads, cut into equal groups by the score they had when they qualified "
        "(label: converted of all). If the score works, the bars rise from left to right.",
    )


def _lift_chart(figures: ReportFigures) -> _Chart:
    rules = [r for r in figures.rules if r.lift is not None][::-1]  # plotly draws the first bar at the bottom
    figure = go.Figure(
        go.Bar(
            y=[r.name for r in rules],
            x=[r.lift for r in rules],
            orientation="h",
            marker_color=[_GREEN if (r.lift or 0) >= 1 else _RED for r in rules],
            text=[f"fired {r.fired}: {_pct(r.converted_when_fired)} vs {_pct(r.converted_when_not)}" for r in rules],
            textposition="auto",
            hovertemplate="%{y}: lift %{x:.2f}<extra></extra>",
        )
    )
    figure.add_vline(x=1, line={"color": _MUTED, "dash": "dash"})
    _layout(
        figure,
        height=max(260, 34 * len(rules) + 80),
        xaxis={"title": "lift (conversion when fired ÷ when not)", "rangemode": "tozero"},
        yaxis={"automargin": True},
    )
    return _Chart(
        "rule-lift",
        figure,
        "Right of the dashed line, leads where the rule fired converted more often than leads where it did not; "
        "left of it, less often.",
    )


def _versions_chart(versions: Sequence[VersionFigures]) -> _Chart:
    figure = go.Figure(
        go.Bar(
            x=[v.version for v in versions],
            y=[None if v.rate is None else v.rate * 100 for v in versions],
            text=[f"{v.converted}/{v.decided}" for v in versions],
            textposition="outside",
            marker_color=_BLUE,
            hovertemplate="%{x}: %{y:.1f}% converted (%{text})<extra></extra>",
        )
    )
    top = max((v.rate * 100 for v in versions if v.rate is not None), default=0)
    _layout(
        figure,
        xaxis={"type": "category", "title": "rules version"},
        yaxis={"title": "converted (%)", "range": [0, max(10.0, top * 1.18)]},
    )
    return _Chart(
        "versions", figure, "Conversion of the leads each rules version qualified (label: converted of decided)."
    )


def _shadow_chart(shadow: ShadowComparison) -> _Chart:
    levels = shadow.levels
    figure = go.Figure(
        go.Bar(
            x=[f"live {c.live.upper()} / shadow {c.shadow.upper()}" for c in levels],
            y=[c.rate * 100 for c in levels],
            text=[f"{c.converted}/{c.episodes}" for c in levels],
            textposition="outside",
            marker_color=[_BLUE if c.live == c.shadow else _AMBER for c in levels],
            hovertemplate="%{x}: %{y:.1f}% converted (%{text})<extra></extra>",
        )
    )
    top = max((c.rate * 100 for c in levels), default=0)
    _layout(figure, xaxis={"type": "category"}, yaxis={"title": "converted (%)", "range": [0, max(10.0, top * 1.18)]})
    return _Chart(
        "shadow",
        figure,
        "Blue: both rule sets agreed on the level; amber: they disagreed. Compare how the disagreements converted.",
    )


def _reasons_chart(name: str, reasons: Sequence[ReasonCount], colour: str, what: str) -> _Chart:
    ordered = list(reasons)[::-1]
    figure = go.Figure(
        go.Bar(
            y=[r.reason for r in ordered],
            x=[r.count for r in ordered],
            orientation="h",
            marker_color=colour,
            text=[r.count for r in ordered],
            textposition="auto",
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    _layout(figure, height=max(220, 34 * len(ordered) + 80), xaxis={"title": "episodes"}, yaxis={"automargin": True})
    return _Chart(name, figure, f"Why sales {what} leads, by how often each reason was given.")


def _chart_html(chart: _Chart) -> str:
    div = chart.figure.to_html(
        full_html=False,
        include_plotlyjs=False,  # the page carries plotly.js once, inline, in its head
        div_id=f"chart-{chart.name}",
        config={"displaylogo": False, "responsive": True},
    )
    return f'<figure class="chart" data-chart="{_e(chart.name)}">{div}<figcaption>{_e(chart.caption)}</figcaption></figure>'


# -- tables and sections --------------------------------------------------------------------------


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    header = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="data"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _section(anchor: str, title: str, intro: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2><p>{_e(intro)}</p>{"".join(parts)}</section>'


def _card(label: str, value: str, sub: str = "") -> str:
    sub_html = f'<div class="sub">{_e(sub)}</div>' if sub else ""
    return f'<div class="card"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>{sub_html}</div>'


def _converted_words(figures: ReportFigures) -> str:
    return "reached an opportunity" if figures.options.converted_on == "opportunity" else "was won"


def _headline(figures: ReportFigures) -> str:
    funnel, conversion, speed = figures.funnel, figures.conversion, figures.speed_to_lead
    cards = [
        _card("Leads", _num(funnel.leads), "created in these cohorts"),
        _card("MQL", _num(funnel.mql), f"{_pct(conversion.lead_to_mql)} of leads"),
        _card("SQL", _num(funnel.sql), f"{_pct(conversion.mql_to_sql)} of MQL · {funnel.sql_direct} straight to SQL"),
        _card("Opportunities", _num(funnel.opportunity), f"{_pct(conversion.sql_to_opportunity)} of SQL"),
        _card("Won", _num(funnel.won), f"{_pct(conversion.opportunity_to_won)} of opportunities"),
        _card("Won amount", _money(funnel.won_amount), f"{figures.notes.won_without_amount} won without amount"),
        _card("Speed to lead", _minutes(speed.median_minutes), f"median · p90 {_minutes(speed.p90_minutes)}"),
        _card("Within SLA", _pct(speed.within_sla), f"of {speed.sla_counted} SQL with a deadline"),
        _card("Score AUC", _auc(figures.auc), f"on {figures.decided} decided episodes"),
    ]
    return f'<section id="headline"><h2>Headline</h2><div class="cards">{"".join(cards)}</div></section>'


def _conversion_cells(conversion: Conversion) -> list[str]:
    return [
        _pct(conversion.lead_to_mql),
        _pct(conversion.mql_to_sql),
        _pct(conversion.sql_to_opportunity),
        _pct(conversion.opportunity_to_won),
    ]


def _step_cells(counts: StepCounts) -> list[str]:
    return [
        _num(counts.leads),
        _num(counts.mql),
        _num(counts.sql),
        _num(counts.sql_direct),
        _num(counts.opportunity),
        _num(counts.won),
        _num(counts.open),
    ]


def _funnel_section(figures: ReportFigures, charts: list[_Chart]) -> str:
    charts += [_funnel_chart(figures.funnel), _cohort_chart(figures)]
    head = ["cohort", "leads", "MQL", "SQL", "straight to SQL", "opportunity", "won", "open"]
    head += ["lead→MQL", "MQL→SQL", "SQL→opp.", "opp.→won"]
    rows = [[c.month, *_step_cells(c.counts), *_conversion_cells(c.conversion)] for c in figures.cohorts]
    rows.append(["all", *_step_cells(figures.funnel), *_conversion_cells(figures.conversion)])
    return _section(
        "funnel",
        "Funnel by monthly cohort",
        "Cohorts are the months the leads were created. A rate is the share of one step that reached the next; "
        "MQL→SQL counts only leads that were MQL first.",
        f'<div class="pair">{_chart_html(charts[-2])}{_chart_html(charts[-1])}</div>',
        _table(head, rows),
    )


def _speed_section(figures: ReportFigures, charts: list[_Chart]) -> str:
    speed = figures.speed_to_lead
    rows = [
        [
            s.owner or "Everyone",
            s.sql,
            s.touched,
            _minutes(s.median_minutes),
            _minutes(s.p90_minutes),
            f"{_pct(s.within_sla)} of {s.sla_counted}",
        ]
        for s in (speed, *figures.speed_by_owner)
    ]
    table = _table(["rep (owner id)", "SQL", "touched", "median", "p90", "within SLA"], rows)
    if speed.touched == 0:
        return _section("speed", "Speed to lead", "No SQL lead has had a first sales touch yet.", table)
    charts.append(_speed_chart(speed, figures.speed_by_owner))
    return _section(
        "speed",
        "Speed to lead",
        "Time from becoming SQL to the first sales touch, overall and by rep. The odds of reaching a lead "
        "fall quickly within the first hour.",
        _chart_html(charts[-1]),
        table,
    )


def _bands_section(figures: ReportFigures, charts: list[_Chart]) -> str:
    if not figures.score_bands:
        return _section("score-bands", "Score against outcome", "No decided episode with a score yet.")
    charts.append(_bands_chart(figures))
    auc = figures.auc
    verdict = (
        "AUC needs both converted and not converted episodes."
        if auc is None
        else f"AUC {auc:.2f}: a converted lead outscored one that did not convert {auc * 100:.0f}% of the time "
        "(0.5 is a coin toss, 1.0 perfect)."
    )
    return _section(
        "score-bands",
        "Score against outcome",
        f"Converted here means the lead {_converted_words(figures)}. {verdict}",
        _chart_html(charts[-1]),
    )


def _rules_section(figures: ReportFigures, charts: list[_Chart]) -> str:
    if not figures.rules:
        return _section("rule-lift", "Rule lift", "No decided episode names the rules that fired yet.")
    parts = []
    if any(r.lift is not None for r in figures.rules):
        charts.append(_lift_chart(figures))
        parts.append(_chart_html(charts[-1]))
    rows = [
        [
            r.name,
            r.fired,
            _pct(r.converted_when_fired),
            r.not_fired,
            _pct(r.converted_when_not),
            "—" if r.lift is None else f"{r.lift:.2f}",
        ]
        for r in figures.rules
    ]
    parts.append(_table(["rule", "fired", "converted when fired", "not fired", "converted when not", "lift"], rows))
    return _section(
        "rule-lift",
        "Rule lift",
        "For each rule, decided episodes where it fired against those where it did not.",
        *parts,
    )


def _versions_section(figures: ReportFigures, charts: list[_Chart]) -> str:
    versions = figures.rules_versions
    if len(versions) < 2:
        return ""
    charts.append(_versions_chart(versions))
    rows = [
        [
            v.version,
            v.episodes,
            _pct(v.sql_share),
            v.decided,
            v.converted,
            _pct(v.rate),
            _auc(v.auc),
            f"{v.first_started:%Y-%m-%d} – {v.last_started:%Y-%m-%d}",
        ]
        for v in versions
    ]
    head = ["rules version", "episodes", "SQL share", "decided", "converted", "rate", "AUC", "qualified"]
    return _section(
        "versions",
        "Rules versions side by side",
        "More than one rules version qualified leads in this period; each is judged on the leads it qualified.",
        _chart_html(charts[-1]),
        _table(head, rows),
    )


def _shadow_section(figures: ReportFigures, charts: list[_Chart]) -> str:
    shadow = figures.shadow
    if shadow is None:
        return ""
    intro = (
        f"The candidate rules were scored beside the live ones. On {shadow.episodes} decided episodes, AUC live "
        f"{_auc(shadow.auc_live)} against shadow {_auc(shadow.auc_shadow)}. Only leads the live rules qualified "
        "are here."
    )
    if not shadow.levels:
        return _section("shadow", "Live against shadow rules", intro)
    charts.append(_shadow_chart(shadow))
    rows = [[c.live.upper(), c.shadow.upper(), c.episodes, c.converted, _pct(c.rate)] for c in shadow.levels]
    return _section(
        "shadow",
        "Live against shadow rules",
        intro,
        _chart_html(charts[-1]),
        _table(["live level", "shadow level", "decided", "converted", "rate"], rows),
        _shadow_bands(shadow),
    )


def _shadow_bands(shadow: ShadowComparison) -> str:
    """Conversion per score band by each rule set's score, side by side (band 1 holds the lowest scores)."""

    def cells(band: ScoreBand | None) -> list[Any]:
        if band is None:
            return ["", "", ""]
        return [f"{band.min_score}–{band.max_score}", band.episodes, _pct(band.rate)]

    rows = [
        [i + 1, *cells(live), *cells(candidate)]
        for i, (live, candidate) in enumerate(itertools.zip_longest(shadow.live_bands, shadow.shadow_bands))
    ]
    head = ["band", "live scores", "decided", "converted", "shadow scores", "decided", "converted"]
    return _table(head, rows)


def _reasons_section(figures: ReportFigures, charts: list[_Chart]) -> str:
    parts = []
    for name, reasons, colour, what in (
        ("recycle-reasons", figures.recycle_reasons, _AMBER, "recycled"),
        ("rejection-reasons", figures.rejection_reasons, _RED, "rejected"),
    ):
        if reasons:
            charts.append(_reasons_chart(name, reasons, colour, what))
            parts.append(_chart_html(charts[-1]))
    if not parts:
        return _section("reasons", "Recycle and rejection reasons", "Sales has not recycled or rejected a lead yet.")
    return _section(
        "reasons",
        "Recycle and rejection reasons",
        "The lead status or reason sales gave when sending a lead back.",
        f'<div class="pair">{"".join(parts)}</div>',
    )


def _notes_section(figures: ReportFigures) -> str:
    notes = figures.notes
    stale = figures.options.stale_after_days
    definitions = [
        (
            "Episode",
            "One qualification of one lead, from becoming MQL or SQL to an outcome; a recycled lead that "
            "qualifies again starts a new one.",
        ),
        (
            "Open episodes",
            f"No outcome yet ({figures.funnel.open} now). They count at the steps they reached; the "
            "score and rule figures leave them out"
            + (f" until {stale} days have passed, after which they count as not converted." if stale else "."),
        ),
        (
            "Straight to SQL",
            "Leads that became SQL without being MQL first count in SQL and later steps, not in MQL→SQL.",
        ),
        ("Speed to lead", "From becoming SQL to the first sales touch. Within SLA: touched by the task's due time."),
    ]
    corrections = [
        ("episodes read", notes.episodes_read),
        ("duplicates dropped (same lead and episode number)", notes.duplicates_dropped),
        ("before the period", notes.before_period),
        ("with outcome dates before the episode started (ignored)", notes.outcomes_before_start),
        ("with a deleted deal (not counted)", notes.deleted_deals),
        ("sharing a deal with another episode (counted once)", notes.shared_deals),
        ("deals reopened after won (latest close counts)", notes.reopened_after_won),
        ("won without an amount", notes.won_without_amount),
        ("open too long, counted as not converted", notes.stale_counted_not_converted),
    ]
    terms = "".join(f"<dt>{_e(term)}</dt><dd>{_e(text)}</dd>" for term, text in definitions)
    return _section(
        "notes",
        "How to read this report",
        "Definitions, and what the report set aside or corrected in the data.",
        f'<dl class="notes">{terms}</dl>',
        _table(["data check", "episodes"], corrections),
    )


def _figures_json(figures: ReportFigures) -> str:
    # "<" escaped so no text from the CRM can close the script element
    return json.dumps(figures.to_json(), sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e")


def _period(figures: ReportFigures) -> str:
    if figures.first_cohort is None:
        since = figures.options.since
        return f"no cohorts from {since:%Y-%m} on yet" if since else "no cohorts yet"
    span = (
        figures.first_cohort
        if figures.first_cohort == figures.last_cohort
        else (f"{figures.first_cohort} to {figures.last_cohort}")
    )
    return f"cohorts {span}"


def render_html(figures: ReportFigures, title: str = "Handoff funnel report") -> str:
    """The whole report as one HTML page that needs no network to view."""
    charts: list[_Chart] = []
    if figures.empty:
        body = (
            '<section class="empty" id="nothing"><h2>Nothing to report yet</h2>'
            "<p>No lead qualified and no lead was counted in this period. Once Handoff has qualified leads and "
            "sales has worked them, the funnel, speed to lead and score figures appear here.</p></section>"
        )
    else:
        body = "".join(
            [
                _headline(figures),
                _funnel_section(figures, charts),
                _speed_section(figures, charts),
                _bands_section(figures, charts),
                _rules_section(figures, charts),
                _versions_section(figures, charts),
                _shadow_section(figures, charts),
                _reasons_section(figures, charts),
                _notes_section(figures),
            ]
        )
    script = f'<script type="text/javascript">{get_plotlyjs()}</script>' if charts else ""
    converted = f"converted = {_converted_words(figures)}"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
        f'initial-scale=1"><title>{_e(title)}</title><style>{_STYLE}</style>{script}</head>'
        f"<body><main><header><h1>{_e(title)}</h1><p>Generated {_e(_time(figures.generated_at))} · "
        f"{_e(_period(figures))} · {_e(converted)}</p></header>{body}"
        "<footer>The figures are also inside this page as JSON (#report-figures).</footer>"
        f'</main><script type="application/json" id="report-figures">{_figures_json(figures)}</script>'
        "</body></html>\n"
    )
