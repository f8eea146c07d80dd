"""JSON forms of the canonical types kept in the state store."""

from __future__ import annotations

from typing import Any

from connector.model import CrmState, Memory, Priority, Stage, TaskSpec, format_time, parse_time


def crm_state_to_json(state: CrmState) -> dict[str, Any]:
    return {
        "stage": state.stage.value if state.stage else None,
        "lead_status": state.lead_status,
        "owner_id": state.owner_id,
        "name": state.name,
        "company": state.company,
    }


def crm_state_from_json(data: dict[str, Any]) -> CrmState:
    return CrmState(
        stage=Stage(data["stage"]) if data.get("stage") else None,
        lead_status=data.get("lead_status"),
        owner_id=data.get("owner_id"),
        name=data.get("name"),
        company=data.get("company"),
    )


def memory_to_json(memory: Memory) -> dict[str, Any]:
    return {
        "episode": memory.episode,
        "episode_start": format_time(memory.episode_start) if memory.episode_start else None,
        "level": memory.level.value,
        "promoted": memory.promoted.value if memory.promoted else None,
        "last_lead_status": memory.last_lead_status,
        "reset_pending": memory.reset_pending,
        "crm_stage": memory.crm_stage.value if memory.crm_stage else None,
        "rejected_at": format_time(memory.rejected_at) if memory.rejected_at else None,
        "recycle_reason": memory.recycle_reason,
    }


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
