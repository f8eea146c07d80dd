"""CRM search: HubSpot's request validation, filter semantics, sorting and paging.

Semantics reproduced from HubSpot's documentation (research/hubspot.md 1.2):
filters in a group are ANDed, groups ORed; string values compare case-insensitively
but enumerations case-sensitively, and ``IN`` on a string property only matches
lower-case values; one sort applies (default: oldest created first); at most 200
per page and 10,000 results per query; the index trails writes, so results come
from the indexed version and records archived since drop out of a page (which
is how a short page that still carries ``paging.next`` happens).

Search never scans the portal when it need not: a page of records whose only filters
are a key range of the property they are sorted by (ascending) is read straight off
that property's sorted view (:mod:`.index`); otherwise each filter group reads the
fewest candidates one of its filters allows (a key range, an association's records)
and the full filter and sort run on those. The answers are those of a full scan.
"""

from __future__ import annotations

import operator as op
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from connector.sandbox.hubspot import errors
from connector.sandbox.hubspot.index import Key, SearchIndex, SortedView
from connector.sandbox.hubspot.objects import ObjectType, find_object_type
from connector.sandbox.hubspot.properties import InvalidValue, PropertyDef, normalize
from connector.sandbox.hubspot.store import Portal, Record
from connector.sandbox.hubspot.wire import property_names, record_json, record_reply
from connector.sandbox.ranges import Range

MAX_LIMIT = 200
MAX_RESULTS = 10_000
MAX_BODY_CHARS = 3000
MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 6, 18

OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
_TOKEN_SPLIT = re.compile(r"[^0-9a-z]+")
_SEARCHABLE = (
    "firstname",
    "lastname",
    "email",
    "phone",
    "company",
    "dealname",
    "hs_lead_name",
    "hs_task_subject",
    "hs_meeting_title",
    "hs_call_title",
    "hs_email_subject",
    "hs_note_body",
)

Predicate = Callable[[Record], bool]


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    records: list[Record]
    #: the properties each result carries (a wire.property_names tuple)
    names: tuple[str, ...]
    next_after: str | None

    @property
    def results(self) -> list[dict[str, Any]]:
        """The page's records as SimplePublicObjects."""
        return [record_json(r, self.names) for r in self.records]

    def to_json(self) -> dict[str, Any]:
        """The reply body; its records as JSON already encoded (see wire.record_reply)."""
        results = [record_reply(r, self.names) for r in self.records]
        body: dict[str, Any] = {"total": self.total, "results": results}
        if self.next_after is not None:
            body["paging"] = {"next": {"after": self.next_after, "link": f"?after={self.next_after}"}}
        return body


def search(portal: Portal, otype: ObjectType, body: Any) -> Page:
    """Run one search request body; raises HttpError(400) the way HubSpot refuses bad ones."""
    if not isinstance(body, dict):
        raise errors.validation("Invalid input JSON: expected an object")
    limit = _integer(body.get("limit", 10), "limit")
    if limit > MAX_LIMIT or limit < 0:
        raise errors.validation(f"limit must be between 0 and {MAX_LIMIT}; got {limit}")
    after = _integer(body.get("after") or 0, "after")
    if after >= MAX_RESULTS:
        raise errors.validation(
            f"Paging beyond {MAX_RESULTS} results is not supported (after={after}); narrow the query instead"
        )
    catalog = portal.properties[otype.name]
    groups = _groups(portal, otype, catalog, body.get("filterGroups") or [])
    query = body.get("query")
    text = _free_text(str(query)) if query else None
    requested = body.get("properties")
    if requested is not None and not isinstance(requested, list):
        raise errors.validation("properties must be a list of property names")
    names = property_names(otype, catalog, requested)
    order = _order(otype, catalog, body.get("sorts") or [])

    with portal.lock:
        index = portal.search_index(otype)
        window = _ordered_window(index, groups, text, order)
        if window is not None:
            view, start, total = window
            end = min(after + limit, total, MAX_RESULTS)
            found = (index.get(i) for i in view.ids(start + after, start + end)) if end > after else ()
            page = [r for r in found if r is not None]
        else:
            predicate = _predicate(groups, text)
            matches = [record for record in _candidates(index, groups) if predicate(record)]
            _sort(matches, order)
            total = len(matches)
            page = matches[after : min(after + limit, total, MAX_RESULTS)]
        live = [r for r in page if portal.is_live(otype, r.id)]
    next_after = str(after + limit) if after + limit < total else None
    return Page(total, live, names, next_after)


def _integer(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.validation(f"{name} must be an integer; got {value!r}") from None


# -- filters --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Filter:
    """One compiled filter: its test, and what an index can answer of it."""

    test: Predicate
    #: a comparison: the property, how its values compare, and the keys that pass
    name: str | None = None
    key: Key | None = None
    span: Range | None = None
    #: an association filter: the only ids it can match
    linked: Callable[[], set[str]] | None = None


def _groups(portal: Portal, otype: ObjectType, catalog: dict[str, PropertyDef], groups: Any) -> list[list[_Filter]]:
    """The non-empty filter groups, compiled (ANDed within a group, groups ORed)."""
    if not isinstance(groups, list):
        raise errors.validation("filterGroups must be a list")
    if len(groups) > MAX_GROUPS:
        raise errors.validation(f"Too many filter groups: {len(groups)} (at most {MAX_GROUPS})")
    compiled: list[list[_Filter]] = []
    total = 0
    for group in groups:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise errors.validation("each filter group needs a list of filters")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise errors.validation(f"Too many filters in a group: {len(filters)} (at most {MAX_FILTERS_PER_GROUP})")
        total += len(filters)
        compiled.append([_filter(portal, otype, catalog, f) for f in filters])
    if total > MAX_FILTERS:
        raise errors.validation(f"Too many filters: {total} (at most {MAX_FILTERS} in all groups)")
    return [group for group in compiled if group]


def _predicate(groups: list[list[_Filter]], text: Predicate | None) -> Predicate:
    tests = [[f.test for f in group] for group in groups]
    # the common shapes get a direct predicate: it runs once per candidate record
    if not tests:
        predicate: Predicate = lambda record: True  # noqa: E731 - the predicate is picked per query, then called per record
    elif len(tests) == 1 and len(tests[0]) == 1:
        predicate = tests[0][0]
    elif len(tests) == 1:
        (only,) = tests
        predicate = lambda record: all(f(record) for f in only)  # noqa: E731 - the predicate is picked per query, then called per record
    else:
        predicate = lambda record: any(all(f(record) for f in group) for group in tests)  # noqa: E731 - the predicate is picked per query, then called per record
    if text is None:
        return predicate
    return lambda record: predicate(record) and text(record)


def _filter(portal: Portal, otype: ObjectType, catalog: dict[str, PropertyDef], spec: Any) -> _Filter:
    if not isinstance(spec, dict):
        raise errors.validation("a filter must be an object")
    name, operator = spec.get("propertyName"), spec.get("operator", "EQ")
    if operator not in OPERATORS:
        raise errors.validation(f"Unknown filter operator {operator!r}")
    if not isinstance(name, str):
        raise errors.validation("a filter needs a propertyName")
    if name.startswith("associations."):
        return _association_filter(portal, otype, name, operator, spec)
    prop = catalog.get(name)
    if prop is None:
        raise errors.validation(f"Property {name!r} does not exist on {otype.name}")
    if operator == "HAS_PROPERTY":
        return _Filter(lambda record: name in record.props)
    if operator == "NOT_HAS_PROPERTY":
        return _Filter(lambda record: name not in record.props)
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = str(spec.get("value", "")).lower()
        positive = operator == "CONTAINS_TOKEN"

        def contains(record: Record) -> bool:
            value = record.props.get(name)
            found = value is not None and _has_token(value, pattern)
            return found if positive else not found

        return _Filter(contains)
    key = _comparable(prop)
    if operator in ("IN", "NOT_IN"):
        raw_values = spec.get("values")
        if not isinstance(raw_values, list):
            raise errors.validation(f"{operator} needs a list of values")
        # string properties are indexed lower-case: upper-case IN values never match
        wanted = {_operand(prop, v, lowercase=False) for v in raw_values}
        positive = operator == "IN"

        def member(record: Record) -> bool:
            value = record.props.get(name)
            hit = value is not None and (value if key is None else key(value)) in wanted
            return hit if positive else not hit

        return _Filter(member)
    operand = _operand(prop, spec.get("value"))
    if key is None:
        key = _same
    if operator == "NEQ":
        return _Filter(lambda record: (v := record.props.get(name)) is None or key(v) != operand)
    if operator == "BETWEEN":
        high = _operand(prop, spec.get("highValue"))
        test: Predicate = lambda record: (v := record.props.get(name)) is not None and operand <= key(v) <= high  # noqa: E731 - the predicate is picked per query, then called per record
        return _Filter(test, name, key, Range(operand, False, high, False))
    if operator == "EQ" and key is _same:
        test = lambda record: record.props.get(name) == operand  # noqa: E731 - the predicate is picked per query, then called per record
    else:
        compare = _COMPARISONS[operator]
        test = lambda record: (v := record.props.get(name)) is not None and compare(key(v), operand)  # noqa: E731 - the predicate is picked per query, then called per record
    return _Filter(test, name, key, Range.of(operator, operand))


_COMPARISONS = {"EQ": op.eq, "LT": op.lt, "LTE": op.le, "GT": op.gt, "GTE": op.ge}


def _same(value: str) -> str:
    return value


def _comparable(prop: PropertyDef) -> Callable[[str], Any] | None:
    """How stored values of ``prop`` compare; None: as stored (stored dates are ISO-8601
    with milliseconds and Z, so comparing the strings orders them in time)."""
    if prop.type == "number":
        return float
    if prop.type == "string" or prop.type == "phone_number":
        return str.lower
    return None


def _operand(prop: PropertyDef, raw: Any, lowercase: bool = True) -> Any:
    """A filter value in the comparable form of ``prop``'s stored values."""
    if raw is None:
        raise errors.validation(f"filter on {prop.name} needs a value")
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    if prop.type == "number":
        try:
            return float(text)
        except ValueError:
            raise errors.validation(f"{text!r} is not a number (filter on {prop.name})") from None
    if prop.type in ("datetime", "date"):
        try:
            return normalize(prop, text, frozenset())
        except InvalidValue:
            raise errors.validation(f"{text!r} is not a date (filter on {prop.name}); use epoch milliseconds") from None
    if prop.type in ("string", "phone_number") and lowercase:
        return text.lower()
    if prop.type == "bool":
        return text.lower()
    return text


def _has_token(value: str, pattern: str) -> bool:
    lowered = value.lower()
    if fnmatchcase(lowered, pattern):
        return True
    return any(fnmatchcase(token, pattern) for token in _TOKEN_SPLIT.split(lowered) if token)


def _association_filter(portal: Portal, otype: ObjectType, name: str, operator: str, spec: dict[str, Any]) -> _Filter:
    other = find_object_type(name.partition(".")[2]) or find_object_type(name.partition(".")[2].rstrip("s"))
    if other is None:
        raise errors.validation(f"Unknown association pseudo-property {name!r}")
    if operator == "EQ":
        wanted = {str(spec.get("value"))}
    elif operator == "IN" and isinstance(spec.get("values"), list):
        wanted = {str(v) for v in spec["values"]}
    else:
        raise errors.validation(f"{name} supports only EQ and IN")

    def linked() -> set[str]:
        return set().union(*(portal.linked_ids(other, w, otype) for w in wanted))

    return _Filter(lambda record: not wanted.isdisjoint(portal.associations(otype, record.id, other)), linked=linked)


def _free_text(query: str) -> Predicate:
    words = [w for w in _TOKEN_SPLIT.split(query.lower()) if w]

    def matches(record: Record) -> bool:
        tokens: list[str] = []
        for name in _SEARCHABLE:
            value = record.props.get(name)
            if value:
                tokens.extend(_TOKEN_SPLIT.split(value.lower()))
        return all(any(t.startswith(w) for t in tokens) for w in words)

    return matches


# -- choosing records -----------------------------------------------------------------


def _spans(group: list[_Filter]) -> dict[str, tuple[Key, Range]]:
    """The key range each compared property of a group must fall in (filters ANDed)."""
    spans: dict[str, tuple[Key, Range]] = {}
    for f in group:
        if f.name is not None and f.key is not None and f.span is not None:
            known = spans.get(f.name)
            spans[f.name] = (f.key, f.span if known is None else known[1].intersect(f.span))
    return spans


def _candidates(index: SearchIndex, groups: list[list[_Filter]]) -> Iterable[Record]:
    """Indexed records that may match: every record, or for each group the fewest that one of
    its filters allows (an association's records or one property's key range)."""
    if not groups:
        return index.records()
    chosen: dict[str, None] = {}
    for group in groups:
        options: list[tuple[int, Iterable[str]]] = []  # (how many, the ids: a view's are read lazily)
        for f in group:
            if f.linked is not None:
                ids = f.linked()
                options.append((len(ids), ids))
        for name, (key, span) in _spans(group).items():
            view = index.view(name, key)
            start, stop = view.bounds(span)
            options.append((stop - start, view.ids(start, stop)))
        if not options:
            return index.records()
        chosen.update(dict.fromkeys(min(options, key=lambda option: option[0])[1]))
    return [record for record_id in chosen if (record := index.get(record_id)) is not None]


def _ordered_window(
    index: SearchIndex, groups: list[list[_Filter]], text: Predicate | None, order: _Order
) -> tuple[SortedView, int, int] | None:
    """When the matches are exactly one key range of the sorted property, in ascending order:
    its sorted view, where the range starts in it and how many it holds (no record is read)."""
    if order.descending or text is not None or len(groups) > 1:
        return None
    span = Range()
    if groups:
        spans = _spans(groups[0])
        if len(spans) != 1 or order.name not in spans or any(f.span is None for f in groups[0]):
            return None
        key, span = spans[order.name]
        if key is not order.key:
            return None
    view = index.view(order.name, order.key)
    if not groups and (view.unordered or len(view) != len(index)):
        return None  # records without a value (or with NaN) would need placing too
    start, stop = view.bounds(span)
    return view, start, stop - start


# -- sorting --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Order:
    """How results are sorted: by one property's key, ties by id; records without it at one end."""

    name: str
    key: Key
    descending: bool = False
    missing_first: bool = False


def _order(otype: ObjectType, catalog: dict[str, PropertyDef], sorts: Any) -> _Order:
    if not isinstance(sorts, list):
        raise errors.validation("sorts must be a list")
    if not sorts:  # oldest created first; ids break ties
        return _Order(otype.created_property, _same, missing_first=True)
    first = sorts[0]  # HubSpot applies one sort rule only
    if isinstance(first, str):
        name, descending = first.lstrip("-"), first.startswith("-")
    elif isinstance(first, dict) and isinstance(first.get("propertyName"), str):
        name, descending = first["propertyName"], str(first.get("direction", "ASCENDING")).upper() == "DESCENDING"
    else:
        raise errors.validation("a sort needs a propertyName")
    prop = catalog.get(name)
    if prop is None:
        raise errors.validation(f"Cannot sort by {name!r}: no such property")
    return _Order(name, _comparable(prop) or _same, descending)


def _sort(records: list[Record], order: _Order) -> None:
    records.sort(key=lambda r: int(r.id))
    name, key = order.name, order.key
    present = [r for r in records if name in r.props]
    missing = [r for r in records if name not in r.props]
    present.sort(key=lambda r: key(r.props[name]), reverse=order.descending)  # stable: ids break ties
    records[:] = missing + present if order.missing_first else present + missing
