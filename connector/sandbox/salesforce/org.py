"""The sandbox org's records and Salesforce's write rules.

Every write goes through :meth:`Org.create` / :meth:`Org.update` / :meth:`Org.delete`,
which check the fields against the schema, fill in what Salesforce derives
(names, ``IsClosed``, ``HasResponded``, the compound ``Address``...) and stamp
``LastModifiedDate`` and ``SystemModstamp``. ``system=True`` marks writes by the
org itself (seeding, a rep in the UI, automation): read-only fields may be set
and the converted-lead lock does not apply.

Realism choices (see also the package docstring):
- creating or changing a Task, Event or CampaignMember never bumps its Lead's or
  Contact's ``SystemModstamp``; a completed Task or an Event moves the person's
  ``LastActivityDate`` forward *without* a modstamp bump (it is a roll-up, not an edit);
- deleting a Lead or Contact deletes its campaign memberships and activities too
  (cascade), all of them visible to ``queryAll`` with ``IsDeleted = true``.

A :meth:`Org.transaction` journals every change so an allOrNone collection can be
rolled back.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from connector.sandbox.clock import Clock
from connector.sandbox.salesforce import ids
from connector.sandbox.salesforce.errors import RecordError
from connector.sandbox.salesforce.indexes import TableIndex, births
from connector.sandbox.salesforce.schema import (
    CONVERTED_STATUS,
    MEMBER_STATUSES,
    STAGES_BY_NAME,
    TASK_CLOSED_STATUSES,
    Field,
    Schema,
    SObject,
)
from connector.sandbox.salesforce.values import coerce, parse_datetime, sf_date, sf_datetime

MEMBERSHIP = "CampaignId+person"
#: the fields through which an activity or a campaign membership belongs to a Lead or Contact
PERSON_REFERENCES = ("WhoId", "LeadId", "ContactId")
_NOTHING: set[str] = set()
_ADDRESS_PARTS = ("City", "Country", "GeocodeAccuracy", "Latitude", "Longitude", "PostalCode", "State", "Street")
#: the compound Address's keys: the parts' names with a lower-case first letter
_ADDRESS_KEYS = tuple(p[0].lower() + p[1:] for p in _ADDRESS_PARTS)
_NO_ADDRESS = [None] * len(_ADDRESS_PARTS)
#: what a Lead's or Contact's derived fields (Name, Address; Status once converted) are computed from
_PERSON_DERIVED_FROM = frozenset(("FirstName", "LastName", "IsConverted", "Status", *_ADDRESS_PARTS))
#: the fields a new record is stamped with, and those that name the user who wrote it
_STAMPS = ("CreatedDate", "LastModifiedDate", "SystemModstamp")
_WRITTEN_BY = ("CreatedById", "LastModifiedById", "OwnerId")


@dataclass(slots=True)
class Record:
    """One record: every field of its sObject, by canonical name, in wire form.

    Once filed, ``values`` is replaced on every change, never changed in place, and ``version``
    counts the replacements: what was rendered of one version (the query engine keeps encoded
    rows) stays true of it."""

    sobject: SObject
    values: dict[str, Any]
    version: int = 0

    def revise(self, values: dict[str, Any]) -> None:
        """Replace the values with ``values``: a new version, of which nothing has been rendered yet."""
        self.values = values
        self.version += 1

    @property
    def id(self) -> str:
        record_id: str = self.values["Id"]  # the org's own string, minted or normalized: read millions of times
        return record_id

    @property
    def deleted(self) -> bool:
        return bool(self.values.get("IsDeleted"))


class Org:
    """All records of the sandbox org, guarded by one re-entrant lock."""

    def __init__(self, schema: Schema, clock: Clock, id_factory: ids.IdFactory) -> None:
        self.schema = schema
        self.clock = clock
        self.ids = id_factory
        self.lock = threading.RLock()
        self._records: dict[str, dict[str, Record]] = {name: {} for name in schema.objects}
        self._by_id: dict[str, Record] = {}
        sequence = births()
        #: what queries use to read only the rows they may return
        self.indexes: dict[str, TableIndex] = {name: TableIndex(sequence) for name in schema.objects}
        #: (object, unique field) -> value -> id, for uniqueness and upsert lookups; a campaign
        #: membership is unique per campaign and person, kept under the pseudo-field MEMBERSHIP
        self._unique: dict[tuple[str, str], dict[Any, str]] = {
            (o.name, f.name): {} for o in schema.objects.values() for f in o.fields if f.unique
        }
        self._unique[("CampaignMember", MEMBERSHIP)] = {}
        #: the same indexes by object name: a write looks at its own object's only
        self._unique_of: dict[str, list[tuple[str, dict[Any, str]]]] = {}
        for (kind, name), index in self._unique.items():
            self._unique_of.setdefault(kind, []).append((name, index))
        #: person id -> ids of activities and memberships that point, or once pointed, at it
        self._related: dict[str, set[str]] = {}
        #: queue id -> object types it may own (Salesforce's QueueSobject rows)
        self.queue_objects: dict[str, frozenset[str]] = {}
        self._journal: list[tuple[str, dict[str, Any] | None]] | None = None
        #: per object (the schema is fixed): a new record's values before its own (every field at
        #: its default, Id and the stamps last if the object lacks them, the API user as author),
        #: the fields it must have, and those through which it can point at a person
        self._blank = {name: _blank(o) for name, o in schema.objects.items()}
        self._required = {name: tuple(f.name for f in o.fields if f.required) for name, o in schema.objects.items()}
        self._person_references = {
            name: tuple(f.name for f in o.fields if f.name in PERSON_REFERENCES) for name, o in schema.objects.items()
        }
        self._api_user_id: str | None = None
        self.api_user_id = None  # what the blanks hold until the org has its API user

    @property
    def api_user_id(self) -> str | None:
        """The user behind API calls: default owner and Created/LastModifiedById."""
        return self._api_user_id

    @api_user_id.setter
    def api_user_id(self, user_id: str | None) -> None:
        self._api_user_id = user_id
        for blank in self._blank.values():
            for name in _WRITTEN_BY:
                if name in blank:
                    blank[name] = user_id

    # -- reading -----------------------------------------------------------------------

    def get(self, record_id: str) -> Record | None:
        """A record by 15- or 18-character id (deleted ones too)."""
        full = ids.normalize(record_id)
        return self._by_id.get(full) if full else None

    def stored(self, record_id: str) -> Record | None:
        """A record by the 18-character id it is stored under (what reference fields hold)."""
        return self._by_id.get(record_id)

    def records(self, sobject: SObject, include_deleted: bool = False) -> list[Record]:
        """Records of one type in creation order."""
        with self.lock:
            rows = list(self._records[sobject.name.lower()].values())
        return rows if include_deleted else [r for r in rows if not r.deleted]

    def find(self, sobject: SObject, field: Field, value: Any) -> list[Record]:
        """Live records whose ``field`` equals ``value`` (an external id or Id lookup)."""
        with self.lock:
            if field.name == "Id":
                record = self.get(str(value))
                return [record] if record and record.sobject is sobject and not record.deleted else []
            index = self._unique.get((sobject.name, field.name))
            if index is not None:
                found = index.get(value)
                return [self._by_id[found]] if found else []
            return [r for r in self.records(sobject) if r.values.get(field.name) == value]

    def related(self, person_id: str) -> list[Record]:
        """The live Tasks, Events and campaign memberships of a Lead or Contact, in id order."""
        with self.lock:
            found = (self._by_id[i] for i in self._related.get(person_id, ()))
            return sorted(
                (r for r in found if not r.deleted and person_id in (r.values.get(f) for f in PERSON_REFERENCES)),
                key=lambda r: r.id,
            )

    def pointing_at(self, person_id: str) -> set[str]:
        """Ids of the activities and memberships that point, or once pointed, at a Lead or Contact
        through ``WhoId``, ``LeadId`` or ``ContactId`` (deleted ones too): a superset to filter."""
        return self._related.get(person_id, _NOTHING)

    def membership(self, campaign_id: str, person_id: str) -> Record | None:
        """The live CampaignMember of a Lead or Contact in a campaign, if any."""
        with self.lock:
            found = self._unique[("CampaignMember", MEMBERSHIP)].get((campaign_id, person_id))
            return self._by_id[found] if found else None

    # -- writing -----------------------------------------------------------------------

    def create(
        self, sobject: SObject, incoming: dict[str, Any], *, system: bool = False, record_id: str | None = None
    ) -> Record:
        """A new record from ``incoming`` field values (RecordError if Salesforce would refuse it)."""
        with self.lock:
            given = self._checked(sobject, incoming, creating=True, system=system)
            return self._insert(sobject, given, self._new_id(sobject, record_id), checked=True)

    def load(self, sobject: SObject, fields: dict[str, Any]) -> Record:
        """A record the org already held, from ``fields`` by canonical name and in wire form (what
        the synthetic renderer writes): as :meth:`create` with ``system=True`` but without the
        per-field checks and coercion, which cost most of seeding a large org. Anything from
        outside (API, control API) goes through :meth:`create`."""
        with self.lock:
            return self._insert(sobject, fields, self.ids.new(sobject.prefix), checked=False)

    def _insert(self, sobject: SObject, given: dict[str, Any], new_id: str, *, checked: bool) -> Record:
        """File a new record of ``given`` values under ``new_id`` (the caller holds the lock);
        ``checked`` values also have their required fields checked, trusted ones do not."""
        kind = sobject.name.lower()
        values = self._blank[kind].copy()
        values["Id"] = new_id
        if "CreatedDate" not in given or "LastModifiedDate" not in given or "SystemModstamp" not in given:
            now = sf_datetime(self.clock())  # seeding gives all three: no clock to read
            values["CreatedDate"] = values["LastModifiedDate"] = values["SystemModstamp"] = now
        values.update(given)
        if checked:
            missing = [name for name in self._required[kind] if values.get(name) in (None, "")]
            if missing:
                raise RecordError(
                    "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
                )
        record = Record(sobject, values)
        self._derive(record, given, created=True)
        self._check_rules(record)
        self._store(record, None)
        self._roll_up_activity(record)
        return record

    def update(self, record: Record, incoming: dict[str, Any], *, system: bool = False) -> Record:
        """Change ``record`` in place; every write moves LastModifiedDate and SystemModstamp."""
        with self.lock:
            if record.deleted:
                raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
            if not system and record.values.get("IsConverted"):
                raise RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
            given = self._checked(record.sobject, incoming, creating=False, system=system)
            return self._apply(record, given, system)

    def amend(self, record: Record, fields: dict[str, Any]) -> Record:
        """A change the org itself makes, from ``fields`` by canonical name and in wire form (the
        synthetic renderer's): as :meth:`update` with ``system=True`` but without the per-field
        checks and coercion, as :meth:`load` is to :meth:`create`."""
        with self.lock:
            if record.deleted:
                raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
            return self._apply(record, dict(fields), True)

    def _apply(self, record: Record, given: dict[str, Any], system: bool) -> Record:
        """Write checked (or trusted) values ``given`` into ``record`` (the caller holds the lock)."""
        before = record.values  # replaced below, never changed in place: no copy needed
        now = sf_datetime(self.clock())
        # every record has both stamps: the keys keep their places, ``given`` stamps win
        candidate = Record(record.sobject, {**before, "LastModifiedDate": now, "SystemModstamp": now, **given})
        if "LastModifiedById" in candidate.values and not system:
            candidate.values["LastModifiedById"] = self.api_user_id
        if not _underived(candidate, given):
            self._derive(candidate, given, created=False)
        self._check_rules(candidate)
        self._unstore_unique(record)
        record.revise(candidate.values)
        self._store(record, before)
        self._roll_up_activity(record)
        return record

    def delete(self, record: Record) -> None:
        """Soft delete (to the Recycle Bin): hidden from ``query``, seen by ``queryAll``."""
        with self.lock:
            if record.deleted:
                raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
            before = record.values
            now = sf_datetime(self.clock())
            self._unstore_unique(record)
            record.revise({**before, "IsDeleted": True, "LastModifiedDate": now, "SystemModstamp": now})
            self._store(record, before)
            if record.sobject.name in ("Lead", "Contact"):
                for child in self.related(record.id):
                    self.delete(child)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Journal every change inside; an exception restores the org as it was, then propagates."""
        with self.lock:
            self._journal = []
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            finally:
                self._journal = None

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        """Seed many records at once: the sorted indexes are built in one sort at the end."""
        with self.lock:
            for table in self.indexes.values():
                table.start_loading()
            try:
                yield
            finally:
                for table in self.indexes.values():
                    table.finish_loading()

    # -- internals ---------------------------------------------------------------------

    def _new_id(self, sobject: SObject, record_id: str | None) -> str:
        if record_id is None:
            return self.ids.new(sobject.prefix)
        full = ids.normalize(record_id)
        if full is None or not full.startswith(sobject.prefix) or full in self._by_id:
            raise ValueError(f"not a free {sobject.name} id: {record_id!r}")
        return full

    def _checked(self, sobject: SObject, incoming: dict[str, Any], *, creating: bool, system: bool) -> dict[str, Any]:
        """Incoming values by canonical name, coerced; unknown and read-only fields refused."""
        out: dict[str, Any] = {}
        for key, value in incoming.items():
            if key == "attributes":
                continue
            field = sobject.field(key)
            if field is None:
                raise RecordError("INVALID_FIELD", f"No such column '{key}' on sobject of type {sobject.name}")
            if field.calculated or field.name == "Id":
                if system:
                    continue  # derived below, whatever a seed says
                raise _read_only(field)
            if not system and not (field.createable if creating else field.updateable):
                raise _read_only(field)
            wire = coerce(field, value)
            if field.type == "reference" and wire is not None:
                wire = self._reference(sobject, field, wire, system)
            out[field.name] = wire
        return out

    def _reference(self, sobject: SObject, field: Field, value: str, system: bool) -> str:
        full = ids.normalize(value)
        if full is None:
            raise RecordError("MALFORMED_ID", f"{field.label}: id value of incorrect type: {value}", [field.name])
        target = self.schema.of_id(full)
        if target is None:
            if system:
                return full  # a seed may point at objects the sandbox does not model (Account...)
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION", f"{field.label}: id value of incorrect type: {full}", [field.name]
            )
        if target.name not in field.reference_to or (
            target.name == "Group" and sobject.name not in self.queue_objects.get(full, frozenset())
        ):
            # a queue can own only the object types it lists (QueueSobject)
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION", f"{field.label}: id value of incorrect type: {full}", [field.name]
            )
        referenced = self._by_id.get(full)
        if referenced is None or referenced.deleted:
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", f"{field.label}: invalid cross reference id", [field.name])
        return full

    def _derive(self, record: Record, given: dict[str, Any], created: bool) -> None:
        """Fill in the fields Salesforce computes from the others."""
        values, kind = record.values, record.sobject.name
        if "Name" in values and kind in ("Lead", "Contact", "User"):
            values["Name"] = " ".join(p for p in (values.get("FirstName"), values.get("LastName")) if p)
        if kind == "Lead":
            values["PhotoUrl"] = f"/services/images/photo/{values['Id']}"
            parts = list(map(values.get, _ADDRESS_PARTS))
            values["Address"] = dict(zip(_ADDRESS_KEYS, parts, strict=True)) if parts != _NO_ADDRESS else None
            if values.get("IsConverted") and "Status" not in given:
                values["Status"] = CONVERTED_STATUS
        elif kind == "Task":
            values["IsClosed"] = values.get("Status") in TASK_CLOSED_STATUSES
            values["IsHighPriority"] = values.get("Priority") == "High"
            if not values["IsClosed"]:
                values["CompletedDateTime"] = None  # a reopened task is not complete any more
            elif values.get("CompletedDateTime") is None:
                values["CompletedDateTime"] = values["LastModifiedDate"]
            if created and values.get("TaskSubtype") is None:
                values["TaskSubtype"] = "Call" if values.get("Type") == "Call" else "Task"
        elif kind == "Opportunity":
            stage = STAGES_BY_NAME[values["StageName"]]
            values["IsClosed"], values["IsWon"] = stage.closed, stage.won
            if "StageName" in given:
                if "Probability" not in given:
                    values["Probability"] = float(stage.probability)
                if "LastStageChangeDate" not in given:
                    values["LastStageChangeDate"] = values["LastModifiedDate"]
        elif kind == "Event":
            self._derive_event(values)
        elif kind == "CampaignMember":
            values["HasResponded"] = MEMBER_STATUSES.get(values.get("Status") or "", False)
            if values["HasResponded"] and values.get("FirstRespondedDate") is None:
                values["FirstRespondedDate"] = values["LastModifiedDate"][:10]

    @staticmethod
    def _derive_event(values: dict[str, Any]) -> None:
        start = values.get("StartDateTime") or values.get("ActivityDateTime")
        if start is None:
            raise RecordError(
                "REQUIRED_FIELD_MISSING", "Required fields are missing: [StartDateTime]", ["StartDateTime"]
            )
        begin = parse_datetime(start)
        assert begin is not None  # stored values are always well-formed
        end = parse_datetime(values["EndDateTime"]) if values.get("EndDateTime") else None
        if end is None:
            end = begin + timedelta(minutes=values.get("DurationInMinutes") or 30)
        if end < begin:
            raise RecordError(
                "FIELD_INTEGRITY_EXCEPTION", "End Date Time: End time must be after start time", ["EndDateTime"]
            )
        values.update(
            StartDateTime=start,
            ActivityDateTime=start,
            ActivityDate=start[:10],
            EndDateTime=sf_datetime(end),
            DurationInMinutes=int((end - begin).total_seconds() // 60),
        )
        if values.get("EventSubtype") is None:
            values["EventSubtype"] = "Event"

    def _check_rules(self, record: Record) -> None:
        """Cross-record rules: unique values, one membership per person and campaign."""
        if record.sobject.name == "CampaignMember" and _unique_value(record, MEMBERSHIP) is None:
            raise RecordError(
                "REQUIRED_FIELD_MISSING", "Required fields are missing: [LeadId, ContactId]", ["LeadId", "ContactId"]
            )
        for name, index in self._unique_of.get(record.sobject.name, ()):
            value = _unique_value(record, name)
            if value is None or index.get(value, record.id) == record.id:
                continue
            if name == MEMBERSHIP:
                raise RecordError("DUPLICATE_VALUE", "Already a campaign member.")
            raise RecordError(
                "DUPLICATE_VALUE",
                f"duplicate value found: {name} duplicates value on record with id: {index[value]}",
                [name],
            )

    def _roll_up_activity(self, record: Record) -> None:
        """A completed Task or an Event moves its person's LastActivityDate (no modstamp bump)."""
        values = record.values
        if record.sobject.name not in ("Task", "Event") or record.deleted or not values.get("WhoId"):
            return
        if record.sobject.name == "Task" and not values.get("IsClosed"):
            return
        day = values.get("ActivityDate") or sf_date(parse_datetime(values["LastModifiedDate"]) or self.clock())
        person = self._by_id.get(values["WhoId"])
        if person is not None and (person.values.get("LastActivityDate") or "") < day:
            before = person.values
            person.revise({**before, "LastActivityDate": day})
            if self._journal is not None:
                self._journal.append((person.id, before))
            self.indexes[person.sobject.name.lower()].file(person)

    def _store(self, record: Record, before: dict[str, Any] | None) -> None:
        values = record.values
        record_id, kind = values["Id"], record.sobject.name.lower()
        if self._journal is not None:
            self._journal.append((record_id, before))
        self._records[kind][record_id] = record
        self._by_id[record_id] = record
        self.indexes[kind].file(record)
        # stale entries are filtered on reading: no bookkeeping on change
        for name in self._person_references[kind]:
            person_id = values.get(name)
            if person_id:
                related = self._related.get(person_id)
                if related is None:
                    related = self._related[person_id] = set()
                related.add(record_id)
        if not values.get("IsDeleted"):
            for name, index in self._unique_of.get(record.sobject.name, ()):
                value = _unique_value(record, name)
                if value is not None:
                    index[value] = record_id

    def _unstore_unique(self, record: Record) -> None:
        for name, index in self._unique_of.get(record.sobject.name, ()):
            value = _unique_value(record, name)
            if value is not None and index.get(value) == record.id:
                del index[value]

    def _rollback(self) -> None:
        journal, self._journal = self._journal or [], None  # restoring is not itself journalled
        for record_id, before in reversed(journal):
            record = self._by_id[record_id]
            self._unstore_unique(record)
            if before is None:
                del self._by_id[record_id]
                del self._records[record.sobject.name.lower()][record_id]
                self.indexes[record.sobject.name.lower()].unfile(record)
            else:
                record.revise(before)
                self._store(record, None)


def _blank(sobject: SObject) -> dict[str, Any]:
    """Every field of ``sobject`` at its default (booleans false), then Id and the stamps if it
    lacks them: where a new record's values start."""
    blank = {f.name: False if f.type == "boolean" else f.default for f in sobject.fields}
    for name in ("Id", *_STAMPS):
        blank.setdefault(name, None)
    return blank


def _underived(record: Record, given: dict[str, Any]) -> bool:
    """An update of a Lead or Contact leaves what :meth:`Org._derive` computes as it was: none of
    its inputs changed (a score write, the commonest update, costs no derivation)."""
    kind = record.sobject.name
    return (
        kind in ("Lead", "Contact") and not record.values.get("IsConverted") and _PERSON_DERIVED_FROM.isdisjoint(given)
    )


def _unique_value(record: Record, name: str) -> Any:
    """The value ``record`` holds under a unique index (None: not indexed)."""
    values = record.values
    if name == MEMBERSHIP:
        person = values.get("LeadId") or values.get("ContactId")
        return (values.get("CampaignId"), person) if person else None
    return values.get(name)


def _read_only(field: Field) -> RecordError:
    return RecordError(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        f"Unable to create/update fields: {field.name}. Please check the security settings of this "
        "field and verify that it is read/write for your profile or permission set.",
        [field.name],
    )
