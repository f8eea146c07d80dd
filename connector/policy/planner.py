"""The planner: a decision minus what the CRM already has from us.

Pure. Only values that changed since the last successful write are sent, and
a score drifting by less than the reporting step is not a change on its own:
decay moves every score a little every hour, and a CRM should not be written
for that. ``reasons`` carry relative times ("2 days ago"), so they too are only
refreshed together with a real change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from connector.model import Decision, Stage, TaskSpec

#: numbers that only count once they move by the reporting step
STEPPED = frozenset({"score", "fit_score", "engagement_score", "shadow_score"})
#: refreshed along with a real change, never a reason to write by itself
PASSENGERS = frozenset({"reasons"})
#: the key under which the last stage Handoff wrote is remembered
STAGE_KEY = "stage"


@dataclass(frozen=True)
class RecordPlan:
    """What to send to the CRM for one record; empty when nothing changed."""

    record_id: str
    properties: Mapping[str, str | None] = field(default_factory=dict)
    stage: Stage | None = None
    reset_stage: bool = False
    task: TaskSpec | None = None

    @property
    def has_write(self) -> bool:
        return bool(self.properties) or self.stage is not None

    @property
    def is_empty(self) -> bool:
        return not self.has_write and self.task is None


def _matters(key: str, old: str | None, new: str | None, step: int) -> bool:
    """Whether this change alone justifies a write (status, grade, version, dates always do)."""
    if key in PASSENGERS:
        return False
    if key not in STEPPED:
        return True
    try:
        return old is None or new is None or abs(float(new) - float(old)) >= step
    except ValueError:
        return old != new


def plan_record(decision: Decision, written: Mapping[str, str | None], step: int, task_done: bool) -> RecordPlan:
    """The writes for one decision, given the values last written and whether its task exists."""
    properties = decision.properties
    stage = decision.target_stage
    changed: dict[str, str | None] = {}
    # passengers (long texts, kept as digests) are compared only once something else makes a write:
    # the decay sweep plans nothing for most of the records it re-scores
    if stage is not None or any(
        _matters(k, old, v, step) for k, v in properties.items() if k not in PASSENGERS and (old := written.get(k)) != v
    ):
        changed = {k: v for k, v in properties.items() if written.get(k) != v}
    return RecordPlan(
        record_id=decision.record_id,
        properties=changed,
        stage=stage,
        reset_stage=decision.reset_stage,
        task=None if task_done else decision.task,
    )


def after_write(written: Mapping[str, str | None], plan: RecordPlan) -> dict[str, str | None]:
    """The snapshot once ``plan``'s write landed: what the CRM now has from us."""
    snapshot = {**written, **plan.properties}
    if plan.stage is not None:
        snapshot[STAGE_KEY] = plan.stage.value
    return snapshot
