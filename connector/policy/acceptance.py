"""Sales acceptance: what the sync sees on a record that tells a rep has taken a qualified lead on.

Pure. Besides Handoff's own task being completed (read with the outcomes), a rep touches a lead by
logging a call or a meeting, or by moving its lead status to a working value (HubSpot
``IN_PROGRESS``, ``ATTEMPTED_TO_CONTACT``, ``CONNECTED``; Salesforce ``Working - Contacted``).
These come with the record the sync reads anyway, so they cost no extra call; they become outcome
events that ``connector.outcomes.apply`` folds into the episode (only those after it started count).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector.model import ACTIVITY_TYPES, Activity
from connector.outcomes.events import OutcomeEvent, OutcomeKind


class Acceptance(BaseModel):
    """What counts as sales taking a lead on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    statuses: list[str] = Field(
        default_factory=lambda: ["IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED", "Working - Contacted"],
        description="lead-status values meaning: a rep is working this lead (a touch and an acceptance)",
    )
    activities: list[str] = Field(
        default_factory=lambda: ["call", "meeting_booked"],
        description="activity types that are a sales touch when logged after qualification",
    )

    @field_validator("activities")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - ACTIVITY_TYPES)
        if unknown:
            raise ValueError(f"unknown activity type {unknown[0]!r} (use one of {', '.join(sorted(ACTIVITY_TYPES))})")
        return value


def sales_touches(
    record_id: str,
    activities: Iterable[Activity],
    status_before: str | None,
    status_now: str | None,
    seen_at: datetime,
    acceptance: Acceptance,
) -> list[OutcomeEvent]:
    """Touch and acceptance events in what the sync read of one record.

    Each logged call or meeting is a touch at its own time. A lead status that newly became a
    working value is a touch and an acceptance at ``seen_at`` (the record's modification time: the
    CRMs do not date a status change cheaply, and the change happened no later than that).
    """
    events = [
        OutcomeEvent(record_id, OutcomeKind.TOUCHED, a.at, reason=a.type)
        for a in activities
        if a.type in acceptance.activities
    ]
    if status_now in acceptance.statuses and status_now != status_before:
        events += [
            OutcomeEvent(record_id, OutcomeKind.TOUCHED, seen_at, reason=status_now),
            OutcomeEvent(record_id, OutcomeKind.ACCEPTED, seen_at, reason=status_now),
        ]
    return events
