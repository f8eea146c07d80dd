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
from connector.scoring.engine import (
    _NO_CARDS,
    _POINTS,
    _cards,
    _fire_signals,
    _fit,
    _property_hits,
    _tally_activities,
)
from connector.scoring.values import email_domain


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


def drift(lead: Lead, rules: CompiledRules, now: float) -> Drift:
    """The ``Drift`` of ``lead`` scored with ``rules`` at ``now`` (a POSIX timestamp).

    An activity dated after ``now`` counts as now until then: its points change as no decay
    says, so such a lead has no steady time at all.
    """
    props = lead.properties
    domain = email_domain(props)
    texts = rules.cache.activity_texts
    seen = _tally_activities(rules, lead.activities, now, with_disqualifiers=False)
    falling = rising = rate = 0.0
    earned_falling = earned = lost = 0.0
    for rule, tally in (*seen.engagement.items(), *seen.negatives.items()):
        points, cap = tally[_POINTS], rule.cap
        # as the engine caps them: what a rule earns stops at its cap, what a negative takes at its own
        if cap is not None and (points > cap if rule.kind == "engagement" else points < cap):
            points = cap
        if rule.kind == "engagement":
            earned += points
        else:
            lost += points
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
    # the engine's sums, without the reasons: the raw values tell which side of a limit the rounded ones are on
    fit_cards = _cards(rules.fit_cards, props, domain, {}, now, texts) if rules.fit_cards else _NO_CARDS
    fit = _fit(_property_hits(rules, props, domain), fit_cards, rules.source.fit)
    counted = rules.engagement_cards
    cards = _cards(counted, props, domain, seen.windowed, now, texts).points if counted else 0.0
    engagement = min(earned, rules.source.engagement.cap) + lost + cards
    total = fit.points + engagement + _fire_signals(rules.signals, seen.windowed, fit.grade).points
    floor = rules.source.thresholds.floor
    window_left = math.inf
    for activity in lead.activities:
        at = activity.ts
        if at > now:
            window_left = 0.0
            break
        route = rules.route(activity)
        for counter in route.windowed:
            # counted while now - at <= within_seconds: the count holds until at + within_seconds
            left = at + counter.within_seconds - now
            if 0 <= left < window_left:
                window_left = left
    return Drift(total if floor is None else max(total, floor), engagement, falling, rising, rate, window_left)
