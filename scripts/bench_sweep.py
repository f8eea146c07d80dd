#!/usr/bin/env python3
"""How fast the decay sweep goes over stored leads, and whether its memory stays flat.

    .venv/bin/python scripts/bench_sweep.py [--leads 100000] [--seed 1] [--state sqlite:///path] [--rules-changed]

Fills a state store (a temporary SQLite file unless ``--state`` names one) with ``--leads``
synthetic leads (properties, 3-15 activities over the last year) and sweeps them once so what
was written is in place, as syncs leave it, in a child process so its memory does not count;
then times, a day later, ``handoff sweep``'s path (``Sync.sweep`` with the real writer) against a CRM stand-in
that accepts every write and task, and prints the leads it re-scored (those due: their result
could have changed since), the writes it made (decay crossing the score step), leads per second
and per CPU second over every stored lead, and the sweep's peak RSS. ``--rules-changed`` times
the sweep after a change of rules instead, which re-scores every lead. The target: 1,000,000
leads in under 2 minutes with memory independent of the number of leads (compare the peak RSS
at two sizes).
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connector.config.ruleset import load_rules
from connector.crm.base import Cursors, Delta, Pulled, PulledPage, TaskOutcome, WriteOutcome
from connector.model import Activity, CrmState, Lead, Stage, TaskSpec
from connector.outcomes.events import OutcomeEvent
from connector.policy.planner import RecordPlan
from connector.state import RecordState, Store
from connector.sync.cycle import SWEEP_RULES, Sync, SyncOptions

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
OWNERS = ("41765277", "41992736", "42000001")
TYPES = ("page_view", "email_open", "email_click", "form_submission", "site_visit", "content_download")
TITLES = ("VP Sales", "Head of Revenue Operations", "Account Executive", "Founder", "Student", "CTO")
BATCH = 5000
#: the timed sweep runs this long after the fill: decay moves some scores past the step
SWEEP_AFTER = timedelta(days=1)


def clock() -> datetime:
    return NOW


def synthetic(index: int, rng: random.Random) -> RecordState:
    """One lead as a sync leaves it in the store."""
    activities = tuple(
        sorted(
            (
                Activity(
                    rng.choice(TYPES),
                    NOW - timedelta(days=rng.uniform(0, 365)),
                    name="Request a demo" if rng.random() < 0.02 else None,
                )
                for _ in range(rng.randint(3, 15))
            ),
            key=lambda a: a.at,
        )
    )
    record_id = str(100000 + index)
    properties = {
        "email": f"person{index}@company{index % 5000}.example",
        "first_name": "Alex",
        "last_name": f"Person{index}",
        "job_title": rng.choice(TITLES),
        "company": f"Company {index % 5000}",
        "country": rng.choice(("US", "DE", "GB", "JP")),
        "company_size": rng.choice((5, 50, 500, 5000)),
        "lifecycle_stage": "lead",
    }
    owner = rng.choice(OWNERS)
    state = CrmState(Stage.LEAD, "NEW", owner, f"Alex Person{index}", properties["company"])
    return RecordState(record_id, Lead(record_id, properties, activities), state, modified_at=NOW, created_at=NOW)


def fill(url: str, leads: int, seed: int) -> None:
    """``leads`` synthetic leads, then one sweep so their scores are written as a sync leaves them."""
    store = Store(url, "hubspot", clock)
    rng = random.Random(seed)
    for start in range(0, leads, BATCH):
        store.records.put([synthetic(i, rng) for i in range(start, min(leads, start + BATCH))])
    sweeper(store).sweep()
    store.close()


def sweeper(store: Store, later: timedelta = timedelta(0)) -> Sync:
    """A sync on ``store`` with the default rules and a CRM that takes every write, ``later`` after the fill."""
    rules = load_rules(ROOT / "config" / "scoring.yaml")
    return Sync(AcceptingCrm(), store, rules, SyncOptions(), lambda: NOW + later)


class AcceptingCrm:
    """A CRM stand-in for the sweep: every owner may take tasks, every write and task lands."""

    name = "hubspot"

    def __init__(self) -> None:
        self.writes = 0
        self.tasks = 0

    def assignable(self, owner_id: str | None) -> bool:
        return owner_id is not None

    def write(self, plans: Sequence[RecordPlan]) -> list[WriteOutcome]:
        self.writes += len(plans)
        return [WriteOutcome(p.record_id) for p in plans]

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        self.tasks += len(tasks)
        return [TaskOutcome(t.key, crm_task_id=f"task-{t.key}") for t in tasks]

    def existing_tasks(self, tasks: Sequence[TaskSpec]) -> dict[str, str]:
        return {}

    # the rest of the adapter contract: a sweep never reads the CRM
    def map_fields(self, fields: Any) -> None: ...

    def keep_lookups(self, lookups: Any, max_age: timedelta) -> None: ...

    def start(self, create_missing: bool = True) -> None: ...

    def changed_since(self, since: datetime, until: datetime, cursors: Cursors | None = None) -> Iterator[PulledPage]:
        return iter(())

    def scan(self, resume: str | None) -> Iterator[PulledPage]:
        return iter(())

    def read(self, record_ids: Sequence[str]) -> list[Pulled]:
        return []

    def activities(self, records: Sequence[Pulled], previous: Any) -> dict[str, Delta]:
        return {}

    def outcomes(self, until: datetime, cursors: Cursors) -> Iterator[Sequence[OutcomeEvent]]:
        return iter(())


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--state", default=None, help="state URL (default: a temporary SQLite file)")
    parser.add_argument(
        "--rules-changed",
        action="store_true",
        help="time the sweep as after a change of rules: every lead re-scored, whatever its due time",
    )
    parser.add_argument("--fill-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill_only:
        fill(args.state, args.leads, args.seed)
        return 0
    with tempfile.TemporaryDirectory(prefix="handoff-sweep-") as directory:
        url = args.state or f"sqlite:///{Path(directory) / 'state.sqlite'}"
        started = time.perf_counter()
        fill_args = ["--fill-only", "--leads", str(args.leads), "--seed", str(args.seed), "--state", url]
        subprocess.run([sys.executable, __file__, *fill_args], check=True, cwd=ROOT)
        print(f"filled and swept {args.leads} leads once in {time.perf_counter() - started:.1f} s")
        store = Store(url, "hubspot", clock)
        if args.rules_changed:
            store.cursors.clear(SWEEP_RULES)
        sync = sweeper(store, SWEEP_AFTER)
        crm = sync.adapter
        assert isinstance(crm, AcceptingCrm)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started, cpu_started = time.perf_counter(), time.process_time()
        report = sync.sweep()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"sweep: re-scored {report.read}, not due {report.unchanged}, written {crm.writes}, tasks {crm.tasks}, "
        f"status {report.status}"
    )
    print(f"rss before the sweep MB: {rss_before:.0f}")
    print(f"sweep seconds: {seconds:.1f}")
    print(f"sweep cpu seconds: {cpu:.1f}")
    print(f"leads per cpu second: {args.leads / cpu:.0f}")
    print(f"leads per second: {args.leads / seconds:.0f}")
    print(f"peak rss MB: {peak:.0f}")
    return 0 if report.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
