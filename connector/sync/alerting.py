"""Alerts in the sync loop: claimed in the ledger with the decision, posted once the CRM write landed.

The writer claims a "new SQL" (and, when switched on, "new MQL") alert for every task the
lifecycle policy decides, in the same transaction that saves the decision, so a crash can
neither lose nor repeat the claim. After the page's CRM writes it posts every pending alert that
is due, except those of records whose write is still waiting to be retried (the link would show a
record not promoted yet). SLA escalation claims its alerts through :meth:`AlertOutbox.breach`.

A post that fails passingly stays pending for the next cycle (not before the pause the receiver
asked for), and stops this run's posting: a receiver that is down costs one post's retry budget
per run, never more. A refusal, or an alert still failing after ``max_attempts`` cycles, goes to
the dead-letter table with its error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from connector.alerts import AlertEvent, AlertKind, AlertSender, Failed, RetryLater, Sent, qualified_event
from connector.alerts.events import sla_breach_event
from connector.model import CrmState, Stage
from connector.outcomes.episode import Episode
from connector.state import Store
from connector.state.alerts import AlertEntry
from connector.sync.report import RunReport
from connector.sync.sink import Planned

log = structlog.get_logger(__name__)

#: the events HANDOFF_ALERT_ON names
ALERT_KINDS = {"sql": AlertKind.NEW_SQL, "mql": AlertKind.NEW_MQL, "sla_breach": AlertKind.SLA_BREACH}
DEAD_LETTER_KIND = "alert"
#: the longest pause a receiver's Retry-After can ask for; past it, the alert is tried again anyway
MAX_PAUSE = timedelta(days=1)

RecordLink = Callable[[str], str | None]


def no_link(_record_id: str) -> str | None:
    """For a CRM whose record pages Handoff cannot link to (e.g. HubSpot without its Hub ID)."""
    return None


@dataclass(frozen=True)
class AlertOptions:
    kinds: frozenset[AlertKind] = field(default_factory=lambda: frozenset({AlertKind.NEW_SQL, AlertKind.SLA_BREACH}))
    #: cycles an alert is posted in before it is dead-lettered (HANDOFF_MAX_WRITE_ATTEMPTS)
    max_attempts: int = 5
    #: why-now lines per alert
    reasons: int = 5
    #: alerts posted per delivery at most; the rest go in the next one
    batch: int = 100


#: the runs whose promotions are news worth an alert
ALERTING_RUNS = frozenset({"sync"})


class AlertOutbox:
    """Claims alerts in the state store's ledger and posts them with one sender."""

    def __init__(
        self,
        store: Store,
        sender: AlertSender,
        options: AlertOptions,
        clock: Callable[[], datetime],
        record_link: RecordLink = no_link,
    ):
        self.store = store
        self.sender = sender
        self.options = options
        self.clock = clock
        self.record_link = record_link
        self._halted = False

    def qualified(self, planned: Sequence[Planned], run: str) -> list[AlertEvent]:
        """The "new SQL" / "new MQL" alerts for the tasks these plans create (switched-on kinds only).

        Only incremental syncs alert: a backfill or a sweep promotes what qualified long ago (a first
        backfill would post one alert per qualified lead in the CRM), so it creates tasks silently."""
        if run not in ALERTING_RUNS:
            return []
        events = []
        now = self.clock()
        for p in planned:
            task = p.plan.task
            if task is None or task.stage not in (Stage.SQL, Stage.MQL):
                continue
            event = qualified_event(
                p.qualification,
                p.state.crm_state,
                task,
                episode=p.state.memory.episode + 1,  # the episode's number, as sla_breach counts
                occurred_at=now,
                record_url=self.record_link(task.record_id),
                reasons=self.options.reasons,
            )
            if event.kind in self.options.kinds:
                events.append(event)
        return events

    def enqueue(self, events: Sequence[AlertEvent]) -> list[str]:
        """Claim these alerts (switched-on kinds only); the keys newly claimed. Posted at the next delivery."""
        return self.store.alerts.claim([e for e in events if e.kind in self.options.kinds])

    def breach(self, episode: Episode, crm: CrmState, *, owner_name: str | None = None) -> bool:
        """Claim the SLA-breach alert of this episode (its follow-up is past due, untouched);
        False when breach alerts are off or this episode already has one."""
        if AlertKind.SLA_BREACH not in self.options.kinds:
            return False
        event = sla_breach_event(
            episode,
            crm,
            occurred_at=self.clock(),
            record_url=self.record_link(episode.record_id),
            owner_name=owner_name,
        )
        return bool(self.enqueue([event]))

    def start(self) -> None:
        """A new run: post again, even if the receiver failed in the last one."""
        self._halted = False

    def deliver(self, report: RunReport) -> None:
        """Post the pending alerts that are due, until one fails passingly (then the rest wait)."""
        if self._halted:
            return
        held = {p.record_id for p in self.store.pending.all()}
        for entry in self.store.alerts.due(self.options.batch + len(held)):
            if entry.event.record_id in held:
                continue
            if entry.attempts >= self.options.max_attempts:  # posted that often, each time lost in a crash
                self._dead(
                    entry, entry.last_error or "posted, but the answer was never recorded", entry.attempts, report
                )
                continue
            if not self.store.alerts.take(entry):
                continue  # another process posted or settled it since it was read
            outcome = self.sender.send(entry.event)
            attempts = entry.attempts + 1
            if isinstance(outcome, Sent):
                self.store.alerts.sent(entry.key)
                report.alerts["sent"] += 1
            elif isinstance(outcome, Failed):
                self._dead(entry, outcome.error, attempts, report)
            elif isinstance(outcome, RetryLater):
                self._retry(entry, outcome, attempts, report)
                self._halted = True
                return

    def close(self) -> None:
        self.sender.close()

    def _retry(self, entry: AlertEntry, outcome: RetryLater, attempts: int, report: RunReport) -> None:
        if attempts >= self.options.max_attempts:
            self._dead(entry, outcome.error, attempts, report)
            return
        pause = outcome.retry_after
        not_before = self.clock() + min(timedelta(seconds=pause), MAX_PAUSE) if pause else None
        self.store.alerts.retry(entry.key, outcome.error, not_before)
        report.alerts["retrying"] += 1

    def _dead(self, entry: AlertEntry, error: str, attempts: int, report: RunReport) -> None:
        event = entry.event
        with self.store.atomic():
            self.store.alerts.dead(entry.key, error)
            payload = {"key": event.key, "event": event.kind.value, "episode": event.episode}
            self.store.dead_letters.add(event.record_id, DEAD_LETTER_KIND, payload, error, attempts)
        report.alerts["dead_lettered"] += 1
        report.dead_lettered += 1
        log.error("alert dead-lettered", key=event.key, attempts=attempts, error=error)
