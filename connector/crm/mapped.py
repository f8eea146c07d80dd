"""Properties an admin maps in the rules file's ``fields:`` section, read as typed canonical values.

Each CRM says what type a property holds (HubSpot's properties API, Salesforce's
describe); the adapters turn that into a :class:`Kind` at start-up, and every
value is then read by its kind, so a rule compares numbers with numbers and
booleans with booleans whichever CRM it came from. A value that does not fit
its kind raises (ValueError or TypeError naming the property), which
quarantines that one record with the reason.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

from connector.crm.values import LARGEST_NUMBER, canonical_value, one_line, read_field
from connector.model import format_time, parse_time

#: values a multi-select keeps, at most: more is no answer a person gave
MOST_CHOICES = 100


class Kind(enum.Enum):
    """What a mapped property holds, and so what canonical value it becomes."""

    TEXT = "text"  # one clean line
    NUMBER = "number"  # int when whole, else float
    DECIMAL = "decimal"  # always float (Salesforce currency, percent, double)
    BOOLEAN = "boolean"  # True / False
    DATE = "date"  # "2026-11-20"
    DATETIME = "datetime"  # "2026-11-20T12:00:00.000Z", as the canonical JSON carries times
    CHOICE = "choice"  # the option's value (a picklist, a select)
    CHOICES = "choices"  # a list of option values (a multi-select picklist, checkboxes)


@dataclass(frozen=True)
class MappedField:
    """One mapped property: the canonical name rules use, the CRM's name for it, and its kind."""

    canonical: str
    name: str
    kind: Kind


def read_value(value: Any, kind: Kind) -> Any:
    """A CRM value as the canonical value of ``kind``; None when blank. Raises ValueError/TypeError otherwise."""
    if kind is Kind.CHOICES:
        return _choices(value)
    if isinstance(value, str):
        value = one_line(value)
        if not value:
            return None
    if value is None:
        return None
    if kind is Kind.NUMBER or kind is Kind.DECIMAL:
        return _number(value, whole_as_int=kind is Kind.NUMBER)
    if kind is Kind.BOOLEAN:
        return _boolean(value)
    if kind is Kind.DATE:
        return _moment(value).date().isoformat() if not _is_date(value) else value
    if kind is Kind.DATETIME:
        return format_time(_moment(value))
    return canonical_value(value)


def with_mapped(
    built_in: Mapping[str, Any], record: Mapping[str, Any], fields: Sequence[MappedField]
) -> dict[str, Any]:
    """The built-in canonical properties plus the mapped ones of one record; raises naming the property.

    A mapping replaces the built-in property of its name even when the mapped one is blank:
    the admin said where that answer lives.
    """
    if not fields:
        return dict(built_in)
    replaced = {f.canonical for f in fields}
    out = {name: value for name, value in built_in.items() if name not in replaced}
    for field in fields:
        value = read_field(record, field.name, partial(read_value, kind=field.kind))
        if value is not None:
            out[field.canonical] = value
    return out


def missing_line(crm_object: str, missing: Sequence[str]) -> str:
    """The one line that stops start-up when mapped properties do not exist in the CRM."""
    return (
        f"the rules file's fields: section maps properties that {crm_object} lacks: {', '.join(missing)}; "
        "create them in the CRM or fix the mapping"
    )


def _number(value: Any, whole_as_int: bool) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, str):
        try:
            number = float(value.replace(",", ""))
        except ValueError:
            raise ValueError(f"not a number: {value!r:.40}") from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise TypeError(f"a {type(value).__name__} where a number was expected")
    # NaN fails every comparison, so it is caught here too
    if not abs(number) <= LARGEST_NUMBER:
        raise ValueError(f"not a plausible number: {value!r:.40}")
    if whole_as_int and number.is_integer():
        return int(number)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = value.lower() if isinstance(value, str) else None
    if word in ("true", "false"):
        return word == "true"
    raise ValueError(f"not true or false: {value!r:.40}")


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _moment(value: Any) -> datetime:
    """A date or time as ISO text or epoch milliseconds (HubSpot sends both) as an aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"a {type(value).__name__} where a date was expected")
    try:
        if isinstance(value, str) and not value.lstrip("-").isdecimal():
            return parse_time(value)
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"not a date: {value!r:.40}") from None


def _choices(value: Any) -> list[str] | None:
    """A multi-select as its list of values: ``"a;b"`` (both CRMs separate them by ``;``) or a list already."""
    if value is None:
        return None
    if isinstance(value, str):
        items: list[Any] = value.split(";")
    elif isinstance(value, list):
        items = value
    else:
        raise TypeError(f"a {type(value).__name__} where choices were expected")
    if len(items) > MOST_CHOICES:
        raise ValueError(f"more than {MOST_CHOICES} choices")
    chosen = [text for item in items if (text := _choice(item))]
    return list(dict.fromkeys(chosen)) or None


def _choice(item: Any) -> str | None:
    clean = canonical_value(item)
    return None if clean is None else str(clean)
