"""The scoring core: a lead, compiled rules and a clock in; a Qualification out.

Pure: no I/O, no SDKs, no wall clock. ``score`` works in steps, one small
function each: disqualifiers and fit from the properties, one pass over the
activities that tallies what each rule saw, the signals that fire, engagement,
and the level the total reaches. ``compile_rules`` (in compiled.py) does the
expensive work once per rules file, so that rescoring a whole CRM history takes
seconds (``scripts/bench_scoring.py``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from connector.model import Activity, Lead, Qualification, Reason, Stage
from connector.scoring.compiled import (
    RULE_TEXT_LIMIT,
    ActivityRule,
    BoundedCache,
    CardRule,
    CompiledRules,
    PropertyHit,
    PropertyRule,
    RankedReason,
    Route,
    SignalRule,
    WindowCount,
    compile_rules,
    rules_version,
)
from connector.scoring.phrases import ago, ago_key, one_line, quoted
from connector.scoring.rules import GRADE_STEPS, FitSection, GradeStep, Thresholds
from connector.scoring.values import email_domain, is_blank

__all__ = ["CompiledRules", "Scored", "compile_rules", "rules_version", "score", "score_in_full"]

#: reasons worth less than this are noise to a rep and are left out
_MIN_REASON_POINTS = 0.5
_MAX_INTERESTS = 5
_DAY = 86400.0
#: ago_key of each whole day up to two years: the words then change by the year, rarely met
_AGO_KEY_BY_DAY = tuple(ago_key(day * _DAY) for day in range(730))
_AGO_TABLE_END = len(_AGO_KEY_BY_DAY) * _DAY
#: reason groups: a disqualifier is named first, then the signals, then the rest by points
_DISQUALIFIER, _SIGNAL, _OTHER = 0, 1, 2

_Rule = TypeVar("_Rule", bound=Hashable)
_new_tuple = tuple.__new__
#: the Reason of a RankedReason, a rule's name and a property hit's rule's name, read in C
_reason_of = itemgetter(2)
_name = attrgetter("name")
_rule_name = attrgetter("rule.name")
ActivityTexts = dict[Hashable, BoundedCache[Any, str]]


#: What one rule saw of a lead's activities: ``[points so far, how many, latest effective time,
#: latest activity]``, read and written by the indexes below. A list, not a dataclass: about ten
#: are made for every lead scored, and building a list costs a third of calling a constructor.
Tally = list[Any]
_POINTS, _COUNT, _LATEST_AT, _LATEST = 0, 1, 2, 3


def _add(tallies: dict[_Rule, Tally], rule: _Rule, activity: Activity, at: float, points: float) -> None:
    """Count ``activity`` (at effective time ``at``, worth ``points``) in ``rule``'s tally."""
    tally = tallies.get(rule)
    if tally is None:
        tallies[rule] = [points, activity.count, at, activity]
        return
    tally[_POINTS] += points
    tally[_COUNT] += activity.count
    if at > tally[_LATEST_AT] or (at == tally[_LATEST_AT] and _rank(activity) > _rank(tally[_LATEST])):
        tally[_LATEST_AT], tally[_LATEST] = at, activity


def _rank(activity: Activity) -> tuple[str, str, int]:
    # breaks ties between activities at the same moment, so list order never shows in the words
    return (activity.name or "", activity.url or "", activity.count)


@dataclass(slots=True)
class ActivityTallies:
    """One pass over a lead's activities: a tally for each rule that saw any."""

    engagement: dict[ActivityRule, Tally] = field(default_factory=dict)
    negatives: dict[ActivityRule, Tally] = field(default_factory=dict)
    #: signals and scorecard counts: the activities within their window
    windowed: dict[SignalRule | WindowCount, Tally] = field(default_factory=dict)
    disqualifiers: dict[ActivityRule, Tally] = field(default_factory=dict)
    #: names of content, webinars and forms, by when the lead last engaged with each
    interests: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class Fit:
    points: float
    grade: str
    reasons: list[RankedReason]
    #: the reason of the first disqualifier on properties (in file order) that the lead meets
    disqualified_reason: str | None = None


@dataclass(slots=True)
class Signals:
    #: the signals that fire with what each saw, in the order of the rules file
    firing: tuple[tuple[SignalRule, Tally], ...]
    #: for each activity a firing signal names (by id), the first signal naming it: that signal's
    #: reason also carries the activity's engagement points, so one event is not told twice
    tellers: dict[int, SignalRule]
    points: float
    fast_track: bool


_NO_SIGNALS = Signals((), {}, 0.0, False)


@dataclass(slots=True)
class CardPoints:
    """What the scorecard rules that hold add, as they are (no cap, no decay)."""

    points: float
    reasons: list[RankedReason]
    #: the rules that hold
    cards: list[CardRule] = field(default_factory=list)


_NO_CARDS = CardPoints(0.0, [])


@dataclass(slots=True)
class Engagement:
    points: float
    reasons: list[RankedReason]
    #: engagement points that signals' reasons carry, by the id of the activity both name
    folded: dict[int, float]


@dataclass(frozen=True, slots=True)
class Scored:
    """A qualification with the sums behind it, which the decay sweep's drift reads rather than redoes."""

    qualification: Qualification
    seen: ActivityTallies
    #: the engagement and the total before rounding (the total after the floor)
    engagement: float
    total: float


def score(lead: Lead, rules: CompiledRules, now: datetime) -> Qualification:
    """Score one lead at ``now``. Same inputs, same output."""
    return score_in_full(lead, rules, now).qualification


def score_in_full(lead: Lead, rules: CompiledRules, now: datetime) -> Scored:
    """``score``, with what its activities tallied and its raw sums (``connector.scoring.drift``)."""
    props = lead.properties
    domain = email_domain(props)
    now_ts = now.timestamp()
    texts = rules.cache.activity_texts
    thresholds = rules.source.thresholds

    hits = _property_hits(rules, props, domain)
    fit_cards = _cards(rules.fit_cards, props, domain, {}, now_ts, texts) if rules.fit_cards else _NO_CARDS
    fit = _fit(hits, fit_cards, rules.source.fit)
    disqualified_reason = fit.disqualified_reason
    seen = _tally_activities(rules, lead.activities, now_ts, with_disqualifiers=disqualified_reason is None)
    if disqualified_reason is None and seen.disqualifiers:
        disqualified_reason = _activity_disqualifier(seen.disqualifiers, now_ts, texts)
    disqualified = disqualified_reason is not None
    signals = _fire_signals(rules.signals, seen.windowed, fit.grade)
    counted = rules.engagement_cards
    cards = _cards(counted, props, domain, seen.windowed, now_ts, texts) if counted else _NO_CARDS
    engagement = _engagement(seen, cards, rules.source.engagement.cap, signals.tellers, now_ts, texts)

    raw_total = fit.points + engagement.points + signals.points
    if thresholds.floor is not None:
        raw_total = max(raw_total, thresholds.floor)
    total = round(raw_total)
    ranked = [*fit.reasons, *engagement.reasons, *_signal_reasons(signals, engagement.folded, now_ts, texts)]
    if disqualified_reason is not None:
        ranked.append(_ranked(_DISQUALIFIER, 0.0, disqualified_reason, "disqualifier"))
    ranked.sort()
    stage = _level(thresholds, 0.0, total, fit, engagement, signals, disqualified)
    # the hysteresis margin only lowers the bars (it is never negative): an SQL holds SQL
    hold_stage = (
        stage
        if stage is Stage.SQL
        else _level(thresholds, thresholds.hysteresis, total, fit, engagement, signals, disqualified)
    )

    qualification = Qualification.of(  # positionally, in the order of the fields
        lead.id,
        total,
        round(fit.points),
        round(engagement.points),
        fit.grade,
        stage,
        hold_stage,
        disqualified,
        disqualified_reason,
        tuple([rule.name for rule, _ in signals.firing]) if signals.firing else (),
        tuple(map(_reason_of, ranked)),
        _missing(rules.bant, props),
        _latest_interests(seen.interests),
        rules.version,
        _fired(hits, fit_cards, seen, signals, cards),
    )
    return Scored(qualification, seen, engagement.points, raw_total)


def _fired(
    hits: list[PropertyHit], fit_cards: CardPoints, seen: ActivityTallies, signals: Signals, cards: CardPoints
) -> tuple[str, ...]:
    """The names of every rule that played a part: met on a property, saw an activity, fired or held.

    A rule whose points decayed to almost nothing still saw the lead's activity: it counts, so
    the report's lift compares leads by what the rules matched, not by what was left of them.
    Rule names are unique across the file and each rule is met once here: no set is needed.
    """
    # map() with attribute getters reads the names in C: a comprehension is a function call of
    # its own, and a loop runs a dozen bytecodes a name
    names = list(map(_rule_name, hits))
    if fit_cards.cards:
        names.extend(map(_name, fit_cards.cards))
    if cards.cards:
        names.extend(map(_name, cards.cards))
    names.extend(map(_name, seen.engagement))
    if seen.negatives:
        names.extend(map(_name, seen.negatives))
    if seen.disqualifiers:
        names.extend(map(_name, seen.disqualifiers))
    for signal, _ in signals.firing:
        names.append(signal.name)
    return tuple(names)


def _missing(bant: tuple[tuple[str, str], ...], props: Mapping[str, Any]) -> tuple[str, ...]:
    """The BANT answers the lead's properties leave blank, in the rules file's order."""
    missing: list[str] = []  # a loop, not a comprehension: that would be a function call of its own
    for name, field_name in bant:
        if is_blank(props.get(field_name)):
            missing.append(name)
    return tuple(missing)


# ------------------------------------------------------------ properties


def _ranked(group: int, points: float, text: str, kind: str) -> RankedReason:
    # tuple.__new__ skips NamedTuple's Python-level constructor: a dozen reasons per lead add up
    return (group, -abs(points), _new_tuple(Reason, (text, points, kind)))


def _property_reason(rule: PropertyRule, props: Mapping[str, Any], domain: str) -> str:
    return one_line(rule.template.format(value=quoted(props.get(rule.field)), domain=quoted(domain), field=rule.field))


def _property_hits(rules: CompiledRules, props: Mapping[str, Any], domain: str) -> list[PropertyHit]:
    """The property rules (fit, negative, disqualifier) the lead meets, with their reasons.

    Each group of rules reads one field (email rules the domain in it too), and titles,
    sizes, industries and domains repeat across leads: what a value meets is cached.
    """
    cache = rules.cache.property_hits
    found: list[PropertyHit] = []
    for group in rules.property_groups:
        value = domain if group.by_domain else props.get(group.field)
        # the class too: True == 1 must not share an entry
        key = (group, value.__class__, value)
        try:
            hits = cache.get(key)
            hashable = True
        except TypeError:  # an unhashable value (a list): worked out every time
            hits, hashable = None, False
        if hits is None:
            hits = _met(group.rules, props, domain)
            if hashable:
                cache.remember(key, hits)
        found.extend(hits)
    if rules.uncached_properties:
        found.extend(_met(rules.uncached_properties, props, domain))
    return found


def _met(rules: Iterable[PropertyRule], props: Mapping[str, Any], domain: str) -> tuple[PropertyHit, ...]:
    return tuple(
        [
            PropertyHit(rule, _ranked(_OTHER, rule.points, _property_reason(rule, props, domain), rule.kind))
            for rule in rules
            if rule.test(props, domain)
        ]
    )


def _fit(hits: Iterable[PropertyHit], cards: CardPoints, section: FitSection) -> Fit:
    """Fit points and the grade they give: the fit section's positive points up to its cap, the
    other property points (negatives, scorecard) as they are; and the first disqualifier met."""
    reasons = list(cards.reasons)
    capped, added = 0.0, cards.points
    first: PropertyHit | None = None
    for hit in hits:
        rule = hit.rule
        if rule.kind == "disqualifier":
            if first is None or rule.order < first.rule.order:
                first = hit
            continue
        if rule.capped and rule.points >= 0:
            capped += rule.points
        else:
            added += rule.points
        reasons.append(hit.ranked)
    points = min(capped, section.cap) + added
    return Fit(points, _grade(points, section.grades), reasons, None if first is None else first.ranked[2].text)


def _grade(fit: float, grades: Mapping[GradeStep, float]) -> str:
    for grade in GRADE_STEPS:
        if fit >= grades[grade]:
            return grade
    return "D"


# ------------------------------------------------------------ activities


def _tally_activities(
    rules: CompiledRules, activities: Iterable[Activity], now_ts: float, *, with_disqualifiers: bool
) -> ActivityTallies:
    """One pass over the activities: each rule's decayed points, counts and latest activity.

    This loop runs for every activity of every lead: the tallies are written out here with
    literal indexes (see ``Tally``) rather than through ``_add``, which the rarer rules use.
    """
    engagement: dict[ActivityRule, Tally] = {}
    seen = ActivityTallies(engagement, {}, {}, {}, {})
    routes = rules.cache.routes
    exp = math.exp
    for activity in activities:
        # pages and forms repeat across leads: one dict lookup, the rules are only run on a miss
        route = routes.get((activity.type, activity.url, activity.name)) or rules.route(activity)
        at = activity.ts
        if at > now_ts:
            at = now_ts  # a clock skewed into the future counts as now, never as more than now
        rule = route.engagement
        if rule is not None:
            count = activity.count
            points = rule.points * count * exp(-rule.decay * (now_ts - at)) if rule.points else 0.0
            tally = engagement.get(rule)
            if tally is None:
                engagement[rule] = [points, count, at, activity]
            else:
                tally[0] += points
                tally[1] += count
                if at > tally[2] or (at == tally[2] and _rank(activity) > _rank(tally[3])):
                    tally[2] = at
                    tally[3] = activity
        if route.beyond_engagement:
            _tally_beyond_engagement(seen, route, activity, at, now_ts - at, with_disqualifiers)
    return seen


def _tally_beyond_engagement(
    seen: ActivityTallies, route: Route, activity: Activity, at: float, age: float, with_disqualifiers: bool
) -> None:
    """The activity's part in negatives, windowed counts, disqualifiers and interests."""
    count = activity.count
    for rule in route.negatives:
        _add(seen.negatives, rule, activity, at, rule.points * count * math.exp(-rule.decay * age))
    for counter in route.windowed:
        if age <= counter.within_seconds:
            _add(seen.windowed, counter, activity, at, 0.0)
    if with_disqualifiers and route.disqualifier is not None and count > 0:
        _add(seen.disqualifiers, route.disqualifier, activity, at, 0.0)
    interest = route.interest
    if interest is not None and count > 0 and at > seen.interests.get(interest, -math.inf):
        seen.interests[interest] = at


def _activity_text(
    rule: ActivityRule | SignalRule | CardRule, tally: Tally, now_ts: float, texts: ActivityTexts
) -> str:
    """The reason's words, cached: they depend on the rule, the count, the latest name and URL, and
    how long ago the latest was (by ``ago_key``: one entry for all the ages said "3 weeks ago");
    the key holds only what the rule's words show, so the cache stays small and hits more often."""
    age = now_ts - tally[_LATEST_AT]  # never negative: tallies clamp future times to now
    words = rule.words
    # the count and the age's words as one int (ago_key is below 2**32, which the count is shifted by);
    # most ages are days old, read from a table rather than worked out by a call
    key: Any = 0
    if words.by_age:
        key = _AGO_KEY_BY_DAY[int(age) // 86400] if _DAY <= age < _AGO_TABLE_END else ago_key(age)
    if words.by_count:
        key |= tally[_COUNT] << 32
    if words.by_name or words.by_url:
        latest = tally[_LATEST]
        key = (key, latest.name if words.by_name else None, latest.url if words.by_url else None)
    cache = texts.get(rule)
    if cache is None:
        cache = texts[rule] = BoundedCache(RULE_TEXT_LIMIT)
    text = cache.get(key)
    if text is None:
        _, count, _, latest = tally
        text = cache.remember(key, words.fill(count, ago(age), latest.name, latest.url))
    return text


def _activity_disqualifier(tallies: dict[ActivityRule, Tally], now_ts: float, texts: ActivityTexts) -> str:
    """The reason of the first disqualifier on activities (in file order) that saw any."""
    rule, tally = min(tallies.items(), key=lambda item: item[0].order)
    return _activity_text(rule, tally, now_ts, texts)


def _fire_signals(
    signals: tuple[SignalRule, ...], windowed: dict[SignalRule | WindowCount, Tally], grade: str
) -> Signals:
    """The signals with enough matching activity in their window, for a lead of this grade, in file order."""
    if not windowed:
        return _NO_SIGNALS
    firing = []
    tellers: dict[int, SignalRule] = {}
    points, fast_track = 0.0, False
    for rule in signals:
        tally = windowed.get(rule)
        if tally is None or tally[_COUNT] < rule.min_count or (rule.min_grade is not None and grade > rule.min_grade):
            continue
        firing.append((rule, tally))
        tellers.setdefault(id(tally[_LATEST]), rule)
        points += rule.points
        fast_track = fast_track or rule.fast_track
    return Signals(tuple(firing), tellers, points, fast_track)


def _cards(
    cards: tuple[CardRule, ...],
    props: Mapping[str, Any],
    domain: str,
    windowed: dict[SignalRule | WindowCount, Tally],
    now_ts: float,
    texts: ActivityTexts,
) -> CardPoints:
    """The scorecard rules whose conditions all hold, each adding its points once."""
    found = CardPoints(0.0, [])
    for card in cards:
        if all(test(props, domain) for test in card.properties) and all(
            band.min_count <= _count(band.counter, windowed) <= band.max_count for band in card.bands
        ):
            found.points += card.points
            found.cards.append(card)
            found.reasons.append(_ranked(_OTHER, card.points, _card_text(card, windowed, now_ts, texts), card.kind))
    return found


def _count(counter: WindowCount, windowed: dict[SignalRule | WindowCount, Tally]) -> int:
    tally = windowed.get(counter)
    return 0 if tally is None else tally[_COUNT]


def _card_text(
    card: CardRule, windowed: dict[SignalRule | WindowCount, Tally], now_ts: float, texts: ActivityTexts
) -> str:
    """A scorecard reason; a rule on one count may name it, its window and the latest activity counted."""
    tally = windowed.get(card.bands[0].counter) if card.bands else None
    if tally is None:
        return card.words.fill(0, "", None, None)
    return _activity_text(card, tally, now_ts, texts)


def _engagement(
    seen: ActivityTallies,
    cards: CardPoints,
    cap: float,
    tellers: dict[int, SignalRule],
    now_ts: float,
    texts: ActivityTexts,
) -> Engagement:
    """Engagement points: each rule up to its cap, all of them up to the total cap; then activity
    negatives, each down to its floor, and the scorecard's counts, as they are."""
    reasons = list(cards.reasons)
    add = reasons.append
    folded: dict[int, float] = {}
    earned = 0.0
    # comparisons rather than min() and abs(), and the ranked reason built in place (as _ranked
    # builds it): builtin and function calls cost more than the work, ten times a lead
    for rule, tally in seen.engagement.items():
        points, rule_cap = tally[_POINTS], rule.cap
        if rule_cap is not None and points > rule_cap:
            points = rule_cap
        earned += points
        if tellers and (key := id(tally[_LATEST])) in tellers:
            folded[key] = folded.get(key, 0.0) + points
        elif points >= _MIN_REASON_POINTS:
            text = _activity_text(rule, tally, now_ts, texts)
            add((_OTHER, -points, _new_tuple(Reason, (text, points, "engagement"))))
        elif points <= -_MIN_REASON_POINTS:
            text = _activity_text(rule, tally, now_ts, texts)
            add((_OTHER, points, _new_tuple(Reason, (text, points, "engagement"))))
    lost = 0.0
    for rule, tally in seen.negatives.items():
        points, rule_cap = tally[_POINTS], rule.cap
        if rule_cap is not None and points < rule_cap:
            points = rule_cap
        lost += points
        if points >= _MIN_REASON_POINTS or points <= -_MIN_REASON_POINTS:
            add(_ranked(_OTHER, points, _activity_text(rule, tally, now_ts, texts), "negative"))
    return Engagement(min(earned, cap) + lost + cards.points, reasons, folded)


def _signal_reasons(
    signals: Signals, folded: dict[int, float], now_ts: float, texts: ActivityTexts
) -> list[RankedReason]:
    """One reason per firing signal, carrying the engagement points of the activity it names."""
    reasons = []
    for rule, tally in signals.firing:
        key = id(tally[_LATEST])
        told = folded.pop(key, 0.0) if signals.tellers[key] is rule else 0.0
        reasons.append(_ranked(_SIGNAL, rule.points + told, _activity_text(rule, tally, now_ts, texts), "signal"))
    return reasons


def _latest_interests(interests: dict[str, float]) -> tuple[str, ...]:
    """The names engaged with most recently (ties by name)."""
    if len(interests) < 2:  # most leads: nothing to sort
        return tuple(interests)
    names = sorted(interests)
    names.sort(key=interests.__getitem__, reverse=True)  # a stable sort: ties stay in name order
    return tuple(names[:_MAX_INTERESTS])


# ------------------------------------------------------------ level


def _level(
    thresholds: Thresholds,
    margin: float,
    total: int,
    fit: Fit,
    engagement: Engagement,
    signals: Signals,
    disqualified: bool,
) -> Stage:
    """The level the lead reaches with ``margin`` points of allowance: a disqualified lead stays a lead."""
    if disqualified:
        return Stage.LEAD
    if signals.fast_track or (total >= thresholds.sql - margin and fit.grade <= thresholds.sql_min_grade):
        return Stage.SQL
    if (
        total >= thresholds.mql - margin
        and fit.grade <= thresholds.mql_min_grade
        and engagement.points >= thresholds.mql_min_engagement - margin
    ):
        return Stage.MQL
    return Stage.LEAD
