"""Salesforce record ids: 15 case-sensitive characters plus a 3-character case checksum.

Layout of the 15: key prefix (3, the object type), pod (2), a reserved ``0``, and a
9-digit base-62 record number. The 18-character form appends one character per
5-character chunk telling which of its letters are upper case, so the id survives
case-insensitive systems; REST always answers with 18 characters.
"""

from __future__ import annotations

import itertools
import threading
from functools import lru_cache

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
#: every two-digit base-62 number, by value
_PAIRS = [high + low for high in _BASE62 for low in _BASE62]
#: the sandbox org's pod, as in ``00Q8d...``
_POD = "8d"


#: an id's characters as 1 (upper case) or 0: a chunk's bits, read right to left
_CASE_BITS = str.maketrans(_BASE62, "0" * 10 + "1" * 26 + "0" * 26)


def checksum(id15: str) -> str:
    """The three characters that make a 15-character id an 18-character one."""
    bits = id15.translate(_CASE_BITS)
    return _SUFFIX[int(bits[4::-1], 2)] + _SUFFIX[int(bits[9:4:-1], 2)] + _SUFFIX[int(bits[14:9:-1], 2)]


@lru_cache(maxsize=1 << 17)  # a query names up to 200 ids per IN list, mostly ones seen before
def normalize(value: str) -> str | None:
    """The 18-character form of a well-formed 15- or 18-character id, else None."""
    if not value.isascii() or not value.isalnum():
        return None
    if len(value) == 15:
        return value + checksum(value)
    if len(value) == 18:
        suffix = checksum(value[:15])
        if value[15:].upper() == suffix:
            return value[:15] + suffix
    return None


class IdFactory:
    """Hands out fresh ids per key prefix; thread-safe and deterministic for one org."""

    def __init__(self, start: int = 0) -> None:
        self._counter = itertools.count(start + 1)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        """A fresh 18-character id with ``prefix``."""
        with self._lock:
            number = next(self._counter)
        # nine base-62 digits: the first three change once in 62**4 ids, so the characters up to
        # them and the checksum's first two come from a cache; the last chunk's checksum character
        # is read off its digit pairs' case bits
        high, low = divmod(number, 62**4)
        fourth, fifth = divmod(low, 62 * 62)
        head, suffix, bit = _head(prefix, high)
        last = _SUFFIX[bit | _PAIR_BITS[fourth] << 1 | _PAIR_BITS[fifth] << 3]
        return f"{head}{_PAIRS[fourth]}{_PAIRS[fifth]}{suffix}{last}"


#: the case bits of every two-digit base-62 number (bit 0: its first character)
_PAIR_BITS = [int(pair.translate(_CASE_BITS)[::-1], 2) for pair in _PAIRS]


@lru_cache(maxsize=1024)
def _head(prefix: str, high: int) -> tuple[str, str, int]:
    """For the ids with ``prefix`` whose record number's first three digits are ``high``: their
    first 11 characters, their checksum's first two, and the case bit the 11th adds to the third."""
    rest, third = divmod(high, 62 * 62)
    first, second = divmod(rest, 62 * 62)
    head = f"{prefix}{_POD}0{_BASE62[first]}{_PAIRS[second]}{_PAIRS[third]}"
    return head, checksum(head + "0000")[:2], int(head[10].translate(_CASE_BITS))
