"""Nothing lost, nothing twice, on either CRM: fault storms, and a backfill killed with SIGKILL at random points."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from builders import DEFAULT_RULES, REPO
from deployments import deploy

from connector.cli.runtime import Runtime
from connector.crm.errors import CrmUnavailable, Retryable
from connector.sandbox.clock import ManualClock, system_clock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.portals import HubSpotPortal, SalesforcePortal
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WRITES = {
    "POST /crm/v3/objects/tasks/batch/create",
    "POST /crm/v3/objects/contacts/batch/update",
    "PATCH /services/data/{version}/composite/sobjects",
    "PATCH /services/data/{version}/composite/sobjects/{sobject}/{field}",
}


def hubspot(clock: Any, people: int, seed: int) -> HubSpotSandbox:
    return HubSpotSandbox(HubSpotConfig(contacts=people, seed=seed, rate_per_10s=0, search_rate_per_s=0), clock=clock)


def salesforce(clock: Any, people: int, seed: int) -> SalesforceSandbox:
    return SalesforceSandbox(SalesforceConfig(contacts=people, seed=seed), clock=clock)


CRMS: dict[str, tuple[Callable[..., Any], Any]] = {
    "hubspot": (hubspot, HubSpotPortal),
    "salesforce": (salesforce, SalesforcePortal),
}


def in_process(crm: str, app: Any, base_url: str, clock: ManualClock, state: Path) -> tuple[Any, Runtime]:
    portal = CRMS[crm][1](app, base_url, clock)
    return portal, deploy(portal, state)


@pytest.mark.parametrize("crm", sorted(CRMS))
@pytest.mark.parametrize(
    "faults",
    [
        {"error_rate": 0.3, "status": 429},
        {"error_rate": 0.3, "status": 503},
        {"reset_rate": 0.25},
        {"error_rate": 0.2, "status": 502, "reset_rate": 0.1},
    ],
    ids=["429-storm", "503-storm", "dropped-connections", "mixed"],
)
def test_a_fault_storm_ends_with_every_record_written_or_dead_lettered(tmp_path, crm, faults):
    make = CRMS[crm][0]
    clean_clock, stormy_clock = ManualClock(START), ManualClock(START)
    clean_app, stormy_app = make(clean_clock, 120, 5), make(stormy_clock, 120, 5)
    with clean_app.server() as clean_server, stormy_app.server() as stormy_server:
        clean_portal, clean = in_process(crm, clean_app, clean_server.base_url, clean_clock, tmp_path / "clean.sqlite")
        clean_clock.advance(60)
        clean.sync.sync_once()
        stormy_portal, stormy = in_process(
            crm, stormy_app, stormy_server.base_url, stormy_clock, tmp_path / "stormy.sqlite"
        )
        stormy_portal.set_faults(**faults)
        completed = failed_cycles = 0
        while completed < 2 and failed_cycles < 20:
            stormy_clock.advance(60)
            try:
                stormy.sync.sync_once()
                completed += 1
            except (Retryable, CrmUnavailable):
                failed_cycles += 1  # the daemon would simply try again next interval
        stormy_portal.set_faults()
        stormy_clock.advance(60)
        stormy.sync.sync_once()
        snapshot = stormy_app.stats.snapshot()
        assert snapshot["by_status"].get(str(faults.get("status")), 0) > 0 or snapshot.get("dropped", 1) > 0
        dead = {d.record_id for d in stormy.store.dead_letters.all()}
        clean_outcome, clean_keys = clean_portal.outcome(), clean_portal.task_keys()
        stormy_outcome, stormy_keys = stormy_portal.outcome(), stormy_portal.task_keys()
        for record_id, expected in clean_outcome.items():
            assert stormy_outcome[record_id] == expected or record_id in dead, record_id
        assert set(stormy_keys) | {k for k in clean_keys if k.split(":")[1] in dead} >= set(clean_keys)
        assert max(stormy_keys.values(), default=1) == 1, "a task was created twice"
        clean.close()
        stormy.close()


@pytest.mark.parametrize("crm", sorted(CRMS))
def test_a_backfill_killed_at_random_points_ends_like_an_uninterrupted_run(tmp_path, crm):
    make = CRMS[crm][0]
    reference_clock = ManualClock(datetime.now(UTC))
    reference_app = make(reference_clock, 300, 11)
    with reference_app.server() as server:
        reference, runtime = in_process(
            crm, reference_app, server.base_url, reference_clock, tmp_path / "reference.sqlite"
        )
        runtime.sync.backfill()
        runtime.close()
        expected_outcome, expected_keys = reference.outcome(), reference.task_keys()
        calls_per_run = reference_app.stats.snapshot()["total"]
    assert sum(expected_keys.values()) > 5  # the run creates tasks worth protecting

    app = make(system_clock, 300, 11)
    rng = random.Random(2026)
    state: dict[str, Any] = {"count": 0, "kill_at": None, "kill_on_write": False, "process": None, "killed_on": []}
    serve = app.serve

    def serve_then_maybe_kill(request, handler):
        response = serve(request, handler)
        state["count"] += 1
        due = state["kill_at"] is not None and state["count"] >= state["kill_at"]
        if (due or (state["kill_on_write"] and request.label in WRITES)) and state["process"] is not None:
            # the CRM has done what was asked (a write too); the client dies before it hears the answer
            state["killed_on"].append(request.label)
            os.kill(state["process"].pid, signal.SIGKILL)
            state["kill_at"], state["kill_on_write"] = None, False
        return response

    app.serve = serve_then_maybe_kill
    with app.server() as server:
        portal = CRMS[crm][1](app, server.base_url, system_clock)
        env = {
            **os.environ,
            **portal.env(),
            "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'killed.sqlite'}",
            "HANDOFF_RULES": str(DEFAULT_RULES),
            "HANDOFF_TASK_SETTLE_SECONDS": "0",
            "HANDOFF_LOG_FORMAT": "json",
            "HANDOFF_REPORT_DIR": str(tmp_path),
        }
        kills = 0
        for attempt in range(8):
            # random points inside what a run does (start-up, reads, writes), and once the worst one:
            # right after the CRM applied a write the client will never hear about
            state["kill_on_write"] = attempt == 1
            state["kill_at"] = state["count"] + rng.randint(2, calls_per_run // 2) if attempt in (0, 2) else None
            process = subprocess.Popen(
                [sys.executable, "-m", "connector", "backfill", "--json"],
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            state["process"] = process
            _, err = process.communicate(timeout=120)
            if process.returncode == -signal.SIGKILL:
                kills += 1
                continue
            assert process.returncode == 0, err[-2000:]
            break
        assert kills == 3
        assert state["killed_on"][1] in WRITES, state["killed_on"]
        keys = portal.task_keys()
        assert max(keys.values()) == 1, f"duplicate tasks: {[k for k, n in keys.items() if n > 1]}"
        assert set(keys) == set(expected_keys)
        assert portal.outcome() == expected_outcome
