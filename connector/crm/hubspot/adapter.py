"""The HubSpot adapter: contacts in, stages, scores and tasks out, through the CRM v3 API."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from connector.crm.base import Cursors, Delta, Lookups, Pulled, PulledPage, TaskOutcome, TaskUpdate, WriteOutcome
from connector.crm.deals import DealMemory, DealRead, Remembered, changes, deleted, remember_all
from connector.crm.errors import Conflict, CrmError, RecordRejected, Retryable, StopRun
from connector.crm.hubspot import mapping
from connector.crm.hubspot import outcomes as outcome_mapping
from connector.crm.hubspot import tasks as task_mapping
from connector.crm.hubspot.transport import HubSpotApi
from connector.crm.lookups import KeptLookups
from connector.crm.mapped import MappedField, missing_line
from connector.crm.outcomes import failed_tasks, failed_writes, task_outcome, write_outcome
from connector.crm.paging import Key, Window, chunks, gathered, keyset_pages, read_ahead
from connector.crm.reading import read_page
from connector.crm.seen import SeenEngagements
from connector.model import Activity, TaskSpec, format_time, parse_time
from connector.outcomes.events import OutcomeEvent
from connector.policy.escalation import TaskState
from connector.policy.planner import RecordPlan

log = structlog.get_logger(__name__)

SEARCH_LIMIT = 200
#: values in one IN filter: HubSpot takes 100, and 100 ids keep a search body under its 3,000 characters
SEARCH_IN_LIMIT = 100
LIST_LIMIT = 100
BATCH_LIMIT = 100
ASSOCIATION_LIMIT = 1000
#: list pages a backfill reads ahead of the one being scored: one association batch
SCAN_AHEAD = ASSOCIATION_LIMIT // LIST_LIMIT
TASK_TO_CONTACT = 204
#: the late window's position, kept in the state store between cycles
LATE_CURSOR = "contacts.trailing"
#: how far behind the late window trails: HubSpot's search indexes some writes this late
LATE_DELAY = timedelta(hours=1)
#: the late window is read once it spans this much
LATE_STEP = timedelta(minutes=15)
#: the kept lookups' names, and what of a property definition is kept
PROPERTIES_LOOKUP = "hubspot.contact_properties"
OWNERS_LOOKUP = "hubspot.owners"
PROPERTY_KEEP = ("type", "fieldType", "options")
#: the outcome reads' positions: modified-time milliseconds of deals and tasks, the last deal deletion seen
DEALS_CURSOR = "outcomes.deals"
TASKS_CURSOR = "outcomes.tasks"
ARCHIVED_CURSOR = "outcomes.deals.archived"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class HubSpotAdapter:
    """Reads contacts and writes Handoff's results back to one HubSpot portal."""

    name = "hubspot"

    def __init__(self, api: HubSpotApi, clock: Callable[[], datetime], late_delay: timedelta = LATE_DELAY):
        self.api = api
        self.clock = clock
        #: 0 turns the late window off
        self.late_delay = late_delay
        self.stages = mapping.StageMap([(v, i) for i, v in enumerate(mapping.DEFAULT_STAGE_VALUES)])
        self.owners: dict[str, str] = {}
        self._owners_reread = False
        self._lookups = KeptLookups()
        self._read_properties: list[str] = []
        #: the deal pipelines' stages, read once per run (again when a deal is in a stage not seen before)
        self._deal_stages: outcome_mapping.StageStates | None = None
        self._stages_reread = False
        #: canonical name -> contact property, from the rules file's fields: section
        self.field_map: dict[str, str] = {}
        self._mapped: tuple[MappedField, ...] = ()
        #: shadow mode: the shadow properties are created too
        self.shadow = False

    def map_fields(self, fields: Mapping[str, str]) -> None:
        """Read these contact properties too (canonical name -> HubSpot name); checked by ``start``."""
        self.field_map = dict(fields)

    # ------------------------------------------------------------ start-up

    def keep_lookups(self, lookups: Lookups, max_age: timedelta) -> None:
        """Keep the property list and owners in ``lookups``; read them again once older than ``max_age``."""
        self._lookups.keep_in(lookups, max_age)

    def start(self, create_missing: bool = True) -> None:
        """Read the stage order, create Handoff's properties if missing, look up owners.

        The property list and owners come from the kept lookups while they are young enough; a
        property the run needs that the kept list lacks makes it read the list again.
        A dry run passes ``create_missing=False``: it must not write even a property definition.
        """
        needed = self._needed(create_missing)
        existing: dict[str, Any] = self._lookups.read(
            PROPERTIES_LOOKUP, self._property_definitions, usable=lambda kept: needed <= kept.keys()
        )
        stage_property = existing.get("lifecyclestage")
        if stage_property:
            self.stages = mapping.StageMap(
                [
                    (o["value"], int(o.get("displayOrder", i)))
                    for i, o in enumerate(stage_property.get("options", []))
                    if not o.get("hidden")
                ]
            )
        missing_stages = self.stages.missing()
        if missing_stages:
            raise StopRun(
                "the portal's lifecycle stages lack "
                + ", ".join(s.value for s in missing_stages)
                + ": Handoff needs lead, marketingqualifiedlead and salesqualifiedlead"
            )
        self._mapped = self._mapped_fields(existing)
        created = self._ensure_properties(existing) if create_missing else {}
        if created:
            # what was just created is known: kept with the list instead of reading it again
            self._lookups.keep(PROPERTIES_LOOKUP, {**existing, **created})
        wanted = [
            *(f.name for f in self._mapped),
            *mapping.CANONICAL_PROPERTIES.values(),
            *mapping.OTHER_PROPERTIES,
            *mapping.STAGE_OUTCOMES,
            *mapping.COUNTER_PROPERTIES,
            *mapping.SALES_ACTIVITY_MARKERS,
        ]
        # reading a property the portal lacks is harmless but noisy; custom BANT fields may not exist
        self._read_properties = [p for p in dict.fromkeys(wanted) if p in existing]
        self.owners = self._lookups.read(OWNERS_LOOKUP, self._owners)
        self._owners_reread = False
        log.info(
            "hubspot ready",
            stages=len(self.stages.to_canonical),
            owners=len(self.owners),
            properties=len(self._read_properties),
        )

    def _needed(self, create_missing: bool) -> set[str]:
        """The properties a kept list must name to be used as is."""
        needed = {"lifecyclestage", *self.field_map.values()}
        if create_missing:
            needed.update(spec[0] for spec in mapping.HANDOFF_PROPERTIES.values())
        return needed

    def _property_definitions(self) -> dict[str, Any]:
        """The contact properties by name: type and field type (and the lifecycle stage's options)."""
        body = self.api.call(self.api.properties.get_all, "contacts", archived=False) or {}
        return {
            p["name"]: {k: p[k] for k in PROPERTY_KEEP if k in p and (k != "options" or p["name"] == "lifecyclestage")}
            for p in body.get("results", [])
        }

    def _mapped_fields(self, existing: Mapping[str, Any]) -> tuple[MappedField, ...]:
        """The mapped properties with their kinds; stops the run naming any the portal lacks."""
        missing = [name for name in self.field_map.values() if name not in existing]
        if missing:
            raise StopRun(missing_line("HubSpot contacts", missing))
        return tuple(
            MappedField(canonical, name, mapping.property_kind(existing[name]))
            for canonical, name in self.field_map.items()
        )

    def use_shadow(self) -> None:
        """Also create Handoff's shadow properties at start (shadow mode)."""
        self.shadow = True

    def _ensure_properties(self, existing: Mapping[str, Any]) -> dict[str, Any]:
        """Create Handoff's properties the portal lacks; their definitions as the kept list holds them."""
        group, label = mapping.HANDOFF_GROUP
        specs = [*mapping.HANDOFF_PROPERTIES.values(), *(mapping.SHADOW_PROPERTIES.values() if self.shadow else ())]
        missing = [spec for spec in specs if spec[0] not in existing]
        if not missing:
            return {}
        self._create_once(self.api.groups.create, "contacts", {"name": group, "label": label, "displayOrder": -1})
        for name, prop_label, kind, field_type, options in missing:
            body: dict[str, Any] = {
                "name": name,
                "label": prop_label,
                "type": kind,
                "fieldType": field_type,
                "groupName": group,
                "description": "Written by Handoff; do not edit by hand.",
            }
            if options:
                body["options"] = [{"label": o, "value": o, "displayOrder": i} for i, o in enumerate(options)]
            self._create_once(self.api.properties.create, "contacts", body)
            log.info("created property", property=name)
        return {name: {"type": kind, "fieldType": field_type} for name, _, kind, field_type, _ in missing}

    def _create_once(self, method: Any, object_type: str, body: dict[str, Any]) -> None:
        try:
            self.api.call(method, object_type, body)
        except Conflict:
            pass  # another Handoff replica (or a previous run) created it first
        except RecordRejected as exc:
            raise StopRun(f"could not create {body['name']!r} on HubSpot contacts: {exc}") from None

    def _owners(self) -> dict[str, str]:
        owners: dict[str, str] = {}
        after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": 100, "archived": False}
            if after:
                kwargs["after"] = after
            body = self.api.call(self.api.owners.get_page, **kwargs) or {}
            for owner in body.get("results", []):
                owners[str(owner["id"])] = owner.get("type", "PERSON")
            after = _next_after(body)
            if not after:
                return owners

    def assignable(self, owner_id: str | None) -> bool:
        """Whether a task can go to this owner (an active person, not a queue).

        An owner the kept list does not know makes it read the owners again, once per cycle.
        """
        if owner_id is not None and owner_id not in self.owners and not self._owners_reread:
            self._owners_reread = True
            self.owners = self._lookups.read(OWNERS_LOOKUP, self._owners, fresh=True)
        return owner_id is not None and self.owners.get(owner_id) == "PERSON"

    # ------------------------------------------------------------- reading

    def changed_since(self, since: datetime, until: datetime, cursors: Cursors | None = None) -> Iterator[PulledPage]:
        """Contacts modified in [since, until] by search, oldest first; then, given ``cursors``, the late window.

        HubSpot's search indexes some writes late, so a contact changed just
        before a cycle may only show up after the cycle's window has passed. The
        late window re-reads, an hour behind, everything changed since the last
        late window: those pages are marked ``late``. Kept owners older than the lookups' age are read again.
        """
        if self._lookups.kept:
            self.owners = self._lookups.read(OWNERS_LOOKUP, self._owners)
        self._owners_reread = False
        for rows in keyset_pages(self._contact_search(), _ms(since), _ms(until)):
            yield self._page(rows)
        if cursors is not None and self.late_delay > timedelta(0):
            yield from self._late(until, cursors)

    def _late(self, until: datetime, cursors: Cursors) -> Iterator[PulledPage]:
        upper = until - self.late_delay
        kept = cursors.get(LATE_CURSOR)
        previous = parse_time(kept) if kept else None
        if previous is not None and previous + LATE_STEP > upper:
            return  # read in steps: a quiet cycle spends no search on a window of a few seconds
        if previous is not None:
            # gathered so a late page's engagement reads go out at the association read's batch size
            for rows in gathered(keyset_pages(self._contact_search(), _ms(previous), _ms(upper)), ASSOCIATION_LIMIT):
                yield self._page(rows, late=True)
        # set once the window is read: a stopped or failed cycle reads it again next time
        cursors.set(LATE_CURSOR, format_time(upper))

    def _contact_search(self) -> _ObjectSearch:
        return _ObjectSearch(
            self.api,
            self.api.contacts_search.do_search,
            self._read_properties,
            stamp="lastmodifieddate",
            modified=mapping.modified_at,
        )

    def scan(self, resume: str | None) -> Iterator[PulledPage]:
        """Every contact through the list API (no 10,000 cap), resumable by page token.

        Pages are read ahead (one association batch's worth) while the caller works on earlier ones.
        """
        return read_ahead(self._list_pages(resume), SCAN_AHEAD)

    def _list_pages(self, resume: str | None) -> Iterator[PulledPage]:
        after = resume
        while True:
            kwargs: dict[str, Any] = {"limit": LIST_LIMIT, "properties": self._read_properties, "archived": False}
            if after:
                kwargs["after"] = after
            body = self.api.call(self.api.contacts_basic.get_page, **kwargs) or {}
            after = _next_after(body)
            yield self._page(body.get("results", []), resume=after)
            if not after:
                return

    def read(self, record_ids: Sequence[str]) -> list[Pulled]:
        found: list[Pulled] = []
        for chunk in chunks(record_ids, BATCH_LIMIT):
            body = self.api.call(
                self.api.contacts_batch.read,
                {"properties": self._read_properties, "inputs": [{"id": i} for i in chunk]},
                archived=False,
            )
            found.extend(self._page((body or {}).get("results", [])).records)
        return found

    def _page(self, results: Sequence[Any], resume: str | None = None, late: bool = False) -> PulledPage:
        return read_page(
            results, lambda raw: mapping.pulled(raw, self.stages, self._mapped), "id", resume=resume, late=late
        )

    def activities(self, records: Sequence[Pulled], previous: Mapping[str, Mapping[str, Any]]) -> dict[str, Delta]:
        """Counter changes as activities, plus meetings, calls and replies new since the last read."""
        found: dict[str, list[Activity]] = {}
        needs_engagements: list[str] = []
        for record in records:
            before = previous.get(record.record_id)
            found[record.record_id] = mapping.counter_activities(record.counters, before, record.modified_at)
            markers = mapping.SALES_ACTIVITY_MARKERS
            if before is None or any(record.counters.get(m) != before.get(m) for m in markers):
                needs_engagements.append(record.record_id)
        seen = {r.record_id: SeenEngagements(previous.get(r.record_id)) for r in records}
        if needs_engagements:
            for record_id, engagement_id, activity in self._engagements(needs_engagements, seen):
                # one that shows no interest yet (a call not connected) may count once it does: not remembered
                if activity is not None and seen[record_id].new([engagement_id]):
                    found[record_id].append(activity)
        return {r.record_id: Delta(found[r.record_id], seen[r.record_id].counters(r.kept_counters())) for r in records}

    def _engagements(
        self, record_ids: list[str], seen: Mapping[str, SeenEngagements]
    ) -> Iterator[tuple[str, str, Activity | None]]:
        """(contact, engagement id, activity or None) for each engagement the contacts have not seen yet."""
        fallback = self.clock()
        for object_type, properties in mapping.ENGAGEMENT_OBJECTS.items():
            owners_of: dict[str, list[str]] = {}
            for chunk in chunks(record_ids, ASSOCIATION_LIMIT):
                body = self.api.call(
                    self.api.associations.get_page, "contacts", object_type, {"inputs": [{"id": i} for i in chunk]}
                )
                for contact, engagement_id in _associations(body):
                    if contact in seen and engagement_id not in seen[contact]:
                        owners_of.setdefault(engagement_id, []).append(contact)
            for chunk in chunks(list(owners_of), BATCH_LIMIT):
                body = self.api.call(
                    self.api.objects_batch[object_type].read,
                    {"properties": list(properties), "inputs": [{"id": i} for i in chunk]},
                    archived=False,
                )
                for obj in (body or {}).get("results", []):
                    engagement_id = str(obj.get("id"))
                    props = obj.get("properties")
                    activity = mapping.engagement_activity(
                        object_type, props if isinstance(props, Mapping) else {}, fallback
                    )
                    for contact in owners_of.get(engagement_id, []):
                        yield contact, engagement_id, activity

    # ------------------------------------------------------------- writing

    def write(self, plans: Sequence[RecordPlan]) -> list[WriteOutcome]:
        """Batch-update contacts; a recycle clears the stage in one request and sets it in the next."""
        failed: dict[str, WriteOutcome] = {}
        resets = [p for p in plans if p.reset_stage and p.stage is not None]
        if resets:
            for outcome in self._update({p.record_id: {"lifecyclestage": ""} for p in resets}):
                if not outcome.ok:
                    failed[outcome.record_id] = outcome
        updates = {p.record_id: self._hubspot_properties(p) for p in plans if p.record_id not in failed and p.has_write}
        outcomes = {o.record_id: o for o in self._update(updates)} if updates else {}
        return [failed.get(p.record_id) or outcomes.get(p.record_id) or WriteOutcome(p.record_id) for p in plans]

    def _hubspot_properties(self, plan: RecordPlan) -> dict[str, str]:
        props = mapping.property_values(plan.properties)
        if plan.stage is not None:
            props["lifecyclestage"] = self.stages.to_hubspot[plan.stage]
        return props

    def _update(self, changes: Mapping[str, Mapping[str, str]]) -> list[WriteOutcome]:
        outcomes: list[WriteOutcome] = []
        for chunk in chunks(list(changes), BATCH_LIMIT):
            inputs = [{"id": i, "properties": dict(changes[i]), "objectWriteTraceId": i} for i in chunk]
            outcomes.extend(self._batch_update(inputs))
        return outcomes

    def _batch_update(self, inputs: list[dict[str, Any]]) -> list[WriteOutcome]:
        """One batch update with per-record outcomes; a batch HubSpot rejects whole is split to find the culprit."""
        keys = [i["id"] for i in inputs]
        try:
            body = self.api.call(self.api.contacts_batch.update, {"inputs": inputs})
        except RecordRejected as exc:
            if len(inputs) == 1:
                return [write_outcome(keys[0], exc)]
            half = len(inputs) // 2
            return [*self._batch_update(inputs[:half]), *self._batch_update(inputs[half:])]
        except CrmError as exc:
            return failed_writes(keys, exc)
        result = _batch_result(body)
        return [write_outcome(k, result.error(k)) for k in keys]

    # --------------------------------------------------------------- tasks

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        """Batch-create tasks associated with their contact; results are matched by the ref in the body."""
        outcomes: list[TaskOutcome] = []
        for chunk in chunks(tasks, BATCH_LIMIT):
            try:
                body = self.api.call(self.api.tasks_batch.create, {"inputs": [self._task_input(t) for t in chunk]})
            except CrmError as exc:
                outcomes.extend(failed_tasks([t.key for t in chunk], exc))
                continue
            result = _batch_result(
                body, key_of=lambda r: mapping.task_ref((r.get("properties") or {}).get("hs_task_body"))
            )
            # a task with no result has an unknown fate: reconciliation looks for it before any second attempt
            outcomes.extend(task_outcome(t.key, result.ids.get(t.key), result.error(t.key)) for t in chunk)
        return outcomes

    def _task_input(self, task: TaskSpec) -> dict[str, Any]:
        return {
            "properties": mapping.task_properties(task),
            "associations": [
                {
                    "to": {"id": task.record_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_CONTACT}],
                }
            ],
            "objectWriteTraceId": task.key,
        }

    def outcomes(self, until: datetime, cursors: Cursors) -> Iterator[Sequence[OutcomeEvent]]:
        """Deals (opened, won, lost, reopened, deleted) and Handoff's completed tasks since the outcome cursors.

        Each read runs up to ``until`` less the late delay, so what HubSpot's search indexes late is
        still read once; a quiet cycle costs one deal search, one task search and one page of
        archived deals per 100 (plus the deal pipelines, once per run). Lifecycle stage dates
        (``Pulled.outcomes``) and lead statuses come with the contacts the sync reads.
        """
        # the millisecond ``until`` falls in may still get changes after this read: it is read next time
        upper = _ms(until - self.late_delay) - 1
        self._stages_reread = False
        yield from self._deal_outcomes(upper, cursors)
        yield from self._deleted_deals(cursors)
        yield from self._task_outcomes(upper, cursors)

    def _deal_outcomes(self, upper: int, cursors: Cursors) -> Iterator[list[OutcomeEvent]]:
        lower = int(cursors.get(DEALS_CURSOR) or 0)
        if lower > upper:
            return
        memory = DealMemory(cursors)
        source = _ObjectSearch(self.api, self.api.deals_search.do_search, outcome_mapping.DEAL_PROPERTIES)
        for rows in keyset_pages(source, lower, upper):
            events, remembered = self._deal_changes(rows, memory)
            if events:
                yield events
            remember_all(memory, remembered)
            cursors.set(DEALS_CURSOR, str(source.last_stamp(rows, lower)))
        cursors.set(DEALS_CURSOR, str(upper + 1))

    def _deal_changes(
        self, rows: Sequence[Any], memory: DealMemory
    ) -> tuple[list[OutcomeEvent], list[tuple[str, Remembered]]]:
        contacts = self._deal_contacts([str(r["id"]) for r in rows if isinstance(r, Mapping) and "id" in r])
        events: list[OutcomeEvent] = []
        remembered: list[tuple[str, Remembered]] = []
        for row in rows:
            try:
                deal = self._deal(row, contacts)
            except Exception as exc:
                log.warning("unreadable deal skipped", deal=str(row.get("id")), error=type(exc).__name__)
                continue
            if deal is None:
                continue
            told, kept = changes(deal, memory.get(deal.deal_id))
            events.extend(told)
            remembered.append((deal.deal_id, kept))
        return events, remembered

    def _deal(self, row: Any, contacts: Mapping[str, tuple[str, ...]]) -> DealRead | None:
        record_ids = contacts.get(str(row["id"]), ())
        deal = outcome_mapping.deal_read(row, record_ids, self._stage_states())
        if deal is None and not self._stages_reread:
            # a stage made since the pipelines were read: read them again, once per outcome read
            self._deal_stages, self._stages_reread = None, True
            deal = outcome_mapping.deal_read(row, record_ids, self._stage_states())
        if deal is None:
            log.warning("deal in an unknown stage skipped", deal=str(row["id"]))
        return deal

    def _stage_states(self) -> outcome_mapping.StageStates:
        if self._deal_stages is None:
            self._deal_stages = outcome_mapping.stage_states(self.api.call(self.api.pipelines.get_all, "deals"))
        return self._deal_stages

    def _deal_contacts(self, deal_ids: list[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for chunk in chunks(deal_ids, ASSOCIATION_LIMIT):
            body = self.api.call(
                self.api.associations.get_page, "deals", "contacts", {"inputs": [{"id": i} for i in chunk]}
            )
            for deal_id, contact_id in _associations(body):
                found.setdefault(deal_id, []).append(contact_id)
        return {deal_id: tuple(dict.fromkeys(ids)) for deal_id, ids in found.items()}

    def _deleted_deals(self, cursors: Cursors) -> Iterator[list[OutcomeEvent]]:
        """Deals archived since the last read: HubSpot's search drops them, only the list API shows them."""
        kept = cursors.get(ARCHIVED_CURSOR)
        since = parse_time(kept) if kept else None
        latest = since
        memory = DealMemory(cursors)
        events: list[OutcomeEvent] = []
        remembered: list[tuple[str, Remembered]] = []
        after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": LIST_LIMIT, "archived": True, "properties": ["hs_object_id"]}
            if after:
                kwargs["after"] = after
            body = self.api.call(self.api.deals_basic.get_page, **kwargs) or {}
            for row in body.get("results", []):
                at = outcome_mapping.archived_at(row) if isinstance(row, Mapping) else None
                if at is None or (since is not None and at < since):
                    continue
                told, gone = deleted(str(row["id"]), at, memory.get(str(row["id"])))
                events.extend(told)
                if gone is not None:
                    remembered.append((str(row["id"]), gone))
                latest = at if latest is None else max(latest, at)
            after = _next_after(body)
            if not after:
                break
        if events:
            yield events
        remember_all(memory, remembered)
        if latest is not None:
            cursors.set(ARCHIVED_CURSOR, format_time(latest))

    def _task_outcomes(self, upper: int, cursors: Cursors) -> Iterator[list[OutcomeEvent]]:
        lower = int(cursors.get(TASKS_CURSOR) or 0)
        if lower > upper:
            return
        completed = {"propertyName": "hs_task_status", "operator": "EQ", "value": "COMPLETED"}
        source = _ObjectSearch(
            self.api, self.api.tasks_search.do_search, outcome_mapping.TASK_PROPERTIES, filters=(completed,)
        )
        for rows in keyset_pages(source, lower, upper):
            events = [e for e in map(_touched, rows) if e is not None]
            if events:
                yield events
            cursors.set(TASKS_CURSOR, str(source.last_stamp(rows, lower)))
        cursors.set(TASKS_CURSOR, str(upper + 1))

    def existing_tasks(self, tasks: Sequence[TaskSpec]) -> dict[str, str]:
        """Find tasks already created for these keys: the tasks of up to 100 contacts a search, by Handoff's marker."""
        wanted = {t.key for t in tasks}
        found: dict[str, str] = {}
        for contacts in chunks(list(dict.fromkeys(t.record_id for t in tasks)), SEARCH_IN_LIMIT):
            after: str | None = None
            while True:
                request: dict[str, Any] = {
                    "filterGroups": [
                        {"filters": [{"propertyName": "associations.contact", "operator": "IN", "values": contacts}]}
                    ],
                    "properties": ["hs_task_body"],
                    "limit": SEARCH_LIMIT,
                }
                if after:
                    request["after"] = after
                body = self.api.call(self.api.tasks_search.do_search, request, search=True) or {}
                for result in body.get("results", []):
                    key = mapping.task_ref((result.get("properties") or {}).get("hs_task_body"))
                    if key in wanted:
                        found[key] = str(result["id"])
                after = _next_after(body)
                if not after:
                    break
        return found

    def task_states(self, crm_task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Tasks by id through the batch read (100 a call); deleted or unknown ids are left out."""
        found: dict[str, TaskState] = {}
        for chunk in chunks(list(crm_task_ids), BATCH_LIMIT):
            body = self.api.call(
                self.api.tasks_batch.read,
                {"properties": list(task_mapping.TASK_STATE_PROPERTIES), "inputs": [{"id": i} for i in chunk]},
                archived=False,
            )
            for row in (body or {}).get("results", []):
                try:
                    state = task_mapping.task_state(row)
                except Exception as exc:
                    log.warning("unreadable task skipped", task=str(row.get("id")), error=type(exc).__name__)
                    continue
                found[state.crm_task_id] = state
        return found

    def update_tasks(self, updates: Sequence[TaskUpdate]) -> list[TaskOutcome]:
        """Set task owners and priorities through the batch update (100 a call)."""
        return [o for chunk in chunks(list(updates), BATCH_LIMIT) for o in self._update_task_batch(chunk)]

    def _update_task_batch(self, updates: Sequence[TaskUpdate]) -> list[TaskOutcome]:
        """One batch update; a batch HubSpot rejects whole (one owner it does not know) is split to find it."""
        inputs = [
            {"id": u.crm_task_id, "properties": task_mapping.update_properties(u), "objectWriteTraceId": u.crm_task_id}
            for u in updates
        ]
        try:
            body = self.api.call(self.api.tasks_batch.update, {"inputs": inputs})
        except RecordRejected as exc:
            if len(updates) == 1:
                return [task_outcome(updates[0].key, error=exc)]
            half = len(updates) // 2
            return [*self._update_task_batch(updates[:half]), *self._update_task_batch(updates[half:])]
        except CrmError as exc:
            return failed_tasks([u.key for u in updates], exc)
        result = _batch_result(body)
        return [task_outcome(u.key, u.crm_task_id, result.error(u.crm_task_id)) for u in updates]


@dataclass(frozen=True)
class _ObjectSearch:
    """An object type's search as a keyset source: stamps are modified-time milliseconds, ids are numbers.

    Contacts keep their modified time in ``lastmodifieddate``, deals and tasks in ``hs_lastmodifieddate``.
    """

    api: HubSpotApi
    search: Callable[..., Any]
    properties: Sequence[str]
    filters: Sequence[Mapping[str, str]] = ()
    stamp: str = "hs_lastmodifieddate"
    modified: Callable[[Any], datetime] = outcome_mapping.modified_at

    def window(self, lower: int, upper: int) -> Window[Any]:
        return self._window(_between(self.stamp, lower, upper), self.stamp)

    def tie(self, stamp: int, after: int | None) -> Window[Any]:
        # hs_object_id is numeric; compared as a number, never by string (ids sort "10" < "9")
        filters = [
            *_between(self.stamp, stamp, stamp),
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(after or 0)},
        ]
        return self._window(filters, "hs_object_id")

    def _window(self, filters: list[dict[str, str]], sort: str) -> Window[Any]:
        request = {
            "filterGroups": [{"filters": [*filters, *self.filters]}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": list(self.properties),
            "limit": SEARCH_LIMIT,
        }
        body = self.api.call(self.search, request, search=True) or {}
        # HubSpot may send short pages that still have more: only a missing paging.next ends the results
        return Window(body.get("results", []), more=_next_after(body) is not None)

    def key(self, row: Any) -> Key[int, int] | None:
        try:
            return Key(_ms(self.modified(row)), int(row["id"]))
        except Exception:
            return None

    def next_stamp(self, stamp: int) -> int:
        return stamp + 1

    def last_stamp(self, rows: Sequence[Any], floor: int) -> int:
        """The latest stamp of a page: where a read stopped after it resumes (its rows come again, harmlessly)."""
        return max([floor, *(key.stamp for key in map(self.key, rows) if key is not None)])


def _between(name: str, lower: int, upper: int) -> list[dict[str, str]]:
    return [
        {"propertyName": name, "operator": "GTE", "value": str(lower)},
        {"propertyName": name, "operator": "LTE", "value": str(upper)},
    ]


def _touched(row: Any) -> OutcomeEvent | None:
    try:
        return outcome_mapping.touched(row)
    except Exception as exc:
        log.warning(
            "unreadable task skipped",
            task=str(row.get("id") if isinstance(row, Mapping) else None),
            error=type(exc).__name__,
        )
        return None


@dataclass
class _BatchResult:
    """A HubSpot batch answer: ids created or updated by key, and errors by key."""

    ids: dict[str, str]
    errors: dict[str, CrmError]

    def error(self, key: str) -> CrmError | None:
        if key in self.ids:
            return None
        return self.errors.get(key) or Retryable("HubSpot returned no result for this record")


def _batch_result(body: Any, key_of: Callable[[Mapping[str, Any]], str | None] | None = None) -> _BatchResult:
    """Read a batch answer: results keyed by ``key_of`` (default: their id), errors by ``objectWriteTraceId``."""
    body = body or {}
    ids: dict[str, str] = {}
    for result in body.get("results", []):
        key = key_of(result) if key_of is not None else str(result.get("id"))
        if key:
            ids[key] = str(result.get("id"))
    errors: dict[str, CrmError] = {}
    for error in body.get("errors", []):
        context = error.get("context") or {}
        message = f"{error.get('category', 'ERROR')}: {error.get('message', '')}"
        for key in [*context.get("objectWriteTraceId", []), *context.get("ids", [])]:
            errors[str(key)] = RecordRejected(message)
    return _BatchResult(ids, errors)


def _associations(body: Any) -> Iterator[tuple[str, str]]:
    """(contact id, engagement id) pairs of a v4 batch association read; malformed entries are skipped."""
    for result in (body or {}).get("results", []):
        contact = (result.get("from") or {}).get("id")
        for target in result.get("to") or []:
            engagement_id = target.get("toObjectId") if isinstance(target, Mapping) else None
            if contact is not None and engagement_id is not None:
                yield str(contact), str(engagement_id)


def _next_after(body: Mapping[str, Any]) -> str | None:
    return ((body.get("paging") or {}).get("next") or {}).get("after") or None
