"""The indexed search answers exactly what filtering every record by hand answers.

Search reads sorted views and candidate sets instead of scanning the portal; these
tests drive it with random filter groups, sorts and page sizes, and change, add and
archive contacts between pages (as Handoff's own writes do while it pages), then
compare every page with a brute-force filter and sort of the portal as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox, index
from connector.sandbox.hubspot.objects import CONTACTS
from connector.sandbox.hubspot.search import search
from connector.sandbox.hubspot.store import Record
from connector.sandbox.ranges import Range

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)
NAMES = ("Ana", "ben", "Cleo", "dara")
#: (property, operators) the random filters use: a datetime, a number, a string, an enumeration
FILTERABLE = {
    "lastmodifieddate": ("EQ", "GT", "GTE", "LT", "LTE", "BETWEEN", "NEQ"),
    "hs_object_id": ("EQ", "GT", "GTE", "LT", "LTE", "BETWEEN"),
    "firstname": ("EQ", "NEQ", "GT", "LTE"),
    "hs_analytics_num_page_views": ("GT", "LTE", "EQ", "HAS_PROPERTY"),
}


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def _key(name: str, value: str) -> object:
    """How the brute force compares a stored value: times and numbers as numbers, text folded."""
    if name == "lastmodifieddate":
        return _ms(value)
    if name in ("hs_object_id", "hs_analytics_num_page_views"):
        return float(value)
    return value.lower()


def _operand(name: str, raw: str) -> object:
    return int(raw) if name == "lastmodifieddate" else float(raw) if name != "firstname" else raw.lower()


def _passes(props: dict[str, str], spec: dict[str, str]) -> bool:
    name, op = spec["propertyName"], spec["operator"]
    value = props.get(name)
    if op == "HAS_PROPERTY":
        return value is not None
    if op == "NEQ":
        return value is None or _key(name, value) != _operand(name, spec["value"])
    if value is None:
        return False
    got, want = _key(name, value), _operand(name, spec["value"])
    if op == "BETWEEN":
        return want <= got <= _operand(name, spec["highValue"])  # type: ignore[operator]
    return {
        "EQ": got == want,
        "GT": got > want,  # type: ignore[operator]
        "GTE": got >= want,  # type: ignore[operator]
        "LT": got < want,  # type: ignore[operator]
        "LTE": got <= want,  # type: ignore[operator]
    }[op]


def brute_force(sandbox: HubSpotSandbox, body: dict) -> tuple[int, list[str], str | None]:
    """(total, ids of the page, next after) by filtering and sorting every live contact."""
    live = [r for r in sandbox.portal.all_records(CONTACTS) if not r.archived]
    groups = [g["filters"] for g in body["filterGroups"] if g["filters"]]
    matches = [r for r in live if not groups or any(all(_passes(r.props, f) for f in g) for g in groups)]
    matches.sort(key=lambda r: int(r.id))
    if body["sorts"]:
        name, descending = body["sorts"][0]["propertyName"], body["sorts"][0]["direction"] == "DESCENDING"
        present = [r for r in matches if name in r.props]
        present.sort(key=lambda r: _key(name, r.props[name]), reverse=descending)
        matches = present + [r for r in matches if name not in r.props]
    else:
        matches.sort(key=lambda r: _ms(r.props["createdate"]))
    after, limit = body.get("after", 0), body["limit"]
    ids = [r.id for r in matches[after : after + limit]]
    return len(matches), ids, str(after + limit) if after + limit < len(matches) else None


def _value(name: str) -> st.SearchStrategy[str]:
    # values at and next to the ones records hold: seeded times, then the times of later writes
    if name == "lastmodifieddate":
        return (st.integers(START_MS - 1, START_MS + 7) | st.integers(START_MS + 9, START_MS + 20)).map(str)
    if name == "hs_object_id":
        return st.integers(100000, 100012).map(str)
    if name == "firstname":
        return st.sampled_from([*NAMES, "ANA", "c"])
    return st.integers(0, 6).map(str)


@st.composite
def filters(draw: st.DrawFn, names: tuple[str, ...] = tuple(FILTERABLE)) -> dict[str, str]:
    name = draw(st.sampled_from(names))
    op = draw(st.sampled_from(FILTERABLE[name]))
    spec = {"propertyName": name, "operator": op, "value": draw(_value(name))}
    if op == "BETWEEN":
        spec["highValue"] = draw(_value(name))
    return spec


@st.composite
def any_search(draw: st.DrawFn) -> dict:
    """Any mix of groups, filters and one sort."""
    groups = draw(st.lists(st.lists(filters(), min_size=1, max_size=3), max_size=2))
    sort = draw(st.sampled_from([None, *FILTERABLE]))
    direction = draw(st.sampled_from(["ASCENDING", "DESCENDING"]))
    return {
        "filterGroups": [{"filters": g} for g in groups],
        "sorts": [] if sort is None else [{"propertyName": sort, "direction": direction}],
        "properties": ["firstname"],
        "limit": draw(st.integers(1, 7)),
    }


@st.composite
def keyset_search(draw: st.DrawFn) -> dict:
    """Handoff's shape: a lower bound (and maybe an upper one) on the property results are sorted by."""
    name = draw(st.sampled_from(["lastmodifieddate", "hs_object_id", "hs_analytics_num_page_views"]))
    group = []
    for op in (draw(st.sampled_from(["GT", "GTE", "EQ", "BETWEEN"])), draw(st.sampled_from(["LT", "LTE", None]))):
        if op is not None:
            spec = {"propertyName": name, "operator": op, "value": draw(_value(name))}
            if op == "BETWEEN":
                spec["highValue"] = draw(_value(name))
            group.append(spec)
    return {
        "filterGroups": [{"filters": group}],
        "sorts": [{"propertyName": name, "direction": "ASCENDING"}],
        "properties": ["firstname"],
        "limit": draw(st.integers(1, 4)),
    }


def searches() -> st.SearchStrategy[dict]:
    return st.one_of(any_search(), keyset_search())


#: what may happen to the portal between two pages
changes = st.lists(
    st.tuples(
        st.sampled_from(["touch", "archive", "create"]),
        st.integers(0, 40),  # which contact (modulo how many there are)
        st.integers(0, 2),  # milliseconds the clock moves first (0: a tie with the last write)
        st.sampled_from(NAMES),
    ),
    max_size=3,
)


def _portal(clock: ManualClock, seeds: list[tuple[int, str, int | None]]) -> HubSpotSandbox:
    sandbox = HubSpotSandbox(HubSpotConfig(contacts=0), clock=clock)
    rows = []
    for offset, name, views in seeds:
        moment = datetime.fromtimestamp((START_MS + offset) / 1000, tz=UTC).isoformat()
        props = {"firstname": name, "lastmodifieddate": moment, "createdate": moment}
        if views is not None:
            props["hs_analytics_num_page_views"] = str(views)
        rows.append({"properties": props})
    sandbox.seed_contacts(rows)
    return sandbox


def _change(sandbox: HubSpotSandbox, clock: ManualClock, change: tuple[str, int, int, str]) -> None:
    kind, which, step, name = change
    clock.advance(step / 1000)
    live = [r.id for r in sandbox.portal.all_records(CONTACTS) if not r.archived]
    if kind == "create" or not live:
        sandbox.portal.create(CONTACTS, {"firstname": name})
    elif kind == "touch":
        sandbox.touch(live[which % len(live)], {"firstname": name, "hs_analytics_num_page_views": str(which % 7)})
    else:
        sandbox.portal.archive(CONTACTS, live[which % len(live)])


seeds = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from(NAMES), st.none() | st.integers(0, 6)), min_size=5, max_size=25
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seeds=seeds, body=searches(), pages=st.lists(changes, min_size=2, max_size=5))
def test_every_page_matches_a_brute_force_filter_while_records_change(seeds, body, pages) -> None:
    clock = ManualClock(START)
    clock.advance(0.01)  # writes come after every seeded time
    sandbox = _portal(clock, seeds)
    after = 0
    for between in pages:
        page = search(sandbox.portal, CONTACTS, {**body, "after": after})
        expected_total, expected_ids, expected_next = brute_force(sandbox, {**body, "after": after})
        assert (page.total, [r["id"] for r in page.results], page.next_after) == (
            expected_total,
            expected_ids,
            expected_next,
        )
        if page.next_after is None:
            return
        after = int(page.next_after)
        for change in between:
            _change(sandbox, clock, change)


def test_a_keyset_window_on_a_large_portal_reads_its_page_in_order() -> None:
    clock = ManualClock(START)
    sandbox = _portal(clock, [(i % 500, NAMES[i % 4], None) for i in range(3000)])
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(START_MS + 100)},
                    {"propertyName": "lastmodifieddate", "operator": "LT", "value": str(START_MS + 200)},
                ]
            }
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["firstname"],
        "limit": 200,
        "after": 200,
    }
    page = search(sandbox.portal, CONTACTS, body)
    assert (page.total, [r["id"] for r in page.results], page.next_after) == brute_force(sandbox, body)
    assert page.total == 600


#: a view's operations: index a version (id, value or None), drop a record, or read a range
view_steps = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 30), st.none() | st.integers(0, 40)),
        st.tuples(st.just("drop"), st.integers(0, 30), st.none()),
        st.tuples(st.just("read"), st.integers(0, 45), st.integers(0, 45)),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(steps=view_steps)
def test_a_sorted_view_reads_what_sorting_the_indexed_records_reads(steps) -> None:
    # blocks of 4 entries: ranks cross blocks and removed entries are swept out within a few steps
    with patch.multiple(index, _BLOCK_BITS=2, _BLOCK=4):
        _check_view(steps)


def _check_view(steps: list[tuple[str, int, int | None]]) -> None:
    search_index = index.SearchIndex()
    view = search_index.view("n", float)
    for op, record_id, value in steps:
        if op == "put":
            props = {} if value is None else {"n": str(value)}
            search_index.put(Record(str(record_id), props, "", ""))
        elif op == "drop":
            search_index.drop(str(record_id))
        else:
            entries = sorted((float(r.props["n"]), int(r.id)) for r in search_index.records() if "n" in r.props)
            low, high = min(record_id, value), max(record_id, value)
            start, stop = view.bounds(Range(float(low), False, float(high), True))
            inside = [e for e in entries if low <= e[0] < high]
            assert stop - start == len(inside) and len(view) == len(entries)
            assert list(view.ids(start, stop)) == [str(i) for _, i in inside]
            assert list(view.ids(low, high)) == [str(i) for _, i in entries[low:high]]
