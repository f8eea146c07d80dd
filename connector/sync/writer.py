"""The real sink: plans go to the state store and the CRM, in the order that makes a kill safe.

A page's new record states and its task claims are saved in one transaction
before anything is sent; a write's success is saved right after it lands; a
task is created only by the process that holds its claim, renewed right before
the call; a cursor moves only once its page is done. Alerts (when configured) are
claimed in the page's transaction and posted after its writes (``connector.sync.alerting``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from connector.crm.base import CrmAdapter, Pulled, Quarantined
from connector.model import CrmState, Lead, Stage
from connector.outcomes.apply import apply_outcomes
from connector.outcomes.episode import Episode
from connector.outcomes.events import OutcomeEvent
from connector.policy.acceptance import Acceptance
from connector.policy.planner import RecordPlan, after_write
from connector.state import PendingWrite, RecordState, Store, TaskEntry
from connector.sync.acceptance import touched_episode
from connector.sync.alerting import AlertOutbox
from connector.sync.episodes import episode_changes
from connector.sync.report import PARTIAL, RunReport
from connector.sync.sink import Planned

log = structlog.get_logger(__name__)

#: the canonical property holding the CRM's stage (the adapters fill it in with the CRM state's)
STAGE_PROPERTY = "lifecycle_stage"


@dataclass(frozen=True)
class SyncOptions:
    overlap: timedelta = timedelta(minutes=5)
    safety_lag: timedelta = timedelta(seconds=10)
    max_write_attempts: int = 5
    score_step: int = 5
    #: a task whose creation had an unknown outcome is looked for this long before it is created
    #: again; an intent another process claimed is left to it for as long
    task_settle: timedelta = timedelta(minutes=2)
    #: outcomes (deals, completed tasks) are read by a cycle at most this often
    outcome_interval: timedelta = timedelta(minutes=15)


class CrmWriter:
    """Writes plans to the CRM and remembers what landed."""

    dry_run = False

    def __init__(
        self,
        adapter: CrmAdapter,
        store: Store,
        options: SyncOptions,
        clock: Callable[[], datetime],
        alerts: AlertOutbox | None = None,
        acceptance: Acceptance | None = None,
    ):
        self.adapter = adapter
        self.store = store
        self.options = options
        self.clock = clock
        self.alerts = alerts
        self.acceptance = acceptance or Acceptance()

    def begin(self, report: RunReport) -> None:
        """Finish what an earlier run left: tasks it meant to create, writes that did not land."""
        self.reconcile_tasks(report)
        self.retry_pending(report)
        if self.alerts is not None:
            self.alerts.start()

    def quarantine(self, bad: Sequence[Quarantined]) -> None:
        for record in bad:
            self.store.dead_letters.add(record.record_id, "record", dict(record.payload), record.reason)

    def take(self, planned: Sequence[Planned], report: RunReport) -> None:
        with self.store.atomic():
            self.store.records.put([p.state for p in planned])
            claimed = self.store.tasks.claim([p.plan.task for p in planned if p.plan.task is not None])
            self._record_episodes(planned)
            if self.alerts is not None:
                self.alerts.enqueue(self.alerts.qualified(planned, report.kind))
            # outcomes the records carry (HubSpot's lifecycle stage dates) land on the episodes just saved
            self._fold_outcomes([e for p in planned if isinstance(p.source, Pulled) for e in p.source.outcomes], report)
        states = {p.state.record_id: p.state for p in planned}
        self._push([p.plan for p in planned if p.plan.has_write], states, report)
        self._create_tasks(claimed, report)
        if self.alerts is not None:
            self.alerts.deliver(report)  # after the page's writes: a record whose write waits keeps its alert

    def checkpoint(self, cursor: str, value: str | None) -> None:
        if value is None:
            self.store.cursors.clear(cursor)
        else:
            self.store.cursors.set(cursor, value)

    def end(self, report: RunReport) -> None:
        if self.alerts is not None:
            self.alerts.deliver(report)  # alerts claimed after the last page (SLA breaches) or left by earlier runs
        waiting = self.store.tasks.waiting()
        report.tasks_waiting = waiting.count
        report.tasks_retry_at = waiting.oldest + self.options.task_settle if waiting.oldest else None
        if waiting.count and report.status == "ok":
            report.status = PARTIAL

    def _record_episodes(self, planned: Sequence[Planned]) -> None:
        """Open, update or end the episodes these decisions start or end, with the sales touches the records show.

        In the page's transaction; a touch lands on the episode as it stands after the decision.
        """
        now = self.clock()
        current = self.store.episodes.open_for([p.state.record_id for p in planned])
        changed: dict[tuple[str, int], Episode] = {}
        latest = dict(current)
        for p in planned:
            for episode in episode_changes(p, current.get(p.state.record_id), now):
                changed[(episode.record_id, episode.number)] = latest[episode.record_id] = episode
        for p in planned:
            touched = touched_episode(p, latest.get(p.state.record_id), self.acceptance, now)
            if touched is not None:
                changed[(touched.record_id, touched.number)] = touched
        self.store.episodes.upsert(list(changed.values()))

    def record_outcomes(self, until: datetime, report: RunReport) -> None:
        """Fold what sales did (the adapter's outcome events up to ``until``) into the records' episodes.

        Each batch lands on the record's open episode, else its latest, and is saved before the
        next batch is asked for: the adapter moves its cursors only then.
        """
        for batch in self.adapter.outcomes(until, self.store.cursors):
            self._fold_outcomes(batch, report)

    def _fold_outcomes(self, batch: Sequence[OutcomeEvent], report: RunReport) -> None:
        """Fold these events into each record's open episode, else its latest, and save what changed."""
        if not batch:
            return
        by_record: dict[str, list[OutcomeEvent]] = defaultdict(list)
        for event in batch:
            by_record[event.record_id].append(event)
        ids = sorted(by_record)
        current = {**self.store.episodes.latest(ids), **self.store.episodes.open_for(ids)}
        changed = []
        for record_id, episode in current.items():
            updated = apply_outcomes(episode, by_record[record_id])
            if updated != episode:
                changed.append(updated)
        self.store.episodes.upsert(changed)
        report.outcomes += len(batch)
        report.episodes_updated += len(changed)

    # ------------------------------------------------------------ writes

    def _push(
        self,
        plans: list[RecordPlan],
        states: dict[str, RecordState],
        report: RunReport,
        attempts: dict[str, int] | None = None,
    ) -> None:
        if not plans:
            return
        outcomes = {o.record_id: o for o in self.adapter.write(plans)}
        landed: list[RecordState] = []
        #: records whose write did not land: their sweep due time assumed it would, so they are due again
        unsettled: list[RecordState] = []
        pending: list[PendingWrite] = []
        dropped: list[str] = []
        for plan in plans:
            outcome = outcomes[plan.record_id]
            state = states[plan.record_id]
            if outcome.ok:
                state.written = after_write(state.written, plan)
                if plan.stage is not None:
                    # the CRM holds the stage Handoff wrote: reading it back is neither news nor a rep's move
                    state.crm_state, state.lead = _staged(state, plan.stage)
                    state.memory = replace(state.memory, crm_stage=plan.stage)
                landed.append(state)
                dropped.append(plan.record_id)
                report.written += 1
                continue
            state.sweep_due = None
            unsettled.append(state)
            if outcome.skipped:
                dropped.append(plan.record_id)
                report.skipped += 1
                log.info("write skipped", record=plan.record_id, reason=outcome.error)
                continue
            report.write_failures += 1
            tries = (attempts or {}).get(plan.record_id, 0) + 1
            if outcome.retryable and tries < self.options.max_write_attempts:
                pending.append(
                    PendingWrite(
                        plan.record_id, dict(plan.properties), plan.stage, plan.reset_stage, tries, outcome.error
                    )
                )
            else:
                payload = {
                    "properties": dict(plan.properties),
                    "stage": plan.stage.value if plan.stage else None,
                    "reset_stage": plan.reset_stage,
                }
                self.store.dead_letters.add(plan.record_id, "write", payload, outcome.error or "failed", tries)
                dropped.append(plan.record_id)
                report.dead_lettered += 1
        with self.store.atomic():
            self.store.records.put(landed)
            self.store.records.mark_due(unsettled)
            self.store.pending.put(pending)
            self.store.pending.drop(dropped)

    def retry_pending(self, report: RunReport) -> None:
        """Send again the writes that failed in earlier cycles."""
        pending = self.store.pending.all()
        if not pending:
            return
        states = self.store.records.get([p.record_id for p in pending])
        plans = [
            RecordPlan(p.record_id, p.properties, p.stage, p.reset_stage) for p in pending if p.record_id in states
        ]
        report.retried += len(plans)
        self._push(plans, states, report, attempts={p.record_id: p.attempts for p in pending})

    # ------------------------------------------------------------- tasks

    def _create_tasks(self, entries: Sequence[TaskEntry], report: RunReport) -> None:
        """Create the tasks of these intents that this process still holds, after claiming them again."""
        mine = self.store.tasks.claim_again(entries) if entries else []
        if not mine:
            return
        stages = {e.key: e.spec.stage.value for e in mine}
        for outcome in self.adapter.create_tasks([e.spec for e in mine]):
            if outcome.ok:
                self.store.tasks.created(outcome.key, outcome.crm_task_id or "")
                report.tasks_created += 1
                report.tasks_by_stage[stages[outcome.key]] += 1
            else:
                self._task_failed(outcome.key, outcome.error or "failed", outcome.retryable, report)

    def _task_failed(self, key: str, error: str, retryable: bool, report: RunReport) -> None:
        entry = self.store.tasks.entries([key]).get(key)
        attempts = (entry.attempts if entry else 0) + 1
        dead = not retryable or attempts >= self.options.max_write_attempts
        self.store.tasks.failed(key, error, dead=dead)
        if dead and entry is not None:
            self.store.dead_letters.add(
                entry.record_id, "task", {"key": key, "subject": entry.spec.subject}, error, attempts
            )
            report.dead_lettered += 1

    def reconcile_tasks(self, report: RunReport) -> None:
        """Confirm or create the tasks that crashed, failed or concurrent runs left as intents, never twice.

        Every open intent is looked for in the CRM; one not found is created once it has settled
        (no process claimed it or failed on it for ``task_settle``), by whichever process wins
        the claim on it.
        """
        intents = self.store.tasks.open_intents()
        if not intents:
            return
        existing = self.adapter.existing_tasks([i.spec for i in intents])
        for key, crm_task_id in existing.items():
            self.store.tasks.created(key, crm_task_id)
            report.tasks_reconciled += 1
        # a create whose answer was lost may have worked but not be searchable yet: give it time
        settled_before = self.clock() - self.options.task_settle
        due = [i for i in intents if i.key not in existing and i.updated_at <= settled_before]
        self._create_tasks(due, report)


def _staged(state: RecordState, stage: Stage) -> tuple[CrmState, Lead]:
    """The record's CRM state and lead once Handoff moved its stage: what reading it back would show."""
    properties = dict(state.lead.properties)
    if STAGE_PROPERTY in properties:
        properties[STAGE_PROPERTY] = stage.value
    return replace(state.crm_state, stage=stage), replace(state.lead, properties=properties)
