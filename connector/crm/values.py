"""Values at the CRM edge: clean canonical values coming in, text shaped for its field going out.

Anything a person or another app typed into the CRM (names, titles, form and
campaign names) may hold control characters, markup or line breaks, and any
number may be huge or not finite. Coming in, values become clean canonical
values: one line of printable text, plausible finite numbers. Going out, every
text is shaped for the field it lands in: a plain single line (subjects), plain
lines (Salesforce descriptions, long text fields), or HTML (HubSpot task
bodies), so no value can add lines, tags or markers of its own.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

#: C0/C1 controls, line and paragraph separators, and the bidi controls that can make text display reordered
_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_ANY_CONTROL = re.compile(f"[{_CONTROLS}]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"[ \t]+")
#: numbers past this are no count, size or amount a CRM holds for a person
LARGEST_NUMBER = 1e15

CanonicalValue = str | int | float | bool | None


def canonical_value(value: Any) -> CanonicalValue:
    """A CRM field value as a clean canonical value; raises ValueError or TypeError for what cannot be one.

    Text loses control characters (a line break becomes a space) and surrounding
    blanks, and blank text is no value; numbers must be finite and plausible;
    lists and objects are no field value at all.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _plausible(value)
    if isinstance(value, str):
        return one_line(value) or None
    raise TypeError(f"a {type(value).__name__} where a value was expected")


def text(value: Any) -> str | None:
    """A value as clean text (a number as its digits); None when blank. Raises like ``canonical_value``."""
    clean = canonical_value(value)
    return None if clean is None else str(clean)


def required_text(value: Any) -> str:
    """Like ``text``, for a value a record cannot do without (its id, its modified time): raises when blank."""
    written = text(value)
    if not written:
        raise ValueError("missing")
    return written


def loose_text(value: Any) -> str | None:
    """Like ``text``, for details that must never fail a read (activity names, dates): unusable is None."""
    try:
        return text(value)
    except (TypeError, ValueError):
        return None


def read_field(record: Mapping[str, Any], name: str, read: Callable[[Any], T]) -> T:
    """``read`` applied to one field of a record; an error names the field, so a quarantine says which."""
    try:
        return read(record.get(name))
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from None


def whole_number(value: Any) -> int | None:
    """A count or size (``250``, ``"250"``, ``"1,000"``, ``12.0``) as a non-negative int; None when blank.

    Raises ValueError for anything else: text that is no number, a negative,
    fractional, infinite or implausibly large one.
    """
    if isinstance(value, str):
        text = one_line(value).replace(",", "")
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"not a count: {text!r:.40}") from None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"not a count: {value!r:.40}")
    number = _plausible(value)
    if number < 0 or number != int(number):
        raise ValueError(f"not a count: {number!r:.40}")
    return int(number)


def _plausible(number: int | float) -> int | float:
    if abs(number) > LARGEST_NUMBER or not math.isfinite(number):
        raise ValueError(f"not a plausible number: {number!r:.40}")
    return number


def one_line(text: str, limit: int | None = None) -> str:
    """Plain text on one line: control characters and line breaks become single spaces."""
    line = _SPACES.sub(" ", _ANY_CONTROL.sub(" ", _valid_unicode(text))).strip()
    return _cut(line, limit)


def plain_lines(text: str, limit: int | None = None) -> str:
    """Plain text keeping its line breaks: every other control character becomes a space.

    Handoff's own texts separate lines with a bare ``\\n``; a carriage return
    (``\\r\\n`` included) can only come from a value typed elsewhere, so it never
    starts a line.
    """
    lines = [one_line(line) for line in _valid_unicode(text).replace("\r\n", " ").split("\n")]
    return _cut("\n".join(lines).strip("\n"), limit)


def html_lines(text: str, limit: int | None = None) -> str:
    """Plain text as HTML: every line escaped (no tag, entity or attribute survives), lines joined by ``<br>``."""
    return "<br>".join(html.escape(line, quote=True) for line in plain_lines(text, limit).split("\n"))


def _valid_unicode(text: str) -> str:
    # a lone surrogate (JSON allows "\ud800") cannot be encoded for the CRM, the store or a log line
    return _LONE_SURROGATE.sub("\ufffd", text)


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
