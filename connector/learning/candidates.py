"""Candidate conditions found in the leads themselves, plus the rules of the current file.

- each value of a property that enough leads share (``Occupation: Working Professional``);
- numeric properties cut into a few bands at their quantiles (``Age 25 to 59``);
- a property missing (``Budget not given``);
- counts of each kind of activity within a few windows (``3 website visits in the last 30 days``),
  for each activity type and for each activity test the current rules file already uses;
- the current file's fit and negative property rules as they are.

The learner then keeps the few that matter. Properties that identify a person or record the CRM's
own bookkeeping (email, names, owner, stage, lead status) are never candidates: they do not
generalise, or they record what sales did after the fact.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from connector.learning.conditions import (
    ActivityCondition,
    Condition,
    PropertyCondition,
    activity_test,
    property_condition,
)
from connector.learning.features import activity_counts, value_key
from connector.model import ACTIVITY_TYPES, Lead
from connector.scoring.phrases import humanize
from connector.scoring.rules import ScoringRules

#: never candidates: who the person is, and what the CRM or sales recorded about them
IDENTITY_FIELDS = frozenset(
    {"email", "first_name", "last_name", "name", "company", "phone", "website", "owner_id"}
    | {"lifecycle_stage", "lead_status", "converted", "converted_at"}
)
#: a numeric property with at most this many distinct values is treated value by value
_FEW_VALUES = 6
#: share of present values that must be numbers for a property to count as numeric
_NUMERIC_SHARE = 0.9
#: band edges are written with at most this many decimals
_MAX_DECIMALS = 4

_ACTIVITY_WORDS = {
    "page_view": "{count} page view{s} {window}",
    "site_visit": "{count} website visit{s} {window}",
    "email_open": "{count} marketing email{s} opened {window}",
    "email_click": "{count} marketing email click{s} {window}",
    "form_submission": "{count} form{s} submitted {window}",
    "content_download": "{count} content download{s} {window}",
    "newsletter_signup": "Subscribed to the newsletter {ago}",
    "webinar_registration": "{count} webinar registration{s} {window}",
    "webinar_attendance": "{count} webinar{s} attended {window}",
    "meeting_booked": "{count} meeting{s} booked {window}",
    "call": "{count} call{s} with us {window}",
    "chat": "{count} chat{s} with us {window}",
    "trial_signup": "Started a trial {ago}",
    "cart_add": "{count} cart addition{s} {window}",
    "unsubscribe": "Unsubscribed {ago}",
}


@dataclass(frozen=True)
class CandidateOptions:
    """How candidates are found."""

    #: numeric properties are cut into this many bands
    bands: int = 5
    #: a condition must hold for, and fail for, at least this share of leads (and ``min_leads``)
    min_support: float = 0.005
    min_leads: int = 10
    #: activity windows in days
    windows: tuple[int, ...] = (7, 30, 90, 365)
    exclude: frozenset[str] = IDENTITY_FIELDS

    def support(self, leads: int) -> int:
        return max(self.min_leads, math.ceil(self.min_support * leads))


@dataclass
class Candidates:
    """Conditions worth trying, and what was noticed about the data on the way."""

    conditions: list[Condition] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def slug(text: str, limit: int = 40) -> str:
    """``Working Professional`` -> ``working_professional``: a rule name part."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:limit].strip("_") or "x"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(value: Any) -> float | None:
    """A property value as a number, for choosing cut points (the engine decides what a rule matches)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.replace(",", "").strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _same(value: Any) -> Any:
    """What the engine treats as one value: text ignoring case and spaces, numbers as numbers."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "false"):
            return ("bool", text == "true")
        number = _number(text)
        return number if number is not None else text
    if isinstance(value, (int, float)):
        return float(value)
    return repr(value)


def _nice(value: float) -> float:
    """Two significant digits: cut points a person reads at a glance."""
    if value == 0:
        return 0.0
    digits = 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def _fmt(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:,g}"


def plain_number(number: float) -> int | float:
    """``5.0`` -> ``5``: whole numbers written without a decimal point."""
    return int(number) if float(number).is_integer() else number


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


class _Names:
    """Rule names unique across the whole proposed file."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self.used = set(reserved)

    def __call__(self, base: str) -> str:
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}_{n}"
        self.used.add(name)
        return name


def _decimals(numbers: NDArray[np.float64]) -> int:
    """How many decimals the values are written with (at most ``_MAX_DECIMALS``)."""
    for decimals in range(_MAX_DECIMALS):
        scaled = numbers * 10**decimals
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-6):
            return decimals
    return _MAX_DECIMALS


def _numeric_conditions(
    name: str, label: str, numbers: NDArray[np.float64], bands: int, support: int, names: _Names
) -> list[Condition]:
    """Bands cut at quantiles; each band ends one step (the data's last decimal) below the next one's start."""
    decimals = _decimals(numbers)
    step = 10.0**-decimals
    quantiles = np.quantile(numbers, np.linspace(0, 1, bands + 1)[1:-1])
    cuts = sorted(
        {round(math.ceil(round(_nice(float(q)) / step, 6)) * step, decimals) for q in quantiles if q > numbers.min()}
    )
    out: list[Condition] = []
    edges: list[float | None] = [None, *cuts, None]
    for low, high in itertools.pairwise(edges):
        top = None if high is None else round(high - step, decimals)
        test: dict[str, Any] = {"field": name}
        if low is not None:
            test["min"] = plain_number(low)
        if top is not None:
            test["max"] = plain_number(top)
        if low is None and high is not None:
            words, part = f"under {_fmt(high)}", f"under_{slug(_fmt(high))}"
        elif top is None and low is not None:
            words, part = f"{_fmt(low)} or more", f"{slug(_fmt(low))}_plus"
        elif low is not None and top is not None:
            words, part = f"{_fmt(low)} to {_fmt(top)}", f"{slug(_fmt(low))}_to_{slug(_fmt(top))}"
        else:
            continue
        inside = np.ones(len(numbers), dtype=np.bool_)
        if low is not None:
            inside &= numbers >= low
        if high is not None:
            inside &= numbers < high
        if inside.sum() >= support:
            out.append(PropertyCondition(names(f"{name}_{part}"), test, f"{label} {words} ({{value}})"))
    return out


def _value_conditions(name: str, label: str, present: Counter[Any], support: int, names: _Names) -> list[Condition]:
    groups: dict[Any, Counter[Any]] = {}
    for value, count in present.items():
        groups.setdefault(_same(value), Counter())[value.strip() if isinstance(value, str) else value] += count
    out: list[Condition] = []
    for key, spellings in sorted(groups.items(), key=lambda kv: -sum(kv[1].values())):
        if sum(spellings.values()) < support:
            continue
        raw = spellings.most_common(1)[0][0]
        if isinstance(key, tuple) and key[0] == "bool":
            truth = key[1]
            out.append(
                PropertyCondition(
                    names(f"{name}_{'yes' if truth else 'no'}"),
                    {"field": name, "equals": truth},
                    label if truth else f"{label}: no",
                )
            )
        elif isinstance(raw, (str, int, float)):
            text = raw if isinstance(raw, str) else _fmt(float(raw))
            out.append(
                PropertyCondition(
                    names(f"{name}_{slug(text)}"), {"field": name, "equals": raw}, f"{label}: {_escape(text)}"
                )
            )
    return out


def property_candidates(leads: Sequence[Lead], options: CandidateOptions, names: _Names) -> Candidates:
    """Values, bands and missing-ness of every property the leads carry."""
    found = Candidates()
    support = options.support(len(leads))
    keys = sorted({key for lead in leads for key in lead.properties} - options.exclude)
    for name in keys:
        # tallied by value (and its class: True and 1 are different answers), then looked at once per value
        tally = Counter(value_key(lead.properties.get(name)) for lead in leads)
        present: Counter[Any] = Counter()
        for (_, value), count in tally.items():
            if not _blank(value):
                present[value] += count
        missing = len(leads) - sum(present.values())
        if len({_same(v) for v in present}) + (1 if missing else 0) <= 1:
            found.warnings.append(f"property {name} has the same value on every lead: no rule can use it")
            continue
        label = humanize(name)
        numeric = [(number, count) for v, count in present.items() if (number := _number(v)) is not None]
        numbered = sum(count for _, count in numeric)
        if numbered >= _NUMERIC_SHARE * sum(present.values()) and len({n for n, _ in numeric}) > _FEW_VALUES:
            numbers = np.repeat([n for n, _ in numeric], [c for _, c in numeric]).astype(np.float64)
            found.conditions += _numeric_conditions(name, label, numbers, options.bands, support, names)
        else:
            found.conditions += _value_conditions(name, label, present, support, names)
        if support <= missing <= len(leads) - support:
            found.conditions.append(
                PropertyCondition(names(f"{name}_missing"), {"field": name, "present": False}, f"{label} not given")
            )
    return found


def _matchers(current: ScoringRules | None, leads: Sequence[Lead]) -> list[tuple[str, Mapping[str, Any], str]]:
    """(name, activity test, reason template) for each activity type seen and each test in the rules file."""
    seen_types = sorted({a.type for lead in leads for a in lead.activities} & ACTIVITY_TYPES)
    out = [(t, {"type": t}, _ACTIVITY_WORDS[t]) for t in seen_types]
    if current is not None:
        rules: list[Any] = [*current.engagement.rules, *current.signals, *(r for r in current.negative if r.type)]
        for rule in rules:
            out.append((rule.name, activity_test(rule), f"{humanize(rule.name)}: {{count}} {{window}}"))
    unique: dict[str, tuple[str, Mapping[str, Any], str]] = {}
    for name, test, words in out:
        key = repr(sorted((k, v if isinstance(v, str) else tuple(v)) for k, v in test.items()))
        unique.setdefault(key, (name, test, words))
    return list(unique.values())


def activity_candidates(
    leads: Sequence[Lead], now: datetime, current: ScoringRules | None, options: CandidateOptions, names: _Names
) -> list[Condition]:
    """At least k matching activities within each window, k at the counts' quantiles."""
    support = options.support(len(leads))
    probes = [
        ActivityCondition(name, test, words, within_days=w)
        for name, test, words in _matchers(current, leads)
        for w in options.windows
    ]
    if not probes:
        return []
    counts = activity_counts(probes, leads, now)
    out: list[Condition] = []
    for j, probe in enumerate(probes):
        column = counts[:, j]
        positive = column[column > 0]
        if len(positive) < support:
            continue
        levels = sorted({1, *(math.ceil(_nice(float(q))) for q in np.quantile(positive, (0.5, 0.8)))})
        for k in levels:
            held = int((column >= k).sum())
            if support <= held <= len(leads) - support:
                base = f"{slug(probe.name)}_{k}_plus_{probe.within_days:g}d"
                out.append(ActivityCondition(names(base), probe.match, probe.reason, probe.within_days, k))
    return out


def rule_candidates(current: ScoringRules, names: _Names) -> list[Condition]:
    """The current file's fit and negative property rules, as they are (names and words kept)."""
    rules = [(r, "fit") for r in current.fit.rules] + [(r, "negative") for r in current.negative if r.type is None]
    out: list[Condition] = []
    for rule, section in rules:
        condition = property_condition(rule, section)
        out.append(replace(condition, name=names(condition.name)))
    return out


def find_candidates(
    leads: Sequence[Lead],
    now: datetime,
    current: ScoringRules | None = None,
    options: CandidateOptions | None = None,
    reserved: Iterable[str] = (),
) -> Candidates:
    """Every condition worth trying on these leads: the current rules first, then what the data offers."""
    options = options or CandidateOptions()
    names = _Names(reserved)
    found = Candidates()
    if current is not None:
        found.conditions += rule_candidates(current, names)
    from_properties = property_candidates(leads, options, names)
    found.conditions += from_properties.conditions
    found.warnings += from_properties.warnings
    found.conditions += activity_candidates(leads, now, current, options, names)
    return found
