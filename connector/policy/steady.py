"""When a scored record could next need a write: what lets the decay sweep skip the rest.

Pure. A record whose plan is empty (or whose write just landed) stays so, with no new
activity and no change in the CRM, until one of these could happen: an activity leaves a
window (a signal stops firing, a scorecard count drops), or decay moves the total or the
engagement far enough to cross the reporting step from what was written or one of the
thresholds the level (and its hysteresis) is read from. Everything else a plan compares
(grade, fit, missing answers, rules version, status while the level holds) does not move
with time, and reasons are only ever sent along with a real change. ``steady_until`` is
conservative: each bound errs early, an early time only costs a re-score.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from connector.model import Decision, Memory, Qualification
from connector.scoring.drift import Drift
from connector.scoring.rules import Thresholds

#: a record Handoff leaves alone (sales owns it) waits for the CRM to change, which a sync sees
NEVER = datetime(9999, 1, 1, tzinfo=UTC)
#: slack for float arithmetic: a bound this close to a limit counts as touching it
EPSILON = 1e-6


def steady_until(
    qualification: Qualification,
    decision: Decision,
    before: Memory,
    written: Mapping[str, str | None],
    drift: Drift,
    thresholds: Thresholds,
    step: float,
    now: datetime,
) -> datetime | None:
    """The earliest time re-scoring this record could plan anything, given what the CRM has from us.

    ``before`` is what Handoff remembered before this decision, ``written`` what the CRM holds once
    its plan landed. None: no time can be promised (it is due at every sweep).
    """
    if before.reset_pending or decision.memory.episode != before.episode:
        # a rep's recycle seen just now: this decision resets the stage, the next one scores afresh
        return None
    if not decision.properties:
        return NEVER
    # the raw values: q.score is round(drift.total), q.engagement round(drift.engagement)
    total, engagement = drift.total, drift.engagement
    # the rounded total and engagement may take the integers of these ranges without a write
    total_range = _within_step(written.get("score"), step)
    engagement_range = _within_step(written.get("engagement_score"), step)
    if total_range is None or engagement_range is None:
        return None
    # round(x) stays within [a, b] while a - 0.5 < x < b + 0.5
    low_total, high_total = total_range[0] - 0.5, total_range[1] + 0.5
    low_engagement, high_engagement = engagement_range[0] - 0.5, engagement_range[1] + 0.5
    if not qualification.disqualified:
        # the level keeps while every threshold comparison keeps its side
        for limit in _total_limits(thresholds):
            # the level compares the rounded total: ``round(x) >= limit`` flips at ceil(limit) - 0.5
            edge = math.ceil(limit) - 0.5
            if qualification.score >= limit:
                low_total = max(low_total, edge)
            else:
                high_total = min(high_total, edge)
        for limit in _engagement_limits(thresholds):
            # and the raw engagement
            if engagement >= limit:
                low_engagement = max(low_engagement, limit)
            else:
                high_engagement = min(high_engagement, limit)
    floor = thresholds.floor
    if floor is not None and floor >= high_total - EPSILON:
        return None
    # the total falls by at most what decays down, unless the floor holds it; it rises by at most what decays up
    room_down_total = math.inf if floor is not None and floor > low_total + EPSILON else total - low_total
    room_down = min(room_down_total, engagement - low_engagement) - EPSILON
    room_up = min(high_total - total, high_engagement - engagement) - EPSILON
    seconds = drift.steady_for(room_down, room_up)
    if seconds <= 0:
        return None
    if math.isinf(seconds) or seconds > (NEVER - now).total_seconds():
        return NEVER
    # whole seconds, rounded down (earlier is always safe): the store keeps due times as such
    return (now + timedelta(seconds=seconds)).replace(microsecond=0)


def _within_step(written: str | None, step: float) -> tuple[float, float] | None:
    """The integers ``n`` with ``|n - written| < step``; None when nothing (or no number) was written."""
    if written is None:
        return None
    try:
        value = float(written)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return math.floor(value - step) + 1, math.ceil(value + step) - 1


def _total_limits(t: Thresholds) -> Iterable[float]:
    return (t.sql, t.sql - t.hysteresis, t.mql, t.mql - t.hysteresis)


def _engagement_limits(t: Thresholds) -> Iterable[float]:
    return (t.mql_min_engagement, t.mql_min_engagement - t.hysteresis)
