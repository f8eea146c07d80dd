"""What CRM search sees of one object type, with sorted views for range filters and sorts.

Search answers from the record versions it last indexed (they trail the store by the
portal's search lag). A sorted view of one property, ``(key(value), id)`` for every
indexed record that has a value, is built the first time a search filters a range of
it or sorts by it, and is kept up to date from then on (changes are placed when it is
next read, see :class:`SortedView`): a keyset page
(``lastmodifieddate GTE x``, ``hs_object_id GT y``) then costs a binary search and the
page, whatever the number of records.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate, compress
from typing import TYPE_CHECKING, Any

from connector.sandbox.ranges import Range

if TYPE_CHECKING:
    from connector.sandbox.hubspot.store import Record

Key = Callable[[str], Any]

#: entries per block of live counts (a power of two)
_BLOCK_BITS = 8
_BLOCK = 1 << _BLOCK_BITS


class _Entries(list[tuple[Any, int]]):
    """Sorted ``(key, id)`` entries, removed ones included, bisected in place."""

    def bisect_left(self, entry: tuple[Any, ...]) -> int:
        return bisect_left(self, entry)

    def bisect_right(self, entry: tuple[Any, ...]) -> int:
        return bisect_right(self, entry)


class SortedView:
    """Indexed records with a value of one property, in ``(key(value), id)`` order.

    Kept for how records change: a write moves a record's modified time to now, so its new
    entry sorts last. A removed entry is only marked, found by its record's id (finding it
    by key read a dozen entries scattered over memory, the most of what a batch update paid
    for the view); entries added since the last read wait, by id, and are appended when the
    view is next read, or merged into the entries after the first of them that sorts
    earlier. Positions count live entries (each block of entries keeps its count), and the
    removed ones are swept out once they are half the list.
    """

    def __init__(self, name: str, key: Key, records: Iterable[Record]) -> None:
        self.name = name
        self.key = key
        #: values whose key does not order (NaN): kept out of the view, counted here
        self.unordered = 0
        entries = [entry for record in records if (entry := self._ordered(record, 1)) is not None]
        entries.sort()
        #: entries added since the view was last read, by record id
        self._added: dict[int, tuple[Any, int]] = {}
        self._rebuild(entries)

    def _rebuild(self, entries: list[tuple[Any, int]]) -> None:
        """Start over from sorted, live ``entries``."""
        self._entries = _Entries(entries)
        self._live = bytearray(b"\x01") * len(entries)
        self._at = {record_id: position for position, (_, record_id) in enumerate(entries)}
        self._removed = 0
        self._counts: list[int] = []
        self._count_from(0)

    def _count_from(self, block: int) -> None:
        """Recount the live entries of ``block`` and every block after it."""
        live, size = self._live, len(self._live)
        del self._counts[block:]
        self._counts.extend(live.count(1, b, b + _BLOCK) for b in range(block * _BLOCK, size, _BLOCK))

    def _ordered(self, record: Record, unordered: int) -> tuple[Any, int] | None:
        """The record's entry if its value orders; a NaN value moves the ``unordered`` count by ``unordered``."""
        value = record.props.get(self.name)
        if value is None:
            return None
        key = self.key(value)
        if isinstance(key, float) and math.isnan(key):
            self.unordered += unordered
            return None
        return key, int(record.id)

    def add(self, record: Record) -> None:
        entry = self._ordered(record, 1)
        if entry is not None:
            self._added[entry[1]] = entry

    def remove(self, record: Record) -> None:
        entry = self._ordered(record, -1)
        if entry is None or self._added.pop(entry[1], None) is not None:
            return
        position = self._at.pop(entry[1])
        self._live[position] = 0
        self._counts[position >> _BLOCK_BITS] -= 1
        self._removed += 1

    def _settle(self) -> None:
        """Place the entries added since the last read; sweep out removed ones once they are half."""
        entries, live = self._entries, self._live
        if self._added:
            added = sorted(self._added.values())
            self._added.clear()
            start = len(entries)
            if entries and added[0] < entries[-1]:
                # merged with the entries after where the first added one goes
                start = entries.bisect_left(added[0])
                added = sorted([*compress(entries[start:], live[start:]), *added])
                self._removed -= live.count(0, start)
                del entries[start:], live[start:]
            for position, entry in enumerate(added, start):
                self._at[entry[1]] = position
            entries.extend(added)
            live.extend(b"\x01" * len(added))
            self._count_from(start >> _BLOCK_BITS)
        if self._removed > max(len(entries) // 2, _BLOCK):
            self._rebuild(list(compress(entries, live)))

    def _rank(self, position: int) -> int:
        """Live entries before ``position``."""
        block = position >> _BLOCK_BITS
        return sum(self._counts[:block]) + self._live.count(1, block << _BLOCK_BITS, position)

    def _position(self, rank: int) -> int:
        """Where the live entry ``rank`` (from 0) is, or the end."""
        totals = list(accumulate(self._counts))
        block = bisect_right(totals, rank)
        before = totals[block - 1] if block else 0
        position, live = block << _BLOCK_BITS, self._live
        while position < len(live) and (not live[position] or before < rank):
            before += live[position]
            position += 1
        return position

    def __len__(self) -> int:
        self._settle()
        return len(self._entries) - self._removed

    def bounds(self, span: Range) -> tuple[int, int]:
        """Positions ``[start, stop)`` of the entries whose key lies in ``span``."""
        self._settle()
        start, stop = span.positions(self._entries, math.inf)
        return self._rank(start), self._rank(stop)

    def ids(self, start: int, stop: int) -> Iterator[str]:
        """Record ids at positions ``[start, stop)``, in order."""
        self._settle()
        entries, live = self._entries, self._live
        position, left = self._position(start), stop - start
        while left > 0 and position < len(entries):
            if live[position]:
                yield str(entries[position][1])
                left -= 1
            position += 1


class SearchIndex:
    """The versions search sees, by id, plus sorted views built on demand."""

    def __init__(self) -> None:
        self._versions: dict[str, Record] = {}
        self._views: dict[str, SortedView] = {}

    def __len__(self) -> int:
        return len(self._versions)

    def get(self, record_id: str) -> Record | None:
        """The indexed version of a record."""
        return self._versions.get(record_id)

    def records(self) -> Iterable[Record]:
        """Every indexed version, in the order they were first indexed."""
        return self._versions.values()

    def put(self, record: Record) -> None:
        """Index a new version of a record."""
        old = self._versions.get(record.id)
        self._versions[record.id] = record
        for name, view in self._views.items():
            if old is None:
                view.add(record)
            elif old.props.get(name) != record.props.get(name):
                view.remove(old)
                view.add(record)

    def drop(self, record_id: str) -> None:
        """Stop indexing a record (it was archived)."""
        old = self._versions.pop(record_id, None)
        if old is not None:
            for view in self._views.values():
                view.remove(old)

    def view(self, name: str, key: Key) -> SortedView:
        """The sorted view of property ``name`` under ``key`` (built now if need be)."""
        view = self._views.get(name)
        if view is None or view.key is not key:
            view = self._views[name] = SortedView(name, key, self._versions.values())
        return view

    def forget(self, name: str) -> None:
        """Drop the view of a property whose definition changed (its key may have)."""
        self._views.pop(name, None)
