"""Nothing lost, nothing twice: fault storms and a backfill killed with SIGKILL at random points."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from builders import DEFAULT_RULES, REPO
from connector.crm.errors import Retryable
from connector.runtime import build, hubspot_adapter
from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.settings import Settings

START = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
REF = re.compile(r"Handoff ref: (\S+)")


def outcome(app: HubSpotSandbox) -> tuple[dict[str, tuple[Any, ...]], Counter[str]]:
    """What reps see: stage, qualification and grade per contact, and every task by its ref."""
    dump = app.dump()
    contacts = {c["id"]: (c["properties"].get("lifecyclestage"), c["properties"].get("handoff_status"),
                          c["properties"].get("handoff_fit_grade")) for c in dump["contacts"]}
    refs = Counter(m.group(1) for t in dump["tasks"] if (m := REF.search(t["properties"].get("hs_task_body") or "")))
    return contacts, refs


def in_process(app: HubSpotSandbox, server: Any, clock: ManualClock, tmp_path: Path, name: str):
    settings = Settings(hubspot_access_token=app.config.token, hubspot_api_base=server.base_url,
                        handoff_state_url=f"sqlite:///{tmp_path / name}", handoff_rules=DEFAULT_RULES,
                        handoff_task_settle_seconds=0)
    adapter = hubspot_adapter(settings, sleep=clock.advance, monotonic=clock)
    runtime = build(settings, clock=clock.datetime, adapter=adapter)
    adapter.start()
    return runtime


def set_faults(base_url: str, faults: dict[str, Any]) -> None:
    request = urllib.request.Request(f"{base_url}/_sandbox/faults", data=json.dumps(faults).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200


def portal(clock: Any, contacts: int = 120, seed: int = 5) -> HubSpotSandbox:
    return HubSpotSandbox(HubSpotConfig(contacts=contacts, seed=seed, rate_per_10s=0, search_rate_per_s=0), clock=clock)


@pytest.mark.parametrize("faults", [
    {"error_rate": 0.3, "status": 429},
    {"error_rate": 0.3, "status": 503},
    {"reset_rate": 0.25},
    {"error_rate": 0.2, "status": 502, "reset_rate": 0.1},
], ids=["429-storm", "503-storm", "dropped-connections", "mixed"])
def test_a_fault_storm_ends_with_every_record_written_or_dead_lettered(tmp_path, faults):
    clean_clock, stormy_clock = ManualClock(START), ManualClock(START)
    clean_app, stormy_app = portal(clean_clock), portal(stormy_clock)
    with clean_app.server() as clean_server, stormy_app.server() as stormy_server:
        clean = in_process(clean_app, clean_server, clean_clock, tmp_path, "clean.sqlite")
        clean_clock.advance(60)
        clean.sync.sync_once()
        stormy = in_process(stormy_app, stormy_server, stormy_clock, tmp_path, "stormy.sqlite")
        set_faults(stormy_server.base_url, faults)
        completed = failed_cycles = 0
        while completed < 2 and failed_cycles < 20:
            stormy_clock.advance(60)
            try:
                stormy.sync.sync_once()
                completed += 1
            except Retryable:
                failed_cycles += 1  # the daemon would simply try again next interval
        set_faults(stormy_server.base_url, {})
        stormy_clock.advance(60)
        stormy.sync.sync_once()
        assert stormy_app.stats.snapshot()["by_status"].get(str(faults.get("status", 200)), 0) > 0 or "reset_rate" in faults
        dead = {d.record_id for d in stormy.store.dead_letters()}
        clean_contacts, clean_refs = outcome(clean_app)
        stormy_contacts, stormy_refs = outcome(stormy_app)
        for contact_id, expected in clean_contacts.items():
            assert stormy_contacts[contact_id] == expected or contact_id in dead, contact_id
        assert set(stormy_refs) | {r for r in clean_refs if r.split(":")[1] in dead} >= set(clean_refs)
        assert max(stormy_refs.values(), default=1) == 1, "a task was created twice"
        clean.close()
        stormy.close()


def test_a_backfill_killed_at_random_points_ends_like_an_uninterrupted_run(tmp_path):
    reference_clock = ManualClock(datetime.now(timezone.utc))
    reference_app = portal(reference_clock, contacts=300, seed=11)
    with reference_app.server() as server:
        runtime = in_process(reference_app, server, reference_clock, tmp_path, "reference.sqlite")
        runtime.sync.backfill()
        runtime.close()
    expected_contacts, expected_refs = outcome(reference_app)
    assert sum(expected_refs.values()) > 5  # the run creates tasks worth protecting

    app = HubSpotSandbox(HubSpotConfig(contacts=300, seed=11, rate_per_10s=0, search_rate_per_s=0))
    rng = random.Random(2026)
    state = {"count": 0, "kill_at": None, "process": None}
    serve = app.serve

    def serve_then_maybe_kill(request, handler):
        response = serve(request, handler)
        state["count"] += 1
        if state["kill_at"] is not None and state["count"] >= state["kill_at"] and state["process"] is not None:
            # the CRM has done what was asked (a write too); the client dies before it hears the answer
            state.setdefault("killed_on", []).append(request.label)
            os.kill(state["process"].pid, signal.SIGKILL)
            state["kill_at"] = None
        return response

    app.serve = serve_then_maybe_kill
    with app.server() as server:
        env = {**os.environ, "HUBSPOT_ACCESS_TOKEN": app.config.token, "HUBSPOT_API_BASE": server.base_url,
               "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'killed.sqlite'}", "HANDOFF_RULES": str(DEFAULT_RULES),
               "HANDOFF_TASK_SETTLE_SECONDS": "0", "HANDOFF_LOG_FORMAT": "json", "HANDOFF_REPORT_DIR": str(tmp_path)}
        kills = 0
        for attempt in range(8):
            state["kill_at"] = state["count"] + rng.randint(3, 30) if attempt < 3 else None
            process = subprocess.Popen([sys.executable, "-m", "connector", "backfill", "--json"], env=env, cwd=REPO,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            state["process"] = process
            out, err = process.communicate(timeout=120)
            if process.returncode == -signal.SIGKILL:
                kills += 1
                continue
            assert process.returncode == 0, err[-2000:]
            break
        assert kills == 3
    # the seeded kill points include the worst one: a write the CRM applied but the client never heard of
    assert {"POST /crm/v3/objects/tasks/batch/create", "POST /crm/v3/objects/contacts/batch/update"} & set(state["killed_on"])
    contacts, refs = outcome(app)
    assert max(refs.values()) == 1, f"duplicate tasks: {[r for r, n in refs.items() if n > 1]}"
    assert set(refs) == set(expected_refs)
    assert contacts == expected_contacts
