"""The outcome rules: what sales did (outcome events) folded into one qualification episode.

Pure. ``apply_outcomes`` is idempotent (the same events twice give the same episode,
so a re-read batch never double-counts) and does not depend on the order of the
events it is given (they are sorted by time first). The rules:

- An event dated before the episode started belongs to an earlier story and is
  ignored. Some CRM dates are days only (Salesforce ``ConvertedDate`` and
  ``CloseDate``, a deal's close date as a rep picks it): one on the day the
  episode started counts, at the start (the day cannot say whether it came
  before the start, and a same-day close is the common fast case).
- Touched, accepted, recycled, rejected: the earliest time is kept; the reason of
  the earliest recycle or rejection becomes ``sales_reason``.
- Several deals for one record: the opportunity time is the earliest creation of
  a live deal; the record is won if any deal is won (the won deal becomes the
  episode's deal, with its amount). A loss counts only while nothing is won.
- A deal without an amount leaves the amount as it was (unknown stays unknown).
- A reopened deal is neither won nor lost any more (a win or loss dated after
  the reopening stands).
- A deleted deal no longer counts: ``deal_deleted_at`` is set and the report
  leaves the deal out. Events of a deal deleted in the same batch are dropped;
  a later event of another, live deal makes that deal the episode's deal.
- A record converted without a deal (Salesforce, into an existing account) sends
  no opportunity event: it is not an opportunity.
- A lifecycle stage a rep set by hand (``STAGE_SOURCE``: HubSpot's opportunity and
  customer dates) makes the episode an opportunity, or won, while it has no deal.
  Once a deal is there, the deal tells the story, and a deleted deal's stage
  dates (the stage stays behind in the CRM) do not bring it back.
- Events of other records, and deal events that do not name their deal, are
  ignored; nothing raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

from connector.outcomes.episode import Episode
from connector.outcomes.events import STAGE_SOURCE, OutcomeEvent, OutcomeKind

_DEAL_KINDS = frozenset({OutcomeKind.OPPORTUNITY, OutcomeKind.WON, OutcomeKind.LOST})
#: within one moment: a deal opens before it closes, closes before it reopens, and is deleted last
_RANK = {kind: rank for rank, kind in enumerate(OutcomeKind)}
_SALES_TIMES = {
    OutcomeKind.TOUCHED: "first_touch_at",
    OutcomeKind.ACCEPTED: "accepted_at",
    OutcomeKind.RECYCLED: "recycled_at",
    OutcomeKind.REJECTED: "rejected_at",
}


def apply_outcomes(episode: Episode, events: Sequence[OutcomeEvent]) -> Episode:
    """``episode`` with what ``events`` say sales did to its record (see the module rules)."""
    usable = [_placed(episode, e) for e in events if _belongs(episode, e)]
    deleted = {e.source_id for e in usable if e.kind is OutcomeKind.DELETED and e.source_id is not None}
    usable = [e for e in usable if e.kind is OutcomeKind.DELETED or e.source_id not in deleted]
    usable.sort(key=lambda e: (e.at, _RANK[e.kind], e.source_id or "", str(e.amount), e.reason or ""))
    changes: dict[str, Any] = {}
    for event in usable:
        _fold(episode, changes, event)
    return replace(episode, **changes) if changes else episode


def _belongs(episode: Episode, event: Any) -> bool:
    if not isinstance(event, OutcomeEvent) or event.record_id != episode.record_id:
        return False
    if not isinstance(event.at, datetime) or event.at.tzinfo is None or not isinstance(event.kind, OutcomeKind):
        return False
    start = episode.started_at
    if event.day_only:
        start = datetime.combine(start.astimezone(UTC).date(), time(), UTC)
    return event.at >= start


def _placed(episode: Episode, event: OutcomeEvent) -> OutcomeEvent:
    """A day-only event on the episode's first day, moved to the start: it never sorts before it."""
    start = episode.started_at
    return replace(event, at=start) if event.day_only and event.at < start else event


def _fold(episode: Episode, changes: dict[str, Any], event: OutcomeEvent) -> None:
    def now(name: str) -> Any:
        return changes.get(name, getattr(episode, name))

    at = event.at.astimezone(UTC)
    if event.kind in _SALES_TIMES:
        name = _SALES_TIMES[event.kind]
        if now(name) is None or at < now(name):
            changes[name] = at
            if event.kind in (OutcomeKind.RECYCLED, OutcomeKind.REJECTED) and event.reason:
                changes["sales_reason"] = event.reason
        return
    if event.source_id is None:
        return  # a deal event must say which deal (both adapters do): it cannot be placed otherwise
    if event.source_id == STAGE_SOURCE:
        _fold_stage(changes, now, event.kind, at)
        return
    deal = now("deal_id")
    gone = now("deal_deleted_at") is not None
    live = deal is not None and not gone
    ours = event.source_id == deal
    if event.kind is OutcomeKind.DELETED:
        opened = now("opportunity_at")
        if ours and live and (opened is None or opened <= at):  # a deletion before the deal opened was another's
            changes["deal_deleted_at"] = at
        return
    if event.kind is OutcomeKind.REOPENED:
        if ours:
            for name in ("won_at", "lost_at"):
                if now(name) is not None and now(name) <= at:
                    changes[name] = None
        return
    if event.kind not in _DEAL_KINDS:
        return
    if gone and ours:
        return  # a late read of the deleted deal: it stays deleted
    if not live:
        # the first deal, or one that replaces a deleted deal: the story starts again with it
        changes.update(deal_id=event.source_id, deal_deleted_at=None, opportunity_at=None, won_at=None, lost_at=None)
        changes["amount"] = None if gone else now("amount")
        ours = True
    opened = now("opportunity_at")
    if opened is None or at < opened:
        changes["opportunity_at"] = at
    if event.kind is OutcomeKind.WON:
        if now("won_at") is None or at < now("won_at"):
            changes["won_at"] = at
        changes["lost_at"] = None
        changes["deal_id"] = event.source_id
        if event.amount is not None:
            changes["amount"] = event.amount
    elif event.kind is OutcomeKind.LOST and ours and now("won_at") is None:
        if now("lost_at") is None or at < now("lost_at"):
            changes["lost_at"] = at
        if event.amount is not None:
            changes["amount"] = event.amount
    elif event.kind is OutcomeKind.OPPORTUNITY and ours and event.amount is not None and now("amount") is None:
        changes["amount"] = event.amount


def _fold_stage(changes: dict[str, Any], now: Any, kind: OutcomeKind, at: datetime) -> None:
    """A lifecycle stage date: the opportunity (and, for a customer, the win) of an episode without a deal."""
    if now("deal_id") is not None or kind not in (OutcomeKind.OPPORTUNITY, OutcomeKind.WON):
        return
    for name in ("opportunity_at", "won_at") if kind is OutcomeKind.WON else ("opportunity_at",):
        if now(name) is None or at < now(name):
            changes[name] = at
