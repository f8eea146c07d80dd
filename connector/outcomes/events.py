"""What sales did with a qualified record, as read from the CRM: the raw material of episode outcomes.

Adapters turn deals, opportunities, lifecycle-stage dates, lead-status changes and task completions
into these events; the outcome rules (``connector.outcomes.apply``) fold them into episodes. Pure data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


class OutcomeKind(str, enum.Enum):
    """What happened, in the CRM-neutral words of the funnel."""

    #: the first sales touch: Handoff's task completed, a call or meeting logged, status moved to working
    TOUCHED = "touched"
    #: sales took the lead on (e.g. lead status in progress / Working - Contacted)
    ACCEPTED = "accepted"
    RECYCLED = "recycled"
    REJECTED = "rejected"
    #: a deal or opportunity now exists for the record
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"
    #: a closed deal or opportunity was opened again
    REOPENED = "reopened"
    #: the deal or opportunity was deleted
    DELETED = "deleted"


#: the ``source_id`` of an opportunity or a win the CRM keeps on the record itself, not on a deal:
#: a lifecycle stage a rep set by hand (HubSpot's ``hs_lifecyclestage_opportunity_date`` and
#: ``..._customer_date``)
STAGE_SOURCE = "lifecyclestage"


@dataclass(frozen=True, slots=True)
class OutcomeEvent:
    """One thing sales did to one record, at the time the CRM says it happened."""

    record_id: str
    kind: OutcomeKind
    at: datetime
    #: the deal, opportunity or task the event comes from, so a re-read never counts it twice
    source_id: str | None = None
    amount: Decimal | None = None
    #: the lead status or stage name behind a recycle, rejection or acceptance
    reason: str | None = None
    #: the CRM keeps only the day (Salesforce ``ConvertedDate``, ``CloseDate``): ``at`` is its midnight
    day_only: bool = False
