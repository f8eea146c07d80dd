"""The HubSpot object types the sandbox serves, their aliases and association type ids."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ObjectType:
    """One CRM object type as HubSpot names and numbers it."""

    name: str  # the plural path name: "contacts"
    type_id: str  # "0-1"
    singular: str  # "contact"
    first_id: int  # ids handed out start here (HubSpot ids are large integers)
    #: read-only datetime properties holding creation and last modification
    created_property: str
    modified_properties: tuple[str, ...]
    #: properties returned when a call names none
    default_properties: tuple[str, ...]
    #: properties returned whatever the call names
    always_properties: tuple[str, ...]
    #: properties a create must carry
    required: tuple[str, ...] = ()
    #: what the CRM shows as the record's name (the schema's primaryDisplayProperty)
    display_property: str = "hs_object_id"

    @property
    def fully_qualified_name(self) -> str:
        return self.singular.upper()


CONTACTS = ObjectType(
    name="contacts",
    type_id="0-1",
    singular="contact",
    first_id=100001,
    created_property="createdate",
    modified_properties=("lastmodifieddate", "hs_lastmodifieddate"),
    default_properties=("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    always_properties=("createdate", "hs_object_id", "lastmodifieddate"),
    display_property="firstname",
)
DEALS = ObjectType(
    name="deals",
    type_id="0-3",
    singular="deal",
    first_id=9000000001,
    created_property="createdate",
    modified_properties=("hs_lastmodifieddate",),
    default_properties=(
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    always_properties=("createdate", "hs_lastmodifieddate", "hs_object_id"),
    required=("dealname", "dealstage"),
    display_property="dealname",
)
#: HubSpot's Leads object (Sales Hub): every lead belongs to a contact (see the routes)
LEADS = ObjectType(
    name="leads",
    type_id="0-136",
    singular="lead",
    first_id=380000000001,
    created_property="hs_createdate",
    modified_properties=("hs_lastmodifieddate",),
    default_properties=("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    always_properties=("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    required=("hs_lead_name",),
    display_property="hs_lead_name",
)


def _engagement(name: str, type_id: str, singular: str, first_id: int) -> ObjectType:
    return ObjectType(
        name=name,
        type_id=type_id,
        singular=singular,
        first_id=first_id,
        created_property="hs_createdate",
        modified_properties=("hs_lastmodifieddate",),
        default_properties=("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
        always_properties=("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
        required=("hs_timestamp",),
    )


TASKS = _engagement("tasks", "0-27", "task", 30000001)
CALLS = _engagement("calls", "0-48", "call", 40000001)
MEETINGS = _engagement("meetings", "0-47", "meeting", 50000001)
EMAILS = _engagement("emails", "0-49", "email", 60000001)
NOTES = _engagement("notes", "0-46", "note", 70000001)

OBJECT_TYPES: tuple[ObjectType, ...] = (CONTACTS, DEALS, LEADS, TASKS, CALLS, MEETINGS, EMAILS, NOTES)

# HubSpot accepts the plural, the singular, the type id and any letter case ("CONTACT")
_ALIASES: dict[str, ObjectType] = {}
for _type in OBJECT_TYPES:
    for _alias in (_type.name, _type.singular, _type.type_id):
        _ALIASES[_alias.lower()] = _type


def find_object_type(name: str) -> ObjectType | None:
    """The object type a path segment names, or None."""
    return _ALIASES.get(name.lower())


#: HUBSPOT_DEFINED association type ids, by (from, to) object type name
ASSOCIATION_TYPE_IDS: dict[tuple[str, str], int] = {
    ("contacts", "calls"): 193,
    ("calls", "contacts"): 194,
    ("contacts", "emails"): 197,
    ("emails", "contacts"): 198,
    ("contacts", "meetings"): 199,
    ("meetings", "contacts"): 200,
    ("contacts", "notes"): 201,
    ("notes", "contacts"): 202,
    ("contacts", "tasks"): 203,
    ("tasks", "contacts"): 204,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    # a lead to its primary contact, and a contact to its leads (HubSpot's documented ids)
    ("leads", "contacts"): 578,
    ("contacts", "leads"): 609,
    ("leads", "tasks"): 646,
    ("tasks", "leads"): 647,
}
#: the association a lead must have on create: to its primary contact
LEAD_TO_PRIMARY_CONTACT = 578
