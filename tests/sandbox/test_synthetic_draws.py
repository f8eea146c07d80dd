"""The generator's shortcuts give exactly what the standard ways give: same seed, same people."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from connector.model import Activity
from connector.sandbox.draws import Ranges, Stream, Weighted
from connector.sandbox.synthetic import _activity, _from_ms

BOUNDS = ((0, 0), (0, 1), (0, 2), (0, 3), (3, 15), (10, 40), (15, 60), (1, 4), (-5, 5), (0, 1023), (7, 7 + 1024))


@pytest.mark.parametrize("seed", [0, 1, 42, "outcomes-7"])
def test_stream_draws_what_random_draws(seed):
    ours, theirs = Stream(seed), random.Random(seed)
    pairs = (("a", 5), ("b", 1), ("c", 7), ("d", 3))
    table = Weighted.of(pairs)
    ranges = Ranges.of(*BOUNDS)
    for _ in range(300):
        for low, high in BOUNDS:
            assert ours.randint(low, high) == theirs.randint(low, high)
        for seq in ("x", "xy", "xyz", tuple(range(58)), tuple(range(64))):
            assert ours.choice(seq) == theirs.choice(seq)
        assert ours.pick(table) == theirs.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]
        assert ours.pick(table.head(2)) == theirs.choices(["a", "b"], cum_weights=[5, 6])[0]
        assert ours.randints(ranges) == [theirs.randint(low, high) for low, high in BOUNDS]
        assert ours.gauss(0.0, 0.7) == theirs.gauss(0.0, 0.7)  # and the streams stay aligned


def test_stream_refuses_what_random_refuses():
    with pytest.raises(IndexError):
        Stream(1).choice(())
    with pytest.raises(ValueError):
        Stream(1).randint(3, 2)


@pytest.mark.parametrize(
    "ms",
    [
        0,
        1,
        999,
        1_780_000_000_123,
        1_764_513_600_500,
        2**32 * 1000 - 1,
        2**32 * 1000,
        2**33 * 1000 + 7,
        -1,
        -86_400_001,
    ],
)
def test_a_fast_activity_is_the_activity_its_fields_make(ms):
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    assert _from_ms(ms) == moment and _from_ms(ms).tzinfo is UTC
    fast, slow = (
        _activity("page_view", ms, 3, None, "https://x/pricing"),
        Activity("page_view", moment, 3, None, "https://x/pricing"),
    )
    assert fast == slow and fast.ts == slow.ts and fast.at.tzinfo is UTC
    assert repr(_activity("email_open", ms)) == repr(Activity("email_open", moment))


def test_fast_moments_are_exact_to_the_millisecond_across_two_years():
    rng = random.Random(3)
    start = 1_735_689_600_000  # 2025-01-01
    for _ in range(20000):
        ms = start + rng.randrange(2 * 365 * 86_400_000)
        assert _from_ms(ms) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
