"""A HubSpot sandbox full of demo requests and `handoff` processes pointed at it, for the hostile tests.

The sandbox runs in the test process on the system clock (the processes read real time); every
wait is on a process ending or on a log line it writes, bounded by ``DEADLINE``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from builders import DEFAULT_RULES, REPO

from connector.cli.runtime import build, hubspot_adapter
from connector.sandbox.clock import system_clock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.portals import HubSpotPortal

DEADLINE = 180  # seconds; only reached when a test is about to fail


@contextmanager
def portal_with_demo_requests(people: int) -> Iterator[tuple[HubSpotPortal, list[str]]]:
    """A running sandbox where ``people`` good-fit contacts have each just requested a demo."""
    app = HubSpotSandbox(HubSpotConfig(contacts=0, seed=1, rate_per_10s=0, search_rate_per_s=0))
    with app.server() as server:
        portal = HubSpotPortal(app, server.base_url, system_clock)
        leads = [portal.seed(email=f"buyer{n}@acme.io") for n in range(people)]
        now = datetime.now(UTC).isoformat()
        app.add_activities(
            {"contactId": lead, "type": "form_submission", "name": "Request a demo", "at": now} for lead in leads
        )
        yield portal, leads


def expected_tasks(leads: list[str]) -> set[str]:
    """One SQL task per demo request, by its idempotency key."""
    return {f"handoff:{lead}:sql:0" for lead in leads}


def prepare(portal: HubSpotPortal, state_url: str) -> None:
    """What an admin's first start does once: the state schema and Handoff's CRM properties."""
    settings = portal.settings(state_url, DEFAULT_RULES)
    runtime = build(settings, adapter=hubspot_adapter(settings))
    runtime.adapter.start()
    runtime.close()


def environment(portal: HubSpotPortal, state_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **portal.env(),
        "HANDOFF_STATE_URL": state_url,
        "HANDOFF_RULES": str(DEFAULT_RULES),
        "HANDOFF_LOG_FORMAT": "json",
        "HANDOFF_REPORT_DIR": str(tmp_path),
        "HANDOFF_SAFETY_LAG_SECONDS": "0",
        **extra,
    }


def handoff(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``handoff ARGS`` as its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "connector", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def summary(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Wait for a ``--json`` command to end and return its run summary."""
    out, err = process.communicate(timeout=DEADLINE)
    assert process.returncode == 0, err[-2000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def next_event(stream: IO[str], *events: str) -> dict[str, Any]:
    """Read JSON log lines until one whose event is among ``events`` (the process ending first fails)."""
    for line in stream:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") in events:
            return dict(entry)
    raise AssertionError(f"the process ended before logging any of {events}")
