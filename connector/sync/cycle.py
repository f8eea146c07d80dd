"""One cycle, one backfill, one decay sweep: pull -> score -> decide -> plan -> push -> checkpoint.

The order of side effects is what makes a killed process safe to restart:
the new record state and every task *intent* are saved before anything is
written to the CRM; a write's success is saved right after it lands; the
cursor moves only after a page's writes are done. A restart therefore
re-reads at most one page, re-plans it against what was written (finding
nothing to do for what landed), and reconciles task intents against the CRM
before creating any task again.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog

from connector.config.ruleset import Ruleset
from connector.crm.base import CrmAdapter, Pulled, PulledPage
from connector.model import Activity, Decision, Lead, Memory, Qualification, TaskSpec, format_time, parse_time
from connector.policy.lifecycle import evaluate, pick_owner
from connector.policy.planner import RecordPlan, after_write, plan_record
from connector.state import PendingWrite, RecordState, Store, TaskEntry

log = structlog.get_logger(__name__)

CURSOR = "contacts"
BACKFILL_RESUME = "backfill.resume"
BACKFILL_STARTED = "backfill.started"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: activities kept per lead: enough for every rule, bounded so state stays small
KEEP_ACTIVITIES = 300


@dataclass(frozen=True)
class SyncOptions:
    overlap: timedelta = timedelta(minutes=5)
    safety_lag: timedelta = timedelta(seconds=10)
    max_write_attempts: int = 5
    score_step: int = 5
    #: a task whose creation had an unknown outcome is looked for this long before it is created again
    task_settle: timedelta = timedelta(minutes=2)


@dataclass
class RunReport:
    """Counts for one run; the summary line, the JSON output and the runs table all come from it."""

    kind: str
    dry_run: bool
    read: int = 0
    quarantined: int = 0
    changed: int = 0
    written: int = 0
    write_failures: int = 0
    dead_lettered: int = 0
    retried: int = 0
    skipped: int = 0
    tasks_created: int = 0
    tasks_reconciled: int = 0
    stages: Counter[str] = field(default_factory=Counter)
    tasks_by_stage: Counter[str] = field(default_factory=Counter)
    #: Handoff's qualification level of every record scored (the sweep sees them all)
    levels: Counter[str] = field(default_factory=Counter)
    status: str = "ok"
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "status": self.status,
            "error": self.error,
            "read": self.read,
            "quarantined": self.quarantined,
            "changed": self.changed,
            "written": self.written,
            "write_failures": self.write_failures,
            "dead_lettered": self.dead_lettered,
            "retried": self.retried,
            "skipped": self.skipped,
            "tasks_created": self.tasks_created,
            "tasks_reconciled": self.tasks_reconciled,
            "stages": dict(self.stages),
        }

    def counts(self) -> dict[str, int]:
        """The numbers the daemon's metrics and summary line take."""
        return {
            "read": self.read,
            "written": self.written,
            "write_failures": self.write_failures,
            "dead_letters": self.dead_lettered,
            "quarantined": self.quarantined,
            "tasks_created": self.tasks_created,
            "changed": self.changed,
        }


class PlanSink(Protocol):
    """Receives what a dry run would do."""

    def add(
        self, record: Pulled | RecordState, qualification: Qualification, decision: Decision, plan: RecordPlan
    ) -> None: ...


@dataclass(frozen=True)
class Evaluated:
    state: RecordState
    written: dict[str, str | None]
    qualification: Qualification
    decision: Decision


def merge_lead(previous: Lead | None, record_id: str, properties: Any, new: Sequence[Activity]) -> Lead:
    """The lead with the CRM's current properties and its activity history plus what is new."""
    activities = sorted((*(previous.activities if previous else ()), *new), key=lambda a: a.at)
    return Lead(record_id, dict(properties), tuple(activities[-KEEP_ACTIVITIES:]))


class Sync:
    """Composes adapter, rules, policy and state store into runs."""

    def __init__(
        self, adapter: CrmAdapter, store: Store, ruleset: Ruleset, options: SyncOptions, clock: Callable[[], datetime]
    ):
        self.adapter = adapter
        self.store = store
        self.ruleset = ruleset
        self.options = options
        self.clock = clock

    # ---------------------------------------------------------------- runs

    def sync_once(
        self, dry_run: bool = False, stop: threading.Event | None = None, sink: PlanSink | None = None
    ) -> RunReport:
        """One incremental cycle: retry what failed, read what changed, write what differs."""
        report = RunReport("sync", dry_run)
        return self._run(report, lambda: self._sync(report, dry_run, stop, sink))

    def backfill(
        self,
        since: datetime | None = None,
        limit: int | None = None,
        dry_run: bool = False,
        stop: threading.Event | None = None,
        sink: PlanSink | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RunReport:
        """Rescore every contact through a full scan; resumes where a killed backfill stopped."""
        report = RunReport("backfill", dry_run)
        return self._run(report, lambda: self._backfill(report, since, limit, dry_run, stop, sink, progress))

    def sweep(
        self, dry_run: bool = False, stop: threading.Event | None = None, sink: PlanSink | None = None
    ) -> RunReport:
        """Re-score stored leads so decay shows in the CRM; writes only values that really changed."""
        report = RunReport("sweep", dry_run)
        return self._run(report, lambda: self._sweep(report, dry_run, stop, sink))

    def _run(self, report: RunReport, body: Callable[[], None]) -> RunReport:
        run_id = self.store.start_run(report.kind, report.dry_run)
        try:
            body()
        except BaseException as exc:
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
            self.store.finish_run(run_id, report.status, report.to_json())
            raise
        self.store.finish_run(run_id, report.status, report.to_json())
        return report

    def _catch_up(self, report: RunReport) -> None:
        """Finish what an earlier run left: tasks it meant to create, writes that did not land."""
        self.reconcile_tasks(report)
        self.retry_pending(report)

    def _sync(self, report: RunReport, dry_run: bool, stop: threading.Event | None, sink: PlanSink | None) -> None:
        started = self.clock()
        if not dry_run:
            self._catch_up(report)
        until = started - self.options.safety_lag
        cursor = self.store.get_cursor(CURSOR)
        since = parse_time(cursor) - self.options.overlap if cursor else EPOCH
        # a dry run keeps no cursor, so the adapter's own (a late window's) is not offered either
        for page in self.adapter.changed_since(since, until, None if dry_run else self.store):
            self._process(page, report, dry_run, sink)
            if not dry_run and page.records and not page.late:
                high = min(max(r.modified_at for r in page.records), until)
                self.store.set_cursor(CURSOR, format_time(high))
            if stop is not None and stop.is_set():
                report.status = "stopped"
                return
        if not dry_run:
            self.store.set_cursor(CURSOR, format_time(max(until, parse_time(cursor)) if cursor else until))

    def _backfill(
        self,
        report: RunReport,
        since: datetime | None,
        limit: int | None,
        dry_run: bool,
        stop: threading.Event | None,
        sink: PlanSink | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        resume = None if dry_run else self.store.get_cursor(BACKFILL_RESUME)
        if not dry_run:
            self._catch_up(report)
            if resume is None:
                self.store.set_cursor(BACKFILL_STARTED, format_time(self.clock()))
        seen = 0
        for page in self.adapter.scan(resume):
            records = [r for r in page.records if since is None or r.modified_at >= since]
            if limit is not None:
                records = records[: max(0, limit - seen)]
            seen += len(records)
            self._process(PulledPage(records, page.quarantined), report, dry_run, sink)
            if progress is not None:
                progress(seen)
            if not dry_run and page.resume:
                self.store.set_cursor(BACKFILL_RESUME, page.resume)
            if (limit is not None and seen >= limit) or (stop is not None and stop.is_set()):
                report.status = "stopped" if stop is not None and stop.is_set() else report.status
                return
        if not dry_run:
            self._finish_backfill()

    def _finish_backfill(self) -> None:
        started = self.store.get_cursor(BACKFILL_STARTED)
        # the scan saw everything changed before it began, so incremental syncs can start there
        if started is not None and self.store.get_cursor(CURSOR) is None:
            self.store.set_cursor(CURSOR, started)
        self.store.clear_cursor(BACKFILL_RESUME)
        self.store.clear_cursor(BACKFILL_STARTED)

    def _sweep(self, report: RunReport, dry_run: bool, stop: threading.Event | None, sink: PlanSink | None) -> None:
        if not dry_run:
            self._catch_up(report)
        now = self.clock()
        for batch in self.store.iter_records():
            report.read += len(batch)
            evaluated = [
                self._evaluate(state, state.lead, state.crm_state, state.counters, state.modified_at, now)
                for state in batch
            ]
            self._apply(evaluated, report, dry_run, sink, batch)
            if stop is not None and stop.is_set():
                report.status = "stopped"
                return

    # --------------------------------------------------------- one page

    def _process(self, page: PulledPage, report: RunReport, dry_run: bool, sink: PlanSink | None) -> None:
        report.read += len(page.records)
        report.quarantined += len(page.quarantined)
        if not dry_run:
            for bad in page.quarantined:
                self.store.add_dead_letter(bad.record_id, "record", dict(bad.payload), bad.reason)
        if page.quarantined:
            log.warning(
                "records quarantined",
                count=len(page.quarantined),
                reasons=sorted({q.reason for q in page.quarantined})[:3],
            )
        if not page.records:
            return
        previous = self.store.get_records([r.record_id for r in page.records])
        deltas = self.adapter.activities(page.records, {k: v.counters for k, v in previous.items()})
        now = self.clock()
        evaluated = []
        for record in page.records:
            before = previous.get(record.record_id)
            delta = deltas[record.record_id]
            lead = merge_lead(before.lead if before else None, record.record_id, record.properties, delta.activities)
            base = before or RecordState(record.record_id, lead, record.crm_state)
            evaluated.append(
                self._evaluate(base, lead, record.crm_state, dict(delta.counters), record.modified_at, now)
            )
        self._apply(evaluated, report, dry_run, sink, page.records)

    def _evaluate(
        self,
        base: RecordState,
        lead: Lead,
        crm_state: Any,
        counters: dict[str, Any],
        modified_at: datetime | None,
        now: datetime,
    ) -> Evaluated:
        q, d = evaluate(lead, crm_state, base.memory, self.ruleset.compiled, self.ruleset.policy, now)
        if d.task is not None and not self.adapter.assignable(d.task.owner_id):
            d = replace(d, task=replace(d.task, owner_id=self._fallback_owner(d.task)))
        state = RecordState(base.record_id, lead, crm_state, d.memory, counters, dict(base.written), modified_at)
        return Evaluated(state, base.written, q, d)

    def _fallback_owner(self, task: TaskSpec) -> str | None:
        owner = pick_owner(task.record_id, None, self.ruleset.policy.owners)
        return owner if self.adapter.assignable(owner) else None

    def _apply(
        self,
        evaluated: list[Evaluated],
        report: RunReport,
        dry_run: bool,
        sink: PlanSink | None,
        sources: Sequence[Pulled | RecordState],
    ) -> None:
        known = self.store.task_entries([e.decision.task.key for e in evaluated if e.decision.task is not None])
        plans = [
            plan_record(
                e.decision,
                e.written,
                self.options.score_step,
                task_done=e.decision.task is not None and e.decision.task.key in known,
            )
            for e in evaluated
        ]
        for e, plan, source in zip(evaluated, plans, sources, strict=False):
            report.levels[e.decision.properties.get("status") or "untouched"] += 1
            if not plan.is_empty:
                report.changed += 1
            if plan.stage is not None:
                report.stages[plan.stage.value] += 1
            if sink is not None:
                sink.add(source, e.qualification, e.decision, plan)
        if dry_run:
            return
        with self.store.atomic():
            self.store.put_records([e.state for e in evaluated])
            self.store.record_task_intents([p.task for p in plans if p.task is not None])
        states = {e.state.record_id: e.state for e in evaluated}
        self._push([p for p in plans if p.has_write], states, report)
        self._create_tasks([p.task for p in plans if p.task is not None], report)

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
        pending: list[PendingWrite] = []
        dropped: list[str] = []
        for plan in plans:
            outcome = outcomes[plan.record_id]
            state = states[plan.record_id]
            if outcome.ok:
                state.written = after_write(state.written, plan)
                landed.append(state)
                dropped.append(plan.record_id)
                report.written += 1
                continue
            if outcome.skipped:
                dropped.append(plan.record_id)
                report.skipped += 1
                log.info("write skipped", record=plan.record_id, reason=outcome.error)
                continue
            report.write_failures += 1
            tries = (attempts or {}).get(plan.record_id, 0) + 1
            payload = {
                "properties": dict(plan.properties),
                "stage": plan.stage.value if plan.stage else None,
                "reset_stage": plan.reset_stage,
            }
            if outcome.retryable and tries < self.options.max_write_attempts:
                pending.append(
                    PendingWrite(
                        plan.record_id, dict(plan.properties), plan.stage, plan.reset_stage, tries, outcome.error
                    )
                )
            else:
                self.store.add_dead_letter(plan.record_id, "write", payload, outcome.error or "failed", tries)
                dropped.append(plan.record_id)
                report.dead_lettered += 1
        with self.store.atomic():
            self.store.put_records(landed)
            self.store.put_pending(pending)
            self.store.drop_pending(dropped)

    def retry_pending(self, report: RunReport) -> None:
        """Send again the writes that failed in earlier cycles."""
        pending = self.store.pending_writes()
        if not pending:
            return
        states = self.store.get_records([p.record_id for p in pending])
        plans = [
            RecordPlan(p.record_id, p.properties, p.stage, p.reset_stage) for p in pending if p.record_id in states
        ]
        report.retried += len(plans)
        self._push(plans, states, report, attempts={p.record_id: p.attempts for p in pending})

    def _create_tasks(self, tasks: list[TaskSpec], report: RunReport) -> None:
        if not tasks:
            return
        stages = {t.key: t.stage.value for t in tasks}
        for outcome in self.adapter.create_tasks(tasks):
            if outcome.ok:
                self.store.mark_task_created(outcome.key, outcome.crm_task_id or "")
                report.tasks_created += 1
                report.tasks_by_stage[stages[outcome.key]] += 1
            else:
                self._task_failed(outcome.key, outcome.error or "failed", outcome.retryable, report)

    def _task_failed(self, key: str, error: str, retryable: bool, report: RunReport) -> None:
        entry = self.store.task_entries([key]).get(key)
        attempts = (entry.attempts if entry else 0) + 1
        dead = not retryable or attempts >= self.options.max_write_attempts
        self.store.mark_task_failed(key, error, dead=dead)
        if dead and entry is not None:
            self.store.add_dead_letter(
                entry.record_id, "task", {"key": key, "subject": entry.spec.subject}, error, attempts
            )
            report.dead_lettered += 1

    def reconcile_tasks(self, report: RunReport) -> None:
        """Confirm or create the tasks a crashed or failed run left as intents, never twice."""
        intents = self.store.open_task_intents()
        if not intents:
            return
        existing = self.adapter.existing_tasks([i.spec for i in intents])
        for key, crm_task_id in existing.items():
            self.store.mark_task_created(key, crm_task_id)
            report.tasks_reconciled += 1
        settled_before = self.clock() - self.options.task_settle
        entries = self.store.task_entries([i.key for i in intents if i.key not in existing])
        due = [i.spec for i in intents if i.key not in existing and _settled(entries.get(i.key), settled_before)]
        self._create_tasks(due, report)

    # ------------------------------------------------------------ explain

    def explain(self, record_id: str) -> tuple[Pulled, Lead, Qualification, Decision] | None:
        """Read one record and show how it scores now, without writing anything."""
        found = self.adapter.read([record_id])
        if not found:
            return None
        record = found[0]
        before = self.store.get_records([record_id]).get(record_id)
        delta = self.adapter.activities([record], {record_id: before.counters} if before else {})[record_id]
        lead = merge_lead(before.lead if before else None, record_id, record.properties, delta.activities)
        q, d = evaluate(
            lead,
            record.crm_state,
            before.memory if before else Memory(),
            self.ruleset.compiled,
            self.ruleset.policy,
            self.clock(),
        )
        return record, lead, q, d


def _settled(entry: TaskEntry | None, settled_before: datetime) -> bool:
    # a create whose answer was lost may have worked but not be searchable yet: give it time
    return entry is None or entry.updated_at <= settled_before
