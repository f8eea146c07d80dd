"""A random stream that draws exactly what :class:`random.Random` draws, in fewer steps.

The synthetic data must stay the same for a seed (tests and the demo's figures rest on
it), so :class:`Stream` takes the same bits in the same order as the standard library's
``choice``, ``randint`` and ``choices(cum_weights=...)`` (CPython 3.11 to 3.13: rejection
sampling over ``getrandbits(n.bit_length())``, ``bisect`` over ``random() * total``). It
only skips the layers of calls (``randint`` -> ``randrange`` -> ``_randbelow`` ->
``getrandbits``) that were a third of the generator's time.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Weighted(Generic[T]):
    """Values to draw with weights, their cumulative weights worked out once."""

    values: tuple[T, ...]
    cum_weights: tuple[float, ...]
    #: the last cumulative weight as a float, as ``choices`` computes it
    total: float
    #: the last index, where ``choices`` stops its ``bisect``
    last: int

    @staticmethod
    def of(pairs: Sequence[tuple[T, float]]) -> Weighted[T]:
        """From ``(value, weight)`` pairs."""
        cum = tuple(accumulate(p[1] for p in pairs))
        return Weighted(tuple(p[0] for p in pairs), cum, cum[-1] + 0.0, len(cum) - 1)

    def head(self, count: int) -> Weighted[T]:
        """The first ``count`` values with their weights (as slicing both lists would give)."""
        cum = self.cum_weights[:count]
        return Weighted(self.values[:count], cum, cum[-1] + 0.0, len(cum) - 1)


@dataclass(frozen=True, slots=True)
class Ranges:
    """Inclusive ranges of whole numbers to draw from together, worked out once."""

    #: per range: its low end, its width and the bits a draw takes
    draws: tuple[tuple[int, int, int], ...]

    @staticmethod
    def of(*bounds: tuple[int, int]) -> Ranges:
        """From ``(low, high)`` pairs, as ``randint(low, high)`` takes them."""
        return Ranges(tuple((low, high - low + 1, (high - low + 1).bit_length()) for low, high in bounds))


class Stream(random.Random):
    """:class:`random.Random` whose ``choice`` and ``randint`` take one step, not four,
    plus :meth:`pick` for a :class:`Weighted` table; every draw is the standard one."""

    def below(self, n: int) -> int:
        """A whole number in ``[0, n)``, ``n > 0``: ``Random._randbelow``'s draw."""
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return r

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        """One element of a non-empty sequence, as ``Random.choice`` draws it."""
        n = len(seq)
        if not n:
            raise IndexError("Cannot choose from an empty sequence")
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return seq[r]

    def randint(self, a: int, b: int) -> int:
        """A whole number in ``[a, b]``, as ``Random.randint`` draws it."""
        n = b - a + 1
        if n <= 0:
            raise ValueError(f"empty range for randint({a}, {b})")
        getrandbits = self.getrandbits
        k = n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return a + r

    def randints(self, ranges: Ranges) -> list[int]:
        """One number from each range, as ``[randint(low, high) for low, high in bounds]`` draws them."""
        getrandbits = self.getrandbits
        out = []
        for low, n, k in ranges.draws:
            r = getrandbits(k)
            while r >= n:
                r = getrandbits(k)
            out.append(low + r)
        return out

    def pick(self, table: Weighted[T]) -> T:
        """One value of ``table``, as ``choices(values, cum_weights=...)[0]`` draws it."""
        return table.values[bisect(table.cum_weights, self.random() * table.total, 0, table.last)]
