"""A HubSpot sandbox full of demo requests and `handoff` processes pointed at it, for the hostile tests.

The sandbox runs in the test process on the system clock (the processes read real time); every
wait is on a process ending or on a log line it writes, bounded by ``DEADLINE``.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from builders import DEFAULT_RULES, REPO

from connector.cli.runtime import build, hubspot_adapter
from connector.model import Priority, Stage, TaskSpec
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


def sql_task(lead: str, owner: str, now: datetime) -> TaskSpec:
    """The task Handoff plans for a lead that just became an SQL (as a crashed run would have claimed it)."""
    return TaskSpec(
        key=f"handoff:{lead}:sql:0",
        record_id=lead,
        stage=Stage.SQL,
        owner_id=owner,
        subject="Sales-qualified: Ana Ruiz (Acme)",
        body="Requested a demo",
        due_at=now + timedelta(hours=1),
        priority=Priority.HIGH,
    )


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


class Logs:
    """The JSON log lines of several processes, as they come, each with the name of its process."""

    def __init__(self, processes: dict[str, subprocess.Popen[str]]):
        self._lines: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.seen: list[tuple[str, dict[str, Any]]] = []
        for name, process in processes.items():
            threading.Thread(target=self._read, args=(name, process.stderr), daemon=True).start()

    def _read(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            try:
                self._lines.put((name, json.loads(line)))
            except ValueError:
                continue

    def wait_for(
        self, event: str, source: str | None = None, where: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> tuple[str, dict[str, Any]]:
        """The next line logging ``event`` (from ``source`` if given) that matches ``where``."""
        give_up = time.monotonic() + DEADLINE
        while True:
            try:
                name, entry = self._lines.get(timeout=max(0.0, give_up - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {event!r} logged within {DEADLINE} s") from None
            self.seen.append((name, entry))
            if entry.get("event") == event and source in (None, name) and where(entry):
                return name, entry
