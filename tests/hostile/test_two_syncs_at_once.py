"""Two `handoff sync --once` started together on one state store and one CRM: every task exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

from builders import DEFAULT_RULES
from crowd import environment, expected_tasks, handoff, portal_with_demo_requests, prepare, sql_task, summary

from connector.cli.runtime import build, hubspot_adapter
from connector.sandbox.portals import HubSpotPortal
from connector.state import Store
from connector.sync.report import RunReport

SETTLE = timedelta(minutes=2)


def test_two_syncs_started_together_create_each_task_once(state_url, tmp_path):
    with portal_with_demo_requests(100) as (portal, leads):
        prepare(portal, state_url)
        # a little CRM latency keeps both runs inside the same pages at the same time
        portal.set_faults(latency_ms=20)
        env = environment(portal, state_url, tmp_path)
        runs = [summary(p) for p in [handoff("sync", "--once", "--json", env=env) for _ in range(2)]]
        keys = portal.task_keys()
    assert sorted(k for k, n in keys.items() if n > 1) == []
    assert set(keys) == expected_tasks(leads)
    assert sum(r["tasks_created"] for r in runs) == 100


def test_two_processes_reconciling_the_same_open_intents_at_once_create_each_task_once(hubspot_sandbox, state_url):
    clock = hubspot_sandbox.clock
    portal = HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, clock)
    leads = [portal.seed(email=f"buyer{n}@acme.io") for n in range(50)]
    settings = portal.settings(state_url, DEFAULT_RULES)
    # a run that died after claiming these tasks and before creating them, long enough ago
    crashed = Store(state_url, "hubspot", clock.datetime)
    crashed.tasks.claim([sql_task(lead, portal.owner(), clock.datetime()) for lead in leads])
    crashed.close()
    clock.advance(SETTLE.total_seconds())
    runtimes = []
    for _ in range(2):
        adapter = hubspot_adapter(settings, sleep=clock.advance, monotonic=clock)
        runtimes.append(build(settings, clock=clock.datetime, adapter=adapter))
        adapter.start()
    portal.set_faults(latency_ms=20)  # both searches are under way before either creates
    together = threading.Barrier(2)
    reports = [RunReport("sync", dry_run=False) for _ in runtimes]

    def reconcile(i: int) -> None:
        together.wait()
        runtimes[i].sync.writer.reconcile_tasks(reports[i])

    threads = [threading.Thread(target=reconcile, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for runtime in runtimes:
        runtime.close()
    assert portal.task_keys() == dict.fromkeys(expected_tasks(leads), 1)
    assert sorted(r.tasks_created for r in reports) == [0, 50]
