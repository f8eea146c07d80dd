"""CRM lead records for SQL episodes (HubSpot's Leads object, ``HANDOFF_HUBSPOT_LEADS``): claimed, then created once.

A lead is claimed in the state store when its SQL task is planned, and created
at the end of the run once that task exists (so the lead can be associated with
it, and owned by the task's rep). Every open claim is first looked for in the
CRM: a lead whose create answer was lost to a crash is found and recorded, never
made twice. A lead the CRM keeps refusing is dead-lettered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from connector.crm.base import TaskOutcome
from connector.crm.hubspot.leads import LeadSpec
from connector.model import CrmState, Stage, TaskSpec
from connector.state import Store, TaskEntry
from connector.state.leads import LeadClaim, LeadEntry
from connector.state.tasks import TASK_CREATED, TASK_DEAD
from connector.sync.report import RunReport

log = structlog.get_logger(__name__)


class LeadCrm(Protocol):
    """What the sync needs from a CRM's lead records."""

    def prepare(self) -> None: ...

    def existing(self, specs: Sequence[LeadSpec]) -> dict[str, str]: ...

    def create(self, specs: Sequence[LeadSpec]) -> list[TaskOutcome]: ...


def lead_key(task: TaskSpec) -> str:
    """The lead's idempotency key: one per record and episode, like ``handoff:<record>:lead:<episode>``."""
    episode = task.key.rsplit(":", 1)[-1]
    return f"handoff:{task.record_id}:lead:{episode}"


def lead_name(record_id: str, crm: CrmState) -> str:
    """What the lead is called in the CRM: the person, else the company, else the record."""
    return (crm.name or crm.company or f"Contact {record_id}").strip()[:250]


class LeadSync:
    """Claims a lead with each new SQL task and creates the claimed leads whose task is settled."""

    def __init__(self, crm: LeadCrm, store: Store, max_attempts: int, settle: timedelta, clock: Callable[[], datetime]):
        self.crm = crm
        self.store = store
        self.max_attempts = max_attempts
        #: an intent another process claimed or took is left to it this long (it may be creating it)
        self.settle = settle
        self.clock = clock
        #: the intents this process claimed: it creates them at once
        self._mine: set[str] = set()

    def claim(self, tasks: Sequence[tuple[TaskSpec, CrmState]]) -> None:
        """Record a lead intent for each SQL task about to be created (a key claimed before stays)."""
        claims = [
            LeadClaim(lead_key(task), task.record_id, task.key, lead_name(task.record_id, crm))
            for task, crm in tasks
            if task.stage is Stage.SQL
        ]
        if claims:
            self._mine |= self.store.leads.claim(claims)

    def run(self, report: RunReport) -> None:
        """Find or create every claimed lead whose task was created (or given up on), once taken.

        An intent is taken (atomically, so of two processes one wins) before it is looked for in the
        CRM and created; one another process claimed or took is only taken once it has settled.
        """
        settled_before = self.clock() - self.settle
        waiting = [
            i for i in self.store.leads.open_intents() if i.claim.key in self._mine or i.updated_at <= settled_before
        ]
        tasks = self.store.tasks.entries([i.claim.task_key for i in waiting]) if waiting else {}
        # a lead follows its task: until the task is created (or given up on), its intent waits
        ready = [
            i
            for i in waiting
            if (task := tasks.get(i.claim.task_key)) is not None and task.status in (TASK_CREATED, TASK_DEAD)
        ]
        intents = self.store.leads.take(ready) if ready else []
        self._mine -= {i.claim.key for i in ready}
        if not intents:
            return
        specs = [_spec(i, tasks[i.claim.task_key]) for i in intents]
        self.crm.prepare()
        existing = self.crm.existing(specs)
        for key, lead_id in existing.items():
            self.store.leads.created(key, lead_id)
            report.leads_reconciled += 1
        by_key = {i.claim.key: i for i in intents}
        for outcome in self.crm.create([s for s in specs if s.key not in existing]):
            if outcome.ok:
                self.store.leads.created(outcome.key, outcome.crm_task_id or "")
                report.leads_created += 1
            else:
                self._failed(by_key[outcome.key], outcome, report)

    def _failed(self, intent: LeadEntry, outcome: TaskOutcome, report: RunReport) -> None:
        error = outcome.error or "failed"
        attempts = intent.attempts + 1
        dead = not outcome.retryable or attempts >= self.max_attempts
        self.store.leads.failed(intent.claim.key, error, dead=dead)
        log.warning("lead not created", record=intent.claim.record_id, error=error, dead=dead)
        if dead:
            payload = {"key": intent.claim.key, "name": intent.claim.name}
            self.store.dead_letters.add(intent.claim.record_id, "lead", payload, error, attempts)
            report.dead_lettered += 1


def _spec(intent: LeadEntry, task: TaskEntry) -> LeadSpec:
    """The lead to create for an intent: owned like its task, associated with it if it exists."""
    task_id = task.crm_task_id if task.status == TASK_CREATED else None
    return LeadSpec(intent.claim.key, intent.claim.record_id, intent.claim.name, task.spec.owner_id, task_id)
