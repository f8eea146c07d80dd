"""Field values on the wire: formats, parsing and the type checks a write goes through.

Records keep values in their wire form (what REST answers), so reading needs no
conversion and SOQL compares like with like: datetimes are always
``2026-11-20T12:00:00.000+0000`` (UTC, whole seconds, as Salesforce stores them),
so they order correctly as strings; dates are ``2026-11-20``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from connector.sandbox.salesforce.errors import RecordError
from connector.sandbox.salesforce.schema import Field

_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
#: a datetime already in wire form (years from 1000 on: earlier ones format without padding)
_WIRE_DATETIME = re.compile(r"[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000\Z")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")


def sf_datetime(moment: float | datetime) -> str:
    """A timestamp in Salesforce's REST form, truncated to the second."""
    if isinstance(moment, datetime):
        moment = moment.timestamp()
    return _second(int(moment))


#: every two-digit hour, minute and second
_TWO_DIGITS = [f"{n:02d}" for n in range(60)]


@lru_cache(maxsize=1 << 16)
def _second(epoch_s: int) -> str:
    # every write stamps the current second: formatting it once per second, not per record;
    # synthetic history stamps a few records a person at seconds of their own, so the time of
    # day is put together from digit pairs rather than through a datetime
    day, second = divmod(epoch_s, 86400)
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{_day(day)}T{_TWO_DIGITS[hour]}:{_TWO_DIGITS[minute]}:{_TWO_DIGITS[second]}.000+0000"


@lru_cache(maxsize=1 << 12)
def _day(epoch_day: int) -> str:
    moment = datetime.fromtimestamp(epoch_day * 86400, tz=UTC)
    if moment.year < 1000:  # strftime writes such years unpadded; isoformat would pad them
        return moment.strftime("%Y-%m-%d")
    return moment.isoformat()[:10]


def sf_date(moment: float | datetime) -> str:
    """The UTC calendar date of a timestamp."""
    if isinstance(moment, datetime):
        moment = moment.timestamp()
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%d")


def parse_datetime(text: str) -> datetime | None:
    """An aware datetime from any ISO form Salesforce accepts (``Z``, ``+00:00``, ``+0000``,
    with or without fractions), else None. A datetime without a zone is not accepted."""
    match = _DATETIME.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = timedelta(0)
    if zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        offset = -offset if zone[0] == "-" else offset
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    micros = int((fraction or "0").ljust(6, "0")[:6])
    return (naive - offset).replace(tzinfo=UTC, microsecond=micros)


@lru_cache(maxsize=4096)
def _datetime_wire(text: str) -> str | None:
    # a record's CreatedDate, LastModifiedDate and SystemModstamp are often one value: parse it once
    if _WIRE_DATETIME.match(text):
        # seeding writes wire forms: checking it names a real moment is enough
        try:
            datetime.fromisoformat(text[:19])
        except ValueError:
            return None
        return text
    moment = parse_datetime(text)
    return None if moment is None else sf_datetime(moment)


@lru_cache(maxsize=4096)
def is_date(text: str) -> bool:
    """``YYYY-MM-DD`` naming a real day."""
    if not _DATE.match(text):
        return False
    try:
        datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def coerce(field: Field, value: Any) -> Any:
    """The wire form of ``value`` written to ``field``, or RecordError as Salesforce would refuse it."""
    if value is None or (value == "" and not field.is_text):
        if not field.nillable and field.type != "boolean":
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{field.name}]", [field.name])
        return None if field.type != "boolean" else False
    kind = field.type
    if field.is_text:
        return _text(field, value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _wrong_type(field, value)
    if kind in ("int", "double", "currency", "percent"):
        return _number(field, value)
    if kind == "datetime":
        wire = _datetime_wire(value) if isinstance(value, str) else None
        if wire is None:
            raise _wrong_type(field, value)
        return wire
    if kind == "date":
        if isinstance(value, str) and is_date(value[:10]) and (len(value) == 10 or parse_datetime(value)):
            return value[:10]
        raise _wrong_type(field, value)
    raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: {field.name}.", [field.name])


def _text(field: Field, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _wrong_type(field, value)
    text = value if isinstance(value, str) else str(value)
    if field.length and len(text) > field.length:
        raise RecordError(
            "STRING_TOO_LONG",
            f"{field.label}: data value too large: {text[:40]} (max length={field.length})",
            [field.name],
        )
    if field.type == "email" and not _EMAIL.match(text):
        raise RecordError("INVALID_EMAIL_ADDRESS", f"{field.label}: invalid email address: {text}", [field.name])
    if field.type == "picklist" and field.restricted and text not in field.picklist:
        raise RecordError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.label}: bad value for restricted picklist field: {text}",
            [field.name],
        )
    return text


def _number(field: Field, value: Any) -> int | float:
    number: float
    if isinstance(value, bool):
        raise _wrong_type(field, value)
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise _wrong_type(field, value) from None
    else:
        raise _wrong_type(field, value)
    if field.type == "int":
        if number != int(number):
            raise _wrong_type(field, value)
        return int(number)
    return float(number)


def _wrong_type(field: Field, value: Any) -> RecordError:
    return RecordError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{field.label}: value not of required type: {value}", [field.name]
    )
