"""How rules read lead properties: blanks, numbers, comparable values and the email domain.

CRMs send the same answer in several shapes (a size as 250 or "1,000", a checkbox
as true or "true"); these functions make them compare as a person would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_NUMERIC_START = frozenset("0123456789+-.")
_BOOLEAN_WORDS = {"true": True, "false": False}


def email_domain(properties: Mapping[str, Any], field_name: str = "email") -> str:
    """The lower-cased domain of the address in ``field_name``, or "" when there is none."""
    value = properties.get(field_name)
    if not isinstance(value, str) or "@" not in value:
        return ""
    return value.rsplit("@", 1)[1].strip().lower()


def is_blank(value: Any) -> bool:
    """None, "" or only spaces: the property has no answer."""
    return value is None or (value.__class__ is str and (value == "" or value.isspace()))


def as_number(value: Any) -> float | None:
    """A number from a number or a string holding one ("1,000"); None for anything else."""
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
        return float(value)
    return value
