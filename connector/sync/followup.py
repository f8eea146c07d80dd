"""The SLA follow-up: after a cycle, escalate the tasks that sit untouched past due, once per episode.

It runs after the cycle folded in what sales did (so a completed task, a logged call or a working
lead status is known), and costs nothing in the state store or the CRM when no rules-file SLA has
an ``escalate`` section. Per cycle it reads the episodes qualified within ``HORIZON`` that still
await a touch and were not escalated; only for those already due does it ask the CRM about their
tasks (one batch read), because a task completed moments ago may not have reached the outcome read
yet.

An escalation is claimed in the state store before the task is touched, so it happens once even
across crashes and replicas; the claim keeps the update to make, which is sent again until it lands
(setting an owner and a priority twice changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from connector.crm.base import CrmAdapter, TaskUpdate
from connector.model import Stage, TaskSpec
from connector.outcomes.episode import Episode
from connector.policy.escalation import (
    Escalate,
    Escalation,
    decide_escalation,
    episode_stage,
    escalation_time,
    shortest_wait,
    untouched,
)
from connector.policy.lifecycle import Policy, task_key
from connector.state import Store
from connector.state.tasks import TASK_CREATED
from connector.sync.alerting import AlertOutbox
from connector.sync.report import RunReport
from connector.sync.writer import SyncOptions

log = structlog.get_logger(__name__)

#: episodes qualified longer ago are not escalated: turning escalation on does not flood reps with old tasks
HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class _Candidate:
    episode: Episode
    task: TaskSpec
    crm_task_id: str
    escalate: Escalate


class SlaFollowUp:
    """Finds the episodes due for escalation, claims them, and updates their tasks in the CRM."""

    def __init__(
        self,
        adapter: CrmAdapter,
        store: Store,
        policy: Policy,
        options: SyncOptions,
        clock: Callable[[], datetime],
        alerts: AlertOutbox | None = None,
    ):
        self.adapter = adapter
        self.store = store
        self.policy = policy
        self.options = options
        self.clock = clock
        self.alerts = alerts

    @property
    def shortest_wait(self) -> timedelta | None:
        """The least time from qualification to any escalation (younger episodes are not read); None: escalation is off."""
        waits = [
            shortest_wait(sla.due, sla.escalate, self.policy.business_hours)
            for sla in self.policy.sla.values()
            if sla.escalate is not None
        ]
        return min(waits, default=None)

    def run(self, report: RunReport) -> None:
        """Send the task updates earlier runs left, then escalate what is due now (into ``report``)."""
        wait = self.shortest_wait
        if wait is None:
            return
        self._retry(report)
        now = self.clock()
        candidates = self._candidates(now, wait)
        if not candidates:
            return
        live = self.adapter.task_states([c.crm_task_id for c in candidates])
        decided = [
            escalation
            for c in candidates
            if (
                escalation := decide_escalation(
                    c.episode,
                    c.task,
                    live.get(c.crm_task_id),
                    c.escalate,
                    self.policy.business_hours,
                    self.policy.owners.reps,
                    self.adapter.assignable,
                    now,
                )
            )
            is not None
        ]
        # an escalation and its breach alert are recorded together: a crash leaves both or neither
        with self.store.atomic():
            won = self.store.escalations.claim(decided)
            self._claim_alerts(won)
        report.escalations.extend(won)
        for escalation in won:
            log.info(
                "task escalated",
                record=escalation.record_id,
                task=escalation.task_key,
                actions=list(escalation.actions),
                overdue_seconds=escalation.overdue_seconds,
            )
        keyed = {self.store.escalations.key(e.record_id, e.episode.number): e for e in won}
        updates = [
            TaskUpdate(key, e.crm_task_id, e.owner_id if "reassign" in e.actions else None, e.priority)
            for key, e in keyed.items()
            if e.changes_task
        ]
        self._update(updates, {key: e.record_id for key, e in keyed.items()}, {}, report)

    def _claim_alerts(self, escalations: Sequence[Escalation]) -> None:
        """Claim the SLA-breach alert of each escalation that asks for one (posted with the run's next delivery)."""
        alerting = [e for e in escalations if e.alert]
        if self.alerts is None or not alerting:
            return
        states = self.store.records.get([e.record_id for e in alerting])
        for e in alerting:
            if (state := states.get(e.record_id)) is not None:
                # the alert names whoever holds the task now
                self.alerts.breach(replace(e.episode, owner_id=e.owner_id), state.crm_state)

    def _candidates(self, now: datetime, wait: timedelta) -> list[_Candidate]:
        """Open, untouched episodes with an escalating SLA whose task exists and is due, not escalated before."""
        wanted: list[tuple[Episode, Escalate, str]] = []
        for episode in self.store.episodes.awaiting_follow_up(now - HORIZON, now - wait):
            stage = episode_stage(episode)
            sla = self.policy.sla.get("sql" if stage is Stage.SQL else "mql")
            if sla is None or sla.escalate is None or not untouched(episode):
                continue
            # the episode number counts from 1, the task key's episode from 0 (Memory.episode)
            wanted.append((episode, sla.escalate, task_key(episode.record_id, stage, episode.number - 1)))
        if not wanted:
            return []
        tasks = self.store.tasks.entries([key for _, _, key in wanted])
        found: list[_Candidate] = []
        for episode, escalate, key in wanted:
            entry = tasks.get(key)
            if entry is None or entry.status != TASK_CREATED or not entry.crm_task_id:
                continue
            if now >= escalation_time(entry.spec.due_at, escalate, self.policy.business_hours):
                found.append(_Candidate(episode, entry.spec, entry.crm_task_id, escalate))
        return found

    def _retry(self, report: RunReport) -> None:
        """Send again the task updates of escalations claimed earlier whose answer never came."""
        entries = self.store.escalations.unfinished(self.clock() - self.options.task_settle)
        if not entries:
            return
        updates = [TaskUpdate(e.key, e.crm_task_id, e.owner_id, e.priority) for e in entries]
        self._update(updates, {e.key: e.record_id for e in entries}, {e.key: e.attempts for e in entries}, report)

    def _update(
        self, updates: Sequence[TaskUpdate], records: dict[str, str], attempts: dict[str, int], report: RunReport
    ) -> None:
        if not updates:
            return
        for outcome in self.adapter.update_tasks(updates):
            if outcome.ok:
                self.store.escalations.done(outcome.key)
                report.tasks_escalated += 1
                continue
            tries = attempts.get(outcome.key, 0) + 1
            dead = not outcome.retryable or tries >= self.options.max_write_attempts
            error = outcome.error or "failed"
            self.store.escalations.failed(outcome.key, error, dead=dead)
            if dead:
                self.store.dead_letters.add(records[outcome.key], "escalation", {"key": outcome.key}, error, tries)
                report.dead_lettered += 1
