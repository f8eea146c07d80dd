"""Salesforce outcomes: lead conversion, Opportunities, Task completion and the status value
objects, read through the real simple-salesforce, moved by the rep's control verbs."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

GOOD_LEAD = {
    "FirstName": "Ana",
    "LastName": "Ruiz",
    "Company": "Acme",
    "Email": "ana@acme.io",
    "Industry": "Software",
    "NumberOfEmployees": 250,
    "Country": "DE",
    "LeadSource": "Web",
}


@pytest.fixture
def lead(salesforce_sandbox):
    (lead_id,) = salesforce_sandbox.seed_leads({**GOOD_LEAD, "OwnerId": salesforce_sandbox.app.directory.reps[0]})
    return lead_id


def _convert(sandbox, lead_id, **body):
    status, reply = sandbox.control("POST", f"/_sandbox/leads/{lead_id}/convert", body)
    assert status == 200, reply
    return reply


def test_converting_makes_account_contact_and_opportunity_and_locks_the_lead(
    salesforce_sandbox, salesforce_client, lead
):
    salesforce_sandbox.clock.advance(3600)
    reply = _convert(salesforce_sandbox, lead, properties={"Amount": 24000})
    assert reply["lead"]["IsConverted"] is True and reply["lead"]["Status"] == "Closed - Converted"
    (row,) = salesforce_client.query(
        "SELECT IsConverted, ConvertedDate, ConvertedAccountId, ConvertedContactId, ConvertedOpportunityId, "
        f"SystemModstamp FROM Lead WHERE Id = '{lead}'"
    )["records"]
    assert row["ConvertedDate"] == "2026-11-20" and row["SystemModstamp"] == "2026-11-20T13:00:00.000+0000"
    assert (row["ConvertedAccountId"], row["ConvertedContactId"], row["ConvertedOpportunityId"]) == (
        reply["accountId"],
        reply["contactId"],
        reply["opportunityId"],
    )
    account = salesforce_client.Account.get(reply["accountId"])
    contact = salesforce_client.Contact.get(reply["contactId"])
    deal = salesforce_client.Opportunity.get(reply["opportunityId"])
    assert (account["Name"], account["NumberOfEmployees"]) == ("Acme", 250)
    assert (contact["Email"], contact["AccountId"]) == ("ana@acme.io", account["Id"])
    assert (deal["AccountId"], deal["StageName"], deal["Amount"], deal["IsClosed"]) == (
        account["Id"],
        "Prospecting",
        24000.0,
        False,
    )
    assert deal["OwnerId"] == salesforce_sandbox.app.directory.reps[0]
    assert deal["CloseDate"] == "2026-12-20"  # a month out when the rep gives none
    with pytest.raises(SalesforceMalformedRequest) as locked:
        salesforce_client.Lead.update(lead, {"Title": "CTO"})
    assert locked.value.content[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_a_lead_converted_into_an_existing_account_may_have_no_opportunity(salesforce_sandbox, salesforce_client, lead):
    first = _convert(salesforce_sandbox, lead)
    (other,) = salesforce_sandbox.seed_leads({**GOOD_LEAD, "Email": "bo@acme.io", "LastName": "Bo"})
    reply = _convert(salesforce_sandbox, other, opportunity=False, accountId=first["accountId"])
    assert reply["accountId"] == first["accountId"] and reply["opportunityId"] is None
    assert reply["lead"]["ConvertedOpportunityId"] is None and reply["lead"]["IsConverted"] is True
    assert salesforce_client.query("SELECT COUNT() FROM Account")["totalSize"] == 1
    assert salesforce_client.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 1


def test_a_lead_converts_once(salesforce_sandbox, lead):
    _convert(salesforce_sandbox, lead)
    status, body = salesforce_sandbox.control("POST", f"/_sandbox/leads/{lead}/convert", {})
    assert status == 400 and body["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/_sandbox/leads/00Q8d0000200ZZZZZZ/convert", {}, 404),
        ("/_sandbox/opportunities/0068d0000200ZZZZZZ/close", {"stage": "won"}, 404),
        ("/_sandbox/tasks/00T8d0000200ZZZZZZ/complete", None, 404),
    ],
)
def test_rep_verbs_on_unknown_records_are_404(salesforce_sandbox, path, body, status):
    assert salesforce_sandbox.control("POST", path, body)[0] == status


def test_a_conversion_into_an_account_that_does_not_exist_changes_nothing(salesforce_sandbox, lead):
    status, _ = salesforce_sandbox.control(
        "POST", f"/_sandbox/leads/{lead}/convert", {"accountId": "0018d0000200ZZZZZZ"}
    )
    assert status == 404
    assert salesforce_sandbox.record(lead)["IsConverted"] is False
    assert salesforce_sandbox.dump()["Contact"] == [] and salesforce_sandbox.dump()["Opportunity"] == []


def test_the_leads_tasks_move_to_the_contact_and_relate_to_the_opportunity(salesforce_sandbox, salesforce_client, lead):
    task = salesforce_client.Task.create({"Subject": "Call Ana", "WhoId": lead, "Handoff_Key__c": "k1"})["id"]
    reply = _convert(salesforce_sandbox, lead)
    moved = salesforce_client.Task.get_by_custom_id("Handoff_Key__c", "k1")
    assert moved["Id"] == task
    assert (moved["WhoId"], moved["WhatId"]) == (reply["contactId"], reply["opportunityId"])


def test_a_rep_closes_won_and_lost_and_reopens_an_opportunity(salesforce_sandbox, salesforce_client, lead):
    deal = _convert(salesforce_sandbox, lead)["opportunityId"]
    salesforce_sandbox.clock.advance(86400)
    status, won = salesforce_sandbox.control("POST", f"/_sandbox/opportunities/{deal}/close", {"stage": "won"})
    assert status == 200
    assert (won["StageName"], won["IsClosed"], won["IsWon"], won["Probability"]) == ("Closed Won", True, True, 100.0)
    assert won["CloseDate"] == "2026-11-21" and won["LastStageChangeDate"] == "2026-11-21T12:00:00.000+0000"
    status, lost = salesforce_sandbox.control(
        "POST", f"/_sandbox/opportunities/{deal}/close", {"stage": "lost", "properties": {"CloseDate": "2026-11-15"}}
    )
    assert (lost["IsClosed"], lost["IsWon"], lost["CloseDate"]) == (True, False, "2026-11-15")
    salesforce_sandbox.clock.advance(60)
    status, reopened = salesforce_sandbox.control(
        "POST", f"/_sandbox/opportunities/{deal}/close", {"stage": "Negotiation/Review"}
    )
    assert (reopened["IsClosed"], reopened["Probability"]) == (False, 90.0)
    assert reopened["SystemModstamp"] == "2026-11-21T12:01:00.000+0000"
    status, refused = salesforce_sandbox.control("POST", f"/_sandbox/opportunities/{deal}/close", {"stage": "Dreaming"})
    assert status == 400 and refused["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_opportunities_are_read_incrementally_by_id_and_modstamp(salesforce_sandbox, salesforce_client):
    leads = salesforce_sandbox.seed_leads(*({**GOOD_LEAD, "Email": f"p{i}@acme.io"} for i in range(5)))
    deals = [_convert(salesforce_sandbox, lead_id)["opportunityId"] for lead_id in leads]
    salesforce_sandbox.clock.advance(3600)
    for deal in (deals[3], deals[1]):
        salesforce_sandbox.clock.advance(60)
        salesforce_sandbox.control("POST", f"/_sandbox/opportunities/{deal}/close", {"stage": "won"})
    rows = salesforce_client.query(
        "SELECT Id, IsClosed, IsWon, StageName, Amount, CloseDate, SystemModstamp, LastModifiedDate "
        "FROM Opportunity WHERE SystemModstamp > 2026-11-20T12:30:00Z ORDER BY SystemModstamp LIMIT 10"
    )["records"]
    assert [r["Id"] for r in rows] == [deals[3], deals[1]]
    assert rows[0]["IsWon"] is True and rows[0]["Amount"] is None
    picked = salesforce_client.query(
        f"SELECT Id, IsWon FROM Opportunity WHERE Id IN ('{deals[0]}', '{deals[1]}') ORDER BY Id DESC LIMIT 1"
    )["records"]
    assert [r["Id"] for r in picked] == [max(deals[0], deals[1])]
    via_lead = salesforce_client.query(
        f"SELECT ConvertedOpportunity.IsWon, ConvertedOpportunity.StageName FROM Lead WHERE Id = '{leads[1]}'"
    )["records"][0]["ConvertedOpportunity"]
    assert (via_lead["IsWon"], via_lead["StageName"]) == (True, "Closed Won")


def test_a_deleted_opportunity_is_seen_only_by_query_all(salesforce_sandbox, salesforce_client, lead):
    deal = _convert(salesforce_sandbox, lead)["opportunityId"]
    status, _ = salesforce_sandbox.control("DELETE", f"/_sandbox/opportunities/{deal}")
    assert status == 204
    assert salesforce_client.query("SELECT Id FROM Opportunity")["totalSize"] == 0
    (row,) = salesforce_client.query_all("SELECT Id, IsDeleted FROM Opportunity", include_deleted=True)["records"]
    assert row["IsDeleted"] is True


def test_opportunity_describe_names_the_outcome_fields(salesforce_client):
    described = salesforce_client.Opportunity.describe()
    fields = {f["name"]: f for f in described["fields"]}
    assert described["keyPrefix"] == "006"
    for name in ("IsClosed", "IsWon"):
        assert (fields[name]["type"], fields[name]["updateable"], fields[name]["calculated"]) == (
            "boolean",
            False,
            True,
        )
    assert fields["StageName"]["restrictedPicklist"] is True
    assert [v["value"] for v in fields["StageName"]["picklistValues"]][-2:] == ["Closed Won", "Closed Lost"]
    assert (fields["Amount"]["type"], fields["CloseDate"]["type"]) == ("currency", "date")
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert {"SystemModstamp", "LastModifiedDate"} <= set(fields)


def test_task_completion_is_read_by_handoff_key(salesforce_sandbox, salesforce_client, lead):
    task = salesforce_client.Task.create({"Subject": "Call Ana", "WhoId": lead, "Handoff_Key__c": "k-7"})["id"]
    salesforce_sandbox.clock.advance(1800)
    status, done = salesforce_sandbox.control("POST", f"/_sandbox/tasks/{task}/complete")
    assert done["Status"] == "Completed"
    assert status == 200
    (row,) = salesforce_client.query(
        "SELECT Status, IsClosed, CompletedDateTime, SystemModstamp FROM Task WHERE Handoff_Key__c IN ('k-7', 'k-8')"
    )["records"]
    assert (row["Status"], row["IsClosed"]) == ("Completed", True)
    assert row["CompletedDateTime"] == row["SystemModstamp"] == "2026-11-20T12:30:00.000+0000"
    status, reopened = salesforce_sandbox.control(
        "POST", f"/_sandbox/tasks/{task}/status", {"status": "Waiting on someone else"}
    )
    assert (reopened["IsClosed"], reopened["CompletedDateTime"]) == (False, None)


def test_status_value_objects_say_which_values_convert_and_close(salesforce_client):
    lead_statuses = salesforce_client.query(
        "SELECT MasterLabel, IsConverted, IsDefault FROM LeadStatus ORDER BY SortOrder"
    )["records"]
    assert [(r["MasterLabel"], r["IsConverted"], r["IsDefault"]) for r in lead_statuses] == [
        ("Open - Not Contacted", False, True),
        ("Working - Contacted", False, False),
        ("Recycled", False, False),
        ("Closed - Converted", True, False),
        ("Closed - Not Converted", False, False),
    ]
    closed = salesforce_client.query("SELECT MasterLabel FROM TaskStatus WHERE IsClosed = true")["records"]
    assert [r["MasterLabel"] for r in closed] == ["Completed"]
