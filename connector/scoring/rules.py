"""The schema of the scoring rules: what marketing and sales agree on, kept in git.

Every section is a strict pydantic model (unknown keys are errors) so a typo
is caught when the file is loaded, not silently ignored while scoring.
"""

from __future__ import annotations

import re
import string
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from connector.model import ACTIVITY_TYPES

GRADES = ("A", "B", "C", "D")
Grade = Literal["A", "B", "C", "D"]
ActivityType = Literal[tuple(sorted(ACTIVITY_TYPES))]  # type: ignore[valid-type]

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
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ValueError(f"bad reason template: {exc}") from None
    unknown = sorted(f for f in fields if f not in allowed)
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{unknown[0]}}} in reason; use one of "
            + ", ".join(f"{{{p}}}" for p in sorted(allowed))
        )
    return template


class PropertyTest(StrictModel):
    """A test on one lead property. Exactly one operator is set.

    ``domain_in`` looks at the domain of ``field`` (default ``email``). It and
    ``one_of`` take a list or the name of a list under ``lists``.
    """

    field: str | None = None
    equals: str | float | bool | None = None
    one_of: str | list[str | float] | None = Field(None, description="a list, or the name of one under lists")
    matches: str | None = Field(None, description="regular expression, case-insensitive")
    min: float | None = Field(None, description="numeric lower bound, inclusive")
    max: float | None = Field(None, description="numeric upper bound, inclusive")
    domain_in: str | list[str] | None = None
    present: bool | None = None

    _validate_matches = field_validator("matches")(_compile_regex)

    @field_validator("one_of", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        # YAML reads NO, yes, off... as booleans; a country list would silently lose Norway
        if isinstance(value, list):
            for item in value:
                if isinstance(item, bool):
                    raise ValueError(f"got {item}: YAML reads yes/no/on/off as true/false, so quote the value")
        return value

    def operators(self) -> list[str]:
        ops = [op for op in ("equals", "one_of", "matches", "domain_in", "present") if getattr(self, op) is not None]
        if self.min is not None or self.max is not None:
            ops.append("min/max")
        return ops

    def is_property_test(self) -> bool:
        return self.field is not None or bool(self.operators())

    def check_property_test(self) -> None:
        ops = self.operators()
        if len(ops) != 1:
            raise ValueError(
                "a property rule needs exactly one of equals, one_of, matches, min/max, domain_in, present"
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


class FitSection(StrictModel):
    cap: float = Field(100, gt=0, description="most fit points a lead can earn from positive rules")
    grades: dict[Literal["A", "B", "C"], float] = Field(
        default_factory=lambda: {"A": 40, "B": 25, "C": 10},
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


class Thresholds(StrictModel):
    mql: float = Field(40, ge=0)
    mql_min_grade: Grade = "C"
    mql_min_engagement: float = Field(10, ge=0, description="engagement points an MQL needs: fit alone is not interest")
    sql: float = Field(75, ge=0)
    sql_min_grade: Grade = "B"
    hysteresis: float = Field(5, ge=0, description="points a qualified lead may drop before it counts as below")

    @field_validator("sql")
    @classmethod
    def _above_mql(cls, sql: float, info: ValidationInfo) -> float:
        mql = info.data.get("mql")
        if mql is not None and sql <= mql:
            raise ValueError(f"must be above the MQL threshold ({mql:g})")
        return sql


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
            for key in ("domain_in", "one_of"):
                ref = getattr(rule, key, None)
                if isinstance(ref, str) and ref not in rules.lists:
                    known = ", ".join(sorted(rules.lists)) or "none defined"
                    problems.append(((*path_prefix, i, key), f"no list named {ref!r} under lists ({known})"))
    return problems
