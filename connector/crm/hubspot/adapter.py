"""The HubSpot adapter: contacts in, stages, scores and tasks out, through the CRM v3 API."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from connector.crm.base import Delta, Pulled, PulledPage, Quarantined, TaskOutcome, WriteOutcome
from connector.crm.errors import CrmError, RecordRejected, Retryable, StopRun
from connector.crm.hubspot import mapping
from connector.crm.hubspot.transport import HubSpotApi
from connector.model import Activity, Stage, TaskSpec, format_time, parse_time
from connector.policy.planner import RecordPlan

log = structlog.get_logger(__name__)

SEARCH_LIMIT = 200
LIST_LIMIT = 100
BATCH_LIMIT = 100
TASK_TO_CONTACT = 204
#: kept per contact so an engagement is turned into an activity once
SEEN_KEY = "seen_engagements"
SEEN_KEEP = 500
#: contact properties that move when a meeting, call or email is logged
SALES_ACTIVITY_MARKERS = ("hs_last_sales_activity_timestamp", "notes_last_updated", "notes_last_contacted")
TASK_REF = re.compile(r"Handoff ref: (handoff:\S+)")


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


class HubSpotAdapter:
    """Reads contacts and writes Handoff's results back to one HubSpot portal."""

    name = "hubspot"

    def __init__(self, api: HubSpotApi):
        self.api = api
        self.stages = mapping.StageMap([(v, i) for i, v in enumerate(mapping.DEFAULT_STAGE_VALUES)])
        self.owners: dict[str, str] = {}
        self._read_properties: list[str] = []

    # ------------------------------------------------------------ start-up

    def start(self, create_missing: bool = True) -> None:
        """Read the stage order, create Handoff's properties if missing, look up owners.

        A dry run passes ``create_missing=False``: it must not write even a property definition.
        """
        _, body = self.api.call(self.api.properties.get_all, "contacts", archived=False)
        existing = {p["name"]: p for p in body.get("results", [])}
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
        if create_missing:
            self._ensure_properties(existing)
        wanted = [
            *mapping.CANONICAL_PROPERTIES.values(),
            *mapping.OTHER_PROPERTIES,
            *mapping.COUNTER_PROPERTIES,
            *SALES_ACTIVITY_MARKERS,
        ]
        # reading a property the portal lacks is harmless but noisy; custom BANT fields may not exist
        self._read_properties = [p for p in dict.fromkeys(wanted) if p in existing]
        self.owners = self._owners()
        log.info(
            "hubspot ready",
            stages=len(self.stages.to_canonical),
            owners=len(self.owners),
            properties=len(self._read_properties),
        )

    def _ensure_properties(self, existing: Mapping[str, Any]) -> None:
        group, label = mapping.HANDOFF_GROUP
        missing = [spec for spec in mapping.HANDOFF_PROPERTIES.values() if spec[0] not in existing]
        if not missing:
            return
        self._create_ignoring_conflict(
            self.api.groups.create, "contacts", {"name": group, "label": label, "displayOrder": -1}
        )
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
            self._create_ignoring_conflict(self.api.properties.create, "contacts", body)
            log.info("created property", property=name)

    def _create_ignoring_conflict(self, method: Any, object_type: str, body: dict[str, Any]) -> None:
        try:
            self.api.call(method, object_type, body)
        except RecordRejected as exc:
            # another Handoff replica (or a previous run) created it first
            if "409" not in str(exc):
                raise StopRun(f"could not create {body['name']!r} on HubSpot contacts: {exc}") from None

    def _owners(self) -> dict[str, str]:
        owners: dict[str, str] = {}
        after: str | None = None
        while True:
            kwargs: dict[str, Any] = {"limit": 100, "archived": False}
            if after:
                kwargs["after"] = after
            _, body = self.api.call(self.api.owners.get_page, **kwargs)
            for owner in body.get("results", []):
                owners[str(owner["id"])] = owner.get("type", "PERSON")
            after = (body.get("paging") or {}).get("next", {}).get("after")
            if not after:
                return owners

    def assignable(self, owner_id: str | None) -> bool:
        """Whether a task can go to this owner (an active person, not a queue)."""
        return owner_id is not None and self.owners.get(owner_id) == "PERSON"

    # ------------------------------------------------------------- reading

    def changed_since(self, since: datetime, until: datetime) -> Iterator[PulledPage]:
        """Contacts modified in [since, until] by search, oldest first, each once.

        Keyset paging: every page is a fresh query from the last millisecond seen,
        skipping the contacts of that millisecond already yielded. Offset paging
        (``after``) would skip records whenever a contact leaves the window while
        we page (we write contacts as we go, which moves their modified time), and
        it stops at 10,000 results; keyset paging has neither problem. When a whole
        page shares one millisecond, that millisecond is drained in id order.
        """
        lower, upper = int(_ms(since)), int(_ms(until))
        boundary_ms: int | None = None
        boundary_ids: set[str] = set()
        while True:
            body = self._search(lower, upper)
            results = body.get("results", [])
            page = self._page(results, skip=boundary_ids)
            if results and not page.records and not page.quarantined:
                # a full page of one millisecond we have already yielded
                stamp = boundary_ms if boundary_ms is not None else lower
                yield from self._drain_millisecond(stamp, upper, boundary_ids)
                lower, boundary_ms, boundary_ids = stamp + 1, None, set()
                continue
            for record in page.records:
                stamp = int(_ms(record.modified_at))
                if stamp != boundary_ms:
                    boundary_ms, boundary_ids = stamp, set()
                boundary_ids.add(record.record_id)
            # an unreadable contact has no usable timestamp: skip it on re-query instead of looping on it
            boundary_ids.update(q.record_id for q in page.quarantined if q.record_id)
            if page.records or page.quarantined:
                yield page
            # HubSpot may send short pages that still have more: only a missing paging.next ends it
            if not ((body.get("paging") or {}).get("next") or {}).get("after"):
                return
            if boundary_ms is None:
                return
            lower = boundary_ms

    def _search(
        self, lower: int, upper: int, extra: list[dict[str, Any]] | None = None, sort: str = "lastmodifieddate"
    ) -> dict[str, Any]:
        filters = [
            {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(lower)},
            {"propertyName": "lastmodifieddate", "operator": "LTE", "value": str(upper)},
            *(extra or []),
        ]
        request = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": self._read_properties,
            "limit": SEARCH_LIMIT,
        }
        _, body = self.api.call(self.api.contacts_search.do_search, request, search=True)
        return body or {}

    def _drain_millisecond(self, stamp: int, upper: int, seen: set[str]) -> Iterator[PulledPage]:
        # hs_object_id is numeric; compare as numbers, never by string (ids sort "10" < "9")
        last_id = 0
        while True:
            body = self._search(
                stamp,
                min(stamp, upper),
                [{"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}],
                sort="hs_object_id",
            )
            results = body.get("results", [])
            if not results:
                return
            page = self._page(results, skip=seen)
            if page.records or page.quarantined:
                yield page
            last_id = max(int(r["id"]) for r in results)

    def scan(self, resume: str | None) -> Iterator[PulledPage]:
        """Every contact through the list API (no 10,000 cap), resumable by page token."""
        after = resume
        while True:
            kwargs: dict[str, Any] = {"limit": LIST_LIMIT, "properties": self._read_properties, "archived": False}
            if after:
                kwargs["after"] = after
            _, body = self.api.call(self.api.contacts_basic.get_page, **kwargs)
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            page = self._page(body.get("results", []), skip=set())
            yield PulledPage(page.records, page.quarantined, resume=after)
            if not after:
                return

    def read(self, record_ids: Sequence[str]) -> list[Pulled]:
        found: list[Pulled] = []
        for chunk in _chunks(list(record_ids), BATCH_LIMIT):
            _, body = self.api.call(
                self.api.contacts_batch.read,
                {"properties": self._read_properties, "inputs": [{"id": i} for i in chunk]},
                archived=False,
            )
            found.extend(self._page(body.get("results", []), skip=set()).records)
        return found

    def _page(self, results: Sequence[Any], skip: set[str]) -> PulledPage:
        records: list[Pulled] = []
        quarantined: list[Quarantined] = []
        for raw in results:
            record_id = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") is not None else None
            if record_id in skip:
                continue
            try:
                records.append(self._pulled(raw))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                quarantined.append(
                    Quarantined(
                        record_id,
                        f"unreadable contact: {type(exc).__name__}: {exc}",
                        raw if isinstance(raw, dict) else {"raw": repr(raw)[:500]},
                    )
                )
        return PulledPage(records, quarantined)

    def _pulled(self, raw: Mapping[str, Any]) -> Pulled:
        props = raw["properties"]
        if not isinstance(props, dict):
            raise TypeError("properties is not an object")
        modified = props.get("lastmodifieddate") or raw.get("updatedAt")
        if not modified:
            raise ValueError("no lastmodifieddate")
        counters = mapping.counters_of(props)
        counters.update({m: props[m] for m in SALES_ACTIVITY_MARKERS if props.get(m)})
        return Pulled(
            record_id=str(raw["id"]),
            properties=mapping.canonical_properties(props, self.stages),
            crm_state=mapping.crm_state(props, self.stages),
            modified_at=parse_time(modified),
            counters=counters,
        )

    def activities(self, records: Sequence[Pulled], previous: Mapping[str, Mapping[str, Any]]) -> dict[str, Delta]:
        """Counter changes as activities, plus meetings, calls and replies new since the last read."""
        deltas: dict[str, list[Activity]] = {}
        needs_engagements: list[str] = []
        for record in records:
            before = previous.get(record.record_id)
            deltas[record.record_id] = mapping.counter_activities(record.counters, before, record.modified_at)
            if before is None or any(record.counters.get(m) != before.get(m) for m in SALES_ACTIVITY_MARKERS):
                needs_engagements.append(record.record_id)
        seen = {r.record_id: list((previous.get(r.record_id) or {}).get(SEEN_KEY, [])) for r in records}
        if needs_engagements:
            for record_id, engagement_id, activity in self._engagements(needs_engagements, seen):
                deltas[record_id].append(activity)
                seen[record_id].append(engagement_id)
        return {
            r.record_id: Delta(deltas[r.record_id], {**r.counters, SEEN_KEY: seen[r.record_id][-SEEN_KEEP:]})
            for r in records
        }

    def _engagements(self, record_ids: list[str], seen: Mapping[str, list[str]]) -> Iterator[tuple[str, str, Activity]]:
        fallback = datetime.now(UTC)
        for object_type, properties in mapping.ENGAGEMENT_OBJECTS.items():
            owners_of: dict[str, list[str]] = {}
            for chunk in _chunks(record_ids, 1000):
                _, body = self.api.call(
                    self.api.associations.get_page, "contacts", object_type, {"inputs": [{"id": i} for i in chunk]}
                )
                for result in (body or {}).get("results", []):
                    contact = str(result["from"]["id"])
                    for target in result.get("to", []):
                        engagement_id = str(target["toObjectId"])
                        if engagement_id not in seen.get(contact, ()):
                            owners_of.setdefault(engagement_id, []).append(contact)
            for chunk in _chunks(list(owners_of), BATCH_LIMIT):
                _, body = self.api.call(
                    self.api.objects_batch[object_type].read,
                    {"properties": list(properties), "inputs": [{"id": i} for i in chunk]},
                    archived=False,
                )
                for obj in (body or {}).get("results", []):
                    activity = mapping.engagement_activity(object_type, obj.get("properties") or {}, fallback)
                    for contact in owners_of.get(str(obj["id"]), []):
                        if activity is not None:
                            yield contact, str(obj["id"]), activity

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
        props = {mapping.HANDOFF_PROPERTIES[k][0]: ("" if v is None else v) for k, v in plan.properties.items()}
        if plan.stage is not None:
            props["lifecyclestage"] = self.stages.to_hubspot[plan.stage]
        return props

    def _update(self, changes: Mapping[str, Mapping[str, str]]) -> list[WriteOutcome]:
        outcomes: list[WriteOutcome] = []
        for chunk in _chunks(list(changes), BATCH_LIMIT):
            inputs = [{"id": i, "properties": dict(changes[i]), "objectWriteTraceId": i} for i in chunk]
            outcomes.extend(self._batch(self.api.contacts_batch.update, inputs, lambda item: item["id"]))
        return outcomes

    def _batch(self, method: Any, inputs: list[dict[str, Any]], key_of: Any) -> list[WriteOutcome]:
        """One batch call with per-item outcomes; a batch HubSpot rejects whole is split to find the culprit."""
        keys = [key_of(i) for i in inputs]
        try:
            _, body = self.api.call(method, {"inputs": inputs})
        except StopRun:
            raise
        except RecordRejected as exc:
            if len(inputs) == 1:
                return [WriteOutcome(keys[0], str(exc))]
            half = len(inputs) // 2
            return [*self._batch(method, inputs[:half], key_of), *self._batch(method, inputs[half:], key_of)]
        except Retryable as exc:
            return [WriteOutcome(k, str(exc), retryable=True) for k in keys]
        body = body or {}
        done = {str(r.get("id")) for r in body.get("results", [])}
        errors: dict[str, str] = {}
        for error in body.get("errors", []):
            context = error.get("context") or {}
            for key in [*context.get("objectWriteTraceId", []), *context.get("ids", [])]:
                errors[str(key)] = f"{error.get('category', 'ERROR')}: {error.get('message', '')}"
        return [
            WriteOutcome(k, errors[k])
            if k in errors
            else WriteOutcome(k)
            if k in done
            else WriteOutcome(k, "HubSpot returned no result for this record", retryable=True)
            for k in keys
        ]

    # --------------------------------------------------------------- tasks

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        """Batch-create tasks associated with their contact; results are matched by the ref in the body."""
        outcomes: list[TaskOutcome] = []
        for chunk in _chunks(list(tasks), BATCH_LIMIT):
            inputs = [self._task_input(t) for t in chunk]
            try:
                _, body = self.api.call(self.api.tasks_batch.create, {"inputs": inputs})
            except StopRun:
                raise
            except CrmError as exc:
                outcomes.extend(TaskOutcome(t.key, error=str(exc), retryable=isinstance(exc, Retryable)) for t in chunk)
                continue
            created = {}
            for result in (body or {}).get("results", []):
                ref = TASK_REF.search((result.get("properties") or {}).get("hs_task_body") or "")
                if ref:
                    created[ref.group(1)] = str(result["id"])
            errors = {}
            for error in (body or {}).get("errors", []):
                for key in (error.get("context") or {}).get("objectWriteTraceId", []):
                    errors[key] = f"{error.get('category', 'ERROR')}: {error.get('message', '')}"
            for t in chunk:
                if t.key in created:
                    outcomes.append(TaskOutcome(t.key, crm_task_id=created[t.key]))
                else:
                    # unknown fate: reconciliation looks for it before any second attempt
                    outcomes.append(
                        TaskOutcome(
                            t.key, error=errors.get(t.key, "HubSpot returned no result"), retryable=t.key not in errors
                        )
                    )
        return outcomes

    def _task_input(self, task: TaskSpec) -> dict[str, Any]:
        props = {
            "hs_task_subject": task.subject,
            "hs_task_body": f"{task.body}\n\nHandoff ref: {task.key}",
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": task.priority.value,
            "hs_task_type": "CALL" if task.stage is Stage.SQL else "EMAIL",
            "hs_timestamp": format_time(task.due_at),
        }
        if task.owner_id:
            props["hubspot_owner_id"] = task.owner_id
        return {
            "properties": props,
            "associations": [
                {
                    "to": {"id": task.record_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_CONTACT}],
                }
            ],
            "objectWriteTraceId": task.key,
        }

    def existing_tasks(self, tasks: Sequence[TaskSpec]) -> dict[str, str]:
        """Find tasks already created for these keys by searching each contact's tasks for the ref."""
        wanted = {t.key for t in tasks}
        found: dict[str, str] = {}
        for record_id in dict.fromkeys(t.record_id for t in tasks):
            after: str | None = None
            while True:
                request: dict[str, Any] = {
                    "filterGroups": [
                        {"filters": [{"propertyName": "associations.contact", "operator": "EQ", "value": record_id}]}
                    ],
                    "properties": ["hs_task_body"],
                    "limit": SEARCH_LIMIT,
                }
                if after:
                    request["after"] = after
                _, body = self.api.call(self.api.tasks_search.do_search, request, search=True)
                for result in (body or {}).get("results", []):
                    ref = TASK_REF.search((result.get("properties") or {}).get("hs_task_body") or "")
                    if ref and ref.group(1) in wanted:
                        found[ref.group(1)] = str(result["id"])
                after = (((body or {}).get("paging") or {}).get("next") or {}).get("after")
                if not after:
                    break
        return found


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
