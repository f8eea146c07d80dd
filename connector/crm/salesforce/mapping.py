"""Salesforce Leads in canonical terms, and back. Pure: dicts in, canonical data out.

Salesforce keeps engagement as records of their own (completed Tasks, Events,
campaign responses), each with an id: a new one is an activity, seen once.
The lifecycle stage lives in a custom picklist (``Lifecycle_Stage__c`` by
default); the rep-facing ``Status`` carries the sales decisions (recycle,
disqualify) that the lifecycle policy reads as the lead status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connector.crm.base import Pulled
from connector.crm.mapped import Kind, MappedField, with_mapped
from connector.crm.naming import conversion_type
from connector.crm.values import (
    CanonicalValue,
    canonical_value,
    loose_text,
    one_line,
    plain_lines,
    read_field,
    required_text,
    text,
    whole_number,
)
from connector.model import Activity, CrmState, Stage, TaskSpec, format_time

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


@dataclass(frozen=True)
class HandoffField:
    """One of Handoff's fields on a Lead or Contact, as an admin creates it."""

    name: str
    kind: str  # number | text | lines | datetime
    definition: str
    #: characters the field keeps (text kinds)
    length: int = 255


#: Handoff's fields by canonical key
HANDOFF_FIELDS: dict[str, HandoffField] = {
    "score": HandoffField("Handoff_Score__c", "number", "Number(18, 0)"),
    "fit_grade": HandoffField("Handoff_Fit_Grade__c", "text", "Picklist: A, B, C, D"),
    "fit_score": HandoffField("Handoff_Fit_Points__c", "number", "Number(18, 0)"),
    "engagement_score": HandoffField("Handoff_Engagement_Points__c", "number", "Number(18, 0)"),
    "status": HandoffField("Handoff_Status__c", "text", "Picklist: lead, mql, sql, disqualified"),
    "reasons": HandoffField("Handoff_Reasons__c", "lines", "Long Text Area(32768)", 32768),
    "missing_info": HandoffField("Handoff_Missing_Info__c", "text", "Text(255)", 255),
    "rules_version": HandoffField("Handoff_Rules_Version__c", "text", "Text(80)", 80),
    "mql_at": HandoffField("Handoff_MQL_At__c", "datetime", "Date/Time"),
    "sql_at": HandoffField("Handoff_SQL_At__c", "datetime", "Date/Time"),
}
#: required and written only in shadow mode (HANDOFF_SHADOW_RULES): a candidate rules file's verdict
SHADOW_FIELDS: dict[str, HandoffField] = {
    "shadow_score": HandoffField("Handoff_Shadow_Score__c", "number", "Number(18, 0)"),
    "shadow_status": HandoffField("Handoff_Shadow_Status__c", "text", "Picklist: lead, mql, sql, disqualified"),
}
TASK_KEY_FIELD = "Handoff_Key__c"
TASK_KEY_DEFINITION = "Text(120), External ID, Unique (case sensitive)"
DEFAULT_STAGE_FIELD = "Lifecycle_Stage__c"
DEFAULT_STAGE_VALUES = {"lead": "Lead", "mql": "MQL", "sql": "SQL"}
#: characters a Task keeps in Subject and Description
TASK_SUBJECT = 255
TASK_DESCRIPTION = 32_000


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


def parse_sf_time(value: Any) -> datetime | None:
    """``2026-11-20T12:00:00.000+0000`` (REST) or a date ``2026-11-20`` as an aware UTC datetime; None when blank.

    Raises ValueError (or TypeError) for anything else.
    """
    written = text(value)
    if not written:
        return None
    if len(written) == 10:
        return datetime.fromisoformat(written).replace(tzinfo=UTC)
    return datetime.strptime(written, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


#: describe types -> the kind of canonical value a mapped field becomes (anything else is text)
FIELD_KINDS = {
    "int": Kind.NUMBER,
    "double": Kind.DECIMAL,
    "currency": Kind.DECIMAL,
    "percent": Kind.DECIMAL,
    "boolean": Kind.BOOLEAN,
    "date": Kind.DATE,
    "datetime": Kind.DATETIME,
    "picklist": Kind.CHOICE,
    "multipicklist": Kind.CHOICES,
}


def field_kind(described: Mapping[str, Any]) -> Kind:
    """The kind of a Lead or Contact field, from its entry in the object's describe."""
    return FIELD_KINDS.get(str(described.get("type")), Kind.TEXT)


def pulled(
    row: Mapping[str, Any], person: PersonObject, stage_field: StageField, mapped: Sequence[MappedField] = ()
) -> Pulled | None:
    """One Lead or Contact row in canonical form; None for a row in the recycle bin (nothing to score or write).

    ``mapped`` are the fields of the rules file's ``fields:`` section; they replace a built-in property of
    the same name. Raises (KeyError, TypeError, ValueError...) when the row cannot be read; the caller quarantines it.
    """
    if row.get("IsDeleted"):
        return None
    modified = read_field(row, "SystemModstamp", parse_sf_time)
    if modified is None:
        raise ValueError("SystemModstamp: missing")
    return Pulled(
        record_id=read_field(row, "Id", required_text),
        properties=with_mapped(canonical_properties(row, stage_field, person.fields), row, mapped),
        crm_state=crm_state(row, stage_field),
        modified_at=modified,
        counters={"opted_out": bool(row.get("HasOptedOutOfEmail"))},
        created_at=_when(row.get("CreatedDate")),
    )


def canonical_properties(
    lead: Mapping[str, Any], stage_field: StageField, fields: Mapping[str, str] = LEAD_FIELDS
) -> dict[str, Any]:
    """The canonical lead properties of a Lead or Contact (DESIGN.md 4.3), as clean values."""
    out: dict[str, CanonicalValue] = {}
    for canonical, name in fields.items():
        value = read_field(lead, name, whole_number if canonical == "company_size" else canonical_value)
        if value is not None:
            out[canonical] = value
    if isinstance(out.get("lead_source"), str):
        out["lead_source"] = str(out["lead_source"]).lower().replace(" ", "_")
    stage = stage_field.canonical(read_field(lead, stage_field.name, text), bool(lead.get("IsConverted")))
    if stage is not None:
        out["lifecycle_stage"] = stage.value
    return out


def crm_state(lead: Mapping[str, Any], stage_field: StageField) -> CrmState:
    name = " ".join(p for p in (read_field(lead, "FirstName", text), read_field(lead, "LastName", text)) if p) or None
    return CrmState(
        stage=stage_field.canonical(read_field(lead, stage_field.name, text), bool(lead.get("IsConverted"))),
        lead_status=read_field(lead, "Status", text),
        owner_id=read_field(lead, "OwnerId", text),
        name=name,
        company=read_field(lead, "Company", text),
    )


def write_values(properties: Mapping[str, str | None]) -> dict[str, Any]:
    """Handoff's canonical property values as Salesforce field values (numbers as numbers, "" as null)."""
    out: dict[str, Any] = {}
    for key, value in properties.items():
        spec = HANDOFF_FIELDS.get(key) or SHADOW_FIELDS[key]
        if not value:
            out[spec.name] = None
        elif spec.kind == "number":
            out[spec.name] = float(value)
        elif spec.kind == "lines":
            out[spec.name] = plain_lines(value, spec.length)
        elif spec.kind == "text":
            out[spec.name] = one_line(value, spec.length)
        else:
            out[spec.name] = value
    return out


def campaign_activity(member: Mapping[str, Any], fallback: datetime) -> Activity | None:
    """A campaign response as a canonical activity, by the campaign's type and name and the member status.

    A response to a web campaign named like a form ("Request a Demo", "Contact Sales")
    becomes that form submission, so the default rules' buying signals fire on it.
    Never raises: a date that cannot be read is ``fallback`` (when Handoff read it).
    """
    if not member.get("HasResponded"):
        return None
    campaign = member.get("Campaign")
    if not isinstance(campaign, Mapping):
        campaign = {}
    name = loose_text(campaign.get("Name")) or "Campaign"
    kind = (loose_text(campaign.get("Type")) or "").lower()
    status = (loose_text(member.get("Status")) or "").lower()
    at = _response_time(member, fallback)
    if kind == "webinar" or kind == "event":
        attended = "attend" in status
        return Activity("webinar_attendance" if attended else "webinar_registration", at, name=name)
    if kind == "content":
        return Activity("content_download", at, name=name)
    if kind == "email":
        return Activity("email_click", at, name=name)
    return Activity(conversion_type(name), at, name=name)


def _response_time(member: Mapping[str, Any], fallback: datetime) -> datetime:
    created = _when(member.get("CreatedDate")) or fallback
    responded = _when(member.get("FirstRespondedDate"))
    # FirstRespondedDate is a date: keep the creation time when it is the same day
    if responded is None or responded.date() == created.date():
        return created
    return responded


def task_activity(task: Mapping[str, Any], fallback: datetime) -> Activity | None:
    """A completed call logged against the lead; Handoff's own tasks and outbound emails are not interest."""
    if task.get(TASK_KEY_FIELD) or not task.get("IsClosed"):
        return None
    if (loose_text(task.get("Type")) or loose_text(task.get("TaskSubtype")) or "").lower() != "call":
        return None
    return Activity("call", _when(task.get("CreatedDate")) or fallback, name=loose_text(task.get("Subject")))


def event_activity(event: Mapping[str, Any], fallback: datetime) -> Activity:
    """An event with the lead is a meeting booked, dated when it was booked."""
    at = _when(event.get("CreatedDate")) or _when(event.get("StartDateTime")) or fallback
    return Activity("meeting_booked", at, name=loose_text(event.get("Subject")))


#: Handoff's priorities as Task Priority picklist values
TASK_PRIORITIES = {"HIGH": "High", "MEDIUM": "Normal", "LOW": "Low"}


def task_fields(task: TaskSpec) -> dict[str, Any]:
    """A rep task as Task fields (plain text); the due time goes to the reminder, the due date to ActivityDate."""
    fields: dict[str, Any] = {
        "attributes": {"type": "Task"},
        TASK_KEY_FIELD: task.key,
        "Subject": one_line(task.subject, TASK_SUBJECT),
        "Description": plain_lines(task.body, TASK_DESCRIPTION),
        "ActivityDate": task.due_at.astimezone(UTC).date().isoformat(),
        "ReminderDateTime": format_time(task.due_at),
        "IsReminderSet": True,
        "Priority": TASK_PRIORITIES[task.priority.value],
        "Status": "Not Started",
        "Type": "Call" if task.stage is Stage.SQL else "Email",
        "WhoId": task.record_id,
    }
    if task.owner_id:
        fields["OwnerId"] = task.owner_id
    return fields


def _when(value: Any) -> datetime | None:
    """A date or datetime that may be missing or unreadable (then None)."""
    try:
        return parse_sf_time(value)
    except (TypeError, ValueError, OverflowError):
        return None


#: describe types whose Bulk API 2.0 CSV text REST answers as a JSON number
_WHOLE_TYPES = frozenset({"int"})
_DECIMAL_TYPES = frozenset({"double", "currency", "percent"})


def rest_values(row: Mapping[str, str], types: Mapping[str, str]) -> dict[str, Any]:
    """A Bulk API 2.0 CSV row as the REST API answers the same row, by each field's describe type.

    CSV has text only: ``""`` is null, booleans are ``true``/``false``, numbers are digits and
    datetimes end in ``Z`` where REST writes ``+0000``. Text that does not read as its type is
    kept as text, so the record is quarantined the way the same value from REST would be.
    """
    out: dict[str, Any] = {}
    for name, cell in row.items():
        kind = types.get(name)
        if cell == "":
            out[name] = None
        elif kind == "boolean":
            out[name] = cell == "true" if cell in ("true", "false") else cell
        elif kind in _WHOLE_TYPES or kind in _DECIMAL_TYPES:
            out[name] = _number(cell, int if kind in _WHOLE_TYPES else float)
        elif kind == "datetime" and cell.endswith("Z"):
            out[name] = cell[:-1] + "+0000"
        else:
            out[name] = cell
    return out


def _number(text: str, kind: type[int] | type[float]) -> int | float | str:
    try:
        return kind(text)
    except ValueError:
        return text
