"""The ``handoff`` command."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Iterator, Optional, TextIO

import typer
from rich.console import Console
from rich.table import Table

from connector.config_file import ConfigError
from connector.model import InvalidLead, Lead, Qualification, lead_from_json, parse_time
from connector.rulesfile import DEFAULT_RULES_PATH, Ruleset, load_rules
from connector.scoring.engine import score as score_lead

app = typer.Typer(
    name="handoff",
    help="Lead qualification that lives inside your CRM.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_SKIPPED = 1
EXIT_CONFIG = 2
#: the bundled example leads are dated relative to this moment
EXAMPLES_PATH = Path("config/examples/leads.jsonl")
EXAMPLES_AS_OF = "2026-11-22T12:00:00Z"

RulesOption = typer.Option(DEFAULT_RULES_PATH, "--rules", envvar="HANDOFF_RULES", help="rules file")
NowOption = typer.Option(None, "--now", help="score as of this ISO-8601 time (default: now)")


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    table = "table"


def _fail(lines: list[str], code: int = EXIT_CONFIG) -> typer.Exit:
    for line in lines:
        typer.echo(line, err=True)
    return typer.Exit(code)


def _load(rules_path: Path) -> Ruleset:
    try:
        return load_rules(rules_path)
    except ConfigError as exc:
        raise _fail([str(p) for p in exc.problems]) from None


def _moment(now: Optional[str]) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    try:
        return parse_time(now)
    except ValueError:
        raise _fail([f"--now: not an ISO-8601 time: {now!r}"]) from None


def read_leads(stream: TextIO, source: str, problems: list[str]) -> Iterator[Lead]:
    """Canonical leads from JSON lines; a bad line is reported in ``problems`` and skipped."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield lead_from_json(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"{source}:{number}: not valid JSON: {exc.msg} at column {exc.colno}")
        except InvalidLead as exc:
            problems.append(f"{source}:{number}: {exc}")


def _display_name(lead: Lead) -> str:
    props = lead.properties
    name = " ".join(str(props[k]) for k in ("first_name", "last_name") if props.get(k))
    company = props.get("company")
    return f"{name} ({company})" if name and company else name or str(company or props.get("email") or "")


def _console() -> Console:
    # piped output would otherwise wrap at 80 columns and break every reason in two
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _table(rows: list[tuple[Lead, Qualification]], reasons: int = 2) -> Table:
    table = Table(title=None, show_lines=False, expand=False)
    for column, style in (("id", "dim"), ("who", ""), ("stage", "bold"), ("score", ""), ("grade", ""), ("top reasons", "")):
        table.add_column(column, style=style, justify="right" if column == "score" else "left", overflow="fold")
    colours = {"sql": "green", "mql": "yellow", "lead": "white"}
    for lead, q in rows:
        stage = "disqualified" if q.disqualified else q.stage.value
        table.add_row(
            lead.id,
            _display_name(lead),
            f"[{colours.get(stage, 'red')}]{stage}[/]",
            str(q.score),
            q.grade,
            "; ".join(r.text for r in q.reasons[:reasons]),
        )
    return table


@app.command()
def score(
    input_path: str = typer.Argument("-", metavar="[INPUT.jsonl | -]", help="canonical leads, one JSON object per line"),
    rules: Path = RulesOption,
    now: Optional[str] = NowOption,
    output: OutputFormat = typer.Option(OutputFormat.jsonl, "--format", help="jsonl (one result per line) or table"),
) -> None:
    """Score canonical leads offline: one JSON result per input line."""
    ruleset = _load(rules)
    moment = _moment(now)
    problems: list[str] = []
    rows: list[tuple[Lead, Qualification]] = []
    stream: TextIO
    if input_path == "-":
        stream, source = sys.stdin, "<stdin>"
    else:
        try:
            stream, source = open(input_path, encoding="utf-8"), input_path
        except OSError as exc:
            raise _fail([f"{input_path}: cannot read: {exc.strerror}"]) from None
    with stream:
        for lead in read_leads(stream, source, problems):
            result = score_lead(lead, ruleset.compiled, moment)
            if output is OutputFormat.jsonl:
                sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
            else:
                rows.append((lead, result))
    if output is OutputFormat.table:
        _console().print(_table(rows))
    if problems:
        raise _fail(problems + [f"{len(problems)} line(s) skipped"], EXIT_SKIPPED)


@app.command("check-config")
def check_config(rules: Path = RulesOption) -> None:
    """Validate the rules file: one line per problem, non-zero exit if any."""
    ruleset = _load(rules)
    typer.echo(f"{rules}: ok (rules version {ruleset.version})")


@app.command()
def demo(rules: Path = RulesOption) -> None:
    """Score the bundled example leads and show who qualifies and why."""
    ruleset = _load(rules)
    moment = parse_time(EXAMPLES_AS_OF)
    problems: list[str] = []
    with EXAMPLES_PATH.open(encoding="utf-8") as stream:
        rows = [(lead, score_lead(lead, ruleset.compiled, moment)) for lead in read_leads(stream, str(EXAMPLES_PATH), problems)]
    console = _console()
    console.print(f"[bold]Handoff[/] scoring {len(rows)} example leads as of {EXAMPLES_AS_OF} with rules {ruleset.version}")
    console.print(_table(rows))
    counts = {stage: sum(1 for _, q in rows if (("disqualified" if q.disqualified else q.stage.value) == stage))
              for stage in ("sql", "mql", "lead", "disqualified")}
    console.print("  ".join(f"{stage}: {n}" for stage, n in counts.items()))
    if problems:
        raise _fail(problems, EXIT_SKIPPED)


def main() -> None:
    """Console-script entry point."""
    app()
