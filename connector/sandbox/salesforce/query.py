"""Running a parsed SOQL query against the org, and the query cursors behind ``nextRecordsUrl``.

Names are resolved against the schema here (INVALID_FIELD for unknown ones, with
Salesforce's wording), literals are checked against field types (a quoted datetime
is refused, as in a real org), and the result is materialised at query time: later
pages of a cursor show the records as they were when the query ran.
"""

from __future__ import annotations

import functools
import operator
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from connector.sandbox.ranges import Range
from connector.sandbox.salesforce import ids
from connector.sandbox.salesforce.indexes import SORTED_FIELDS
from connector.sandbox.salesforce.org import PERSON_REFERENCES, Org, Record
from connector.sandbox.salesforce.schema import NAME_FIELDS, Field, SObject
from connector.sandbox.salesforce.soql import (
    Comparison,
    Condition,
    FieldRef,
    Junction,
    Literal,
    Query,
    SoqlError,
    parse,
    parse_shape,
)
from connector.sandbox.salesforce.values import sf_datetime

DEFAULT_PAGE = 2000
#: candidates few enough to filter one by one rather than build an equality index first
_SELECTIVE = 2000
MIN_PAGE = 200
#: how long a query locator stays valid (API 56.0+)
LOCATOR_TTL_S = 2 * 86400
_MAX_CURSORS = 1000
#: field lists whose encoded rows are kept (each holds at most a row per record)
_MAX_ENCODED_PLANS = 8
_UNFILTERABLE = ("address",)
_NAME_TYPES = {
    "Id": "id",
    "Name": "string",
    "Type": "picklist",
    "Email": "email",
    "IsActive": "boolean",
    "FirstName": "string",
    "LastName": "string",
    "Alias": "string",
}
_LITERAL_FOR = {
    "string": ("string",),
    "boolean": ("boolean",),
    "number": ("number",),
    "datetime": ("datetime",),
    "date": ("date",),
}
_TYPE_NAMES = {"string": "string", "boolean": "boolean", "number": "double", "datetime": "dateTime", "date": "date"}


def _family(kind: str) -> str:
    """Which literal kind a field type compares with."""
    if kind in ("id", "reference", "string", "textarea", "email", "phone", "url", "picklist", "multipicklist"):
        return "string"
    if kind in ("int", "double", "currency", "percent"):
        return "number"
    return kind


@dataclass(frozen=True, slots=True)
class Column:
    """One selected or filtered path: a field of the object, or of a record it references."""

    field: Field  # the field on the queried object (the reference field for a relationship path)
    target: str | None  # None, or the field name read on the referenced record
    target_type: str
    relationship: str | None  # the relationship's name as answered (``Owner``, ``Campaign``)
    polymorphic: bool

    @property
    def type(self) -> str:
        return self.target_type


@dataclass(frozen=True, slots=True)
class _Equal:
    """A top-level ``field = x`` or ``field IN (...)``: the folded keys a row must hold."""

    field: str
    fold: Callable[[Any], Any]
    keys: tuple[Any, ...]


@dataclass(slots=True)
class Compiled:
    sobject: SObject
    columns: list[tuple[FieldRef, Column]]
    count: bool
    where: Callable[[Record], bool] | None
    order: list[tuple[Column, bool, bool]]
    limit: int | None
    #: what the indexes can answer of the WHERE clause (its top-level AND terms)
    equal: list[_Equal] = field(default_factory=list)
    spans: dict[str, Range] = field(default_factory=dict)


class QueryEngine:
    """Compiles and runs queries against one org."""

    def __init__(self, org: Org) -> None:
        self.org = org
        #: (API version, selected fields) -> record id -> (the record version rendered, the row
        #: encoded): a row is encoded once per version of a record
        self._encoded: OrderedDict[tuple[str, tuple[str, ...]], dict[str, tuple[int, Any]]] = OrderedDict()

    def run(self, soql: str, include_deleted: bool, version: str, *, encoded: bool = False) -> tuple[int, list[Any]]:
        """(totalSize, rendered records) of a query; SoqlError if Salesforce would refuse it.

        ``encoded`` (replies that go straight to the wire, through orjson): rows without a
        relationship come as JSON already encoded (``orjson.Fragment``), kept per record
        version for the next query selecting the same fields."""
        return self.run_compiled(self.prepare(soql), include_deleted, version, encoded=encoded)

    def prepare(self, soql: str) -> Compiled:
        """The query compiled; SoqlError, placed in the query as sent, if Salesforce would refuse it."""
        try:
            return self.compile(parse_shape(soql))
        except SoqlError:
            return self.compile(parse(soql))  # the error again, placed in the query as sent

    def run_compiled(
        self, compiled: Compiled, include_deleted: bool, version: str, *, encoded: bool = False
    ) -> tuple[int, list[Any]]:
        """:meth:`run` of a query :meth:`prepare` compiled."""
        with self.org.lock:
            rows = self._select(compiled, include_deleted)
            if compiled.count:
                return len(rows), []
            if encoded and all(column.target is None for _, column in compiled.columns):
                try:
                    return len(rows), list(map(self._encoder(compiled.columns, version), rows))
                except orjson.JSONEncodeError:
                    pass  # a value orjson refuses (an integer past 64 bits): plain rows take the slow road
            render = self._renderer(compiled.columns, version)
            return len(rows), [render(r) for r in rows]

    # -- choosing rows -----------------------------------------------------------------

    def _select(self, compiled: Compiled, include_deleted: bool) -> list[Record]:
        """The rows a query returns, in order, reading as few as the indexes allow.

        A keyset page (``ORDER BY [SystemModstamp,] Id`` with a LIMIT) walks the sorted
        index and stops at the limit; otherwise the smallest candidate set an index
        gives (an ``Id``/``SystemModstamp`` range, an ``=``/``IN`` term) is filtered and
        sorted, in creation order like a full scan.
        """
        org, where = self.org, compiled.where
        table = org.indexes[compiled.sobject.name.lower()]

        # one call a row: most rows are read only to be tested
        wanted = (where or _anything) if include_deleted else _live if where is None else _live_and(where)

        options: list[tuple[int, Iterable[str]]] = []  # (how many, ids)
        for name, span in compiled.spans.items():
            options.append(table.sorted_ids(name, span))
        later = []
        for term in compiled.equal:
            if term.field == "Id" or term.field in PERSON_REFERENCES:
                # what the org keeps anyway: records by id, and what points at each person
                born = table.born
                if term.field == "Id":
                    mine = [record_id for record_id in dict.fromkeys(term.keys) if record_id in born]
                else:
                    mine = [i for i in set().union(*map(org.pointing_at, term.keys)) if i in born]
                options.append((len(mine), mine))
            else:
                later.append(term)
        for term in later:
            if options and min(n for n, _ in options) <= _SELECTIVE and not table.has_equal(term.field):
                continue  # a small candidate set is filtered faster than an index over the table is built
            options.append(
                table.equal_ids(term.field, term.fold, term.keys, lambda: iter(org.records(compiled.sobject, True)))
            )
        best = min(options, key=lambda option: option[0]) if options else None
        keyset = _keyset(compiled)
        if keyset is not None and compiled.limit is not None and (best is None or best[0] > 4 * compiled.limit):
            span = compiled.spans.get(keyset, Range())
            _, ordered = table.sorted_ids(keyset, span)
            rows: list[Record] = []
            for record_id in ordered:
                if len(rows) >= compiled.limit:
                    break
                record = org.stored(record_id)
                if record is not None and wanted(record):
                    rows.append(record)
            return rows
        if best is None:
            rows = [r for r in org.records(compiled.sobject, include_deleted) if where is None or where(r)]
        else:
            born = table.born
            rows = [r for r in map(org.stored, sorted(best[1], key=born.__getitem__)) if r is not None and wanted(r)]
        for column, descending, nulls_last in reversed(compiled.order):
            rows.sort(key=self._sort_key(column, descending, nulls_last), reverse=descending)
        if compiled.limit is not None:
            rows = rows[: compiled.limit]
        return rows

    # -- compiling ---------------------------------------------------------------------

    def compile(self, query: Query) -> Compiled:
        sobject = self.org.schema.get(query.sobject)
        if sobject is None:
            raise SoqlError(
                "INVALID_TYPE",
                f"sObject type '{query.sobject}' is not supported. If you are attempting "
                "to use a custom object, be sure to append the '__c' after the entity "
                "name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
                query.sobject_pos,
            )
        columns: list[tuple[FieldRef, Column]] = []
        seen: set[str] = set()
        for ref in query.fields:
            key = ref.text.lower()
            if key in seen:
                raise SoqlError("MALFORMED_QUERY", f"duplicate field selected: {ref.text}", ref.pos)
            seen.add(key)
            columns.append((ref, self.column(sobject, ref)))
        operands: dict[int, list[Any]] = {}
        where = self._condition(sobject, query.where, operands) if query.where is not None else None
        order = []
        for item in query.order:
            column = self.column(sobject, item.field)
            if column.type in _UNFILTERABLE or _long_text(column):
                raise SoqlError(
                    "INVALID_FIELD", f"field '{item.field.text}' can not be sorted in a query call", item.field.pos
                )
            order.append((column, item.descending, item.nulls_last))
        compiled = Compiled(sobject, columns, query.count, where, order, query.limit)
        if query.where is not None:
            self._plan(compiled, query.where, operands)
        return compiled

    def _plan(self, compiled: Compiled, condition: Condition, operands: dict[int, list[Any]]) -> None:
        """Note the top-level AND terms an index can answer (the WHERE is already checked)."""
        terms = condition.parts if isinstance(condition, Junction) and condition.op == "AND" else (condition,)
        for term in terms:
            if not isinstance(term, Comparison) or len(term.field.path) != 1:
                continue
            column = self.column(compiled.sobject, term.field)
            name, values = column.field.name, operands[id(term)]
            if term.op in ("=", "IN"):
                fold = _fold if _family(column.type) == "string" and column.type not in ("id", "reference") else _same
                keys = tuple(values) if fold is _same else tuple(fold(v) for v in values)
                compiled.equal.append(_Equal(name, fold, keys))
            if name in SORTED_FIELDS and term.op in ("=", "<", "<=", ">", ">=") and values[0] is not None:
                compiled.spans[name] = compiled.spans.get(name, Range()).intersect(Range.of(term.op, values[0]))

    def column(self, sobject: SObject, ref: FieldRef) -> Column:
        """Resolve ``Field`` or ``Relationship.Field`` on ``sobject``."""
        if len(ref.path) == 1:
            field = sobject.field(ref.path[0])
            if field is None:
                raise _no_column(ref.path[0], sobject.name, ref.pos)
            return Column(field, None, field.type, None, False)
        if len(ref.path) > 2:
            raise SoqlError("MALFORMED_QUERY", "the sandbox answers one relationship level only", ref.pos)
        link = sobject.relationship(ref.path[0])
        if link is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"Didn't understand relationship '{ref.path[0]}' in field path. If you "
                "are attempting to use a custom relationship, be sure to append the "
                "'__r' after the custom relationship name. Please reference your WSDL "
                "or the describe call for the appropriate names.",
                ref.pos,
            )
        if len(link.reference_to) > 1:
            name = next((n for n in NAME_FIELDS if n.lower() == ref.path[1].lower()), None)
            if name is None:
                raise _no_column(ref.path[1], "Name", ref.pos)
            return Column(link, name, _NAME_TYPES[name], link.relationship, True)
        target = self.org.schema.get(link.reference_to[0])
        if target is None:
            raise SoqlError("MALFORMED_QUERY", f"the sandbox does not model {link.reference_to[0]}", ref.pos)
        field = target.field(ref.path[1])
        if field is None:
            raise _no_column(ref.path[1], target.name, ref.pos)
        return Column(link, field.name, field.type, link.relationship, False)

    def _condition(
        self, sobject: SObject, condition: Condition, operands: dict[int, list[Any]]
    ) -> Callable[[Record], bool]:
        """The predicate of a condition; each comparison's operands go to ``operands`` by ``id()``."""
        if isinstance(condition, Junction):
            parts = [self._condition(sobject, p, operands) for p in condition.parts]
            # nested closures: a generator per row and term (all()/any()) costs more than the test
            return functools.reduce(_both if condition.op == "AND" else _either, parts)
        if not isinstance(condition, Comparison):
            inner = self._condition(sobject, condition.part, operands)
            return lambda r: not inner(r)
        column = self.column(sobject, condition.field)
        if column.type in _UNFILTERABLE or _long_text(column):
            raise SoqlError(
                "INVALID_FIELD",
                f"field '{condition.field.text}' can not be filtered in query call",
                condition.field.pos,
            )
        literals = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        wanted = operands[id(condition)] = self._operands(column, condition.field, literals)
        read = self._reader(column)
        family = _family(column.type)
        fold: Callable[[Any], Any] = _same if column.type in ("id", "reference") else _fold
        return _predicate(
            condition.op,
            read,
            wanted if fold is _same else [fold(w) if w is not None and family == "string" else w for w in wanted],
            fold if family == "string" else _same,
            family,
            condition.field,
            column.field.name if column.target is None else None,
        )

    def _operands(self, column: Column, ref: FieldRef, literals: tuple[Literal, ...]) -> list[Any]:
        """The literals as stored values (see :meth:`_operand`): an ``IN`` list of 200 quoted ids,
        the commonest, is read in one pass."""
        if column.type in ("id", "reference") and all(literal.kind == "string" for literal in literals):
            full = [ids.normalize(literal.value) for literal in literals]
            if None not in full:
                return full
        return [self._operand(column, ref, literal) for literal in literals]

    def _operand(self, column: Column, ref: FieldRef, literal: Literal) -> Any:
        """The literal as a stored value of the column's type, or INVALID_FIELD like Salesforce."""
        if literal.kind == "null":
            return None
        family = _family(column.type)
        if literal.kind not in _LITERAL_FOR.get(family, (family,)):
            quoted = "should be enclosed in quotes" if family == "string" else "should not be enclosed in quotes"
            raise SoqlError(
                "INVALID_FIELD",
                f"value of filter criterion for field '{ref.text}' must be of type "
                f"{_TYPE_NAMES.get(family, family)} and {quoted}",
                literal.pos,
            )
        if literal.kind == "datetime":
            return sf_datetime(literal.value)
        if column.type in ("id", "reference"):
            full = ids.normalize(literal.value)
            if full is None:
                raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {literal.value}", literal.pos)
            return full
        return literal.value

    def _reader(self, column: Column) -> Callable[[Record], Any]:
        name = column.field.name
        if column.target is None:
            return lambda r: r.values.get(name)
        target, org, polymorphic = column.target, self.org, column.polymorphic

        def read(record: Record) -> Any:
            ref = record.values.get(name)
            linked = org.stored(ref) if ref else None
            if linked is None:
                return None
            return name_value(linked, target) if polymorphic else linked.values.get(target)

        return read

    def _sort_key(self, column: Column, descending: bool, nulls_last: bool) -> Callable[[Record], tuple[int, Any]]:
        read = self._reader(column)
        fold = _fold if _family(column.type) == "string" and column.type not in ("id", "reference") else None
        # nulls sort as a rank of their own; reverse=True flips the ranks too, so pre-flip them
        null_rank = (0 if nulls_last else 1) if descending else (1 if nulls_last else 0)

        def key(record: Record) -> tuple[int, Any]:
            value = read(record)
            if value is None:
                return null_rank, 0
            return 1 - null_rank, fold(value) if fold else value

        return key

    # -- rendering ---------------------------------------------------------------------

    def _encoder(self, columns: list[tuple[FieldRef, Column]], version: str) -> Callable[[Record], Any]:
        """What renders a row of plain fields as encoded JSON, from the cache when the record's
        version is the one last encoded for these fields."""
        key = (version, tuple(column.field.name for _, column in columns))
        kept = self._encoded.get(key)
        if kept is None:
            kept = self._encoded[key] = {}
            while len(self._encoded) > _MAX_ENCODED_PLANS:
                self._encoded.popitem(last=False)
        else:
            self._encoded.move_to_end(key)
        render = self._renderer(columns, version)
        fragment, dumps = orjson.Fragment, orjson.dumps

        def encode(record: Record) -> Any:
            record_id, version = record.values["Id"], record.version
            hit = kept.get(record_id)
            if hit is not None and hit[0] == version:
                return hit[1]
            row = fragment(dumps(render(record)))
            kept[record_id] = (version, row)  # not the values: an old version is not kept alive
            return row

        return encode

    def _renderer(self, columns: list[tuple[FieldRef, Column]], version: str) -> Callable[[Record], dict[str, Any]]:
        """What renders a row: the selected fields in order, a relationship's as one nested object
        (``"Campaign": {"attributes": ..., "Name": ...}``, None when the reference is empty)."""
        if all(column.target is None for _, column in columns):
            plain = [column.field.name for _, column in columns]
            read = _values_of(plain)

            def render_plain(record: Record) -> dict[str, Any]:
                out: dict[str, Any] = {"attributes": attributes(record, version)}
                out.update(zip(plain, read(record.values), strict=False))  # as many values as names
                return out

            return render_plain
        # (field, None, ...) for a field of the row; (reference field, relationship, polymorphic,
        # fields read on the referenced record) at the relationship's first column
        steps: list[tuple[str, str | None, bool, list[str]]] = []
        targets: dict[str, list[str]] = {}
        for _ref, column in columns:
            if column.target is None:
                steps.append((column.field.name, None, False, []))
                continue
            relationship = column.relationship or ""
            if relationship not in targets:
                targets[relationship] = []
                steps.append((column.field.name, relationship, column.polymorphic, targets[relationship]))
            targets[relationship].append(column.target)
        stored = self.org.stored
        #: (relationship, referenced id) -> its nested object: rows of one query share the few
        #: campaigns or owners they point at (the reply is serialised, never changed)
        nested_of: dict[tuple[str, str], dict[str, Any] | None] = {}

        def linked_object(
            relationship: str, ref_id: str, polymorphic: bool, fields: list[str]
        ) -> dict[str, Any] | None:
            linked = stored(ref_id)
            if linked is None:
                return None
            kind = "Name" if polymorphic else linked.sobject.name
            nested: dict[str, Any] = {"attributes": {"type": kind, "url": _url(linked, version)}}
            for target in fields:
                nested[target] = name_value(linked, target) if polymorphic else linked.values.get(target)
            return nested

        # a row's keys in order: a relationship's holds the reference id until its object replaces it
        keys = [name if relationship is None else relationship for name, relationship, _, _ in steps]
        read = _values_of([name for name, _, _, _ in steps])
        links = [
            (relationship, polymorphic, fields)
            for _, relationship, polymorphic, fields in steps
            if relationship is not None
        ]

        def render(record: Record) -> dict[str, Any]:
            out: dict[str, Any] = {"attributes": attributes(record, version)}
            out.update(zip(keys, read(record.values), strict=False))
            for relationship, polymorphic, fields in links:
                ref_id = out[relationship]
                if not ref_id:
                    out[relationship] = None
                    continue
                key = (relationship, ref_id)
                if key not in nested_of:
                    nested_of[key] = linked_object(relationship, ref_id, polymorphic, fields)
                out[relationship] = nested_of[key]
            return out

        return render


def _values_of(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """What reads ``names`` from a record's values, in order, in one C call (a record holds
    every field of its object: no name is missing)."""
    if len(names) == 1:
        name = names[0]
        return lambda values: (values[name],)
    return operator.itemgetter(*names)


def attributes(record: Record, version: str) -> dict[str, str]:
    """The ``attributes`` every record carries."""
    return {"type": record.sobject.name, "url": _url(record, version)}


def _url(record: Record, version: str) -> str:
    return f"/services/data/{version}/sobjects/{record.sobject.name}/{record.values['Id']}"


def name_value(record: Record, name: str) -> Any:
    """A field of the polymorphic ``Name`` entity (what ``Owner.X``/``Who.X`` read)."""
    if name == "Type":
        return record.values.get("Type") if record.sobject.name == "Group" else record.sobject.name
    if name == "IsActive" and "IsActive" not in record.values:
        return True
    return record.values.get(name)


def _anything(record: Record) -> bool:
    return True


def _live(record: Record) -> bool:
    return not record.values.get("IsDeleted")


def _live_and(test: Callable[[Record], bool]) -> Callable[[Record], bool]:
    return lambda r: not r.values.get("IsDeleted") and test(r)


def _both(first: Callable[[Record], bool], second: Callable[[Record], bool]) -> Callable[[Record], bool]:
    return lambda r: first(r) and second(r)


def _either(first: Callable[[Record], bool], second: Callable[[Record], bool]) -> Callable[[Record], bool]:
    return lambda r: first(r) or second(r)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _same(value: Any) -> Any:
    return value


def _keyset(compiled: Compiled) -> str | None:
    """The sorted index whose order is the query's: ``ORDER BY Id`` or ``ORDER BY SystemModstamp, Id``
    (ascending; Id is unique, so the order is total and a walk can stop at the LIMIT)."""
    if compiled.count or any(column.target is not None or descending for column, descending, _ in compiled.order):
        return None
    names = [column.field.name for column, _, _ in compiled.order]
    if names == ["Id"]:
        return "Id"
    if names == ["SystemModstamp", "Id"]:
        return "SystemModstamp"
    return None


def _long_text(column: Column) -> bool:
    return column.target is None and column.field.type == "textarea" and column.field.length > 255


def _no_column(name: str, entity: str, pos: int) -> SoqlError:
    return SoqlError(
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use "
        "a custom field, be sure to append the '__c' after the custom field name. "
        "Please reference your WSDL or the describe call for the appropriate names.",
        pos,
    )


def _like(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _predicate(
    op: str,
    read: Callable[[Record], Any],
    wanted: list[Any],
    fold: Callable[[Any], Any],
    family: str,
    ref: FieldRef,
    plain: str | None = None,
) -> Callable[[Record], bool]:
    """The test of one comparison; ``plain`` names the row's own field ``read`` reads, if it does."""
    if plain is not None and fold is _same and op in ("=", "IN"):
        # the commonest terms (WhoId IN, IsDeleted = false) read the value straight from the row
        if op == "IN":
            members = set(wanted)
            return lambda r: r.values.get(plain) in members
        value = wanted[0]
        return lambda r: r.values.get(plain) == value
    if op == "LIKE":
        if family != "string":
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on {family} field: LIKE", ref.pos)
        pattern = _like(str(wanted[0]))
        return lambda r: (v := read(r)) is not None and pattern.fullmatch(str(v)) is not None
    if op in ("IN", "NOT IN"):
        members = set(wanted)
        if op == "IN":
            return lambda r: fold(read(r)) in members
        return lambda r: fold(read(r)) not in members
    value = wanted[0]
    if op == "=":
        return lambda r: fold(read(r)) == value
    if op == "!=":
        return lambda r: fold(read(r)) != value
    if family == "boolean":
        raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on boolean field: {op}", ref.pos)
    if value is None:
        return lambda r: False
    compare: Callable[[Any, Any], bool] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }[op]

    def ordered(record: Record) -> bool:
        got = read(record)
        return got is not None and compare(fold(got), value)

    return ordered


@dataclass(slots=True)
class _Cursor:
    records: list[dict[str, Any]]
    page: int
    expires: float


class Cursors:
    """Materialised query results, paged by ``<locator>-<offset>``."""

    def __init__(self, id_factory: ids.IdFactory, clock: Callable[[], float]) -> None:
        self._ids = id_factory
        self._clock = clock
        self._open: OrderedDict[str, _Cursor] = OrderedDict()
        self._lock = threading.Lock()

    def page(self, total: int, records: list[dict[str, Any]], page_size: int, version: str) -> dict[str, Any]:
        """The first page of a result; a cursor is kept only when there is more."""
        if len(records) <= page_size:
            return {"totalSize": total, "done": True, "records": records}
        locator = self._ids.new("01g")
        with self._lock:
            self._open[locator] = _Cursor(records, page_size, self._clock() + LOCATOR_TTL_S)
            while len(self._open) > _MAX_CURSORS:
                self._open.popitem(last=False)
        return self._slice(locator, self._open[locator], 0, version)

    def more(self, token: str, version: str) -> dict[str, Any]:
        """A later page, from the last segment of a ``nextRecordsUrl``; KeyError if invalid or expired."""
        locator, _, offset = token.rpartition("-")
        with self._lock:
            cursor = self._open.get(locator)
        if cursor is None or not offset.isdigit() or cursor.expires < self._clock():
            raise KeyError(token)
        return self._slice(locator, cursor, int(offset), version)

    @staticmethod
    def _slice(locator: str, cursor: _Cursor, offset: int, version: str) -> dict[str, Any]:
        end = offset + cursor.page
        body: dict[str, Any] = {"totalSize": len(cursor.records), "done": end >= len(cursor.records)}
        if not body["done"]:
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{end}"
        body["records"] = cursor.records[offset:end]
        return body
