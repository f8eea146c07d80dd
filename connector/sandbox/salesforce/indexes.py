"""Indexes over one sObject's records, so a query reads only the rows it may return.

- creation order (what a query without ``ORDER BY`` answers in);
- ``Id`` and ``SystemModstamp`` sorted, always kept: the keysets Handoff pages by;
- equality on any other field, built the first time a query filters ``=``/``IN`` on it
  (``WhoId IN (...)``, ``Handoff_Key__c IN (...)``), then kept up to date.

Values are filed as stored (wire form); equality keys go through the query's own
folding (case-insensitive text), so an index answers exactly what a scan would.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from sortedcontainers import SortedList

from connector.sandbox.ranges import Range

if TYPE_CHECKING:
    from connector.sandbox.salesforce.org import Record

#: fields every table keeps sorted: Id keysets and SystemModstamp windows
SORTED_FIELDS = ("Id", "SystemModstamp")
#: stale sorted entries tolerated whatever the table's size, before a rebuild drops them
_STALE_FLOOR = 1024

Fold = Callable[[Any], Any]


class TableIndex:
    """The indexes of one sObject's records."""

    def __init__(self, births: Iterator[int]) -> None:
        self._births = births
        #: record id -> creation sequence (org-wide, so creation order holds across rollbacks)
        self.born: dict[str, int] = {}
        self._sorted = {name: SortedList() for name in SORTED_FIELDS}
        #: sorted entries a record has moved away from, left in place and skipped on reading:
        #: removing one from a large sorted list costs more than the rest of a record update
        self._stale: dict[str, set[tuple[Any, str]]] = {name: set() for name in SORTED_FIELDS}
        self._equal: dict[str, tuple[Fold, dict[Any, set[str]]]] = {}
        #: record id -> field -> the key it is filed under
        self._filed: dict[str, dict[str, Any]] = {}
        #: while loading: sorted field -> record id -> value, sorted in one go at the end
        self._unsorted: dict[str, dict[str, Any]] | None = None

    def start_loading(self) -> None:
        """Keep sorted fields' values aside until :meth:`finish_loading`: one sort of every
        entry costs far less than an insert per record when seeding an org."""
        if self._unsorted is None:
            self._unsorted = {
                name: {i: v for v, i in entries if (v, i) not in self._stale[name]}
                for name, entries in self._sorted.items()
            }

    def finish_loading(self) -> None:
        """Sort what was filed since :meth:`start_loading` into the sorted indexes."""
        if self._unsorted is not None:
            unsorted, self._unsorted = self._unsorted, None
            self._sorted = {name: SortedList((v, i) for i, v in unsorted[name].items()) for name in SORTED_FIELDS}
            self._stale = {name: set() for name in SORTED_FIELDS}

    def file(self, record: Record) -> None:
        """(Re-)file a record after any change to its values."""
        record_id, values = record.id, record.values
        if record_id not in self.born:
            self.born[record_id] = next(self._births)
        filed = self._filed.setdefault(record_id, {})
        if self._unsorted is not None:
            self._file_unsorted(record_id, values, filed)
        else:
            self._file_sorted(record_id, values, filed)
        for name, (fold, index) in self._equal.items():
            key = fold(values.get(name))
            marker = "=" + name
            if marker in filed:
                if filed[marker] == key:
                    continue
                _discard(index, filed[marker], record_id)
            index.setdefault(key, set()).add(record_id)
            filed[marker] = key

    def _file_unsorted(self, record_id: str, values: dict[str, Any], filed: dict[str, Any]) -> None:
        for name, pending in (self._unsorted or {}).items():
            value = filed[name] = values.get(name)
            if value is None:
                pending.pop(record_id, None)
            else:
                pending[record_id] = value

    def _file_sorted(self, record_id: str, values: dict[str, Any], filed: dict[str, Any]) -> None:
        for name, entries in self._sorted.items():
            value = values.get(name)
            old = filed.get(name)
            if old == value:
                continue
            stale = self._stale[name]
            if old is not None:
                stale.add((old, record_id))
            if value is not None:
                entry = (value, record_id)
                if entry in stale:
                    stale.discard(entry)  # back to a value it held (a rollback): that entry is live again
                else:
                    entries.add(entry)
            filed[name] = value
            if len(stale) > _STALE_FLOOR and 2 * len(stale) > len(entries):
                self._sorted[name] = SortedList(e for e in entries if e not in stale)
                stale.clear()

    def unfile(self, record: Record) -> None:
        """Forget a record (its creation was rolled back)."""
        filed = self._filed.pop(record.id, {})
        self.born.pop(record.id, None)
        if self._unsorted is not None:
            for pending in self._unsorted.values():
                pending.pop(record.id, None)
        else:
            for name, entries in self._sorted.items():
                if filed.get(name) is not None:
                    entries.remove((filed[name], record.id))
                # its entries left stale stay skipped: the id is never handed out again
        for name, (_, index) in self._equal.items():
            if "=" + name in filed:
                _discard(index, filed["=" + name], record.id)

    # -- reading ----------------------------------------------------------------------------

    def sorted_ids(self, name: str, span: Range) -> tuple[int, Iterator[str]]:
        """At most how many records have ``name`` in ``span`` (stale entries count too), and
        their ids in that order."""
        self.finish_loading()  # a query while seeding (automation) reads sorted entries
        entries, stale = self._sorted[name], self._stale[name]
        start, stop = span.positions(entries, "\U0010ffff")  # ids are ASCII: any sorts before it
        if not stale:
            return stop - start, (record_id for _, record_id in entries.islice(start, stop))
        # the count includes stale entries: it only ranks the ways to answer a query
        return stop - start, (entry[1] for entry in entries.islice(start, stop) if entry not in stale)

    def has_equal(self, name: str) -> bool:
        """Whether ``name`` already has an equality index."""
        return name in self._equal

    def equal_ids(
        self, name: str, fold: Fold, keys: Iterable[Any], records: Callable[[], Iterator[Record]]
    ) -> tuple[int, Iterator[str]]:
        """How many records hold one of ``keys`` in ``name`` (folded), and their ids (read lazily,
        so a term that matches most rows costs nothing unless chosen). Built on first use."""
        known = self._equal.get(name)
        if known is None:
            known = self._equal[name] = (fold, {})
            built, marker, filed = known[1], "=" + name, self._filed
            for record in records():  # every row of a large table: no per-row call that can be spared
                values = record.values
                record_id, key = values["Id"], fold(values.get(name))
                group = built.get(key)
                if group is None:
                    group = built[key] = set()
                group.add(record_id)
                filed.setdefault(record_id, {})[marker] = key
        index = known[1]
        groups = [index[key] for key in dict.fromkeys(keys) if key in index]
        return sum(map(len, groups)), itertools.chain.from_iterable(groups)


def _discard(index: dict[Any, set[str]], key: Any, record_id: str) -> None:
    ids = index.get(key)
    if ids is not None:
        ids.discard(record_id)
        if not ids:
            del index[key]


def births() -> Iterator[int]:
    """The creation sequence shared by an org's tables."""
    return itertools.count()
