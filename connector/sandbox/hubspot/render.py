"""Synthetic people and canonical activities, rendered into a HubSpot portal's terms.

HubSpot keeps most engagement as counters and dates on the contact (page views,
sessions, marketing email opens and clicks, form conversions); meetings, calls,
sales emails and notes are objects of their own, associated with the contact.
Activities HubSpot has no default place for (webinar attendance, cart adds, a
trial sign-up apart from its form) leave no trace, as they would in a real portal.

A person who became an opportunity (their planted outcome) has a deal associated,
in the custom Enterprise pipeline for companies of 1,000 or more, else in the
default one: open in a stage that matches its progress, or closed won / lost. Their
``hs_lifecyclestage_*_date`` properties say when they became a lead, an opportunity
and, once won, a customer. A meeting is created when it is booked, for a start
time a day later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.model import Activity, format_time
from connector.sandbox.hubspot.objects import CALLS, EMAILS, MEETINGS, NOTES, ObjectType
from connector.sandbox.hubspot.pipelines import DEAL_PIPELINES
from connector.sandbox.synthetic import Person

#: canonical lead_source -> hs_analytics_source
SOURCES = {
    "organic_search": "ORGANIC_SEARCH",
    "paid_search": "PAID_SEARCH",
    "email_marketing": "EMAIL_MARKETING",
    "social_media": "SOCIAL_MEDIA",
    "referrals": "REFERRALS",
    "other_campaigns": "OTHER_CAMPAIGNS",
    "direct_traffic": "DIRECT_TRAFFIC",
    "offline": "OFFLINE",
    "paid_social": "PAID_SOCIAL",
}
#: canonical stage -> lifecyclestage option
STAGES = {"mql": "marketingqualifiedlead", "sql": "salesqualifiedlead"}
#: canonical property -> contact property, where only the name differs
_RENAMED = {
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
_EMPLOYEE_BUCKETS = ((5, "1-5"), (25, "5-25"), (50, "25-50"), (100, "50-100"), (500, "100-500"), (1000, "500-1000"))
_ENGAGED_STATUSES = frozenset({"ATTEMPTED_TO_CONTACT", "CONNECTED", "IN_PROGRESS", "OPEN_DEAL"})
#: companies this big buy through the Enterprise pipeline
_ENTERPRISE_SIZE = 1000

Engagement = tuple[ObjectType, dict[str, str]]


@dataclass(frozen=True, slots=True)
class RenderedPerson:
    """A person as a HubSpot contact plus the engagement objects and the deal to associate with it."""

    properties: dict[str, str]
    engagements: list[Engagement]
    deal: dict[str, str] | None = None


def employee_bucket(size: int) -> str:
    """The ``numemployees`` option a head count falls in."""
    for upper, bucket in _EMPLOYEE_BUCKETS:
        if size <= upper:
            return bucket
    return "1000+"


def render_person(person: Person) -> RenderedPerson:
    """Contact properties (HubSpot names, string values) and engagements of one synthetic person."""
    canonical = person.lead.properties
    created = format_time(person.created_at)
    props: dict[str, str] = {"createdate": created, "lastmodifieddate": created}
    for name, target in _RENAMED.items():
        value = canonical.get(name)
        if value is not None:
            props[target] = str(value)
    if canonical.get("company_size") is not None:
        props["numemployees"] = employee_bucket(int(canonical["company_size"]))
    if canonical.get("lead_source") in SOURCES:
        props["hs_analytics_source"] = SOURCES[canonical["lead_source"]]
    stage = canonical.get("lifecycle_stage")
    if stage:
        props["lifecyclestage"] = STAGES.get(stage, stage)
        props[f"hs_lifecyclestage_{props['lifecyclestage']}_date"] = created
    if "hubspot_owner_id" in props:
        props["hubspot_owner_assigneddate"] = created
    owner = props.get("hubspot_owner_id")
    engagements: list[Engagement] = []
    for activity in sorted(person.lead.activities, key=lambda a: a.at):
        engagements.extend(apply_activity(props, activity, owner))
    if canonical.get("lead_status") in _ENGAGED_STATUSES and owner:
        engagements.append(_sales_email(person, owner))
    deal = render_deal(person)
    if deal is not None:
        _stage_dates(props, person)
    return RenderedPerson(props, engagements, deal)


def _stage_dates(props: dict[str, str], person: Person) -> None:
    """When a person who became an opportunity entered each stage on the way."""
    outcome = person.outcome
    assert outcome.opportunity_at is not None and outcome.updated_at is not None
    props.pop(f"hs_lifecyclestage_{props['lifecyclestage']}_date", None)
    props["hs_lifecyclestage_lead_date"] = format_time(person.created_at)
    props["hs_lifecyclestage_opportunity_date"] = format_time(outcome.opportunity_at)
    latest = outcome.opportunity_at
    if outcome.closed and outcome.won and outcome.closes_at is not None:
        props["hs_lifecyclestage_customer_date"] = format_time(outcome.closes_at)
        latest = outcome.closes_at
    props["lastmodifieddate"] = max(props["lastmodifieddate"], format_time(latest))


def render_deal(person: Person) -> dict[str, str] | None:
    """The deal of a person who became an opportunity (None for everyone else)."""
    outcome = person.outcome
    if outcome.opportunity_at is None or outcome.closes_at is None or outcome.updated_at is None:
        return None
    canonical = person.lead.properties
    enterprise = (canonical.get("company_size") or 0) >= _ENTERPRISE_SIZE
    pipeline = DEAL_PIPELINES[1] if enterprise else DEAL_PIPELINES[0]
    if outcome.closed:
        stage = pipeline.won_stage if outcome.won else pipeline.lost_stage
    else:
        open_stages = pipeline.open_stages
        stage = open_stages[min(int(outcome.progress * len(open_stages)), len(open_stages) - 1)]
    deal = {
        "dealname": f"{canonical.get('company') or 'Unknown company'} - New Business",
        "dealtype": "newbusiness",
        "pipeline": pipeline.id,
        "dealstage": stage.id,
        "closedate": format_time(outcome.closes_at),  # expected while open, actual once closed
        "createdate": format_time(outcome.opportunity_at),
        "hs_lastmodifieddate": format_time(outcome.updated_at),
    }
    if outcome.amount is not None:
        deal["amount"] = str(int(outcome.amount)) if outcome.amount.is_integer() else str(outcome.amount)
    if canonical.get("owner_id"):
        deal["hubspot_owner_id"] = str(canonical["owner_id"])
    return deal


def apply_activity(props: dict[str, str], activity: Activity, owner_id: str | None) -> list[Engagement]:
    """Fold one activity into a contact's counters (in place); the engagement objects it makes."""
    at = format_time(activity.at)
    count = activity.count
    kind = activity.type
    if at > props.get("lastmodifieddate", ""):
        props["lastmodifieddate"] = at
    if kind in ("page_view", "site_visit"):
        counter = "hs_analytics_num_page_views" if kind == "page_view" else "hs_analytics_num_visits"
        _add(props, counter, count)
        _earliest(props, "hs_analytics_first_timestamp", at)
        if _latest(props, "hs_analytics_last_visit_timestamp", at) and activity.url:
            props["hs_analytics_last_url"] = activity.url
        if activity.url and "hs_analytics_first_url" not in props:
            props["hs_analytics_first_url"] = activity.url
        views = int(props.get("hs_analytics_num_page_views", "0"))
        visits = max(int(props.get("hs_analytics_num_visits", "0")), 1)
        props["hs_analytics_average_page_views"] = str(round(views / visits, 2))
    elif kind == "email_open":
        _add(props, "hs_email_open", count)
        _add(props, "hs_email_delivered", count)
        _earliest(props, "hs_email_first_open_date", at)
        _latest(props, "hs_email_last_open_date", at)
    elif kind == "email_click":
        _add(props, "hs_email_click", count)
        _latest(props, "hs_email_last_click_date", at)
    elif kind == "unsubscribe":
        props["hs_email_optout"] = "true"
    elif kind in _CONVERSIONS:
        _convert(props, _CONVERSIONS[kind](activity), at)
    elif kind == "meeting_booked":
        _latest(props, "hs_last_sales_activity_timestamp", at)
        start = activity.at + timedelta(days=1)
        return [
            (
                MEETINGS,
                {
                    "hs_createdate": at,  # booked now, for tomorrow: created in the past, never the future
                    "hs_timestamp": format_time(start),
                    "hs_meeting_title": activity.name or "Meeting",
                    "hs_meeting_start_time": format_time(start),
                    "hs_meeting_end_time": format_time(start + timedelta(minutes=30)),
                    "hs_meeting_outcome": "SCHEDULED",
                    **_owned(owner_id),
                },
            )
        ]
    elif kind == "call":
        _latest(props, "notes_last_contacted", at)
        _latest(props, "hs_last_sales_activity_timestamp", at)
        return [
            (
                CALLS,
                {
                    "hs_timestamp": at,
                    "hs_call_title": activity.name or "Call",
                    "hs_call_direction": "OUTBOUND",
                    "hs_call_status": "COMPLETED",
                    "hs_call_duration": str(60000 * (3 + activity.at.minute % 20)),
                    **_owned(owner_id),
                },
            )
        ]
    elif kind == "chat":
        return [
            (
                NOTES,
                {"hs_timestamp": at, "hs_note_body": f"Chat: {activity.name or 'website chat'}", **_owned(owner_id)},
            )
        ]
    return []


# conversion name per canonical activity type: HubSpot only keeps form conversion names
_CONVERSIONS: dict[str, Callable[[Activity], str]] = {
    "form_submission": lambda a: a.name or "Form submission",
    "content_download": lambda a: f"Download: {a.name or 'content'}",
    "newsletter_signup": lambda a: "Newsletter subscription",
    "webinar_registration": lambda a: f"Register: {a.name or 'webinar'}",
}


def _owned(owner_id: str | None) -> dict[str, str]:
    return {"hubspot_owner_id": owner_id} if owner_id else {}


def _add(props: dict[str, str], name: str, count: int) -> None:
    props[name] = str(int(props.get(name, "0")) + count)


def _earliest(props: dict[str, str], name: str, at: str) -> bool:
    if name not in props or at < props[name]:
        props[name] = at
        return True
    return False


def _latest(props: dict[str, str], name: str, at: str) -> bool:
    if name not in props or at >= props[name]:
        props[name] = at
        return True
    return False


def _convert(props: dict[str, str], name: str, at: str) -> None:
    # HubSpot counts distinct forms; the contact only remembers the first and the latest
    # names, so a repeat of either counts as seen before
    seen = {props.get("first_conversion_event_name"), props.get("recent_conversion_event_name")}
    _add(props, "num_conversion_events", 1)
    if name not in seen:
        _add(props, "num_unique_conversion_events", 1)
    if _earliest(props, "first_conversion_date", at):
        props["first_conversion_event_name"] = name
    if _latest(props, "recent_conversion_date", at):
        props["recent_conversion_event_name"] = name


def _sales_email(person: Person, owner_id: str) -> Engagement:
    """The rep's first outreach, a day after the person arrived."""
    sent: datetime = person.created_at + timedelta(days=1)
    first = person.lead.properties.get("first_name") or "there"
    return (
        EMAILS,
        {
            "hs_timestamp": format_time(sent),
            "hs_email_subject": f"Hi {first}, quick question",
            "hs_email_text": "Saw you were looking at our site: happy to help if useful.",
            "hs_email_direction": "EMAIL",
            "hs_email_status": "SENT",
            "hubspot_owner_id": owner_id,
        },
    )
