"""Synthetic people and canonical activities, rendered into the sandbox org's records.

Where Salesforce keeps each kind of engagement (without a marketing-automation add-on):

| canonical activity                  | record                                                          |
|-------------------------------------|-----------------------------------------------------------------|
| form_submission "Request a demo"    | CampaignMember of Web campaign "Request a Demo", "Responded"    |
| form_submission "Contact sales"     | ... Web campaign "Contact Sales", "Responded"                   |
| form_submission / trial_signup      | ... Web campaign named after the form ("Free Trial Sign-up")    |
| content_download                    | ... Content campaign "Download: <title>", "Downloaded"          |
| newsletter_signup                   | ... Email campaign "Newsletter", "Subscribed"                   |
| email_click / email_open            | ... Email campaign "Newsletter <YYYY-MM>", "Clicked" / "Opened"  |
| page_view of /pricing               | ... Web campaign "Pricing Page Visit", "Responded"              |
| webinar_registration / _attendance  | ... Webinar campaign named after the webinar, "Registered"/"Attended" |
| meeting_booked                      | Event (Type Meeting) with WhoId                                 |
| call                                | completed Task, Type Call, TaskSubtype Call                     |
| chat                                | completed Task, Type Other                                      |
| unsubscribe                         | HasOptedOutOfEmail = true on the person                         |

Other page views, site visits and cart adds leave no trace, as in a real org.
A person is a member of a campaign once; a later, stronger status (Attended over
Registered, Clicked over Opened) replaces the earlier one.

A person who became an opportunity (their planted outcome) is a Lead converted at
that moment (:func:`~connector.sandbox.salesforce.sales.convert_lead`) into their
company's Account (one per company, made at its first sale: later conversions go
into an existing account), with an Opportunity in the stage matching its progress,
or closed won / lost. Everyone else is a Lead, or for a few a Contact.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connector.model import Activity
from connector.sandbox.salesforce.org import Org, Record
from connector.sandbox.salesforce.sales import convert_lead
from connector.sandbox.salesforce.schema import (
    CONVERTED_STATUS,
    LEAD_STATUSES,
    MEMBER_STATUSES,
    OPPORTUNITY_STAGES,
    TASK_CLOSED_STATUSES,
    TASK_STATUSES,
)
from connector.sandbox.salesforce.values import sf_date, sf_datetime
from connector.sandbox.synthetic import Owner, Person

#: canonical lead_status -> Lead Status
LEAD_STATUS = {
    "IN_PROGRESS": "Working - Contacted",
    "ATTEMPTED_TO_CONTACT": "Working - Contacted",
    "CONNECTED": "Working - Contacted",
    "BAD_TIMING": "Recycled",
    "UNQUALIFIED": "Closed - Not Converted",
}
#: canonical lifecycle_stage -> Lifecycle_Stage__c (beyond SQL, conversion tells the story)
STAGE = {"mql": "MQL", "sql": "SQL", "opportunity": "SQL", "customer": "SQL"}
#: web forms whose campaign has a name of its own
FORM_CAMPAIGNS = {
    "request a demo": "Request a Demo",
    "contact sales": "Contact Sales",
    "start free trial": "Free Trial Sign-up",
}
_STATUS_RANK = ("Sent", "Opened", "Subscribed", "Registered", "Responded", "Downloaded", "Clicked", "Attended")
#: share of people (not customers) the sales team entered as Contacts rather than Leads
_CONTACT_SHARE = 10  # percent


@dataclass(frozen=True, slots=True)
class Directory:
    """Who can own records: users by synthetic owner id, the queue, the API's own user."""

    api_user_id: str
    queue_id: str
    users: dict[str, str]  # synthetic owner id -> User id
    reps: tuple[str, ...]

    def owner(self, synthetic_id: str | None, users_only: bool = False) -> str:
        """The org owner for a synthetic owner id: its user, else the queue (a user picked
        by id where only users may own), and the API user for nobody."""
        if synthetic_id is None:
            return self.api_user_id
        if synthetic_id in self.users:
            return self.users[synthetic_id]
        if not users_only:
            return self.queue_id
        return self.reps[zlib.crc32(synthetic_id.encode()) % len(self.reps)]


def seed_directory(org: Org, owners: tuple[Owner, ...], at: datetime) -> Directory:
    """Users for the reps, the API user, and the inbound queue (owns Leads, not Tasks)."""
    stamp = {"CreatedDate": sf_datetime(at), "LastModifiedDate": sf_datetime(at), "SystemModstamp": sf_datetime(at)}
    user = org.schema.objects["user"]
    admin = org.create(
        user,
        {
            "FirstName": "Sandbox",
            "LastName": "Admin",
            "Email": "admin@northbeam.example",
            "Username": "admin@northbeam.example.sandbox",
            "Alias": "sadmin",
            "IsActive": True,
            **stamp,
        },
        system=True,
    )
    org.api_user_id = admin.id
    users: dict[str, str] = {}
    queue_id = ""
    for owner in owners:
        if owner.kind == "queue":
            queue = org.create(
                org.schema.objects["group"],
                {
                    "Name": f"{owner.first_name} {owner.last_name}",
                    "DeveloperName": "Inbound_Queue",
                    "Type": "Queue",
                    "Email": "inbound@northbeam.example",
                    **stamp,
                },
                system=True,
            )
            queue_id = queue.id
            org.queue_objects[queue_id] = frozenset({"Lead"})
            continue
        alias = (owner.first_name[0] + owner.last_name[:4]).lower()
        users[owner.id] = org.create(
            user,
            {
                "FirstName": owner.first_name,
                "LastName": owner.last_name,
                "Email": owner.email,
                "Username": owner.email + ".sandbox",
                "Alias": alias,
                "IsActive": True,
                "Department": owner.team,
                **stamp,
            },
            system=True,
        ).id
    return Directory(admin.id, queue_id, users, tuple(users.values()))


def seed_status_values(org: Org, at: datetime) -> None:
    """The LeadStatus and TaskStatus rows: what each picklist value means."""
    stamp = {"CreatedDate": sf_datetime(at), "LastModifiedDate": sf_datetime(at), "SystemModstamp": sf_datetime(at)}
    for kind, values, flag, flagged in (
        ("leadstatus", LEAD_STATUSES, "IsConverted", {CONVERTED_STATUS}),
        ("taskstatus", TASK_STATUSES, "IsClosed", TASK_CLOSED_STATUSES),
    ):
        for order, value in enumerate(values, start=1):
            org.create(
                org.schema.objects[kind],
                {
                    "MasterLabel": value,
                    "ApiName": value,
                    "SortOrder": order,
                    "IsDefault": order == 1,
                    flag: value in flagged,
                    **stamp,
                },
                system=True,
            )


class Renderer:
    """Writes people and activities into one org (campaigns are made on first use)."""

    def __init__(self, org: Org, directory: Directory, custom_fields: bool) -> None:
        self.org = org
        self.directory = directory
        self.custom_fields = custom_fields
        self._campaigns: dict[str, Record] = {}
        self._accounts: dict[str, Record] = {}
        #: company -> when it first became an opportunity (see prepare)
        self._first_sale: dict[str, datetime] = {}
        #: inside generated(): values come from the synthetic generator, written unchecked
        self._trusted = False

    @contextlib.contextmanager
    def generated(self) -> Iterator[None]:
        """Render synthetic people inside: their values are well-formed by construction, so records
        are loaded without per-field checks (most of seeding a large org). Activities from the
        control API are rendered outside, with every check of a write."""
        self._trusted = True
        try:
            yield
        finally:
            self._trusted = False

    def prepare(self, people: list[Person]) -> None:
        """Note when each company first bought, so its Account predates every conversion into it."""
        for person in people:
            opened = person.outcome.opportunity_at
            company = str(person.lead.properties.get("company"))
            if opened is not None and (company not in self._first_sale or opened < self._first_sale[company]):
                self._first_sale[company] = opened

    def person(self, person: Person) -> Record:
        """A synthetic person as a Lead (converted once they became an opportunity) or a Contact."""
        props = person.lead.properties
        created = sf_datetime(person.created_at)
        stamp = {"CreatedDate": created, "LastModifiedDate": created, "SystemModstamp": created}
        if not person.outcome.converted and zlib.crc32(str(props.get("email")).encode()) % 100 < _CONTACT_SHARE:
            record = self._new(
                "contact",
                {
                    **self._person_fields(props, contact=True),
                    **stamp,
                    "OwnerId": self.directory.owner(props.get("owner_id"), users_only=True),
                },
            )
        else:
            fields = {**self._person_fields(props, contact=False), **stamp}
            record = self._new("lead", {**fields, "OwnerId": self.directory.owner(props.get("owner_id"))})
        for activity in sorted(person.lead.activities, key=lambda a: a.at):
            self.activity(record, activity)
        if props.get("lead_status") in ("IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED"):
            self._outreach(record, person)
        if person.outcome.converted:
            self._convert(record, person)
        return record

    def _convert(self, lead: Record, person: Person) -> None:
        """The rep's conversion when the person became an opportunity, with the deal as it stands now."""
        outcome = person.outcome
        assert outcome.opportunity_at is not None and outcome.closes_at is not None
        assert outcome.updated_at is not None
        if outcome.closed:
            stage = next(s for s in OPPORTUNITY_STAGES if s.closed and s.won == outcome.won)
        else:
            open_stages = [s for s in OPPORTUNITY_STAGES if not s.closed]
            stage = open_stages[min(int(outcome.progress * len(open_stages)), len(open_stages) - 1)]
        updated = sf_datetime(outcome.updated_at)
        convert_lead(
            self.org,
            lead.id,
            account_id=self._account(person).id,
            opportunity_fields={
                "StageName": stage.name,
                "CloseDate": sf_date(outcome.closes_at),  # expected while open, actual once closed
                "Amount": outcome.amount,
                "LastModifiedDate": updated,
                "SystemModstamp": updated,
                "LastStageChangeDate": updated,
            },
            at=sf_datetime(outcome.opportunity_at),
            generated=self._trusted,
        )

    def _account(self, person: Person) -> Record:
        """The Account of a person's company, made on the company's first sale."""
        props = person.lead.properties
        company = str(props.get("company"))
        account = self._accounts.get(company)
        if account is None:
            since = sf_datetime(self._first_sale.get(company) or person.created_at)
            owner = self.directory.owner(props.get("owner_id"), users_only=True)
            account = self._new(
                "account",
                {
                    "Name": company,
                    "Type": "Customer - Direct",
                    "Industry": props.get("industry"),
                    "NumberOfEmployees": props.get("company_size"),
                    "BillingCountry": props.get("country"),
                    "OwnerId": owner,
                    "CreatedDate": since,
                    "LastModifiedDate": since,
                    "SystemModstamp": since,
                },
            )
            self._accounts[company] = account
        return account

    def activity(self, who: Record, activity: Activity) -> Record | None:
        """Record one canonical activity of ``who`` (a Lead or Contact); the record it made or changed."""
        happened = activity.at.timestamp()
        kind, at = activity.type, sf_datetime(happened)
        owner = who.values.get("OwnerId")
        task_owner = owner if owner and not owner.startswith("00G") else self.directory.api_user_id
        # a bad CreatedDate can be loaded (audit fields); the modstamps are the server's and never lie ahead
        now = self.org.clock()
        written = at if happened <= now else sf_datetime(now)
        stamp = {"CreatedDate": at, "LastModifiedDate": written, "SystemModstamp": written}
        if kind == "meeting_booked":
            start = activity.at + timedelta(days=1)
            return self._new(
                "event",
                {
                    "Subject": activity.name or "Meeting",
                    "Type": "Meeting",
                    "WhoId": who.id,
                    "OwnerId": task_owner,
                    "StartDateTime": sf_datetime(start),
                    "EndDateTime": sf_datetime(start + timedelta(minutes=30)),
                    **stamp,
                },
            )
        if kind in ("call", "chat"):
            call = kind == "call"
            return self._new(
                "task",
                {
                    "Subject": (activity.name or "Call") if call else f"Chat: {activity.name or 'website chat'}",
                    "Type": "Call" if call else "Other",
                    "TaskSubtype": "Call" if call else "Task",
                    "Status": "Completed",
                    "Priority": "Normal",
                    "WhoId": who.id,
                    "OwnerId": task_owner,
                    "ActivityDate": at[:10],
                    "CallDurationInSeconds": 60 * (3 + activity.at.minute % 20) if call else None,
                    **stamp,
                },
            )
        if kind == "unsubscribe":
            return self._change(who, {"HasOptedOutOfEmail": True, "LastModifiedDate": at, "SystemModstamp": at})
        response = _campaign_response(activity)
        if response is None:
            return None
        name, campaign_type, status = response
        campaign = self._campaign(name, campaign_type, at)
        person_keys = {"ContactId": who.id} if who.sobject.name == "Contact" else {"LeadId": who.id}
        return self._membership(campaign, person_keys, status, at)

    # -- internals ---------------------------------------------------------------------

    def _new(self, kind: str, fields: dict[str, Any]) -> Record:
        """A record written by the org itself (seeding, a rep in the UI)."""
        sobject = self.org.schema.objects[kind]
        if self._trusted:
            return self.org.load(sobject, fields)
        return self.org.create(sobject, fields, system=True)

    def _change(self, record: Record, fields: dict[str, Any]) -> Record:
        """A change the org itself makes (a rep, automation) to ``record``."""
        if self._trusted:
            return self.org.amend(record, fields)
        return self.org.update(record, fields, system=True)

    def _person_fields(self, props: dict[str, Any] | Any, contact: bool) -> dict[str, Any]:
        source = props.get("lead_source")
        fields: dict[str, Any] = {
            "FirstName": props.get("first_name"),
            "LastName": props.get("last_name") or "Unknown",
            "Email": props.get("email"),
            "Title": props.get("job_title"),
            "LeadSource": source.replace("_", " ").title() if source else None,
        }
        if contact:
            fields["MailingCountry"] = props.get("country")
        else:
            fields.update(
                Company=props.get("company") or "[not provided]",
                Industry=props.get("industry"),
                Country=props.get("country"),
                NumberOfEmployees=props.get("company_size"),
                Status=LEAD_STATUS.get(props.get("lead_status") or "", "Open - Not Contacted"),
            )
        if self.custom_fields:
            fields.update(
                Lifecycle_Stage__c=STAGE.get(props.get("lifecycle_stage") or "", "Lead"),
                Budget__c=props.get("budget"),
                Timeline__c=props.get("timeline"),
                Need__c=props.get("need"),
            )
        return fields

    def _outreach(self, who: Record, person: Person) -> None:
        """A rep's first email, a day after the person arrived (leads being worked have one)."""
        owner = who.values.get("OwnerId")
        if not owner or owner.startswith("00G"):
            return
        sent = person.created_at + timedelta(days=1)
        at = sf_datetime(sent)
        self._new(
            "task",
            {
                "Subject": f"Email: Hi {person.lead.properties.get('first_name') or 'there'}, quick question",
                "Type": "Email",
                "TaskSubtype": "Email",
                "Status": "Completed",
                "WhoId": who.id,
                "OwnerId": owner,
                "ActivityDate": at[:10],
                "CreatedDate": at,
                "LastModifiedDate": at,
                "SystemModstamp": at,
            },
        )

    def _campaign(self, name: str, campaign_type: str, at: str) -> Record:
        campaign = self._campaigns.get(name)
        if campaign is None:
            found = [c for c in self.org.records(self.org.schema.objects["campaign"]) if c.values["Name"] == name]
            campaign = (
                found[0]
                if found
                else self._new(
                    "campaign",
                    {
                        "Name": name,
                        "Type": campaign_type,
                        "Status": "In Progress",
                        "IsActive": True,
                        "StartDate": at[:10],
                        "CreatedDate": at,
                        "LastModifiedDate": at,
                        "SystemModstamp": at,
                    },
                )
            )
            self._campaigns[name] = campaign
        return campaign

    def _membership(self, campaign: Record, person: dict[str, str], status: str, at: str) -> Record:
        key = person.get("LeadId") or person["ContactId"]
        member = self.org.membership(campaign.id, key)
        if member is not None:
            if _STATUS_RANK.index(status) > _STATUS_RANK.index(member.values["Status"]):
                self._change(member, {"Status": status, "LastModifiedDate": at, "SystemModstamp": at})
            return member
        return self._new(
            "campaignmember",
            {
                "CampaignId": campaign.id,
                **person,
                "Status": status,
                "FirstRespondedDate": at[:10] if MEMBER_STATUSES[status] else None,
                "CreatedDate": at,
                "LastModifiedDate": at,
                "SystemModstamp": at,
            },
        )


def _campaign_response(activity: Activity) -> tuple[str, str, str] | None:
    """(campaign name, campaign type, member status) of an activity kept as a campaign response."""
    kind, name = activity.type, activity.name
    if kind in ("form_submission", "trial_signup"):
        form = name or "Website Form"
        return (
            FORM_CAMPAIGNS.get(form.lower(), "Free Trial Sign-up" if kind == "trial_signup" else form),
            "Web",
            "Responded",
        )
    if kind == "content_download":
        return f"Download: {name or 'Content'}", "Content", "Downloaded"
    if kind == "newsletter_signup":
        return "Newsletter", "Email", "Subscribed"
    if kind in ("email_click", "email_open"):
        return (f"Newsletter {activity.at:%Y-%m}", "Email", "Clicked" if kind == "email_click" else "Opened")
    if kind in ("webinar_registration", "webinar_attendance"):
        return name or "Webinar", "Webinar", "Attended" if kind == "webinar_attendance" else "Registered"
    if kind == "page_view" and activity.url and activity.url.rstrip("/").endswith("/pricing"):
        return "Pricing Page Visit", "Web", "Responded"
    return None
