"""What the SLA follow-up costs a cycle in the state store when nothing is due.

    .venv/bin/python scripts/bench_followup.py [--episodes 10000] [--touched 0.9] [--rounds 5]

A SQLite state store in a temporary directory gets ``--episodes`` SQL episodes qualified evenly over
the follow-up's 14-day horizon, each with its created task due an hour later; ``--touched`` of them
have a sales touch, and every untouched one already past its escalation time (one business hour
after due) is escalated, as earlier cycles would have done. So nothing is due, and the follow-up
reads the store and asks the CRM nothing (any CRM call fails the bench): it asks only about tasks
past their escalation time, one batch read per 100 on HubSpot, one query per 200 on Salesforce.
Printed: milliseconds per follow-up, median of ``--rounds``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.config.ruleset import Ruleset, load_rules
from connector.model import Priority, Stage, TaskSpec
from connector.outcomes.episode import Episode
from connector.policy.escalation import Escalation, escalation_time
from connector.policy.lifecycle import task_key
from connector.state import Store
from connector.sync.followup import HORIZON, SlaFollowUp
from connector.sync.report import RunReport
from connector.sync.writer import SyncOptions

RULES = """\
lifecycle:
  sla:
    sql: {due: 1bh, escalate: {after: 1bh, reassign_to: next}}
"""
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


class _NoCrm:
    """The follow-up must not reach the CRM while nothing is due: any call fails the bench."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the follow-up called the CRM ({name}) with nothing due")


def _fill(store: Store, ruleset: Ruleset, count: int, touched: float) -> None:
    sla = ruleset.policy.sla["sql"]
    assert sla.escalate is not None
    episodes, specs, escalated = [], [], []
    for i in range(count):
        record = str(100_000 + i)
        qualified = NOW - HORIZON * (i + 1) / (count + 1)
        due = qualified + timedelta(hours=1)
        spec = TaskSpec(task_key(record, Stage.SQL, 0), record, Stage.SQL, "77", "Call", "Why", due, Priority.HIGH)
        specs.append(spec)
        episode = Episode(record_id=record, number=1, sql_at=qualified, task_key=spec.key, task_due_at=due)
        if i % 100 < touched * 100:
            episode = replace(episode, first_touch_at=due)
        elif escalation_time(due, sla.escalate, ruleset.policy.business_hours) <= NOW:
            escalated.append(_escalated(episode, spec))
        episodes.append(episode)
    store.episodes.upsert(episodes)
    store.tasks.claim(specs)
    for spec in specs:
        store.tasks.created(spec.key, f"task-{spec.record_id}")
    store.escalations.claim(escalated)


def _escalated(episode: Episode, spec: TaskSpec) -> Escalation:
    return Escalation(
        record_id=episode.record_id,
        episode=episode,
        task_key=spec.key,
        crm_task_id=f"task-{spec.record_id}",
        stage=Stage.SQL,
        previous_owner="77",
        owner_id="77",
        priority=None,
        actions=("alert",),
        due_at=spec.due_at,
        overdue_seconds=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--touched", type=float, default=0.9, help="share of episodes with a sales touch")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ruleset: Ruleset = load_rules(Path("bench.yaml"), text=RULES)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/state.sqlite", "hubspot", lambda: NOW)
        _fill(store, ruleset, args.episodes, args.touched)
        # a stand-in that fails on any CRM call (mypy does not check scripts)
        follow_up = SlaFollowUp(_NoCrm(), store, ruleset.policy, SyncOptions(), lambda: NOW)
        times = []
        for _ in range(args.rounds):
            report = RunReport("sync", False)
            started = time.perf_counter()
            follow_up.run(report)
            times.append((time.perf_counter() - started) * 1000)
            assert report.escalations == []
        store.close()
    print(
        f"open episodes: {args.episodes} ({args.touched:.0%} touched); "
        f"follow-up with nothing due: {statistics.median(times):.1f} ms (median)"
    )


if __name__ == "__main__":
    main()
