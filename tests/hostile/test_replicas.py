"""Two `handoff run` replicas on one state store and one CRM: one syncs, one stands by, and when the
active one is killed in the middle of creating tasks the other takes over: every task exactly once."""

from __future__ import annotations

import os
import signal
import threading

import httpx
import pytest
from crowd import DEADLINE, Logs, environment, expected_tasks, handoff, portal_with_demo_requests, prepare

TASK_CREATE = "POST /crm/v3/objects/tasks/batch/create"


class KillDuringTaskCreation:
    """Kills the active replica right after the CRM created its n-th batch of tasks, before it hears back.

    The n-th batch's reply waits until ``aim`` names the process to kill."""

    def __init__(self, app, batch: int):
        self.batch = batch
        self.creates = 0
        self.target: int | None = None
        self.target_known = threading.Event()
        self.killed = threading.Event()
        serve = app.serve

        def serve_then_kill(request, handler):
            response = serve(request, handler)
            if request.label == TASK_CREATE and not self.killed.is_set():
                self.creates += 1
                if self.creates == self.batch:
                    assert self.target_known.wait(DEADLINE)
                    os.kill(self.target, signal.SIGKILL)
                    self.killed.set()
            return response

        app.serve = serve_then_kill

    def aim(self, pid: int) -> None:
        self.target = pid
        self.target_known.set()


def readyz(logs: Logs, name: str) -> dict:
    port = next(entry["port"] for source, entry in logs.seen if source == name and entry["event"] == "daemon started")
    return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).json()


@pytest.mark.timeout(DEADLINE * 2)
def test_a_standby_replica_takes_over_from_an_active_one_killed_mid_run_without_a_duplicate_or_a_loss(
    state_url, tmp_path
):
    with portal_with_demo_requests(500) as (portal, leads):
        prepare(portal, state_url)
        kill = KillDuringTaskCreation(portal.app, batch=2)
        env = environment(
            portal,
            state_url,
            tmp_path,
            HANDOFF_HTTP_PORT="0",
            HANDOFF_SYNC_INTERVAL="1",
            # the killed replica's unanswered creates are looked for and redone at once by the survivor
            HANDOFF_TASK_SETTLE_SECONDS="0",
            # the survivor looks for each of them with a search; the sandbox has no other client to share with
            HANDOFF_API_BUDGET="1",
        )
        replicas = {name: handoff("run", env=env) for name in ("one", "two")}
        try:
            logs = Logs(replicas)
            active, _ = logs.wait_for("replica active")
            standby = next(name for name in replicas if name != active)
            logs.wait_for("replica standby", source=standby)
            assert readyz(logs, standby) == {"status": "ready", "role": "standby"}
            # armed only now: the active replica's second batch waits here, so the kill cannot come
            # before the other replica has started up and found the lease taken
            kill.aim(replicas[active].pid)

            assert kill.killed.wait(DEADLINE)
            assert replicas[active].wait(DEADLINE) == -signal.SIGKILL
            logs.wait_for("replica active", source=standby)
            logs.wait_for("sync ok", source=standby, where=lambda e: e["report"]["tasks_waiting"] == 0)
            assert readyz(logs, standby) == {"status": "ready", "role": "active"}
            replicas[standby].send_signal(signal.SIGTERM)
            assert replicas[standby].wait(DEADLINE) == 0
        finally:
            for process in replicas.values():
                if process.poll() is None:
                    process.kill()
                    process.wait(DEADLINE)
        keys = portal.task_keys()
    assert sorted(k for k, n in keys.items() if n > 1) == []
    assert set(keys) == expected_tasks(leads)
    runs = [source for source, entry in logs.seen if entry["event"] == "sync ok"]
    assert runs.count(active) == 0  # it was killed in its first run: the survivor finished its work
