"""``handoff report``: the funnel report as one HTML page, or its figures as JSON.

Episodes and the leads per month come from the state store the sync keeps them in, or from a
JSON-lines file (``--from``: one :meth:`Episode.to_json` object per line).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import typer

from connector.learning.sources import SourceError, open_store
from connector.model import parse_time
from connector.outcomes import Episode, FunnelInput, InvalidEpisode
from connector.outcomes.verdict import CONVERTED_ON
from connector.state import Store

if TYPE_CHECKING:
    # the report's stack (numpy, plotly) loads only when a report is made: every other command starts lighter
    from connector.reporting import ReportFigures, ReportOptions

DEFAULT_OUT = Path("handoff-report.html")
#: the exit codes every handoff command uses: some input lines skipped / bad input
EXIT_SKIPPED = 1
EXIT_CONFIG = 2


def read_episodes(stream: TextIO, source: str, problems: list[str]) -> Iterator[Episode]:
    """Episodes from JSON lines; a bad line is reported in ``problems`` as ``source:line: why`` and skipped."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield Episode.from_json(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"{source}:{number}: not valid JSON: {exc.msg} at column {exc.colno}")
        except InvalidEpisode as exc:
            problems.append(f"{source}:{number}: {exc}")


def read_lead_counts(path: Path) -> dict[str, int]:
    """Leads created per month from a JSON object ``{"YYYY-MM": count}``; InvalidEpisode names the problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidEpisode(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InvalidEpisode(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise InvalidEpisode(f'{path}: must be a JSON object of month -> leads, e.g. {{"2026-09": 120}}')
    try:
        return dict(FunnelInput(lead_counts=data).lead_counts)
    except InvalidEpisode as exc:
        raise InvalidEpisode(f"{path}: {exc}") from None


def store_input(store: Store) -> FunnelInput:
    """Every episode the state store keeps, and its leads per month: what the report reads."""
    return FunnelInput(tuple(store.episodes.all()), store.episodes.lead_counts())


def _read_store() -> FunnelInput:
    try:
        store = open_store()
    except SourceError as exc:
        raise _fail(str(exc).splitlines()) from None
    try:
        return store_input(store)
    finally:
        store.close()


def write_report(
    episodes: Iterable[Episode],
    lead_counts: Mapping[str, int],
    *,
    as_of: datetime,
    options: ReportOptions,
    out: Path | None,
    as_json: bool,
) -> ReportFigures:
    """Work out the figures; write the HTML page to ``out`` (when given) and print JSON or a summary."""
    from connector.reporting import build_figures, render_html

    figures = build_figures(FunnelInput(tuple(episodes), lead_counts), as_of, options)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_html(figures), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(figures.to_json(), sort_keys=True))
    else:
        funnel = figures.funnel
        typer.echo(
            f"report: {figures.episodes} episodes, leads {funnel.leads if funnel.leads is not None else 'unknown'}, "
            f"MQL {funnel.mql}, SQL {funnel.sql}, opportunities {funnel.opportunity}, won {funnel.won}"
            + (f"; wrote {out}" if out is not None else "")
        )
    return figures


def _fail(lines: Iterable[str], code: int = EXIT_CONFIG) -> typer.Exit:
    for line in lines:
        typer.echo(line, err=True)
    return typer.Exit(code)


def _time_option(name: str, value: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise _fail([f"{name}: not an ISO-8601 date or time: {value!r}"]) from None


def report_command(
    from_path: Path | None = typer.Option(
        None,
        "--from",
        metavar="FILE.jsonl",
        help="episodes, one JSON object per line (default: the state store's)",
    ),
    leads: Path | None = typer.Option(
        None,
        "--leads",
        metavar="FILE.json",
        help='leads created per month, e.g. {"2026-09": 120} (default: the state store\'s records)',
    ),
    out: Path | None = typer.Option(
        None, "--out", metavar="FILE.html", help=f"where to write the page (default {DEFAULT_OUT}; none with --json)"
    ),
    since: str | None = typer.Option(None, "--since", help="only the cohorts from this date's month on"),
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
    converted_on: str = typer.Option(
        "opportunity", "--converted-on", help="what counts as converted: opportunity or won"
    ),
    stale_after_days: int = typer.Option(
        90, "--stale-after-days", min=0, help="an episode open this long counts as not converted (0: never)"
    ),
    now: str | None = typer.Option(None, "--now", help="report as of this ISO-8601 time (default: now)"),
) -> None:
    """Funnel by cohort, speed to lead, score bands against outcome, rule lift: one self-contained page.

    Episodes come from the state store (HANDOFF_STATE_URL, HANDOFF_CRM), or from --from FILE.jsonl.
    """
    if converted_on not in CONVERTED_ON:
        raise _fail([f"--converted-on: {converted_on!r} is not opportunity or won"])
    start: date | None = _time_option("--since", since).date() if since else None
    as_of = _time_option("--now", now) if now else datetime.now(UTC)
    try:
        lead_counts = read_lead_counts(leads) if leads else {}
    except InvalidEpisode as exc:
        raise _fail([f"--leads: {exc}"]) from None
    problems: list[str] = []
    if from_path is None:
        stored = _read_store()
        episodes = list(stored.episodes)
        lead_counts = lead_counts if leads else dict(stored.lead_counts)
    else:
        try:
            with from_path.open(encoding="utf-8") as stream:
                episodes = list(read_episodes(stream, str(from_path), problems))
        except OSError as exc:
            raise _fail([f"{from_path}: cannot read: {exc.strerror}"]) from None
    from connector.reporting import ReportOptions

    options = ReportOptions(
        converted_on="won" if converted_on == "won" else "opportunity",
        stale_after_days=stale_after_days or None,
        since=start,
    )
    target = out if out is not None or as_json else DEFAULT_OUT
    write_report(episodes, lead_counts, as_of=as_of, options=options, out=target, as_json=as_json)
    if problems:
        raise _fail([*problems, f"{len(problems)} line(s) skipped"], EXIT_SKIPPED)
