"""Which conditions hold for which leads: a yes/no matrix, one row per lead, one column per condition.

The scoring engine answers every question, so a condition means here exactly what it will mean in
a rules file. Asking it lead by lead would be slow, so it is asked once per distinct value: a
property test only reads its own field, so each distinct value of a field is scored once through a
small rules set made of the tests on that field; each distinct kind of activity (type, URL, name)
is scored once through a rules set made of the activity tests. Counting activities within windows
is then a sum per lead.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from connector.learning.conditions import ActivityCondition, AllCondition, Condition, PropertyCondition
from connector.model import Activity, Lead
from connector.scoring import CompiledRules, compile_rules, score
from connector.scoring.rules import EngagementRule, EngagementSection, FitRule, FitSection, ScoringRules, Signal
from connector.scoring.values import email_domain

Matrix = NDArray[np.bool_]
_DAY = 86400.0
_PROBE = "probe"


def _json_key(data: Any) -> str:
    return json.dumps(data, sort_keys=True, default=str)


def value_key(value: Any) -> tuple[type, Any]:
    """A dictionary key for a property value: with its class (True == 1 == 1.0 for a dict, not for the engine)."""
    try:
        hash(value)
    except TypeError:
        return (value.__class__, _json_key(value))
    return (value.__class__, value)


def _tags(rules: CompiledRules, lead: Lead, now: datetime, kinds: frozenset[str]) -> list[int]:
    """The rules that fired, by the number each probe rule carries as its reason."""
    return [int(reason.text) for reason in score(lead, rules, now).reasons if reason.kind in kinds]


def _by_domain(condition: PropertyCondition) -> bool:
    return condition.test.get("domain_in") is not None


def _property_table(
    conditions: Sequence[PropertyCondition],
    field: str,
    leads: Sequence[Lead],
    lists: Mapping[str, list[str]],
    now: datetime,
) -> tuple[NDArray[np.intp], Matrix]:
    """Per lead, a row number into a table of which conditions hold for each distinct value.

    Tests on the email domain are asked once per domain, not once per address.
    """
    by_domain = all(_by_domain(c) for c in conditions)
    probe = compile_rules(
        ScoringRules(
            lists=dict(lists),
            fit=FitSection(
                cap=math.inf,
                rules=[FitRule(name=f"c{j}", points=1, reason=str(j), **c.test) for j, c in enumerate(conditions)],
            ),
        ),
        _PROBE,
    )
    values = [lead.properties.get(field) for lead in leads]
    if by_domain:
        values = [("probe@" + d) if (d := email_domain({field: v}, field)) else v for v in values]
    codes, distinct = _codes(values)
    table = np.zeros((len(distinct), len(conditions)), dtype=np.bool_)
    for row, value in enumerate(distinct):
        table[row, _tags(probe, Lead(_PROBE, {field: value}), now, frozenset({"fit"}))] = True
    return codes, table


def _codes(values: list[Any]) -> tuple[NDArray[np.intp], list[Any]]:
    """A code per value (equal values, of the same class, share one) and the distinct values in code order."""
    index: dict[Any, int] = {}
    try:
        # the class too: True == 1 == 1.0 for a dict, not for the engine
        codes = [index.setdefault((v.__class__, v), len(index)) for v in values]
    except TypeError:  # an unhashable value (a list): key it by its JSON
        index.clear()
        codes = [index.setdefault(value_key(v), len(index)) for v in values]
    distinct: list[Any] = [None] * len(index)
    for value, code in zip(values, codes, strict=True):
        distinct[code] = value
    return np.array(codes, dtype=np.intp), distinct


def _numbered(tests: Sequence[Mapping[str, Any]]) -> list[EngagementRule]:
    return [EngagementRule(name=f"e{j}", points=1, reason=str(j), **test) for j, test in enumerate(tests)]


class _ActivityMatchers:
    """Which activity tests each kind of activity (type, URL, name) passes, asked once per kind."""

    def __init__(self, conditions: Sequence[ActivityCondition], now: datetime) -> None:
        self.now = now
        self.ids: dict[str, int] = {}  # a test (and its place in a first-match list) -> matcher id
        any_tests: list[Mapping[str, Any]] = []
        self._any_ids: list[int] = []
        ordered: dict[str, tuple[tuple[Mapping[str, Any], ...], dict[int, int]]] = {}
        for condition in conditions:
            key = self.key(condition)
            if key in self.ids:
                continue
            self.ids[key] = matcher = len(self.ids)
            if condition.first_match is None:
                any_tests.append(condition.match)
                self._any_ids.append(matcher)
            else:
                where = condition.first_match
                group = ordered.setdefault(_json_key(where.rules), (where.rules, {}))
                group[1][where.position] = matcher
        # any match: each test is a signal that fires on one activity
        signals = [
            Signal(name=str(j), reason="-", within_days=1, fast_track=False, **t) for j, t in enumerate(any_tests)
        ]
        self._any = compile_rules(ScoringRules(signals=signals), _PROBE) if signals else None
        # first match: the engagement list as it is, each rule scoring one point under its number
        self._ordered = [
            (compile_rules(ScoringRules(engagement=EngagementSection(rules=_numbered(tests))), _PROBE), positions)
            for tests, positions in ordered.values()
        ]

    @staticmethod
    def key(condition: ActivityCondition) -> str:
        where = condition.first_match
        return _json_key([condition.match, None if where is None else [where.rules, where.position]])

    def of(self, kind: str, url: str | None, name: str | None) -> tuple[int, ...]:
        """The matchers an activity of this type, URL and name passes."""
        one = Lead(_PROBE, {}, (Activity(kind, self.now, 1, name, url),))
        hits: list[int] = []
        if self._any is not None:
            hits += [self._any_ids[int(signal)] for signal in score(one, self._any, self.now).signals]
        for rules, positions in self._ordered:
            hits += [positions[t] for t in _tags(rules, one, self.now, frozenset({"engagement"})) if t in positions]
        return tuple(sorted(hits))


def activity_counts(conditions: Sequence[ActivityCondition], leads: Sequence[Lead], now: datetime) -> NDArray[np.int64]:
    """Per lead and condition, how many matching activities happened within the condition's window."""
    matchers = _ActivityMatchers(conditions, now)
    # every activity once, as arrays: whose, which kind (type, URL, name), how old, how many
    kinds: dict[tuple[str, str | None, str | None], int] = {}
    owners, kind_of, ages, counts = [], [], [], []
    now_ts = now.timestamp()
    for i, lead in enumerate(leads):
        for activity in lead.activities:
            key = (activity.type, activity.url, activity.name)
            kind = kinds.get(key)
            if kind is None:
                kind = kinds[key] = len(kinds)
            owners.append(i)
            kind_of.append(kind)
            ages.append(now_ts - activity.ts)
            counts.append(activity.count)
    owner = np.array(owners, dtype=np.intp)
    kind_ids = np.array(kind_of, dtype=np.intp)
    age = np.maximum(np.array(ages, dtype=np.float64), 0.0)  # the engine counts a future activity as now
    count = np.array(counts, dtype=np.float64)
    takes = np.zeros((len(kinds), len(matchers.ids)), dtype=np.bool_)
    for key, kind in kinds.items():
        takes[kind, list(matchers.of(*key))] = True
    out = np.zeros((len(leads), len(conditions)), dtype=np.int64)
    sums: dict[tuple[int, float], NDArray[np.int64]] = {}
    for j, condition in enumerate(conditions):
        matcher = matchers.ids[matchers.key(condition)]
        window = math.inf if condition.within_days is None else condition.within_days * _DAY
        column = sums.get((matcher, window))
        if column is None:
            hit = takes[kind_ids, matcher] & (age <= window)
            column = np.bincount(owner[hit], weights=count[hit], minlength=len(leads)).astype(np.int64)
            sums[(matcher, window)] = column
        out[:, j] = column
    return out


def evaluate(
    conditions: Sequence[Condition],
    leads: Sequence[Lead],
    now: datetime,
    lists: Mapping[str, list[str]] | None = None,
) -> Matrix:
    """Which conditions hold for which leads at ``now``; ``lists`` resolves named lists in tests."""
    # an "all" condition holds where each of its parts does: the parts are evaluated like any other
    single: list[PropertyCondition | ActivityCondition] = []
    columns: list[list[int]] = []
    for condition in conditions:
        parts = condition.parts if isinstance(condition, AllCondition) else (condition,)
        columns.append(list(range(len(single), len(single) + len(parts))))
        single.extend(parts)
    held = _evaluate_single(single, leads, now, lists or {})
    out = np.zeros((len(leads), len(conditions)), dtype=np.bool_)
    for j, parts_at in enumerate(columns):
        out[:, j] = held[:, parts_at].all(axis=1)
    return out


def _evaluate_single(
    conditions: Sequence[PropertyCondition | ActivityCondition],
    leads: Sequence[Lead],
    now: datetime,
    lists: Mapping[str, list[str]],
) -> Matrix:
    out = np.zeros((len(leads), len(conditions)), dtype=np.bool_)
    by_field: dict[tuple[str, bool], list[int]] = {}
    activity_columns: list[int] = []
    for j, condition in enumerate(conditions):
        if isinstance(condition, PropertyCondition):
            by_field.setdefault((condition.field, _by_domain(condition)), []).append(j)
        else:
            activity_columns.append(j)
    for (field, _), at in by_field.items():
        properties = [c for c in (conditions[j] for j in at) if isinstance(c, PropertyCondition)]
        codes, table = _property_table(properties, field, leads, lists, now)
        out[:, at] = table[codes]
    if activity_columns:
        activities = [c for c in (conditions[j] for j in activity_columns) if isinstance(c, ActivityCondition)]
        counts = activity_counts(activities, leads, now)
        low = np.array([c.min_count for c in activities])
        high = np.array([np.iinfo(np.int64).max if c.max_count is None else c.max_count for c in activities])
        out[:, activity_columns] = (counts >= low) & (counts <= high)
    return out
