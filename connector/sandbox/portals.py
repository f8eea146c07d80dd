"""Drivers for the CRM sandboxes: the demo and the end-to-end tests speak to either CRM the same way.

A portal seeds leads, adds activity and acts as a rep, all in canonical terms,
and reads back what a rep would see: the stage, Handoff's fields, the tasks, the deals.

A rep's sales work, the same verbs for both CRMs: ``convert`` (the lead becomes an
opportunity: a HubSpot deal for the contact, a Salesforce conversion with an
Opportunity) answers the deal's id; ``close_deal(deal, won=...)``, ``reopen_deal``,
``delete_deal`` and ``complete_task`` act on it; ``deals(lead)`` reads them back.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from connector.config.settings import Settings
from connector.model import parse_time
from connector.sandbox.clock import ManualClock
from connector.sandbox.faults import Faults
from connector.sandbox.hubspot import HubSpotSandbox
from connector.sandbox.salesforce import SalesforceSandbox, sales

_HUBSPOT_REF = re.compile(r'data-handoff-ref="([^"]+)"')


@dataclass(frozen=True)
class TaskView:
    priority: str  # HIGH | MEDIUM | LOW
    owner_id: str | None
    subject: str
    body: str
    due_at: datetime
    id: str
    completed: bool


@dataclass(frozen=True)
class DealView:
    """A deal / opportunity as a rep sees it."""

    id: str
    amount: float | None
    closed: bool
    won: bool
    close_date: str | None  # YYYY-MM-DD


GOOD_FIT = {
    "first_name": "Ana",
    "last_name": "Ruiz",
    "email": "ana@acme.io",
    "job_title": "VP Engineering",
    "company": "Acme",
    "company_size": 250,
    "industry": "Software",
    "country": "DE",
}


class _Portal:
    """What both portals share: the sandbox, where it listens, its clock, its call counts and faults."""

    writes_counted: ClassVar[tuple[str, ...]] = ()

    def __init__(self, app: Any, base_url: str, clock: ManualClock):
        self.app = app
        self.base_url = base_url
        self.clock = clock

    def calls(self, label: str) -> int:
        return sum(self.app.stats.snapshot()["calls"].get(label, {}).values())

    def writes(self) -> int:
        """Write calls so far (what a dry run or a quiet cycle must not make)."""
        return sum(self.calls(label) for label in self.writes_counted)

    def set_faults(self, **faults: Any) -> None:
        self.app.faults.configure(Faults.from_json(faults))


class HubSpotPortal(_Portal):
    """The HubSpot sandbox, driven in canonical terms."""

    crm = "hubspot"
    recycle_status = "BAD_TIMING"
    reject_status = "UNQUALIFIED"
    #: a status a rep sets to reopen a rejected lead
    open_status = "OPEN"
    #: HubSpot only moves a stage back after a clear: two requests
    recycle_writes = 2
    writes_counted: ClassVar[tuple[str, ...]] = (
        "POST /crm/v3/objects/contacts/batch/update",
        "POST /crm/v3/objects/tasks/batch/create",
        "POST /crm/v3/properties/contacts",
        "POST /crm/v3/properties/contacts/groups",
        "PATCH /crm/v3/objects/contacts/{contactId}",
    )
    update_call: ClassVar[str] = "POST /crm/v3/objects/contacts/batch/update"
    _stages: ClassVar = {
        "lead": "lead",
        "mql": "marketingqualifiedlead",
        "sql": "salesqualifiedlead",
        "opportunity": "opportunity",
        "customer": "customer",
    }
    _fields: ClassVar = {
        "first_name": "firstname",
        "last_name": "lastname",
        "email": "email",
        "job_title": "jobtitle",
        "company": "company",
        "industry": "industry",
        "country": "country",
    }
    _sizes: ClassVar = ((5, "1-5"), (25, "5-25"), (50, "25-50"), (100, "50-100"), (500, "100-500"), (1000, "500-1000"))

    app: HubSpotSandbox

    def settings(self, state_url: str, rules: Path) -> Settings:
        """Handoff's settings for this portal (tasks re-created at once: the sandbox indexes without lag)."""
        return Settings(
            handoff_crm="hubspot",
            hubspot_access_token=self.app.config.token,
            hubspot_api_base=self.base_url,
            handoff_state_url=state_url,
            handoff_rules=rules,
            handoff_task_settle_seconds=0,
        )

    def env(self) -> dict[str, str]:
        """The environment a `handoff` process needs to reach this portal."""
        return {
            "HANDOFF_CRM": "hubspot",
            "HUBSPOT_ACCESS_TOKEN": self.app.config.token,
            "HUBSPOT_API_BASE": self.base_url,
        }

    def owner(self) -> str:
        return str(next(o["id"] for o in self.app.dump()["owners"] if o["type"] == "PERSON"))

    def seed(self, status: str = "NEW", **canonical: Any) -> str:
        values = {**GOOD_FIT, **canonical}
        props = {self._fields[k]: str(v) for k, v in values.items() if k in self._fields}
        props["numemployees"] = next((b for top, b in self._sizes if values["company_size"] <= top), "1000+")
        props.update({"lifecyclestage": "lead", "hs_lead_status": status, "hubspot_owner_id": self.owner()})
        return self.app.seed_contacts([{"properties": props}])[0]

    def activity(self, record_id: str, type: str, **fields: Any) -> None:
        at = fields.pop("at", self.clock.datetime())
        self.app.add_activities([{"contactId": record_id, "type": type, "at": at.isoformat(), **fields}])

    def rep_sets_status(self, record_id: str, status: str) -> None:
        self.app.touch(record_id, {"hs_lead_status": status})

    def rep_sets_stage(self, record_id: str, stage: str) -> None:
        self.app.touch(record_id, {"lifecyclestage": self._stages[stage]})

    def _props(self, record_id: str) -> dict[str, Any]:
        # one contact, not a dump of the portal: the demo asks about many contacts in turn
        contact = self.app.contact(record_id)
        if contact is None:
            raise KeyError(f"no contact {record_id}")
        return dict(contact["properties"])

    def stage(self, record_id: str) -> str | None:
        return self._canonical(self._props(record_id).get("lifecyclestage"))

    def _canonical(self, value: str | None) -> str | None:
        return next((k for k, v in self._stages.items() if v == value), value)

    def handoff(self, record_id: str) -> dict[str, Any]:
        props = self._props(record_id)
        keys = ("score", "fit_grade", "status", "reasons", "rules_version", "mql_at", "sql_at")
        return {k: props.get(f"handoff_{k}") for k in keys}

    def shadow(self, record_id: str) -> dict[str, Any]:
        """The shadow rules' score and level on the contact (shadow mode)."""
        props = self._props(record_id)
        return {k: props.get(f"handoff_shadow_{k}") for k in ("score", "status")}

    def tasks(self, record_id: str) -> list[TaskView]:
        return [
            TaskView(
                t["properties"]["hs_task_priority"],
                t["properties"].get("hubspot_owner_id"),
                t["properties"]["hs_task_subject"],
                t["properties"]["hs_task_body"],
                parse_time(t["properties"]["hs_timestamp"]),
                t["id"],
                t["properties"].get("hs_task_status") == "COMPLETED",
            )
            for t in self.app.associated(record_id, "tasks")
        ]

    def convert(self, record_id: str, amount: float | None = None) -> str:
        """A rep opens a deal for the contact (the lifecycle sync makes it an opportunity)."""
        return self.app.create_deal(record_id, amount=amount).id

    def close_deal(self, deal_id: str, won: bool = True) -> None:
        self.app.move_deal(deal_id, "won" if won else "lost")

    def reopen_deal(self, deal_id: str) -> None:
        self.app.move_deal(deal_id, "reopen")

    def delete_deal(self, deal_id: str) -> None:
        self.app.delete_deal(deal_id)

    def complete_task(self, task_id: str) -> None:
        self.app.set_task_status(task_id)

    def deals(self, record_id: str) -> list[DealView]:
        """The live deals of a contact."""
        return [
            DealView(
                d["id"],
                float(d["properties"]["amount"]) if d["properties"].get("amount") else None,
                d["properties"]["hs_is_closed"] == "true",
                d["properties"]["hs_is_closed_won"] == "true",
                (d["properties"].get("closedate") or "")[:10] or None,
            )
            for d in self.app.associated(record_id, "deals")
        ]

    def owner_of(self, record_id: str) -> str | None:
        return self._props(record_id).get("hubspot_owner_id")

    def reps(self) -> list[str]:
        """The owners who are people (not the queue), active or not."""
        return [str(o["id"]) for o in self.app.dump()["owners"] if o["type"] == "PERSON"]

    def unown(self, record_id: str) -> None:
        """Nobody owns the record any more (a form fill nobody has picked up)."""
        self.app.touch(record_id, {"hubspot_owner_id": ""})

    def deactivate(self, rep: str) -> None:
        """An admin deactivates the rep's user (HubSpot archives the owner)."""
        self.app.deactivate_owner(rep)

    def leave_daily_calls(self, calls: int) -> None:
        """Let the account make only ``calls`` more API calls today (the daily budget counts from now)."""
        self.app.configure(daily_limit=calls)

    def outcome(self) -> dict[str, tuple[Any, ...]]:
        """What reps see of every record: stage, Handoff's qualification and grade."""
        return {
            c["id"]: (
                self._canonical(c["properties"].get("lifecyclestage")),
                c["properties"].get("handoff_status"),
                c["properties"].get("handoff_fit_grade"),
            )
            for c in self.app.dump()["contacts"]
        }

    def task_keys(self) -> Counter[str]:
        """Every Handoff task by its idempotency key (a key counted twice is a duplicate task)."""
        return Counter(
            m.group(1)
            for t in self.app.dump()["tasks"]
            if (m := _HUBSPOT_REF.search(t["properties"].get("hs_task_body") or ""))
        )

    def funnel(self) -> Counter[str]:
        """Contacts per lifecycle stage (canonical names where Handoff has one)."""
        # one dump for all contacts: a dump per contact made the demo's funnel quadratic
        return Counter(
            self._canonical(c["properties"].get("lifecyclestage")) or "(none)" for c in self.app.dump()["contacts"]
        )

    def qualification(self) -> Counter[str]:
        """Contacts per Handoff qualification (lead, mql, sql, disqualified)."""
        return Counter(c["properties"].get("handoff_status") or "(unscored)" for c in self.app.dump()["contacts"])


class SalesforcePortal(_Portal):
    """The Salesforce sandbox, driven in canonical terms."""

    crm = "salesforce"
    recycle_status = "Recycled"
    reject_status = "Closed - Not Converted"
    open_status = "Open - Not Contacted"
    #: a custom picklist has no forward-only rule: a recycle is one write
    recycle_writes = 1
    update_call: ClassVar[str] = "PATCH /services/data/{version}/composite/sobjects"
    writes_counted: ClassVar[tuple[str, ...]] = (
        update_call,
        "PATCH /services/data/{version}/composite/sobjects/{sobject}/{field}",
        "POST /services/data/{version}/composite/sobjects",
        "PATCH /services/data/{version}/sobjects/{sobject}/{id}",
    )
    _stages: ClassVar = {"Lead": "lead", "MQL": "mql", "SQL": "sql"}
    _priorities: ClassVar = {"High": "HIGH", "Normal": "MEDIUM", "Low": "LOW"}

    app: SalesforceSandbox

    def settings(self, state_url: str, rules: Path) -> Settings:
        """Handoff's settings for this org, trusting the sandbox's throwaway CA (a query job is complete
        at once: it is polled at once)."""
        return Settings(
            handoff_crm="salesforce",
            salesforce_instance_url=self.base_url,
            salesforce_session_id=self.app.config.token,
            salesforce_ca_bundle=Path(self.app.ca_path),
            handoff_state_url=state_url,
            handoff_rules=rules,
            handoff_task_settle_seconds=0,
            handoff_salesforce_bulk_poll_seconds=0,
        )

    def env(self) -> dict[str, str]:
        """The environment a `handoff` process needs to reach this org."""
        return {
            "HANDOFF_CRM": "salesforce",
            "SALESFORCE_INSTANCE_URL": self.base_url,
            "SALESFORCE_SESSION_ID": self.app.config.token,
            "SALESFORCE_CA_BUNDLE": str(self.app.ca_path),
            "HANDOFF_SALESFORCE_BULK_POLL_SECONDS": "0",
        }

    def owner(self) -> str:
        return self.app.directory.reps[0]

    def seed(self, status: str = "Open - Not Contacted", **canonical: Any) -> str:
        values = {**GOOD_FIT, **canonical}
        return self.app.seed_leads(
            {
                "FirstName": values["first_name"],
                "LastName": values["last_name"],
                "Email": values["email"],
                "Title": values["job_title"],
                "Company": values["company"],
                "NumberOfEmployees": values["company_size"],
                "Industry": values["industry"],
                "Country": values["country"],
                "Status": status,
                "OwnerId": self.owner(),
                "Lifecycle_Stage__c": "Lead",
            }
        )[0]

    def activity(self, record_id: str, type: str, **fields: Any) -> None:
        at = fields.pop("at", self.clock.datetime())
        self.app.add_activities([{"leadId": record_id, "type": type, "at": at.isoformat(), **fields}])

    def rep_sets_status(self, record_id: str, status: str) -> None:
        self.app.touch(record_id, {"Status": status})

    def rep_sets_stage(self, record_id: str, stage: str) -> None:
        """A rep picks a stage (``lead``, ``mql``, ``sql``) or, for ``opportunity``, converts the lead."""
        if stage == "opportunity":
            self.app.touch(record_id, {"IsConverted": True, "Status": "Closed - Converted"})
            return
        value = next(v for v, canonical in self._stages.items() if canonical == stage)
        self.app.touch(record_id, {"Lifecycle_Stage__c": value})

    def _record(self, record_id: str) -> dict[str, Any]:
        found = self.app.org.get(record_id)
        assert found is not None, f"no record {record_id}"
        return dict(found.values)

    def stage(self, record_id: str) -> str | None:
        record = self._record(record_id)
        if record.get("IsConverted"):
            deal = self.app.org.get(record.get("ConvertedOpportunityId") or "")
            return "customer" if deal is not None and deal.values["IsWon"] else "opportunity"
        value = record.get("Lifecycle_Stage__c")
        return self._stages.get(value, value) if isinstance(value, str) else None

    def handoff(self, record_id: str) -> dict[str, Any]:
        record = self._record(record_id)
        names = {
            "score": "Handoff_Score__c",
            "fit_grade": "Handoff_Fit_Grade__c",
            "status": "Handoff_Status__c",
            "reasons": "Handoff_Reasons__c",
            "rules_version": "Handoff_Rules_Version__c",
            "mql_at": "Handoff_MQL_At__c",
            "sql_at": "Handoff_SQL_At__c",
        }
        return {k: _sf_value(record.get(v)) for k, v in names.items()}

    def shadow(self, record_id: str) -> dict[str, Any]:
        """The shadow rules' score and level on the lead (shadow mode)."""
        record = self._record(record_id)
        return {k: _sf_value(record.get(f"Handoff_Shadow_{k.title()}__c")) for k in ("score", "status")}

    def tasks(self, record_id: str) -> list[TaskView]:
        # a converted lead's tasks moved to its contact
        people = {record_id, self._record(record_id).get("ConvertedContactId")}
        return [
            TaskView(
                self._priorities[t["Priority"]],
                t.get("OwnerId"),
                t["Subject"],
                t.get("Description") or "",
                _sf_time(t["ReminderDateTime"]),
                t["Id"],
                t["IsClosed"],
            )
            for t in self.app.dump()["Task"]
            if t.get("WhoId") in people and t.get("Handoff_Key__c") and not t.get("IsDeleted")
        ]

    def convert(self, record_id: str, amount: float | None = None) -> str:
        """A rep converts the lead with an Opportunity."""
        lead = sales.convert_lead(self.app.org, record_id, opportunity_fields={"Amount": amount})
        return str(lead.values["ConvertedOpportunityId"])

    def close_deal(self, deal_id: str, won: bool = True) -> None:
        sales.move_opportunity(self.app.org, deal_id, "won" if won else "lost")

    def reopen_deal(self, deal_id: str) -> None:
        sales.move_opportunity(self.app.org, deal_id, "reopen")

    def delete_deal(self, deal_id: str) -> None:
        sales.delete_opportunity(self.app.org, deal_id)

    def complete_task(self, task_id: str) -> None:
        sales.set_task_status(self.app.org, task_id)

    def deals(self, record_id: str) -> list[DealView]:
        """The live Opportunity the lead was converted with, if any."""
        found = self.app.org.get(self._record(record_id).get("ConvertedOpportunityId") or "")
        if found is None or found.deleted:
            return []
        deal = found.values
        amount = deal["Amount"]
        return [DealView(deal["Id"], amount, deal["IsClosed"], deal["IsWon"], deal["CloseDate"])]

    def owner_of(self, record_id: str) -> str | None:
        return self._record(record_id).get("OwnerId")

    def reps(self) -> list[str]:
        """The users who are sales reps, active or not."""
        return list(self.app.directory.reps)

    def unown(self, record_id: str) -> None:
        """The lead sits in the inbound queue: no user owns it."""
        self.app.touch(record_id, {"OwnerId": self.app.directory.queue_id})

    def deactivate(self, rep: str) -> None:
        """An admin deactivates the rep's user."""
        self.app.touch(rep, {"IsActive": False})

    def leave_daily_calls(self, calls: int) -> None:
        """Let the org make only ``calls`` more API calls in this rolling day."""
        self.app.configure(daily_limit=self.app.stats.snapshot()["total"] + calls)

    def outcome(self) -> dict[str, tuple[Any, ...]]:
        """What reps see of every lead: stage, Handoff's qualification and grade."""
        return {
            r["Id"]: (self.stage(r["Id"]), r.get("Handoff_Status__c"), r.get("Handoff_Fit_Grade__c"))
            for r in self.app.dump()["Lead"]
            if not r.get("IsDeleted")
        }

    def task_keys(self) -> Counter[str]:
        """Every Handoff task by its idempotency key (a key counted twice is a duplicate task)."""
        return Counter(
            t["Handoff_Key__c"] for t in self.app.dump()["Task"] if t.get("Handoff_Key__c") and not t.get("IsDeleted")
        )

    def funnel(self) -> Counter[str]:
        """Leads per lifecycle stage; converted leads count as opportunity."""
        return Counter(self.stage(r["Id"]) or "(none)" for r in self.app.dump()["Lead"] if not r.get("IsDeleted"))

    def qualification(self) -> Counter[str]:
        """Leads per Handoff qualification (lead, mql, sql, disqualified)."""
        return Counter(
            r.get("Handoff_Status__c") or "(unscored)" for r in self.app.dump()["Lead"] if not r.get("IsDeleted")
        )


def _sf_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _sf_value(value: Any) -> Any:
    # datetimes read back in Salesforce's +0000 form; the tests compare them as ISO times
    if isinstance(value, str) and len(value) == 28 and value[10] == "T":
        return _sf_time(value).isoformat()
    return value
