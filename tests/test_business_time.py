"""SLA clocks that only run in business hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from connector.policy.business_time import BusinessHours, Duration, add_duration

BERLIN = BusinessHours(timezone="Europe/Berlin", start=time(9), end=time(17), holidays=[date(2026, 12, 24)])


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "due", "expected"),
    [
        (utc(2026, 11, 18, 10), "1bh", utc(2026, 11, 18, 11)),  # Wed 11:00 Berlin
        (utc(2026, 11, 18, 15, 30), "1bh", utc(2026, 11, 19, 8, 30)),  # 16:30 -> Thu 09:30
        (utc(2026, 11, 20, 21), "1bh", utc(2026, 11, 23, 9)),  # Fri night -> Mon 10:00
        (utc(2026, 11, 18, 5), "1bh", utc(2026, 11, 18, 9)),  # before opening
        (utc(2026, 11, 18, 10), "1bd", utc(2026, 11, 19, 10)),  # one full working day
        (utc(2026, 12, 23, 10), "1bd", utc(2026, 12, 25, 10)),  # skips the holiday
        (utc(2026, 11, 18, 10), "2h", utc(2026, 11, 18, 12)),  # calendar hours ignore the clock
        (utc(2026, 11, 21, 10), "30m", utc(2026, 11, 21, 10, 30)),
        (utc(2026, 11, 21, 10), "1d", utc(2026, 11, 22, 10)),
    ],
)
def test_due_times(start, due, expected):
    assert add_duration(start, Duration.parse(due), BERLIN) == expected


def test_business_time_follows_daylight_saving_in_the_team_zone():
    # 2026-03-29 Berlin switches to CEST: opening is 07:00 UTC from Monday the 30th
    # Friday 16:30 CET leaves 30 minutes, the other 30 run from Monday 09:00 CEST
    assert add_duration(utc(2026, 3, 27, 15, 30), Duration.parse("1bh"), BERLIN) == utc(2026, 3, 30, 7, 30)


@pytest.mark.parametrize("text", ["", "1 week", "bh", "-1h", "1x"])
def test_bad_durations_are_rejected_with_an_example(text):
    with pytest.raises(ValueError, match=r"use e\.g\. 30m"):
        Duration.parse(text)


def test_business_hours_reject_an_unknown_zone_and_inverted_hours():
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessHours(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="start before they end"):
        BusinessHours(start=time(17), end=time(9))
