"""The scoring core: a lead, compiled rules and a clock in; a Qualification out.

Pure: no I/O, no SDKs, no wall clock. ``compile_rules`` does the expensive work
once per rules file (regexes, per-type rule tables) so ``score`` stays cheap
enough to rescore a whole CRM history in seconds.
"""

from __future__ import annotations

import hashlib
import math
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.model import Activity, Lead, Qualification, Reason, Stage
from connector.scoring.phrases import ago, humanize, window
from connector.scoring.rules import (
    ActivityTest,
    Disqualifier,
    EngagementRule,
    FitRule,
    NegativeRule,
    PropertyTest,
    ScoringRules,
    Signal,
)

_DAY = 86400.0
_LN2 = math.log(2)
#: reasons worth less than this are noise to a rep and are left out
_MIN_REASON_POINTS = 0.5
#: activity kinds whose name tells a rep what the person cares about
_NAMED_INTERESTS = frozenset(
    {"content_download", "webinar_registration", "webinar_attendance", "form_submission", "newsletter_signup"}
)
_MAX_INTERESTS = 5
_MAX_ROUTES = 100_000
_new_tuple = tuple.__new__

PropertyPredicate = Callable[[Mapping[str, Any], str], bool]
ActivityPredicate = Callable[[Activity], bool]


def rules_version(rules: ScoringRules, source_text: str) -> str:
    """The declared version, or a short hash of the file so every result is traceable."""
    if rules.version:
        return rules.version
    return "sha-" + hashlib.sha256(source_text.encode("utf-8")).hexdigest()[:10]


def email_domain(properties: Mapping[str, Any], field_name: str = "email") -> str:
    value = properties.get(field_name)
    if not isinstance(value, str) or "@" not in value:
        return ""
    return value.rsplit("@", 1)[1].strip().lower()


def _is_blank(value: Any) -> bool:
    return value is None or (value.__class__ is str and (value == "" or value.isspace()))


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
    return None


_NUMERIC_START = frozenset("0123456789+-.")


_BOOLEAN_WORDS = {"true": True, "false": False}


def _norm(value: Any) -> Any:
    """Compare strings case- and space-insensitively, numbers numerically, booleans as booleans.

    CRMs send checkboxes as "true"/"false" (HubSpot) or as JSON booleans (Salesforce);
    both must match ``equals: true``, and 1 must not (in Python, True == 1).
    """
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, str):
        text = value.strip()
        word = _BOOLEAN_WORDS.get(text.lower())
        if word is not None:
            return ("bool", word)
        # only try a number when it could be one: raising ValueError per word is slow
        number = _as_number(text) if text[:1] in _NUMERIC_START else None
        return number if number is not None else text.lower()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _property_predicate(test: PropertyTest, lists: Mapping[str, list[str]]) -> PropertyPredicate:
    field_name = test.field or "email"
    if test.domain_in is not None:
        domains = frozenset(
            d.lower() for d in (lists[test.domain_in] if isinstance(test.domain_in, str) else test.domain_in)
        )

        def in_domains(props: Mapping[str, Any], domain: str) -> bool:
            value = domain if field_name == "email" else email_domain(props, field_name)
            # subdomains count: mail.rival.com belongs to rival.com, so try each parent domain
            while value:
                if value in domains:
                    return True
                value = value.partition(".")[2]
            return False

        return in_domains
    if test.present is not None:
        want = test.present
        return lambda props, _d: (not _is_blank(props.get(field_name))) == want
    if test.matches is not None:
        pattern = re.compile(test.matches, re.IGNORECASE)
        search = pattern.search
        return lambda props, _d: (v := props.get(field_name)) is not None and v != "" and search(str(v)) is not None
    if test.one_of is not None:
        options = frozenset(_norm(o) for o in (lists[test.one_of] if isinstance(test.one_of, str) else test.one_of))
        return lambda props, _d: _norm(props.get(field_name)) in options
    if test.none_of is not None:
        excluded = frozenset(_norm(o) for o in (lists[test.none_of] if isinstance(test.none_of, str) else test.none_of))
        return lambda props, _d: not _is_blank(v := props.get(field_name)) and _norm(v) not in excluded
    if test.not_equals is not None:
        unwanted = _norm(test.not_equals)
        return lambda props, _d: not _is_blank(v := props.get(field_name)) and _norm(v) != unwanted
    if test.min is not None or test.max is not None:
        low = -math.inf if test.min is None else test.min
        high = math.inf if test.max is None else test.max

        def in_range(props: Mapping[str, Any], _d: str) -> bool:
            number = _as_number(props.get(field_name))
            return number is not None and low <= number <= high

        return in_range
    wanted = _norm(test.equals)
    return lambda props, _d: _norm(props.get(field_name)) == wanted


def _activity_predicate(test: ActivityTest) -> ActivityPredicate | None:
    """The extra conditions beyond the type, or None when the type is enough."""
    checks: list[ActivityPredicate] = []
    if test.url_contains is not None:
        needles = (
            [test.url_contains.lower()]
            if isinstance(test.url_contains, str)
            else [n.lower() for n in test.url_contains]
        )
        checks.append(lambda a: a.url is not None and any(n in a.url.lower() for n in needles))
    if test.url_matches is not None:
        url_re = re.compile(test.url_matches, re.IGNORECASE)
        checks.append(lambda a: a.url is not None and url_re.search(a.url) is not None)
    if test.name_matches is not None:
        name_re = re.compile(test.name_matches, re.IGNORECASE)
        checks.append(lambda a: a.name is not None and name_re.search(a.name) is not None)
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda a: all(check(a) for check in checks)


@dataclass(frozen=True, slots=True)
class _PropertyRule:
    name: str
    points: float
    template: str
    field: str
    test: PropertyPredicate
    kind: str


@dataclass(frozen=True, slots=True, eq=False)  # identity hash: used as a dict key per lead
class _ActivityRule:
    index: int
    name: str
    points: float
    cap: float | None
    decay: float  # ln2 / half-life in seconds
    template: str
    test: ActivityPredicate | None
    kind: str
    within_seconds: float = math.inf
    min_count: int = 1
    min_grade: str | None = None
    fast_track: bool = False
    placeholders: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        used = frozenset(name for _, name, _, _ in string.Formatter().parse(self.template) if name)
        object.__setattr__(self, "placeholders", used)


def _rank(activity: Activity) -> tuple[str, str, int]:
    # breaks ties between activities at the same moment, so list order never shows in the words
    return (activity.name or "", activity.url or "", activity.count)


@dataclass(slots=True)
class _Tally:
    points: float = 0.0
    count: int = 0
    latest: float = -math.inf
    latest_activity: Activity | None = None

    def add(self, activity: Activity, at: float, points: float) -> None:
        self.points += points
        self.count += activity.count
        if at > self.latest or (at == self.latest and _rank(activity) > _rank(self.latest_activity)):  # type: ignore[arg-type]
            self.latest, self.latest_activity = at, activity


#: which rules one kind of activity (type, url, name) falls under, computed once, then cached:
#: (engagement rule, negative rules, signal rules, disqualifier rule, names an interest).
#: A plain tuple because the scoring loop unpacks one per activity.
_Route = tuple[Any, tuple[Any, ...], tuple[Any, ...], Any, bool]


@dataclass(frozen=True)
class CompiledRules:
    """Rules ready to score with: predicates built and rules indexed by activity type."""

    source: ScoringRules
    version: str
    #: fit and negative property rules grouped by the field they read (their results cache by value)
    property_groups: tuple[tuple[str, tuple[_PropertyRule, ...]], ...]
    #: rules whose words also use the email domain while reading another field: never cached
    uncached_properties: tuple[_PropertyRule, ...]
    disqualifier_properties: tuple[_PropertyRule, ...]
    engagement: Mapping[str, tuple[_ActivityRule, ...]]
    negative_activities: Mapping[str, tuple[_ActivityRule, ...]]
    disqualifier_activities: Mapping[str, tuple[_ActivityRule, ...]]
    signals: Mapping[str, tuple[_ActivityRule, ...]]
    bant: tuple[tuple[str, str], ...] = field(default=())
    #: routes by (type, url, name): pages and forms repeat across leads, so matching is done once
    _routes: dict[tuple[str, str | None, str | None], _Route] = field(default_factory=dict, repr=False)
    #: formatted activity reasons: formatting is the dearest part of a reason
    _texts: dict[tuple[Any, ...], str] = field(default_factory=dict, repr=False)
    _property_cache: dict[tuple[str, type, Any], tuple[tuple[int, float, str, float, str], ...]] = field(
        default_factory=dict, repr=False
    )

    def property_hits(self, props: Mapping[str, Any], domain: str) -> list[tuple[int, float, str, float, str]]:
        """The fit and negative property rules this lead matches, as reason entries.

        Each rule only looks at its own field (and, for email, the domain in it), and
        titles, sizes, industries and domains repeat across leads: the result for a
        field's value is computed once.
        """
        hits: list[tuple[int, float, str, float, str]] = []
        cache = self._property_cache
        for field_name, group in self.property_groups:
            value = props.get(field_name)
            key = (field_name, value.__class__, value)  # the class too: True == 1 must not share an entry
            try:
                found = cache.get(key)
            except TypeError:  # an unhashable value (a list): nothing to cache
                found, key = None, None
            if found is None:
                found = tuple(
                    (2, -abs(rule.points), _property_reason(rule, props, domain), rule.points, rule.kind)
                    for rule in group
                    if rule.test(props, domain)
                )
                if key is not None:
                    if len(cache) >= _MAX_ROUTES:
                        cache.clear()
                    cache[key] = found
            hits.extend(found)
        for rule in self.uncached_properties:
            if rule.test(props, domain):
                hits.append((2, -abs(rule.points), _property_reason(rule, props, domain), rule.points, rule.kind))
        return hits

    def route(self, activity: Activity) -> _Route:
        key = (activity.type, activity.url, activity.name)
        found = self._routes.get(key)
        if found is None:
            if len(self._routes) >= _MAX_ROUTES:
                self._routes.clear()  # bounded: unbounded URL variety must not grow memory forever
            kind = activity.type
            found = self._routes[key] = (
                _first_match(self.engagement.get(kind, ()), activity),
                tuple(r for r in self.negative_activities.get(kind, ()) if r.test is None or r.test(activity)),
                tuple(r for r in self.signals.get(kind, ()) if r.test is None or r.test(activity)),
                _first_match(self.disqualifier_activities.get(kind, ()), activity),
                kind in _NAMED_INTERESTS and bool(activity.name),
            )
        return found


def compile_rules(rules: ScoringRules, version: str) -> CompiledRules:
    """Build the predicates and per-type tables once per rules file."""
    default_decay = _LN2 / (rules.engagement.half_life_days * _DAY)

    def prop(rule: FitRule | NegativeRule | Disqualifier, kind: str, points: float) -> _PropertyRule:
        template = rule.reason or (
            humanize(rule.name) if kind == "disqualifier" else humanize(rule.name) + " ({value})"
        )
        return _PropertyRule(
            rule.name, points, template, rule.field or "email", _property_predicate(rule, rules.lists), kind
        )

    def act(i: int, rule: EngagementRule | NegativeRule | Disqualifier | Signal, kind: str) -> _ActivityRule:
        half_life = getattr(rule, "half_life_days", None)
        if kind == "signal":
            assert isinstance(rule, Signal)
            return _ActivityRule(
                i,
                rule.name,
                rule.points,
                None,
                0.0,
                rule.reason or humanize(rule.name) + " {ago}",
                _activity_predicate(rule),
                kind,
                rule.within_days * _DAY,
                rule.min_count,
                rule.min_grade,
                rule.fast_track,
            )
        template = rule.reason or (humanize(rule.name) + (" {ago}" if kind == "disqualifier" else ": {count}, {when}"))
        return _ActivityRule(
            i,
            rule.name,
            getattr(rule, "points", 0.0),
            getattr(rule, "cap", None),
            _LN2 / (half_life * _DAY) if half_life else default_decay,
            template,
            _activity_predicate(rule),
            kind,
        )

    def by_type(items: list[tuple[ActivityTest, _ActivityRule]]) -> dict[str, tuple[_ActivityRule, ...]]:
        table: dict[str, list[_ActivityRule]] = {}
        for test, compiled in items:
            for kind in test.types():
                table.setdefault(kind, []).append(compiled)
        return {k: tuple(v) for k, v in table.items()}

    negative = list(enumerate(rules.negative))
    disqualifiers = list(enumerate(rules.disqualifiers))
    property_rules = [
        *(prop(r, "fit", r.points) for r in rules.fit.rules),
        *(prop(r, "negative", r.points) for _, r in negative if r.type is None),
    ]
    return CompiledRules(
        source=rules,
        version=version,
        property_groups=_by_field([r for r in property_rules if _cacheable(r)]),
        uncached_properties=tuple(r for r in property_rules if not _cacheable(r)),
        disqualifier_properties=tuple(prop(r, "disqualifier", 0.0) for _, r in disqualifiers if r.type is None),
        engagement=by_type([(r, act(i, r, "engagement")) for i, r in enumerate(rules.engagement.rules)]),
        negative_activities=by_type([(r, act(i, r, "negative")) for i, r in negative if r.type is not None]),
        disqualifier_activities=by_type(
            [(r, act(i, r, "disqualifier")) for i, r in disqualifiers if r.type is not None]
        ),
        signals=by_type([(r, act(i, r, "signal")) for i, r in enumerate(rules.signals)]),
        bant=tuple(rules.bant.items()),
    )


def _cacheable(rule: _PropertyRule) -> bool:
    # the words of a rule on another field that mention {domain} depend on the email too
    return rule.field == "email" or "{domain}" not in rule.template


def _by_field(rules: list[_PropertyRule]) -> tuple[tuple[str, tuple[_PropertyRule, ...]], ...]:
    groups: dict[str, list[_PropertyRule]] = {}
    for rule in rules:
        groups.setdefault(rule.field, []).append(rule)
    return tuple((name, tuple(group)) for name, group in groups.items())


def _grade(fit: float, grades: Mapping[str, float]) -> str:
    for grade in ("A", "B", "C"):
        if fit >= grades[grade]:
            return grade
    return "D"


def _property_reason(rule: _PropertyRule, props: Mapping[str, Any], domain: str) -> str:
    value = props.get(rule.field)
    return rule.template.format(value="" if value is None else value, domain=domain, field=rule.field)


def _activity_reason(rule: _ActivityRule, tally: _Tally, now_ts: float, texts: dict[tuple[Any, ...], str]) -> str:
    """The reason's words; the same rule, count, age and name always give the same words, so they are cached."""
    latest = tally.latest_activity
    since = ago(now_ts - tally.latest)
    key = (rule, tally.count, since, latest.name if latest else None, latest.url if latest else None)
    text = texts.get(key)
    if text is None:
        if len(texts) >= _MAX_ROUTES:
            texts.clear()
        text = texts[key] = _format_reason(rule, tally, since)
    return text


def _format_reason(rule: _ActivityRule, tally: _Tally, since: str) -> str:
    latest = tally.latest_activity
    used = rule.placeholders
    values: dict[str, Any] = {}
    if "count" in used:
        values["count"] = tally.count
    if "s" in used:
        values["s"] = "" if tally.count == 1 else "s"
    if "ago" in used or "when" in used:
        values["ago"] = since
        values["when"] = since if tally.count == 1 else f"latest {since}"
    if "name" in used:
        values["name"] = latest.name if latest and latest.name else ""
    if "url" in used:
        values["url"] = latest.url if latest and latest.url else ""
    if "window" in used:
        values["window"] = window(rule.within_seconds / _DAY) if rule.within_seconds != math.inf else ""
    return rule.template.format_map(values)


def _by_rule_index(item: tuple[_ActivityRule, _Tally]) -> int:
    return item[0].index


def _first_match(rules: tuple[_ActivityRule, ...], activity: Activity) -> _ActivityRule | None:
    for rule in rules:
        if rule.test is None or rule.test(activity):
            return rule
    return None


def score(lead: Lead, rules: CompiledRules, now: datetime) -> Qualification:
    """Score one lead at ``now``. Same inputs, same output."""
    source = rules.source
    props = lead.properties
    domain = email_domain(props)
    now_ts = now.timestamp()
    # (order, -|points|, text, points, kind): tuples sort in C, and Reasons are built once, in order
    reasons: list[tuple[int, float, str, float, str]] = []
    disqualified_reason: str | None = None

    for rule in rules.disqualifier_properties:
        if rule.test(props, domain):
            disqualified_reason = _property_reason(rule, props, domain)
            reasons.append((0, -0.0, disqualified_reason, 0.0, "disqualifier"))
            break

    fit_positive = 0.0
    fit_negative = 0.0
    for hit in rules.property_hits(props, domain):
        points = hit[3]
        if hit[4] == "fit" and points >= 0:
            fit_positive += points
        else:
            fit_negative += points
        reasons.append(hit)
    fit = min(fit_positive, source.fit.cap) + fit_negative
    grade = _grade(fit, source.fit.grades)

    engagement_tallies: dict[_ActivityRule, _Tally] = {}
    negative_tallies: dict[_ActivityRule, _Tally] = {}
    signal_tallies: dict[_ActivityRule, _Tally] = {}
    disqualifier_tally: _Tally | None = None
    disqualifier_rule: _ActivityRule | None = None
    interests: dict[str, float] = {}
    routes = rules._routes
    texts = rules._texts
    route_of = rules.route
    exp = math.exp
    for activity in lead.activities:
        rule, negative, signal_rules, disqualifier, interest = routes.get(
            (activity.type, activity.url, activity.name)
        ) or route_of(activity)
        at = activity.ts
        age = now_ts - at
        if age < 0:
            # a clock skewed into the future counts as now, never as more than now
            age, at = 0.0, now_ts
        count = activity.count
        if rule is not None:
            points = rule.points * count * exp(-rule.decay * age) if rule.points else 0.0
            tally = engagement_tallies.get(rule)
            if tally is None:
                engagement_tallies[rule] = _Tally(points, count, at, activity)
            else:  # _Tally.add, inlined: this is the hottest line of a backtest
                tally.points += points
                tally.count += count
                if at > tally.latest or (at == tally.latest and _rank(activity) > _rank(tally.latest_activity)):  # type: ignore[arg-type]
                    tally.latest, tally.latest_activity = at, activity
        for rule in negative:
            tally = negative_tallies.get(rule)
            if tally is None:
                tally = negative_tallies[rule] = _Tally()
            tally.add(activity, at, rule.points * count * exp(-rule.decay * age))
        for rule in signal_rules:
            if age <= rule.within_seconds:
                tally = signal_tallies.get(rule)
                if tally is None:
                    tally = signal_tallies[rule] = _Tally()
                tally.add(activity, at, 0.0)
        if disqualifier is not None and count > 0 and disqualified_reason is None:
            if disqualifier_tally is None:
                disqualifier_tally, disqualifier_rule = _Tally(), disqualifier
            disqualifier_tally.add(activity, at, 0.0)
        if interest and count > 0 and at > interests.get(activity.name, -math.inf):  # type: ignore[arg-type]
            interests[activity.name] = at  # type: ignore[index]
    if disqualifier_tally is not None and disqualifier_rule is not None:
        disqualified_reason = _activity_reason(disqualifier_rule, disqualifier_tally, now_ts, texts)
        reasons.append((0, -0.0, disqualified_reason, 0.0, "disqualifier"))

    signals: list[str] = []
    signal_points = 0.0
    fast_track = False
    fired: dict[int, tuple[_ActivityRule, _Tally]] = {}
    firing: list[tuple[_ActivityRule, _Tally]] = []
    for rule, tally in (
        sorted(signal_tallies.items(), key=_by_rule_index) if len(signal_tallies) > 1 else signal_tallies.items()
    ):
        if tally.count >= rule.min_count and (rule.min_grade is None or grade <= rule.min_grade):
            signals.append(rule.name)
            signal_points += rule.points
            fast_track = fast_track or rule.fast_track
            fired.setdefault(id(tally.latest_activity), (rule, tally))
            firing.append((rule, tally))

    # An engagement rule whose latest activity is the one a signal already names adds
    # its points to the signal's reason instead of repeating the same event in words.
    folded: dict[int, float] = {}
    engagement_positive = 0.0
    for rule, tally in engagement_tallies.items():
        points = tally.points if rule.cap is None else min(tally.points, rule.cap)
        engagement_positive += points
        key = id(tally.latest_activity)
        if key in fired:
            folded[key] = folded.get(key, 0.0) + points
        elif abs(points) >= _MIN_REASON_POINTS:
            reasons.append((2, -abs(points), _activity_reason(rule, tally, now_ts, texts), points, "engagement"))
    engagement_negative = 0.0
    for rule, tally in negative_tallies.items():
        points = tally.points if rule.cap is None else max(tally.points, rule.cap)
        engagement_negative += points
        if abs(points) >= _MIN_REASON_POINTS:
            reasons.append((2, -abs(points), _activity_reason(rule, tally, now_ts, texts), points, "negative"))
    engagement = min(engagement_positive, source.engagement.cap) + engagement_negative
    for rule, tally in firing:
        key = id(tally.latest_activity)
        points = rule.points + (folded.pop(key, 0.0) if fired.get(key, (None,))[0] is rule else 0.0)
        reasons.append((1, -abs(points), _activity_reason(rule, tally, now_ts, texts), points, "signal"))

    thresholds = source.thresholds
    raw_total = fit + engagement + signal_points
    total = round(raw_total if thresholds.floor is None else max(raw_total, thresholds.floor))
    disqualified = disqualified_reason is not None

    def level(margin: float) -> Stage:
        if disqualified:
            return Stage.LEAD
        if fast_track or (total >= thresholds.sql - margin and grade <= thresholds.sql_min_grade):
            return Stage.SQL
        if (
            total >= thresholds.mql - margin
            and grade <= thresholds.mql_min_grade
            and engagement >= thresholds.mql_min_engagement - margin
        ):
            return Stage.MQL
        return Stage.LEAD

    reasons.sort()
    missing = tuple([name for name, field_name in rules.bant if _is_blank(props.get(field_name))])
    latest_interests = sorted(interests, key=lambda name: (-interests[name], name))[:_MAX_INTERESTS]
    return Qualification(
        id=lead.id,
        score=total,
        fit=round(fit),
        engagement=round(engagement),
        grade=grade,
        stage=level(0.0),
        hold_stage=level(thresholds.hysteresis),
        disqualified=disqualified,
        disqualified_reason=disqualified_reason,
        signals=tuple(signals),
        # tuple.__new__ skips NamedTuple's Python-level constructor: a dozen reasons per lead add up
        reasons=tuple([_new_tuple(Reason, entry[2:]) for entry in reasons]),
        missing=missing,
        interests=tuple(latest_interests),
        rules_version=rules.version,
    )
