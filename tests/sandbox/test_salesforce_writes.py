"""Writes through the real simple-salesforce: single records, collections, upserts, and the org's rules."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

NO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}


def _lead(sandbox, **fields):
    (lead_id,) = sandbox.seed_leads({"LastName": "Lovelace", "Company": "Acme", "Email": "ada@acme.io", **fields})
    return lead_id


def test_single_record_create_read_update_delete(salesforce_sandbox, salesforce_client):
    created = salesforce_client.Lead.create({"LastName": "Hopper", "Company": "Navy"}, headers=NO_ASSIGN)
    assert created["success"] is True and created["errors"] == [] and created["id"].startswith("00Q")
    assert len(created["id"]) == 18
    lead = salesforce_client.Lead.get(created["id"])
    assert lead["attributes"] == {"type": "Lead", "url": f"/services/data/v59.0/sobjects/Lead/{created['id']}"}
    assert (lead["Status"], lead["Name"], lead["IsConverted"]) == ("Open - Not Contacted", "Hopper", False)
    assert lead["CreatedDate"] == "2026-11-20T12:00:00.000+0000"
    salesforce_sandbox.clock.advance(60)
    assert salesforce_client.Lead.update(created["id"], {"Title": "Admiral"}, headers=NO_ASSIGN) == 204
    after = salesforce_client.Lead.get(created["id"])
    assert after["Title"] == "Admiral" and after["SystemModstamp"] == "2026-11-20T12:01:00.000+0000"
    assert salesforce_client.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as gone:
        salesforce_client.Lead.get(created["id"])
    assert gone.value.content[0]["errorCode"] == "NOT_FOUND"


def test_unknown_and_read_only_fields_and_restricted_picklists_are_refused(salesforce_sandbox, salesforce_client):
    lead = _lead(salesforce_sandbox)
    for body, code in (
        ({"Scroe__c": 1}, "INVALID_FIELD"),
        ({"IsConverted": True}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        ({"Lifecycle_Stage__c": "Customer"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"),
        ({"Handoff_Score__c": "high"}, "INVALID_TYPE_ON_FIELD_IN_RECORD"),
        ({"Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS"),
        ({"Handoff_Rules_Version__c": "v" * 81}, "STRING_TOO_LONG"),
    ):
        with pytest.raises(SalesforceMalformedRequest) as refused:
            salesforce_client.Lead.update(lead, body, headers=NO_ASSIGN)
        assert refused.value.content[0]["errorCode"] == code, body


def test_composite_answers_200_with_per_item_errors_in_request_order(salesforce_sandbox, salesforce_client):
    good, converted = _lead(salesforce_sandbox), _lead(salesforce_sandbox, Email="c@acme.io", IsConverted=True)
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Lead"}, "id": good, "Handoff_Score__c": 72, "Lifecycle_Stage__c": "MQL"},
            {"attributes": {"type": "Lead"}, "id": converted, "Handoff_Score__c": 10},
            {"attributes": {"type": "Lead"}, "id": good, "Handoff_Fit_Grade__c": "E"},
            {"attributes": {"type": "Lead"}, "id": "001000000000000AAA", "Handoff_Score__c": 1},
        ],
    }
    results = salesforce_client.restful("composite/sobjects", method="PATCH", json=body, headers=NO_ASSIGN)
    assert results[0] == {"id": good, "success": True, "errors": []}
    assert [r["success"] for r in results] == [True, False, False, False]
    codes = [r["errors"][0]["statusCode"] for r in results[1:]]
    assert codes == ["CANNOT_UPDATE_CONVERTED_LEAD", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "MALFORMED_ID"]
    assert results[2]["errors"][0]["fields"] == ["Handoff_Fit_Grade__c"]
    assert salesforce_sandbox.record(good)["Handoff_Score__c"] == 72.0


def test_all_or_none_rolls_back_every_item_when_one_fails(salesforce_sandbox, salesforce_client):
    first, second = _lead(salesforce_sandbox), _lead(salesforce_sandbox, Email="b@acme.io")
    before = salesforce_sandbox.record(first)
    body = {
        "allOrNone": True,
        "records": [
            {"attributes": {"type": "Lead"}, "id": first, "Handoff_Score__c": 50},
            {"attributes": {"type": "Lead"}, "id": second, "Lifecycle_Stage__c": "Nope"},
            {"attributes": {"type": "Lead"}, "LastName": "New", "Company": "X"},
        ],
    }
    created = salesforce_client.restful(
        "composite/sobjects",
        method="POST",
        json={"allOrNone": True, "records": [body["records"][2]]},
        headers=NO_ASSIGN,
    )
    assert created[0]["success"] is True
    results = salesforce_client.restful(
        "composite/sobjects",
        method="PATCH",
        json={"allOrNone": True, "records": body["records"][:2]},
        headers=NO_ASSIGN,
    )
    assert [e["statusCode"] for r in results for e in r["errors"]] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    ]
    assert all(r["success"] is False and "id" not in r for r in results)
    assert salesforce_sandbox.record(first) == before


def test_a_collection_of_more_than_200_records_is_refused_whole(salesforce_client):
    records = [{"attributes": {"type": "Lead"}, "LastName": f"n{i}", "Company": "c"} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as refused:
        salesforce_client.restful("composite/sobjects", method="POST", json={"records": records})
    assert refused.value.status == 400


def test_upsert_by_external_id_creates_then_updates(salesforce_sandbox, salesforce_client):
    lead = _lead(salesforce_sandbox)
    owner = salesforce_sandbox.app.directory.reps[0]
    task = {"Subject": "Call Ada", "WhoId": lead, "OwnerId": owner, "ActivityDate": "2026-11-21"}
    tasks = salesforce_client.Task
    assert tasks.upsert("Handoff_Key__c/sql-ada-1", task) == 201
    assert tasks.upsert("Handoff_Key__c/sql-ada-1", {**task, "Priority": "High"}) == 200
    rows = salesforce_client.query("SELECT Id, Priority, Handoff_Key__c, IsClosed FROM Task")["records"]
    assert [(r["Priority"], r["Handoff_Key__c"], r["IsClosed"]) for r in rows] == [("High", "sql-ada-1", False)]
    reply = salesforce_client.Task.upsert("Handoff_Key__c/sql-ada-1", task, raw_response=True)
    assert reply.json() == {"id": rows[0]["Id"], "success": True, "errors": [], "created": False}
    assert salesforce_client.Task.get_by_custom_id("Handoff_Key__c", "sql-ada-1")["Id"] == rows[0]["Id"]
    with pytest.raises(SalesforceResourceNotFound):
        tasks.upsert("Subject/Call Ada", task)  # not an external id field


def test_collection_delete_answers_per_id(salesforce_sandbox, salesforce_client):
    lead = _lead(salesforce_sandbox)
    results = salesforce_client.restful(
        "composite/sobjects", method="DELETE", params={"ids": f"{lead},00Q8d0000000000AAA", "allOrNone": "false"}
    )
    assert results[0] == {"id": lead, "success": True, "errors": []}
    assert results[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert salesforce_sandbox.record(lead)["IsDeleted"] is True


def test_upsert_collection_reports_created_per_item(salesforce_sandbox, salesforce_client):
    lead = _lead(salesforce_sandbox)
    owner = salesforce_sandbox.app.directory.reps[0]
    records = [
        {"attributes": {"type": "Task"}, "Handoff_Key__c": key, "Subject": key, "WhoId": lead, "OwnerId": owner}
        for key in ("k1", "k2")
    ]
    first = salesforce_client.restful(
        "composite/sobjects/Task/Handoff_Key__c", method="PATCH", json={"allOrNone": False, "records": records[:1]}
    )
    both = salesforce_client.restful(
        "composite/sobjects/Task/Handoff_Key__c", method="PATCH", json={"allOrNone": False, "records": records}
    )
    assert first[0]["created"] is True
    assert [(r["created"], r["success"]) for r in both] == [(False, True), (True, True)]
    assert both[0]["id"] == first[0]["id"]


def test_converted_lead_cannot_be_updated(salesforce_sandbox, salesforce_client):
    lead = _lead(
        salesforce_sandbox,
        IsConverted=True,
        ConvertedContactId=salesforce_sandbox.seed_contacts({"LastName": "Lovelace"})[0],
    )
    assert salesforce_sandbox.record(lead)["Status"] == "Closed - Converted"
    with pytest.raises(SalesforceMalformedRequest) as refused:
        salesforce_client.Lead.update(lead, {"Handoff_Score__c": 80}, headers=NO_ASSIGN)
    assert refused.value.content == [
        {"message": "cannot reference converted lead", "errorCode": "CANNOT_UPDATE_CONVERTED_LEAD"}
    ]


def test_a_task_owned_by_a_queue_that_cannot_own_tasks_is_refused(salesforce_sandbox, salesforce_client):
    queue = salesforce_sandbox.app.directory.queue_id
    lead = _lead(salesforce_sandbox, OwnerId=queue)  # the queue may own Leads
    with pytest.raises(SalesforceMalformedRequest) as refused:
        salesforce_client.Task.create({"Subject": "Follow up", "WhoId": lead, "OwnerId": queue})
    (problem,) = refused.value.content
    assert problem["errorCode"] == "FIELD_INTEGRITY_EXCEPTION" and problem["fields"] == ["OwnerId"]
    assert problem["message"] == f"Assigned To ID: id value of incorrect type: {queue}"


@pytest.mark.parametrize("header", ["FALSE", "False", "false"])
def test_sforce_auto_assign_false_keeps_the_owner(salesforce_sandbox, salesforce_client, header):
    rep = salesforce_sandbox.app.directory.reps[1]
    lead = _lead(salesforce_sandbox, OwnerId=rep)
    salesforce_client.Lead.update(lead, {"Handoff_Score__c": 10}, headers={"Sforce-Auto-Assign": header})
    salesforce_client.restful(
        "composite/sobjects",
        method="PATCH",
        headers={"Sforce-Auto-Assign": header},
        json={"records": [{"attributes": {"type": "Lead"}, "id": lead, "Handoff_Score__c": 20}]},
    )
    assert salesforce_sandbox.record(lead)["OwnerId"] == rep


def test_the_assignment_rule_reassigns_a_lead_updated_without_the_header(salesforce_sandbox, salesforce_client):
    rep, queue = salesforce_sandbox.app.directory.reps[1], salesforce_sandbox.app.directory.queue_id
    single, collected = _lead(salesforce_sandbox, OwnerId=rep), _lead(salesforce_sandbox, OwnerId=rep, Email="x@y.io")
    salesforce_sandbox.clock.advance(5)
    salesforce_client.Lead.update(single, {"Handoff_Score__c": 10})
    salesforce_client.restful(
        "composite/sobjects",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Lead"}, "id": collected, "Handoff_Score__c": 20}]},
    )
    for lead in (single, collected):
        after = salesforce_sandbox.record(lead)
        assert after["OwnerId"] == queue
        assert after["SystemModstamp"] == "2026-11-20T12:00:05.000+0000"


def test_activities_do_not_bump_the_lead_but_roll_up_its_last_activity_date(salesforce_sandbox, salesforce_client):
    lead = _lead(salesforce_sandbox)
    before = salesforce_sandbox.record(lead)
    salesforce_sandbox.clock.advance(3600)
    salesforce_client.Task.create(
        {"Subject": "Called", "WhoId": lead, "Status": "Completed", "Type": "Call", "ActivityDate": "2026-11-20"}
    )
    after = salesforce_sandbox.record(lead)
    assert after["SystemModstamp"] == before["SystemModstamp"]
    assert after["LastActivityDate"] == "2026-11-20"


def test_touch_as_a_rep_moves_the_modstamp_and_may_convert(salesforce_sandbox):
    lead = _lead(salesforce_sandbox)
    salesforce_sandbox.clock.advance(90)
    after = salesforce_sandbox.touch(lead, Status="Recycled", IsConverted=True)
    assert after["IsConverted"] is True and after["Status"] == "Recycled"
    assert after["SystemModstamp"] == after["LastModifiedDate"] == "2026-11-20T12:01:30.000+0000"
