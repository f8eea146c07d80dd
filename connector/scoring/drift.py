"""How far a lead's score can move as time passes, with no new activity.

Pure, like the engine: a lead, compiled rules and a clock in, a ``Drift`` out. Between two
moments an activity leaves a window (a signal's, a scorecard count's), the only thing time
changes is decay: each activity rule's points shrink by ``exp(-decay * elapsed)``, so the
points rules earn can only fall, and those they take away (negatives) only shrink towards
zero; caps and the floor only slow either down. ``Drift`` bounds both, which is what the
decay sweep needs to know when a stored result could next be different (``connector.policy.steady``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from connector.model import Lead
from connector.scoring.compiled import CompiledRules
from connector.scoring.engine import _POINTS, Scored


@dataclass(frozen=True, slots=True)
class Drift:
    """Bounds on how a lead's engagement (and so its total) moves from ``now`` on."""

    #: the total and the engagement as scored now, before rounding (the total after the floor)
    total: float
    engagement: float

    #: decaying points earned now: engagement and total can fall by at most this times ``1 - exp(-rate * t)``
    falling: float
    #: decaying points taken away now: engagement and total can rise by at most this times ``1 - exp(-rate * t)``
    rising: float
    #: the fastest decay (per second) of the rules that saw any activity
    rate: float
    #: seconds from ``now`` until the first activity leaves a window (infinite when none will)
    window_left: float

    def steady_for(self, room_down: float, room_up: float) -> float:
        """Seconds from now during which decay moves the total by less than ``room_down`` and ``room_up``.

        0 when there is no room where it moves; infinite when decay cannot use it up; never
        beyond ``window_left``.
        """
        seconds = self.window_left
        for moving, room in ((self.falling, room_down), (self.rising, room_up)):
            if moving <= 0 or self.rate <= 0:
                continue  # nothing moves this way
            if room <= 0:
                return 0.0
            if moving > room:
                # moving * (1 - exp(-rate * t)) < room  <=>  t < -ln(1 - room / moving) / rate
                seconds = min(seconds, -math.log1p(-room / moving) / self.rate)
        return seconds


def drift(lead: Lead, rules: CompiledRules, scored: Scored, now: float) -> Drift:
    """The ``Drift`` of ``lead`` scored with ``rules`` at ``now`` (a POSIX timestamp), as ``scored`` found it.

    ``scored`` is ``score_in_full`` of the same lead, rules and moment: its tallies and sums are
    read, not worked out again. An activity dated after ``now`` counts as now until then: its
    points change as no decay says, so such a lead has no steady time at all.
    """
    seen = scored.seen
    falling = rising = rate = 0.0
    earned_falling = 0.0
    for rule, tally in (*seen.engagement.items(), *seen.negatives.items()):
        points, cap = tally[_POINTS], rule.cap
        # as the engine caps them: what a rule earns stops at its cap, what a negative takes at its own
        if cap is not None and (points > cap if rule.kind == "engagement" else points < cap):
            points = cap
        if points > 0:
            if rule.kind == "engagement":
                earned_falling += points
            else:
                falling += points
        elif points < 0:
            rising -= points
        if points and rule.decay > rate:
            rate = rule.decay
    # earned points count up to the engagement cap; when nothing earned is negative, what falls is that capped sum
    negative_earned = any(t[_POINTS] < 0 for t in seen.engagement.values())
    falling += earned_falling if negative_earned else min(earned_falling, rules.source.engagement.cap)
    return Drift(scored.total, scored.engagement, falling, rising, rate, _window_left(lead, rules, now))


def _window_left(lead: Lead, rules: CompiledRules, now: float) -> float:
    """Seconds from ``now`` until the first activity leaves a window: 0 with one dated after ``now``."""
    window_left = math.inf
    # an activity out of the longest window is out of every one: its route is not looked up
    longest = max((c.within_seconds for group in rules.windowed.values() for c in group), default=-math.inf)
    routes = rules.cache.routes
    for activity in lead.activities:
        at = activity.ts
        if at > now:
            return 0.0
        if at + longest - now < 0:
            continue
        route = routes.get((activity.type, activity.url, activity.name)) or rules.route(activity)
        for counter in route.windowed:
            # counted while now - at <= within_seconds: the count holds until at + within_seconds
            left = at + counter.within_seconds - now
            if 0 <= left < window_left:
                window_left = left
    return window_left
