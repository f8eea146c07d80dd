"""Salesforce Tasks as the SLA follow-up reads and changes them. Pure: rows in, fields out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.crm.base import TaskUpdate
from connector.crm.salesforce.mapping import TASK_PRIORITIES
from connector.model import Priority
from connector.policy.escalation import TaskState

TASK_STATE_FIELDS = ("Id", "IsClosed", "OwnerId", "Priority")
_PRIORITY_OF = {value: Priority(name) for name, value in TASK_PRIORITIES.items()}


def task_state(row: Mapping[str, Any]) -> TaskState:
    """A Task row: open until closed; a priority value the org added itself reads as None."""
    owner, priority = row.get("OwnerId"), row.get("Priority")
    return TaskState(
        crm_task_id=str(row["Id"]),
        open=row.get("IsClosed") is not True,
        owner_id=owner if isinstance(owner, str) and owner else None,
        priority=_PRIORITY_OF.get(priority) if isinstance(priority, str) else None,
    )


def update_fields(update: TaskUpdate) -> dict[str, Any]:
    """One sObject Collections record that sets a Task's owner and/or priority."""
    fields: dict[str, Any] = {"attributes": {"type": "Task"}, "id": update.crm_task_id}
    if update.priority is not None:
        fields["Priority"] = TASK_PRIORITIES[update.priority.value]
    if update.owner_id is not None:
        fields["OwnerId"] = update.owner_id
    return fields
