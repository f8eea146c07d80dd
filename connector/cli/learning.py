"""``handoff backtest`` and ``handoff calibrate``: thin wrappers around :mod:`connector.learning`.

The learning modules (numpy, scikit-learn) load only when one of these commands runs, so every
other command starts as fast as before.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from connector.cli.app import EXIT_SKIPPED, NowOption, _console, _fail, _load, _moment, app
from connector.config.ruleset import DEFAULT_RULES_PATH
from connector.learning.episodes import labelled_to_json
from connector.learning.labelled import LabelledSet
from connector.learning.sources import STATE, SourceError, labelled_from_store, load_labelled, open_store
from connector.model import parse_time
from connector.outcomes.verdict import CONVERTED_ON, OutcomeRule

if TYPE_CHECKING:
    from connector.learning.backtest import Backtest, Side
    from connector.learning.calibrate import Calibration

FromOption = typer.Option(
    STATE, "--from", help="labelled leads: a JSON-lines file, - for stdin, or state (the state store)"
)
ConvertedOnOption = typer.Option(
    "opportunity", "--converted-on", help="from the state store: what counts as converted, opportunity or won"
)
StaleOption = typer.Option(
    90,
    "--stale-after-days",
    min=0,
    help="from the state store: an episode open this long counts as not converted (0: never)",
)


def _rule(converted_on: str, stale_after_days: int) -> OutcomeRule:
    if converted_on not in CONVERTED_ON:
        raise _fail([f"--converted-on: {converted_on!r} is not opportunity or won"])
    return OutcomeRule("won" if converted_on == "won" else "opportunity", stale_after_days or None)


def _read(spec: str, moment: datetime, rule: OutcomeRule) -> LabelledSet:
    try:
        found = load_labelled(spec, moment, rule)
    except SourceError as exc:
        raise _fail(str(exc).splitlines()) from None
    for line in [*found.problems, *found.warnings]:
        typer.echo(line, err=True)
    if not found.leads:
        raise _fail([f"{found.source}: no usable lead"])
    return found


def _finish(found: LabelledSet) -> None:
    if found.problems:
        raise _fail([f"{len(found.problems)} line(s) skipped"], EXIT_SKIPPED)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _summary_table(result: Backtest) -> Table:
    base, cand = result.baseline, result.candidate
    table = Table(title="Both rule sets over the same leads", title_justify="left")
    table.add_column("")
    table.add_column("baseline", justify="right")
    table.add_column("candidate", justify="right")

    def row(label: str, pick: Callable[[Any], str]) -> None:
        table.add_row(label, pick(base), pick(cand))

    row("rules version", lambda s: s.rules_version)
    row("MQL or better", lambda s: f"{s.mql:,} ({s.mql_rate:.1%})")
    row("SQL", lambda s: f"{s.sql:,}")
    row("disqualified", lambda s: f"{s.disqualified:,}")
    row("AUC", lambda s: _figure(s.auc))
    row("average precision", lambda s: _figure(s.average_precision))
    row("conversion, top decile", lambda s: _rate(s.top_decile_conversion))
    for name in ("lead", "mql", "sql", "disqualified"):
        row(f"conversion at {name}", _level_rate(name))
    return table


def _level_rate(name: str) -> Callable[[Any], str]:
    """The conversion of the leads one side puts at level ``name``."""
    return lambda side: _rate(side.levels[name].rate) if name in side.levels else "—"


def _bands_table(label: str, side: Side) -> Table:
    table = Table(title=f"Conversion by score band: {label} ({side.rules_version})", title_justify="left")
    for column in ("score", "leads", "converted", "rate"):
        table.add_column(column, justify="right")
    for band in side.bands:
        span = f"{band.low:g}" if band.low == band.high else f"{band.low:g} to {band.high:g}"
        table.add_row(span, f"{band.leads:,}", f"{band.converted:,}", _rate(band.rate))
    return table


def _lift_table(label: str, side: Side) -> Table:
    table = Table(title=f"Rule lift: {label} ({side.rules_version})", title_justify="left")
    table.add_column("rule")
    table.add_column("section")
    for column in ("fired", "converted", "not fired", "converted ", "lift"):
        table.add_column(column, justify="right")
    for lift in side.lifts:
        table.add_row(
            lift.rule,
            lift.section,
            f"{lift.fired:,}",
            _rate(lift.fired_rate),
            f"{lift.not_fired:,}",
            _rate(lift.not_fired_rate),
            "—" if lift.lift is None else f"{lift.lift:.2f}×",
        )
    return table


def _write_changes(path: Path, result: Backtest) -> None:
    from connector.learning.backtest import CHANGE_COLUMNS

    try:
        with path.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=CHANGE_COLUMNS)
            writer.writeheader()
            writer.writerows(change.row() for change in result.changes)
    except OSError as exc:
        raise _fail([f"--csv {path}: cannot write: {exc.strerror}"]) from None


def _print_backtest(console: Console, result: Backtest, moment: datetime, csv_out: Path | None) -> None:
    console.print(
        f"Backtest at {moment.isoformat()}: {result.baseline.leads:,} leads,"
        f" {result.baseline.labelled:,} with a known outcome ({result.baseline.converted:,} converted)"
    )
    console.print(_summary_table(result))
    for label, side in (("baseline", result.baseline), ("candidate", result.candidate)):
        if side.bands:
            console.print(_bands_table(label, side))
    for label, side in (("baseline", result.baseline), ("candidate", result.candidate)):
        if side.lifts:
            console.print(_lift_table(label, side))
    moves = ", ".join(f"{move} {n:,}" for move, n in result.transitions().items()) or "none"
    console.print(f"{len(result.changes):,} lead(s) change level: {moves}")
    if csv_out is not None:
        console.print(f"who changes, with scores and top reasons: {csv_out}")


@app.command()
def backtest(
    rules: Path = typer.Option(..., "--rules", help="the candidate rules file"),
    baseline: Path = typer.Option(
        DEFAULT_RULES_PATH, "--baseline", envvar="HANDOFF_RULES", help="rules to compare with (default: the live rules)"
    ),
    source: str = FromOption,
    now: str | None = NowOption,
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
    csv_out: Path | None = typer.Option(None, "--csv", help="write the leads that change level to this CSV"),
    converted_on: str = ConvertedOnOption,
    stale_after_days: int = StaleOption,
) -> None:
    """What a rules change would do: volumes, who changes level, AUC and rule lift on known outcomes."""
    base_rules, cand_rules = _load(baseline), _load(rules)
    moment = _moment(now)
    found = _read(source, moment, _rule(converted_on, stale_after_days))
    from connector.learning.backtest import backtest as run_backtest

    result = run_backtest(found.leads, base_rules.compiled, cand_rules.compiled, moment)
    for line in result.warnings:
        typer.echo(line, err=True)
    if csv_out is not None:
        _write_changes(csv_out, result)
    if as_json:
        typer.echo(json.dumps(result.to_json(), sort_keys=True))
    else:
        _print_backtest(_console(), result, moment, csv_out)
    _finish(found)


def _print_calibration(console: Console, result: Calibration, out: Path) -> None:
    before, after = result.before, result.after
    table = Table(title=f"Held out: {result.held_out:,} leads (learned on {result.trained_on:,})", title_justify="left")
    table.add_column("")
    table.add_column(f"current ({before.rules_version})", justify="right")
    table.add_column(f"proposed ({after.rules_version})", justify="right")
    table.add_row("AUC", _figure(before.auc), _figure(after.auc))
    table.add_row("average precision", _figure(before.average_precision), _figure(after.average_precision))
    table.add_row("MQL or better", f"{before.mql:,} ({before.mql_rate:.1%})", f"{after.mql:,} ({after.mql_rate:.1%})")
    table.add_row("SQL", f"{before.sql:,}", f"{after.sql:,}")
    table.add_row("conversion, top decile", _rate(before.top_decile_conversion), _rate(after.top_decile_conversion))
    console.print(table)
    console.print(f"Rules against the current file ({len(result.rules)} learned):")
    for line in result.diff:
        console.print(f"  {line}", markup=False, highlight=False)
    console.print(f"Proposed rules written to {out}; check them with: handoff check-config --rules {out}")


def _current_doc(path: Path) -> dict[str, object]:
    # the loader has accepted the file already: reading it again cannot fail in a new way
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


@app.command()
def calibrate(
    source: str = FromOption,
    rules: Path = typer.Option(
        DEFAULT_RULES_PATH,
        "--rules",
        envvar="HANDOFF_RULES",
        help="the current rules file (kept sections come from it)",
    ),
    now: str | None = NowOption,
    max_rules: int = typer.Option(15, "--max-rules", min=1, help="most scorecard rules to propose"),
    holdout: float = typer.Option(0.3, "--holdout", min=0.05, max=0.9, help="share of leads held out to measure on"),
    target_mql_rate: float | None = typer.Option(
        None, "--target-mql-rate", min=0.0, max=1.0, help="share of leads to make MQL or better (default: as today)"
    ),
    target_precision: float | None = typer.Option(
        None, "--target-precision", min=0.0, max=1.0, help="conversion the MQLs should reach instead"
    ),
    seed: int = typer.Option(0, "--seed", help="seed of the holdout split"),
    out: Path = typer.Option(..., "--out", help="where to write the proposed rules file"),
    converted_on: str = ConvertedOnOption,
    stale_after_days: int = StaleOption,
) -> None:
    """Learn a proposed, readable rules file from outcomes, with figures on held-out leads."""
    if target_mql_rate is not None and target_precision is not None:
        raise _fail(["--target-mql-rate and --target-precision: give one or the other"])
    current = _load(rules)
    moment = _moment(now)
    found = _read(source, moment, _rule(converted_on, stale_after_days))
    from connector.learning.calibrate import CalibrationError, CalibrationOptions
    from connector.learning.calibrate import calibrate as run_calibration

    options = CalibrationOptions(
        max_rules=max_rules,
        holdout=holdout,
        target_mql_rate=target_mql_rate,
        target_precision=target_precision,
        seed=seed,
    )
    try:
        result = run_calibration(found.leads, current, _current_doc(rules), moment, options, found.source, out)
    except CalibrationError as exc:
        raise _fail([str(exc)]) from None
    for line in result.warnings:
        typer.echo(line, err=True)
    try:
        out.write_text(result.text, encoding="utf-8")
    except OSError as exc:
        raise _fail([f"--out {out}: cannot write: {exc.strerror}"]) from None
    _print_calibration(_console(), result, out)
    _finish(found)


def _since(value: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise _fail([f"--since: not an ISO-8601 date or time: {value!r}"]) from None


@app.command()
def export(
    labelled: bool = typer.Option(False, "--labelled", help="labelled leads: one lead per decided episode"),
    since: str | None = typer.Option(None, "--since", help="only episodes that started on or after this date"),
    now: str | None = typer.Option(None, "--now", help="judge outcomes as of this ISO-8601 time (default: now)"),
    converted_on: str = ConvertedOnOption,
    stale_after_days: int = StaleOption,
) -> None:
    """Write the state store's episodes as labelled leads (JSON lines) to standard output.

    Each lead as it was when it qualified (today's properties, the activities up to then) with its
    outcome; undecided episodes are left out. Backtest and calibrate read the file with --from.
    """
    if not labelled:
        raise _fail(["export: say what to export; --labelled (labelled leads) is the one form there is"])
    rule = _rule(converted_on, stale_after_days)
    moment = _moment(now)
    start = _since(since) if since else None
    try:
        store = open_store()
    except SourceError as exc:
        raise _fail(str(exc).splitlines()) from None
    try:
        found = labelled_from_store(store, moment, rule, start)
    finally:
        store.close()
    for item in found.leads:
        typer.echo(json.dumps(labelled_to_json(item), sort_keys=True, default=str))
    for line in found.warnings:
        typer.echo(line, err=True)
    converted = sum(1 for item in found.leads if item.converted)
    typer.echo(
        f"exported {len(found.leads):,} labelled lead(s), {converted:,} converted ({rule.converted_on})", err=True
    )
