"""A rep's sales work in the org: converting a Lead, moving and closing Opportunities.

Lead conversion does what Salesforce's ``convertLead`` does: an Account (or an
existing one), a Contact (or an existing one) and, unless told not to, an
Opportunity, all owned by the Lead's owner (the API user when a queue owns it);
the Lead becomes read-only with ``IsConverted``, the converted status,
``ConvertedDate`` and the three ``Converted*Id`` fields (no Opportunity id when none
was made); its Tasks and Events move to the Contact and relate to the Opportunity
(or the Account), its campaign memberships gain the Contact. Every record touched
gets new ``LastModifiedDate``/``SystemModstamp`` values: ``at`` (default now), so
synthetic history can convert in the past. All or nothing, as one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from connector.sandbox.salesforce.errors import RecordError
from connector.sandbox.salesforce.org import Org, Record
from connector.sandbox.salesforce.schema import OPPORTUNITY_STAGES, SObject
from connector.sandbox.salesforce.values import parse_datetime, sf_datetime

#: how far out a converted opportunity's close date is when the rep gives none
DEFAULT_CLOSE_DAYS = 30
#: Lead fields a Contact takes over (the org's lead field mapping includes its custom fields)
_CONTACT_FIELDS = {
    "FirstName": "FirstName",
    "LastName": "LastName",
    "Email": "Email",
    "Title": "Title",
    "LeadSource": "LeadSource",
    "Country": "MailingCountry",
    "HasOptedOutOfEmail": "HasOptedOutOfEmail",
}
_WON = next(s.name for s in OPPORTUNITY_STAGES if s.won)
_LOST = next(s.name for s in OPPORTUNITY_STAGES if s.closed and not s.won)


#: how a record is made: ``Org.load`` or a checked system ``Org.create``
_New = Callable[[SObject, dict[str, Any]], Record]


#: how a record is changed: ``Org.amend`` or a checked system ``Org.update``
_Change = Callable[[Record, dict[str, Any]], Record]


def _creator(org: Org) -> _New:
    return lambda sobject, fields: org.create(sobject, fields, system=True)


def _changer(org: Org) -> _Change:
    return lambda record, fields: org.update(record, fields, system=True)


def _stamp(at: str) -> dict[str, str]:
    return {"LastModifiedDate": at, "SystemModstamp": at}


def _live(org: Org, record_id: str | None, kind: str) -> Record:
    record = org.get(record_id) if record_id else None
    if record is None or record.deleted or record.sobject.name != kind:
        raise LookupError(f"no {kind} {record_id}")
    return record


def _user_owner(org: Org, owner_id: str | None) -> str | None:
    """Queues own Leads, not Accounts, Contacts or Opportunities: the API user takes those."""
    return owner_id if owner_id and owner_id.startswith("005") else org.api_user_id


def convert_lead(
    org: Org,
    lead_id: str,
    *,
    opportunity: bool = True,
    account_id: str | None = None,
    contact_id: str | None = None,
    opportunity_fields: dict[str, Any] | None = None,
    at: str | None = None,
    generated: bool = False,
) -> Record:
    """Convert a Lead (see the module docstring); returns it. ``opportunity_fields`` override
    the new Opportunity's (``Amount``, ``StageName``, ``CloseDate``, ``Name``...).
    ``generated``: the synthetic renderer's own values, so records are loaded and changed without
    per-field checks (:meth:`Org.load`, :meth:`Org.amend`)."""
    new: _New = org.load if generated else _creator(org)
    change: _Change = org.amend if generated else _changer(org)
    with org.lock, org.transaction():
        lead = _live(org, lead_id, "Lead")
        if lead.values.get("IsConverted"):
            raise RecordError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead")
        at = at or sf_datetime(org.clock())
        values = lead.values
        owner = _user_owner(org, values.get("OwnerId"))
        created = {"CreatedDate": at, **_stamp(at), "OwnerId": owner}
        if account_id:
            account = _live(org, account_id, "Account")
        else:
            account = new(
                org.schema.objects["account"],
                {
                    "Name": values.get("Company") or values.get("Name"),
                    "Industry": values.get("Industry"),
                    "NumberOfEmployees": values.get("NumberOfEmployees"),
                    "BillingCountry": values.get("Country"),
                    **created,
                },
            )
        if contact_id:
            contact = _live(org, contact_id, "Contact")
            if not contact.values.get("AccountId"):
                change(contact, {"AccountId": account.id, **_stamp(at)})
        else:
            contact = new(org.schema.objects["contact"], _contact_fields(org, lead, account, created))
        deal: Record | None = None
        if opportunity:
            deal = open_opportunity(org, account, lead, {**created, **(opportunity_fields or {})}, at, new)
        change(
            lead,
            {
                "IsConverted": True,
                "ConvertedDate": at[:10],
                "ConvertedAccountId": account.id,
                "ConvertedContactId": contact.id,
                "ConvertedOpportunityId": deal.id if deal else None,
                **_stamp(at),
            },
        )
        _move_children(org, change, lead, contact, deal or account, at)
        return lead


def _contact_fields(org: Org, lead: Record, account: Record, created: dict[str, Any]) -> dict[str, Any]:
    contact_type = org.schema.objects["contact"]
    fields = {target: lead.values.get(source) for source, target in _CONTACT_FIELDS.items()}
    for field in contact_type.fields:
        if field.custom and lead.sobject.field(field.name) is not None:
            fields[field.name] = lead.values.get(field.name)
    return {**fields, "AccountId": account.id, **created}


def open_opportunity(
    org: Org, account: Record, source: Record, fields: dict[str, Any], at: str, new: _New | None = None
) -> Record:
    """An Opportunity on ``account`` for a Lead or Contact, first stage and a close date a month
    out unless ``fields`` say otherwise; ``new`` writes it (default: a checked system write)."""
    close = parse_datetime(at)
    assert close is not None  # stamps are always well-formed
    name = source.values.get("Company") or account.values.get("Name")
    return (new or _creator(org))(
        org.schema.objects["opportunity"],
        {
            "Name": f"{name}-",
            "AccountId": account.id,
            "StageName": OPPORTUNITY_STAGES[0].name,
            "CloseDate": (close + timedelta(days=DEFAULT_CLOSE_DAYS)).strftime("%Y-%m-%d"),
            "Type": "New Business",
            "LeadSource": source.values.get("LeadSource"),
            "CreatedDate": at,
            **_stamp(at),
            **fields,
        },
    )


def _move_children(org: Org, change: _Change, lead: Record, contact: Record, related: Record, at: str) -> None:
    for child in org.related(lead.id):
        if child.sobject.name == "CampaignMember":
            if not child.values.get("ContactId"):
                change(child, {"ContactId": contact.id, **_stamp(at)})
        elif child.values.get("WhoId") == lead.id:
            what = child.values.get("WhatId") or related.id
            change(child, {"WhoId": contact.id, "WhatId": what, **_stamp(at)})


def move_opportunity(org: Org, opportunity_id: str, stage: str, **fields: Any) -> Record:
    """A rep moves an Opportunity: ``stage`` is a StageName, or ``won``, ``lost`` or ``reopen``
    (the first stage). Closing sets today's CloseDate unless ``fields`` give one."""
    with org.lock:
        deal = _live(org, opportunity_id, "Opportunity")
        named = {"won": _WON, "lost": _LOST, "reopen": OPPORTUNITY_STAGES[0].name}
        stage_name = named.get(stage, stage)
        changes = {"StageName": stage_name, **fields}
        if stage_name in (_WON, _LOST) and "CloseDate" not in fields:
            changes["CloseDate"] = sf_datetime(org.clock())[:10]
        return org.update(deal, changes, system=True)


def set_task_status(org: Org, task_id: str, status: str = "Completed") -> Record:
    """A rep works a Task: a closed status stamps ``CompletedDateTime``, an open one clears it."""
    with org.lock:
        return org.update(_live(org, task_id, "Task"), {"Status": status}, system=True)


def delete_opportunity(org: Org, opportunity_id: str) -> None:
    """A rep deletes an Opportunity: to the Recycle Bin, where ``queryAll`` still sees it."""
    with org.lock:
        org.delete(_live(org, opportunity_id, "Opportunity"))
