"""``handoff demo``: the whole product against the built-in HubSpot sandbox, in under a minute.

The sandbox runs in-process on a simulated clock that Handoff shares, so an
"hour later" between cycles takes no time and rate limits are honoured
without waiting. Everything else is the production path: the real SDK over
HTTP, the rules file, the SQLite state store, the same sync code.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from connector.logs import APP_LOGGER
from connector.model import Stage
from connector.report import print_explanation
from connector.runtime import Runtime, build, hubspot_adapter
from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.settings import Settings
from connector.sync import RunReport

HOUR = 3600.0
STAGE_ORDER = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
               "evangelist", "other")


def run_demo(rules: Path, contacts: int = 400, seed: int = 7, console: Console | None = None) -> dict[str, int]:
    """Run the demo and print it; returns the funnel counts (for tests)."""
    console = console or Console()
    # the demo narrates; the daemon's info lines would only interleave with it
    logging.getLogger(APP_LOGGER).setLevel(logging.WARNING)
    clock = ManualClock(datetime.now(timezone.utc).replace(microsecond=0))
    sandbox = HubSpotSandbox(HubSpotConfig(contacts=contacts, seed=seed), clock=clock)
    with tempfile.TemporaryDirectory(prefix="handoff-demo-") as workdir, sandbox.server() as server:
        settings = Settings(
            hubspot_access_token=sandbox.config.token, hubspot_api_base=server.base_url,
            handoff_state_url=f"sqlite:///{Path(workdir) / 'state.sqlite'}", handoff_rules=rules,
            handoff_task_settle_seconds=0,
        )
        adapter = hubspot_adapter(settings, sleep=clock.advance, monotonic=clock)
        runtime = build(settings, clock=clock.datetime, adapter=adapter)
        try:
            console.rule("[bold]Handoff demo[/]: the HubSpot sandbox, seeded with "
                         f"{contacts} synthetic contacts (seed {seed})")
            adapter.start()
            console.print(f"state store: {settings.handoff_state_url.get_secret_value()}, "
                          f"rules {runtime.ruleset.version}")
            _step(console, "1. Backfill: score every contact and write the results", runtime.sync.backfill())

            clock.advance(HOUR)
            requester = _quiet_good_fit(runtime)
            sandbox.add_activities([{"contactId": requester, "type": "form_submission", "name": "Request a demo",
                                     "at": clock.datetime().isoformat()}])
            clock.advance(HOUR)
            _step(console, f"2. An hour later contact {requester} requests a demo: incremental sync",
                  runtime.sync.sync_once())

            recycled = _promoted_sql(runtime, exclude=requester)
            sandbox.touch(recycled, {"hs_lead_status": "BAD_TIMING"})
            clock.advance(HOUR)
            _step(console, f"3. A rep marks SQL contact {recycled} 'bad timing': incremental sync",
                  runtime.sync.sync_once())

            clock.advance(6 * HOUR)
            _step(console, "4. Six hours on, the hourly decay sweep", runtime.sync.sweep())

            funnel = _funnel(sandbox)
            _print_funnel(console, funnel, runtime)
            console.rule("Two leads, explained")
            for record_id in (requester, _an_mql(runtime)):
                found = runtime.sync.explain(record_id)
                if found is not None:
                    record, _, q, decision = found
                    print_explanation(console, record.crm_state.name or record_id, q, decision)
                    tasks = [t for t in sandbox.dump()["tasks"] if record_id in t["associations"].get("contacts", [])]
                    for task in tasks:
                        props = task["properties"]
                        console.print(f"[green]task in HubSpot[/] ({props.get('hs_task_priority')}, due "
                                      f"{props.get('hs_timestamp')}): {props.get('hs_task_subject')}")
                    console.print()
            return funnel
        finally:
            runtime.close()


def _step(console: Console, title: str, report: RunReport) -> None:
    console.rule(title, align="left")
    moves = ", ".join(f"{n} to {stage}" for stage, n in sorted(report.stages.items())) or "none"
    console.print(f"read {report.read}, wrote {report.written}, stage moves: {moves}, "
                  f"tasks created {report.tasks_created}, dead letters {report.dead_lettered}")


def _quiet_good_fit(runtime: Runtime) -> str:
    """A good-fit contact Handoff left as a plain lead: the one who will ask for a demo."""
    for batch in runtime.store.iter_records():
        for state in batch:
            if state.memory.level is Stage.LEAD and state.crm_state.stage is Stage.LEAD and state.crm_state.owner_id \
                    and state.written.get("fit_grade") in ("A", "B") and state.written.get("status") == "lead":
                return state.record_id
    raise RuntimeError("the sandbox has no quiet good-fit lead; try another seed")


def _promoted_sql(runtime: Runtime, exclude: str) -> str:
    for batch in runtime.store.iter_records():
        for state in batch:
            if state.memory.promoted is Stage.SQL and state.record_id != exclude:
                return state.record_id
    raise RuntimeError("no SQL to recycle; try another seed")


def _an_mql(runtime: Runtime) -> str:
    for batch in runtime.store.iter_records():
        for state in batch:
            if state.memory.promoted is Stage.MQL and state.memory.level is Stage.MQL:
                return state.record_id
    return next(iter(next(runtime.store.iter_records()))).record_id


def _funnel(sandbox: HubSpotSandbox) -> dict[str, int]:
    contacts = sandbox.dump()["contacts"]
    stages = Counter(c["properties"].get("lifecyclestage") or "(none)" for c in contacts)
    qualified = Counter(c["properties"].get("handoff_status") for c in contacts)
    return {**{f"stage:{k}": v for k, v in stages.items()}, **{f"handoff:{k}": v for k, v in qualified.items() if k}}


def _print_funnel(console: Console, funnel: dict[str, int], runtime: Runtime) -> None:
    console.rule("Funnel in HubSpot")
    table = Table(box=None)
    table.add_column("lifecycle stage")
    table.add_column("contacts", justify="right")
    for stage in (*STAGE_ORDER, "(none)"):
        if funnel.get(f"stage:{stage}"):
            table.add_row(stage, str(funnel[f"stage:{stage}"]))
    console.print(table)
    mql, sql = funnel.get("handoff:mql", 0), funnel.get("handoff:sql", 0)
    rate = f"{sql / (mql + sql):.0%}" if mql + sql else "n/a"
    console.print(f"Handoff qualification now: {mql} MQL, {sql} SQL, "
                  f"{funnel.get('handoff:disqualified', 0)} disqualified; MQL->SQL conversion {rate}; "
                  f"rep tasks created {runtime.store.count_tasks('created')}")
