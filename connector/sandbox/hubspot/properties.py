"""Property definitions and groups of the sandbox portal, and how written values are checked.

Definitions render in the shape of HubSpot's recorded ``/crm/v3/schemas/CONTACT`` reply:
HubSpot-defined properties carry ``hubspotDefined``; portal-made (custom) ones carry
``createdUserId``/``updatedUserId``/``archived``/``showCurrencySymbol`` instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from connector.model import format_time
from connector.sandbox.hubspot.pipelines import DEAL_PIPELINES, LEAD_PIPELINES, Pipeline

#: the user the sandbox says made portal-defined properties (a HubSpot user id)
SANDBOX_USER_ID = "9586504"

TYPES = frozenset({"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"})
FIELD_TYPES = frozenset(
    {
        "booleancheckbox",
        "calculation_equation",
        "checkbox",
        "date",
        "file",
        "html",
        "number",
        "phonenumber",
        "radio",
        "select",
        "text",
        "textarea",
    }
)

LIFECYCLE_STAGES = (
    ("subscriber", "Subscriber"),
    ("lead", "Lead"),
    ("marketingqualifiedlead", "Marketing Qualified Lead"),
    ("salesqualifiedlead", "Sales Qualified Lead"),
    ("opportunity", "Opportunity"),
    ("customer", "Customer"),
    ("evangelist", "Evangelist"),
    ("other", "Other"),
)
LEAD_STATUSES = (
    ("NEW", "New"),
    ("OPEN", "Open"),
    ("IN_PROGRESS", "In Progress"),
    ("OPEN_DEAL", "Open Deal"),
    ("UNQUALIFIED", "Unqualified"),
    ("ATTEMPTED_TO_CONTACT", "Attempted to Contact"),
    ("CONNECTED", "Connected"),
    ("BAD_TIMING", "Bad Timing"),
)
ANALYTICS_SOURCES = (
    ("ORGANIC_SEARCH", "Organic Search"),
    ("PAID_SEARCH", "Paid Search"),
    ("EMAIL_MARKETING", "Email Marketing"),
    ("SOCIAL_MEDIA", "Organic Social"),
    ("REFERRALS", "Referrals"),
    ("OTHER_CAMPAIGNS", "Other Campaigns"),
    ("DIRECT_TRAFFIC", "Direct Traffic"),
    ("OFFLINE", "Offline Sources"),
    ("PAID_SOCIAL", "Paid Social"),
)
EMPLOYEE_BUCKETS = ("1-5", "5-25", "25-50", "50-100", "100-500", "500-1000", "1000+")
BOOL_OPTIONS = (("true", "True"), ("false", "False"))


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    display_order: int
    hidden: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "displayOrder": self.display_order, "hidden": self.hidden}


def options(pairs: Iterable[tuple[str, str]]) -> tuple[Option, ...]:
    """Options from (value, label) pairs, in display order."""
    return tuple(Option(value, label, i) for i, (value, label) in enumerate(pairs))


@dataclass(frozen=True, slots=True)
class PropertyDef:
    """One property definition of one object type."""

    name: str
    label: str
    type: str
    field_type: str
    group: str
    options: tuple[Option, ...] = ()
    read_only_value: bool = False
    calculated: bool = False
    hubspot_defined: bool = True
    unique: bool = False
    external_options: bool = False
    referenced_object_type: str | None = None
    description: str = ""
    display_order: int = -1
    form_field: bool = False
    created_at: str = "2019-08-06T02:41:09.102Z"
    updated_at: str = "2019-10-14T20:45:43.132Z"
    archived: bool = False
    option_values: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "option_values", frozenset(o.value for o in self.options))

    @property
    def is_multi(self) -> bool:
        """A multi-select enumeration: values joined with ``;``."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def rank(self, value: str) -> int:
        """Position of an option (its display order), -1 for an unknown one."""
        for option in self.options:
            if option.value == value:
                return option.display_order
        return -1

    def to_json(self) -> dict[str, Any]:
        """The Property shape HubSpot sends."""
        out: dict[str, Any] = {
            "updatedAt": self.updated_at,
            "createdAt": self.created_at,
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": [o.to_json() for o in self.options],
        }
        if self.referenced_object_type:
            out["referencedObjectType"] = self.referenced_object_type
        if not self.hubspot_defined:
            out["createdUserId"] = SANDBOX_USER_ID
            out["updatedUserId"] = SANDBOX_USER_ID
        out["displayOrder"] = self.display_order
        out["calculated"] = self.calculated
        out["externalOptions"] = self.external_options
        if not self.hubspot_defined:
            out["archived"] = self.archived
        out["hasUniqueValue"] = self.unique
        out["hidden"] = False
        if self.hubspot_defined:
            out["hubspotDefined"] = True
        else:
            out["showCurrencySymbol"] = False
        metadata: dict[str, Any] = {
            "archivable": not self.hubspot_defined or not self.read_only_value,
            "readOnlyDefinition": self.hubspot_defined,
            "readOnlyValue": self.read_only_value,
        }
        if self.type == "enumeration" and self.hubspot_defined and self.options:
            metadata["readOnlyOptions"] = False
        out["modificationMetadata"] = metadata
        out["formField"] = self.form_field
        return out


@dataclass(frozen=True, slots=True)
class PropertyGroup:
    name: str
    label: str
    display_order: int = -1
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "displayOrder": self.display_order, "archived": self.archived}


# -- the default portal ---------------------------------------------------------------


def _p(name: str, label: str, type_: str, field_type: str, group: str, **kw: Any) -> PropertyDef:
    return PropertyDef(name=name, label=label, type=type_, field_type=field_type, group=group, **kw)


def _ro(name: str, label: str, type_: str, group: str, **kw: Any) -> PropertyDef:
    """A read-only value HubSpot computes (dates, counters, ids)."""
    field_type = {"datetime": "date", "date": "date", "number": "number", "bool": "booleancheckbox"}.get(type_, "text")
    opts = options(BOOL_OPTIONS) if type_ == "bool" else ()
    return PropertyDef(name, label, type_, field_type, group, options=opts, read_only_value=True, **kw)


def _text(name: str, label: str, group: str, **kw: Any) -> PropertyDef:
    return PropertyDef(name, label, "string", "text", group, form_field=True, **kw)


def _enum(
    name: str, label: str, group: str, pairs: Iterable[tuple[str, str]], field_type: str = "select"
) -> PropertyDef:
    return PropertyDef(name, label, "enumeration", field_type, group, options=options(pairs))


def _owner(group: str, label: str) -> PropertyDef:
    return PropertyDef(
        "hubspot_owner_id",
        label,
        "enumeration",
        "select",
        group,
        external_options=True,
        referenced_object_type="OWNER",
    )


def _record_identity(group: str, object_label: str) -> list[PropertyDef]:
    return [
        _ro("hs_object_id", f"{object_label} ID", "number", group, calculated=True),
        _ro("hs_createdate", "Create date", "datetime", group),
        _ro("hs_lastmodifieddate", "Last modified date", "datetime", group),
    ]


def _activity_common(group: str, object_label: str) -> list[PropertyDef]:
    """What every logged activity (call, meeting, email, note) has: when, who, identity."""
    return [
        _p("hs_timestamp", "Activity date", "datetime", "date", group),
        _owner(group, "Activity assigned to"),
        *_record_identity(group, object_label),
    ]


def _contact_properties() -> list[PropertyDef]:
    info, sales, analytics = "contactinformation", "sales_properties", "analyticsinformation"
    conversion, email, deals = "conversioninformation", "emailinformation", "deal_information"
    props = [
        _text("firstname", "First Name", info, display_order=0),
        _text("lastname", "Last Name", info, display_order=1),
        _text("email", "Email", info, display_order=3),
        _text("phone", "Phone Number", info, display_order=4),
        _text("mobilephone", "Mobile Phone Number", info),
        _text("jobtitle", "Job Title", info, display_order=12),
        _text("company", "Company Name", info, display_order=19),
        _text("website", "Website URL", info, display_order=20),
        _text("industry", "Industry", info, display_order=23),
        _text("annualrevenue", "Annual Revenue", info, display_order=22),
        _text("country", "Country/Region", info, display_order=10),
        _text("state", "State/Region", info),
        _text("city", "City", info),
        _enum("numemployees", "Number of Employees", info, ((b, b) for b in EMPLOYEE_BUCKETS)),
        _enum("lifecyclestage", "Lifecycle Stage", info, LIFECYCLE_STAGES, field_type="radio"),
        _ro("createdate", "Create Date", "datetime", info, display_order=17),
        _ro("lastmodifieddate", "Last Modified Date", "datetime", info),
        _ro("hs_lastmodifieddate", "Object last modified date/time", "datetime", info),
        _ro("hs_object_id", "Contact ID", "number", info, calculated=True),
        _ro("hs_email_domain", "Email Domain", "string", info),
        _ro("hs_all_contact_vids", "All vids for a contact", "string", info),
        _ro("hs_is_contact", "Is a contact", "bool", info),
        _ro("hs_is_unworked", "Contact unworked", "bool", info),
        _ro("hs_pipeline", "Pipeline", "string", info),
        _enum("hs_lead_status", "Lead Status", sales, LEAD_STATUSES, field_type="radio"),
        _owner(sales, "Contact owner"),
        _ro("hubspot_owner_assigneddate", "Owner Assigned Date", "datetime", sales),
        _ro("hubspotscore", "HubSpot Score", "number", sales),
        _ro("notes_last_contacted", "Last Contacted", "datetime", sales),
        _ro("hs_last_sales_activity_timestamp", "Last Engagement Date", "datetime", sales),
        _ro("num_notes", "Number of Sales Activities", "number", sales),
        _ro("hs_analytics_num_page_views", "Number of Pageviews", "number", analytics),
        _ro("hs_analytics_num_visits", "Number of Sessions", "number", analytics),
        _ro("hs_analytics_average_page_views", "Average Pageviews", "number", analytics),
        _ro("hs_analytics_first_timestamp", "Time First Seen", "datetime", analytics),
        _ro("hs_analytics_last_visit_timestamp", "Time of Last Session", "datetime", analytics),
        _ro("hs_analytics_first_url", "First Page Seen", "string", analytics),
        _ro("hs_analytics_last_url", "Last Page Seen", "string", analytics),
        _enum("hs_analytics_source", "Original Source", analytics, ANALYTICS_SOURCES),
        _ro("hs_latest_source_timestamp", "Latest Traffic Source Date", "date", analytics),
        _ro("num_conversion_events", "Number of Form Submissions", "number", conversion, calculated=True),
        _ro("num_unique_conversion_events", "Number of Unique Forms Submitted", "number", conversion, calculated=True),
        _ro("recent_conversion_event_name", "Recent Conversion", "string", conversion, calculated=True),
        _ro("recent_conversion_date", "Recent Conversion Date", "datetime", conversion),
        _ro("first_conversion_event_name", "First Conversion", "string", conversion, calculated=True),
        _ro("first_conversion_date", "First Conversion Date", "datetime", conversion),
        _ro("hs_email_open", "Marketing emails opened", "number", email),
        _ro("hs_email_click", "Marketing emails clicked", "number", email),
        _ro("hs_email_delivered", "Marketing emails delivered", "number", email),
        _ro("hs_email_first_open_date", "First marketing email open date", "datetime", email),
        _ro("hs_email_last_open_date", "Last marketing email open date", "datetime", email),
        _ro("hs_email_last_click_date", "Last marketing email click date", "datetime", email),
        _ro("hs_email_sends_since_last_engagement", "Sends Since Last Engagement", "number", email),
        _ro("hs_sales_email_last_opened", "Recent Sales Email Opened Date", "datetime", email),
        _ro("hs_email_optout", "Unsubscribed from all email", "bool", email),
        _ro("num_associated_deals", "Associated Deals", "number", deals),
    ]
    for value, label in LIFECYCLE_STAGES:
        props.append(_ro(f"hs_lifecyclestage_{value}_date", f"Became a {label} Date", "datetime", info))
    # the portal's own BANT questions (not HubSpot-defined, like any portal's custom fields)
    for name, label in (("budget", "Budget"), ("timeline", "Purchase timeline"), ("need", "Need")):
        props.append(_p(name, label, "string", "text", "qualification", hubspot_defined=False, form_field=True))
    return props


def _task_properties() -> list[PropertyDef]:
    group = "task"
    return [
        _text("hs_task_subject", "Task Title", group),
        _p("hs_task_body", "Notes", "string", "html", group),
        _enum(
            "hs_task_status",
            "Task Status",
            group,
            (
                ("NOT_STARTED", "Not Started"),
                ("IN_PROGRESS", "In Progress"),
                ("WAITING", "Waiting"),
                ("COMPLETED", "Completed"),
                ("DEFERRED", "Deferred"),
            ),
        ),
        _enum("hs_task_priority", "Priority", group, (("LOW", "Low"), ("MEDIUM", "Medium"), ("HIGH", "High"))),
        _enum("hs_task_type", "Task Type", group, (("EMAIL", "Email"), ("CALL", "Call"), ("TODO", "To-do"))),
        _p("hs_timestamp", "Due date", "datetime", "date", group),
        _p("hs_task_reminders", "Reminder", "string", "text", group),
        _ro("hs_task_completion_date", "Completed at", "datetime", group),
        _owner(group, "Assigned to"),
        *_record_identity(group, "Task"),
    ]


def _pipeline_choices(pipelines: tuple[Pipeline, ...]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(pipeline options, stage options): a stage property offers every pipeline's stages."""
    stages = [(stage.id, f"{stage.label} ({p.label})") for p in pipelines for stage in p.stages]
    return [(p.id, p.label) for p in pipelines], stages


def _deal_properties() -> list[PropertyDef]:
    group = "dealinformation"
    pipelines, stages = _pipeline_choices(DEAL_PIPELINES)
    return [
        _text("dealname", "Deal Name", group, display_order=0),
        _enum("dealstage", "Deal Stage", group, stages, field_type="radio"),
        _enum("pipeline", "Pipeline", group, pipelines),
        _p("amount", "Amount", "number", "number", group),
        _p("closedate", "Close Date", "datetime", "date", group),
        _enum(
            "dealtype", "Deal Type", group, (("newbusiness", "New Business"), ("existingbusiness", "Existing Business"))
        ),
        _text("closed_lost_reason", "Closed Lost Reason", group),
        _text("closed_won_reason", "Closed Won Reason", group),
        _owner(group, "Deal owner"),
        _ro("hs_is_closed", "Is Deal Closed?", "bool", group, calculated=True),
        _ro("hs_is_closed_won", "Is Closed Won", "bool", group, calculated=True),
        _ro("hs_deal_stage_probability", "Deal Stage Probability", "number", group, calculated=True),
        _ro("createdate", "Create Date", "datetime", group),
        _ro("hs_lastmodifieddate", "Last Modified Date", "datetime", group),
        _ro("hs_object_id", "Record ID", "number", group, calculated=True),
    ]


def _lead_properties() -> list[PropertyDef]:
    group = "leadinformation"
    pipelines, stages = _pipeline_choices(LEAD_PIPELINES)
    return [
        _text("hs_lead_name", "Lead name", group, display_order=0),
        _enum("hs_lead_type", "Lead type", group, (("NEW BUSINESS", "New Business"), ("UPSELL", "Upsell"))),
        _enum("hs_lead_label", "Lead label", group, (("HOT", "Hot"), ("WARM", "Warm"), ("COLD", "Cold"))),
        _enum("hs_pipeline", "Pipeline", group, pipelines),
        _enum("hs_pipeline_stage", "Lead stage", group, stages),
        _owner(group, "Lead owner"),
        *_record_identity(group, "Lead"),
    ]


def _call_properties() -> list[PropertyDef]:
    group = "call"
    return [
        _text("hs_call_title", "Call Title", group),
        _p("hs_call_body", "Call notes", "string", "html", group),
        _enum("hs_call_direction", "Call direction", group, (("INBOUND", "Inbound"), ("OUTBOUND", "Outbound"))),
        _enum(
            "hs_call_status",
            "Call status",
            group,
            (
                (s, s.replace("_", " ").title())
                for s in (
                    "BUSY",
                    "CALLING_CRM_USER",
                    "CANCELED",
                    "COMPLETED",
                    "CONNECTING",
                    "FAILED",
                    "IN_PROGRESS",
                    "NO_ANSWER",
                    "QUEUED",
                    "RINGING",
                )
            ),
        ),
        _p("hs_call_duration", "Call duration", "number", "number", group),
        _text("hs_call_disposition", "Call outcome", group),
        *_activity_common(group, "Call"),
    ]


def _meeting_properties() -> list[PropertyDef]:
    group = "meeting"
    return [
        _text("hs_meeting_title", "Meeting name", group),
        _p("hs_meeting_body", "Meeting description", "string", "html", group),
        _p("hs_internal_meeting_notes", "Internal notes", "string", "html", group),
        _text("hs_meeting_location", "Location", group),
        _p("hs_meeting_start_time", "Start time", "datetime", "date", group),
        _p("hs_meeting_end_time", "End time", "datetime", "date", group),
        _enum(
            "hs_meeting_outcome",
            "Meeting outcome",
            group,
            (
                ("SCHEDULED", "Scheduled"),
                ("COMPLETED", "Completed"),
                ("RESCHEDULED", "Rescheduled"),
                ("NO_SHOW", "No Show"),
                ("CANCELED", "Canceled"),
            ),
        ),
        *_activity_common(group, "Meeting"),
    ]


def _email_properties() -> list[PropertyDef]:
    group = "email"
    return [
        _text("hs_email_subject", "Email subject", group),
        _p("hs_email_text", "Email body", "string", "textarea", group),
        _p("hs_email_html", "Email HTML", "string", "html", group),
        _enum(
            "hs_email_direction",
            "Email direction",
            group,
            (("EMAIL", "Logged or sent"), ("INCOMING_EMAIL", "Reply"), ("FORWARDED_EMAIL", "Forwarded")),
        ),
        _enum(
            "hs_email_status",
            "Email send status",
            group,
            ((s, s.title()) for s in ("BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT")),
        ),
        *_activity_common(group, "Email"),
    ]


def _note_properties() -> list[PropertyDef]:
    group = "note"
    return [
        _p("hs_note_body", "Note body", "string", "html", group),
        *_activity_common(group, "Note"),
    ]


_GROUP_LABELS = {
    "contacts": (
        ("contactinformation", "Contact information"),
        ("sales_properties", "Sales properties"),
        ("analyticsinformation", "Web analytics history"),
        ("conversioninformation", "Conversion information"),
        ("emailinformation", "Email information"),
        ("deal_information", "Deal information"),
        ("qualification", "Qualification (BANT)"),
    ),
    "deals": (("dealinformation", "Deal information"),),
    "leads": (("leadinformation", "Lead information"),),
    "tasks": (("task", "Task information"),),
    "calls": (("call", "Call information"),),
    "meetings": (("meeting", "Meeting information"),),
    "emails": (("email", "Email information"),),
    "notes": (("note", "Note information"),),
}

_BUILDERS = {
    "contacts": _contact_properties,
    "deals": _deal_properties,
    "leads": _lead_properties,
    "tasks": _task_properties,
    "calls": _call_properties,
    "meetings": _meeting_properties,
    "emails": _email_properties,
    "notes": _note_properties,
}


def default_properties(object_type: str) -> dict[str, PropertyDef]:
    """The properties a new portal has for ``object_type``, by name."""
    return {p.name: p for p in _BUILDERS[object_type]()}


def default_groups(object_type: str) -> dict[str, PropertyGroup]:
    """The property groups a new portal has for ``object_type``, by name."""
    return {name: PropertyGroup(name, label, i) for i, (name, label) in enumerate(_GROUP_LABELS[object_type])}


def _parse_options(raw_options: Iterable[dict[str, Any]]) -> tuple[Option, ...]:
    return tuple(
        Option(
            str(o["value"]),
            str(o.get("label", o["value"])),
            int(o.get("displayOrder", i)),
            bool(o.get("hidden", False)),
        )
        for i, o in enumerate(raw_options)
    )


def custom_property(data: dict[str, Any], now: str) -> PropertyDef:
    """A portal-made property from a create request body (already checked for required fields)."""
    return PropertyDef(
        name=data["name"],
        label=data["label"],
        type=data["type"],
        field_type=data["fieldType"],
        group=data["groupName"],
        options=_parse_options(data.get("options") or ()),
        hubspot_defined=False,
        unique=bool(data.get("hasUniqueValue", False)),
        description=str(data.get("description", "")),
        display_order=int(data.get("displayOrder", -1)),
        form_field=bool(data.get("formField", False)),
        created_at=now,
        updated_at=now,
    )


_UPDATABLE = {
    "label": "label",
    "type": "type",
    "fieldType": "field_type",
    "groupName": "group",
    "description": "description",
    "displayOrder": "display_order",
    "formField": "form_field",
}


def updated_property(current: PropertyDef, data: dict[str, Any], now: str) -> PropertyDef:
    """``current`` with the fields of an update request body applied."""
    changes: dict[str, Any] = {attr: data[key] for key, attr in _UPDATABLE.items() if key in data}
    if "options" in data:
        changes["options"] = _parse_options(data["options"] or ())
    return replace(current, updated_at=now, **changes)


# -- value checking -------------------------------------------------------------------


class InvalidValue(ValueError):
    """A written value HubSpot would refuse; ``code`` is HubSpot's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_DIGITS = re.compile(r"-?\d+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CANONICAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def _from_epoch_ms(value: str) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def _parse_datetime(value: str) -> datetime | None:
    """Epoch milliseconds or ISO-8601 with a time; None if neither."""
    if _DIGITS.fullmatch(value):
        return _from_epoch_ms(value)
    if "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def normalize(prop: PropertyDef, raw: Any, owner_ids: Set[str]) -> str:
    """The stored form of a written value; ``""`` clears. Raises InvalidValue."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        value = "true" if raw else "false"
    elif isinstance(raw, (int, float)):
        value = str(raw)
    elif isinstance(raw, str):
        value = raw
    else:
        raise InvalidValue("INVALID_TYPE", f"{raw!r} is not a valid value for {prop.name}")
    if value == "":
        return ""
    kind = prop.type
    if kind in ("string", "phone_number"):
        if len(value) > 65536:
            raise InvalidValue("STRING_TOO_LONG", f"{prop.name} is longer than 65536 characters")
        return value
    if kind == "number":
        try:
            float(value)
        except ValueError:
            raise InvalidValue("INVALID_DOUBLE", f"{value} was not a valid number.") from None
        return value
    if kind == "bool":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise InvalidValue("INVALID_BOOLEAN", f"{value} was not a valid boolean.")
        return lowered
    if kind == "enumeration":
        if prop.external_options:
            if not _DIGITS.fullmatch(value):
                raise InvalidValue("INVALID_INTEGER", f"{value} was not a valid integer (for owner ID).")
            if value not in owner_ids:
                raise InvalidValue("INVALID_OWNER_ID", f"{value} is not a valid owner id")
            return value
        parts = value.split(";") if prop.is_multi else (value,)
        for part in parts:
            if part not in prop.option_values:
                allowed = ", ".join(o.value for o in prop.options)
                raise InvalidValue("INVALID_OPTION", f"{part} was not one of the allowed options: [{allowed}]")
        return value
    if kind == "datetime":
        if _CANONICAL_DATETIME.fullmatch(value):
            return value  # already as HubSpot stores it: skip the parse and re-format
        moment = _parse_datetime(value)
        if moment is None:
            raise InvalidValue("INVALID_LONG", f"{value} was not a valid long.")
        return format_time(moment)
    if kind == "date":
        if _DATE.fullmatch(value):
            return value
        moment = _parse_datetime(value)
        if moment is None or (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0):
            raise InvalidValue("INVALID_DATE", f"{value} is not a valid date: it must be midnight UTC")
        return moment.strftime("%Y-%m-%d")
    return value


def timestamp_of(value: str) -> float | None:
    """Epoch seconds of a stored datetime/date value, or of an epoch-ms/ISO filter value."""
    if _DATE.fullmatch(value):
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    moment = _parse_datetime(value)
    return None if moment is None else moment.timestamp()
