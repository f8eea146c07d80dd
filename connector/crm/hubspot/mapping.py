"""HubSpot contacts in canonical terms, and back. Pure: dicts in, canonical data out.

HubSpot keeps web and email engagement as counters on the contact (page views,
visits, opens, clicks, form conversions) with a few "first"/"last" dates and
the latest page and form names. Handoff turns the *change* in those counters
between two reads into dated activities, so engagement earned between syncs
decays from when it happened, not from when it was first seen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connector.crm.naming import conversion_type
from connector.model import Activity, CrmState, Stage, parse_time

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


def company_size(value: str | None) -> int | None:
    """``numemployees`` is a bucket like ``100-500`` or ``1000+``; the bucket's top stands for it."""
    if not value:
        return None
    match = _EMPLOYEES.match(value)
    if not match:
        return None
    low, high = match.group(1), match.group(2)
    if high:
        return int(high)
    return int(low) + 1 if value.strip().endswith("+") else int(low)


def canonical_properties(props: Mapping[str, str | None], stages: StageMap) -> dict[str, Any]:
    """The canonical lead properties of a contact (DESIGN.md 4.3)."""
    out: dict[str, Any] = {}
    for canonical, name in CANONICAL_PROPERTIES.items():
        value = props.get(name)
        if value not in (None, ""):
            out[canonical] = value
    size = company_size(props.get("numemployees"))
    if size is not None:
        out["company_size"] = size
    source = props.get("hs_analytics_source")
    if source:
        out["lead_source"] = source.lower()
    stage = stages.canonical(props.get("lifecyclestage"))
    if stage is not None:
        out["lifecycle_stage"] = stage.value
    return out


def crm_state(props: Mapping[str, str | None], stages: StageMap) -> CrmState:
    name = " ".join(p for p in (props.get("firstname"), props.get("lastname")) if p) or None
    return CrmState(
        stage=stages.canonical(props.get("lifecyclestage")),
        lead_status=props.get("hs_lead_status") or None,
        owner_id=props.get("hubspot_owner_id") or None,
        name=name,
        company=props.get("company") or None,
    )


def counters_of(props: Mapping[str, str | None]) -> dict[str, str]:
    """The counter snapshot to keep for the next delta."""
    return {name: value for name in COUNTER_PROPERTIES if (value := props.get(name)) not in (None, "")}


def _int(value: str | None) -> int:
    try:
        return int(float(value)) if value else 0
    except ValueError:
        return 0


def _time(value: str | None, fallback: datetime) -> datetime:
    if not value:
        return fallback
    try:
        return parse_time(value) if not value.isdigit() else datetime.fromtimestamp(int(value) / 1000, fallback.tzinfo)
    except ValueError:
        return fallback


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
    now_props: Mapping[str, str], before: Mapping[str, str] | None, modified_at: datetime
) -> list[Activity]:
    """Activities implied by the change in counters since ``before`` (None: first time seen).

    The newest occurrence is dated at the counter's "last" date (and carries the
    last URL); the rest at its "first" date the first time a contact is seen
    (history of unknown dates counts as old), else at the "last" date too.
    """
    activities: list[Activity] = []
    for counter in _COUNTERS:
        total = _int(now_props.get(counter.count))
        delta = total - (_int(before.get(counter.count)) if before is not None else 0)
        if delta <= 0:
            continue
        last = _time(now_props.get(counter.last), modified_at) if counter.last else modified_at
        url = now_props.get(counter.url) if counter.url else None
        activities.append(Activity(counter.kind, last, 1, url=url))
        if delta > 1:
            first = _time(now_props.get(counter.first), last) if before is None and counter.first else last
            activities.append(Activity(counter.kind, first, delta - 1))
    activities.extend(_conversions(now_props, before, modified_at))
    if now_props.get("hs_email_optout") == "true" and (before is None or before.get("hs_email_optout") != "true"):
        activities.append(Activity("unsubscribe", modified_at))
    return activities


def _conversions(
    now_props: Mapping[str, str], before: Mapping[str, str] | None, modified_at: datetime
) -> list[Activity]:
    found: list[Activity] = []
    recent = now_props.get("recent_conversion_date")
    name = now_props.get("recent_conversion_event_name")
    if recent and name and (before is None or before.get("recent_conversion_date") != recent):
        found.append(Activity(conversion_type(name), _time(recent, modified_at), name=name))
    first = now_props.get("first_conversion_date")
    first_name = now_props.get("first_conversion_event_name")
    if before is None and first and first_name and first != recent:
        found.append(Activity(conversion_type(first_name), _time(first, modified_at), name=first_name))
    return found


#: engagement objects read through associations, with the properties each needs
ENGAGEMENT_OBJECTS = {
    "meetings": ("hs_meeting_title", "hs_meeting_outcome", "hs_createdate", "hs_timestamp"),
    "calls": ("hs_call_title", "hs_call_status", "hs_timestamp"),
    "emails": ("hs_email_subject", "hs_email_direction", "hs_timestamp"),
}


def engagement_activity(object_type: str, props: Mapping[str, str | None], fallback: datetime) -> Activity | None:
    """A meeting, call or email as a canonical activity, or None when it shows no interest from the lead.

    A meeting counts when it was booked (not when it takes place) unless it was
    cancelled; a call when it connected; an email only when the lead wrote it
    (a reply is a conversation, so it counts as one, like a chat).
    """
    if object_type == "meetings":
        if (props.get("hs_meeting_outcome") or "").upper() in ("CANCELED", "CANCELLED", "NO_SHOW"):
            return None
        booked = props.get("hs_createdate") or props.get("hs_timestamp")
        return Activity("meeting_booked", _time(booked, fallback), name=props.get("hs_meeting_title") or None)
    if object_type == "calls":
        if (props.get("hs_call_status") or "").upper() != "COMPLETED":
            return None
        return Activity("call", _time(props.get("hs_timestamp"), fallback), name=props.get("hs_call_title") or None)
    if object_type == "emails" and props.get("hs_email_direction") == "INCOMING_EMAIL":
        subject = props.get("hs_email_subject")
        return Activity(
            "chat", _time(props.get("hs_timestamp"), fallback), name=f"Email reply: {subject}" if subject else None
        )
    return None
