"""Times go to both CRMs as ISO-8601 in UTC, to the millisecond, with a ``Z``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from connector.model import format_time, parse_time

WIRE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
zones = st.integers(min_value=-23 * 60, max_value=23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones)


def test_a_moment_is_written_in_utc_with_milliseconds_and_z():
    berlin = timezone(timedelta(hours=1))
    assert format_time(datetime(2026, 11, 30, 10, 0, 0, 987654, tzinfo=berlin)) == "2026-11-30T09:00:00.987Z"


@given(moments)
def test_every_moment_is_written_in_the_wire_form_and_reads_back_truncated_to_the_millisecond(moment):
    written = format_time(moment)
    assert WIRE.fullmatch(written)
    exact = moment.astimezone(UTC)
    assert parse_time(written) == exact.replace(microsecond=exact.microsecond // 1000 * 1000)
