"""HubSpot's CRM v3/v4 routes: objects, batches, search, associations, owners, properties,
pipelines, schemas.

Status codes follow the SDK's response maps (research/hubspot.md section 5):
create 201, batch create 201/207, batch read/update/upsert 200/207, archive 204.
Every object type (contacts, deals, leads, tasks and the other activities) has the
same list, get, batch and search surface with the same limits and error bodies. A
lead create without an association to an existing contact (type 578, lead to
primary contact) is refused with 400 ``VALIDATION_ERROR`` (a 207 element in a
batch); HubSpot documents the rule, the message text is the sandbox's own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cache
from operator import attrgetter, itemgetter
from typing import Any, NoReturn, TypeVar

import orjson

from connector.sandbox.hubspot import errors
from connector.sandbox.hubspot.objects import (
    ASSOCIATION_TYPE_IDS,
    CONTACTS,
    LEAD_TO_PRIMARY_CONTACT,
    LEADS,
    OBJECT_TYPES,
    ObjectType,
    find_object_type,
)
from connector.sandbox.hubspot.pipelines import PIPELINES, Pipeline, find_pipeline, pipeline_json, stage_json
from connector.sandbox.hubspot.properties import (
    FIELD_TYPES,
    TYPES,
    PropertyGroup,
    custom_property,
    updated_property,
)
from connector.sandbox.hubspot.search import MAX_BODY_CHARS, search
from connector.sandbox.hubspot.store import (
    Conflict,
    InvalidAssociation,
    Portal,
    Record,
    WriteRejected,
)
from connector.sandbox.hubspot.wire import (
    batch_json,
    echo_json,
    owner_json,
    property_names,
    record_json,
    record_reply,
)
from connector.sandbox.server import Request, Response, Router

MAX_BATCH = 100
MAX_BATCH_WITH_HISTORY = 50
MAX_ASSOCIATION_BATCH = 1000
MAX_LIST_LIMIT = 100
MAX_OWNER_LIMIT = 500
LEAD_WITHOUT_CONTACT = (
    "A lead must be associated with an existing contact: add an association with "
    f"associationTypeId {LEAD_TO_PRIMARY_CONTACT} (lead to primary contact)"
)
_TRUE = frozenset({"true", "1"})


def _flag(request: Request, name: str) -> bool:
    """A boolean query parameter; the SDK sends Python's ``True``/``False``."""
    return (request.first(name) or "false").lower() in _TRUE


def _body(request: Request) -> Any:
    try:
        return request.json()
    except ValueError as problem:
        raise errors.validation(f"Invalid input JSON: {problem}") from None


def _object(request: Request, param: str = "objectType") -> ObjectType:
    """The object type a path names (plural, singular, type id, any case)."""
    raw = request.params[param]
    otype = find_object_type(raw)
    if otype is None:
        raise errors.validation(f"Unable to infer object type from: {raw}")
    return otype


def _inputs(body: Any, limit: int) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise errors.validation('Invalid input JSON: the body needs an "inputs" list')
    inputs: list[Any] = body["inputs"]
    if len(inputs) > limit:
        raise errors.validation(
            f"Batch input size {len(inputs)} is too large: at most {limit} inputs are supported in one request"
        )
    return list(inputs)


def _write_error(problem: WriteRejected | Conflict, trace: str | None) -> dict[str, Any]:
    """A batch element for a refused input."""
    context: dict[str, list[str]] = {}
    if trace:
        context["objectWriteTraceId"] = [trace]
    if isinstance(problem, Conflict):
        context["existingId"] = [problem.existing_id]
        return errors.batch_error("CONFLICT", problem.message, context)
    context["propertyName"] = [e.name for e in problem.errors]
    return errors.batch_error("VALIDATION_ERROR", errors.property_message(problem.errors), context)


def _missing_ids_error(otype: ObjectType, missing: list[str]) -> dict[str, Any]:
    """The batch element HubSpot sends for ids it could not find."""
    return errors.batch_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some {otype.fully_qualified_name} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        {"ids": missing},
    )


def _raise_for(problem: WriteRejected | Conflict | InvalidAssociation) -> NoReturn:
    """Answer a refused single write the way HubSpot does."""
    if isinstance(problem, Conflict):
        raise errors.error(409, "CONFLICT", problem.message)
    if isinstance(problem, WriteRejected):
        raise errors.validation(errors.property_message(problem.errors))
    raise errors.validation(str(problem))


class HubSpotRoutes:
    """The CRM API of one sandbox portal."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def register(self, router: Router) -> None:
        """Add every route to ``router``."""
        objects = "/crm/v3/objects/{objectType}"
        routes: list[tuple[str, str, Callable[[Request], Response]]] = [
            ("GET", objects, self.list_objects),
            ("POST", objects, self.create),
            ("GET", objects + "/{objectId}", self.get),
            ("PATCH", objects + "/{objectId}", self.update),
            ("DELETE", objects + "/{objectId}", self.archive),
            ("POST", objects + "/search", self.search),
            ("POST", objects + "/batch/read", self.batch_read),
            ("POST", objects + "/batch/create", self.batch_create),
            ("POST", objects + "/batch/update", self.batch_update),
            ("POST", objects + "/batch/upsert", self.batch_upsert),
            ("POST", objects + "/batch/archive", self.batch_archive),
            ("GET", objects + "/{objectId}/associations/{toObjectType}", self.v3_associations),
            (
                "PUT",
                objects + "/{objectId}/associations/{toObjectType}/{toObjectId}/{associationType}",
                self.v3_associate,
            ),
            ("POST", "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read", self.v4_batch_read),
            ("GET", "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}", self.v4_associations),
            # the SDK calls the owners list with a trailing slash; docs and curl without
            ("GET", "/crm/v3/owners", self.owners),
            ("GET", "/crm/v3/owners/", self.owners),
            ("GET", "/crm/v3/owners/{ownerId}", self.owner),
            ("GET", "/crm/v3/properties/{objectType}", self.properties),
            ("POST", "/crm/v3/properties/{objectType}", self.create_property),
            ("GET", "/crm/v3/properties/{objectType}/{propertyName}", self.property),
            ("PATCH", "/crm/v3/properties/{objectType}/{propertyName}", self.update_property),
            ("DELETE", "/crm/v3/properties/{objectType}/{propertyName}", self.archive_property),
            ("GET", "/crm/v3/properties/{objectType}/groups", self.groups),
            ("POST", "/crm/v3/properties/{objectType}/groups", self.create_group),
            ("GET", "/crm/v3/properties/{objectType}/groups/{groupName}", self.group),
            ("PATCH", "/crm/v3/properties/{objectType}/groups/{groupName}", self.update_group),
            ("DELETE", "/crm/v3/properties/{objectType}/groups/{groupName}", self.archive_group),
            ("GET", "/crm/v3/schemas/{objectType}", self.schema),
            ("GET", "/crm/v3/pipelines/{objectType}", self.pipelines),
            ("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}", self.pipeline),
            ("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages", self.pipeline_stages),
            ("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages/{stageId}", self.pipeline_stage),
        ]
        for method, template, handler in routes:
            router.add(method, template, handler)

    # -- single objects -------------------------------------------------------------------

    def _names(self, otype: ObjectType, requested: list[str]) -> tuple[str, ...]:
        return property_names(otype, self.portal.properties[otype.name], requested)

    def _history_names(self, otype: ObjectType, requested: list[str]) -> tuple[str, ...]:
        catalog = self.portal.properties[otype.name]
        return tuple(name for name in requested if name in catalog)

    def list_objects(self, request: Request) -> Response:
        otype = _object(request)
        limit = min(self._int(request.first("limit"), 10), MAX_LIST_LIMIT)
        after_raw = request.first("after")
        after = self._int(after_raw, 0) if after_raw else None
        names = self._names(otype, request.many("properties"))
        history = self._history_names(otype, request.many("propertiesWithHistory"))
        associations = [t for t in map(find_object_type, request.many("associations")) if t is not None]
        records, next_after = self.portal.page(otype, after, limit, _flag(request, "archived"))
        results = []
        for record in records:
            if not (history or associations):
                results.append(record_reply(record, names))
                continue
            item = record_json(record, names, history, self.portal)
            if associations:
                self._attach_v3_associations(item, otype, record, associations)
            results.append(item)
        body: dict[str, Any] = {"results": results}
        if next_after is not None:
            body["paging"] = {"next": {"after": next_after, "link": f"?after={next_after}"}}
        return Response(200, body)

    @staticmethod
    def _int(raw: str | None, default: int) -> int:
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise errors.validation(f"{raw!r} is not an integer") from None

    def _find(self, otype: ObjectType, request: Request, record_id: str, archived: bool = False) -> Record:
        id_property = request.first("idProperty")
        if id_property and not self.portal.is_unique(otype, id_property):
            raise errors.validation(f"{id_property} is not a unique property of {otype.name}")
        record = self.portal.get(otype, record_id, id_property, archived)
        if record is None:
            raise errors.not_found()
        return record

    def get(self, request: Request) -> Response:
        otype = _object(request)
        record = self._find(otype, request, request.params["objectId"], _flag(request, "archived"))
        names = self._names(otype, request.many("properties"))
        history = self._history_names(otype, request.many("propertiesWithHistory"))
        associations = [t for t in map(find_object_type, request.many("associations")) if t is not None]
        if not (history or associations):
            return Response(200, record_reply(record, names))
        item = record_json(record, names, history, self.portal)
        if associations:
            self._attach_v3_associations(item, otype, record, associations)
        return Response(200, item)

    def _attach_v3_associations(
        self, item: dict[str, Any], otype: ObjectType, record: Record, to_types: list[ObjectType]
    ) -> None:
        out = {}
        for to_type in to_types:
            linked = self.portal.associations(otype, record.id, to_type)
            if linked:
                label = label_of(otype, to_type)
                out[to_type.name] = {"results": [{"id": other, "type": label} for other in linked]}
        if out:
            item["associations"] = out

    def create(self, request: Request) -> Response:
        otype = _object(request)
        body = _body(request)
        if not isinstance(body, dict):
            raise errors.validation("Invalid input JSON: expected an object")
        try:
            record, echo = self._create_one(otype, body)
        except (WriteRejected, Conflict, InvalidAssociation) as problem:
            _raise_for(problem)
        return Response(201, echo_json(record, echo))

    def _create_one(self, otype: ObjectType, item: dict[str, Any]) -> tuple[Record, dict[str, str]]:
        properties = item.get("properties") or {}
        links = self._association_targets(otype, item.get("associations") or [])
        if otype is LEADS and not any(to_type is CONTACTS for to_type, _ in links):
            raise InvalidAssociation(LEAD_WITHOUT_CONTACT)
        with self.portal.lock:
            record, echo = self.portal.create(otype, properties)
            for to_type, to_id in links:
                self.portal.associate(otype, record.id, to_type, to_id)
        return record, echo

    def _association_targets(self, otype: ObjectType, specs: list[Any]) -> list[tuple[ObjectType, str]]:
        """(type, id) pairs a create's ``associations`` name, checked before anything is written."""
        by_type_id = {type_id: to for (frm, to), type_id in ASSOCIATION_TYPE_IDS.items() if frm == otype.name}
        targets = []
        for spec in specs:
            try:
                to_id = str(spec["to"]["id"])
                type_ids = [int(t["associationTypeId"]) for t in spec["types"]]
            except (KeyError, TypeError, ValueError):
                raise InvalidAssociation("each association needs to.id and types[].associationTypeId") from None
            for type_id in type_ids:
                to_name = by_type_id.get(type_id)
                if to_name is None:
                    raise InvalidAssociation(f"{type_id} is not a valid association type id from {otype.singular}")
                to_type = find_object_type(to_name)
                assert to_type is not None
                if not self.portal.is_live(to_type, to_id):
                    raise InvalidAssociation(f"{to_type.fully_qualified_name} {to_id} does not exist")
                targets.append((to_type, to_id))
        return targets

    def update(self, request: Request) -> Response:
        otype = _object(request)
        record = self._find(otype, request, request.params["objectId"])
        body = _body(request)
        if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
            raise errors.validation('Invalid input JSON: expected {"properties": {...}}')
        try:
            updated, echo = self.portal.update(otype, record, body.get("properties") or {})
        except (WriteRejected, Conflict) as problem:
            _raise_for(problem)
        return Response(200, echo_json(updated, echo))

    def archive(self, request: Request) -> Response:
        otype = _object(request)
        self.portal.archive(otype, request.params["objectId"])
        return Response(204)

    # -- search ---------------------------------------------------------------------------

    def search(self, request: Request) -> Response:
        otype = _object(request)
        if len(request.body) > MAX_BODY_CHARS:
            raise errors.validation(f"Search request bodies are limited to {MAX_BODY_CHARS} characters")
        return Response(200, search(self.portal, otype, _body(request)).to_json())

    # -- batches --------------------------------------------------------------------------

    def batch_read(self, request: Request) -> Response:
        otype = _object(request)
        body = _body(request)
        history_wanted = isinstance(body, dict) and bool(body.get("propertiesWithHistory"))
        if history_wanted and len(body.get("inputs") or []) > MAX_BATCH_WITH_HISTORY:
            raise errors.validation(
                "The maximum number of inputs supported in a batch request for property histories is 50. "
                "Please reduce the number of items and try again"
            )
        inputs = _inputs(body, MAX_BATCH)
        started = self.portal.now_iso()
        id_property = body.get("idProperty")
        if id_property and not self.portal.is_unique(otype, id_property):
            raise errors.validation(f"{id_property} is not a unique property of {otype.name}")
        names = self._names(otype, body.get("properties") or [])
        history = self._history_names(otype, body.get("propertiesWithHistory") or [])
        archived = _flag(request, "archived")
        keys = [str(item.get("id")) if isinstance(item, dict) else str(item) for item in inputs]
        found, missing = [], []
        for key, record in zip(keys, self.portal.get_many(otype, keys, id_property, archived), strict=True):
            if record is None:
                missing.append(key)
            else:
                found.append(record)
        # ordered as _batch_reply orders, before rendering: a rendered record may be encoded already
        found = _in_batch_order(found, map(attrgetter("id"), found))
        if history:
            results = [record_json(record, names, history, self.portal) for record in found]
        else:
            results = [record_reply(record, names) for record in found]
        errs = [_missing_ids_error(otype, missing)] if missing else []
        return self._batch_response(results, errs, started, 200)

    def _batch_reply(
        self, results: list[dict[str, Any]], errs: list[dict[str, Any]], started: str, ok: int
    ) -> Response:
        return self._batch_response(_in_batch_order(results, map(itemgetter("id"), results)), errs, started, ok)

    def _batch_response(self, results: list[Any], errs: list[dict[str, Any]], started: str, ok: int) -> Response:
        """A batch reply of results already in batch order: 207 with errors, else ``ok``."""
        return Response(207 if errs else ok, batch_json(results, errs, started, self.portal.now_iso()))

    def batch_create(self, request: Request) -> Response:
        otype = _object(request)
        inputs = _inputs(_body(request), MAX_BATCH)
        started = self.portal.now_iso()
        results, errs = [], []
        for item in inputs:
            trace = item.get("objectWriteTraceId") if isinstance(item, dict) else None
            try:
                record, echo = self._create_one(otype, item if isinstance(item, dict) else {})
            except (WriteRejected, Conflict) as problem:
                errs.append(_write_error(problem, trace))
                continue
            except InvalidAssociation as problem:
                errs.append(
                    errors.batch_error(
                        "VALIDATION_ERROR", str(problem), {"objectWriteTraceId": [trace]} if trace else {}
                    )
                )
                continue
            results.append(echo_json(record, echo))
        return self._batch_reply(results, errs, started, 201)

    def batch_update(self, request: Request) -> Response:
        otype = _object(request)
        inputs = _inputs(_body(request), MAX_BATCH)
        ids = [str(item.get("id")) for item in inputs if isinstance(item, dict)]
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
        if duplicates:
            raise errors.validation(f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique")
        started = self.portal.now_iso()
        results, errs, missing = [], [], []
        with self.portal.lock:  # once for the batch, not twice per input
            for item in inputs:
                if not isinstance(item, dict) or not isinstance(item.get("properties"), dict):
                    raise errors.validation("each input needs an id and a properties object")
                key, trace = str(item.get("id")), item.get("objectWriteTraceId")
                record = self.portal.get(otype, key, item.get("idProperty"))
                if record is None:
                    missing.append(key)
                    continue
                try:
                    updated, echo = self.portal.update(otype, record, item["properties"])
                except (WriteRejected, Conflict) as problem:
                    errs.append(_write_error(problem, trace))
                    continue
                results.append(echo_json(updated, echo))
        if missing:
            errs.append(_missing_ids_error(otype, missing))
        return self._batch_reply(results, errs, started, 200)

    def batch_upsert(self, request: Request) -> Response:
        otype = _object(request)
        inputs = _inputs(_body(request), MAX_BATCH)
        started = self.portal.now_iso()
        results, errs = [], []
        for item in inputs:
            if not isinstance(item, dict) or not item.get("idProperty"):
                raise errors.validation("each upsert input needs id, idProperty and properties")
            id_property, key = item["idProperty"], str(item.get("id"))
            if not self.portal.is_unique(otype, id_property) or id_property == "hs_object_id":
                raise errors.validation(f"{id_property} is not a unique property of {otype.name}")
            properties = item.get("properties") or {}
            try:
                with self.portal.lock:
                    existing = self.portal.get(otype, key, id_property)
                    if existing is None:
                        record, echo = self.portal.create(otype, {**properties, id_property: key})
                    else:
                        record, echo = self.portal.update(otype, existing, properties)
            except (WriteRejected, Conflict) as problem:
                errs.append(_write_error(problem, item.get("objectWriteTraceId")))
                continue
            results.append({**echo_json(record, echo), "new": existing is None})
        return self._batch_reply(results, errs, started, 200)

    def batch_archive(self, request: Request) -> Response:
        otype = _object(request)
        for item in _inputs(_body(request), MAX_BATCH):
            self.portal.archive(otype, str(item.get("id") if isinstance(item, dict) else item))
        return Response(204)

    # -- associations ---------------------------------------------------------------------

    def v3_associations(self, request: Request) -> Response:
        otype, to_type = _object(request), _object(request, "toObjectType")
        record = self._find(otype, request, request.params["objectId"])
        label = label_of(otype, to_type)
        linked = self.portal.associations(otype, record.id, to_type)
        return Response(200, {"results": [{"id": other, "type": label} for other in linked]})

    def v3_associate(self, request: Request) -> Response:
        otype, to_type = _object(request), _object(request, "toObjectType")
        record = self._find(otype, request, request.params["objectId"])
        expected = ASSOCIATION_TYPE_IDS.get((otype.name, to_type.name))
        if str(expected) != request.params["associationType"] and request.params["associationType"] != label_of(
            otype, to_type
        ):
            raise errors.validation(f"{request.params['associationType']} is not a valid association type here")
        try:
            self.portal.associate(otype, record.id, to_type, request.params["toObjectId"])
        except InvalidAssociation as problem:
            raise errors.validation(str(problem)) from None
        item = record_json(record, self._names(otype, []))
        self._attach_v3_associations(item, otype, record, list(OBJECT_TYPES))
        return Response(200, item)

    @staticmethod
    def _v4_targets(linked: dict[str, list[int]]) -> list[dict[str, Any]]:
        return [
            {
                "toObjectId": int(other),
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": t, "label": None} for t in types],
            }
            for other, types in linked.items()
        ]

    def v4_batch_read(self, request: Request) -> Response:
        otype, to_type = _object(request, "fromObjectType"), _object(request, "toObjectType")
        inputs = _inputs(_body(request), MAX_ASSOCIATION_BATCH)
        started = self.portal.now_iso()
        keys = [str(item.get("id")) if isinstance(item, dict) else str(item) for item in inputs]
        results: list[dict[str, Any]] = []
        errs: list[Any] = []
        unlinked = _unlinked_error(otype, to_type)
        for key, linked in zip(keys, self.portal.associations_of(otype, keys, to_type), strict=True):
            if linked and self.portal.is_live(otype, key):
                results.append({"from": {"id": key}, "to": self._v4_targets(linked)})
            else:
                errs.append(unlinked(key))
        body = batch_json(results, errs, started, self.portal.now_iso())
        return Response(207 if errs else 200, body)

    def v4_associations(self, request: Request) -> Response:
        otype, to_type = _object(request), _object(request, "toObjectType")
        record = self._find(otype, request, request.params["objectId"])
        return Response(200, {"results": self._v4_targets(self.portal.associations(otype, record.id, to_type))})

    # -- owners ---------------------------------------------------------------------------

    def owners(self, request: Request) -> Response:
        limit = min(self._int(request.first("limit"), 100), MAX_OWNER_LIMIT)
        after = self._int(request.first("after"), 0)
        email = (request.first("email") or "").lower()
        archived = _flag(request, "archived")
        owners = sorted(self.portal.owners.values(), key=lambda o: int(o.id))
        deactivated = self.portal.deactivated
        matching = [o for o in owners if (o.id in deactivated) == archived and (not email or o.email.lower() == email)]
        page = matching[after : after + limit]
        created = self.portal.owners_created
        body: dict[str, Any] = {"results": [owner_json(o, created, o.id in deactivated) for o in page]}
        if after + limit < len(matching):
            body["paging"] = {"next": {"after": str(after + limit), "link": f"?after={after + limit}"}}
        return Response(200, body)

    def owner(self, request: Request) -> Response:
        key = request.params["ownerId"]
        by_user = (request.first("idProperty") or "id") == "userId"
        for owner in self.portal.owners.values():
            if (str(owner.user_id) if by_user else owner.id) == key:
                return Response(200, owner_json(owner, self.portal.owners_created, owner.id in self.portal.deactivated))
        raise errors.not_found()

    # -- properties and groups ------------------------------------------------------------

    def properties(self, request: Request) -> Response:
        otype = _object(request)
        archived = _flag(request, "archived")
        catalog = self.portal.properties[otype.name]
        return Response(200, {"results": [p.to_json() for p in catalog.values() if p.archived == archived]})

    def property(self, request: Request) -> Response:
        otype = _object(request)
        prop = self.portal.properties[otype.name].get(request.params["propertyName"])
        if prop is None or prop.archived != _flag(request, "archived"):
            raise errors.not_found(f"Unable to find property {request.params['propertyName']} for {otype.name}")
        return Response(200, prop.to_json())

    def create_property(self, request: Request) -> Response:
        otype = _object(request)
        body = _body(request)
        if not isinstance(body, dict):
            raise errors.validation("Invalid input JSON: expected an object")
        missing = [f for f in ("name", "label", "type", "fieldType", "groupName") if not body.get(f)]
        if missing:
            raise errors.validation(f"Missing required fields: {', '.join(missing)}")
        if body["type"] not in TYPES or body["fieldType"] not in FIELD_TYPES:
            raise errors.validation(f"Unsupported type/fieldType: {body['type']}/{body['fieldType']}")
        if body["groupName"] not in self.portal.groups[otype.name]:
            raise errors.validation(f"Property group {body['groupName']} does not exist")
        with self.portal.lock:
            if body["name"] in self.portal.properties[otype.name]:
                raise errors.error(409, "OBJECT_ALREADY_EXISTS", f"A property named '{body['name']}' already exists.")
            prop = custom_property(body, self.portal.now_iso())
            self.portal.add_property(otype.name, prop)
        return Response(201, prop.to_json())

    def update_property(self, request: Request) -> Response:
        otype = _object(request)
        body = _body(request)
        with self.portal.lock:
            current = self.portal.properties[otype.name].get(request.params["propertyName"])
            if current is None:
                raise errors.not_found()
            if current.hubspot_defined:
                raise errors.validation(f"{current.name} is a HubSpot-defined property; its definition is read-only")
            prop = updated_property(current, body if isinstance(body, dict) else {}, self.portal.now_iso())
            self.portal.add_property(otype.name, prop)
        return Response(200, prop.to_json())

    def archive_property(self, request: Request) -> Response:
        otype = _object(request)
        with self.portal.lock:
            current = self.portal.properties[otype.name].get(request.params["propertyName"])
            if current is None:
                raise errors.not_found()
            if current.hubspot_defined:
                raise errors.validation(f"{current.name} is a HubSpot-defined property and cannot be archived")
            self.portal.add_property(otype.name, replace(current, archived=True, updated_at=self.portal.now_iso()))
        return Response(204)

    def groups(self, request: Request) -> Response:
        otype = _object(request)
        archived = _flag(request, "archived")
        return Response(
            200, {"results": [g.to_json() for g in self.portal.groups[otype.name].values() if g.archived == archived]}
        )

    def group(self, request: Request) -> Response:
        otype = _object(request)
        group = self.portal.groups[otype.name].get(request.params["groupName"])
        if group is None or group.archived:
            raise errors.not_found()
        return Response(200, group.to_json())

    def create_group(self, request: Request) -> Response:
        otype = _object(request)
        body = _body(request)
        if not isinstance(body, dict) or not body.get("name") or not body.get("label"):
            raise errors.validation("A property group needs a name and a label")
        with self.portal.lock:
            groups = self.portal.groups[otype.name]
            if body["name"] in groups:
                raise errors.error(
                    409, "OBJECT_ALREADY_EXISTS", f"A property group named '{body['name']}' already exists."
                )
            group = PropertyGroup(body["name"], body["label"], int(body.get("displayOrder", -1)))
            groups[group.name] = group
        return Response(201, group.to_json())

    def update_group(self, request: Request) -> Response:
        otype = _object(request)
        body = _body(request) or {}
        with self.portal.lock:
            groups = self.portal.groups[otype.name]
            current = groups.get(request.params["groupName"])
            if current is None:
                raise errors.not_found()
            group = PropertyGroup(
                current.name, body.get("label", current.label), int(body.get("displayOrder", current.display_order))
            )
            groups[group.name] = group
        return Response(200, group.to_json())

    def archive_group(self, request: Request) -> Response:
        otype = _object(request)
        with self.portal.lock:
            groups = self.portal.groups[otype.name]
            current = groups.get(request.params["groupName"])
            if current is not None:
                groups[current.name] = PropertyGroup(current.name, current.label, current.display_order, archived=True)
        return Response(204)

    # -- pipelines ------------------------------------------------------------------------

    @staticmethod
    def _pipeline_type(request: Request) -> ObjectType:
        otype = _object(request)
        if otype.name not in PIPELINES:
            raise errors.validation(f"{otype.name} do not have pipelines")
        return otype

    def _pipeline(self, request: Request) -> Pipeline:
        pipeline = find_pipeline(self._pipeline_type(request).name, request.params["pipelineId"])
        if pipeline is None:
            raise errors.not_found(f"Unable to find pipeline {request.params['pipelineId']}")
        return pipeline

    def pipelines(self, request: Request) -> Response:
        otype = self._pipeline_type(request)
        return Response(200, {"results": [pipeline_json(p) for p in PIPELINES[otype.name]]})

    def pipeline(self, request: Request) -> Response:
        return Response(200, pipeline_json(self._pipeline(request)))

    def pipeline_stages(self, request: Request) -> Response:
        stages = self._pipeline(request).stages
        return Response(200, {"results": [stage_json(s, i) for i, s in enumerate(stages)]})

    def pipeline_stage(self, request: Request) -> Response:
        stages = self._pipeline(request).stages
        for order, stage in enumerate(stages):
            if stage.id == request.params["stageId"]:
                return Response(200, stage_json(stage, order))
        raise errors.not_found(f"Unable to find stage {request.params['stageId']}")

    # -- schemas --------------------------------------------------------------------------

    def schema(self, request: Request) -> Response:
        otype = _object(request)
        catalog = self.portal.properties[otype.name]
        associations = [
            {
                "fromObjectTypeId": otype.type_id,
                "toObjectTypeId": other.type_id,
                "name": f"{otype.fully_qualified_name}_TO_{other.fully_qualified_name}",
                "cardinality": "ONE_TO_MANY",
                "inverseCardinality": "ONE_TO_MANY",
                "id": str(ASSOCIATION_TYPE_IDS[(otype.name, other.name)]),
                "createdAt": None,
                "updatedAt": None,
            }
            for other in OBJECT_TYPES
            if (otype.name, other.name) in ASSOCIATION_TYPE_IDS
        ]
        searchable = [
            n
            for n in ("firstname", "lastname", "email", "phone", "company", "dealname", "hs_lead_name")
            if n in catalog
        ]
        body = {
            "labels": {"singular": otype.singular.title(), "plural": otype.name.title()},
            "requiredProperties": list(otype.required),
            "searchableProperties": searchable,
            "primaryDisplayProperty": otype.display_property,
            "secondaryDisplayProperties": ["lastname", "email", "phone"] if otype is CONTACTS else [],
            "archived": False,
            "restorable": True,
            "metaType": "HUBSPOT",
            "id": otype.type_id.partition("-")[2],
            "fullyQualifiedName": otype.fully_qualified_name,
            "createdAt": "1970-01-01T00:00:00Z",
            "updatedAt": "1970-01-01T00:00:00Z",
            "objectTypeId": otype.type_id,
            "properties": [p.to_json() for p in catalog.values() if not p.archived],
            "associations": associations,
            "name": otype.fully_qualified_name,
        }
        return Response(200, body)


def _in_batch_order(items: list[_T], ids: Iterable[str]) -> list[_T]:
    """Records (or their replies), whose ids are ``ids``, in the order a batch reply lists them.
    HubSpot does not keep input order in batch replies; neither do we, so callers that match
    results to inputs by position fail here rather than in production."""
    keys = list(map(_batch_order, ids))
    return [items[i] for i in sorted(range(len(items)), key=keys.__getitem__)]


def _batch_order(record_id: str) -> tuple[int, str]:
    return int(record_id) % 7, record_id


_T = TypeVar("_T")


def _no_associations(otype: ObjectType, to_type: ObjectType, key: str) -> dict[str, Any]:
    """The batch error for an id with no live association to ``to_type``."""
    return errors.batch_error(
        "OBJECT_NOT_FOUND",
        f"No {to_type.name} is associated with {otype.singular} {key}.",
        {"fromObjectId": [key], "toObjectType": [to_type.fully_qualified_name]},
        subCategory="crm.associations.NO_ASSOCIATIONS_FOUND",
    )


@cache
def _unlinked_error(otype: ObjectType, to_type: ObjectType) -> Callable[[str], orjson.Fragment]:
    """:func:`_no_associations`, encoded: the element's JSON around the id, encoded once. A
    batch read of contacts that mostly have no meetings builds hundreds of these."""
    around = orjson.dumps(_no_associations(otype, to_type, _PLACEHOLDER)).split(_ENCODED_PLACEHOLDER)
    head, middle, tail = around  # the id is in the message and in the context, each inside a string

    def encoded(key: str) -> orjson.Fragment:
        inside = orjson.dumps(key)[1:-1]  # the id as JSON string content
        return orjson.Fragment(b"".join((head, inside, middle, inside, tail)))

    return encoded


_PLACEHOLDER = "\0"
_ENCODED_PLACEHOLDER = orjson.dumps(_PLACEHOLDER)[1:-1]


def label_of(otype: ObjectType, to_type: ObjectType) -> str:
    """The v3 association label, e.g. ``task_to_contact``."""
    return f"{otype.singular}_to_{to_type.singular}"
