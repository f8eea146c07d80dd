"""Reading a CRM in pieces: keyset paging over a modified-time window, and batches of N.

Both CRMs list what changed in a window sorted by modified time, a page at a
time. Offset paging would skip records whenever one leaves the window while we
page (Handoff writes records as it goes, which moves their modified time), and
HubSpot caps it at 10,000 results. Keyset paging has neither problem: every
page is a fresh query from the last timestamp seen (the boundary), skipping the
records of that timestamp already yielded. When a whole page shares one
timestamp, the boundary cannot move on; that timestamp is then drained in id
order before paging continues just after it.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Generic, Protocol, TypeVar

import structlog

log = structlog.get_logger(__name__)

Row = TypeVar("Row")
Item = TypeVar("Item")
Stamp = TypeVar("Stamp")
RowId = TypeVar("RowId", bound=Hashable)


def chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """``items`` (read lazily) in consecutive lists of ``size``, the last holding what is left
    (a CRM's batch or IN-clause limit, a page of a Bulk API job's rows)."""
    rest = iter(items)
    while batch := list(islice(rest, size)):
        yield batch


def gathered(pages: Iterable[list[Row]], size: int) -> Iterator[list[Row]]:
    """Consecutive pages of rows joined until they hold at least ``size`` rows (the last may hold fewer)."""
    held: list[Row] = []
    for rows in pages:
        held.extend(rows)
        if len(held) >= size:
            yield held
            held = []
    if held:
        yield held


@dataclass(frozen=True)
class _Ahead(Generic[Item]):
    """What the reading thread hands over: a page, the error that stopped it, or the end."""

    page: Item | None = None
    error: BaseException | None = None
    end: bool = False


def read_ahead(pages: Iterable[Item], depth: int) -> Iterator[Item]:
    """``pages`` read by a worker thread up to ``depth`` ahead, the worker's error raised here.

    A scan pages by a token from the previous page, so its reads cannot run side by side;
    read ahead, they run while the caller scores and writes what it already has, and the
    budget is spent at the pace the limiter allows rather than the pace of one thread.
    Only for pages with no side effect on the source (each carries its own resume token).
    """
    ready: queue.Queue[_Ahead[Item]] = queue.Queue(max(1, depth))
    stop = threading.Event()

    def read() -> None:
        try:
            for page in pages:
                ready.put(_Ahead(page))
                if stop.is_set():
                    return
        except BaseException as exc:  # handed to the caller, who decides what it means
            ready.put(_Ahead(error=exc))
            return
        ready.put(_Ahead(end=True))

    worker = threading.Thread(target=read, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item.error is not None:
                raise item.error
            if item.end:
                return
            yield item.page  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():  # a worker held on a full queue goes on once there is room, then stops
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)
        worker.join()


@dataclass(frozen=True)
class Window(Generic[Row]):
    """One page of a query, and whether the CRM has more beyond it."""

    rows: Sequence[Row]
    more: bool


@dataclass(frozen=True)
class Key(Generic[Stamp, RowId]):
    """Where a row sits in the paging order: its modified time (at the CRM's filter precision) and its id."""

    stamp: Stamp
    id: RowId


class KeysetSource(Protocol[Row, Stamp, RowId]):
    """The queries keyset paging needs from a CRM."""

    def window(self, lower: Stamp, upper: Stamp) -> Window[Row]:
        """The first page of rows with ``lower <= stamp <= upper``, sorted by stamp."""
        ...

    def tie(self, stamp: Stamp, after: RowId | None) -> Window[Row]:
        """The first page of rows at exactly ``stamp`` with an id above ``after`` (all when None), sorted by id."""
        ...

    def key(self, row: Row) -> Key[Stamp, RowId] | None:
        """The row's place in the order; None when the row is too broken to say (it is passed on, not placed)."""
        ...

    def next_stamp(self, stamp: Stamp) -> Stamp:
        """The smallest stamp after ``stamp``."""
        ...


def keyset_pages(source: KeysetSource[Row, Stamp, RowId], since: Stamp, until: Stamp) -> Iterator[list[Row]]:
    """Every row modified in [since, until], oldest first, in pages that are never empty.

    Each row is yielded once per modified time: a row that changes while we page
    moves forward and is read again at its new time if that is still inside the
    window, so the sync sees its latest state. A row that arrives behind the
    boundary is left to the next window (the sync's overlap covers it).
    """
    lower = since
    boundary: Stamp | None = None
    at_boundary: set[RowId] = set()
    while True:
        window = source.window(lower, until)
        fresh: list[Row] = []
        placed = False
        for row in window.rows:
            key = source.key(row)
            if key is None:
                fresh.append(row)  # the adapter quarantines it; it cannot move the boundary
                continue
            if key.stamp == boundary and key.id in at_boundary:
                continue
            if key.stamp != boundary:
                boundary, at_boundary = key.stamp, set()
            at_boundary.add(key.id)
            fresh.append(row)
            placed = True
        if fresh:
            yield fresh
        if not window.more or not window.rows:
            return
        if boundary is None:
            # a full page and not one row we can place: paging cannot move past it
            log.warning("paging stopped: a whole page without readable modified times", lower=str(lower))
            return
        if placed:
            lower = boundary
            continue
        # a whole page at the boundary, all yielded already: drain that timestamp by id, then move past it
        yield from _drain(source, boundary, at_boundary)
        lower, boundary, at_boundary = source.next_stamp(boundary), None, set()


def _drain(source: KeysetSource[Row, Stamp, RowId], stamp: Stamp, yielded: set[RowId]) -> Iterator[list[Row]]:
    after: RowId | None = None
    while True:
        window = source.tie(stamp, after)
        keyed = [(row, source.key(row)) for row in window.rows]
        fresh = [row for row, key in keyed if key is None or key.id not in yielded]
        if fresh:
            yield fresh
        ids = [key.id for _, key in keyed if key is not None]
        if not window.more or not ids:
            return
        after = ids[-1]
