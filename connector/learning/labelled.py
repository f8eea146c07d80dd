"""Labelled leads: a canonical lead plus what became of it.

One JSON object per line: the canonical lead of DESIGN.md 4.3 plus ``"converted": true|false`` and
optionally ``"converted_at"``. A lead without ``converted`` has no known outcome: a backtest still
counts its level, calibration leaves it out.

Labels written as text or numbers (``"yes"``, ``"true"``, ``"1"``, ``1``; ``"no"``, ``"false"``,
``"0"``, ``0``) are read as booleans, with one warning for the whole file: exports from
spreadsheets write them that way and refusing them helps nobody. Anything else (``"maybe"``) skips
the line with a problem naming it. Numbers that are not finite (``NaN``, ``Infinity``, which JSON
readers accept) are read as missing values, also with one warning.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.model import InvalidLead, Lead, lead_from_json, parse_time

_TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
_FALSE_WORDS = frozenset({"false", "no", "n", "0"})


@dataclass(frozen=True, slots=True)
class LabelledLead:
    """A lead and its outcome; ``converted`` is None when the outcome is not known."""

    lead: Lead
    converted: bool | None
    converted_at: datetime | None = None


@dataclass
class LabelledSet:
    """Leads read from one source, with the lines that were skipped and what was read leniently."""

    source: str
    leads: list[LabelledLead] = field(default_factory=list)
    #: lines that could not be used, one ``source:line: why`` each
    problems: list[str] = field(default_factory=list)
    #: things read leniently, one line each
    warnings: list[str] = field(default_factory=list)

    @property
    def labelled(self) -> list[LabelledLead]:
        """The leads whose outcome is known."""
        return [item for item in self.leads if item.converted is not None]


class _Lenient:
    """Counts what was read leniently, to say it once per file rather than once per line."""

    def __init__(self) -> None:
        self.text_labels = 0
        self.first_text_label: int | None = None
        self.non_finite = 0
        self.first_non_finite: tuple[int, str] | None = None

    def warnings(self, source: str) -> list[str]:
        out = []
        if self.text_labels:
            out.append(
                f"{source}: converted given as text or a number on {self.text_labels} line(s)"
                f" (first: line {self.first_text_label}); read as true/false"
            )
        if self.non_finite and self.first_non_finite:
            line, name = self.first_non_finite
            out.append(
                f"{source}: {self.non_finite} value(s) are not finite numbers (NaN or Infinity),"
                f" first at line {line} ({name}); read as missing"
            )
        return out


def _label(value: Any, line: int, lenient: _Lenient) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    word: str | None = None
    if isinstance(value, str):
        word = value.strip().lower()
    elif isinstance(value, (int, float)) and value in (0, 1):
        word = str(int(value))
    if word in _TRUE_WORDS or word in _FALSE_WORDS:
        lenient.text_labels += 1
        if lenient.first_text_label is None:
            lenient.first_text_label = line
        return word in _TRUE_WORDS
    raise InvalidLead(f"converted: {value!r} is not true or false")


def _finite_properties(properties: Mapping[str, Any], line: int, lenient: _Lenient) -> dict[str, Any]:
    clean = dict(properties)
    for name, value in properties.items():
        if isinstance(value, float) and not math.isfinite(value):
            clean[name] = None
            lenient.non_finite += 1
            if lenient.first_non_finite is None:
                lenient.first_non_finite = (line, name)
    return clean


def labelled_from_json(data: Any, line: int = 0, lenient: _Lenient | None = None) -> LabelledLead:
    """One labelled lead from its JSON object; raises InvalidLead naming the field."""
    lenient = lenient or _Lenient()
    lead = lead_from_json(data)
    converted = _label(data.get("converted"), line, lenient)
    converted_at = None
    raw_at = data.get("converted_at")
    if raw_at is not None:
        try:
            converted_at = parse_time(raw_at) if isinstance(raw_at, str) else None
        except ValueError:
            converted_at = None
        if converted_at is None:
            raise InvalidLead(f"converted_at: not an ISO-8601 time: {raw_at!r}")
    properties = _finite_properties(lead.properties, line, lenient)
    if properties != lead.properties:
        lead = Lead(lead.id, properties, lead.activities)
    return LabelledLead(lead, converted, converted_at)


def parse_labelled(lines: Iterable[str], source: str) -> LabelledSet:
    """Labelled leads from JSON lines; bad lines go to ``problems``, lenient readings to ``warnings``."""
    result = LabelledSet(source)
    lenient = _Lenient()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            result.leads.append(labelled_from_json(json.loads(text), number, lenient))
        except json.JSONDecodeError as exc:
            result.problems.append(f"{source}:{number}: not valid JSON: {exc.msg} at column {exc.colno}")
        except InvalidLead as exc:
            result.problems.append(f"{source}:{number}: {exc}")
    result.warnings.extend(lenient.warnings(source))
    return result
