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
        #: sorted field, or "=" and an equality-indexed field -> record id -> the key it is filed
        #: under (one dict per field, not one per record: a large org has hundreds of thousands)
        self._filed: dict[str, dict[str, Any]] = {name: {} for name in SORTED_FIELDS}
        #: while loading: the records filed since, whose sorted fields are filed in one go at the end
        self._pending: dict[str, Record] | None = None

    def start_loading(self) -> None:
        """Keep records' sorted fields aside until :meth:`finish_loading`: one sort of every
        entry costs far less than an insert per record when seeding an org."""
        if self._pending is None:
            self._pending = {}

    def finish_loading(self) -> None:
        """File the sorted fields of what was filed since :meth:`start_loading`, in one sort."""
        pending, self._pending = self._pending, None
        if not pending:
            return
        for name, entries in self._sorted.items():
            fresh = {record_id: record.values.get(name) for record_id, record in pending.items()}
            self._filed[name].update(fresh)
            stale = self._stale[name]
            # none when seeding a new org
            kept = {record_id: value for value, record_id in entries if (value, record_id) not in stale}
            kept.update(fresh)
            self._sorted[name] = SortedList([(value, i) for i, value in kept.items() if value is not None])
            stale.clear()

    def file(self, record: Record) -> None:
        """(Re-)file a record after any change to its values."""
        values = record.values
        record_id = values["Id"]
        if record_id not in self.born:
            self.born[record_id] = next(self._births)
        if self._pending is not None:
            self._pending[record_id] = record
        else:
            self._file_sorted(record_id, values)
        for name, (fold, index) in self._equal.items():
            key = fold(values.get(name))
            filed = self._filed["=" + name]
            if record_id in filed:
                if filed[record_id] == key:
                    continue
                _discard(index, filed[record_id], record_id)
            index.setdefault(key, set()).add(record_id)
            filed[record_id] = key

    def _file_sorted(self, record_id: str, values: dict[str, Any]) -> None:
        for name, entries in self._sorted.items():
            filed = self._filed[name]
            value = values.get(name)
            old = filed.get(record_id)
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
            filed[record_id] = value
            if len(stale) > _STALE_FLOOR and 2 * len(stale) > len(entries):
                self._sorted[name] = SortedList(e for e in entries if e not in stale)
                stale.clear()

    def unfile(self, record: Record) -> None:
        """Forget a record (its creation was rolled back)."""
        record_id = record.id
        self.born.pop(record_id, None)
        if self._pending is not None:
            self._pending.pop(record_id, None)
        for name, entries in self._sorted.items():  # what was filed before any loading
            old = self._filed[name].pop(record_id, None)
            if old is not None:
                entries.remove((old, record_id))
            # its entries left stale stay skipped: the id is never handed out again
        for name, (_, index) in self._equal.items():
            filed = self._filed["=" + name]
            if record_id in filed:
                _discard(index, filed.pop(record_id), record_id)

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
            built, filed = known[1], self._filed.setdefault("=" + name, {})
            for record in records():  # every row of a large table: no per-row call that can be spared
                values = record.values
                record_id, key = values["Id"], fold(values.get(name))
                group = built.get(key)
                if group is None:
                    group = built[key] = set()
                group.add(record_id)
                filed[record_id] = key
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
