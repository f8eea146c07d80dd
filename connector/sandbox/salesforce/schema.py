"""The sandbox org's objects and fields: what describe reports and what writes are checked against.

Field names are matched case-insensitively (as SOQL and the REST API do) but
always answered in their canonical spelling. The Handoff custom fields
(``*__c``, DESIGN's org contract) exist unless the org is built without them,
which is how the adapter's start-up check is shown failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Lead Status values; the first is the default, ``Closed - Converted`` is the converted status
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Recycled",
    "Closed - Converted",
    "Closed - Not Converted",
)
CONVERTED_STATUS = "Closed - Converted"
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
#: the Task Status values that close a task (TaskStatus.IsClosed)
TASK_CLOSED_STATUSES = frozenset({"Completed"})


@dataclass(frozen=True, slots=True)
class OpportunityStage:
    """A StageName value with its OpportunityStage settings."""

    name: str
    probability: int  # the default Probability (%) a move to this stage sets
    closed: bool = False
    won: bool = False


#: Salesforce's default sales process, in order
OPPORTUNITY_STAGES = (
    OpportunityStage("Prospecting", 10),
    OpportunityStage("Qualification", 10),
    OpportunityStage("Needs Analysis", 20),
    OpportunityStage("Value Proposition", 50),
    OpportunityStage("Id. Decision Makers", 60),
    OpportunityStage("Perception Analysis", 70),
    OpportunityStage("Proposal/Price Quote", 75),
    OpportunityStage("Negotiation/Review", 90),
    OpportunityStage("Closed Won", 100, closed=True, won=True),
    OpportunityStage("Closed Lost", 0, closed=True),
)
STAGES_BY_NAME = {stage.name: stage for stage in OPPORTUNITY_STAGES}
#: LeadSource values: Salesforce's defaults plus one per canonical source (its title-cased name)
LEAD_SOURCES = (
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Other",
    "Organic Search",
    "Direct Traffic",
    "Paid Search",
    "Email Marketing",
    "Social Media",
    "Referrals",
    "Paid Social",
    "Offline",
    "Other Campaigns",
)
CAMPAIGN_TYPES = ("Webinar", "Content", "Email", "Event", "Web")
#: CampaignMember Status -> HasResponded (the org's CampaignMemberStatus settings)
MEMBER_STATUSES = {
    "Sent": False,
    "Opened": False,
    "Registered": True,
    "Attended": True,
    "Responded": True,
    "Downloaded": True,
    "Clicked": True,
    "Subscribed": True,
}
#: Industry values: Salesforce's defaults, extended the way this org's admins did for its market
INDUSTRIES = (
    "Agriculture",
    "Banking",
    "Biotechnology",
    "Consulting",
    "Education",
    "Energy",
    "Financial Services",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Logistics",
    "Manufacturing",
    "Media",
    "Non-Profit",
    "Real Estate",
    "Retail",
    "Software",
    "Technology",
    "Telecommunications",
    "Other",
)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an sObject, as describe reports it (only what the sandbox uses is modelled)."""

    name: str
    type: str  # id string textarea email phone url picklist boolean int double currency date datetime reference address
    label: str
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted: bool = False
    custom: bool = False
    external_id: bool = False
    unique: bool = False
    id_lookup: bool = False
    picklist: tuple[str, ...] = ()
    default: str | None = None
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship: str | None = None
    calculated: bool = False
    precision: int = 0
    scale: int = 0

    @property
    def required(self) -> bool:
        """Must be given on create (not nillable and nothing fills it in)."""
        return not self.nillable and self.createable and not self.defaulted and self.type != "boolean"

    @property
    def is_text(self) -> bool:
        return self.type in (
            "string",
            "textarea",
            "email",
            "phone",
            "url",
            "picklist",
            "multipicklist",
            "id",
            "reference",
        )


@dataclass(frozen=True, slots=True)
class SObject:
    """An object type: its key prefix, fields in describe order, and child relationships."""

    name: str
    prefix: str
    label: str
    plural: str
    fields: tuple[Field, ...]
    #: (child object, field, relationship name)
    children: tuple[tuple[str, str, str], ...] = ()
    _by_key: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)
    _by_relationship: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key.update({f.name.lower(): f for f in self.fields})
        self._by_relationship.update({f.relationship.lower(): f for f in self.fields if f.relationship})

    def field(self, name: str) -> Field | None:
        """The field called ``name`` (any case), or None."""
        return self._by_key.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        """The reference field behind relationship ``name`` (``Owner`` -> ``OwnerId``), or None."""
        return self._by_relationship.get(name.lower())


# -- field builders: each reads like a line of a field list in Setup ------------------------


def _system(name: str, kind: str, label: str, nillable: bool = False, **extra: Any) -> Field:
    return Field(
        name,
        kind,
        label,
        nillable=nillable,
        createable=False,
        updateable=False,
        defaulted=True,
        length=18 if kind in ("id", "reference") else 0,
        **extra,
    )


def _text(name: str, label: str, length: int = 255, kind: str = "string", **extra: Any) -> Field:
    return Field(name, kind, label, length=length, **extra)


def _pick(name: str, label: str, values: Iterable[str], default: str | None = None, **extra: Any) -> Field:
    values = tuple(values)
    return Field(
        name, "picklist", label, length=255, picklist=values, default=default, defaulted=default is not None, **extra
    )


def _ref(name: str, label: str, to: tuple[str, ...], relationship: str | None, **extra: Any) -> Field:
    return Field(name, "reference", label, length=18, reference_to=to, relationship=relationship, **extra)


def _flag(name: str, label: str, **extra: Any) -> Field:
    return Field(name, "boolean", label, nillable=False, defaulted=True, **extra)


def _number(name: str, label: str, kind: str = "double", **extra: Any) -> Field:
    precision = 9 if kind == "int" else 18
    return Field(name, kind, label, precision=precision, **extra)


def _timestamps() -> tuple[Field, ...]:
    """The audit fields every object carries: who created and changed it, and when."""
    return (
        _system("CreatedDate", "datetime", "Created Date"),
        _system("CreatedById", "reference", "Created By ID", reference_to=("User",), relationship="CreatedBy"),
        _system("LastModifiedDate", "datetime", "Last Modified Date"),
        _system(
            "LastModifiedById",
            "reference",
            "Last Modified By ID",
            reference_to=("User",),
            relationship="LastModifiedBy",
        ),
        _system("SystemModstamp", "datetime", "System Modstamp"),
    )


def _audit(owner_label: str = "Owner ID", owner_to: tuple[str, ...] = ("Group", "User")) -> tuple[Field, ...]:
    """OwnerId plus the audit fields, for objects that have an owner."""
    return (_ref("OwnerId", owner_label, owner_to, "Owner", nillable=False, defaulted=True), *_timestamps())


def _handoff_fields() -> tuple[Field, ...]:
    """The custom fields Handoff writes, identical on Lead and Contact."""
    custom: dict[str, Any] = {"custom": True}
    return (
        _pick("Lifecycle_Stage__c", "Lifecycle Stage", ("Lead", "MQL", "SQL"), restricted=True, **custom),
        _number("Handoff_Score__c", "Handoff Score", **custom),
        _pick("Handoff_Fit_Grade__c", "Handoff Fit Grade", ("A", "B", "C", "D"), restricted=True, **custom),
        _number("Handoff_Fit_Points__c", "Handoff Fit Points", **custom),
        _number("Handoff_Engagement_Points__c", "Handoff Engagement Points", **custom),
        _pick("Handoff_Status__c", "Handoff Status", ("lead", "mql", "sql", "disqualified"), restricted=True, **custom),
        _text("Handoff_Reasons__c", "Handoff Reasons", 32768, "textarea", **custom),
        _text("Handoff_Missing_Info__c", "Handoff Missing Info", 255, **custom),
        _text("Handoff_Rules_Version__c", "Handoff Rules Version", 80, **custom),
        Field("Handoff_MQL_At__c", "datetime", "Handoff MQL At", custom=True),
        Field("Handoff_SQL_At__c", "datetime", "Handoff SQL At", custom=True),
        _number("Handoff_Shadow_Score__c", "Handoff Shadow Score", **custom),
        _pick(
            "Handoff_Shadow_Status__c",
            "Handoff Shadow Status",
            ("lead", "mql", "sql", "disqualified"),
            restricted=True,
            **custom,
        ),
        _text("Budget__c", "Budget", 255, **custom),
        _text("Timeline__c", "Timeline", 255, **custom),
        _text("Need__c", "Need", 255, **custom),
    )


def _address_fields() -> tuple[Field, ...]:
    return (
        _text("Street", "Street", 255, "textarea"),
        _text("City", "City", 40),
        _text("State", "State/Province", 80),
        _text("PostalCode", "Zip/Postal Code", 20),
        _text("Country", "Country", 80),
        _number("Latitude", "Latitude"),
        _number("Longitude", "Longitude"),
        _pick(
            "GeocodeAccuracy",
            "Geocode Accuracy",
            (
                "Address",
                "NearAddress",
                "Block",
                "Street",
                "ExtendedZip",
                "Zip",
                "Neighborhood",
                "City",
                "County",
                "State",
                "Unknown",
            ),
        ),
        Field("Address", "address", "Address", createable=False, updateable=False, calculated=True),
    )


def _lead(custom_fields: bool) -> SObject:
    fields = (
        _system("Id", "id", "Lead ID", id_lookup=True),
        _flag("IsDeleted", "Deleted", createable=False, updateable=False),
        _system(
            "MasterRecordId",
            "reference",
            "Master Record ID",
            reference_to=("Lead",),
            relationship="MasterRecord",
            nillable=True,
        ),
        _text("LastName", "Last Name", 80, nillable=False),
        _text("FirstName", "First Name", 40),
        _pick("Salutation", "Salutation", ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
        Field(
            "Name",
            "string",
            "Full Name",
            length=121,
            nillable=False,
            createable=False,
            updateable=False,
            calculated=True,
        ),
        _text("Title", "Title", 128),
        _text("Company", "Company", 255, nillable=False),
        *_address_fields(),
        _text("Phone", "Phone", 40, "phone"),
        _text("MobilePhone", "Mobile Phone", 40, "phone"),
        _text("Fax", "Fax", 40, "phone"),
        _text("Email", "Email", 80, "email", id_lookup=True),
        _text("Website", "Website", 255, "url"),
        Field("PhotoUrl", "url", "Photo URL", length=255, createable=False, updateable=False, calculated=True),
        _text("Description", "Description", 32000, "textarea"),
        _pick("LeadSource", "Lead Source", LEAD_SOURCES),
        _pick("Status", "Status", LEAD_STATUSES, default=LEAD_STATUSES[0], nillable=False),
        _pick("Industry", "Industry", INDUSTRIES),
        _pick("Rating", "Rating", ("Hot", "Warm", "Cold")),
        _number("AnnualRevenue", "Annual Revenue", "currency"),
        _number("NumberOfEmployees", "Employees", "int"),
        *_audit()[:1],
        _flag("HasOptedOutOfEmail", "Email Opt Out"),
        _flag("IsConverted", "Converted", createable=False, updateable=False),
        Field("ConvertedDate", "date", "Converted Date", createable=False, updateable=False),
        _ref(
            "ConvertedAccountId",
            "Converted Account ID",
            ("Account",),
            "ConvertedAccount",
            createable=False,
            updateable=False,
        ),
        _ref(
            "ConvertedContactId",
            "Converted Contact ID",
            ("Contact",),
            "ConvertedContact",
            createable=False,
            updateable=False,
        ),
        _ref(
            "ConvertedOpportunityId",
            "Converted Opportunity ID",
            ("Opportunity",),
            "ConvertedOpportunity",
            createable=False,
            updateable=False,
        ),
        _flag("IsUnreadByOwner", "Unread By Owner"),
        *_audit()[1:],
        Field("LastActivityDate", "date", "Last Activity", createable=False, updateable=False),
        Field("LastViewedDate", "datetime", "Last Viewed Date", createable=False, updateable=False),
        Field("LastReferencedDate", "datetime", "Last Referenced Date", createable=False, updateable=False),
        _text("Jigsaw", "Data.com Key", 20),
        _text("JigsawContactId", "Jigsaw Contact ID", 20, createable=False, updateable=False),
        _pick(
            "CleanStatus",
            "Clean Status",
            ("Matched", "Different", "Acknowledged", "NotFound", "Inactive", "Pending", "SelectMatch", "Skipped"),
            default="Pending",
        ),
        _text("CompanyDunsNumber", "Company D-U-N-S Number", 9),
        _ref("DandbCompanyId", "D&B Company ID", ("DandBCompany",), "DandbCompany"),
        _text("EmailBouncedReason", "Email Bounced Reason", 255),
        Field("EmailBouncedDate", "datetime", "Email Bounced Date"),
        _ref("IndividualId", "Individual ID", ("Individual",), "Individual"),
        *(_handoff_fields() if custom_fields else ()),
    )
    children = (
        ("CampaignMember", "LeadId", "CampaignMembers"),
        ("Event", "WhoId", "Events"),
        ("LeadHistory", "LeadId", "Histories"),
        ("Task", "WhoId", "Tasks"),
    )
    return SObject("Lead", "00Q", "Lead", "Leads", fields, children)


def _contact(custom_fields: bool) -> SObject:
    fields = (
        _system("Id", "id", "Contact ID", id_lookup=True),
        _flag("IsDeleted", "Deleted", createable=False, updateable=False),
        _system(
            "MasterRecordId",
            "reference",
            "Master Record ID",
            reference_to=("Contact",),
            relationship="MasterRecord",
            nillable=True,
        ),
        _ref("AccountId", "Account ID", ("Account",), "Account"),
        _text("LastName", "Last Name", 80, nillable=False),
        _text("FirstName", "First Name", 40),
        _pick("Salutation", "Salutation", ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
        Field(
            "Name",
            "string",
            "Full Name",
            length=121,
            nillable=False,
            createable=False,
            updateable=False,
            calculated=True,
        ),
        _text("MailingCountry", "Mailing Country", 80),
        _text("Phone", "Business Phone", 40, "phone"),
        _text("Email", "Email", 80, "email", id_lookup=True),
        _text("Title", "Title", 128),
        _text("Department", "Department", 80),
        _pick("LeadSource", "Lead Source", LEAD_SOURCES),
        _text("Description", "Contact Description", 32000, "textarea"),
        _flag("HasOptedOutOfEmail", "Email Opt Out"),
        _flag("DoNotCall", "Do Not Call"),
        *_audit(owner_to=("User",)),
        Field("LastActivityDate", "date", "Last Activity", createable=False, updateable=False),
        *(_handoff_fields() if custom_fields else ()),
    )
    children = (
        ("CampaignMember", "ContactId", "CampaignMembers"),
        ("Event", "WhoId", "Events"),
        ("Task", "WhoId", "Tasks"),
    )
    return SObject("Contact", "003", "Contact", "Contacts", fields, children)


def _activity_common() -> tuple[Field, ...]:
    return (
        _system("Id", "id", "Activity ID", id_lookup=True),
        _ref("WhoId", "Name ID", ("Contact", "Lead"), "Who"),
        _ref("WhatId", "Related To ID", ("Account", "Campaign", "Opportunity"), "What"),
        _text("Subject", "Subject", 255),
    )


def _task(custom_fields: bool) -> SObject:
    fields = (
        *_activity_common(),
        Field("ActivityDate", "date", "Due Date Only"),
        _pick("Status", "Status", TASK_STATUSES, default="Not Started", nillable=False),
        _pick("Priority", "Priority", ("High", "Normal", "Low"), default="Normal", nillable=False),
        Field(
            "IsHighPriority",
            "boolean",
            "High Priority",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted=True,
            calculated=True,
        ),
        *_audit("Assigned To ID")[:1],
        _text("Description", "Description", 32000, "textarea"),
        _pick("Type", "Type", ("Call", "Email", "Meeting", "Other")),
        _flag("IsDeleted", "Deleted", createable=False, updateable=False),
        _flag("IsClosed", "Closed", createable=False, updateable=False, calculated=True),
        *_audit()[1:],
        _number("CallDurationInSeconds", "Call Duration", "int"),
        _pick("CallType", "Call Type", ("Internal", "Inbound", "Outbound")),
        _text("CallDisposition", "Call Result", 255),
        Field("ReminderDateTime", "datetime", "Reminder Date/Time"),
        _flag("IsReminderSet", "Reminder Set"),
        _pick(
            "TaskSubtype",
            "Task Subtype",
            ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
            updateable=False,
        ),
        Field("CompletedDateTime", "datetime", "Completed Date/Time", createable=False, updateable=False),
        *(
            (_text("Handoff_Key__c", "Handoff Key", 120, custom=True, external_id=True, unique=True, id_lookup=True),)
            if custom_fields
            else ()
        ),
    )
    return SObject("Task", "00T", "Task", "Tasks", fields)


def _event() -> SObject:
    fields = (
        *_activity_common(),
        Field("ActivityDateTime", "datetime", "Due Date Time"),
        Field("ActivityDate", "date", "Due Date Only"),
        _number("DurationInMinutes", "Duration", "int"),
        Field("StartDateTime", "datetime", "Start Date Time"),
        Field("EndDateTime", "datetime", "End Date Time"),
        _flag("IsAllDayEvent", "All-Day Event"),
        _text("Description", "Description", 32000, "textarea"),
        _pick("Type", "Type", ("Call", "Email", "Meeting", "Other")),
        _pick("EventSubtype", "Event Subtype", ("Event",), updateable=False),
        _flag("IsDeleted", "Deleted", createable=False, updateable=False),
        *_audit("Assigned To ID"),
    )
    return SObject("Event", "00U", "Event", "Events", fields)


def _campaign() -> SObject:
    fields = (
        _system("Id", "id", "Campaign ID", id_lookup=True),
        _flag("IsDeleted", "Deleted", createable=False, updateable=False),
        _text("Name", "Name", 80, nillable=False),
        _pick("Type", "Type", CAMPAIGN_TYPES),
        _pick("Status", "Status", ("Planned", "In Progress", "Completed", "Aborted"), default="Planned"),
        Field("StartDate", "date", "Start Date"),
        Field("EndDate", "date", "End Date"),
        _flag("IsActive", "Active"),
        _text("Description", "Description", 32000, "textarea"),
        *_audit(owner_to=("User",)),
    )
    children = (("CampaignMember", "CampaignId", "CampaignMembers"),)
    return SObject("Campaign", "701", "Campaign", "Campaigns", fields, children)


def _campaign_member() -> SObject:
    fields = (
        _system("Id", "id", "Campaign Member ID", id_lookup=True),
        _flag("IsDeleted", "Deleted", createable=False, updateable=False),
        _ref("CampaignId", "Campaign ID", ("Campaign",), "Campaign", nillable=False, updateable=False),
        _ref("LeadId", "Lead ID", ("Lead",), "Lead", updateable=False),
        _ref("ContactId", "Contact ID", ("Contact",), "Contact", updateable=False),
        _pick("Status", "Status", tuple(MEMBER_STATUSES), default="Sent"),
        _flag("HasResponded", "Responded", createable=False, updateable=False),
        Field("FirstRespondedDate", "date", "First Responded Date", createable=False, updateable=False),
        *_timestamps(),  # a membership has no owner
    )
    return SObject("CampaignMember", "00v", "Campaign Member", "Campaign Members", fields)


def _account() -> SObject:
    fields = (
        _system("Id", "id", "Account ID", id_lookup=True),
        _flag("IsDeleted", "Deleted", createable=False, updateable=False),
        _text("Name", "Account Name", 255, nillable=False),
        _pick("Type", "Account Type", ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other")),
        _pick("Industry", "Industry", INDUSTRIES),
        _number("NumberOfEmployees", "Employees", "int"),
        _text("Website", "Website", 255, "url"),
        _text("BillingCountry", "Billing Country", 80),
        _text("Description", "Account Description", 32000, "textarea"),
        *_audit(owner_to=("User",)),
        Field("LastActivityDate", "date", "Last Activity", createable=False, updateable=False),
    )
    children = (
        ("Contact", "AccountId", "Contacts"),
        ("Event", "WhatId", "Events"),
        ("Opportunity", "AccountId", "Opportunities"),
        ("Task", "WhatId", "Tasks"),
    )
    return SObject("Account", "001", "Account", "Accounts", fields, children)


def _opportunity() -> SObject:
    fields = (
        _system("Id", "id", "Opportunity ID", id_lookup=True),
        _flag("IsDeleted", "Deleted", createable=False, updateable=False),
        _ref("AccountId", "Account ID", ("Account",), "Account"),
        _flag("IsPrivate", "Private"),
        _text("Name", "Name", 120, nillable=False),
        _text("Description", "Description", 32000, "textarea"),
        _pick("StageName", "Stage", tuple(s.name for s in OPPORTUNITY_STAGES), nillable=False, restricted=True),
        _number("Amount", "Amount", "currency"),
        _number("Probability", "Probability (%)", "percent"),
        Field("CloseDate", "date", "Close Date", nillable=False),
        _pick("Type", "Opportunity Type", ("Existing Business", "New Business")),
        _pick("LeadSource", "Lead Source", LEAD_SOURCES),
        _flag("IsClosed", "Closed", calculated=True, createable=False, updateable=False),
        _flag("IsWon", "Won", calculated=True, createable=False, updateable=False),
        *_audit(owner_to=("User",)),
        Field("LastActivityDate", "date", "Last Activity", createable=False, updateable=False),
        Field("LastStageChangeDate", "datetime", "Last Stage Change Date", createable=False, updateable=False),
    )
    children = (("Event", "WhatId", "Events"), ("Task", "WhatId", "Tasks"))
    return SObject("Opportunity", "006", "Opportunity", "Opportunities", fields, children)


def _status_values(name: str, label: str, flag: tuple[str, str]) -> SObject:
    """LeadStatus / TaskStatus: the picklist's values with what each one means (read-only)."""
    fields = (
        _system("Id", "id", f"{label} ID", id_lookup=True),
        _text("MasterLabel", "Master Label", 255, nillable=False, createable=False, updateable=False),
        _text("ApiName", "Api Name", 255, nillable=False, createable=False, updateable=False),
        _number("SortOrder", "Sort Order", "int", createable=False, updateable=False),
        _flag("IsDefault", "Is Default", createable=False, updateable=False),
        _flag(*flag, createable=False, updateable=False),
        *_timestamps(),
    )
    # picklist value objects share the key prefix of Salesforce's StandardValue
    return SObject(name, "01J", label, f"{label}s", fields)


def _user() -> SObject:
    fields = (
        _system("Id", "id", "User ID", id_lookup=True),
        _text("Username", "Username", 80, nillable=False, id_lookup=True),
        _text("LastName", "Last Name", 80, nillable=False),
        _text("FirstName", "First Name", 40),
        Field(
            "Name",
            "string",
            "Full Name",
            length=121,
            nillable=False,
            createable=False,
            updateable=False,
            calculated=True,
        ),
        _text("Email", "Email", 128, "email", nillable=False),
        _text("Alias", "Alias", 8, nillable=False),
        _flag("IsActive", "Active"),
        _pick("UserType", "User Type", ("Standard", "AutomatedProcess"), default="Standard", updateable=False),
        _text("Department", "Department", 80),
        _system("CreatedDate", "datetime", "Created Date"),
        _system("LastModifiedDate", "datetime", "Last Modified Date"),
        _system("SystemModstamp", "datetime", "System Modstamp"),
    )
    return SObject("User", "005", "User", "Users", fields)


def _group() -> SObject:
    fields = (
        _system("Id", "id", "Group ID", id_lookup=True),
        _text("Name", "Name", 40, nillable=False),
        _text("DeveloperName", "Developer Name", 80),
        _pick("Type", "Type", ("Queue", "Regular", "Role"), nillable=False, updateable=False),
        _text("Email", "Email", 255, "email"),
        _system("CreatedDate", "datetime", "Created Date"),
        _system("LastModifiedDate", "datetime", "Last Modified Date"),
        _system("SystemModstamp", "datetime", "System Modstamp"),
    )
    return SObject("Group", "00G", "Group", "Groups", fields)


#: the fields a polymorphic relationship (``Owner``, ``Who``, ``What``) answers, on the ``Name`` entity
NAME_FIELDS = ("Id", "Name", "Type", "Email", "IsActive", "FirstName", "LastName", "Alias")


@dataclass(frozen=True, slots=True)
class Schema:
    """Every object of the org, found by name (any case) or by id prefix."""

    objects: dict[str, SObject]
    by_prefix: dict[str, SObject]

    def get(self, name: str) -> SObject | None:
        return self.objects.get(name.lower())

    def of_id(self, record_id: str) -> SObject | None:
        return self.by_prefix.get(record_id[:3])


def custom_field(name: str, kind: str, picklist: Iterable[str] = ()) -> Field:
    """A field an admin added in Setup (``Occupation__c``, ``string``): numbers get a precision, text a length."""
    label = name.removesuffix("__c").replace("_", " ")
    if kind in ("int", "double", "currency", "percent"):
        return _number(name, label, kind, custom=True)
    if kind == "boolean":
        return _flag(name, label, custom=True)
    length = {"textarea": 32768, "multipicklist": 4099}.get(kind, 255 if Field(name, kind, label).is_text else 0)
    return Field(name, kind, label, length=length, custom=True, picklist=tuple(picklist))


def _with_fields(sobject: SObject, extra: tuple[Field, ...]) -> SObject:
    if not extra:
        return sobject
    return SObject(
        sobject.name, sobject.prefix, sobject.label, sobject.plural, (*sobject.fields, *extra), sobject.children
    )


def build_schema(custom_fields: bool = True, extra_fields: tuple[Field, ...] = ()) -> Schema:
    """The sandbox org's objects, with or without the Handoff custom fields; ``extra_fields`` on Lead and Contact."""
    objects = (
        _with_fields(_lead(custom_fields), extra_fields),
        _with_fields(_contact(custom_fields), extra_fields),
        _account(),
        _opportunity(),
        _task(custom_fields),
        _event(),
        _campaign(),
        _campaign_member(),
        _user(),
        _group(),
        _status_values("LeadStatus", "Lead Status Value", ("IsConverted", "Is Converted")),
        _status_values("TaskStatus", "Task Status Value", ("IsClosed", "Is Closed")),
    )
    by_prefix: dict[str, SObject] = {}
    for sobject in objects:
        by_prefix.setdefault(sobject.prefix, sobject)  # 01J: the first of the value objects answers
    return Schema({o.name.lower(): o for o in objects}, by_prefix)
