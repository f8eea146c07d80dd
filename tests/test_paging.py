"""Keyset paging over a modified-time window, against a small in-memory CRM that can change while we page."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.crm.paging import Key, Window, chunks, keyset_pages, read_ahead


@dataclass
class FakeCrm:
    """Rows ``(stamp, id)`` answered a page at a time, like a CRM search sorted by stamp (or by id for a tie)."""

    rows: list[tuple[int, int]]
    limit: int
    #: called before every query: lets a test change the CRM while paging goes on
    before_query: Callable[[FakeCrm], None] = lambda crm: None
    calls: list[str] = field(default_factory=list)

    def window(self, lower: int, upper: int) -> Window[tuple[int, int]]:
        self.calls.append("window")
        self.before_query(self)
        # a stable sort on stamp alone: ties come back in whatever order the CRM keeps them
        matching = sorted((r for r in self.rows if lower <= r[0] <= upper), key=lambda r: r[0])
        return Window(matching[: self.limit], more=len(matching) > self.limit)

    def tie(self, stamp: int, after: int | None) -> Window[tuple[int, int]]:
        self.calls.append("tie")
        self.before_query(self)
        matching = sorted(r for r in self.rows if r[0] == stamp and (after is None or r[1] > after))
        return Window(matching[: self.limit], more=len(matching) > self.limit)

    def key(self, row: tuple[int, int]) -> Key[int, int]:
        return Key(row[0], row[1])

    def next_stamp(self, stamp: int) -> int:
        return stamp + 1


def read(crm: FakeCrm, since: int = 0, until: int = 10**6) -> list[tuple[int, int]]:
    pages = list(keyset_pages(crm, since, until))
    assert all(pages), "pages are never empty"
    return [row for page in pages for row in page]


def test_a_tie_that_fills_a_whole_page_is_drained_by_id():
    crm = FakeCrm([(5, i) for i in range(1, 8)] + [(4, 100), (6, 50)], limit=3)
    rows = read(crm)
    assert sorted(rows) == sorted(crm.rows)
    assert Counter(rows).most_common(1)[0][1] == 1  # each once
    assert [s for s, _ in rows] == sorted(s for s, _ in rows)  # oldest first
    assert "tie" in crm.calls


def test_ties_across_page_edges_are_neither_lost_nor_repeated():
    crm = FakeCrm([(1, 1), (1, 2), (2, 3), (2, 4), (3, 5), (3, 6), (4, 7)], limit=3)
    rows = read(crm)
    assert sorted(rows) == sorted(crm.rows) and len(rows) == len(crm.rows)
    assert "tie" not in crm.calls  # no stamp holds a whole page


def test_the_window_bounds_are_inclusive_and_nothing_outside_is_read():
    crm = FakeCrm([(0, 1), (10, 2), (11, 3), (20, 4), (21, 5)], limit=2)
    assert sorted(read(crm, since=10, until=20)) == [(10, 2), (11, 3), (20, 4)]


def test_a_record_changed_while_paging_is_read_again_at_its_new_time():
    moved = False

    def edit(crm: FakeCrm) -> None:
        nonlocal moved
        if len(crm.calls) == 2 and not moved:  # after the first page, a rep edits a record already read
            crm.rows.remove((1, 1))
            crm.rows.append((9, 1))
            moved = True

    crm = FakeCrm([(1, 1), (1, 2), (3, 3), (4, 4)], limit=2, before_query=edit)
    rows = read(crm)
    assert rows.count((1, 1)) == 1 and rows.count((9, 1)) == 1
    assert {(3, 3), (4, 4)} <= set(rows)


def test_a_record_arriving_ahead_of_the_boundary_is_read_in_the_same_call():
    def arrive(crm: FakeCrm) -> None:
        if len(crm.calls) == 2:
            crm.rows.append((7, 99))

    crm = FakeCrm([(1, 1), (2, 2), (3, 3)], limit=1, before_query=arrive)
    assert (7, 99) in read(crm)


def test_records_arriving_inside_a_tie_being_drained_are_read_too():
    def arrive(crm: FakeCrm) -> None:
        if crm.calls.count("tie") == 2:
            crm.rows.append((5, 1000))

    crm = FakeCrm([(5, i) for i in range(1, 10)], limit=3, before_query=arrive)
    rows = read(crm)
    assert (5, 1000) in rows and len(rows) == len(set(rows)) == 10


def test_a_row_that_cannot_be_placed_is_passed_on_without_moving_the_boundary():
    class Broken(FakeCrm):
        def key(self, row: tuple[int, int]) -> Key[int, int] | None:
            return None if row[1] == 2 else super().key(row)

    crm = Broken([(1, 1), (1, 2), (2, 3)], limit=5)
    assert sorted(read(crm)) == [(1, 1), (1, 2), (2, 3)]


@settings(max_examples=300, deadline=None)
@given(
    stamps=st.lists(st.integers(0, 12), max_size=40),
    limit=st.integers(1, 6),
    bounds=st.tuples(st.integers(0, 12), st.integers(0, 12)).map(sorted),
)
def test_every_row_in_the_window_is_read_exactly_once_in_stamp_order(stamps, limit, bounds):
    crm = FakeCrm([(s, i) for i, s in enumerate(stamps)], limit=limit)
    since, until = bounds
    rows = read(crm, since, until)
    assert sorted(rows) == sorted(r for r in crm.rows if since <= r[0] <= until)
    assert len(rows) == len(set(rows))
    assert [s for s, _ in rows] == sorted(s for s, _ in rows)


def test_chunks_cut_a_list_into_batches_of_at_most_n():
    assert list(chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(chunks([], 3)) == []


def test_pages_read_ahead_arrive_in_order_and_the_sources_error_after_them():
    def pages():
        yield from range(5)
        raise RuntimeError("the CRM went away")

    ahead = read_ahead(pages(), depth=2)
    assert [next(ahead) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="went away"):
        next(ahead)


def test_a_caller_that_stops_early_stops_the_reading_within_the_depth():
    read: list[int] = []

    def pages():
        for n in range(1000):
            read.append(n)
            yield n

    ahead = read_ahead(pages(), depth=3)
    assert [next(ahead) for _ in range(4)] == [0, 1, 2, 3]
    ahead.close()
    assert len(read) <= 4 + 3 + 1  # the ones taken, a full queue, the one in hand
