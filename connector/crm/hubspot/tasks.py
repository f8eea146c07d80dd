"""HubSpot tasks as the SLA follow-up reads and changes them. Pure: dicts in, dicts out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.crm.base import TaskUpdate
from connector.crm.values import loose_text
from connector.model import Priority
from connector.policy.escalation import TaskState

TASK_STATE_PROPERTIES = ("hs_task_status", "hubspot_owner_id", "hs_task_priority")


def task_state(row: Mapping[str, Any]) -> TaskState:
    """A task of a batch read: open until ``COMPLETED``; a priority HubSpot adds later (``NONE``) reads as None."""
    props = row.get("properties") or {}
    priority = loose_text(props.get("hs_task_priority"))
    return TaskState(
        crm_task_id=str(row["id"]),
        open=loose_text(props.get("hs_task_status")) != "COMPLETED",
        owner_id=loose_text(props.get("hubspot_owner_id")),
        priority=Priority(priority) if priority in Priority.__members__ else None,
    )


def update_properties(update: TaskUpdate) -> dict[str, str]:
    """The task properties an update sets."""
    props: dict[str, str] = {}
    if update.priority is not None:
        props["hs_task_priority"] = update.priority.value
    if update.owner_id is not None:
        props["hubspot_owner_id"] = update.owner_id
    return props
