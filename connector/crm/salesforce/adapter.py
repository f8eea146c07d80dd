"""The Salesforce adapter: Leads in, lifecycle stage, scores and Tasks out, through the REST API.

Every value in a SOQL statement goes through simple-salesforce's ``format_soql``,
which quotes and escapes strings, lists and datetimes; only field and object
names (from the org's own describe and Handoff's settings) are written in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from simple_salesforce.format import format_soql

from connector.crm.base import Cursors, Delta, Lookups, Pulled, PulledPage, TaskOutcome, TaskUpdate, WriteOutcome
from connector.crm.deals import DealMemory, Remembered, changes, deleted, remember_all
from connector.crm.errors import CrmError, Retryable, StopRun
from connector.crm.lookups import KeptLookups
from connector.crm.mapped import MappedField, missing_line
from connector.crm.outcomes import failed_tasks, failed_writes, task_outcome, write_outcome
from connector.crm.paging import Key, Window, chunks, keyset_pages
from connector.crm.reading import read_page
from connector.crm.salesforce import mapping
from connector.crm.salesforce import outcomes as outcome_mapping
from connector.crm.salesforce import tasks as task_mapping
from connector.crm.salesforce.transport import NO_AUTO_ASSIGN, QueryJobsSpent, SalesforceApi, item_error
from connector.crm.seen import SeenEngagements
from connector.model import Activity, TaskSpec
from connector.outcomes.events import OutcomeEvent
from connector.policy.escalation import TaskState
from connector.policy.planner import RecordPlan

log = structlog.get_logger(__name__)

PAGE = 2000
COLLECTION = 200
#: rows a Bulk API 2.0 results call returns: simple-salesforce holds a page's CSV three or four times
#: over while it decodes it, and 16,000 rows already added 25 MB to a backfill's peak RSS
BULK_PAGE = 10_000
SECOND = timedelta(seconds=1)
#: the kept lookups' names; a user's id starts with 005 (a queue's with 00G)
DESCRIBES_LOOKUP = "salesforce.describes"
USERS_LOOKUP = "salesforce.active_users"
#: the kept id of the user Handoff's session acts as (the LastModifiedById its writes leave)
IDENTITY_LOOKUP = "salesforce.identity"
#: the adapter's cursor: the end of the last window read in full (ISO)
READ_CURSOR = "salesforce.read_until"
USER_PREFIX = "005"
#: the counter holding the latest SystemModstamp of a person's engagement seen by a sync
ENGAGED_AT = "engaged_at"
#: the outcome reads' positions (SystemModstamp, ISO) and where they start on a first run
OPPORTUNITIES_CURSOR = "outcomes.opportunities"
CONVERSIONS_CURSOR = "outcomes.conversions"
TASKS_CURSOR = "outcomes.tasks"


def _second(moment: datetime) -> datetime:
    # SOQL datetime literals have whole seconds: paging works at that precision
    return moment.astimezone(UTC).replace(microsecond=0)


class SalesforceAdapter:
    """Reads Leads and writes Handoff's results back to one Salesforce org."""

    name = "salesforce"

    def __init__(
        self,
        api: SalesforceApi,
        clock: Callable[[], datetime],
        stage_field: mapping.StageField | None = None,
        objects: Sequence[mapping.PersonObject] = (mapping.LEAD,),
        page_size: int = PAGE,
        bulk_threshold: int = 0,
    ):
        self.api = api
        self.clock = clock
        self.stage_field = stage_field or mapping.StageField()
        self.objects = tuple(objects)
        self.page_size = page_size
        self.bulk_threshold = bulk_threshold
        self.users: set[str] = set()
        self._users_reread = False
        self._identity: str | None = None
        self._lookups = KeptLookups()
        self._fields: dict[str, list[str]] = {}
        #: the describe type of each field read, by object (what a Bulk API CSV row is read as)
        self._types: dict[str, dict[str, str]] = {}
        #: canonical name -> field API name, from the rules file's fields: section
        self.field_map: dict[str, str] = {}
        self._mapped: dict[str, tuple[MappedField, ...]] = {}
        #: shadow mode: the shadow fields are required too
        self.shadow = False

    def map_fields(self, fields: Mapping[str, str]) -> None:
        """Read these fields too (canonical name -> field API name) on every object; checked by ``start``."""
        self.field_map = dict(fields)

    def use_shadow(self) -> None:
        """Also require Handoff's shadow fields at start (shadow mode)."""
        self.shadow = True

    def _object_of(self, record_id: str) -> mapping.PersonObject:
        return next((o for o in self.objects if record_id.startswith(o.prefix)), self.objects[0])

    # ------------------------------------------------------------ start-up

    def keep_lookups(self, lookups: Lookups, max_age: timedelta) -> None:
        """Keep the describes and active users in ``lookups``; read them again once older than ``max_age``."""
        self._lookups.keep_in(lookups, max_age)

    def start(self, create_missing: bool = True) -> None:
        """Check that the org has Handoff's fields (Salesforce fields are created by an admin, not by us).

        The describes and users come from the kept lookups while they are young enough; a field
        the run needs that a kept describe lacks makes it describe the objects again.
        """
        described = self._lookups.read(
            DESCRIBES_LOOKUP, self._describes, usable=lambda kept: not any(self._lacking(kept))
        )
        missing, unmapped = self._lacking(described)
        if missing:
            raise StopRun(
                "the Salesforce org lacks fields Handoff needs; create them (README, Salesforce setup): "
                + "; ".join(missing)
            )
        if unmapped:
            raise StopRun(missing_line("the Salesforce org", unmapped))
        self.users = set(self._lookups.read(USERS_LOOKUP, self._active_users))
        self._users_reread = False
        log.info("salesforce ready", fields=len(self._fields), users=len(self.users))

    def _describes(self) -> dict[str, list[dict[str, Any]]]:
        """Each person object's and Task's fields: name and type."""
        return {
            name: [
                {"name": f["name"], "type": f.get("type")}
                for f in (self.api.call(f"sobjects/{name}/describe") or {}).get("fields", [])
            ]
            for name in (*(o.name for o in self.objects), "Task")
        }

    def _lacking(self, described: Mapping[str, list[dict[str, Any]]]) -> tuple[list[str], list[str]]:
        """Handoff's fields the org lacks and mapped fields it lacks; notes the fields to read on the way."""
        missing: list[str] = []
        unmapped: list[str] = []
        for person in self.objects:
            fields = described.get(person.name, [])
            names = {f["name"] for f in fields}
            self._mapped[person.name], lacking = _mapped_fields(self.field_map, fields)
            unmapped += [f"{person.name}.{name}" for name in lacking]
            if self.stage_field.name not in names:
                missing.append(
                    f"{person.name}.{self.stage_field.name} (Picklist: {', '.join(self.stage_field.values.values())})"
                )
            missing += [
                f"{person.name}.{spec.name} ({spec.definition})"
                for spec in (*mapping.HANDOFF_FIELDS.values(), *(mapping.SHADOW_FIELDS.values() if self.shadow else ()))
                if spec.name not in names
            ]
            wanted = [
                *person.system_fields,
                *person.fields.values(),
                self.stage_field.name,
                *(f.name for f in self._mapped[person.name]),
            ]
            self._fields[person.name] = [f for f in dict.fromkeys(wanted) if f in names]
            self._types[person.name] = {str(f["name"]): str(f.get("type")) for f in fields}
        if mapping.TASK_KEY_FIELD not in {f["name"] for f in described.get("Task", [])}:
            missing.append(f"Task.{mapping.TASK_KEY_FIELD} ({mapping.TASK_KEY_DEFINITION})")
        return missing, unmapped

    def _active_users(self) -> list[str]:
        return sorted(r["Id"] for r in self.api.query_all("SELECT Id FROM User WHERE IsActive = true"))

    def assignable(self, owner_id: str | None) -> bool:
        """Tasks go to active users; a queue (00G...) usually cannot own a Task.

        A user id the kept list does not know makes it read the active users again, once per cycle.
        """
        unknown = owner_id is not None and owner_id.startswith(USER_PREFIX) and owner_id not in self.users
        if unknown and not self._users_reread:
            self._users_reread = True
            self.users = set(self._lookups.read(USERS_LOOKUP, self._active_users, fresh=True))
        return owner_id is not None and owner_id in self.users

    # ------------------------------------------------------------- reading

    def changed_since(self, since: datetime, until: datetime, cursors: Cursors | None = None) -> Iterator[PulledPage]:
        """Leads (and contacts) whose record or whose engagement changed in [since, until], oldest first.

        Records are paged by (SystemModstamp, Id) through ``queryAll`` so deletions
        are seen; a new campaign response or logged call does not touch the record
        itself, so those objects are read for the same window and their people added.
        The first page of each object and the engagement reads go out together (one
        Composite call while they fit): a quiet cycle costs one call.
        Salesforce lists changes as they commit: there is no late window. ``cursors`` keep where
        the last full read ended: the part of the window before it (the sync's overlap, there for
        changes committed late) leaves out records Handoff's own user changed last, which that read
        saw already, so a record Handoff wrote is read back once. Kept users older than the
        lookups' age are read again.
        """
        if self._lookups.kept:
            self.users = set(self._lookups.read(USERS_LOOKUP, self._active_users))
        self._users_reread = False
        lower, upper = _second(since), _second(until)
        reread = self._not_own_reread(cursors, lower)
        sources = [_Query(self, self._select(person) + reread) for person in self.objects]
        engagement = self._engagement_queries(lower, upper)
        results = self.api.query_many([*(s.window_soql(lower, upper) for s in sources), *engagement])
        firsts, engaged = results[: len(sources)], self._engaged(results[len(sources) :])
        seen: set[str] = set()
        for source, first in zip(sources, firsts, strict=True):
            for rows in keyset_pages(_Primed(source, source.page(first)), lower, upper):
                seen.update(str(r.get("Id")) for r in rows)
                yield self._page(rows, engaged=engaged)
        extra = [i for i in engaged if i not in seen]
        for chunk in chunks(extra, PAGE):
            yield self._page(self._by_id(chunk), engaged=engaged)
        if cursors is not None:
            cursors.set(READ_CURSOR, upper.isoformat())

    def _not_own_reread(self, cursors: Cursors | None, lower: datetime) -> str:
        """A WHERE clause leaving out, before the last full read's end, what Handoff's own user changed last.

        Handoff's writes are done when their call returns, after the cycle that made them fixed its
        window, so each is read (once) past that end; what other users commit late is still read again.
        """
        kept = cursors.get(READ_CURSOR) if cursors is not None else None
        if not kept or datetime.fromisoformat(kept) <= lower:
            return ""
        own = self._own_user()
        if not own:
            return ""
        return format_soql(" WHERE (SystemModstamp >= {} OR LastModifiedById != {})", datetime.fromisoformat(kept), own)

    def _own_user(self) -> str:
        """The id of the user this session acts as, from the Identity URL (kept like the other lookups)."""
        if self._identity is None:
            self._identity = str(self._lookups.read(IDENTITY_LOOKUP, self._identity_user))
        return self._identity

    def _identity_user(self) -> str:
        identity = str((self.api.call("") or {}).get("identity") or "")
        return identity.rstrip("/").rsplit("/", 1)[-1] if "/id/" in identity else ""

    def _select(self, person: mapping.PersonObject) -> str:
        return f"SELECT {', '.join(self._fields[person.name])} FROM {person.name}"

    def _engagement_queries(self, lower: datetime, upper: datetime) -> list[str]:
        """Closed Tasks, Events and campaign responses changed in the window, with whom they concern."""
        window = format_soql("SystemModstamp >= {} AND SystemModstamp <= {}", lower, upper)
        members = ", ".join(o.member_field for o in self.objects)
        return [
            f"SELECT WhoId, SystemModstamp FROM Task WHERE {window} AND IsClosed = true",
            f"SELECT WhoId, SystemModstamp FROM Event WHERE {window}",
            f"SELECT {members}, SystemModstamp FROM CampaignMember WHERE {window} AND HasResponded = true",
        ]

    def _engaged(self, results: Sequence[Sequence[Mapping[str, Any]]]) -> dict[str, str]:
        """The people the engagement rows concern, and the latest SystemModstamp of their engagement."""
        prefixes = tuple(o.prefix for o in self.objects)
        latest: dict[str, str] = {}
        for rows in results:
            for row in rows:
                stamp = str(row.get("SystemModstamp") or "")
                for key in ("WhoId", *(o.member_field for o in self.objects)):
                    person_id = row.get(key)
                    if isinstance(person_id, str) and person_id.startswith(prefixes):
                        latest[person_id] = max(stamp, latest.get(person_id, ""))
        return latest

    def _by_id(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for person in self.objects:
            mine = [i for i in ids if i.startswith(person.prefix)]
            rows += self.api.query_in(self._select(person) + " WHERE Id", mine)
        return rows

    def scan(self, resume: str | None) -> Iterator[PulledPage]:
        """Every live Lead (then Contact) in Id order, resumable from ``<Object>:<last Id>``.

        When more than ``bulk_threshold`` (0: never) records of an object are left after its first
        page (one ``COUNT()`` query tells), the rest comes from one Bulk API 2.0 query job: a
        results call holds 10,000 rows where a REST page holds 2,000. When the day's query jobs are
        spent, REST pages read on.
        """
        start_object, _, last = (resume or "").partition(":")
        names = [o.name for o in self.objects]
        first = names.index(start_object) if start_object in names else 0
        for person in self.objects[first:]:
            last = last if person.name == start_object else ""
            counted = False
            while True:
                rows = self._rows(
                    "query/", self._live(person, last) + format_soql(" ORDER BY Id LIMIT {}", self.page_size)
                )
                if not rows:
                    break
                last = str(rows[-1]["Id"])
                yield self._page(rows, resume=f"{person.name}:{last}")
                if len(rows) < self.page_size:
                    break
                if not counted and self.bulk_threshold and self._left(person, last) > self.bulk_threshold:
                    try:
                        yield from self._bulk_scan(person, last)
                        break
                    except QueryJobsSpent as spent:  # refused at creation, before any row: REST reads on
                        log.warning("salesforce bulk query jobs spent, reading by REST", reason=str(spent))
                counted = True

    def _live(self, person: mapping.PersonObject, after: str) -> str:
        """The scan's query of ``person`` records after the Id ``after`` (no order, no limit)."""
        # SOQL rejects an empty id literal, so the first page has no lower bound on Id
        return self._select(person) + " WHERE IsDeleted = false" + (format_soql(" AND Id > {}", after) if after else "")

    def _left(self, person: mapping.PersonObject, after: str) -> int:
        soql = format_soql(f"SELECT COUNT() FROM {person.name} WHERE IsDeleted = false AND Id > {{}}", after)
        return int((self.api.call("query/", params={"q": soql}) or {}).get("totalSize") or 0)

    def _bulk_scan(self, person: mapping.PersonObject, after: str) -> Iterator[PulledPage]:
        """The ``person`` records after the Id ``after`` from a Bulk API 2.0 query job, in pages of ``page_size``.

        A job's rows come in no set order (Salesforce advises against ORDER BY, which stops it
        splitting the job), so only the last page resumes, past the highest Id read.
        """
        types = self._types[person.name]
        rows = (
            mapping.rest_values(row, types)
            for row in self.api.bulk_rows(person.name, self._live(person, after), BULK_PAGE)
        )
        highest = after
        held: list[dict[str, Any]] | None = None
        for batch in chunks(rows, self.page_size):
            highest = max(highest, *(str(r["Id"]) for r in batch))
            if held is not None:
                yield self._page(held)
            held = batch
        if held is not None:
            yield self._page(held, resume=f"{person.name}:{highest}")

    def _rows(self, endpoint: str, soql: str) -> list[dict[str, Any]]:
        """One page of a query (a LIMIT within Salesforce's batch size comes back whole)."""
        return list((self.api.call(endpoint, params={"q": soql}) or {}).get("records", []))

    def read(self, record_ids: Sequence[str]) -> list[Pulled]:
        found: list[Pulled] = []
        for chunk in chunks(record_ids, PAGE):
            found.extend(self._page(self._by_id(chunk)).records)
        return found

    def _page(
        self, rows: Sequence[Mapping[str, Any]], resume: str | None = None, engaged: Mapping[str, str] | None = None
    ) -> PulledPage:
        """Rows in canonical form; the latest change to the engagement of those in ``engaged`` joins their counters.

        A new Task, Event or campaign response does not touch the person's own record: with its time in
        the counters, a person read again whose counters are as stored has nothing new to read.
        """

        def pulled(row: Mapping[str, Any]) -> Pulled | None:
            record = self._pulled(row, self._object_of(str(row["Id"])))
            if record is None or not engaged or record.record_id not in engaged:
                return record
            return replace(record, counters={**record.counters, ENGAGED_AT: engaged[record.record_id]})

        return read_page(rows, pulled, "Id", resume=resume)

    def _pulled(self, row: Mapping[str, Any], person: mapping.PersonObject) -> Pulled | None:
        return mapping.pulled(row, person, self.stage_field, self._mapped.get(person.name, ()))

    def activities(self, records: Sequence[Pulled], previous: Mapping[str, Mapping[str, Any]]) -> dict[str, Delta]:
        """Completed calls, meetings and campaign responses not seen before, plus a new email opt-out."""
        found: dict[str, list[tuple[str, Activity | None]]] = {r.record_id: [] for r in records}
        fallback = self.clock()
        people = list(found)
        task = "SELECT Id, WhoId, Subject, Type, TaskSubtype, IsClosed, CreatedDate, {} FROM Task WHERE WhoId"
        closed = " AND IsClosed = true AND IsDeleted = false"
        reads = [
            _Engagements(soql, "WhoId", mapping.task_activity)
            for soql in self.api.in_queries(task.format(mapping.TASK_KEY_FIELD), people, closed)
        ]
        event = "SELECT Id, WhoId, Subject, StartDateTime, CreatedDate FROM Event WHERE WhoId"
        reads += [
            _Engagements(soql, "WhoId", mapping.event_activity)
            for soql in self.api.in_queries(event, people, " AND IsDeleted = false")
        ]
        for person in self.objects:
            member = person.member_field
            campaign = (
                f"SELECT Id, {member}, Status, HasResponded, FirstRespondedDate, CreatedDate, "
                f"Campaign.Name, Campaign.Type FROM CampaignMember WHERE {member}"
            )
            mine = [i for i in people if i.startswith(person.prefix)]
            reads += [
                _Engagements(soql, member, mapping.campaign_activity)
                for soql in self.api.in_queries(campaign, mine, " AND HasResponded = true AND IsDeleted = false")
            ]
        # the three kinds go out together: five queries to a Composite call
        for read, rows in zip(reads, self.api.query_many([r.soql for r in reads]), strict=True):
            for row in rows:
                _add(found, row.get(read.person_field), row, read.activity(row, fallback))
        deltas: dict[str, Delta] = {}
        for record in records:
            before = previous.get(record.record_id) or {}
            seen = SeenEngagements(before)
            engagements = dict(found[record.record_id])
            # every engagement read here is final (closed, responded): remembered even when it is no interest
            activities = [a for i in seen.new(engagements) if (a := engagements[i]) is not None]
            if record.counters.get("opted_out") and not before.get("opted_out"):
                activities.append(Activity("unsubscribe", record.modified_at))
            deltas[record.record_id] = Delta(activities, seen.counters(record.counters))
        return deltas

    # ------------------------------------------------------------- writing

    def write(self, plans: Sequence[RecordPlan]) -> list[WriteOutcome]:
        """Update Leads 200 at a time with assignment rules off; per-record outcomes.

        A custom picklist has no forward-only rule, so a recycle is one plain write.
        """
        outcomes: list[WriteOutcome] = []
        for chunk in chunks([p for p in plans if p.has_write], COLLECTION):
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
            keys = [p.record_id for p in chunk]
            try:
                results = self._collection("composite/sobjects", records, headers=NO_AUTO_ASSIGN)
            except CrmError as exc:
                outcomes.extend(failed_writes(keys, exc))
                continue
            outcomes.extend(write_outcome(k, _item_error(r)) for k, r in _each(keys, results))
        done = {o.record_id: o for o in outcomes}
        return [done.get(p.record_id) or WriteOutcome(p.record_id) for p in plans]

    def _collection(self, path: str, records: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
        """One sObject Collections PATCH (partial success allowed); its results, one per record in order."""
        body = {"allOrNone": False, "records": records}
        results = self.api.call(path, method="PATCH", json=body, **kwargs)
        return results if isinstance(results, list) else []

    # --------------------------------------------------------------- tasks

    def create_tasks(self, tasks: Sequence[TaskSpec]) -> list[TaskOutcome]:
        """Upsert Tasks by their idempotency key: a retried call can never make a second Task."""
        outcomes: list[TaskOutcome] = []
        for chunk in chunks(tasks, COLLECTION):
            keys = [t.key for t in chunk]
            try:
                results = self._collection(
                    f"composite/sobjects/Task/{mapping.TASK_KEY_FIELD}", [mapping.task_fields(t) for t in chunk]
                )
            except CrmError as exc:
                outcomes.extend(failed_tasks(keys, exc))
                continue
            outcomes.extend(task_outcome(k, _created_id(r), _item_error(r)) for k, r in _each(keys, results))
        return outcomes

    def outcomes(self, until: datetime, cursors: Cursors) -> Iterator[Sequence[OutcomeEvent]]:
        """Opportunities (opened, won, lost, reopened, deleted), conversions without one, Handoff's closed Tasks.

        Each is read by SystemModstamp keyset since its own cursor, up to ``until``; the first pages of
        the three go out together (one Composite call), so a quiet read costs one call. Opportunities
        come through ``queryAll`` so deletions are seen; an Opportunity is traced to its Lead by
        ``ConvertedOpportunityId``. Lead statuses are the sync's.
        """
        # the second ``until`` falls in may still get changes after this read: it is read next time
        upper = _second(until) - SECOND
        sources = {
            OPPORTUNITIES_CURSOR: _Query(
                self, "SELECT {} FROM Opportunity".format(", ".join(outcome_mapping.OPPORTUNITY_FIELDS))
            ),
            CONVERSIONS_CURSOR: _Query(
                self,
                "SELECT {} FROM Lead WHERE IsConverted = true AND ConvertedOpportunityId = null".format(
                    ", ".join(outcome_mapping.CONVERSION_FIELDS)
                ),
            ),
            TASKS_CURSOR: _Query(
                self,
                "SELECT {} FROM Task WHERE {} != null AND IsClosed = true AND IsDeleted = false".format(
                    ", ".join(outcome_mapping.TASK_FIELDS), mapping.TASK_KEY_FIELD
                ),
            ),
        }
        lowers = {name: lower for name in sources if (lower := self._outcome_window(name, upper, cursors)) is not None}
        firsts = self.api.query_many([sources[name].window_soql(lower, upper) for name, lower in lowers.items()])
        primed = {
            name: _Primed(sources[name], sources[name].page(rows)) for name, rows in zip(lowers, firsts, strict=True)
        }
        if OPPORTUNITIES_CURSOR in primed:
            yield from self._opportunity_outcomes(
                primed[OPPORTUNITIES_CURSOR], lowers[OPPORTUNITIES_CURSOR], upper, cursors
            )
        for name, read in ((CONVERSIONS_CURSOR, outcome_mapping.conversion), (TASKS_CURSOR, outcome_mapping.touched)):
            if name in primed:
                yield from self._keyset_events(name, primed[name], lowers[name], upper, cursors, read)

    def _outcome_window(self, name: str, upper: datetime, cursors: Cursors) -> datetime | None:
        kept = cursors.get(name)
        lower = datetime.fromisoformat(kept) if kept else datetime(2000, 1, 1, tzinfo=UTC)
        return lower if lower <= upper else None

    def _opportunity_outcomes(
        self, source: _Primed, lower: datetime, upper: datetime, cursors: Cursors
    ) -> Iterator[list[OutcomeEvent]]:
        memory = DealMemory(cursors)
        for rows in keyset_pages(source, lower, upper):
            leads = self._converted_from([str(r["Id"]) for r in rows if not r.get("IsDeleted") and r.get("Id")])
            events: list[OutcomeEvent] = []
            remembered: list[tuple[str, Remembered]] = []
            for row in rows:
                try:
                    deal_id = str(row["Id"])
                    before = memory.get(deal_id)
                    if row.get("IsDeleted") is True:
                        told, kept = deleted(deal_id, outcome_mapping.modified_at(row), before)
                    else:
                        told, kept = changes(outcome_mapping.opportunity_read(row, leads.get(deal_id, ())), before)
                except Exception as exc:
                    log.warning(
                        "unreadable opportunity skipped", opportunity=str(row.get("Id")), error=type(exc).__name__
                    )
                    continue
                events.extend(told)
                if kept is not None:
                    remembered.append((deal_id, kept))
            if events:
                yield events
            remember_all(memory, remembered)
            cursors.set(OPPORTUNITIES_CURSOR, source.source.last_stamp(rows, lower).isoformat())
        cursors.set(OPPORTUNITIES_CURSOR, (upper + SECOND).isoformat())

    def _converted_from(self, opportunity_ids: list[str]) -> dict[str, tuple[str, ...]]:
        """Opportunity id -> the Leads converted into it."""
        found: dict[str, list[str]] = {}
        soql = "SELECT Id, ConvertedOpportunityId FROM Lead WHERE ConvertedOpportunityId"
        for row in self.api.query_in(soql, opportunity_ids):
            found.setdefault(str(row["ConvertedOpportunityId"]), []).append(str(row["Id"]))
        return {k: tuple(v) for k, v in found.items()}

    def _keyset_events(
        self,
        name: str,
        source: _Primed,
        lower: datetime,
        upper: datetime,
        cursors: Cursors,
        read: Callable[[Mapping[str, Any]], OutcomeEvent | None],
    ) -> Iterator[list[OutcomeEvent]]:
        """Rows of ``source`` changed in [lower, upper], each read into at most one event; the cursor ``name`` follows."""
        for rows in keyset_pages(source, lower, upper):
            events: list[OutcomeEvent] = []
            for row in rows:
                try:
                    event = read(row)
                except Exception as exc:
                    log.warning("unreadable outcome row skipped", row=str(row.get("Id")), error=type(exc).__name__)
                    continue
                if event is not None:
                    events.append(event)
            if events:
                yield events
            cursors.set(name, source.source.last_stamp(rows, lower).isoformat())
        cursors.set(name, (upper + SECOND).isoformat())

    def existing_tasks(self, tasks: Sequence[TaskSpec]) -> dict[str, str]:
        found: dict[str, str] = {}
        key = mapping.TASK_KEY_FIELD
        for row in self.api.query_in(f"SELECT Id, {key} FROM Task WHERE {key}", [t.key for t in tasks]):
            found[row[mapping.TASK_KEY_FIELD]] = row["Id"]
        return found

    def task_states(self, crm_task_ids: Sequence[str]) -> dict[str, TaskState]:
        """Tasks by Id (as many an IN clause as one URI holds); deleted ones are left out."""
        found: dict[str, TaskState] = {}
        select = ", ".join(task_mapping.TASK_STATE_FIELDS)
        for row in self.api.query_in(f"SELECT {select} FROM Task WHERE Id", crm_task_ids, " AND IsDeleted = false"):
            state = task_mapping.task_state(row)
            found[state.crm_task_id] = state
        return found

    def update_tasks(self, updates: Sequence[TaskUpdate]) -> list[TaskOutcome]:
        """Set Task owners and priorities through sObject Collections (200 a call), assignment rules off."""
        outcomes: list[TaskOutcome] = []
        for chunk in chunks(list(updates), COLLECTION):
            keys = [u.key for u in chunk]
            try:
                results = self._collection(
                    "composite/sobjects", [task_mapping.update_fields(u) for u in chunk], headers=NO_AUTO_ASSIGN
                )
            except CrmError as exc:
                outcomes.extend(failed_tasks(keys, exc))
                continue
            ids = {u.key: u.crm_task_id for u in chunk}
            outcomes.extend(task_outcome(k, ids[k], _item_error(r)) for k, r in _each(keys, results))
        return outcomes


def _mapped_fields(
    field_map: Mapping[str, str], described: Sequence[Mapping[str, Any]]
) -> tuple[tuple[MappedField, ...], list[str]]:
    """The mapped fields an object has, with their kinds, and the names it lacks.

    Salesforce field names ignore case: a mapping may write ``occupation__c``, the field is read by
    the spelling describe gives (the one query results carry).
    """
    by_name = {str(f.get("name", "")).lower(): f for f in described}
    found: list[MappedField] = []
    lacking: list[str] = []
    for canonical, name in field_map.items():
        field = by_name.get(name.lower())
        if field is None:
            lacking.append(name)
        else:
            found.append(MappedField(canonical, str(field["name"]), mapping.field_kind(field)))
    return tuple(found), lacking


@dataclass(frozen=True)
class _Query:
    """A ``queryAll`` as a keyset source: stamps are SystemModstamp seconds, ids are Ids.

    ``select`` may end in a WHERE clause of its own; the window's conditions are added to it.
    """

    adapter: SalesforceAdapter
    select: str

    def _where(self) -> str:
        return " AND " if " WHERE " in self.select else " WHERE "

    def window_soql(self, lower: datetime, upper: datetime) -> str:
        """The query of ``window``: the first page of rows in [lower, upper] by (SystemModstamp, Id)."""
        return (
            self.select
            + self._where()
            + format_soql(
                "SystemModstamp >= {} AND SystemModstamp <= {} ORDER BY SystemModstamp, Id LIMIT {}",
                lower,
                upper,
                self.adapter.page_size,
            )
        )

    def window(self, lower: datetime, upper: datetime) -> Window[dict[str, Any]]:
        return self._window(self.window_soql(lower, upper))

    def tie(self, stamp: datetime, after: str | None) -> Window[dict[str, Any]]:
        soql = (
            self.select
            + self._where()
            + format_soql("SystemModstamp >= {} AND SystemModstamp < {}", stamp, stamp + SECOND)
        )
        if after is not None:
            soql += format_soql(" AND Id > {}", after)
        return self._window(soql + format_soql(" ORDER BY Id LIMIT {}", self.adapter.page_size))

    def _window(self, soql: str) -> Window[dict[str, Any]]:
        return self.page(self.adapter._rows("queryAll/", soql))

    def page(self, rows: Sequence[dict[str, Any]]) -> Window[dict[str, Any]]:
        """Rows of one of its queries as a window: a full page says there may be more."""
        return Window(rows, more=len(rows) >= self.adapter.page_size)

    def key(self, row: Mapping[str, Any]) -> Key[datetime, str] | None:
        try:
            modified = mapping.parse_sf_time(row["SystemModstamp"])
            return Key(_second(modified), str(row["Id"])) if modified is not None else None
        except Exception:
            return None

    def next_stamp(self, stamp: datetime) -> datetime:
        return stamp + SECOND

    def last_stamp(self, rows: Sequence[Mapping[str, Any]], floor: datetime) -> datetime:
        """The latest stamp of a page: where a read stopped after it resumes (its rows come again, harmlessly)."""
        return max([floor, *(key.stamp for key in map(self.key, rows) if key is not None)])


@dataclass(frozen=True)
class _Engagements:
    """One query of engagement rows: whom each row concerns, and how it reads as an activity."""

    soql: str
    person_field: str
    activity: Callable[[Mapping[str, Any], datetime], Activity | None]


@dataclass
class _Primed:
    """A keyset source whose first window was read already (with the cycle's other first reads)."""

    source: _Query
    first: Window[dict[str, Any]] | None

    def window(self, lower: datetime, upper: datetime) -> Window[dict[str, Any]]:
        first, self.first = self.first, None
        return first if first is not None else self.source.window(lower, upper)

    def tie(self, stamp: datetime, after: str | None) -> Window[dict[str, Any]]:
        return self.source.tie(stamp, after)

    def key(self, row: Mapping[str, Any]) -> Key[datetime, str] | None:
        return self.source.key(row)

    def next_stamp(self, stamp: datetime) -> datetime:
        return self.source.next_stamp(stamp)


def _each(keys: Sequence[str], results: Sequence[Any]) -> Iterator[tuple[str, Any]]:
    """Each key with its result (results come back in request order); a missing result is None."""
    for i, key in enumerate(keys):
        yield key, results[i] if i < len(results) else None


def _item_error(result: Any) -> CrmError | None:
    if not isinstance(result, Mapping):
        return Retryable("Salesforce returned no result for this record")
    return None if result.get("success") else item_error(result.get("errors") or [])


def _created_id(result: Any) -> str | None:
    return str(result["id"]) if isinstance(result, Mapping) and result.get("id") else None


def _add(
    found: dict[str, list[tuple[str, Activity | None]]],
    person_id: Any,
    row: Mapping[str, Any],
    activity: Activity | None,
) -> None:
    if person_id in found and row.get("Id"):
        found[person_id].append((str(row["Id"]), activity))
