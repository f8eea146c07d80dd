"""One cycle, one backfill, one decay sweep: pull -> score -> decide -> plan -> sink.

A run reads and plans; its sink either writes (``CrmWriter``: state and CRM, in
the order that makes a killed process safe to restart) or records (``DryRun``).
Pages are processed in groups of about ``GROUP_RECORDS`` records, so the
engagement reads behind them go out at the API's largest batch (HubSpot's
association read takes 1,000 ids) rather than once per page; a cursor moves only
after its whole group is done. A restart re-reads at most one group, re-plans it
against what was written (finding nothing to do for what landed), and reconciles
task intents against the CRM before creating any task again.
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from operator import attrgetter, le
from typing import Any, NamedTuple

import structlog

from connector.config.ruleset import Ruleset
from connector.crm.base import CrmAdapter, Pulled, PulledPage
from connector.model import Activity, Decision, Lead, Memory, Qualification, format_time, parse_time
from connector.policy.lifecycle import episode_lead, evaluate, evaluate_in_full
from connector.policy.planner import after_write, plan_record
from connector.policy.shadow import with_shadow
from connector.policy.steady import steady_until
from connector.scoring.drift import Drift, drift
from connector.scoring.engine import score
from connector.state import RecordState, Store
from connector.sync.alerting import AlertOutbox
from connector.sync.followup import SlaFollowUp
from connector.sync.leads import LeadSync
from connector.sync.report import RunReport
from connector.sync.routing import Router
from connector.sync.sink import Planned, PlanSink
from connector.sync.writer import CrmWriter, SyncOptions

__all__ = ["RunReport", "Sync", "SyncOptions"]

log = structlog.get_logger(__name__)

CURSOR = "contacts"
BACKFILL_RESUME = "backfill.resume"
BACKFILL_STARTED = "backfill.started"
#: when outcomes were last read (the sync's ``until`` then)
OUTCOMES_READ = "outcomes.read_at"
#: the rules (and options) every stored sweep due time was worked out with, as a digest
SWEEP_RULES = "sweep.rules"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: activities kept per lead: enough for every rule, bounded so state stays small
KEEP_ACTIVITIES = 300
#: new container objects between two runs of the garbage collector during a sweep (``fewer_collections``)
SWEEP_COLLECT_AFTER = 50_000
#: records processed together: HubSpot's batch association read takes 1,000 ids per call
GROUP_RECORDS = 1000


class Evaluated(NamedTuple):
    """One record scored and decided, not yet planned (a tuple: the sweep makes one per stored record)."""

    state: RecordState
    written: dict[str, str | None]
    qualification: Qualification
    decision: Decision
    before: Memory
    #: how decay can move its score from ``scored_at`` on; None: no due time is worked out (shadow rules)
    drift: Drift | None
    scored_at: datetime


#: an activity's time, read in C (the sweep sorts every stored lead's activities)
_at = attrgetter("at")


def merge_lead(
    previous: Lead | None, record_id: str, properties: Any, new: Sequence[Activity], read_at: datetime
) -> Lead:
    """The lead with the CRM's current properties and its activity history plus what is new (read at ``read_at``)."""
    activities = sorted(settled((*(previous.activities if previous else ()), *new), read_at), key=_at)
    return Lead(record_id, dict(properties), tuple(activities[-KEEP_ACTIVITIES:]))


def as_stored(record_id: str, lead: Lead, now: datetime) -> Lead:
    """``merge_lead`` of a stored lead with nothing new at ``now``: the lead itself when it is that already.

    It is unless an older version kept it otherwise (an activity dated after ``now``, out of order,
    too many). The sweep re-scores every stored lead, and most need no new copy.
    """
    activities = lead.activities
    if lead.id == record_id and len(activities) <= KEEP_ACTIVITIES and (not activities or activities[-1].at <= now):
        times = list(map(_at, activities))
        if all(map(le, times, times[1:])):  # in order, so the last is the latest
            return lead
    return merge_lead(lead, record_id, lead.properties, (), now)


def settled(activities: Sequence[Activity], read_at: datetime) -> list[Activity]:
    """The activities, each dated after ``read_at`` (a meeting next week, a bad date) moved back to it.

    Such an activity counts from when Handoff first read it, and is stored so: it decays from
    then on instead of counting as "just now" at every cycle until its date.
    """
    return [a if a.at <= read_at else replace(a, at=read_at) for a in activities]


def grouped(pages: Iterable[PulledPage], size: int = GROUP_RECORDS) -> Iterator[PulledPage]:
    """Consecutive pages joined until they hold ``size`` records; a late page passes on alone, at once.

    A group resumes where its last page does, so a checkpoint after it covers every record in it.
    A late page is not held: the adapter moves its late position when asked for the page after
    the last one, which must come only once that page is done (the adapter gathers late pages itself).
    """
    held: list[PulledPage] = []
    count = 0
    for page in pages:
        if page.late:
            if held:
                yield _joined(held)
                held, count = [], 0
            yield page
            continue
        held.append(page)
        count += len(page.records)
        if count >= size:
            yield _joined(held)
            held, count = [], 0
    if held:
        yield _joined(held)


def _joined(pages: Sequence[PulledPage]) -> PulledPage:
    if len(pages) == 1:
        return pages[0]
    return PulledPage(
        [r for p in pages for r in p.records],
        [q for p in pages for q in p.quarantined],
        resume=pages[-1].resume,
        late=pages[-1].late,
    )


def unchanged(record: Pulled, before: RecordState | None) -> bool:
    """Whether a record read again holds nothing Handoff has not seen.

    Its state, properties and the counters the adapter keeps (engagement markers, the time of its
    latest engagement) are as stored; the store keeps what Handoff's own writes changed, so a write
    read back is too.
    """
    return (
        before is not None
        and record.crm_state == before.crm_state
        and dict(record.properties) == before.lead.properties
        and all(before.counters.get(name) == value for name, value in record.kept_counters().items())
    )


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector run at most every ``SWEEP_COLLECT_AFTER`` new objects, not 700.

    Each batch of records a sweep reads builds and drops tens of thousands of objects: at the
    default the collector ran hundreds of times a batch, a third of an all-due sweep's CPU time.
    Refcounting frees nearly all of them; the few cycles wait a little longer.
    """
    before = gc.get_threshold()
    if before[0]:  # 0: collection is off, and stays so
        gc.set_threshold(max(before[0], SWEEP_COLLECT_AFTER), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _due_moved(p: Planned) -> bool:
    """Whether the record's sweep due time or level differs from the one stored with it."""
    stored = p.source
    return not isinstance(stored, RecordState) or (
        (stored.sweep_due, stored.sweep_status) != (p.state.sweep_due, p.state.sweep_status)
    )


class Sync:
    """Composes adapter, rules, policy and state store into runs.

    Each run takes a ``sink``: by default ``writer``, which writes; a ``DryRun`` records instead.
    """

    def __init__(
        self,
        adapter: CrmAdapter,
        store: Store,
        ruleset: Ruleset,
        options: SyncOptions,
        clock: Callable[[], datetime],
        alerts: AlertOutbox | None = None,
        shadow: Ruleset | None = None,
    ):
        self.adapter = adapter
        self.store = store
        self.ruleset = ruleset
        #: shadow mode (HANDOFF_SHADOW_RULES): candidate rules scored beside the live ones, written to shadow properties
        self.shadow = shadow
        self.options = options
        self.clock = clock
        self.writer = CrmWriter(adapter, store, options, clock, alerts, ruleset.policy.acceptance)
        self.follow_up = SlaFollowUp(adapter, store, ruleset.policy, options, clock, alerts)
        self.router = Router(adapter, store)
        #: CRM lead records for SQL episodes (HANDOFF_HUBSPOT_LEADS); None: not made
        self.leads: LeadSync | None = None

    # ---------------------------------------------------------------- runs

    def sync_once(self, stop: threading.Event | None = None, sink: PlanSink | None = None) -> RunReport:
        """One incremental cycle: retry what failed, read what changed, write what differs."""
        out = sink or self.writer
        report = RunReport("sync", out.dry_run)
        return self._run(report, out, lambda: self._sync(report, stop, out))

    def backfill(
        self,
        since: datetime | None = None,
        limit: int | None = None,
        stop: threading.Event | None = None,
        sink: PlanSink | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RunReport:
        """Rescore every contact through a full scan; resumes where a killed backfill stopped."""
        out = sink or self.writer
        report = RunReport("backfill", out.dry_run)
        return self._run(report, out, lambda: self._backfill(report, since, limit, stop, out, progress))

    def sweep(self, stop: threading.Event | None = None, sink: PlanSink | None = None) -> RunReport:
        """Re-score stored leads so decay shows in the CRM; writes only values that really changed."""
        out = sink or self.writer
        report = RunReport("sweep", out.dry_run)
        return self._run(report, out, lambda: self._sweep(report, stop, out))

    def _run(self, report: RunReport, sink: PlanSink, body: Callable[[], None]) -> RunReport:
        run_id = self.store.runs.start(report.kind, report.dry_run)
        try:
            sink.begin(report)
            body()
            if self.leads is not None and not sink.dry_run:
                self.leads.run(report)
            sink.end(report)
            if report.tasks_unassigned:
                log.warning(
                    "tasks without an owner",
                    count=report.tasks_unassigned,
                    fix="name reps in the rules' owners: round_robin (or a fallback)",
                )
        except BaseException as exc:
            report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
            self.store.runs.finish(run_id, report.status, report.to_json())
            raise
        self.store.runs.finish(run_id, report.status, report.to_json())
        return report

    def _sync(self, report: RunReport, stop: threading.Event | None, sink: PlanSink) -> None:
        started = self.clock()
        until = started - self.options.safety_lag
        cursor = self.store.cursors.get(CURSOR)
        since = parse_time(cursor) - self.options.overlap if cursor else EPOCH
        # a dry run keeps no cursor, so the adapter's own (a late window's) is not offered either
        pages = self.adapter.changed_since(since, until, None if sink.dry_run else self.store.cursors)
        for group in grouped(pages):
            self._process(group, report, sink, skip_unchanged=True)
            if group.records and not group.late:
                high = min(max(r.modified_at for r in group.records), until)
                sink.checkpoint(CURSOR, format_time(high))
            if stop is not None and stop.is_set():
                report.status = "stopped"
                return
        sink.checkpoint(CURSOR, format_time(max(until, parse_time(cursor)) if cursor else until))
        # what sales did with qualified records: only real runs keep episodes, read every outcome interval
        last = self.store.cursors.get(OUTCOMES_READ)
        if not sink.dry_run and (last is None or parse_time(last) + self.options.outcome_interval <= until):
            self.writer.record_outcomes(until, report)
            sink.checkpoint(OUTCOMES_READ, format_time(until))
        if not sink.dry_run:
            # then the tasks still untouched past due are escalated (once per episode), every cycle
            self.follow_up.run(report)

    def _backfill(
        self,
        report: RunReport,
        since: datetime | None,
        limit: int | None,
        stop: threading.Event | None,
        sink: PlanSink,
        progress: Callable[[int], None] | None,
    ) -> None:
        resume = self.store.cursors.get(BACKFILL_RESUME)
        if resume is None:
            sink.checkpoint(BACKFILL_STARTED, format_time(self.clock()))
        seen = 0
        # a small --limit is not worth reading a whole group for
        for page in grouped(self.adapter.scan(resume), min(GROUP_RECORDS, limit or GROUP_RECORDS)):
            records = [r for r in page.records if since is None or r.modified_at >= since]
            if limit is not None:
                records = records[: max(0, limit - seen)]
            seen += len(records)
            self._process(PulledPage(records, page.quarantined), report, sink)
            if progress is not None:
                progress(seen)
            if page.resume:
                sink.checkpoint(BACKFILL_RESUME, page.resume)
            if (limit is not None and seen >= limit) or (stop is not None and stop.is_set()):
                report.status = "stopped" if stop is not None and stop.is_set() else report.status
                return
        started = self.store.cursors.get(BACKFILL_STARTED)
        # the scan saw everything changed before it began, so incremental syncs can start there
        if started is not None and self.store.cursors.get(CURSOR) is None:
            sink.checkpoint(CURSOR, started)
        sink.checkpoint(BACKFILL_RESUME, None)
        sink.checkpoint(BACKFILL_STARTED, None)

    def _sweep(self, report: RunReport, stop: threading.Event | None, sink: PlanSink) -> None:
        """Re-score the stored leads that are due (all of them once the rules changed).

        A lead not due has, by its due time, nothing to plan (``connector.policy.steady``): it
        is counted by its level, unread.
        """
        with fewer_collections():
            self._sweep_due(report, stop, sink)

    def _sweep_due(self, report: RunReport, stop: threading.Event | None, sink: PlanSink) -> None:
        now = self.clock()
        rules = self._rules_digest()
        whole = self.store.cursors.get(SWEEP_RULES) != rules
        if not whole:
            steady = self.store.records.steady(now)
            report.unchanged += sum(steady.values())
            report.levels.update(steady)
        for batch in self.store.records.batches() if whole else self.store.records.due(now):
            report.read += len(batch)
            evaluated = [
                self._evaluate(
                    state,
                    # a future date kept by an older version is settled here too: every stored lead decays
                    as_stored(state.record_id, state.lead, now),
                    state.crm_state,
                    state.counters,
                    state.modified_at,
                    now,
                )
                for state in batch
            ]
            self._apply(evaluated, report, sink, batch, keep_quiet=False)
            if stop is not None and stop.is_set():
                report.status = "stopped"
                return
        if whole:
            sink.checkpoint(SWEEP_RULES, rules)

    def _rules_digest(self) -> str:
        """What the due times depend on beyond each record: the rules, shadow rules and the score step."""
        text = "\n".join(
            (
                self.ruleset.file.model_dump_json(),
                self.shadow.file.model_dump_json() if self.shadow is not None else "",
                str(self.options.score_step),
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()

    # --------------------------------------------------------- one page

    def _process(self, page: PulledPage, report: RunReport, sink: PlanSink, skip_unchanged: bool = False) -> None:
        """Score a page and hand its plans to the sink; ``skip_unchanged`` leaves out records with nothing new."""
        report.read += len(page.records)
        report.quarantined += len(page.quarantined)
        if page.quarantined:
            sink.quarantine(page.quarantined)
            log.warning(
                "records quarantined",
                count=len(page.quarantined),
                reasons=sorted({q.reason for q in page.quarantined})[:3],
            )
        if not page.records:
            return
        previous = self.store.records.get([r.record_id for r in page.records])
        records = page.records
        if skip_unchanged:
            # a record read again (the overlap, the late pass, Handoff's own write) costs no engagement read
            records = [r for r in records if not unchanged(r, previous.get(r.record_id))]
            report.unchanged += len(page.records) - len(records)
            if not records:
                return
        deltas = self.adapter.activities(records, {k: v.counters for k, v in previous.items()})
        now = self.clock()
        evaluated = []
        for record in records:
            before = previous.get(record.record_id)
            delta = deltas[record.record_id]
            lead = merge_lead(
                before.lead if before else None, record.record_id, record.properties, delta.activities, now
            )
            base = before or RecordState(record.record_id, lead, record.crm_state)
            if record.created_at is not None:  # the CRM's creation time, over a first-seen time kept before
                base = replace(base, created_at=record.created_at)
            evaluated.append(
                self._evaluate(base, lead, record.crm_state, dict(delta.counters), record.modified_at, now)
            )
        self._apply(evaluated, report, sink, records)

    def _evaluate(
        self,
        base: RecordState,
        lead: Lead,
        crm_state: Any,
        counters: dict[str, Any],
        modified_at: datetime | None,
        now: datetime,
    ) -> Evaluated:
        scored, d = evaluate_in_full(lead, crm_state, base.memory, self.ruleset.compiled, self.ruleset.policy, now)
        q = scored.qualification
        moves: Drift | None = None
        if self.shadow is not None and d.properties:
            # the candidate scores the same episode the live rules scored; records sales owns stay untouched
            d = with_shadow(d, score(episode_lead(lead, d.memory), self.shadow.compiled, now))
        elif self.shadow is None:
            moves = drift(episode_lead(lead, d.memory), self.ruleset.compiled, scored, now.timestamp())
        # the CRM's creation time when the adapter read one, else when Handoff first saw the record
        created = base.created_at or now
        state = RecordState(
            base.record_id, lead, crm_state, d.memory, counters, dict(base.written), modified_at, created
        )
        return Evaluated(state, base.written, q, d, base.memory, moves, now)

    def _apply(
        self,
        evaluated: list[Evaluated],
        report: RunReport,
        sink: PlanSink,
        sources: Sequence[Pulled | RecordState],
        keep_quiet: bool = True,
    ) -> None:
        """Plan each evaluated record and hand the plans to the sink.

        Without ``keep_quiet`` (a sweep, re-scoring what the store holds), a real sink is not
        handed records with nothing to write and nothing new to remember: they stay as stored.
        """
        known = self.store.tasks.entries([e.decision.task.key for e in evaluated if e.decision.task is not None])
        evaluated = self._route(evaluated, known.keys(), report, record=not sink.dry_run)
        if self.leads is not None and not sink.dry_run:
            self.leads.claim([(e.decision.task, e.state.crm_state) for e in evaluated if e.decision.task is not None])
        planned = [
            Planned(
                source,
                e.state,
                e.qualification,
                e.decision,
                plan_record(
                    e.decision,
                    e.written,
                    self.options.score_step,
                    task_done=e.decision.task is not None and e.decision.task.key in known,
                ),
                e.before,
            )
            for e, source in zip(evaluated, sources, strict=True)
        ]
        for p, e in zip(planned, evaluated, strict=True):
            level = p.decision.properties.get("status") or "untouched"
            report.levels[level] += 1
            self._mark_due(p, e, level)
            if not p.plan.is_empty:
                report.changed += 1
            if p.plan.stage is not None:
                report.stages[p.plan.stage.value] += 1
        if not keep_quiet and not sink.dry_run:
            quiet = [p for p in planned if p.plan.is_empty and p.state.memory == p.before]
            # nothing else to save for them, but a due time or level that moved
            self.store.records.mark_due([p.state for p in quiet if _due_moved(p)])
            planned = [p for p in planned if not p.plan.is_empty or p.state.memory != p.before]
        sink.take(planned, report)

    def _mark_due(self, p: Planned, e: Evaluated, level: str) -> None:
        """Give the record's state its level and sweep due time, as if its plan lands (the writer clears it if not)."""
        p.state.sweep_status = level
        p.state.sweep_due = (
            None
            if e.drift is None
            else steady_until(
                e.qualification,
                e.decision,
                e.before,
                after_write(e.written, p.plan),
                e.drift,
                self.ruleset.compiled.source.thresholds,
                self.options.score_step,
                e.scored_at,
            )
        )

    def _route(
        self, evaluated: list[Evaluated], known: Collection[str], report: RunReport, record: bool
    ) -> list[Evaluated]:
        """Give the tasks still to create their owner (rotation picks are recorded before the claim)."""
        new = [e.decision.task for e in evaluated if e.decision.task is not None and e.decision.task.key not in known]
        if not new:
            return evaluated
        routed = self.router.route(new, self.ruleset.policy.owners, record=record)
        report.tasks_unassigned += sum(1 for t in routed.values() if t.owner_id is None)
        return [
            e._replace(decision=replace(e.decision, task=routed[e.decision.task.key]))
            if e.decision.task is not None and e.decision.task.key in routed
            else e
            for e in evaluated
        ]

    # ------------------------------------------------------------ explain

    def explain(self, record_id: str) -> tuple[Pulled, Lead, Qualification, Decision] | None:
        """Read one record and show how it scores now, without writing anything."""
        found = self.adapter.read([record_id])
        if not found:
            return None
        record = found[0]
        before = self.store.records.get([record_id]).get(record_id)
        delta = self.adapter.activities([record], {record_id: before.counters} if before else {})[record_id]
        now = self.clock()
        lead = merge_lead(before.lead if before else None, record_id, record.properties, delta.activities, now)
        q, d = evaluate(
            lead,
            record.crm_state,
            before.memory if before else Memory(),
            self.ruleset.compiled,
            self.ruleset.policy,
            now,
        )
        if d.task is not None:  # the rep the rotation would give it now, recording nothing
            d = replace(d, task=self.router.route([d.task], self.ruleset.policy.owners, record=False)[d.task.key])
        return record, lead, q, d
