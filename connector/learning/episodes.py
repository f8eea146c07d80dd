"""Labelled leads from qualification episodes: each lead as it was when it qualified, with its outcome.

Pure. The outcome is judged by :func:`connector.outcomes.verdict.judge`, the rule the funnel report
uses, so the export and the report agree on which leads converted.

What "as it was" means here: the state store keeps each record's *current* properties (the last
values read from the CRM), not a history of them, so the properties are today's; the activities
are those dated at or before the moment the episode started. Undecided episodes (still open and
not yet stale) are left out and counted in a warning; so are episodes whose record the store no
longer has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from connector.learning.labelled import LabelledLead, LabelledSet
from connector.model import Lead, format_time
from connector.outcomes.episode import Episode
from connector.outcomes.verdict import OutcomeRule, deals_held_elsewhere, judge


def as_qualified(lead: Lead, episode: Episode) -> Lead:
    """``lead`` with only the activities dated at or before ``episode`` started."""
    start = episode.started_at
    return Lead(lead.id, dict(lead.properties), tuple(a for a in lead.activities if a.at <= start))


def labelled_from_episodes(
    episodes: Sequence[Episode],
    leads: Mapping[str, Lead],
    as_of: datetime,
    rule: OutcomeRule,
    source: str,
) -> LabelledSet:
    """One labelled lead per decided episode whose record is in ``leads``; the rest counted in warnings."""
    result = LabelledSet(source)
    if not episodes:
        result.warnings.append(f"{source}: no episodes yet (the sync records one when a lead becomes MQL or SQL)")
    losers = deals_held_elsewhere(episodes)
    undecided = unknown = 0
    for i, episode in enumerate(episodes):
        verdict = judge(episode, as_of, rule, keeps_deal=i not in losers)
        lead = leads.get(episode.record_id)
        if lead is None:
            unknown += 1
        elif verdict.converted is None:
            undecided += 1
        else:
            result.leads.append(LabelledLead(as_qualified(lead, episode), verdict.converted, verdict.converted_at))
    if undecided:
        result.warnings.append(
            f"{source}: {undecided} undecided episode(s) left out (still open, started within"
            f" {rule.stale_after_days} days)"
            if rule.stale_after_days is not None
            else f"{source}: {undecided} undecided episode(s) left out (still open)"
        )
    if unknown:
        result.warnings.append(f"{source}: {unknown} episode(s) left out: the state store has no record for them")
    return result


def labelled_to_json(item: LabelledLead) -> dict[str, Any]:
    """The labelled lead as one JSON object: the canonical lead plus ``converted`` and ``converted_at``."""
    return {
        **item.lead.to_json(),
        "converted": item.converted,
        "converted_at": format_time(item.converted_at) if item.converted_at else None,
    }
