"""HubSpot deals, deal pipelines and Handoff's completed tasks in outcome terms. Pure: dicts in.

Won and lost are not stage names: each pipeline (custom ones too) defines its
stages, and a closed stage (``metadata.isClosed`` "true") with probability "1.0"
is won, any other closed stage is lost. Handoff's own tasks are told from a
rep's by the ref in their body (``mapping.task_ref``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from connector.crm.deals import DealRead, State, number
from connector.crm.hubspot.mapping import task_ref
from connector.model import parse_time
from connector.outcomes.events import OutcomeEvent, OutcomeKind
from connector.policy.lifecycle import task_record

DEAL_PROPERTIES = ("dealstage", "pipeline", "amount", "closedate", "createdate", "hs_lastmodifieddate")
TASK_PROPERTIES = ("hs_task_body", "hs_task_status", "hs_task_completion_date", "hs_lastmodifieddate")

#: (pipeline id, stage id) -> the state a deal in that stage is in
StageStates = dict[tuple[str, str], State]


def stage_states(body: Any) -> StageStates:
    """Every deal stage of every pipeline in a ``/crm/v3/pipelines/deals`` answer, as open, won or lost."""
    states: StageStates = {}
    for pipeline in (body or {}).get("results") or []:
        if not isinstance(pipeline, Mapping):
            continue
        for stage in pipeline.get("stages") or []:
            if not isinstance(stage, Mapping):
                continue
            meta = stage.get("metadata") or {}
            closed = str(meta.get("isClosed", "")).lower() == "true"
            won = closed and number(meta.get("probability")) == Decimal(1)
            states[(str(pipeline.get("id")), str(stage.get("id")))] = "won" if won else "lost" if closed else "open"
    return states


def deal_read(row: Mapping[str, Any], record_ids: tuple[str, ...], states: StageStates) -> DealRead | None:
    """A deal search result as read now; None when its stage is unknown to ``states`` (the pipelines changed)."""
    props = row["properties"]
    state = states.get((str(props.get("pipeline")), str(props.get("dealstage"))))
    if state is None:
        return None
    modified = modified_at(row)
    return DealRead(
        deal_id=str(row["id"]),
        record_ids=record_ids,
        state=state,
        created_at=_time(props.get("createdate")) or modified,
        closed_at=_time(props.get("closedate")) or modified,
        modified_at=modified,
        amount=number(props.get("amount")),
    )


def touched(row: Mapping[str, Any]) -> OutcomeEvent | None:
    """A completed task of Handoff's as the record's touch, at its completion; None for any other task."""
    props = row.get("properties") or {}
    key = task_ref(props.get("hs_task_body"))
    record_id = task_record(key) if key else None
    if record_id is None or props.get("hs_task_status") != "COMPLETED":
        return None
    at = _time(props.get("hs_task_completion_date")) or modified_at(row)
    return OutcomeEvent(record_id, OutcomeKind.TOUCHED, at, str(row["id"]))


def modified_at(row: Mapping[str, Any]) -> datetime:
    """When a deal or task last changed (``hs_lastmodifieddate``, else ``updatedAt``); raises when neither reads."""
    found = _time((row.get("properties") or {}).get("hs_lastmodifieddate")) or _time(row.get("updatedAt"))
    if found is None:
        raise ValueError("no readable hs_lastmodifieddate")
    return found


def archived_at(row: Mapping[str, Any]) -> datetime | None:
    """When a listed archived deal was deleted."""
    return _time(row.get("archivedAt")) or _time(row.get("updatedAt"))


def _time(value: Any) -> datetime | None:
    if isinstance(value, str) and value.strip():
        try:
            return parse_time(value.strip())
        except ValueError:
            return None
    return None
