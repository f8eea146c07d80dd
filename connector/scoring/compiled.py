"""Rules ready to score with: predicates built, rules indexed by field and activity type, and a cache.

``compile_rules`` does the expensive work once per rules file, so that scoring a
lead is mostly dictionary lookups. What repeats across leads (which rules a page
or a form falls under, the words of a reason) is remembered in a ``ScoringCache``.
"""

from __future__ import annotations

import hashlib
import math
import string
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from connector.model import Activity, Reason
from connector.scoring.phrases import humanize, one_line, quoted, window
from connector.scoring.predicates import ActivityPredicate, PropertyPredicate, activity_predicate, property_predicate
from connector.scoring.rules import (
    ActivityBand,
    Disqualifier,
    EngagementRule,
    FitRule,
    NegativeRule,
    ScorecardRule,
    ScoringRules,
    Signal,
)

DAY = 86400.0
_LN2 = math.log(2)
#: activity kinds whose name tells a rep what the person cares about
_NAMED_INTERESTS = frozenset(
    {"content_download", "webinar_registration", "webinar_attendance", "form_submission", "newsletter_signup"}
)
#: longest content, webinar or form name listed among a lead's interests
INTEREST_LIMIT = 100
#: entries a cache holds before it starts over: unbounded URL variety must not grow memory forever.
#: An entry costs about 250 bytes, and a backfill adds about one per contact (email values are
#: nearly all distinct), so this bounds each cache near 12 MB, full by 50,000 contacts: what a
#: process holds then is what it holds at a million
CACHE_LIMIT = 50_000
#: reason words one activity rule keeps (each rule has its own cache: see ScoringCache)
RULE_TEXT_LIMIT = 10_000

K = TypeVar("K")
V = TypeVar("V")


def rules_version(rules: ScoringRules, source_text: str) -> str:
    """The declared version, or a short hash of the file so every result is traceable."""
    if rules.version:
        return rules.version
    return "sha-" + hashlib.sha256(source_text.encode("utf-8")).hexdigest()[:10]


# ------------------------------------------------------------ compiled rules


@dataclass(frozen=True, slots=True)
class PropertyRule:
    """A fit, negative or disqualifier rule on one property."""

    #: position in the rules file: the first disqualifier that applies is named
    order: int
    name: str
    points: float
    template: str
    field: str
    test: PropertyPredicate
    kind: str  # fit | negative | disqualifier
    #: positive points stop at the fit cap (rules of the fit section); others are added as they are
    capped: bool = False
    #: the rule only looks at the domain of the email address (its test and its words)
    by_domain: bool = False


@dataclass(frozen=True, slots=True)
class ActivityWords:
    """A reason template for activity rules and the placeholders it uses (only those are filled in)."""

    template: str
    used: frozenset[str]
    #: the signal's window in words ("this week"), "" for rules without one
    window: str = ""
    #: which facts of a tally the words show: reasons are cached by these alone, so words that
    #: never name a page's URL keep one entry for all of a site's pages, not one per page
    by_count: bool = False
    by_age: bool = False
    by_name: bool = False
    by_url: bool = False

    @classmethod
    def of(cls, template: str, window_days: float | None = None) -> ActivityWords:
        used = frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
        return cls(
            template,
            used,
            window(window_days) if window_days is not None else "",
            by_count=not used.isdisjoint({"count", "s", "when"}),
            by_age=not used.isdisjoint({"ago", "when"}),
            by_name="name" in used,
            by_url="url" in used,
        )

    def fill(self, count: int, since: str, name: str | None, url: str | None) -> str:
        """The words for ``count`` matching activities, the latest ``since`` ago (e.g. "2 days ago")."""
        used = self.used
        values: dict[str, Any] = {}
        if "count" in used:
            values["count"] = count
        if "s" in used:
            values["s"] = "" if count == 1 else "s"
        if "ago" in used or "when" in used:
            values["ago"] = since
            values["when"] = since if count == 1 or not since else f"latest {since}"
        if "name" in used:
            values["name"] = quoted(name)
        if "url" in used:
            values["url"] = quoted(url)
        if "window" in used:
            values["window"] = self.window
        return one_line(self.template.format_map(values))


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: tallies are kept per rule
class ActivityRule:
    """An engagement, negative or disqualifier rule on activities."""

    #: position in its section of the rules file: the first disqualifier that applies is named
    order: int
    name: str
    points: float
    cap: float | None
    #: ln 2 / half-life in seconds: points are multiplied by exp(-decay * age)
    decay: float
    words: ActivityWords
    types: tuple[str, ...]
    test: ActivityPredicate | None
    kind: str  # engagement | negative | disqualifier


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: tallies are kept per rule
class SignalRule:
    """A buying-intent pattern: at least ``min_count`` matching activities within a window."""

    #: position in the rules file: signals are named in this order
    order: int
    name: str
    points: float
    within_seconds: float
    min_count: int
    min_grade: str | None
    fast_track: bool
    words: ActivityWords
    types: tuple[str, ...]
    test: ActivityPredicate | None
    kind: str = "signal"


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: tallies are kept per counter
class WindowCount:
    """Counts the activities a scorecard condition is about (its types, URL and name) within a window."""

    within_seconds: float
    types: tuple[str, ...]
    test: ActivityPredicate | None


@dataclass(frozen=True, slots=True)
class CountBand:
    """A scorecard condition on a count: ``min_count <= count <= max_count``."""

    counter: WindowCount
    min_count: int
    max_count: float


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: reason words are cached per rule
class CardRule:
    """A scorecard rule on activity counts, or on several conditions together.

    (A scorecard rule on one property is a PropertyRule, cached with the others.)
    """

    name: str
    points: float
    kind: str  # fit | engagement: where its points count
    properties: tuple[PropertyPredicate, ...]
    bands: tuple[CountBand, ...]
    #: the reason; a rule on one count may use the activity placeholders, one with ``all`` none
    words: ActivityWords


# Route and PropertyHit are read many times per lead: slotted dataclasses, whose attributes the
# interpreter reads fastest (a NamedTuple's fields go through a slower, generic lookup).


@dataclass(frozen=True, slots=True)
class Route:
    """Which rules one kind of activity (its type, URL and name) falls under."""

    engagement: ActivityRule | None
    negatives: tuple[ActivityRule, ...]
    #: signals and scorecard counts whose activities these are: tallied when within their window
    windowed: tuple[SignalRule | WindowCount, ...]
    disqualifier: ActivityRule | None
    #: the activity's name, fit to show, when it tells the rep what the lead is interested in
    interest: str | None
    #: any rule beyond engagement (or an interest) to tally: most page views and emails have none,
    #: and scoring skips the rest of the work for them
    beyond_engagement: bool = False


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: what a value meets is cached per group
class PropertyGroup:
    """Property rules that read the same thing: what a lead meets is cached by that thing's value.

    Every lead has its own email address but few domains: rules that only look at the
    domain of the address (``domain_in`` words without ``{value}``) are cached by domain.
    """

    field: str
    by_domain: bool
    rules: tuple[PropertyRule, ...]


@dataclass(frozen=True, slots=True)
class PropertyHit:
    """A property rule a lead meets, with the reason it gives."""

    rule: PropertyRule
    ranked: RankedReason


#: a reason with its place in the list: (group, -|points|, reason), where the disqualifier comes
#: first (group 0), then signals (1), then the rest (2), bigger contributions first. A plain
#: tuple: a dozen reasons per lead are built and sorted, and plain tuples do both fastest.
RankedReason = tuple[int, float, Reason]


RouteKey = tuple[str, str | None, str | None]
#: a group of property rules, the class of the value they read and the value
PropertyKey = tuple[PropertyGroup, type, Any]


class BoundedCache(dict[K, V], Generic[K, V]):
    """A dict that starts over when full. Lookups are plain ``dict.get``: scoring does millions."""

    __slots__ = ("limit",)

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key: K, value: V) -> V:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


@dataclass(slots=True)
class ScoringCache:
    """What scoring works out once and reuses across leads; each part bounded, any part safe to drop."""

    #: which rules each (type, URL, name) of activity falls under: a site's pages and forms repeat
    routes: BoundedCache[RouteKey, Route] = field(default_factory=BoundedCache)
    #: the property rules a field's value meets: titles, sizes and domains repeat
    property_hits: BoundedCache[PropertyKey, tuple[PropertyHit, ...]] = field(default_factory=BoundedCache)
    #: the words of activity reasons, one cache per rule, by what the rule's words show of a tally
    #: (count, how long ago, name, URL): formatting is the dear part. One small cache per rule, keyed
    #: by an int where the words show no name or URL, is looked up in half the time of one big
    #: cache keyed by tuples: a dozen lookups a lead.
    activity_texts: dict[Hashable, BoundedCache[Any, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """Rules ready to score with: predicates built and rules indexed by field and activity type."""

    source: ScoringRules
    version: str
    #: fit, negative and disqualifier rules on properties, grouped by what they read
    property_groups: tuple[PropertyGroup, ...]
    #: rules that read the whole email address, or whose words use its domain while reading
    #: another field: never cached
    uncached_properties: tuple[PropertyRule, ...]
    engagement: Mapping[str, tuple[ActivityRule, ...]]
    negative_activities: Mapping[str, tuple[ActivityRule, ...]]
    disqualifier_activities: Mapping[str, tuple[ActivityRule, ...]]
    #: signals and scorecard counts by activity type
    windowed: Mapping[str, tuple[SignalRule | WindowCount, ...]]
    #: signals in file order (the order they are named in)
    signals: tuple[SignalRule, ...]
    #: scorecard rules with ``all`` on properties only: they count toward fit
    fit_cards: tuple[CardRule, ...]
    #: scorecard rules with an activity count: they count toward engagement
    engagement_cards: tuple[CardRule, ...]
    #: (BANT answer, the property holding it)
    bant: tuple[tuple[str, str], ...] = ()
    cache: ScoringCache = field(default_factory=ScoringCache, compare=False, repr=False)

    def route(self, activity: Activity) -> Route:
        """The rules this kind of activity falls under, worked out once per (type, URL, name)."""
        key = (activity.type, activity.url, activity.name)
        found = self.cache.routes.get(key)
        if found is None:
            kind = activity.type
            negatives = tuple(r for r in self.negative_activities.get(kind, ()) if _meets(r.test, activity))
            windowed = tuple(r for r in self.windowed.get(kind, ()) if _meets(r.test, activity))
            disqualifier = _first_match(self.disqualifier_activities.get(kind, ()), activity)
            interest = _interest(activity)
            found = self.cache.routes.remember(
                key,
                Route(
                    engagement=_first_match(self.engagement.get(kind, ()), activity),
                    negatives=negatives,
                    windowed=windowed,
                    disqualifier=disqualifier,
                    interest=interest,
                    beyond_engagement=bool(negatives or windowed or disqualifier or interest),
                ),
            )
        return found


def _interest(activity: Activity) -> str | None:
    """The name of the content, webinar or form, when the activity has one worth listing."""
    if activity.type not in _NAMED_INTERESTS:
        return None
    return quoted(activity.name, INTEREST_LIMIT) or None


def _meets(test: ActivityPredicate | None, activity: Activity) -> bool:
    return test is None or test(activity)


def _first_match(rules: tuple[ActivityRule, ...], activity: Activity) -> ActivityRule | None:
    return next((rule for rule in rules if _meets(rule.test, activity)), None)


# ------------------------------------------------------------ compiling


def compile_rules(rules: ScoringRules, version: str) -> CompiledRules:
    """Build the predicates and per-field and per-type tables once per rules file."""
    default_decay = _decay(rules.engagement.half_life_days)
    lists = rules.lists
    on_properties = [r for r in rules.negative if r.type is None]
    on_activities = [r for r in rules.negative if r.type is not None]
    disqualifiers_on_properties = [r for r in rules.disqualifiers if r.type is None]
    disqualifiers_on_activities = [r for r in rules.disqualifiers if r.type is not None]
    property_cards = [r for r in rules.scorecard if r.all is None and not r.is_activity_band()]
    cards = [_card_rule(r, lists) for r in rules.scorecard if r.all is not None or r.is_activity_band()]
    signals = [_signal_rule(i, r) for i, r in enumerate(rules.signals)]
    property_rules = [
        *(_property_rule(i, r, "fit", lists, capped=True) for i, r in enumerate(rules.fit.rules)),
        *(_property_rule(i, r, "negative", lists) for i, r in enumerate(on_properties)),
        *(_property_rule(i, r, "disqualifier", lists) for i, r in enumerate(disqualifiers_on_properties)),
        *(_property_rule(i, r, "fit", lists) for i, r in enumerate(property_cards)),
    ]
    return CompiledRules(
        source=rules,
        version=version,
        property_groups=_by_what_they_read([r for r in property_rules if _cacheable(r)]),
        uncached_properties=tuple(r for r in property_rules if not _cacheable(r)),
        engagement=_by_type(
            _activity_rule(i, r, "engagement", default_decay) for i, r in enumerate(rules.engagement.rules)
        ),
        negative_activities=_by_type(
            _activity_rule(i, r, "negative", default_decay) for i, r in enumerate(on_activities)
        ),
        disqualifier_activities=_by_type(
            _activity_rule(i, r, "disqualifier", default_decay) for i, r in enumerate(disqualifiers_on_activities)
        ),
        windowed=_by_type([*signals, *(band.counter for card in cards for band in card.bands)]),
        signals=tuple(signals),
        fit_cards=tuple(card for card in cards if card.kind == "fit"),
        engagement_cards=tuple(card for card in cards if card.kind == "engagement"),
        bant=tuple(rules.bant.items()),
    )


def _decay(half_life_days: float) -> float:
    return _LN2 / (half_life_days * DAY)


def _property_rule(
    order: int,
    rule: FitRule | NegativeRule | Disqualifier | ScorecardRule,
    kind: str,
    lists: Mapping[str, list[str]],
    capped: bool = False,
) -> PropertyRule:
    default = humanize(rule.name) if kind == "disqualifier" else humanize(rule.name) + " ({value})"
    points = 0.0 if isinstance(rule, Disqualifier) else rule.points
    template = rule.reason or default
    field_name = rule.field or "email"
    by_domain = rule.domain_in is not None and field_name == "email" and "{value}" not in template
    return PropertyRule(
        order, rule.name, points, template, field_name, property_predicate(rule, lists), kind, capped, by_domain
    )


def _activity_rule(
    order: int, rule: EngagementRule | NegativeRule | Disqualifier, kind: str, default_decay: float
) -> ActivityRule:
    default = humanize(rule.name) + (" {ago}" if kind == "disqualifier" else ": {count}, {when}")
    if isinstance(rule, Disqualifier):
        points, cap, decay = 0.0, None, default_decay
    else:
        points, cap = rule.points, rule.cap
        decay = _decay(rule.half_life_days) if rule.half_life_days else default_decay
    words = ActivityWords.of(rule.reason or default)
    return ActivityRule(order, rule.name, points, cap, decay, words, rule.types(), activity_predicate(rule), kind)


def _signal_rule(order: int, rule: Signal) -> SignalRule:
    return SignalRule(
        order=order,
        name=rule.name,
        points=rule.points,
        within_seconds=rule.within_days * DAY,
        min_count=rule.min_count,
        min_grade=rule.min_grade,
        fast_track=rule.fast_track,
        words=ActivityWords.of(rule.reason or humanize(rule.name) + " {ago}", rule.within_days),
        types=rule.types(),
        test=activity_predicate(rule),
    )


def _card_rule(rule: ScorecardRule, lists: Mapping[str, list[str]]) -> CardRule:
    conditions = rule.conditions()
    bands = tuple(_count_band(c) for c in conditions if c.is_activity_band())
    if rule.all is not None:
        default = humanize(rule.name)
        window_days = None
    else:
        window_days = rule.within_days
        default = humanize(rule.name) + (": {count} {window}" if window_days else ": {count}")
    return CardRule(
        name=rule.name,
        points=rule.points,
        kind="engagement" if bands else "fit",
        properties=tuple(property_predicate(c, lists) for c in conditions if not c.is_activity_band()),
        bands=bands,
        words=ActivityWords.of(rule.reason or default, window_days),
    )


def _count_band(condition: ActivityBand) -> CountBand:
    within = math.inf if condition.within_days is None else condition.within_days * DAY
    counter = WindowCount(within, condition.types(), activity_predicate(condition))
    low = condition.min_count or 0
    high = math.inf if condition.max_count is None else condition.max_count
    return CountBand(counter, low, high)


_R = TypeVar("_R", ActivityRule, SignalRule | WindowCount)


def _by_type(rules: Iterable[_R]) -> dict[str, tuple[_R, ...]]:
    """Compiled rules by each activity type they are about, in file order."""
    table: dict[str, list[_R]] = {}
    for rule in rules:
        for kind in rule.types:
            table.setdefault(kind, []).append(rule)
    return {kind: tuple(found) for kind, found in table.items()}


def _cacheable(rule: PropertyRule) -> bool:
    # every lead has its own address: a rule reading the whole of it would add an entry per lead
    # and empty the shared cache every CACHE_LIMIT leads; the words of a rule on another field
    # that mention {domain} depend on the email too
    if rule.field == "email":
        return rule.by_domain
    return "{domain}" not in rule.template


def _by_what_they_read(rules: list[PropertyRule]) -> tuple[PropertyGroup, ...]:
    groups: dict[tuple[str, bool], list[PropertyRule]] = {}
    for rule in rules:
        groups.setdefault((rule.field, rule.by_domain), []).append(rule)
    return tuple(PropertyGroup(name, by_domain, tuple(group)) for (name, by_domain), group in groups.items())
