"""The REST API under ``/services/data/vXX.X/``: query, sObject rows, upsert, collections, composite, describe, limits,
and the version's resource list.

Every path works for any API version, and the resource paths simple-salesforce
calls with a trailing slash (``query/``, ``limits/``, ``sobjects/Task/``) answer
with or without it. Status codes follow Salesforce's: 201 for a create, 204 for
an update or delete, 200 for an upsert that updated (API 46.0+ shape with
``"created": false``; 201 with ``"created": true`` when it created), 300 when an
external id matches several records, and 200 with per-item results for a
well-formed collection even when items fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.sandbox.salesforce import errors
from connector.sandbox.salesforce.automation import AUTO_ASSIGN_HEADER, Automation, wants_auto_assign
from connector.sandbox.salesforce.composite import CompositeRoute
from connector.sandbox.salesforce.describe import describe_sobject
from connector.sandbox.salesforce.discovery import Discovery
from connector.sandbox.salesforce.errors import RecordError, error, not_found, object_body
from connector.sandbox.salesforce.org import Org, Record
from connector.sandbox.salesforce.query import DEFAULT_PAGE, MIN_PAGE, Cursors, QueryEngine, attributes
from connector.sandbox.salesforce.schema import SObject
from connector.sandbox.salesforce.soql import SoqlError
from connector.sandbox.server import Request, Response, Router

BASE = "/services/data/{version}"
MAX_COLLECTION = 200
#: the longest request URI Salesforce answers; a query's SOQL travels in it
URI_LIMIT = 16_384
_JsonObject = dict[str, Any]
#: bytes ``quote_plus`` leaves as one character (a space becomes ``+``)
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~ "


class _RolledBack(Exception):
    """Unwinds an allOrNone collection's transaction after an item failed."""


class SalesforceRoutes:
    """Handlers bound to one org."""

    def __init__(
        self, org: Org, automation: Automation, cursors: Cursors, limits: Callable[[], dict[str, Any]]
    ) -> None:
        self.org = org
        self.automation = automation
        self.cursors = cursors
        self.engine = QueryEngine(org)
        self._limits = limits

    def register(self, router: Router) -> None:
        def both(method: str, template: str, handler: Callable[[Request], Response]) -> None:
            router.add(method, BASE + template, handler)
            router.add(method, BASE + template + "/", handler)

        both("GET", "/limits", lambda request: Response(200, self._limits()))
        both("GET", "/query", lambda request: self.query(request, include_deleted=False))
        both("GET", "/queryAll", lambda request: self.query(request, include_deleted=True))
        router.add("GET", BASE + "/query/{locator}", self.query_more)
        router.add("GET", BASE + "/queryAll/{locator}", self.query_more)
        both("GET", "/sobjects", self.describe_global)
        both("GET", "/sobjects/{sobject}/describe", self.describe)
        both("POST", "/sobjects/{sobject}", self.create)
        for method, handler in (("GET", self.read), ("PATCH", self.update), ("DELETE", self.delete)):
            router.add(method, BASE + "/sobjects/{sobject}/{id}", handler)
        router.add("GET", BASE + "/sobjects/{sobject}/{field}/{value}", self.read_by_external_id)
        router.add("PATCH", BASE + "/sobjects/{sobject}/{field}/{value}", self.upsert)
        for method in ("POST", "PATCH", "DELETE"):
            both(method, "/composite/sobjects", self.collection)
        both("PATCH", "/composite/sobjects/{sobject}/{field}", self.upsert_collection)
        both("POST", "/composite", CompositeRoute(router))
        both("GET", "", Discovery(lambda: self.org.api_user_id))

    # -- query -------------------------------------------------------------------------

    def query(self, request: Request, include_deleted: bool) -> Response:
        soql = request.first("q")
        if not soql:
            raise error(400, "MALFORMED_QUERY", "A query string has to be specified")
        if len(request.path) + 1 + _query_length(request.query) > URI_LIMIT:
            raise error(414, "URI_TOO_LONG", f"The length of the URI exceeds the {URI_LIMIT} byte limit")
        version = request.params["version"]
        try:
            total, records = self.engine.run(soql, include_deleted, version, encoded=True)
        except SoqlError as refused:
            raise error(400, refused.code, refused.message(soql)) from None
        page = _page_size(request.headers.get("Sforce-Query-Options"))
        return Response(200, self.cursors.page(total, records, page, version))

    def query_more(self, request: Request) -> Response:
        try:
            return Response(200, self.cursors.more(request.params["locator"], request.params["version"]))
        except KeyError:
            raise error(400, "INVALID_QUERY_LOCATOR", "invalid query locator") from None

    # -- describe ----------------------------------------------------------------------

    def describe(self, request: Request) -> Response:
        sobject = self._sobject(request)
        host = request.headers.get("Host") or "127.0.0.1"
        return Response(200, describe_sobject(sobject, request.params["version"], host))

    def describe_global(self, request: Request) -> Response:
        version = request.params["version"]
        listed = [
            {
                "name": o.name,
                "label": o.label,
                "labelPlural": o.plural,
                "keyPrefix": o.prefix,
                "custom": False,
                "createable": True,
                "updateable": True,
                "deletable": True,
                "queryable": True,
                "urls": {
                    "sobject": f"/services/data/{version}/sobjects/{o.name}",
                    "describe": f"/services/data/{version}/sobjects/{o.name}/describe",
                },
            }
            for o in self.org.schema.objects.values()
        ]
        return Response(200, {"encoding": "UTF-8", "maxBatchSize": MAX_COLLECTION, "sobjects": listed})

    # -- single records ----------------------------------------------------------------

    def create(self, request: Request) -> Response:
        sobject = self._sobject(request)
        body = object_body(request)
        try:
            with self.org.lock:
                record = self._write(sobject, body, None, _auto_assign(request))
        except RecordError as refused:
            raise refused.single() from None
        version = request.params["version"]
        return Response(
            201,
            {"id": record.id, "success": True, "errors": []},
            {"Location": f"/services/data/{version}/sobjects/{sobject.name}/{record.id}"},
        )

    def read(self, request: Request) -> Response:
        record = self._live(request)
        wanted = request.many("fields")
        return Response(200, self.render(record, request.params["version"], wanted or None))

    def update(self, request: Request) -> Response:
        body = object_body(request)
        with self.org.lock:
            record = self._record(request)
            try:
                self._write(record.sobject, body, record, _auto_assign(request))
            except RecordError as refused:
                raise refused.single(404 if refused.code == "ENTITY_IS_DELETED" else 400) from None
        return Response(204)

    def delete(self, request: Request) -> Response:
        with self.org.lock:
            record = self._record(request)
            try:
                self.org.delete(record)
            except RecordError as refused:
                raise refused.single(404) from None
        return Response(204)

    def read_by_external_id(self, request: Request) -> Response:
        sobject = self._sobject(request)
        field = self._external_field(sobject, request.params["field"])
        matches = self.org.find(sobject, field, request.params["value"])
        if len(matches) > 1:
            return self._several(matches, request)
        if not matches:
            raise not_found()
        return Response(200, self.render(matches[0], request.params["version"]))

    def upsert(self, request: Request) -> Response:
        sobject = self._sobject(request)
        field = self._external_field(sobject, request.params["field"])
        body = object_body(request)
        value = request.params["value"]
        with self.org.lock:
            matches = self.org.find(sobject, field, value)
            if len(matches) > 1:
                return self._several(matches, request)
            if not matches and field.name == "Id":
                raise not_found()
            try:
                record, created = self._upsert_one(sobject, field.name, value, body, matches, _auto_assign(request))
            except RecordError as refused:
                raise refused.single() from None
        return Response(201 if created else 200, {"id": record.id, "success": True, "errors": [], "created": created})

    # -- sObject Collections -------------------------------------------------------------

    def collection(self, request: Request) -> Response:
        auto_assign = _auto_assign(request)
        if request.method == "DELETE":
            ids = request.many("ids")
            if len(ids) > MAX_COLLECTION:
                raise _too_many()
            all_or_none = (request.first("allOrNone") or "false").lower() == "true"
            return Response(200, self._each(ids, self._delete_item, all_or_none))
        records, all_or_none = _collection_body(request)
        if request.method == "POST":
            return Response(200, self._each(records, lambda item: self._create_item(item, auto_assign), all_or_none))
        return Response(200, self._each(records, lambda item: self._update_item(item, auto_assign), all_or_none))

    def upsert_collection(self, request: Request) -> Response:
        sobject = self._sobject(request)
        field = self._external_field(sobject, request.params["field"])
        records, all_or_none = _collection_body(request)
        auto_assign = _auto_assign(request)

        def upsert_item(item: Any) -> _JsonObject:
            fields = _item_fields(item, sobject)
            key = next((k for k in fields if k.lower() == field.name.lower()), None)
            if key is None or fields[key] in (None, ""):
                raise RecordError("MISSING_ARGUMENT", f"{field.name} not specified", [field.name])
            value = fields.pop(key)
            matches = self.org.find(sobject, field, value)
            if len(matches) > 1:
                raise RecordError(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{field.name}: more than one record found for external id field: {[m.id for m in matches]}",
                    [field.name],
                )
            self._maybe_lock_error(matches[0].id if matches else None)
            record, created = self._upsert_one(sobject, field.name, value, fields, matches, auto_assign)
            return {"id": record.id, "success": True, "errors": [], "created": created}

        return Response(200, self._each(records, upsert_item, all_or_none))

    def _each(self, items: list[Any], write: Callable[[Any], _JsonObject], all_or_none: bool) -> list[_JsonObject]:
        """Per-item results in request order; allOrNone rolls back everything if one item failed."""
        results: list[_JsonObject] = []
        failures: dict[int, RecordError] = {}
        with self.org.lock:
            try:
                with self.org.transaction():
                    for index, item in enumerate(items):
                        try:
                            results.append(write(item))
                        except RecordError as refused:
                            failures[index] = refused
                            results.append(refused.item())
                    if failures and all_or_none:
                        raise _RolledBack
            except _RolledBack:
                return [failures[i].item() if i in failures else errors.rolled_back() for i in range(len(items))]
        return results

    def _create_item(self, item: Any, auto_assign: bool) -> _JsonObject:
        sobject = self._item_sobject(item)
        fields = _fields(item)
        if any(k.lower() == "id" for k in fields):
            raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        self._maybe_lock_error(None)
        record = self._write(sobject, fields, None, auto_assign)
        return {"id": record.id, "success": True, "errors": []}

    def _update_item(self, item: Any, auto_assign: bool) -> _JsonObject:
        sobject = self._item_sobject(item)
        fields = _fields(item)
        key = "id" if "id" in fields else next((k for k in fields if k.lower() == "id"), None)
        if key is None:
            raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call")
        record_id = str(fields.pop(key))
        record = self.org.get(record_id)
        if record is None or record.sobject is not sobject:
            if record is None and self.org.schema.of_id(record_id) is sobject:
                raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            raise RecordError("MALFORMED_ID", f"malformed id {record_id}")
        record_id = record.id
        self._maybe_lock_error(record_id)
        self._write(sobject, fields, record, auto_assign)
        return {"id": record_id, "success": True, "errors": []}

    def _delete_item(self, record_id: str) -> _JsonObject:
        record = self.org.get(record_id)
        if record is None:
            raise RecordError(
                "MALFORMED_ID" if self.org.schema.of_id(record_id) is None else "INVALID_CROSS_REFERENCE_KEY",
                f"invalid record id: {record_id}",
            )
        self._maybe_lock_error(record.id)
        self.org.delete(record)
        return {"id": record.id, "success": True, "errors": []}

    # -- shared ------------------------------------------------------------------------

    def render(self, record: Record, version: str, fields: list[str] | None = None) -> _JsonObject:
        """A record as ``GET sobjects/<Type>/<id>`` answers it (every field, or ``fields``)."""
        out: _JsonObject = {"attributes": attributes(record, version)}
        if fields is None:
            out.update(record.values)
            return out
        for name in fields:
            field = record.sobject.field(name)
            if field is None:
                raise error(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {record.sobject.name}")
            out[field.name] = record.values.get(field.name)
        return out

    def _write(self, sobject: SObject, fields: _JsonObject, record: Record | None, auto_assign: bool) -> Record:
        written = self.org.create(sobject, fields) if record is None else self.org.update(record, fields)
        self.automation.after_write(self.org, written, auto_assign)
        return written

    def _upsert_one(
        self, sobject: SObject, field: str, value: Any, fields: _JsonObject, matches: list[Record], auto_assign: bool
    ) -> tuple[Record, bool]:
        fields = {k: v for k, v in fields.items() if k.lower() != field.lower()}
        if matches:
            return self._write(sobject, fields, matches[0], auto_assign), False
        return self._write(sobject, {**fields, field: value}, None, auto_assign), True

    def _maybe_lock_error(self, record_id: str | None) -> None:
        refused = self.automation.lock_error(record_id)
        if refused is not None:
            raise refused

    def _sobject(self, request: Request) -> SObject:
        sobject = self.org.schema.get(request.params["sobject"])
        if sobject is None:
            raise not_found()
        return sobject

    def _item_sobject(self, item: Any) -> SObject:
        if not isinstance(item, dict):
            raise RecordError("INVALID_TYPE", "each record must be a JSON object")
        kind = (item.get("attributes") or {}).get("type") if isinstance(item.get("attributes"), dict) else None
        sobject = self.org.schema.get(str(kind or ""))
        if sobject is None:
            raise RecordError("INVALID_TYPE", f"sObject type '{kind}' is not supported.")
        return sobject

    def _record(self, request: Request) -> Record:
        sobject = self._sobject(request)
        record = self.org.get(request.params["id"])
        if record is None or record.sobject is not sobject:
            raise not_found()
        return record

    def _live(self, request: Request) -> Record:
        record = self._record(request)
        if record.deleted:
            raise not_found()
        return record

    @staticmethod
    def _external_field(sobject: SObject, name: str) -> Any:
        field = sobject.field(name)
        if field is None or not (field.external_id or field.name == "Id"):
            raise error(404, "NOT_FOUND", f"Provided external ID field does not exist or is not accessible: {name}")
        return field

    @staticmethod
    def _several(matches: list[Record], request: Request) -> Response:
        version = request.params["version"]
        return Response(300, [f"/services/data/{version}/sobjects/{m.sobject.name}/{m.id}" for m in matches])


def _auto_assign(request: Request) -> bool:
    return wants_auto_assign(request.headers.get(AUTO_ASSIGN_HEADER))


def _query_length(query: dict[str, list[str]]) -> int:
    """How long ``urlencode(query, doseq=True)`` is, without building it (a query's SOQL can
    run to 16 KB): unreserved bytes and spaces (``+``) stay one character, others become ``%XX``."""
    encoded = [part.encode() for name, values in query.items() for value in values for part in (name, value)]
    pairs = len(encoded) // 2
    length = sum(len(b) + 2 * len(b.translate(None, _UNRESERVED)) for b in encoded)
    return length + pairs + max(pairs - 1, 0)  # the "=" of each pair and the "&" between them


def _page_size(options: str | None) -> int:
    """``Sforce-Query-Options: batchSize=N``, kept within Salesforce's 200..2000."""
    for part in (options or "").split(","):
        name, _, value = part.partition("=")
        if name.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value), MIN_PAGE), DEFAULT_PAGE)
    return DEFAULT_PAGE


def _collection_body(request: Request) -> tuple[list[Any], bool]:
    body = object_body(request)
    records = body.get("records")
    if not isinstance(records, list):
        raise error(400, "JSON_PARSER_ERROR", "records: expected a list of sObjects")
    if len(records) > MAX_COLLECTION:
        raise _too_many()
    return records, bool(body.get("allOrNone", False))


def _too_many() -> Exception:
    return error(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {MAX_COLLECTION} records into this call",
    )


def _item_fields(item: Any, sobject: SObject) -> _JsonObject:
    kind = (item.get("attributes") or {}).get("type") if isinstance(item, dict) else None
    if not isinstance(item, dict) or str(kind or "").lower() != sobject.name.lower():
        raise RecordError("INVALID_TYPE", f"sObject type '{kind}' is not supported here: expected {sobject.name}")
    return _fields(item)


def _fields(item: _JsonObject) -> _JsonObject:
    """A collection item's fields (of the type its ``attributes`` name, already checked)."""
    return {k: v for k, v in item.items() if k != "attributes"}
