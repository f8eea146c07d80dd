"""The engagements already turned into activities, kept with each record's counters.

Meetings, calls, replies and campaign responses are records of their own with
an id; a record's counters remember the latest ids seen so each becomes an
activity once. The list is bounded: the oldest ids fall off, and those
engagements are old enough to be read again only if the CRM lists them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: the counters key the ids live under (state written by every version of Handoff uses it)
SEEN_KEY = "seen_engagements"
SEEN_KEEP = 500


class SeenEngagements:
    """One record's seen engagement ids, oldest first."""

    def __init__(self, counters: Mapping[str, Any] | None):
        kept = (counters or {}).get(SEEN_KEY)
        self._ids = [str(i) for i in kept] if isinstance(kept, list) else []
        self._known = set(self._ids)

    def __contains__(self, engagement_id: object) -> bool:
        return engagement_id in self._known

    def new(self, engagement_ids: Iterable[str]) -> list[str]:
        """The ids not seen before, each once, in the order given; they are remembered from now on."""
        fresh: list[str] = []
        for engagement_id in engagement_ids:
            if engagement_id not in self._known:
                self._known.add(engagement_id)
                fresh.append(engagement_id)
        self._ids.extend(fresh)
        return fresh

    def counters(self, counters: Mapping[str, Any]) -> dict[str, Any]:
        """``counters`` with the kept ids added (none: no key), ready to be stored for the next read."""
        return {**counters, SEEN_KEY: self._ids[-SEEN_KEEP:]} if self._ids else dict(counters)
