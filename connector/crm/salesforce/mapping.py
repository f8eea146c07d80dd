"""Salesforce Leads in canonical terms, and back. Pure: dicts in, canonical data out.

Salesforce keeps engagement as records of their own (completed Tasks, Events,
campaign responses), each with an id: a new one is an activity, seen once.
The lifecycle stage lives in a custom picklist (``Lifecycle_Stage__c`` by
default); the rep-facing ``Status`` carries the sales decisions (recycle,
disqualify) that the lifecycle policy reads as the lead status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.crm.naming import conversion_type
from connector.model import Activity, CrmState, Stage, format_time

#: canonical property -> Lead field
LEAD_FIELDS = {
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "job_title": "Title",
    "company": "Company",
    "company_size": "NumberOfEmployees",
    "industry": "Industry",
    "country": "Country",
    "lead_source": "LeadSource",
    "lead_status": "Status",
    "owner_id": "OwnerId",
    "budget": "Budget__c",
    "timeline": "Timeline__c",
    "need": "Need__c",
}
#: canonical property -> Contact field (a contact's company lives on its Account)
CONTACT_FIELDS = {
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "job_title": "Title",
    "country": "MailingCountry",
    "lead_source": "LeadSource",
    "owner_id": "OwnerId",
    "budget": "Budget__c",
    "timeline": "Timeline__c",
    "need": "Need__c",
}


@dataclass(frozen=True)
class PersonObject:
    """A Salesforce object Handoff scores: Leads, and optionally Contacts."""

    name: str
    prefix: str
    fields: Mapping[str, str]
    system_fields: tuple[str, ...]
    #: the CampaignMember field that points at this object
    member_field: str


LEAD = PersonObject(
    "Lead",
    "00Q",
    LEAD_FIELDS,
    ("Id", "IsConverted", "ConvertedContactId", "HasOptedOutOfEmail", "IsDeleted", "SystemModstamp", "CreatedDate"),
    "LeadId",
)
CONTACT = PersonObject(
    "Contact",
    "003",
    CONTACT_FIELDS,
    ("Id", "HasOptedOutOfEmail", "IsDeleted", "SystemModstamp", "CreatedDate"),
    "ContactId",
)
PERSON_OBJECTS = {"Lead": LEAD, "Contact": CONTACT}

#: Handoff's fields: canonical key -> (API name, type, the field definition an admin creates)
HANDOFF_FIELDS: dict[str, tuple[str, str, str]] = {
    "score": ("Handoff_Score__c", "number", "Number(18, 0)"),
    "fit_grade": ("Handoff_Fit_Grade__c", "text", "Picklist: A, B, C, D"),
    "fit_score": ("Handoff_Fit_Points__c", "number", "Number(18, 0)"),
    "engagement_score": ("Handoff_Engagement_Points__c", "number", "Number(18, 0)"),
    "status": ("Handoff_Status__c", "text", "Picklist: lead, mql, sql, disqualified"),
    "reasons": ("Handoff_Reasons__c", "text", "Long Text Area(32768)"),
    "missing_info": ("Handoff_Missing_Info__c", "text", "Text(255)"),
    "rules_version": ("Handoff_Rules_Version__c", "text", "Text(80)"),
    "mql_at": ("Handoff_MQL_At__c", "datetime", "Date/Time"),
    "sql_at": ("Handoff_SQL_At__c", "datetime", "Date/Time"),
}
TASK_KEY_FIELD = "Handoff_Key__c"
TASK_KEY_DEFINITION = "Text(120), External ID, Unique (case sensitive)"
DEFAULT_STAGE_FIELD = "Lifecycle_Stage__c"
DEFAULT_STAGE_VALUES = {"lead": "Lead", "mql": "MQL", "sql": "SQL"}


@dataclass(frozen=True)
class StageField:
    """Which Lead field holds the lifecycle stage, and which of its values mean what."""

    name: str = DEFAULT_STAGE_FIELD
    values: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_STAGE_VALUES))

    def canonical(self, value: str | None, converted: bool) -> Stage | None:
        if converted:
            return Stage.CUSTOMER  # a converted lead belongs to an account now: never touched
        if not value:
            return None
        for stage, picklist_value in self.values.items():
            if picklist_value == value:
                return Stage(stage)
        # a value Handoff does not own (Opportunity, Customer, a custom one): treat it as beyond
        return Stage.OTHER

    def value(self, stage: Stage) -> str:
        return self.values[stage.value]


def parse_sf_time(value: str | None) -> datetime | None:
    """``2026-11-20T12:00:00.000+0000`` (REST) or a date ``2026-11-20`` as an aware UTC datetime."""
    if not value:
        return None
    if len(value) == 10:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def soql_time(moment: datetime) -> str:
    """A SOQL datetime literal: unquoted, UTC, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def canonical_properties(
    lead: Mapping[str, Any], stage_field: StageField, fields: Mapping[str, str] = LEAD_FIELDS
) -> dict[str, Any]:
    """The canonical lead properties of a Lead or Contact (DESIGN.md 4.3)."""
    out: dict[str, Any] = {}
    for canonical, name in fields.items():
        value = lead.get(name)
        if value not in (None, ""):
            out[canonical] = value
    if isinstance(out.get("lead_source"), str):
        out["lead_source"] = out["lead_source"].strip().lower().replace(" ", "_")
    stage = stage_field.canonical(lead.get(stage_field.name), bool(lead.get("IsConverted")))
    if stage is not None:
        out["lifecycle_stage"] = stage.value
    return out


def crm_state(lead: Mapping[str, Any], stage_field: StageField) -> CrmState:
    name = " ".join(p for p in (lead.get("FirstName"), lead.get("LastName")) if p) or None
    return CrmState(
        stage=stage_field.canonical(lead.get(stage_field.name), bool(lead.get("IsConverted"))),
        lead_status=lead.get("Status") or None,
        owner_id=lead.get("OwnerId") or None,
        name=name,
        company=lead.get("Company") or None,
    )


def write_values(properties: Mapping[str, str | None]) -> dict[str, Any]:
    """Handoff's canonical property values as Salesforce field values (numbers as numbers, "" as null)."""
    out: dict[str, Any] = {}
    for key, value in properties.items():
        name, kind, _ = HANDOFF_FIELDS[key]
        if value in (None, ""):
            out[name] = None
        elif kind == "number":
            out[name] = float(value)
        else:
            out[name] = value
    return out


def campaign_activity(member: Mapping[str, Any]) -> Activity | None:
    """A campaign response as a canonical activity, by the campaign's type and name and the member status.

    A response to a web campaign named like a form ("Request a Demo", "Contact Sales")
    becomes that form submission, so the default rules' buying signals fire on it.
    """
    if not member.get("HasResponded"):
        return None
    campaign = member.get("Campaign") or {}
    name = campaign.get("Name") or "Campaign"
    kind = (campaign.get("Type") or "").lower()
    status = (member.get("Status") or "").lower()
    at = _response_time(member)
    if kind == "webinar" or kind == "event":
        attended = "attend" in status
        return Activity("webinar_attendance" if attended else "webinar_registration", at, name=name)
    if kind == "content":
        return Activity("content_download", at, name=name)
    if kind == "email":
        return Activity("email_click", at, name=name)
    return Activity(conversion_type(name), at, name=name)


def _response_time(member: Mapping[str, Any]) -> datetime:
    created = parse_sf_time(member.get("CreatedDate")) or datetime.now(UTC)
    responded = parse_sf_time(member.get("FirstRespondedDate"))
    # FirstRespondedDate is a date: keep the creation time when it is the same day
    if responded is None or responded.date() == created.date():
        return created
    return responded


def task_activity(task: Mapping[str, Any]) -> Activity | None:
    """A completed call logged against the lead; Handoff's own tasks and outbound emails are not interest."""
    if task.get(TASK_KEY_FIELD) or not task.get("IsClosed"):
        return None
    if (task.get("Type") or task.get("TaskSubtype") or "").lower() != "call":
        return None
    at = parse_sf_time(task.get("CreatedDate")) or datetime.now(UTC)
    return Activity("call", at, name=task.get("Subject") or None)


def event_activity(event: Mapping[str, Any]) -> Activity:
    """An event with the lead is a meeting booked, dated when it was booked."""
    at = parse_sf_time(event.get("CreatedDate")) or parse_sf_time(event.get("StartDateTime")) or datetime.now(UTC)
    return Activity("meeting_booked", at, name=event.get("Subject") or None)


def task_fields(
    key: str,
    record_id: str,
    owner_id: str | None,
    subject: str,
    body: str,
    due_at: datetime,
    priority: str,
    stage: Stage,
) -> dict[str, Any]:
    """A rep task as Task fields; the due time goes to the reminder, the due date to ActivityDate."""
    fields: dict[str, Any] = {
        "attributes": {"type": "Task"},
        TASK_KEY_FIELD: key,
        "Subject": subject[:255],
        "Description": body,
        "ActivityDate": due_at.astimezone(UTC).date().isoformat(),
        "ReminderDateTime": format_time(due_at),
        "IsReminderSet": True,
        "Priority": {"HIGH": "High", "MEDIUM": "Normal", "LOW": "Low"}[priority],
        "Status": "Not Started",
        "Type": "Call" if stage is Stage.SQL else "Email",
        "WhoId": record_id,
    }
    if owner_id:
        fields["OwnerId"] = owner_id
    return fields
