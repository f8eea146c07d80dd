"""The sandbox portal's data and HubSpot's write rules.

Records are replaced, never mutated, on every write (copy on write), so the search
index can keep pointing at the version it last saw: that is how the index lags the
store by ``search_lag_s`` without copying anything. Every public method takes the
portal lock, so server threads see one consistent portal.
"""

from __future__ import annotations

import heapq
import math
import threading
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from connector.model import format_time
from connector.sandbox.clock import Clock
from connector.sandbox.hubspot.index import SearchIndex
from connector.sandbox.hubspot.objects import (
    ASSOCIATION_TYPE_IDS,
    CONTACTS,
    DEALS,
    LEADS,
    OBJECT_TYPES,
    TASKS,
    ObjectType,
)
from connector.sandbox.hubspot.pipelines import DEFAULT_DEAL_PIPELINE, LEAD_PIPELINE, find_pipeline
from connector.sandbox.hubspot.properties import (
    InvalidValue,
    PropertyDef,
    PropertyGroup,
    default_groups,
    default_properties,
    normalize,
)
from connector.sandbox.synthetic import Owner

PORTAL_ID = 891936587

#: who made a change, as property history reports it
SOURCE_API = "API"
SOURCE_UI = "CRM_UI"
SOURCE_IMPORT = "IMPORT"

_CONTACT_PIPELINE = "contacts-lifecycle-pipeline"


@dataclass(slots=True)
class Record:
    """One CRM object. ``props`` holds only properties that have a value."""

    id: str
    props: dict[str, str]
    created: str
    updated: str
    archived: bool = False
    archived_at: str | None = None
    #: property -> [(value, timestamp, sourceType)] oldest first; only properties written after creation
    history: dict[str, list[tuple[str, str, str]]] | None = None
    #: (property names, the record as JSON) last sent for this version (see wire.record_reply);
    #: not an init field, so a version made by ``replace`` starts without it
    rendered: tuple[Sequence[str], Any] | None = field(default=None, init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PropertyError:
    """Why one written property was refused, in HubSpot's terms."""

    name: str
    code: str
    message: str


class WriteRejected(Exception):
    """Some written properties were refused; nothing was written."""

    def __init__(self, errors: list[PropertyError]) -> None:
        super().__init__([e.message for e in errors])
        self.errors = errors


class Conflict(Exception):
    """A unique value (a contact's email) already belongs to another record."""

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.message = message
        self.existing_id = existing_id


class InvalidAssociation(Exception):
    """A create named an association that cannot exist."""


_NO_LINKS: dict[str, dict[str, list[int]]] = {}
#: written properties HubSpot derives others from (see Portal._side_effects)
_SIDE_EFFECTS = frozenset({"email", "lifecyclestage", "hubspot_owner_id", "hs_task_status"})


@dataclass(slots=True)
class _Collection:
    type: ObjectType
    records: dict[str, Record] = field(default_factory=dict)
    ids: list[int] = field(default_factory=list)  # every id, sorted: list paging walks it
    next_id: int = 0
    #: property -> lower-cased value -> record id, for properties with unique values
    unique: dict[str, dict[str, str]] = field(default_factory=dict)
    #: what search sees: the record versions it last indexed
    index: SearchIndex = field(default_factory=SearchIndex)
    #: (visible_at, sequence, id, version or None for a removal) not yet indexed
    pending: list[tuple[float, int, str, Record | None]] = field(default_factory=list)


class Portal:
    """A HubSpot account: owners, property definitions, records and associations."""

    def __init__(self, clock: Clock, search_lag_s: float = 0.0) -> None:
        self.clock = clock
        self.search_lag_s = search_lag_s
        self.lock = threading.RLock()
        self.owners: dict[str, Owner] = {}
        #: owners of deactivated users: HubSpot archives them
        self.deactivated: set[str] = set()
        self.owners_created = format_time(datetime.fromtimestamp(clock(), tz=UTC))
        self.properties: dict[str, dict[str, PropertyDef]] = {t.name: default_properties(t.name) for t in OBJECT_TYPES}
        self.groups: dict[str, dict[str, PropertyGroup]] = {t.name: default_groups(t.name) for t in OBJECT_TYPES}
        self._collections = {t.name: _Collection(t, next_id=t.first_id) for t in OBJECT_TYPES}
        self._collections[CONTACTS.name].unique["email"] = {}
        # (object type, other object type) -> id -> other id -> association type ids: a batch
        # association read looks each id up in one table
        self._links: dict[tuple[str, str], dict[str, dict[str, list[int]]]] = {}
        self._sequence = 0
        self._now: tuple[int, str] = (-1, "")

    # -- time -------------------------------------------------------------------------

    def now_iso(self) -> str:
        """The portal's current time, as HubSpot writes timestamps."""
        now = self.clock()
        # the millisecond fromtimestamp() lands on (it rounds to the microsecond, half to even):
        # a batch writes many records in one millisecond, and formats it once
        fraction, whole = math.modf(now)
        millisecond = (int(whole) * 1_000_000 + round(fraction * 1e6)) // 1000
        if millisecond != self._now[0]:
            self._now = (millisecond, format_time(datetime.fromtimestamp(now, tz=UTC)))
        return self._now[1]

    # -- owners and schema --------------------------------------------------------------

    def add_owners(self, owners: Iterable[Owner]) -> None:
        """Make these users owners in the portal."""
        with self.lock:
            for owner in owners:
                self.owners[owner.id] = owner

    def add_property(self, object_type: str, prop: PropertyDef) -> None:
        """Define (or redefine) a property; unique ones get an index of their values."""
        with self.lock:
            self.properties[object_type][prop.name] = prop
            collection = self._collections[object_type]
            collection.index.forget(prop.name)
            if prop.unique and prop.name not in collection.unique:
                collection.unique[prop.name] = {
                    rec.props[prop.name].lower(): rec.id
                    for rec in collection.records.values()
                    if not rec.archived and prop.name in rec.props
                }

    # -- reads ------------------------------------------------------------------------

    def get(self, otype: ObjectType, key: str, id_property: str | None = None, archived: bool = False) -> Record | None:
        """A record by id, or by the value of a unique property (``idProperty``)."""
        with self.lock:
            collection = self._collections[otype.name]
            if id_property and id_property != "hs_object_id":
                values = collection.unique.get(id_property)
                if values is None:
                    return None
                found = values.get(key.lower())
                record = collection.records.get(found) if found else None
            else:
                record = collection.records.get(key)
            if record is None or record.archived != archived:
                return None
            return record

    def get_many(
        self, otype: ObjectType, keys: Sequence[str], id_property: str | None = None, archived: bool = False
    ) -> list[Record | None]:
        """:meth:`get` of each key, in order (a batch read takes the lock once)."""
        with self.lock:  # re-entered by each get: a re-entry costs far less than a first acquire
            return [self.get(otype, key, id_property, archived) for key in keys]

    def is_unique(self, otype: ObjectType, name: str) -> bool:
        """Whether ``name`` can serve as an ``idProperty``."""
        return name == "hs_object_id" or name in self._collections[otype.name].unique

    def page(self, otype: ObjectType, after: int | None, limit: int, archived: bool) -> tuple[list[Record], str | None]:
        """Records in id order from ``after`` on, and the id the next page starts at."""
        with self.lock:
            collection = self._collections[otype.name]
            ids = collection.ids
            start = bisect_left(ids, after) if after is not None else 0
            out: list[Record] = []
            records = collection.records
            for position in range(start, len(ids)):
                record = records[str(ids[position])]
                if record.archived != archived:
                    continue
                if len(out) == limit:
                    return out, record.id
                out.append(record)
            return out, None

    def all_records(self, otype: ObjectType) -> list[Record]:
        """Every record of a type, archived ones included, in id order."""
        with self.lock:
            collection = self._collections[otype.name]
            return [collection.records[str(i)] for i in collection.ids]

    def search_index(self, otype: ObjectType) -> SearchIndex:
        """What search sees right now (it trails writes by ``search_lag_s``); read it under ``lock``."""
        with self.lock:
            collection = self._collections[otype.name]
            now = self.clock()
            pending = collection.pending
            while pending and pending[0][0] <= now:
                _, _, record_id, version = heapq.heappop(pending)
                if version is None:
                    collection.index.drop(record_id)
                else:
                    collection.index.put(version)
            return collection.index

    def is_live(self, otype: ObjectType, record_id: str) -> bool:
        """The record exists and is not archived (search drops results that are not)."""
        record = self._collections[otype.name].records.get(record_id)
        return record is not None and not record.archived

    def history(self, record: Record, name: str) -> list[dict[str, Any]]:
        """A property's history, newest first, in HubSpot's ValueWithTimestamp shape."""
        entries = (record.history or {}).get(name)
        if entries is None:
            value = record.props.get(name)
            entries = [(value, record.created, SOURCE_IMPORT)] if value is not None else []
        return [{"value": value, "timestamp": at, "sourceType": source} for value, at, source in reversed(entries)]

    # -- associations -----------------------------------------------------------------

    def associations(self, otype: ObjectType, record_id: str, to_type: ObjectType) -> dict[str, list[int]]:
        """Live records of ``to_type`` associated with a record, with the association type ids."""
        return self.associations_of(otype, (record_id,), to_type)[0]

    def associations_of(
        self, otype: ObjectType, record_ids: Iterable[str], to_type: ObjectType
    ) -> list[dict[str, list[int]]]:
        """:meth:`associations` of each of many records, in order (a batch read of 1,000 ids
        finds the tables and takes the lock once)."""
        with self.lock:
            table = self._links.get((otype.name, to_type.name), _NO_LINKS)
            records = self._collections[to_type.name].records
            return [
                {
                    other: list(types)
                    for other, types in linked.items()
                    if (target := records.get(other)) is not None and not target.archived
                }
                if (linked := table.get(record_id))
                else {}
                for record_id in record_ids
            ]

    def linked_ids(self, otype: ObjectType, record_id: str, to_type: ObjectType) -> set[str]:
        """Ids of ``to_type`` ever linked with a record, live or not (links are never removed)."""
        with self.lock:
            return set(self._links.get((otype.name, to_type.name), _NO_LINKS).get(record_id, ()))

    def associate(
        self, from_type: ObjectType, from_id: str, to_type: ObjectType, to_id: str, *, automate: bool = True
    ) -> None:
        """Link two records with HubSpot's default association types, both directions.

        With ``automate``, linking a deal and a contact runs the lifecycle stage sync
        (see :meth:`sync_lifecycle`); seeding history turns it off."""
        forward = ASSOCIATION_TYPE_IDS.get((from_type.name, to_type.name))
        backward = ASSOCIATION_TYPE_IDS.get((to_type.name, from_type.name))
        if forward is None or backward is None:
            raise InvalidAssociation(f"{from_type.singular} cannot be associated with {to_type.singular}")
        with self.lock:
            if not self.is_live(to_type, to_id):
                raise InvalidAssociation(f"{to_type.fully_qualified_name} {to_id} does not exist")
            self._link(from_type.name, from_id, to_type.name, to_id, forward)
            self._link(to_type.name, to_id, from_type.name, from_id, backward)
            if automate and {from_type.name, to_type.name} == {DEALS.name, CONTACTS.name}:
                self.sync_lifecycle(from_id if from_type is DEALS else to_id)

    def sync_lifecycle(self, deal_id: str) -> None:
        """HubSpot's deal-to-lifecycle sync (on in new portals): the contacts of a deal become
        opportunities, and customers once it is won; forward only, as any stage write."""
        with self.lock:
            deal = self._collections[DEALS.name].records.get(deal_id)
            if deal is None or deal.archived:
                return
            target = "customer" if deal.props.get("hs_is_closed_won") == "true" else "opportunity"
            stage = self.properties[CONTACTS.name]["lifecyclestage"]
            for contact_id in self.associations(DEALS, deal_id, CONTACTS):
                contact = self._collections[CONTACTS.name].records[contact_id]
                current = contact.props.get("lifecyclestage")
                if current is None or stage.rank(current) < stage.rank(target):
                    self.update(CONTACTS, contact, {"lifecyclestage": target}, system=True)

    def _link(self, from_name: str, from_id: str, to_name: str, to_id: str, type_id: int) -> None:
        types = self._links.setdefault((from_name, to_name), {}).setdefault(from_id, {}).setdefault(to_id, [])
        if type_id not in types:
            types.append(type_id)

    # -- writes -----------------------------------------------------------------------

    def create(
        self,
        otype: ObjectType,
        properties: dict[str, Any],
        *,
        system: bool = False,
        record_id: str | None = None,
        indexed_at_once: bool = False,
        trusted: bool = False,
    ) -> tuple[Record, dict[str, str]]:
        """Create a record; returns it and the properties a create reply echoes.

        ``system`` writes come from the control API (a person, an import, another app):
        they may set read-only values and move the lifecycle stage freely.
        ``indexed_at_once`` skips the search lag (data that existed before the run).
        ``trusted`` (a system write of the portal's own synthetic data) says every value
        is already a defined property's stored form, so the per-property checks are
        skipped: they are most of what seeding a large portal costs.
        """
        with self.lock:
            clean = properties if trusted and system else self._check(otype, properties, system)
            missing = [name for name in otype.required if not clean.get(name)]
            if missing:
                raise WriteRejected(
                    [PropertyError(name, "REQUIRED_PROPERTY", f'Property "{name}" is required') for name in missing]
                )
            collection = self._collections[otype.name]
            if record_id is None:
                record_id = str(collection.next_id)
            elif record_id in collection.records:
                raise Conflict(f"A {otype.singular} with id {record_id} already exists.", record_id)
            self._check_unique(collection, record_id, clean)
            now = self.now_iso()
            created = clean.get(otype.created_property) if system else None
            created = created or now
            base = {otype.created_property: created, "hs_object_id": record_id}
            for name in otype.modified_properties:
                base[name] = created
            if otype is CONTACTS:
                base.update(
                    hs_all_contact_vids=record_id,
                    hs_is_contact="true",
                    hs_is_unworked="true",
                    hs_pipeline=_CONTACT_PIPELINE,
                )
            record = Record(record_id, base, created, created)
            # a contact's create reply leaves out hs_lastmodifieddate (as recorded)
            echo = {k: v for k, v in base.items() if k != "hs_lastmodifieddate"}
            props, written, _ = self._apply(otype, record, clean, created, system, track_history=False)
            echo.update(written)
            echo.update(self._derive(otype, props, created, {}, clean))
            for name in otype.modified_properties[1:]:  # a seeded modified time holds for both names
                props[name] = props[otype.modified_properties[0]]
            record = Record(record_id, props, created, props[otype.modified_properties[0]])
            collection.records[record_id] = record
            numeric = int(record_id)
            insort(collection.ids, numeric)
            collection.next_id = max(collection.next_id, numeric + 1)
            self._index_unique(collection, record)
            self._publish(collection, record, indexed_at_once)
            return record, echo

    def update(
        self, otype: ObjectType, record: Record, properties: dict[str, Any], *, system: bool = False
    ) -> tuple[Record, dict[str, str]]:
        """Write properties to a record; returns the new version and what the reply echoes."""
        with self.lock:
            collection = self._collections[otype.name]
            current = collection.records[record.id]
            clean = self._check(otype, properties, system)
            self._check_unique(collection, current.id, clean)
            now = self.now_iso()
            props, echo, history = self._apply(otype, current, clean, now, system, track_history=True)
            echo.update(self._derive(otype, props, now, current.props, clean))
            for name in otype.modified_properties:
                props[name] = now
            echo[otype.modified_properties[0]] = now
            for name, values in collection.unique.items():
                old, new = current.props.get(name), props.get(name)
                if old == new:
                    continue
                if old is not None and values.get(old.lower()) == current.id:
                    del values[old.lower()]
                if new:
                    values[new.lower()] = current.id
            updated = Record(current.id, props, current.created, now, current.archived, current.archived_at, history)
            collection.records[current.id] = updated
            self._publish(collection, updated, False)
            if otype is DEALS:
                self.sync_lifecycle(updated.id)
            return updated, echo

    def archive(self, otype: ObjectType, record_id: str) -> bool:
        """Archive a live record; False if there is none."""
        with self.lock:
            collection = self._collections[otype.name]
            current = collection.records.get(record_id)
            if current is None or current.archived:
                return False
            now = self.now_iso()
            collection.records[record_id] = replace(current, archived=True, archived_at=now, updated=now)
            for name, values in collection.unique.items():
                value = current.props.get(name)
                if value is not None and values.get(value.lower()) == record_id:
                    del values[value.lower()]
            self._sequence += 1
            heapq.heappush(collection.pending, (self.clock() + self.search_lag_s, self._sequence, record_id, None))
            return True

    # -- write internals ----------------------------------------------------------------

    def _check(self, otype: ObjectType, properties: dict[str, Any], system: bool) -> dict[str, str]:
        catalog = self.properties[otype.name]
        errors: list[PropertyError] = []
        clean: dict[str, str] = {}
        owner_ids = self.owners.keys()
        for name, raw in properties.items():
            prop = catalog.get(name)
            if prop is None or prop.archived:
                errors.append(PropertyError(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
                continue
            if prop.read_only_value and not system:
                errors.append(
                    PropertyError(
                        name, "READ_ONLY_VALUE", f'Property "{name}" is a read only property; its value cannot be set.'
                    )
                )
                continue
            try:
                clean[name] = normalize(prop, raw, owner_ids)
            except InvalidValue as invalid:
                errors.append(PropertyError(name, invalid.code, invalid.message))
        if errors:
            raise WriteRejected(errors)
        return clean

    def _check_unique(self, collection: _Collection, record_id: str, clean: dict[str, str]) -> None:
        for name, values in collection.unique.items():
            value = clean.get(name)
            if not value:
                continue
            owner = values.get(value.lower())
            if owner is not None and owner != record_id:
                if collection.type is CONTACTS and name == "email":
                    raise Conflict(f"Contact already exists. Existing ID: {owner}", owner)
                raise Conflict(
                    f"A {collection.type.singular} with {name}={value} already exists. Existing ID: {owner}", owner
                )

    def _index_unique(self, collection: _Collection, record: Record) -> None:
        for name, values in collection.unique.items():
            value = record.props.get(name)
            if value:
                values[value.lower()] = record.id

    def _apply(
        self, otype: ObjectType, record: Record, clean: dict[str, str], now: str, system: bool, *, track_history: bool
    ) -> tuple[dict[str, str], dict[str, str], dict[str, list[tuple[str, str, str]]] | None]:
        """New property values after a write, the echo of what was written, and the new history."""
        props = dict(record.props)
        echo: dict[str, str] = {}
        history = dict(record.history) if record.history else None
        source = SOURCE_UI if system else SOURCE_API
        for name, value in clean.items():
            old = props.get(name)
            if name == "lifecyclestage" and otype is CONTACTS and value and old and not system:
                stage = self.properties[otype.name][name]
                if stage.rank(value) < stage.rank(old):
                    # HubSpot keeps the stage and answers 200: forward only, clear first to go back
                    echo[name] = old
                    continue
            echo[name] = value
            if otype is CONTACTS and name == "email" and value:
                echo["hs_email_domain"] = value.rpartition("@")[2]  # echoed even when the email is unchanged
            if value == old or (value == "" and old is None):
                continue
            if value == "":
                del props[name]
            else:
                props[name] = value
            if track_history:
                history = history or {}
                entries = history.get(name) or ([(old, record.created, SOURCE_IMPORT)] if old is not None else [])
                history[name] = [*entries, (value, now, source)]
            if name in _SIDE_EFFECTS:
                self._side_effects(otype, name, value, props, now)
        return props, echo, history

    @staticmethod
    def _derive(
        otype: ObjectType, props: dict[str, str], now: str, before: dict[str, str], written: dict[str, str]
    ) -> dict[str, str]:
        """Fill in (in place) what HubSpot works out from a whole deal or lead after a write:
        the default pipeline and stage, and a deal's closed/won flags and probability; a deal
        that closes gets today as its close date unless the write sets one. Returns the
        derived values; WriteRejected for a stage of another pipeline."""
        if otype is DEALS:
            pipeline_property, stage_property, default = "pipeline", "dealstage", DEFAULT_DEAL_PIPELINE
        elif otype is LEADS:
            pipeline_property, stage_property, default = "hs_pipeline", "hs_pipeline_stage", LEAD_PIPELINE
        else:
            return {}
        derived = {pipeline_property: props.setdefault(pipeline_property, default)}
        pipeline = find_pipeline(otype.name, derived[pipeline_property])
        assert pipeline is not None  # the property's options are the pipelines
        stage_id = props.setdefault(stage_property, pipeline.stages[0].id)
        stage = pipeline.stage(stage_id)
        if stage is None:
            message = f"{stage_id} is not a valid stage of pipeline {pipeline.id} ({pipeline.label})"
            raise WriteRejected([PropertyError(stage_property, "INVALID_OPTION", message)])
        derived[stage_property] = stage_id
        if otype is DEALS:
            derived["hs_is_closed"] = "true" if stage.closed else "false"
            derived["hs_is_closed_won"] = "true" if stage.won else "false"
            derived["hs_deal_stage_probability"] = str(stage.probability)
            if stage.closed and before.get("hs_is_closed") != "true" and "closedate" not in written:
                derived["closedate"] = now
        props.update(derived)
        return derived

    @staticmethod
    def _side_effects(otype: ObjectType, name: str, value: str, props: dict[str, str], now: str) -> None:
        """Properties HubSpot derives from a written one."""
        if otype is CONTACTS:
            if name == "email":
                if value:
                    props["hs_email_domain"] = value.rpartition("@")[2]
                else:
                    props.pop("hs_email_domain", None)
            elif name == "lifecyclestage" and value:
                props.setdefault(f"hs_lifecyclestage_{value}_date", now)
            elif name == "hubspot_owner_id" and value:
                props["hubspot_owner_assigneddate"] = now
        elif otype is TASKS and name == "hs_task_status":
            if value == "COMPLETED":
                props["hs_task_completion_date"] = now
            else:
                props.pop("hs_task_completion_date", None)

    def _publish(self, collection: _Collection, record: Record, at_once: bool) -> None:
        if (at_once or self.search_lag_s <= 0) and not collection.pending:
            collection.index.put(record)
            return
        self._sequence += 1
        visible_at = self.clock() + (0.0 if at_once else self.search_lag_s)
        heapq.heappush(collection.pending, (visible_at, self._sequence, record.id, record))
