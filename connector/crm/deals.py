"""Deals and opportunities as outcome events, each change once.

A CRM tells what a deal *is* (open, won, lost, gone), not what changed, and
neither CRM keeps "closed, then opened again" on the deal itself. So each deal
Handoff has seen is remembered in the adapter's cursors (its records and
whether it was open, won or lost): a read that finds it in another state sends
that change as an event, a read that finds nothing new sends nothing, and a
deleted deal can still be traced to its records after the CRM dropped its
associations. The memory is written only after the batch with the events was
consumed, so a killed run sends them again (the outcome rules are idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from connector.crm.base import Cursors
from connector.outcomes.events import OutcomeEvent, OutcomeKind

State = Literal["open", "won", "lost"]
_PREFIX = "outcomes.deal."


@dataclass(frozen=True)
class DealRead:
    """A deal or opportunity as read now, in CRM-neutral terms."""

    deal_id: str
    #: the contacts or leads it belongs to
    record_ids: tuple[str, ...]
    state: State
    created_at: datetime
    #: the close date of a closed deal (its last change when the CRM has none)
    closed_at: datetime
    modified_at: datetime
    amount: Decimal | None = None


@dataclass(frozen=True)
class Remembered:
    record_ids: tuple[str, ...]
    state: State | Literal["deleted"]


class DealMemory:
    """What the adapter last told about each deal, kept in its cursors."""

    def __init__(self, cursors: Cursors):
        self._cursors = cursors

    def get(self, deal_id: str) -> Remembered | None:
        raw = self._cursors.get(_PREFIX + deal_id)
        if raw is None:
            return None
        try:
            kept = json.loads(raw)
            return Remembered(tuple(str(r) for r in kept["records"]), kept["state"])
        except (ValueError, KeyError, TypeError):
            return None  # unreadable memory: the deal is told again, which the rules absorb

    def set(self, deal_id: str, remembered: Remembered) -> None:
        value = json.dumps({"records": list(remembered.record_ids), "state": remembered.state})
        self._cursors.set(_PREFIX + deal_id, value)


def changes(deal: DealRead, before: Remembered | None) -> tuple[list[OutcomeEvent], Remembered]:
    """The events that take ``before`` to ``deal``, and what to remember once they are consumed."""
    events: list[OutcomeEvent] = []
    known = set(before.record_ids) if before is not None and before.state != "deleted" else set()
    for record_id in deal.record_ids:
        was = before.state if before is not None and record_id in known else None
        events.extend(_record_changes(deal, record_id, was))
    records = tuple(dict.fromkeys([*deal.record_ids, *(before.record_ids if before else ())]))
    return events, Remembered(records, deal.state)


def _record_changes(deal: DealRead, record_id: str, was: str | None) -> list[OutcomeEvent]:
    def event(kind: OutcomeKind, at: datetime, day_only: bool = False) -> OutcomeEvent:
        return OutcomeEvent(record_id, kind, at, deal.deal_id, deal.amount, day_only=day_only)

    out: list[OutcomeEvent] = []
    if was is None:
        out.append(event(OutcomeKind.OPPORTUNITY, deal.created_at))
    if deal.state == was:
        return out
    # a close date is a day (Salesforce CloseDate; HubSpot's closedate as a rep picks it)
    if deal.state == "won":
        out.append(event(OutcomeKind.WON, deal.closed_at, day_only=True))
    elif deal.state == "lost":
        out.append(event(OutcomeKind.LOST, deal.closed_at, day_only=True))
    elif was is not None:
        out.append(event(OutcomeKind.REOPENED, deal.modified_at))
    return out


def deleted(deal_id: str, at: datetime, before: Remembered | None) -> tuple[list[OutcomeEvent], Remembered | None]:
    """A deleted deal as events for the records it belonged to (none when it was never told, or told gone)."""
    if before is None or before.state == "deleted":
        return [], None
    events = [OutcomeEvent(r, OutcomeKind.DELETED, at, deal_id) for r in before.record_ids]
    return events, Remembered(before.record_ids, "deleted")


def remember_all(memory: DealMemory, remembered: Sequence[tuple[str, Remembered]]) -> None:
    """Write what a consumed batch told."""
    for deal_id, kept in remembered:
        memory.set(deal_id, kept)


def number(value: Any) -> Decimal | None:
    """A CRM number (``"1500.00"``, 1500, 1.0) as a Decimal; None when blank or not a finite number."""
    if value is None or isinstance(value, bool) or str(value).strip() == "":
        return None
    try:
        found = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return found if found.is_finite() else None
