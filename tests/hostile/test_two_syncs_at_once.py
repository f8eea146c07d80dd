"""Two `handoff sync --once` started together on one state store and one CRM: every task exactly once."""

from __future__ import annotations

from crowd import environment, expected_tasks, handoff, portal_with_demo_requests, prepare, summary


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
