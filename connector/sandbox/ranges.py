"""Key ranges: what a comparison filter lets through, for the sandboxes' sorted indexes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class Sorted(Protocol):
    """Sorted entries that can be bisected (a ``SortedList``, a sandbox's own index list)."""

    def __len__(self) -> int: ...

    def bisect_left(self, value: Any, /) -> int: ...

    def bisect_right(self, value: Any, /) -> int: ...


@dataclass(frozen=True, slots=True)
class Range:
    """Keys between ``low`` and ``high`` (None: unbounded); ``*_open`` excludes the bound itself."""

    low: Any = None
    low_open: bool = False
    high: Any = None
    high_open: bool = False

    def intersect(self, other: Range) -> Range:
        """Keys in both ranges."""
        low, low_open = self.low, self.low_open
        if other.low is not None and (low is None or other.low > low or (other.low == low and other.low_open)):
            low, low_open = other.low, other.low_open
        high, high_open = self.high, self.high_open
        if other.high is not None and (high is None or other.high < high or (other.high == high and other.high_open)):
            high, high_open = other.high, other.high_open
        return Range(low, low_open, high, high_open)

    def positions(self, entries: Sorted, after_any_id: Any) -> tuple[int, int]:
        """Where the ``(key, id)`` entries whose key is in range start and stop in ``entries``;
        ``after_any_id`` compares greater than every id."""
        if self.low is None:
            start = 0
        elif self.low_open:
            start = entries.bisect_right((self.low, after_any_id))
        else:
            start = entries.bisect_left((self.low,))
        if self.high is None:
            stop = len(entries)
        elif self.high_open:
            stop = entries.bisect_left((self.high,))
        else:
            stop = entries.bisect_right((self.high, after_any_id))
        return start, max(start, stop)

    @staticmethod
    def of(operator: str, value: Any) -> Range:
        """The keys ``key <operator> value`` lets through (``=``/``EQ``, ``>``/``GT``...)."""
        return _OPERATORS[operator](value)


_OPERATORS = {
    "EQ": lambda v: Range(v, False, v, False),
    "GT": lambda v: Range(low=v, low_open=True),
    "GTE": lambda v: Range(low=v),
    "LT": lambda v: Range(high=v, high_open=True),
    "LTE": lambda v: Range(high=v),
}
_OPERATORS.update(
    {
        "=": _OPERATORS["EQ"],
        ">": _OPERATORS["GT"],
        ">=": _OPERATORS["GTE"],
        "<": _OPERATORS["LT"],
        "<=": _OPERATORS["LTE"],
    }
)
