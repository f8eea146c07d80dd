"""HubSpot contacts in canonical terms, and back. Pure: dicts in, canonical data out.

HubSpot keeps web and email engagement as counters on the contact (page views,
visits, opens, clicks, form conversions) with a few "first"/"last" dates and
the latest page and form names. Handoff turns the *change* in those counters
between two reads into dated activities, so engagement earned between syncs
decays from when it happened, not from when it was first seen.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connector.crm.base import Pulled
from connector.crm.mapped import Kind, MappedField, with_mapped
from connector.crm.naming import conversion_type
from connector.crm.values import (
    canonical_value,
    html_lines,
    loose_text,
    one_line,
    plain_lines,
    read_field,
    required_text,
    text,
    whole_number,
)
from connector.model import Activity, CrmState, Stage, TaskSpec, format_time, parse_time
from connector.outcomes.events import STAGE_SOURCE, OutcomeEvent, OutcomeKind

#: lifecyclestage internal values HubSpot ships, in their default order
DEFAULT_STAGE_VALUES = {
    "subscriber": Stage.SUBSCRIBER,
    "lead": Stage.LEAD,
    "marketingqualifiedlead": Stage.MQL,
    "salesqualifiedlead": Stage.SQL,
    "opportunity": Stage.OPPORTUNITY,
    "customer": Stage.CUSTOMER,
    "evangelist": Stage.EVANGELIST,
    "other": Stage.OTHER,
}

#: canonical property -> HubSpot contact property
CANONICAL_PROPERTIES = {
    "email": "email",
    "first_name": "firstname",
    "last_name": "lastname",
    "job_title": "jobtitle",
    "company": "company",
    "industry": "industry",
    "country": "country",
    "lead_status": "hs_lead_status",
    "owner_id": "hubspot_owner_id",
    "budget": "budget",
    "timeline": "timeline",
    "need": "need",
}
#: counters and dates Handoff turns into activities
COUNTER_PROPERTIES = (
    "hs_analytics_num_page_views",
    "hs_analytics_num_visits",
    "hs_analytics_first_timestamp",
    "hs_analytics_last_visit_timestamp",
    "hs_analytics_last_url",
    "num_conversion_events",
    "recent_conversion_event_name",
    "recent_conversion_date",
    "first_conversion_event_name",
    "first_conversion_date",
    "hs_email_open",
    "hs_email_click",
    "hs_email_first_open_date",
    "hs_email_last_open_date",
    "hs_email_last_click_date",
    "hs_email_optout",
)
OTHER_PROPERTIES = ("numemployees", "hs_analytics_source", "lifecyclestage", "lastmodifieddate", "createdate")
#: lifecycle stage dates that are outcomes: when a rep (or HubSpot's deal sync) made the contact an
#: opportunity or a customer. Read with the contacts the sync reads anyway: no call of their own.
STAGE_OUTCOMES = {
    "hs_lifecyclestage_opportunity_date": OutcomeKind.OPPORTUNITY,
    "hs_lifecyclestage_customer_date": OutcomeKind.WON,
}
#: contact properties that move when a meeting, call or email is logged
SALES_ACTIVITY_MARKERS = ("hs_last_sales_activity_timestamp", "notes_last_updated", "notes_last_contacted")
#: the counters the next delta compares against (counts, the latest conversion, the opt-out, the markers);
#: the other dates, names and the URL only place what is new at this read, so the store does not keep them
DELTA_COUNTERS = frozenset(
    {
        "hs_analytics_num_page_views",
        "hs_analytics_num_visits",
        "hs_email_open",
        "hs_email_click",
        "recent_conversion_date",
        "hs_email_optout",
        *SALES_ACTIVITY_MARKERS,
    }
)

#: Handoff's own contact properties: canonical key -> (HubSpot name, label, type, fieldType, options)
HANDOFF_GROUP = ("handoff", "Handoff lead qualification")
HANDOFF_PROPERTIES: dict[str, tuple[str, str, str, str, tuple[str, ...]]] = {
    "score": ("handoff_score", "Handoff score", "number", "number", ()),
    "fit_grade": ("handoff_fit_grade", "Handoff fit grade", "enumeration", "select", ("A", "B", "C", "D")),
    "fit_score": ("handoff_fit_score", "Handoff fit points", "number", "number", ()),
    "engagement_score": ("handoff_engagement_score", "Handoff engagement points", "number", "number", ()),
    "status": (
        "handoff_status",
        "Handoff qualification",
        "enumeration",
        "select",
        ("lead", "mql", "sql", "disqualified"),
    ),
    "reasons": ("handoff_reasons", "Handoff reasons", "string", "textarea", ()),
    "missing_info": ("handoff_missing_info", "Handoff: still unknown", "string", "text", ()),
    "rules_version": ("handoff_rules_version", "Handoff rules version", "string", "text", ()),
    "mql_at": ("handoff_mql_at", "Handoff: became MQL", "datetime", "date", ()),
    "sql_at": ("handoff_sql_at", "Handoff: became SQL", "datetime", "date", ()),
}
#: created and written only in shadow mode (HANDOFF_SHADOW_RULES): a candidate rules file's verdict
SHADOW_PROPERTIES: dict[str, tuple[str, str, str, str, tuple[str, ...]]] = {
    "shadow_score": ("handoff_shadow_score", "Handoff shadow score", "number", "number", ()),
    "shadow_status": (
        "handoff_shadow_status",
        "Handoff shadow qualification",
        "enumeration",
        "select",
        ("lead", "mql", "sql", "disqualified"),
    ),
}

_EMPLOYEES = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)|\+)?\s*$")


class StageMap:
    """A portal's lifecycle stages, in the portal's own order, mapped to canonical stages.

    Portals can add and remove stages. A custom stage counts as the nearest
    default stage before it, so a custom stage after SQL is never "below SQL".
    """

    def __init__(self, options: list[tuple[str, int]]):
        ordered = [value for value, _ in sorted(options, key=lambda o: o[1])]
        self.to_canonical: dict[str, Stage] = {}
        current = Stage.SUBSCRIBER
        for value in ordered:
            current = DEFAULT_STAGE_VALUES.get(value, current)
            self.to_canonical[value] = current
        self.to_hubspot = {stage: value for value, stage in DEFAULT_STAGE_VALUES.items() if value in self.to_canonical}

    def missing(self, needed: tuple[Stage, ...] = (Stage.LEAD, Stage.MQL, Stage.SQL)) -> list[Stage]:
        return [s for s in needed if s not in self.to_hubspot]

    def canonical(self, value: str | None) -> Stage | None:
        return self.to_canonical.get(value) if value else None


def company_size(value: Any) -> int | None:
    """``numemployees`` is a bucket like ``100-500`` or ``1000+``; the bucket's top stands for it.

    A value that is no bucket (a portal's own option) is unknown; one whose
    numbers are beyond belief makes the record unreadable.
    """
    bucket = text(value) or ""
    match = _EMPLOYEES.match(bucket)
    if not match:
        return None
    low, high = match.group(1), match.group(2)
    top = whole_number(high or low) or 0
    return top + 1 if not high and bucket.endswith("+") else top


def property_kind(definition: Mapping[str, Any]) -> Kind:
    """The kind of a contact property, from its definition in the properties API.

    HubSpot sends every value as text; the type says how to read it. A checkbox
    enumeration is a multi-select whose values are joined by ``;``.
    """
    kind, field_type = definition.get("type"), definition.get("fieldType")
    if kind == "bool" or field_type == "booleancheckbox":
        return Kind.BOOLEAN
    if kind == "enumeration":
        return Kind.CHOICES if field_type == "checkbox" else Kind.CHOICE
    return {"number": Kind.NUMBER, "date": Kind.DATE, "datetime": Kind.DATETIME}.get(str(kind), Kind.TEXT)


def pulled(raw: Mapping[str, Any], stages: StageMap, mapped: Sequence[MappedField] = ()) -> Pulled:
    """One contact as read from HubSpot (search, list or batch read) in canonical form.

    ``mapped`` are the properties of the rules file's ``fields:`` section; they
    replace a built-in property of the same name. Raises (KeyError, TypeError,
    ValueError...) when the contact cannot be read; the caller quarantines it.
    """
    props = _properties(raw)
    counters = counters_of(props)
    counters.update({m: value for m in SALES_ACTIVITY_MARKERS if (value := read_field(props, m, text))})
    record_id = read_field(raw, "id", required_text)
    return Pulled(
        record_id=record_id,
        properties=with_mapped(canonical_properties(props, stages), props, mapped),
        crm_state=crm_state(props, stages),
        modified_at=modified_at(raw),
        counters=counters,
        kept=DELTA_COUNTERS,
        created_at=_time_or_none(props.get("createdate")),
        outcomes=stage_outcomes(record_id, props),
    )


def stage_outcomes(record_id: str, props: Mapping[str, Any]) -> list[OutcomeEvent]:
    """The opportunity and customer dates of a contact as outcome events (unreadable dates are left out)."""
    events = []
    for name, kind in STAGE_OUTCOMES.items():
        at = _time_or_none(props.get(name))
        if at is not None:
            events.append(OutcomeEvent(record_id, kind, at, STAGE_SOURCE))
    return events


def modified_at(raw: Mapping[str, Any]) -> datetime:
    """When a contact was last modified (``lastmodifieddate``, else ``updatedAt``); raises when neither reads."""
    props = _properties(raw)
    if loose_text(props.get("lastmodifieddate")):
        return read_field(props, "lastmodifieddate", _moment)
    return read_field(raw, "updatedAt", _moment)


def _moment(value: Any) -> datetime:
    return parse_time(required_text(value))


def _properties(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    props = raw["properties"]
    if not isinstance(props, Mapping):
        raise TypeError("properties is not an object")
    return props


def canonical_properties(props: Mapping[str, Any], stages: StageMap) -> dict[str, Any]:
    """The canonical lead properties of a contact (DESIGN.md 4.3), as clean values."""
    out: dict[str, Any] = {}
    for canonical, name in CANONICAL_PROPERTIES.items():
        value = read_field(props, name, canonical_value)
        if value is not None:
            out[canonical] = value
    size = read_field(props, "numemployees", company_size)
    if size is not None:
        out["company_size"] = size
    source = read_field(props, "hs_analytics_source", text)
    if source:
        out["lead_source"] = source.lower()
    stage = stages.canonical(read_field(props, "lifecyclestage", text))
    if stage is not None:
        out["lifecycle_stage"] = stage.value
    return out


def crm_state(props: Mapping[str, Any], stages: StageMap) -> CrmState:
    name = " ".join(p for p in (read_field(props, "firstname", text), read_field(props, "lastname", text)) if p) or None
    return CrmState(
        stage=stages.canonical(read_field(props, "lifecyclestage", text)),
        lead_status=read_field(props, "hs_lead_status", text),
        owner_id=read_field(props, "hubspot_owner_id", text),
        name=name,
        company=read_field(props, "company", text),
    )


def counters_of(props: Mapping[str, Any]) -> dict[str, str]:
    """The counter snapshot to keep for the next delta; raises ValueError for a counter that is no count."""
    counters = {name: value for name in COUNTER_PROPERTIES if (value := read_field(props, name, text))}
    for counter in _COUNTERS:
        read_field(counters, counter.count, whole_number)
    return counters


def _int(value: Any) -> int:
    # counters were checked when read; a snapshot kept by an older version may hold anything
    try:
        return whole_number(value) or 0
    except ValueError:
        return 0


def _time(value: Any, fallback: datetime) -> datetime:
    """A HubSpot date (ISO text or epoch milliseconds); ``fallback`` when blank or unreadable."""
    return _time_or_none(value) or fallback


def _time_or_none(value: Any) -> datetime | None:
    """A HubSpot date (ISO text or epoch milliseconds) in UTC; None when blank or unreadable."""
    written = loose_text(value)
    if not written:
        return None
    try:
        if written.isdecimal():
            return datetime.fromtimestamp(int(written) / 1000, UTC)
        return parse_time(written)
    except (ValueError, OverflowError, OSError):
        return None


@dataclass(frozen=True)
class _Counter:
    count: str
    kind: str
    first: str | None
    last: str | None
    url: str | None = None


_COUNTERS = (
    _Counter(
        "hs_analytics_num_page_views",
        "page_view",
        "hs_analytics_first_timestamp",
        "hs_analytics_last_visit_timestamp",
        "hs_analytics_last_url",
    ),
    _Counter(
        "hs_analytics_num_visits", "site_visit", "hs_analytics_first_timestamp", "hs_analytics_last_visit_timestamp"
    ),
    _Counter("hs_email_open", "email_open", "hs_email_first_open_date", "hs_email_last_open_date"),
    _Counter("hs_email_click", "email_click", None, "hs_email_last_click_date"),
)


def counter_activities(
    now_props: Mapping[str, Any], before: Mapping[str, Any] | None, modified_at: datetime
) -> list[Activity]:
    """Activities implied by the change in counters since ``before`` (None: first time seen).

    The newest occurrence is dated at the counter's "last" date (and carries the
    last URL); the rest at its "first" date the first time a contact is seen
    (history of unknown dates counts as old), else at the "last" date too.
    Never raises: ``now_props`` were checked when read, and an unusable value in
    an older snapshot counts as nothing.
    """
    activities: list[Activity] = []
    for counter in _COUNTERS:
        total = _int(now_props.get(counter.count))
        delta = total - (_int(before.get(counter.count)) if before is not None else 0)
        if delta <= 0:
            continue
        last = _time(now_props.get(counter.last), modified_at) if counter.last else modified_at
        url = loose_text(now_props.get(counter.url)) if counter.url else None
        activities.append(Activity(counter.kind, last, 1, url=url))
        if delta > 1:
            first = _time(now_props.get(counter.first), last) if before is None and counter.first else last
            activities.append(Activity(counter.kind, first, delta - 1))
    activities.extend(_conversions(now_props, before, modified_at))
    opted_out = loose_text(now_props.get("hs_email_optout")) == "true"
    if opted_out and (before is None or before.get("hs_email_optout") != "true"):
        activities.append(Activity("unsubscribe", modified_at))
    return activities


def _conversions(
    now_props: Mapping[str, Any], before: Mapping[str, Any] | None, modified_at: datetime
) -> list[Activity]:
    found: list[Activity] = []
    recent = loose_text(now_props.get("recent_conversion_date"))
    name = loose_text(now_props.get("recent_conversion_event_name"))
    if recent and name and (before is None or before.get("recent_conversion_date") != recent):
        found.append(Activity(conversion_type(name), _time(recent, modified_at), name=name))
    first = loose_text(now_props.get("first_conversion_date"))
    first_name = loose_text(now_props.get("first_conversion_event_name"))
    if before is None and first and first_name and first != recent:
        found.append(Activity(conversion_type(first_name), _time(first, modified_at), name=first_name))
    return found


#: engagement objects read through associations, with the properties each needs
ENGAGEMENT_OBJECTS = {
    "meetings": ("hs_meeting_title", "hs_meeting_outcome", "hs_createdate", "hs_timestamp"),
    "calls": ("hs_call_title", "hs_call_status", "hs_timestamp"),
    "emails": ("hs_email_subject", "hs_email_direction", "hs_timestamp"),
}


def engagement_activity(object_type: str, props: Mapping[str, Any], fallback: datetime) -> Activity | None:
    """A meeting, call or email as a canonical activity, or None when it shows no interest from the lead.

    A meeting counts when it was booked (not when it takes place) unless it was
    cancelled; a call when it connected; an email only when the lead wrote it
    (a reply is a conversation, so it counts as one, like a chat). Never raises:
    a date that cannot be read is ``fallback`` (when Handoff read it).
    """

    def text(name: str) -> str | None:
        return loose_text(props.get(name))

    if object_type == "meetings":
        if (text("hs_meeting_outcome") or "").upper() in ("CANCELED", "CANCELLED", "NO_SHOW"):
            return None
        booked = text("hs_createdate") or text("hs_timestamp")
        return Activity("meeting_booked", _time(booked, fallback), name=text("hs_meeting_title"))
    if object_type == "calls":
        if (text("hs_call_status") or "").upper() != "COMPLETED":
            return None
        return Activity("call", _time(text("hs_timestamp"), fallback), name=text("hs_call_title"))
    if object_type == "emails" and text("hs_email_direction") == "INCOMING_EMAIL":
        subject = text("hs_email_subject")
        return Activity(
            "chat", _time(text("hs_timestamp"), fallback), name=f"Email reply: {subject}" if subject else None
        )
    return None


#: the element that carries a task's idempotency key in its HTML body; escaped text never contains a tag
TASK_REF_ATTRIBUTE = "data-handoff-ref"
_TASK_REF = re.compile(r"<[a-z]+\s[^<>]*?\b" + TASK_REF_ATTRIBUTE + r'="([^"<>]+)"', re.IGNORECASE)
#: the same marker once an HTML sanitiser has dropped the attribute: a whole paragraph of Handoff's own, which
#: escaped record text cannot open or close (the body's own paragraph always starts with Handoff's heading)
_TASK_REF_PARAGRAPH = re.compile(r"<p>Handoff ref: ([^<>]+)</p>\s*$", re.IGNORECASE)
#: characters of plain text a task body takes (HubSpot stores 65,536; escaping can grow text up to six times)
TASK_BODY_TEXT = 10_000
TASK_SUBJECT_TEXT = 250


def task_properties(task: TaskSpec) -> dict[str, str]:
    """A rep task as HubSpot task properties: a plain subject and an HTML body ending in Handoff's marker."""
    key = html.escape(task.key, quote=True)
    body = html_lines(task.body, TASK_BODY_TEXT)
    props = {
        "hs_task_subject": one_line(task.subject, TASK_SUBJECT_TEXT),
        "hs_task_body": f'<p>{body}</p><p {TASK_REF_ATTRIBUTE}="{key}">Handoff ref: {key}</p>',
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": task.priority.value,
        "hs_task_type": "CALL" if task.stage is Stage.SQL else "EMAIL",
        "hs_timestamp": format_time(task.due_at),
    }
    if task.owner_id:
        props["hubspot_owner_id"] = task.owner_id
    return props


def task_ref(body: Any) -> str | None:
    """The idempotency key in a task body written by ``task_properties``; None in any other text."""
    if not isinstance(body, str):
        return None
    match = _TASK_REF.search(body) or _TASK_REF_PARAGRAPH.search(body)
    return html.unescape(match.group(1)) if match else None


#: the longest value a HubSpot text property keeps
TEXT_PROPERTY = 65_536


def property_values(properties: Mapping[str, str | None]) -> dict[str, str]:
    """Handoff's canonical values as HubSpot property values: text shaped for its field, "" clears."""
    out: dict[str, str] = {}
    for key, value in properties.items():
        name, _, _, field_type, _ = HANDOFF_PROPERTIES.get(key) or SHADOW_PROPERTIES[key]
        if value is None:
            out[name] = ""
        elif field_type == "textarea":
            out[name] = plain_lines(value, TEXT_PROPERTY)
        else:
            out[name] = one_line(value, TEXT_PROPERTY)
    return out
