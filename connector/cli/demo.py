"""``handoff demo``: the whole product against a built-in CRM sandbox, in seconds.

The sandbox runs in-process on a simulated clock that Handoff shares, so an
"hour later" between cycles takes no time and rate limits are honoured
without waiting. Everything else is the production path: the real SDK over
HTTP, the rules file, the SQLite state store, the same sync code.
"""

from __future__ import annotations

import logging
import random
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from connector.cli.explain import print_explanation
from connector.cli.report import store_input
from connector.cli.runtime import Runtime, build, hubspot_adapter, salesforce_adapter
from connector.model import Stage
from connector.ops.logs import APP_LOGGER
from connector.reporting import ReportFigures, ReportOptions, build_figures, render_html
from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.outcomes import Outcome
from connector.sandbox.portals import HubSpotPortal, SalesforcePortal
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.synthetic import generate
from connector.state.episodes import is_closed
from connector.sync.cycle import RunReport

HOUR = 3600.0
DAY = 24 * HOUR
#: of the qualified leads sales does not convert, the share a rep rejects, and the share recycled
REJECT_SHARE = 0.3
RECYCLE_SHARE = 0.3
CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
STAGE_ORDER = ("subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other")


@dataclass(frozen=True)
class DemoResult:
    """What the demo showed: the CRM's funnel counts, and the report of its run and where it was written."""

    funnel: dict[str, int]
    figures: ReportFigures
    report_path: Path


@dataclass
class SalesWork:
    """What the simulated reps did with the qualified leads."""

    touched: int = 0
    converted: int = 0
    rejected: int = 0
    recycled: int = 0
    won: int = 0
    lost: int = 0


def run_demo(
    rules: Path,
    crm: str = "hubspot",
    contacts: int = 400,
    seed: int = 7,
    console: Console | None = None,
    report_dir: Path = Path("handoff-reports"),
) -> DemoResult:
    """Run the demo against the chosen CRM's sandbox, print it and write the funnel report of its run."""
    console = console or Console()
    # the demo narrates; the daemon's info lines would only interleave with it
    logging.getLogger(APP_LOGGER).setLevel(logging.WARNING)
    start = datetime.now(UTC).replace(microsecond=0)
    clock = ManualClock(start)
    if crm == "salesforce":
        sandbox: Any = SalesforceSandbox(SalesforceConfig(contacts=contacts, seed=seed), clock=clock)
        portal_type: Any = SalesforcePortal
        make_adapter: Any = salesforce_adapter
    else:
        sandbox, portal_type, make_adapter = (
            HubSpotSandbox(HubSpotConfig(contacts=contacts, seed=seed), clock=clock),
            HubSpotPortal,
            hubspot_adapter,
        )
    with tempfile.TemporaryDirectory(prefix="handoff-demo-") as workdir, sandbox.server() as server:
        portal = portal_type(sandbox, server.base_url, clock)
        settings = portal.settings(f"sqlite:///{Path(workdir) / 'state.sqlite'}", rules)
        adapter = make_adapter(settings, sleep=clock.advance, monotonic=clock)
        runtime = build(settings, clock=clock.datetime, adapter=adapter)
        try:
            console.rule(
                f"[bold]Handoff demo[/]: the {CRM_NAMES[crm]} sandbox, seeded with "
                f"{contacts} synthetic people (seed {seed})"
            )
            adapter.start()
            console.print(
                f"state store: {settings.handoff_state_url.get_secret_value()}, rules {runtime.ruleset.version}"
            )
            _step(console, "1. Backfill: score every lead and write the results", runtime.sync.backfill())

            clock.advance(HOUR)
            requester = _quiet_good_fit(runtime)
            portal.activity(requester, "form_submission", name="Request a demo")
            clock.advance(HOUR)
            _step(console, f"2. An hour later {requester} requests a demo: incremental sync", runtime.sync.sync_once())

            recycled = _promoted_sql(runtime, exclude=requester)
            portal.rep_sets_status(recycled, portal.recycle_status)
            clock.advance(HOUR)
            _step(
                console,
                f"3. A rep sets SQL {recycled} to '{portal.recycle_status}': incremental sync",
                runtime.sync.sync_once(),
            )

            clock.advance(6 * HOUR)
            _step(console, "4. Six hours on, the hourly decay sweep", runtime.sync.sweep())

            funnel = _print_funnel(console, portal, runtime)
            console.rule("Two leads, explained")
            for record_id in (requester, _an_mql(runtime)):
                found = runtime.sync.explain(record_id)
                if found is not None:
                    record, _, q, decision = found
                    print_explanation(console, record.crm_state.name or record_id, q, decision)
                    for task in portal.tasks(record_id):
                        console.print(
                            f"[green]task in {CRM_NAMES[crm]}[/] ({task.priority}, due "
                            f"{task.due_at:%Y-%m-%d %H:%M} UTC): {task.subject}"
                        )
                    console.print()

            planted = _planted_outcomes(runtime, contacts, seed, start)
            rng = random.Random(f"demo-sales-{seed}")
            returning = _mqls_come_back(portal, runtime, planted, rng)
            clock.advance(DAY)
            _step(
                console,
                f"5. A day on, {returning} MQLs come back and request a demo: incremental sync",
                runtime.sync.sync_once(),
            )
            work = _work_the_leads(portal, runtime, planted, rng)
            clock.advance(2 * DAY)
            _step(
                console,
                "6. Two days on, sales has worked the qualified leads: incremental sync",
                runtime.sync.sync_once(),
                f"reps: {work.touched} tasks done, {work.converted} converted, {work.rejected} rejected, "
                f"{work.recycled} recycled",
            )
            _close_deals(portal, runtime, planted, work, rng)
            clock.advance(5 * DAY)
            _step(
                console,
                "7. A week on, sales has closed the deals: incremental sync",
                runtime.sync.sync_once(),
                f"reps: {work.won} deals won, {work.lost} lost",
            )
            figures, report_path = _write_report(console, runtime, clock.datetime(), report_dir, crm)
            return DemoResult(funnel, figures, report_path)
        finally:
            runtime.close()


def _step(console: Console, title: str, report: RunReport, detail: str | None = None) -> None:
    console.rule(title, align="left")
    if detail:
        console.print(detail)
    moves = ", ".join(f"{n} to {stage}" for stage, n in sorted(report.stages.items())) or "none"
    outcomes = f", outcomes read {report.outcomes}" if report.outcomes else ""
    console.print(
        f"read {report.read}, wrote {report.written}, stage moves: {moves}, "
        f"tasks created {report.tasks_created}, dead letters {report.dead_lettered}{outcomes}"
    )


def _quiet_good_fit(runtime: Runtime) -> str:
    """A good-fit contact Handoff left as a plain lead: the one who will ask for a demo."""
    for batch in runtime.store.records.batches():
        for state in batch:
            if (
                state.memory.level is Stage.LEAD
                and state.crm_state.stage is Stage.LEAD
                and state.crm_state.owner_id
                and state.written.get("fit_grade") in ("A", "B")
                and state.written.get("status") == "lead"
            ):
                return state.record_id
    raise RuntimeError("the sandbox has no quiet good-fit lead; try another seed")


def _promoted_sql(runtime: Runtime, exclude: str) -> str:
    for batch in runtime.store.records.batches():
        for state in batch:
            if state.memory.promoted is Stage.SQL and state.record_id != exclude:
                return state.record_id
    raise RuntimeError("no SQL to recycle; try another seed")


def _an_mql(runtime: Runtime) -> str:
    for batch in runtime.store.records.batches():
        for state in batch:
            if state.memory.promoted is Stage.MQL and state.memory.level is Stage.MQL:
                return state.record_id
    return next(iter(next(runtime.store.records.batches()))).record_id


def _print_funnel(console: Console, portal: Any, runtime: Runtime) -> dict[str, int]:
    stages, qualified = portal.funnel(), portal.qualification()
    console.rule("Funnel in the CRM")
    table = Table(box=None)
    table.add_column("lifecycle stage")
    table.add_column("leads", justify="right")
    for stage in (*STAGE_ORDER, "(none)"):
        if stages.get(stage):
            table.add_row(stage, str(stages[stage]))
    console.print(table)
    mql, sql = qualified.get("mql", 0), qualified.get("sql", 0)
    # a share of today's levels, not a conversion: that needs outcomes (which MQLs later became SQLs)
    share = f"{sql / (mql + sql):.0%}" if mql + sql else "n/a"
    console.print(
        f"Handoff qualification now: {mql} MQL, {sql} SQL, {qualified.get('disqualified', 0)} "
        f"disqualified; SQL share of qualified {share}; rep tasks created {runtime.store.tasks.count('created')}"
    )
    return {**{f"stage:{k}": v for k, v in stages.items()}, **{f"handoff:{k}": v for k, v in qualified.items()}}


def _planted_outcomes(runtime: Runtime, contacts: int, seed: int, start: datetime) -> dict[str, Outcome]:
    """Each record's planted outcome: the sandbox's people again (same seed, same clock), matched by email."""
    by_email: dict[str, Outcome] = {}
    for person in generate(contacts, seed, start).people:
        email = person.lead.properties.get("email")
        if isinstance(email, str):
            by_email.setdefault(email.lower(), person.outcome)
    found: dict[str, Outcome] = {}
    for batch in runtime.store.records.batches():
        for state in batch:
            email = state.lead.properties.get("email")
            if isinstance(email, str) and email.lower() in by_email:
                found[state.record_id] = by_email[email.lower()]
    return found


def _open_episodes(runtime: Runtime) -> list[str]:
    return sorted({e.record_id for e in runtime.store.episodes.all() if not is_closed(e)})


def _mqls_come_back(portal: Any, runtime: Runtime, planted: dict[str, Outcome], rng: random.Random) -> int:
    """Open MQLs request a demo as likely as their planted outcome says they buy: the MQL->SQL step."""
    returning = 0
    for episode in runtime.store.episodes.all():
        outcome = planted.get(episode.record_id)
        if is_closed(episode) or episode.sql_at is not None or outcome is None:
            continue
        if rng.random() < outcome.probability:
            portal.activity(episode.record_id, "form_submission", name="Request a demo")
            returning += 1
    return returning


def _work_the_leads(portal: Any, runtime: Runtime, planted: dict[str, Outcome], rng: random.Random) -> SalesWork:
    """Reps act on every open qualified lead: do the task, then convert the lead as likely as its planted
    outcome says, else reject or recycle some of the rest."""
    work = SalesWork()
    for record_id in _open_episodes(runtime):
        for task in portal.tasks(record_id):
            if not task.completed:
                portal.complete_task(task.id)
                work.touched += 1
        outcome = planted.get(record_id)
        draw = rng.random()
        if outcome is not None and draw < outcome.probability:
            portal.convert(record_id, amount=outcome.amount or 12000.0)
            work.converted += 1
        elif rng.random() < REJECT_SHARE:
            portal.rep_sets_status(record_id, portal.reject_status)
            work.rejected += 1
        elif rng.random() < RECYCLE_SHARE:
            portal.rep_sets_status(record_id, portal.recycle_status)
            work.recycled += 1
    return work


def _close_deals(
    portal: Any, runtime: Runtime, planted: dict[str, Outcome], work: SalesWork, rng: random.Random
) -> None:
    """Close every open deal, won as likely as the person's planted win probability."""
    for record_id in _open_episodes(runtime):
        for deal in portal.deals(record_id):
            if deal.closed:
                continue
            outcome = planted.get(record_id)
            won = outcome is not None and rng.random() < outcome.win_probability
            portal.close_deal(deal.id, won=won)
            if won:
                work.won += 1
            else:
                work.lost += 1


def _write_report(
    console: Console, runtime: Runtime, now: datetime, report_dir: Path, crm: str
) -> tuple[ReportFigures, Path]:
    figures = build_figures(store_input(runtime.store), now, ReportOptions())
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"handoff-demo-{crm}-{now:%Y%m%dT%H%M%SZ}.html"
    path.write_text(render_html(figures), encoding="utf-8")
    funnel, conversion = figures.funnel, figures.conversion
    console.rule("The funnel report of this run")
    console.print(
        f"{figures.episodes} qualification episodes from {funnel.leads} leads: {funnel.mql} MQL, {funnel.sql} SQL, "
        f"{funnel.opportunity} opportunities, {funnel.won} won"
    )
    console.print(
        f"MQL->SQL {_share(conversion.mql_to_sql)}, SQL->opportunity {_share(conversion.sql_to_opportunity)}, "
        f"opportunity->won {_share(conversion.opportunity_to_won)}; report written to {path}"
    )
    return figures, path


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"
