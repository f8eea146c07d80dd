"""The schema of the scoring rules: what marketing and sales agree on, kept in git.

Every section is a strict pydantic model (unknown keys are errors) so a typo
is caught when the file is loaded, not silently ignored while scoring.
"""

from __future__ import annotations

import re
import string
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from connector.model import ActivityType

GRADES = ("A", "B", "C", "D")
Grade = Literal["A", "B", "C", "D"]
#: the grades with a minimum number of fit points (below C is D)
GradeStep = Literal["A", "B", "C"]
GRADE_STEPS: tuple[GradeStep, ...] = ("A", "B", "C")

#: Placeholders each kind of reason template may use; anything else is a load error.
PROPERTY_PLACEHOLDERS = frozenset({"value", "domain", "field"})
ACTIVITY_PLACEHOLDERS = frozenset({"count", "s", "ago", "when", "name", "url", "window"})


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compile_regex(value: str | None) -> str | None:
    """Reject a bad pattern at load time, with the regex engine's own complaint."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc}") from None
    return value


def _check_template(template: str | None, allowed: frozenset[str]) -> str | None:
    if template is None:
        return None
    try:
        parts = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)]
    except ValueError as exc:
        raise ValueError(f"bad reason template: {exc}") from None
    fields = {name for name, _, _ in parts if name is not None}
    for name, spec, conversion in parts:
        if spec or conversion:  # CRM values are text: a number format would fail on the first odd value
            raise ValueError(f"placeholders take no format or conversion: write {{{name}}}")
    unknown = sorted(f for f in fields if f not in allowed)
    if unknown and not allowed:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}} in reason; this reason takes none")
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{unknown[0]}}} in reason; use one of "
            + ", ".join(f"{{{p}}}" for p in sorted(allowed))
        )
    return template


#: the operators of a property test, in the order error messages list them (min and max make one)
PROPERTY_OPERATORS = ("equals", "not_equals", "one_of", "none_of", "matches", "min/max", "domain_in", "present")
#: the keys whose value may be the name of a list under ``lists``
LIST_REFERENCES = ("domain_in", "one_of", "none_of")


class PropertyTest(StrictModel):
    """A test on one lead property. Exactly one operator is set.

    ``domain_in`` looks at the domain of ``field`` (default ``email``). It, ``one_of``
    and ``none_of`` take a list or the name of a list under ``lists``. Every operator
    but ``present`` needs a value: a lead without the property matches none of them.
    """

    field: str | None = None
    equals: str | float | bool | None = None
    not_equals: str | float | bool | None = Field(None, description="any value but this one (a value is needed)")
    one_of: str | list[str | float] | None = Field(None, description="a list, or the name of one under lists")
    none_of: str | list[str | float] | None = Field(
        None, description="a value outside this list, or the list named under lists (a value is needed)"
    )
    matches: str | None = Field(None, description="regular expression, case-insensitive")
    min: float | None = Field(None, description="numeric lower bound, inclusive")
    max: float | None = Field(None, description="numeric upper bound, inclusive")
    domain_in: str | list[str] | None = None
    present: bool | None = None

    _validate_matches = field_validator("matches")(_compile_regex)

    @field_validator("one_of", "none_of", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # YAML reads NO, yes, off... as booleans; a country list would silently lose Norway
        if isinstance(value, list):
            for item in value:
                if isinstance(item, bool):
                    raise ValueError(f"got {item}: YAML reads yes/no/on/off as true/false, so quote the value")
        return value

    def operators(self) -> list[str]:
        """The operators this test sets, in the order of PROPERTY_OPERATORS."""
        ranged = self.min is not None or self.max is not None
        return [op for op in PROPERTY_OPERATORS if (ranged if op == "min/max" else getattr(self, op) is not None)]

    def is_property_test(self) -> bool:
        return self.field is not None or bool(self.operators())

    def check_property_test(self) -> None:
        ops = self.operators()
        if len(ops) != 1:
            raise ValueError(
                "a property rule needs exactly one of "
                + ", ".join(PROPERTY_OPERATORS)
                + (f" (got {', '.join(ops)})" if ops else "")
            )
        if self.field is None and self.domain_in is None:
            raise ValueError("a property rule needs a field")


class ActivityTest(StrictModel):
    """A test on activities: their type, and optionally their URL or form/content name."""

    type: ActivityType | list[ActivityType] | None = None
    url_contains: str | list[str] | None = None
    url_matches: str | None = Field(None, description="regular expression, case-insensitive")
    name_matches: str | None = Field(None, description="regular expression, case-insensitive")

    _validate_regexes = field_validator("url_matches", "name_matches")(_compile_regex)

    def types(self) -> tuple[str, ...]:
        if self.type is None:
            return ()
        return (self.type,) if isinstance(self.type, str) else tuple(self.type)


class ActivityBand(ActivityTest):
    """How many matching activities happened within a window: a count, tested against a band.

    The count adds up each activity's ``count``; ``within_days`` unset means the
    whole history of the current episode. ``max_count: 0`` reads "none of these".
    """

    min_count: int | None = Field(None, ge=0, description="fewest matching activities, inclusive")
    max_count: int | None = Field(None, ge=0, description="most matching activities, inclusive")
    within_days: float | None = Field(None, gt=0, description="only activities this recent count; unset: all")

    def check_band(self) -> None:
        if not self.types():
            raise ValueError("an activity count needs a type")
        if self.min_count is None and self.max_count is None:
            raise ValueError("an activity count needs min_count, max_count or both")
        if self.min_count is not None and self.max_count is not None and self.min_count > self.max_count:
            raise ValueError(f"min_count ({self.min_count}) is above max_count ({self.max_count})")


_ACTIVITY_KEYS = ("type", "url_contains", "url_matches", "name_matches", "min_count", "max_count", "within_days")


class _ConditionFields(PropertyTest, ActivityBand):
    """One condition: a property test (``field`` + one operator) or an activity count (``type`` + a band)."""

    def is_activity_band(self) -> bool:
        return any(getattr(self, key) is not None for key in _ACTIVITY_KEYS)

    def check_condition(self) -> None:
        if self.is_activity_band() == self.is_property_test():
            raise ValueError(
                "a condition tests either a property (field + operator) or an activity count "
                "(type + min_count/max_count), not both"
                if self.is_property_test()
                else "a condition needs a property (field + operator) or an activity count (type + min_count/max_count)"
            )
        if self.is_activity_band():
            self.check_band()
        else:
            self.check_property_test()


class FitRule(PropertyTest):
    """Points for who the lead is."""

    name: str
    points: float
    reason: str | None = None

    @field_validator("reason")
    @classmethod
    def _template(cls, reason: str | None) -> str | None:
        return _check_template(reason, PROPERTY_PLACEHOLDERS)

    @model_validator(mode="after")
    def _one_operator(self) -> FitRule:
        self.check_property_test()
        return self


def _default_grades() -> dict[GradeStep, float]:
    return {"A": 40, "B": 25, "C": 10}


class FitSection(StrictModel):
    cap: float = Field(100, gt=0, description="most fit points a lead can earn from positive rules")
    grades: dict[GradeStep, float] = Field(
        default_factory=_default_grades,
        description="minimum fit points for each grade; below C is D",
    )
    rules: list[FitRule] = Field(default_factory=list)

    @field_validator("grades")
    @classmethod
    def _grades_descend(cls, grades: dict[str, float]) -> dict[str, float]:
        missing = [g for g in ("A", "B", "C") if g not in grades]
        if missing:
            raise ValueError(f"grade thresholds need A, B and C (missing {', '.join(missing)})")
        if not grades["A"] > grades["B"] > grades["C"]:
            raise ValueError("grade thresholds must fall from A to B to C")
        return grades


class _ActivityRule(ActivityTest):
    """A named rule on activities; it must say which activity types it is about."""

    kind_label: ClassVar[str] = "an activity rule"
    name: str
    reason: str | None = None

    @field_validator("reason")
    @classmethod
    def _template(cls, reason: str | None) -> str | None:
        return _check_template(reason, ACTIVITY_PLACEHOLDERS)

    @model_validator(mode="after")
    def _needs_type(self) -> _ActivityRule:
        if not self.types():
            raise ValueError(f"{self.kind_label} needs a type")
        return self


class EngagementRule(_ActivityRule):
    """Points per occurrence of matching activity, decaying with age."""

    kind_label: ClassVar[str] = "an engagement rule"
    points: float
    cap: float | None = Field(None, gt=0)
    half_life_days: float | None = Field(None, gt=0)


class EngagementSection(StrictModel):
    half_life_days: float = Field(30, gt=0, description="default decay: points halve every N days")
    cap: float = Field(100, gt=0)
    rules: list[EngagementRule] = Field(default_factory=list)


class Signal(_ActivityRule):
    """A buying-intent pattern: at least ``min_count`` matches within ``within_days``."""

    kind_label: ClassVar[str] = "a signal"
    min_count: int = Field(1, ge=1)
    within_days: float = Field(30, gt=0)
    min_grade: Grade | None = Field(None, description="only counts for leads with this fit grade or better")
    fast_track: bool = Field(True, description="makes the lead an SQL by itself")
    points: float = 0


class _PropertyOrActivityRule(PropertyTest, ActivityTest):
    name: str
    reason: str | None = None

    @field_validator("reason")
    @classmethod
    def _template(cls, reason: str | None, info: ValidationInfo) -> str | None:
        is_activity = info.data.get("type") is not None
        return _check_template(reason, ACTIVITY_PLACEHOLDERS if is_activity else PROPERTY_PLACEHOLDERS)

    def check_kind(self) -> None:
        is_activity = self.type is not None
        if is_activity == self.is_property_test():
            raise ValueError("a rule tests either a property (field + operator) or activities (type), not both")
        if not is_activity:
            self.check_property_test()


class NegativeRule(_PropertyOrActivityRule):
    """Points down for a property (lowers fit) or for activities (lowers engagement)."""

    points: float = Field(lt=0)
    cap: float | None = Field(None, lt=0, description="floor for the total of this rule")
    half_life_days: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _kind(self) -> NegativeRule:
        self.check_kind()
        return self


class Disqualifier(_PropertyOrActivityRule):
    """A lead matching this is never promoted; the reason is written to the CRM."""

    @model_validator(mode="after")
    def _kind(self) -> Disqualifier:
        self.check_kind()
        return self


class Condition(_ConditionFields):
    """One of the conditions listed under a scorecard rule's ``all``."""

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        self.check_condition()
        return self


class ScorecardRule(_ConditionFields):
    """Points added once, as they are (no cap, no decay), when a lead meets a condition.

    The condition is the rule's own (a property test or an activity count) or the
    conditions listed under ``all``, which must all hold. Points count toward
    engagement when an activity count is involved, toward fit otherwise.
    """

    name: str
    points: float
    all: list[Condition] | None = Field(None, min_length=1, description="conditions that must all hold")
    reason: str | None = None

    @field_validator("reason")
    @classmethod
    def _template(cls, reason: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("all") is not None:
            allowed: frozenset[str] = frozenset()
        elif info.data.get("type") is not None:
            allowed = ACTIVITY_PLACEHOLDERS
        else:
            allowed = PROPERTY_PLACEHOLDERS
        return _check_template(reason, allowed)

    @model_validator(mode="after")
    def _one_condition(self) -> ScorecardRule:
        if self.all is None:
            self.check_condition()
        elif self.is_activity_band() or self.is_property_test():
            raise ValueError("a rule with `all` keeps its conditions under `all`, not beside it")
        return self

    def conditions(self) -> list[_ConditionFields]:
        """The conditions that must all hold: the ones under ``all``, or the rule itself."""
        return list(self.all) if self.all is not None else [self]

    def counts_activities(self) -> bool:
        """True when the points count toward engagement (an activity count is among the conditions)."""
        return any(c.is_activity_band() for c in self.conditions())


class Thresholds(StrictModel):
    mql: float = 40
    mql_min_grade: Grade = "C"
    mql_min_engagement: float = Field(10, description="engagement points an MQL needs: fit alone is not interest")
    sql: float = 75
    sql_min_grade: Grade = "B"
    hysteresis: float = Field(5, ge=0, description="points a qualified lead may drop before it counts as below")
    floor: float | None = Field(
        None, description="lowest total score (e.g. 0); unset: totals may go below zero and keep their order"
    )

    @field_validator("sql")
    @classmethod
    def _above_mql(cls, sql: float, info: ValidationInfo) -> float:
        mql = info.data.get("mql")
        if mql is not None and sql <= mql:
            raise ValueError(f"must be above the MQL threshold ({mql:g})")
        return sql

    @field_validator("floor")
    @classmethod
    def _below_mql(cls, floor: float | None, info: ValidationInfo) -> float | None:
        # at or above the MQL threshold the floor would lift every lead to MQL and erase their order
        mql = info.data.get("mql")
        if floor is not None and mql is not None and floor >= mql:
            raise ValueError(f"must be below the MQL threshold ({mql:g}); at or above it every lead would be an MQL")
        return floor


class ScoringRules(StrictModel):
    """Everything the scoring core needs."""

    version: str | None = Field(None, description="stamped on every result; default: a hash of the file")
    lists: dict[str, list[str]] = Field(default_factory=dict, description="named lists, e.g. free-mail domains")
    fit: FitSection = Field(default_factory=FitSection)
    bant: dict[str, str] = Field(
        default_factory=dict,
        description="BANT answers to look for, e.g. budget: budget; an empty field is reported as missing",
    )
    engagement: EngagementSection = Field(default_factory=EngagementSection)
    signals: list[Signal] = Field(default_factory=list)
    negative: list[NegativeRule] = Field(default_factory=list)
    disqualifiers: list[Disqualifier] = Field(default_factory=list)
    scorecard: list[ScorecardRule] = Field(
        default_factory=list, description="points added once per condition met, without caps or decay"
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)


def cross_reference_problems(rules: ScoringRules) -> list[tuple[tuple[Any, ...], str]]:
    """Checks that span sections: list names that exist, rule names that are unique."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    sections: list[tuple[str, list[Any]]] = [
        ("fit.rules", rules.fit.rules),
        ("engagement.rules", rules.engagement.rules),
        ("signals", rules.signals),
        ("negative", rules.negative),
        ("disqualifiers", rules.disqualifiers),
        ("scorecard", rules.scorecard),
    ]
    seen: dict[str, str] = {}
    for section, items in sections:
        path_prefix = tuple(section.split("."))
        for i, rule in enumerate(items):
            if rule.name in seen:
                problems.append(
                    ((*path_prefix, i, "name"), f"rule name {rule.name!r} is already used in {seen[rule.name]}")
                )
            seen.setdefault(rule.name, section)
            problems += _unknown_lists((*path_prefix, i), rule, rules.lists)
            for j, condition in enumerate(getattr(rule, "all", None) or ()):
                problems += _unknown_lists((*path_prefix, i, "all", j), condition, rules.lists)
    return problems


def _unknown_lists(path: tuple[Any, ...], test: Any, lists: dict[str, list[str]]) -> list[tuple[tuple[Any, ...], str]]:
    problems = []
    for key in LIST_REFERENCES:
        ref = getattr(test, key, None)
        if isinstance(ref, str) and ref not in lists:
            known = ", ".join(sorted(lists)) or "none defined"
            problems.append(((*path, key), f"no list named {ref!r} under lists ({known})"))
    return problems
