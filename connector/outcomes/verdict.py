"""What an episode came to: how far its lead got, and whether that counts as converted yet.

Pure. The funnel report and ``handoff export --labelled`` both judge episodes here, so a lead
the report counts as converted is the lead the export labels converted.

The rules:

- Outcomes dated before the episode started belong to something earlier and do not count.
- A deleted deal is no opportunity, win or loss; neither is a deal another episode holds
  (``keeps_deal=False``: the report decides which episode keeps a shared deal).
- A deal won, reopened and lost again counts by its latest close; a won or lost deal was an
  opportunity.
- **Converted** means reached an opportunity (or won, with ``converted_on="won"``).
- **Decided** means converted, or ended without converting (lost, recycled, rejected), or open
  longer than ``stale_after_days`` (then counted as not converted). Anything else is undecided:
  ``converted`` is None.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from connector.outcomes.episode import Episode

ConvertedOn = Literal["opportunity", "won"]
CONVERTED_ON: tuple[ConvertedOn, ...] = ("opportunity", "won")


@dataclass(frozen=True, slots=True)
class OutcomeRule:
    """What counts as converted, and when an open episode counts as not converted."""

    converted_on: ConvertedOn = "opportunity"
    #: an episode still open this many days after it started counts as not converted (None: never)
    stale_after_days: int | None = 90


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one episode reached once the rules above are applied."""

    opportunity: bool
    won: bool
    lost: bool
    recycled: bool
    rejected: bool
    #: True / False once decided; None while undecided
    converted: bool | None
    #: open too long: counted as not converted
    stale: bool
    #: when it converted (the opportunity's or the win's time), when it did and the time is known
    converted_at: datetime | None

    @property
    def closed(self) -> bool:
        """Sales ended the episode: won, lost, recycled or rejected."""
        return self.won or self.lost or self.recycled or self.rejected


def judge(episode: Episode, as_of: datetime, rule: OutcomeRule | None = None, keeps_deal: bool = True) -> Verdict:
    """The verdict on ``episode`` as of ``as_of`` (see the module rules)."""
    rule = rule or OutcomeRule()
    start = episode.started_at

    def since_start(moment: datetime | None) -> datetime | None:
        return moment if moment is not None and moment >= start else None

    deal_counts = keeps_deal and episode.deal_deleted_at is None
    won_at = since_start(episode.won_at) if deal_counts else None
    lost_at = since_start(episode.lost_at) if deal_counts else None
    won = won_at is not None and (lost_at is None or won_at >= lost_at)
    lost = lost_at is not None and not won
    opened_at = since_start(episode.opportunity_at) if deal_counts else None
    opportunity = deal_counts and (opened_at is not None or won or lost)
    recycled = since_start(episode.recycled_at) is not None
    rejected = since_start(episode.rejected_at) is not None
    if rule.converted_on == "opportunity":
        reached = opportunity
        closes = [t for t in (won_at, lost_at) if t is not None]
        reached_at = opened_at or (min(closes) if closes else None)
    else:
        reached, reached_at = won, won_at if won else None
    closed = won or lost or recycled or rejected
    stale = (
        not reached
        and not closed
        and rule.stale_after_days is not None
        and as_of - start > timedelta(days=rule.stale_after_days)
    )
    return Verdict(
        opportunity=opportunity,
        won=won,
        lost=lost,
        recycled=recycled,
        rejected=rejected,
        converted=True if reached else (False if closed or stale else None),
        stale=stale,
        converted_at=reached_at if reached else None,
    )


def deals_held_elsewhere(episodes: Sequence[Episode]) -> set[int]:
    """Positions of episodes whose deal another episode holds: a deal counts once.

    The holder is the episode that was live when the deal came (the latest to start before it),
    else the earliest to start.
    """
    by_deal: dict[str, list[int]] = defaultdict(list)
    for i, episode in enumerate(episodes):
        if episode.deal_id is not None and episode.deal_deleted_at is None:
            by_deal[episode.deal_id].append(i)
    losers: set[int] = set()
    for holders in by_deal.values():
        if len(holders) < 2:
            continue
        times = [t for i in holders for t in (episodes[i].opportunity_at, episodes[i].won_at, episodes[i].lost_at) if t]
        came = min(times) if times else None
        before = [i for i in holders if came is not None and episodes[i].started_at <= came]
        keeper = (
            max(before, key=lambda i: episodes[i].started_at)
            if before
            else min(holders, key=lambda i: episodes[i].started_at)
        )
        losers.update(i for i in holders if i != keeper)
    return losers
