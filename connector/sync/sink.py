"""Where a run's plans go: into the CRM and the state store, or only into a record of them (a dry run).

A run reads and plans the same way in both cases; everything it would change
(state, cursors, CRM writes, tasks, dead letters) goes through its sink.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from connector.crm.base import Pulled, Quarantined
from connector.model import Decision, Memory, Qualification
from connector.policy.planner import RecordPlan
from connector.state import RecordState
from connector.sync.report import RunReport


@dataclass(frozen=True)
class Planned:
    """One record in a run: as read, as it will be remembered, how it scores and what to do about it."""

    source: Pulled | RecordState
    state: RecordState
    qualification: Qualification
    decision: Decision
    plan: RecordPlan
    #: what Handoff remembered before this run: a change of episode in ``state.memory`` is a recycle
    before: Memory = field(default_factory=Memory)


class PlanSink(Protocol):
    #: a dry run's sink records; the real one writes
    dry_run: bool

    def begin(self, report: RunReport) -> None:
        """Before the run reads: finish what earlier runs left undone."""
        ...

    def quarantine(self, bad: Sequence[Quarantined]) -> None:
        """Records that could not be read."""
        ...

    def take(self, planned: Sequence[Planned], report: RunReport) -> None:
        """A page of planned records."""
        ...

    def checkpoint(self, cursor: str, value: str | None) -> None:
        """Move a cursor (None clears it): the run is done up to here."""
        ...

    def end(self, report: RunReport) -> None:
        """After the run: say what is still waiting."""
        ...
