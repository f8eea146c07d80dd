"""SLA follow-up: when a qualified lead's task sits open and untouched past its due time, escalate it once.

Pure: an episode, its task (as Handoff created it and as the CRM shows it now) and a clock in, an
``Escalation`` (or None) out. The sync finds the candidates, records the escalation in the state
store before acting, and updates the task in the CRM; this module only decides.

The rules: an episode sales has touched (task completed, call or meeting logged, lead status moved
to working) or ended (recycled, rejected, opportunity) is never escalated, nor is a task the CRM no
longer shows open; the escalation time is the task's due time plus ``after``, counted in business
hours for business units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.model import Priority, Stage, TaskSpec
from connector.outcomes.episode import Episode
from connector.policy.business_time import BusinessHours, Duration, add_duration

#: ``reassign_to`` value meaning: the rep after the current owner in ``owners.round_robin``
NEXT_IN_ROTATION = "next"

Action = Literal["raise_priority", "reassign", "alert"]


class Escalate(BaseModel):
    """What to do once a task is ``after`` past its due time with no touch from sales."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: str = Field("0m", description="grace past the task's due time, e.g. 1bh; 0m escalates right at the due time")
    raise_priority: bool = Field(True, description="set the task's priority to HIGH")
    reassign_to: str | None = Field(
        None, description="'next' (the next rep in owners.round_robin), an owner id (e.g. a manager), or null"
    )
    alert: bool = Field(True, description="report an SLA breach for the alert sink")

    @field_validator("after")
    @classmethod
    def _duration(cls, value: str) -> str:
        Duration.parse(value)
        return value

    @field_validator("reassign_to")
    @classmethod
    def _owner(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("reassign_to must be 'next', an owner id, or null")
        return value

    @model_validator(mode="after")
    def _does_something(self) -> Escalate:
        if not (self.raise_priority or self.reassign_to or self.alert):
            raise ValueError("an escalation needs at least one of raise_priority, reassign_to, alert")
        return self


@dataclass(frozen=True)
class TaskState:
    """Handoff's task as the CRM shows it now."""

    crm_task_id: str
    open: bool
    owner_id: str | None
    priority: Priority | None


@dataclass(frozen=True)
class Escalation:
    """One escalated task: what the sync does to it and reports (the merger hands it to the alert outbox)."""

    record_id: str
    episode: Episode
    task_key: str
    crm_task_id: str
    stage: Stage
    #: the task's owner before the escalation, and after (the same when it was not reassigned)
    previous_owner: str | None
    owner_id: str | None
    #: the priority to set, or None to leave it
    priority: Priority | None
    actions: tuple[Action, ...]
    due_at: datetime
    overdue_seconds: int

    @property
    def alert(self) -> bool:
        return "alert" in self.actions

    @property
    def changes_task(self) -> bool:
        return "raise_priority" in self.actions or "reassign" in self.actions


def episode_stage(episode: Episode) -> Stage:
    """The stage whose task follows the episode up: SQL once it reached SQL, else MQL."""
    return Stage.SQL if episode.sql_at is not None else Stage.MQL


def escalation_time(due_at: datetime, escalate: Escalate, hours: BusinessHours) -> datetime:
    """When a task due at ``due_at`` is escalated if still untouched."""
    return add_duration(due_at, Duration.parse(escalate.after), hours)


def shortest_wait(due: str, escalate: Escalate, hours: BusinessHours) -> timedelta:
    """The least calendar time from qualification to escalation: no episode younger can be due.

    Business time only runs inside business hours, so it takes at least as long on the calendar.
    """
    wait = timedelta(0)
    for text in (due, escalate.after):
        duration = Duration.parse(text)
        day = hours.day_length if duration.unit == "bd" else timedelta(days=1)
        unit = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "bh": timedelta(hours=1)}.get(duration.unit, day)
        wait += unit * duration.amount
    return wait


def untouched(episode: Episode) -> bool:
    """No sales touch and no outcome yet: the episode is still waiting for a rep."""
    return all(moment is None for moment in episode.sales_times)


def next_owner(current: str | None, rotation: Sequence[str], usable: Callable[[str], bool]) -> str | None:
    """The first usable rep after ``current`` in the rotation (from its start when ``current`` is not in it).

    None when no other usable rep is in the rotation. The one place that says who is "next", so the
    fair rotation kept in the state store can take over here.
    """
    if not rotation:
        return None
    start = rotation.index(current) + 1 if current in rotation else 0
    for step in range(len(rotation)):
        candidate = rotation[(start + step) % len(rotation)]
        if candidate != current and usable(candidate):
            return candidate
    return None


def decide_escalation(
    episode: Episode,
    task: TaskSpec,
    live: TaskState | None,
    escalate: Escalate,
    hours: BusinessHours,
    rotation: Sequence[str],
    usable: Callable[[str], bool],
    now: datetime,
) -> Escalation | None:
    """The escalation of ``task`` now, or None: touched, ended, closed in the CRM, or not yet time."""
    if live is None or not live.open or not untouched(episode):
        return None
    if now < escalation_time(task.due_at, escalate, hours):
        return None
    actions: list[Action] = []
    priority = None
    if escalate.raise_priority and live.priority is not Priority.HIGH:
        priority = Priority.HIGH
        actions.append("raise_priority")
    owner = live.owner_id
    target = _reassignee(escalate.reassign_to, live.owner_id, rotation, usable)
    if target is not None and target != live.owner_id:
        owner = target
        actions.append("reassign")
    if escalate.alert:
        actions.append("alert")
    return Escalation(
        record_id=episode.record_id,
        episode=episode,
        task_key=task.key,
        crm_task_id=live.crm_task_id,
        stage=task.stage,
        previous_owner=live.owner_id,
        owner_id=owner,
        priority=priority,
        actions=tuple(actions),
        due_at=task.due_at,
        overdue_seconds=max(0, int((now - task.due_at).total_seconds())),
    )


def _reassignee(
    reassign_to: str | None, current: str | None, rotation: Sequence[str], usable: Callable[[str], bool]
) -> str | None:
    if reassign_to is None:
        return None
    if reassign_to == NEXT_IN_ROTATION:
        return next_owner(current, rotation, usable)
    return reassign_to if usable(reassign_to) else None
