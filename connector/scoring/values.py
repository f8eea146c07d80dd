"""How rules read lead properties: blanks, numbers, comparable values and the email domain.

CRMs send the same answer in several shapes (a size as 250 or "1,000", a checkbox
as true or "true"); these functions make them compare as a person would.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_NUMERIC_START = frozenset("0123456789+-.")
_BOOLEAN_WORDS = {"true": True, "false": False}
#: the longest a domain name can be (RFC 1035); anything longer is not an address
_MAX_DOMAIN = 253
#: stands for a value no rule can compare with (a list, an object): equal to nothing
_INCOMPARABLE = object()


def email_domain(properties: Mapping[str, Any], field_name: str = "email") -> str:
    """The lower-cased domain of the address in ``field_name``, or "" when there is none."""
    value = properties.get(field_name)
    if not isinstance(value, str) or "@" not in value:
        return ""
    domain = value.rsplit("@", 1)[1].strip().lower()
    return domain if len(domain) <= _MAX_DOMAIN else ""


def is_blank(value: Any) -> bool:
    """None, "" or only spaces: the property has no answer."""
    return value is None or (value.__class__ is str and (value == "" or value.isspace()))


def as_number(value: Any) -> float | None:
    """A finite number from a number or a string holding one ("1,000"); None for anything else.

    NaN, infinities and integers too large for a float are not numbers a rule can place.
    """
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.replace(",", "").strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def as_text(value: Any) -> str:
    """Any property value as text, for pattern tests and reasons; never raises."""
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except (ValueError, RecursionError):  # an int beyond Python's digit limit, a structure nested too deep
        return f"({type(value).__name__} too large to show)"


def comparable(value: Any) -> Any:
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
        number = as_number(text) if text[:1] in _NUMERIC_START else None
        return number if number is not None else text.lower()
    if isinstance(value, (int, float)):
        number = as_number(value)
        return value if number is None else number  # NaN equals nothing; a huge int only itself
    if value is None:
        return None
    try:
        hash(value)
    except TypeError:
        return _INCOMPARABLE
    return value
