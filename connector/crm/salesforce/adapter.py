"""The Salesforce adapter: Leads in, lifecycle stage, scores and Tasks out, through the REST API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from connector.crm.base import Delta, Pulled, PulledPage, Quarantined, TaskOutcome, WriteOutcome
from connector.crm.errors import CrmError, Retryable, StopRun
from connector.crm.salesforce import mapping
from connector.crm.salesforce.transport import NO_AUTO_ASSIGN, SalesforceApi, error_code
from connector.model import Activity, TaskSpec
from connector.policy.planner import RecordPlan

log = structlog.get_logger(__name__)

PAGE = 2000
COLLECTION = 200
IN_CHUNK = 200  # ids per IN (...) clause: keeps the query string well under URL limits
SEEN_KEY = "seen_engagements"
SEEN_KEEP = 500
RETRYABLE_ITEM_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"})


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _ids(values: Sequence[str]) -> str:
    return ", ".join(mapping.soql_string(v) for v in values)


def _next_second(literal: str) -> str:
    return mapping.soql_time(datetime.fromisoformat(literal.replace("Z", "+00:00")) + timedelta(seconds=1))


def _after(last: str) -> str:
    # SOQL rejects an empty id literal, so the first page has no lower bound on Id
    return f"AND Id > {mapping.soql_string(last)} " if last else ""


class SalesforceAdapter:
    """Reads Leads and writes Handoff's results back to one Salesforce org."""

    name = "salesforce"

    def __init__(
        self,
        api: SalesforceApi,
        stage_field: mapping.StageField | None = None,
        objects: Sequence[mapping.PersonObject] = (mapping.LEAD,),
    ):
        self.api = api
        self.stage_field = stage_field or mapping.StageField()
        self.objects = tuple(objects)
        self.users: set[str] = set()
        self._fields: dict[str, list[str]] = {}

    def _object_of(self, record_id: str) -> mapping.PersonObject:
        return next((o for o in self.objects if record_id.startswith(o.prefix)), self.objects[0])

    # ------------------------------------------------------------ start-up

    def start(self, create_missing: bool = True) -> None:
        """Check that the org has Handoff's fields (Salesforce fields are created by an admin, not by us)."""
        missing: list[str] = []
        for person in self.objects:
            described = {f["name"] for f in (self.api.call(f"sobjects/{person.name}/describe") or {}).get("fields", [])}
            if self.stage_field.name not in described:
                missing.append(
                    f"{person.name}.{self.stage_field.name} (Picklist: {', '.join(self.stage_field.values.values())})"
                )
            missing += [
                f"{person.name}.{name} ({definition})"
                for name, _, definition in mapping.HANDOFF_FIELDS.values()
                if name not in described
            ]
            wanted = [*person.system_fields, *person.fields.values(), self.stage_field.name]
            self._fields[person.name] = [f for f in dict.fromkeys(wanted) if f in described]
        task_fields = {f["name"] for f in (self.api.call("sobjects/Task/describe") or {}).get("fields", [])}
        if mapping.TASK_KEY_FIELD not in task_fields:
            missing.append(f"Task.{mapping.TASK_KEY_FIELD} ({mapping.TASK_KEY_DEFINITION})")
        if missing:
            raise StopRun(
                "the Salesforce org lacks fields Handoff needs; create them (README, Salesforce setup): "
                + "; ".join(missing)
            )
        rows = self.api.query_all("SELECT Id FROM User WHERE IsActive = true")
        self.users = {r["Id"] for r in rows}
        log.info("salesforce ready", fields=len(self._fields), users=len(self.users))

    def assignable(self, owner_id: str | None) -> bool:
        """Tasks go to active users; a queue (00G...) usually cannot own a Task."""
        return owner_id is not None and owner_id in self.users

    # ------------------------------------------------------------- reading

    def changed_since(self, since: datetime, until: datetime) -> Iterator[PulledPage]:
        """Leads (and contacts) whose record or whose engagement changed in [since, until], each once.

        Records are paged by (SystemModstamp, Id) through ``queryAll`` so deletions
        are seen; a new campaign response or logged call does not touch the record
        itself, so those objects are read for the same window and their people added.
        """
        upper = mapping.soql_time(until)
        seen: set[str] = set()
        for person in self.objects:
            yield from self._changed(person, mapping.soql_time(since), upper, seen)
        extra = [i for i in self._engaged(mapping.soql_time(since), upper) if i not in seen]
        for chunk in _chunks(extra, IN_CHUNK):
            yield self._page(self._by_id(chunk))

    def _changed(self, person: mapping.PersonObject, lower: str, upper: str, seen: set[str]) -> Iterator[PulledPage]:
        select = f"SELECT {', '.join(self._fields[person.name])} FROM {person.name}"
        boundary: str | None = None
        boundary_ids: set[str] = set()
        while True:
            rows = (
                self.api.call(
                    "queryAll/",
                    params={
                        "q": (
                            f"{select} WHERE SystemModstamp >= {lower} AND SystemModstamp <= {upper} "
                            f"ORDER BY SystemModstamp, Id LIMIT {PAGE}"
                        )
                    },
                )
                or {}
            )
            records = rows.get("records", [])
            fresh = [r for r in records if r["Id"] not in boundary_ids]
            if not fresh:
                if len(records) >= PAGE:  # a whole page in one second: drain it by id
                    yield from self._drain_second(select, lower, boundary_ids, seen)
                    lower = _next_second(lower)
                    boundary_ids = set()
                    continue
                return
            for row in fresh:
                second = mapping.soql_time(mapping.parse_sf_time(row["SystemModstamp"]))  # type: ignore[arg-type]
                if second != boundary:
                    boundary, boundary_ids = second, set()
                boundary_ids.add(row["Id"])
                seen.add(row["Id"])
            yield self._page(fresh)
            if len(records) < PAGE:
                return
            lower = boundary  # type: ignore[assignment]

    def _drain_second(self, select: str, second: str, boundary_ids: set[str], seen: set[str]) -> Iterator[PulledPage]:
        last = ""
        while True:
            rows = (
                self.api.call(
                    "queryAll/",
                    params={
                        "q": (
                            f"{select} WHERE SystemModstamp >= {second} AND SystemModstamp < {_next_second(second)} "
                            f"{_after(last)}ORDER BY Id LIMIT {PAGE}"
                        )
                    },
                )
                or {}
            )
            records = rows.get("records", [])
            if not records:
                return
            fresh = [r for r in records if r["Id"] not in boundary_ids]
            seen.update(r["Id"] for r in fresh)
            if fresh:
                yield self._page(fresh)
            last = records[-1]["Id"]

    def _engaged(self, lower: str, upper: str) -> list[str]:
        window = f"SystemModstamp >= {lower} AND SystemModstamp <= {upper}"
        prefixes = tuple(o.prefix for o in self.objects)
        members = ", ".join(o.member_field for o in self.objects)
        ids: dict[str, None] = {}
        for soql in (
            f"SELECT WhoId FROM Task WHERE {window} AND IsClosed = true",
            f"SELECT WhoId FROM Event WHERE {window}",
            f"SELECT {members} FROM CampaignMember WHERE {window} AND HasResponded = true",
        ):
            for row in self.api.query_all(soql):
                for key in ("WhoId", *(o.member_field for o in self.objects)):
                    person_id = row.get(key)
                    if person_id and str(person_id).startswith(prefixes):
                        ids[person_id] = None
        return list(ids)

    def _by_id(self, ids: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for person in self.objects:
            mine = [i for i in ids if i.startswith(person.prefix)]
            if mine:
                rows += self.api.query_all(
                    f"SELECT {', '.join(self._fields[person.name])} FROM {person.name} WHERE Id IN ({_ids(mine)})"
                )
        return rows

    def scan(self, resume: str | None) -> Iterator[PulledPage]:
        """Every live Lead (then Contact) in Id order, resumable from ``<Object>:<last Id>``."""
        start_object, _, last = (resume or "").partition(":")
        names = [o.name for o in self.objects]
        first = names.index(start_object) if start_object in names else 0
        for person in self.objects[first:]:
            last = last if person.name == start_object else ""
            while True:
                rows = (
                    self.api.call(
                        "query/",
                        params={
                            "q": (
                                f"SELECT {', '.join(self._fields[person.name])} FROM {person.name} WHERE IsDeleted = false "
                                f"{_after(last)}ORDER BY Id LIMIT {PAGE}"
                            )
                        },
                    )
                    or {}
                )
                records = rows.get("records", [])
                if not records:
                    break
                last = records[-1]["Id"]
                page = self._page(records)
                yield PulledPage(page.records, page.quarantined, resume=f"{person.name}:{last}")
                if len(records) < PAGE:
                    break

    def read(self, record_ids: Sequence[str]) -> list[Pulled]:
        found: list[Pulled] = []
        for chunk in _chunks(list(record_ids), IN_CHUNK):
            found.extend(self._page(self._by_id(chunk)).records)
        return found

    def _page(self, rows: Sequence[Mapping[str, Any]]) -> PulledPage:
        records: list[Pulled] = []
        quarantined: list[Quarantined] = []
        for row in rows:
            if row.get("IsDeleted"):
                continue  # in the recycle bin: nothing to score, nothing to write
            try:
                person = self._object_of(row["Id"])
                records.append(
                    Pulled(
                        record_id=row["Id"],
                        properties=mapping.canonical_properties(row, self.stage_field, person.fields),
                        crm_state=mapping.crm_state(row, self.stage_field),
                        modified_at=mapping.parse_sf_time(row["SystemModstamp"]),  # type: ignore[arg-type]
                        counters={"opted_out": bool(row.get("HasOptedOutOfEmail"))},
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                record = {k: v for k, v in row.items() if k != "attributes"}
                quarantined.append(
                    Quarantined(row.get("Id"), f"unreadable record: {type(exc).__name__}: {exc}", record)
                )
        return PulledPage(records, quarantined)

    def activities(self, records: Sequence[Pulled], previous: Mapping[str, Mapping[str, Any]]) -> dict[str, Delta]:
        """Completed calls, meetings and campaign responses not seen before, plus a new email opt-out."""
        found: dict[str, list[tuple[str, Any]]] = {r.record_id: [] for r in records}
        ids = list(found)
        for chunk in _chunks(ids, IN_CHUNK):
            where = f"IN ({_ids(chunk)})"
            for row in self.api.query_all(
                "SELECT Id, WhoId, Subject, Type, TaskSubtype, IsClosed, CreatedDate, "
                f"{mapping.TASK_KEY_FIELD} FROM Task WHERE WhoId {where} AND IsClosed = true AND IsDeleted = false"
            ):
                found[row["WhoId"]].append((row["Id"], mapping.task_activity(row)))
            for row in self.api.query_all(
                f"SELECT Id, WhoId, Subject, StartDateTime, CreatedDate FROM Event WHERE WhoId {where} "
                "AND IsDeleted = false"
            ):
                found[row["WhoId"]].append((row["Id"], mapping.event_activity(row)))
            for person in self.objects:
                mine = [i for i in chunk if i.startswith(person.prefix)]
                if not mine:
                    continue
                for row in self.api.query_all(
                    f"SELECT Id, {person.member_field}, Status, HasResponded, FirstRespondedDate, CreatedDate, "
                    f"Campaign.Name, Campaign.Type FROM CampaignMember WHERE {person.member_field} "
                    f"IN ({_ids(mine)}) AND HasResponded = true AND IsDeleted = false"
                ):
                    found[row[person.member_field]].append((row["Id"], mapping.campaign_activity(row)))
        deltas: dict[str, Delta] = {}
        for record in records:
            before = previous.get(record.record_id) or {}
            seen = set(before.get(SEEN_KEY, []))
            new = [(i, a) for i, a in found[record.record_id] if i not in seen]
            activities = [a for _, a in new if a is not None]
            if record.counters.get("opted_out") and not before.get("opted_out"):
                activities.append(Activity("unsubscribe", record.modified_at))
            kept = [*before.get(SEEN_KEY, []), *(i for i, _ in new)][-SEEN_KEEP:]
            deltas[record.record_id] = Delta(activities, {**record.counters, SEEN_KEY: kept})
        return deltas

    # ------------------------------------------------------------- writing

    def write(self, plans: Sequence[RecordPlan]) -> list[WriteOutcome]:
        """Update Leads 200 at a time with assignment rules off; per-record outcomes.

        A custom picklist has no forward-only rule, so a recycle is one plain write.
        """
        outcomes: list[WriteOutcome] = []
        for chunk in _chunks([p for p in plans if p.has_write], COLLECTION):
            records = []
            for plan in chunk:
                fields = {
                    "attributes": {"type": self._object_of(plan.record_id).name},
                    "id": plan.record_id,
                    **mapping.write_values(plan.properties),
                }
                if plan.stage is not None:
                    fields[self.stage_field.name] = self.stage_field.value(plan.stage)
                records.append(fields)
            outcomes.extend(self._collection("PATCH", "composite/sobjects", records, [p.record_id for p in chunk]))
        done = {o.record_id: o for o in outcomes}
        return [done.get(p.record_id) or WriteOutcome(p.record_id) for p in plans]

    def _collection(self, method: str, path: str, records: list[dict[str, Any]], keys: list[str]) -> list[WriteOutcome]:
        try:
            results = (
                self.api.call(
                    path, method=method, json={"allOrNone": False, "records": records}, headers=NO_AUTO_ASSIGN
                )
                or []
            )
        except StopRun:
            raise
        except CrmError as exc:
            return [WriteOutcome(k, str(exc), retryable=isinstance(exc, Retryable)) for k in keys]
        outcomes = []
        for key, result in zip(keys, results, strict=False):
            if result.get("success"):
                outcomes.append(WriteOutcome(key))
                continue
            code, message = error_code(result.get("errors") or [])
            if code == "CANNOT_UPDATE_CONVERTED_LEAD":
                # converted since we read it: it belongs to its account now, and is left alone
                outcomes.append(WriteOutcome(key, f"{code}: {message}", skipped=True))
            else:
                outcomes.append(WriteOutcome(key, f"{code}: {message}", retryable=code in RETRYABLE_ITEM_ERRORS))
        outcomes.extend(WriteOutcome(k, "Salesforce returned no result", retryable=True) for k in keys[len(results) :])
        return outcomes

    # --------------------------------------------------------------- tasks

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        """Upsert Tasks by their idempotency key: a retried call can never make a second Task."""
        outcomes: list[TaskOutcome] = []
        for chunk in _chunks(list(tasks), COLLECTION):
            records = [
                mapping.task_fields(
                    t.key, t.record_id, t.owner_id, t.subject, t.body, t.due_at, t.priority.value, t.stage
                )
                for t in chunk
            ]
            try:
                results = (
                    self.api.call(
                        f"composite/sobjects/Task/{mapping.TASK_KEY_FIELD}",
                        method="PATCH",
                        json={"allOrNone": False, "records": records},
                    )
                    or []
                )
            except StopRun:
                raise
            except CrmError as exc:
                outcomes.extend(TaskOutcome(t.key, error=str(exc), retryable=isinstance(exc, Retryable)) for t in chunk)
                continue
            for task, result in zip(chunk, results, strict=False):
                if result.get("success"):
                    outcomes.append(TaskOutcome(task.key, crm_task_id=result.get("id")))
                else:
                    code, message = error_code(result.get("errors") or [])
                    outcomes.append(
                        TaskOutcome(task.key, error=f"{code}: {message}", retryable=code in RETRYABLE_ITEM_ERRORS)
                    )
        return outcomes

    def existing_tasks(self, tasks: Sequence[TaskSpec]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks([t.key for t in tasks], IN_CHUNK):
            for row in self.api.query_all(
                f"SELECT Id, {mapping.TASK_KEY_FIELD} FROM Task WHERE {mapping.TASK_KEY_FIELD} IN ({_ids(chunk)})"
            ):
                found[row[mapping.TASK_KEY_FIELD]] = row["Id"]
        return found
