"""What the sync loop needs from a CRM, in canonical terms.

An adapter translates and transports; SDK objects never leave ``crm/``. Every
method either returns canonical data or raises one of ``crm.errors``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from connector.model import Activity, CrmState, Priority, TaskSpec
from connector.outcomes.events import OutcomeEvent
from connector.policy.escalation import TaskState
from connector.policy.planner import RecordPlan


@dataclass(frozen=True)
class Pulled:
    """One record as read from the CRM: canonical properties and state, plus the adapter's counters."""

    record_id: str
    properties: Mapping[str, Any]
    crm_state: CrmState
    modified_at: datetime
    #: adapter-private snapshot (engagement counters, seen engagement ids) kept for the next read
    counters: Mapping[str, Any] = field(default_factory=dict)
    #: the counters the next read needs, when not all of them: only these are stored and compared
    kept: frozenset[str] | None = None
    #: when the CRM created the record (None when it does not say): the lead's monthly cohort
    created_at: datetime | None = None
    #: outcomes the record itself carries (HubSpot's lifecycle stage dates), read with it at no extra call
    outcomes: Sequence[OutcomeEvent] = ()

    def kept_counters(self) -> dict[str, Any]:
        """The counters the store keeps for the next read: those named in ``kept``, else all."""
        if self.kept is None:
            return dict(self.counters)
        return {name: value for name, value in self.counters.items() if name in self.kept}


@dataclass(frozen=True)
class Quarantined:
    """A record that could not be read into canonical form, and why."""

    record_id: str | None
    reason: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PulledPage:
    records: Sequence[Pulled]
    quarantined: Sequence[Quarantined] = ()
    #: where a full scan resumes after this page (list-API paging token)
    resume: str | None = None
    #: read from a window behind the cursor (records the CRM indexed late): it does not move the cursor
    late: bool = False


class Cursors(Protocol):
    """Named positions kept between cycles (the state store): what an adapter may remember of its own."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...


class Lookups(Protocol):
    """Slow-changing CRM facts kept between runs (the state store): the property list, owners."""

    def get(self, name: str, max_age: timedelta) -> Any | None:
        """The value kept under ``name`` if read less than ``max_age`` ago, else None."""
        ...

    def put(self, name: str, value: Any) -> None:
        """Keep ``value`` (JSON) under ``name`` as read now."""
        ...


@dataclass(frozen=True)
class WriteOutcome:
    record_id: str
    error: str | None = None
    #: True when trying again later may succeed (rate limits, outages, locks)
    retryable: bool = False
    #: the record moved out of Handoff's hands meanwhile (e.g. a lead converted): nothing to retry
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class TaskOutcome:
    key: str
    crm_task_id: str | None = None
    error: str | None = None
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class TaskUpdate:
    """A change to a task Handoff created: a new owner and/or priority (None leaves it as it is)."""

    key: str
    crm_task_id: str
    owner_id: str | None = None
    priority: Priority | None = None


@dataclass(frozen=True)
class Delta:
    """What a record did since the last read, and the counters to remember for next time."""

    activities: Sequence[Activity]
    counters: Mapping[str, Any]


class CrmAdapter(Protocol):
    """The contract every CRM adapter fulfils."""

    name: str

    def map_fields(self, fields: Mapping[str, str]) -> None:
        """Also read these properties (canonical name -> the CRM's name for it); ``start`` checks they exist."""

    def use_shadow(self) -> None:
        """Shadow mode: ``start`` also creates (or requires) the shadow score and level properties."""

    def keep_lookups(self, lookups: Lookups, max_age: timedelta) -> None:
        """Keep the property list and owners in ``lookups``; read them again once older than ``max_age``."""

    def start(self, create_missing: bool = True) -> None:
        """Check access, read the stage order, create Handoff's fields if missing, look up owners."""

    def assignable(self, owner_id: str | None) -> bool:
        """Whether a task can be given to this owner (an active person, not a queue)."""

    def changed_since(self, since: datetime, until: datetime, cursors: Cursors | None = None) -> Iterator[PulledPage]:
        """Records modified in [since, until], oldest first.

        With ``cursors`` (not in a dry run), an adapter whose CRM lists some
        changes late also yields, in pages marked ``late``, the records that
        reached its index since the last call; it keeps its position there.
        """

    def scan(self, resume: str | None) -> Iterator[PulledPage]:
        """Every record, page by page, from ``resume`` (a previous page's token) or the start."""

    def read(self, record_ids: Sequence[str]) -> list[Pulled]:
        """Specific records by id (missing ones are left out)."""

    def activities(self, records: Sequence[Pulled], previous: Mapping[str, Mapping[str, Any]]) -> dict[str, Delta]:
        """New activities per record since the counters in ``previous`` (record id -> counters)."""

    def write(self, plans: Sequence[RecordPlan]) -> list[WriteOutcome]:
        """Apply property and stage changes; one outcome per plan."""

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        """Create rep tasks; one outcome per task."""

    def outcomes(self, until: datetime, cursors: Cursors) -> Iterator[Sequence[OutcomeEvent]]:
        """What sales did since the adapter's own outcome cursors, in batches, up to ``until``.

        The adapter keeps its cursors in ``cursors`` and moves each only after the batch it
        yielded was consumed, so a killed run reads that batch again (events are idempotent).
        """

    def existing_tasks(self, tasks: Sequence[TaskSpec]) -> dict[str, str]:
        """Which of these tasks already exist in the CRM: idempotency key -> CRM task id."""

    def task_states(self, crm_task_ids: Sequence[str]) -> dict[str, TaskState]:
        """These tasks as the CRM shows them now, by CRM task id (deleted ones are left out)."""

    def update_tasks(self, updates: Sequence[TaskUpdate]) -> list[TaskOutcome]:
        """Set the owner and/or priority of tasks; one outcome per update, under its ``key``."""
