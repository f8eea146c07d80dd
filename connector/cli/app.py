"""The ``handoff`` command."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TextIO

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from connector.cli.explain import print_explanation
from connector.cli.report import report_command
from connector.cli.runtime import Runtime, alert_notes, build, shadow_rules, utc_now
from connector.config.files import ConfigError
from connector.config.ruleset import Ruleset, field_notes, load_rules, rules_path
from connector.config.settings import Settings, crm_credential_problems, load_settings, local_problems
from connector.crm.errors import RecordRejected, Retryable, StopRun
from connector.model import InvalidLead, Lead, Qualification, format_time, lead_from_json, parse_time
from connector.ops.daemon import run_daemon
from connector.ops.logs import configure_logging
from connector.ops.metrics import Metrics
from connector.scoring.engine import score as score_lead
from connector.state import StateError
from connector.sync.cycle import RunReport
from connector.sync.dry_run import DryRun, plan_file
from connector.sync.sink import PlanSink

app = typer.Typer(
    name="handoff",
    help="Lead qualification that lives inside your CRM.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_SKIPPED = 1
EXIT_CONFIG = 2
EXIT_STOPPED = 3

RulesOption = typer.Option(
    None, "--rules", envvar="HANDOFF_RULES", help="rules file [default: config/scoring.yaml, else the packaged rules]"
)
NowOption = typer.Option(None, "--now", help="score as of this ISO-8601 time (default: now)")


@app.callback()
def _configure(ctx: typer.Context) -> None:
    """Logs go to stderr as JSON lines, or for a person at a terminal, in colour."""
    try:
        fmt = load_settings().handoff_log_format
    except ConfigError:
        fmt = "auto"  # the command itself reports bad settings, one line each
    configure_logging(fmt)


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    table = "table"


def _fail(lines: list[str], code: int = EXIT_CONFIG) -> typer.Exit:
    for line in lines:
        typer.echo(line, err=True)
    return typer.Exit(code)


def _load(path: Path) -> Ruleset:
    try:
        return load_rules(path)
    except ConfigError as exc:
        raise _fail([str(p) for p in exc.problems]) from None


def _moment(now: str | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
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
    for column, style in (
        ("id", "dim"),
        ("who", ""),
        ("stage", "bold"),
        ("score", ""),
        ("grade", ""),
        ("top reasons", ""),
    ):
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
    input_path: str = typer.Argument(
        "-", metavar="[INPUT.jsonl | -]", help="canonical leads, one JSON object per line"
    ),
    rules: Path | None = RulesOption,
    now: str | None = NowOption,
    output: OutputFormat = typer.Option(OutputFormat.jsonl, "--format", help="jsonl (one result per line) or table"),
) -> None:
    """Score canonical leads offline: one JSON result per input line."""
    ruleset = _load(rules_path(rules))
    moment = _moment(now)
    problems: list[str] = []
    rows: list[tuple[Lead, Qualification]] = []
    stream: TextIO
    if input_path == "-":
        stream, source = sys.stdin, "<stdin>"
    else:
        try:
            stream, source = open(input_path, encoding="utf-8"), input_path  # noqa: SIM115 - closed by the `with` below, shared with stdin
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
        raise _fail([*problems, f"{len(problems)} line(s) skipped"], EXIT_SKIPPED)


@app.command("check-config")
def check_config(
    rules: Path | None = typer.Option(None, "--rules", help="check this rules file only (offline, no credentials)"),
    env: bool = typer.Option(False, "--env", help="with --rules, check the environment too"),
) -> None:
    """Validate the rules file and the environment without calling the CRM: one line per problem, exit 2 if any."""
    problems: list[str] = []
    settings: Settings | None = None
    if rules is None or env:
        try:
            settings = load_settings()
        except ConfigError as exc:
            problems += [str(p) for p in exc.problems]
        else:
            problems += [str(p) for p in [*crm_credential_problems(settings), *local_problems(settings)]]
            try:
                shadow_rules(settings)
            except ConfigError as exc:
                problems += [str(p) for p in exc.problems]
    if rules is None and settings is not None:
        rules = settings.handoff_rules
    elif rules is None and os.environ.get("HANDOFF_RULES"):
        rules = Path(os.environ["HANDOFF_RULES"])  # even when another variable kept the settings from loading
    path = rules_path(rules)
    ruleset: Ruleset | None = None
    try:
        ruleset = load_rules(path)
    except ConfigError as exc:
        problems += [str(p) for p in exc.problems]
    if problems or ruleset is None:
        raise _fail(problems)
    typer.echo(f"{path}: ok (rules version {ruleset.version})")
    for note in field_notes(ruleset.file, settings.handoff_crm if settings is not None else None):
        typer.echo(note)
    if not ruleset.policy.owners.configured:
        typer.echo(f"{path}: warning: no owners: rules; tasks for unowned records will be unassigned", err=True)
    if settings is not None:
        typer.echo(f"environment: ok (CRM {settings.handoff_crm} at {settings.crm_location})")
        for note in alert_notes(settings):
            typer.echo(note)


@app.command()
def demo(
    rules: Path | None = RulesOption,
    crm: str = typer.Option("hubspot", "--crm", envvar="HANDOFF_CRM", help="hubspot or salesforce"),
    contacts: int = typer.Option(400, "--contacts", min=20, help="synthetic people in the sandbox"),
    seed: int = typer.Option(7, "--seed", help="seed of the synthetic data"),
) -> None:
    """The whole product against a built-in CRM sandbox: backfill, live cycles, funnel, explanations."""
    path = rules_path(rules)
    _load(path)
    if crm not in ("hubspot", "salesforce"):
        raise _fail([f"--crm / HANDOFF_CRM: {crm!r} is not hubspot or salesforce"])
    from connector.cli.demo import run_demo  # the sandboxes are only imported for the demo

    run_demo(path, crm=crm, contacts=contacts, seed=seed)


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise _fail([str(p) for p in exc.problems]) from None


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """Configuration, state and CRM stops end the command with one clear line and an exit code."""
    try:
        yield
    except ConfigError as exc:
        raise _fail([str(p) for p in exc.problems]) from None
    except StateError as exc:
        raise _fail([str(exc)]) from None
    except (StopRun, Retryable) as exc:
        # a Retryable that reaches the command has used up its retries: the CRM is out of reach
        raise _fail([f"stopped: {exc}"], EXIT_STOPPED) from None


def _runtime(settings: Settings, dry_run: bool = False) -> Runtime:
    """Build and start the runtime."""
    with _one_line_errors():
        runtime = build(settings)
        runtime.adapter.start(create_missing=not dry_run)
    return runtime


def _report(report: RunReport, as_json: bool, extra: dict[str, object] | None = None) -> None:
    data = {**report.to_json(), **(extra or {})}
    if as_json:
        typer.echo(json.dumps(data, sort_keys=True))
        return
    stages = ", ".join(f"{n} to {s}" for s, n in sorted(report.stages.items())) or "none"
    line = (
        f"{report.kind}{' (dry run)' if report.dry_run else ''} {report.status}: read {report.read}, "
        f"changed {report.changed}, written {report.written}, stage moves: {stages}, "
        f"tasks created {report.tasks_created}, failed writes {report.write_failures}, "
        f"dead letters {report.dead_lettered}, quarantined {report.quarantined}"
    )
    if report.tasks_waiting and report.tasks_retry_at is not None:
        line += f", tasks waiting {report.tasks_waiting} (retried from {format_time(report.tasks_retry_at)})"
    if report.alerts:
        line += ", alerts " + ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in sorted(report.alerts.items()))
    if report.tasks_unassigned:
        line += f", tasks unassigned {report.tasks_unassigned} (no owner who can take them: see owners: in the rules)"
    typer.echo(line)
    for key, value in (extra or {}).items():
        typer.echo(f"{key}: {value}")


def _run_once(kind: str, dry_run: bool, as_json: bool, run: Callable[[Runtime, PlanSink | None], RunReport]) -> None:
    settings = _settings()
    runtime = _runtime(settings, dry_run)
    extra: dict[str, object] = {}
    try:
        with _one_line_errors():
            if dry_run:
                stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
                with plan_file(settings.handoff_report_dir, kind, stamp) as (path, rows):
                    report = run(runtime, DryRun(rows, runtime.alerts))
                extra = {"plan_csv": str(path), "planned_rows": rows.rows}
            else:
                report = run(runtime, None)
    finally:
        runtime.close()
    _report(report, as_json, extra)
    if report.dead_lettered or report.quarantined:
        raise typer.Exit(EXIT_SKIPPED)


@app.command()
def run() -> None:
    """The daemon: incremental syncs and the decay sweep on a schedule, health and metrics over HTTP."""
    settings = _settings()
    metrics = Metrics()
    with _one_line_errors():
        runtime = build(settings, metrics=metrics)

    def publish(report: RunReport) -> dict[str, int]:
        for stage, count in report.tasks_by_stage.items():
            metrics.task_created(stage, count)
        if report.kind == "sweep" and report.status == "ok":
            metrics.leads_by_stage(dict(report.levels))
        return report.counts()

    # restarts must not postpone the sweep forever: it is due an interval after the last one
    last_sweep = runtime.store.runs.last_success("sweep")
    first_sweep = last_sweep + timedelta(seconds=settings.handoff_sweep_interval) if last_sweep else utc_now()
    try:
        code = run_daemon(
            settings,
            sync_once=lambda stop: publish(runtime.sync.sync_once(stop=stop)),
            sweep=lambda stop: publish(runtime.sync.sweep(stop=stop)),
            startup=runtime.adapter.start,
            metrics=metrics,
            first_sweep=first_sweep,
            lease=runtime.store.lease(),
        )
    finally:
        runtime.close()
    raise typer.Exit(code)


@app.command()
def sync(
    once: bool = typer.Option(True, "--once", help="run one incremental cycle (the daemon is `handoff run`)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="write nothing; put the planned changes in a CSV"),
    as_json: bool = typer.Option(False, "--json", help="print the run summary as JSON"),
) -> None:
    """One incremental cycle against the CRM, then a run summary."""
    _run_once("sync", dry_run, as_json, lambda rt, sink: rt.sync.sync_once(sink=sink))


@app.command()
def backfill(
    since: str | None = typer.Option(None, "--since", help="only contacts modified since this date (ISO-8601)"),
    limit: int | None = typer.Option(None, "--limit", min=1, help="stop after this many contacts"),
    dry_run: bool = typer.Option(False, "--dry-run", help="write nothing; put the planned changes in a CSV"),
    as_json: bool = typer.Option(False, "--json", help="print the run summary as JSON"),
) -> None:
    """Rescore every contact (resumable: a killed backfill continues where it stopped)."""
    start = _moment(since) if since else None

    def run(rt: Runtime, sink: PlanSink | None) -> RunReport:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=as_json,
            transient=True,
        ) as progress:
            task = progress.add_task("backfill: 0 contacts", total=None)
            return rt.sync.backfill(
                since=start,
                limit=limit,
                sink=sink,
                progress=lambda n: progress.update(task, description=f"backfill: {n} contacts"),
            )

    _run_once("backfill", dry_run, as_json, run)


@app.command()
def sweep(
    dry_run: bool = typer.Option(False, "--dry-run", help="write nothing; put the planned changes in a CSV"),
    as_json: bool = typer.Option(False, "--json", help="print the run summary as JSON"),
) -> None:
    """One decay sweep: re-score every stored lead as of now and write what moved."""
    _run_once("sweep", dry_run, as_json, lambda rt, sink: rt.sync.sweep(sink=sink))


@app.command()
def explain(record_id: str = typer.Argument(..., help="the CRM record id")) -> None:
    """How one CRM record scores right now, and what Handoff would do with it."""
    settings = _settings()
    runtime = _runtime(settings, dry_run=True)
    try:
        with _one_line_errors():
            found = runtime.sync.explain(record_id)
    except RecordRejected as exc:
        # the CRM refused the id itself (malformed, wrong checksum): a bad argument, not a bad record
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise _fail(
            [f"explain: {settings.handoff_crm} cannot read a record with id {record_id!r} ({first_line})"]
        ) from None
    finally:
        runtime.close()
    if found is None:
        raise _fail([f"explain: no record with id {record_id!r} in {settings.handoff_crm}"])
    record, _, q, decision = found
    print_explanation(Console(), record.crm_state.name or record_id, q, decision)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
)
def sandbox(ctx: typer.Context) -> None:
    """Local CRM emulators for trying rules, tests, benchmarks and the demo (see handoff sandbox --help)."""
    # the emulators are a separate room: loaded only when asked for, never by the product's own commands
    from connector.sandbox.cli import app as sandbox_app

    sandbox_app(args=list(ctx.args), prog_name="handoff sandbox")


def main() -> None:
    """Console-script entry point."""
    app()


app.command("report")(report_command)
