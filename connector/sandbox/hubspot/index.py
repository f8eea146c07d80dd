"""What CRM search sees of one object type, with sorted views for range filters and sorts.

Search answers from the record versions it last indexed (they trail the store by the
portal's search lag). A sorted view of one property, ``(key(value), id)`` for every
indexed record that has a value, is built the first time a search filters a range of
it or sorts by it, and is kept up to date on every change from then on: a keyset page
(``lastmodifieddate GTE x``, ``hs_object_id GT y``) then costs a binary search and the
page, whatever the number of records.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from sortedcontainers import SortedList

from connector.sandbox.ranges import Range

if TYPE_CHECKING:
    from connector.sandbox.hubspot.store import Record

Key = Callable[[str], Any]


class SortedView:
    """Indexed records with a value of one property, in ``(key(value), id)`` order."""

    def __init__(self, name: str, key: Key, records: Iterable[Record]) -> None:
        self.name = name
        self.key = key
        #: values whose key does not order (NaN): kept out of the view, counted here
        self.unordered = 0
        entries = [entry for record in records if (entry := self._ordered(record, 1)) is not None]
        # one sort of the whole list: inserting 100,000 entries one by one takes seconds
        self._entries = SortedList(entries)

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
            self._entries.add(entry)

    def remove(self, record: Record) -> None:
        entry = self._ordered(record, -1)
        if entry is not None:
            self._entries.remove(entry)

    def __len__(self) -> int:
        return len(self._entries)

    def bounds(self, span: Range) -> tuple[int, int]:
        """Positions ``[start, stop)`` of the entries whose key lies in ``span``."""
        return span.positions(self._entries, math.inf)

    def ids(self, start: int, stop: int) -> Iterator[str]:
        """Record ids at positions ``[start, stop)``, in order."""
        for _, record_id in self._entries.islice(start, stop):
            yield str(record_id)


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
