"""``handoff demo``: the whole product against a built-in CRM sandbox, in seconds.

The sandbox runs in-process on a simulated clock that Handoff shares, so an
"hour later" between cycles takes no time and rate limits are honoured
without waiting. Everything else is the production path: the real SDK over
HTTP, the rules file, the SQLite state store, the same sync code.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from connector.cli.explain import print_explanation
from connector.cli.runtime import Runtime, build, hubspot_adapter, salesforce_adapter
from connector.model import Stage
from connector.ops.logs import APP_LOGGER
from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.portals import HubSpotPortal, SalesforcePortal
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sync.cycle import RunReport

HOUR = 3600.0
CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
STAGE_ORDER = ("subscriber", "lead", "mql", "sql", "opportunity", "customer", "evangelist", "other")


def run_demo(
    rules: Path, crm: str = "hubspot", contacts: int = 400, seed: int = 7, console: Console | None = None
) -> dict[str, int]:
    """Run the demo against the chosen CRM's sandbox and print it; returns the funnel counts (for tests)."""
    console = console or Console()
    # the demo narrates; the daemon's info lines would only interleave with it
    logging.getLogger(APP_LOGGER).setLevel(logging.WARNING)
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
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
            return funnel
        finally:
            runtime.close()


def _step(console: Console, title: str, report: RunReport) -> None:
    console.rule(title, align="left")
    moves = ", ".join(f"{n} to {stage}" for stage, n in sorted(report.stages.items())) or "none"
    console.print(
        f"read {report.read}, wrote {report.written}, stage moves: {moves}, "
        f"tasks created {report.tasks_created}, dead letters {report.dead_lettered}"
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
