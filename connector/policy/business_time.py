"""Durations like ``1bh`` or ``1bd`` and adding them in a team's business hours."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d|bh|bd)\s*$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Duration:
    """A span of calendar time (``30m``, ``2h``, ``1d``) or of business time (``1bh``, ``1bd``)."""

    amount: float
    unit: str

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text)
        if not match:
            raise ValueError(
                f"not a duration: {text!r} (use e.g. 30m, 2h, 1d, 1bh for business hours, 1bd for business days)"
            )
        return cls(float(match.group(1)), match.group(2))

    @property
    def business(self) -> bool:
        return self.unit.startswith("b")

    def __str__(self) -> str:
        return f"{self.amount:g}{self.unit}"


class BusinessHours(BaseModel):
    """When the sales team works: SLA clocks only run inside these hours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
        return value

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[str]) -> list[str]:
        days = [d.strip().lower()[:3] for d in value]
        unknown = [d for d in days if d not in _WEEKDAYS]
        if unknown or not days:
            raise ValueError("days must be a non-empty list of mon, tue, wed, thu, fri, sat, sun")
        return days

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError("business hours must start before they end")
        return self

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)

    def is_business_day(self, day: date) -> bool:
        return _WEEKDAYS[day.weekday()] in self.days and day not in self.holidays


def add_duration(start: datetime, duration: Duration, hours: BusinessHours) -> datetime:
    """``start`` plus ``duration``; business units only advance inside business hours. Returns UTC."""
    if not duration.business:
        unit = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[duration.unit]
        return (start + unit * duration.amount).astimezone(UTC)
    remaining = hours.day_length * duration.amount if duration.unit == "bd" else timedelta(hours=duration.amount)
    return _add_business(start, remaining, hours)


def _add_business(start: datetime, remaining: timedelta, hours: BusinessHours) -> datetime:
    zone = ZoneInfo(hours.timezone)
    moment = start.astimezone(zone)
    day = moment.date()
    # bounded: a year of non-working days in a row is a configuration error, not a due date
    for _ in range(366 + int(remaining / hours.day_length) * 7 + 7):
        opens = datetime.combine(day, hours.start, tzinfo=zone)
        closes = datetime.combine(day, hours.end, tzinfo=zone)
        if hours.is_business_day(day) and moment < closes:
            begin = max(moment, opens)
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(UTC)
            remaining -= available
        day += timedelta(days=1)
        moment = datetime.combine(day, hours.start, tzinfo=zone)
    raise ValueError("business hours leave no working time; check days and holidays")
