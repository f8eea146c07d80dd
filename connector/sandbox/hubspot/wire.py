"""What records, owners and batch replies look like on HubSpot's wire."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from connector.sandbox.hubspot.objects import ObjectType
from connector.sandbox.hubspot.properties import PropertyDef
from connector.sandbox.hubspot.store import Portal, Record
from connector.sandbox.synthetic import Owner


def property_names(
    otype: ObjectType, catalog: dict[str, PropertyDef], requested: Iterable[str] | None
) -> tuple[str, ...]:
    """The properties a reply carries: the requested (or default) ones that exist, plus the
    always-returned ones, sorted by name as HubSpot sorts them."""
    wanted = set(requested) if requested else set(otype.default_properties)
    wanted.update(otype.always_properties)
    names = tuple(sorted(name for name in wanted if name in catalog))
    # one tuple object per list of names: a record's rendered properties are reused by identity
    if len(_NAMES) >= _MAX_NAME_LISTS:
        _NAMES.clear()
    return _NAMES.setdefault(names, names)


_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}
_MAX_NAME_LISTS = 1000


def record_json(
    record: Record, names: Sequence[str], with_history: Sequence[str] = (), portal: Portal | None = None
) -> dict[str, Any]:
    """A SimplePublicObject: requested properties, with ``null`` for the ones without a value."""
    props = record.props
    out: dict[str, Any] = {
        "id": record.id,
        "properties": dict(zip(names, map(props.get, names), strict=False)),  # one sequence, twice
        "createdAt": record.created,
        "updatedAt": record.updated,
        "archived": record.archived,
    }
    if record.archived:
        out["archivedAt"] = record.archived_at
    if with_history and portal is not None:
        out["propertiesWithHistory"] = {name: portal.history(record, name) for name in with_history}
    return out


def record_reply(record: Record, names: Sequence[str]) -> Any:
    """:func:`record_json` for a reply that goes straight to the wire (through orjson): the
    whole record as JSON already encoded, kept on the record version for the next read of
    the same names, so reading a record again costs neither the dicts nor their encoding.
    A write (or an archive) makes a new version, so what is kept never outlives what it shows."""
    rendered = record.rendered
    if rendered is not None and rendered[0] is names:
        return rendered[1]
    item = record_json(record, names)
    try:
        encoded = orjson.Fragment(orjson.dumps(item))
    except orjson.JSONEncodeError:  # a value orjson refuses: the plain dict takes the slow road
        return item
    record.rendered = (names, encoded)
    return encoded


def echo_json(record: Record, echo: dict[str, str]) -> dict[str, Any]:
    """A record in a write reply: only what was written and what HubSpot derived from it."""
    return {
        "id": record.id,
        "properties": dict(sorted(echo.items())),
        "createdAt": record.created,
        "updatedAt": record.updated,
        "archived": False,
    }


def batch_json(results: list[Any], errors: list[dict[str, Any]], started: str, completed: str) -> dict[str, Any]:
    """A BatchResponse; with errors it is the ``…WithErrors`` shape a 207 carries."""
    body: dict[str, Any] = {"status": "COMPLETE", "results": results}
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    body["startedAt"] = started
    body["completedAt"] = completed
    return body


def owner_json(owner: Owner, created: str, archived: bool = False) -> dict[str, Any]:
    """A PublicOwner. Queues have no user behind them, so no ``userId``; a deactivated user's
    owner is archived and keeps only ``userIdIncludingInactive``."""
    out: dict[str, Any] = {
        "id": owner.id,
        "email": owner.email,
        "type": "QUEUE" if owner.kind == "queue" else "PERSON",
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": owner.user_id,
        "userIdIncludingInactive": owner.user_id,
        "createdAt": created,
        "updatedAt": created,
        "archived": archived,
        "teams": [{"id": str(zlib.crc32(owner.team.encode()) % 10_000_000), "name": owner.team, "primary": True}],
    }
    if owner.user_id is None:
        del out["userId"], out["userIdIncludingInactive"]
    elif archived:
        del out["userId"]
    return out
