"""Salesforce opportunities, conversions and Handoff's completed Tasks in outcome terms. Pure: rows in.

A converted Lead points at its Opportunity (``ConvertedOpportunityId``); the
Opportunity says whether it is closed and won. A Lead converted into an
existing account without an Opportunity is sales taking the lead on, not an
opportunity: it becomes an ``ACCEPTED`` event with the reason
``CONVERTED_WITHOUT_OPPORTUNITY``. Handoff's own Tasks carry its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connector.crm.deals import DealRead, State, number
from connector.crm.salesforce.mapping import TASK_KEY_FIELD, parse_sf_time
from connector.outcomes.events import OutcomeEvent, OutcomeKind
from connector.policy.lifecycle import task_record

OPPORTUNITY_FIELDS = ("Id", "IsDeleted", "IsClosed", "IsWon", "Amount", "CloseDate", "CreatedDate", "SystemModstamp")
CONVERSION_FIELDS = ("Id", "ConvertedDate", "SystemModstamp")
TASK_FIELDS = ("Id", "WhoId", "IsClosed", "CompletedDateTime", TASK_KEY_FIELD, "SystemModstamp")
CONVERTED_WITHOUT_OPPORTUNITY = "CONVERTED_WITHOUT_OPPORTUNITY"


def opportunity_read(row: Mapping[str, Any], lead_ids: tuple[str, ...]) -> DealRead:
    """A live Opportunity as read now; raises when a date it cannot do without is unreadable."""
    modified = modified_at(row)
    state: State = "won" if row.get("IsWon") is True else "lost" if row.get("IsClosed") is True else "open"
    return DealRead(
        deal_id=str(row["Id"]),
        record_ids=lead_ids,
        state=state,
        created_at=parse_sf_time(row.get("CreatedDate")) or modified,
        closed_at=parse_sf_time(row.get("CloseDate")) or modified,
        modified_at=modified,
        amount=number(row.get("Amount")),
    )


def conversion(row: Mapping[str, Any]) -> OutcomeEvent:
    """A Lead converted without an Opportunity, at its conversion (the day's own moment when known).

    ``ConvertedDate`` is a day: when the Lead was not changed again that day its modified time is the
    moment; else the event is day-only, so a conversion on the day Handoff qualified the Lead counts.
    """
    modified = modified_at(row)
    day = parse_sf_time(row.get("ConvertedDate"))
    if day is None or day.date() == modified.date():
        return OutcomeEvent(str(row["Id"]), OutcomeKind.ACCEPTED, modified, reason=CONVERTED_WITHOUT_OPPORTUNITY)
    return OutcomeEvent(str(row["Id"]), OutcomeKind.ACCEPTED, day, reason=CONVERTED_WITHOUT_OPPORTUNITY, day_only=True)


def touched(row: Mapping[str, Any]) -> OutcomeEvent | None:
    """A closed Task of Handoff's as its record's touch, at its completion; None for any other Task."""
    key = row.get(TASK_KEY_FIELD)
    record_id = task_record(key) if isinstance(key, str) else None
    if record_id is None or row.get("IsClosed") is not True:
        return None
    at = parse_sf_time(row.get("CompletedDateTime")) or modified_at(row)
    return OutcomeEvent(record_id, OutcomeKind.TOUCHED, at, str(row["Id"]))


def modified_at(row: Mapping[str, Any]) -> datetime:
    found = parse_sf_time(row.get("SystemModstamp"))
    if found is None:
        raise ValueError("no SystemModstamp")
    return found
