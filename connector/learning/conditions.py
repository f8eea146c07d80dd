"""Conditions: yes/no questions about a lead, each one a rule of the rules file.

A learned scorecard is a list of conditions with points. Each condition is written in the rules
file's own vocabulary (a property test, or a count of matching activities within a window), so the
scoring engine decides whether it holds: what calibration learns from is exactly what
``handoff score`` will compute from the proposed file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.scoring.phrases import humanize
from connector.scoring.rules import ActivityTest, PropertyTest, ScorecardRule, ScoringRules

#: the keys of a property test and of an activity test, as the rules schema declares them
PROPERTY_KEYS = tuple(PropertyTest.model_fields)
ACTIVITY_KEYS = tuple(ActivityTest.model_fields)


@dataclass(frozen=True)
class PropertyCondition:
    """Holds when a property test on the lead holds."""

    name: str
    test: Mapping[str, Any]
    reason: str
    #: "data" for a condition found in the leads, else the section of the rules file it came from
    origin: str = "data"

    @property
    def field(self) -> str:
        return str(self.test.get("field") or "email")


@dataclass(frozen=True)
class FirstMatch:
    """An engagement rule's place in its list: the first rule that matches an activity scores it."""

    rules: tuple[Mapping[str, Any], ...]
    position: int


@dataclass(frozen=True)
class ActivityCondition:
    """Holds when ``min_count`` to ``max_count`` matching activities happened within ``within_days``."""

    name: str
    match: Mapping[str, Any]
    reason: str
    #: None: at any time
    within_days: float | None = None
    min_count: int = 1
    #: None: no upper bound
    max_count: int | None = None
    #: set for engagement rules of a rules file, whose activities an earlier rule may have taken
    first_match: FirstMatch | None = None
    origin: str = "data"


@dataclass(frozen=True)
class AllCondition:
    """Holds when every one of its parts holds (a scorecard rule with ``all``)."""

    name: str
    parts: tuple[PropertyCondition | ActivityCondition, ...]
    reason: str
    origin: str = "scorecard"


Condition = PropertyCondition | ActivityCondition | AllCondition


def _pick(rule: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: getattr(rule, key) for key in keys if getattr(rule, key, None) is not None}


def activity_test(rule: Any) -> dict[str, Any]:
    """The activity test of a rule (its type and URL or name filters)."""
    return _pick(rule, ACTIVITY_KEYS)


def property_condition(rule: Any, section: str) -> PropertyCondition:
    """A property rule of a rules file as a condition, with the words the engine would use."""
    return PropertyCondition(
        rule.name, _pick(rule, PROPERTY_KEYS), rule.reason or humanize(rule.name) + " ({value})", section
    )


def _activity(rule: Any, section: str, **extra: Any) -> ActivityCondition:
    return ActivityCondition(rule.name, activity_test(rule), rule.reason or "", origin=section, **extra)


def _scorecard_part(test: Any, name: str, reason: str) -> PropertyCondition | ActivityCondition:
    if not test.is_activity_band():
        return PropertyCondition(name, _pick(test, PROPERTY_KEYS), reason, "scorecard")
    low = test.min_count or 0
    return ActivityCondition(
        name, activity_test(test), reason, test.within_days, low, test.max_count, origin="scorecard"
    )


def scorecard_condition(rule: ScorecardRule) -> Condition:
    """A scorecard rule as a condition: its own test, or all the tests listed under ``all``."""
    reason = rule.reason or ""
    if rule.all is None:
        return _scorecard_part(rule, rule.name, reason)
    parts = tuple(_scorecard_part(test, f"{rule.name}.all[{i}]", "") for i, test in enumerate(rule.all))
    return AllCondition(rule.name, parts, reason)


def rule_conditions(rules: ScoringRules) -> list[Condition]:
    """When each rule of a rules file fires, as conditions (signals excepted: the engine reports those).

    Fit, negative and scorecard rules fire when their test holds; engagement rules when they scored
    at least one activity (an earlier rule of the list takes the activities it matches); activity
    negatives and disqualifiers when at least one activity matched.
    """
    out: list[Condition] = [property_condition(rule, "fit") for rule in rules.fit.rules]
    engagement = tuple(activity_test(rule) for rule in rules.engagement.rules)
    out += [
        _activity(rule, "engagement", first_match=FirstMatch(engagement, i))
        for i, rule in enumerate(rules.engagement.rules)
    ]
    for section, items in (("negative", rules.negative), ("disqualifiers", rules.disqualifiers)):
        out += [
            _activity(rule, section) if rule.type is not None else property_condition(rule, section) for rule in items
        ]
    out += [scorecard_condition(rule) for rule in rules.scorecard]
    return out
