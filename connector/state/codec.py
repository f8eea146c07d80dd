"""JSON forms of the canonical types kept in the state store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connector.model import (
    Activity,
    CrmState,
    Lead,
    Memory,
    Priority,
    Stage,
    TaskSpec,
    format_time,
    lead_from_json,
    parse_time,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def lead_to_json(lead: Lead) -> dict[str, Any]:
    """A lead as the records table keeps it: properties, and each activity as a short list.

    ``[type, epoch milliseconds]``, then count, name and URL as far as any is set: a stored
    lead is about a third smaller than its canonical JSON, and reads back faster.
    """
    return {"p": dict(lead.properties), "a": [_activity_row(a) for a in lead.activities]}


def _activity_row(activity: Activity) -> list[Any]:
    extra: list[Any] = [activity.count, activity.name, activity.url]
    while extra and extra[-1] is None:
        extra.pop()
    if extra == [1]:
        extra = []  # the count every single activity has
    return [activity.type, (activity.at - EPOCH) // MILLISECOND, *extra]


def lead_from_stored(record_id: str, data: Any) -> Lead:
    """The lead a records row keeps; a row written before the short form holds the canonical JSON."""
    if not isinstance(data, dict) or "p" not in data:
        return lead_from_json(data)
    activities = tuple(Activity(row[0], EPOCH + row[1] * MILLISECOND, *row[2:]) for row in data.get("a", ()))
    return Lead(record_id, data["p"], activities)


def crm_state_to_json(state: CrmState) -> dict[str, Any]:
    """What the CRM said, without the fields it left empty (every record is stored: each byte counts)."""
    values = {
        "stage": state.stage.value if state.stage else None,
        "lead_status": state.lead_status,
        "owner_id": state.owner_id,
        "name": state.name,
        "company": state.company,
    }
    return {name: value for name, value in values.items() if value is not None}


def crm_state_from_json(data: dict[str, Any]) -> CrmState:
    return CrmState(
        stage=Stage(data["stage"]) if data.get("stage") else None,
        lead_status=data.get("lead_status"),
        owner_id=data.get("owner_id"),
        name=data.get("name"),
        company=data.get("company"),
    )


def memory_to_json(memory: Memory) -> dict[str, Any]:
    """What Handoff remembers, without what is as a new record's (``memory_from_json`` fills it back in)."""
    values = {
        "episode": memory.episode or None,
        "episode_start": format_time(memory.episode_start) if memory.episode_start else None,
        "level": memory.level.value if memory.level is not Stage.LEAD else None,
        "promoted": memory.promoted.value if memory.promoted else None,
        "last_lead_status": memory.last_lead_status,
        "reset_pending": memory.reset_pending or None,
        "crm_stage": memory.crm_stage.value if memory.crm_stage else None,
        "rejected_at": format_time(memory.rejected_at) if memory.rejected_at else None,
        "recycle_reason": memory.recycle_reason,
    }
    return {name: value for name, value in values.items() if value is not None}


def memory_from_json(data: dict[str, Any]) -> Memory:
    return Memory(
        episode=int(data.get("episode", 0)),
        episode_start=parse_time(data["episode_start"]) if data.get("episode_start") else None,
        level=Stage(data.get("level", Stage.LEAD.value)),
        promoted=Stage(data["promoted"]) if data.get("promoted") else None,
        last_lead_status=data.get("last_lead_status"),
        reset_pending=bool(data.get("reset_pending", False)),
        crm_stage=Stage(data["crm_stage"]) if data.get("crm_stage") else None,
        rejected_at=parse_time(data["rejected_at"]) if data.get("rejected_at") else None,
        recycle_reason=data.get("recycle_reason"),
    )


def task_to_json(task: TaskSpec) -> dict[str, Any]:
    return {
        "key": task.key,
        "record_id": task.record_id,
        "stage": task.stage.value,
        "owner_id": task.owner_id,
        "subject": task.subject,
        "body": task.body,
        "due_at": format_time(task.due_at),
        "priority": task.priority.value,
    }


def task_from_json(data: dict[str, Any]) -> TaskSpec:
    return TaskSpec(
        key=data["key"],
        record_id=data["record_id"],
        stage=Stage(data["stage"]),
        owner_id=data.get("owner_id"),
        subject=data["subject"],
        body=data["body"],
        due_at=parse_time(data["due_at"]),
        priority=Priority(data["priority"]),
    )
