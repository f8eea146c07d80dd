"""Describe, the daily allocation and the faults integrators meet, through the real simple-salesforce."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from connector.sandbox.clock import ManualClock
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.salesforce.schema import LEAD_STATUSES


def test_describe_lists_lead_status_picklist_and_the_handoff_fields(salesforce_client):
    describe = salesforce_client.Lead.describe()
    fields = {f["name"]: f for f in describe["fields"]}
    status = fields["Status"]
    assert [v["value"] for v in status["picklistValues"]] == list(LEAD_STATUSES)
    assert [v["value"] for v in status["picklistValues"] if v["defaultValue"]] == ["Open - Not Contacted"]
    assert fields["Lifecycle_Stage__c"]["restrictedPicklist"] is True and fields["Lifecycle_Stage__c"]["custom"]
    assert [v["value"] for v in fields["Lifecycle_Stage__c"]["picklistValues"]] == ["Lead", "MQL", "SQL"]
    assert fields["Handoff_Reasons__c"]["type"] == "textarea" and fields["Handoff_Reasons__c"]["length"] == 32768
    assert fields["OwnerId"]["referenceTo"] == ["Group", "User"] and fields["OwnerId"]["relationshipName"] == "Owner"
    assert describe["keyPrefix"] == "00Q"
    key = {f["name"]: f for f in salesforce_client.Task.describe()["fields"]}["Handoff_Key__c"]
    assert (key["externalId"], key["unique"], key["length"]) == (True, True, 120)


def test_an_org_without_the_custom_fields_describes_none_of_them(sandbox_clock):
    app = SalesforceSandbox(SalesforceConfig(custom_fields=False), clock=sandbox_clock)
    lead = app.org.schema.get("Lead")
    task = app.org.schema.get("Task")
    assert lead is not None and task is not None
    assert not [f.name for f in lead.fields if f.custom] and task.field("Handoff_Key__c") is None


def test_every_response_carries_the_usage_header_that_simple_salesforce_parses(salesforce_sandbox, salesforce_client):
    salesforce_client.query("SELECT Id FROM Lead")
    salesforce_client.query("SELECT Id FROM User")
    assert salesforce_client.api_usage["api-usage"] == (2, 15000)
    limits = salesforce_client.limits()
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - 3}
    reply = salesforce_sandbox.session().get(
        salesforce_sandbox.base_url + "/services/data/v59.0/nothing/here",
        headers={"Authorization": "Bearer sandbox-token"},
    )
    assert reply.status_code == 404 and reply.headers["Sforce-Limit-Info"] == "api-usage=3/15000"


def test_request_limit_exceeded_once_the_daily_quota_is_spent_until_calls_age_out(
    salesforce_sandbox, salesforce_client
):
    salesforce_sandbox.configure(daily_limit=3)
    for _ in range(3):
        salesforce_client.query("SELECT Id FROM Lead")
    with pytest.raises(SalesforceRefusedRequest) as refused:
        salesforce_client.query("SELECT Id FROM Lead")
    assert refused.value.status == 403
    assert refused.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    salesforce_sandbox.clock.advance(86400)  # a rolling day later the calls have aged out
    assert salesforce_client.query("SELECT Id FROM Lead")["done"] is True
    assert salesforce_client.api_usage["api-usage"] == (1, 3)


def test_a_bad_session_is_401_invalid_session_id(salesforce_sandbox):
    client = salesforce_sandbox.client(token="expired")
    with pytest.raises(SalesforceExpiredSession) as refused:
        client.query("SELECT Id FROM Lead")
    assert refused.value.content == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [
        (403, SalesforceRefusedRequest, "REQUEST_LIMIT_EXCEEDED"),
        (401, SalesforceExpiredSession, "INVALID_SESSION_ID"),
        (503, SalesforceGeneralError, "SERVER_UNAVAILABLE"),
    ],
)
def test_injected_faults_have_salesforce_bodies(salesforce_sandbox, salesforce_client, status, error, code):
    assert salesforce_sandbox.control("POST", "/_sandbox/faults", {"error_rate": 1, "status": status})[0] == 200
    with pytest.raises(error) as refused:
        salesforce_client.query("SELECT Id FROM Lead")
    assert refused.value.content[0]["errorCode"] == code


def test_lock_errors_hit_collection_items_at_the_configured_rate(salesforce_sandbox, salesforce_client):
    ids = salesforce_sandbox.seed_leads(*({"LastName": f"n{i}", "Company": "c"} for i in range(100)))
    salesforce_sandbox.configure(lock_error_rate=0.3)
    results = salesforce_client.restful(
        "composite/sobjects",
        method="PATCH",
        headers={"Sforce-Auto-Assign": "FALSE"},
        json={"records": [{"attributes": {"type": "Lead"}, "id": i, "Handoff_Score__c": 1} for i in ids]},
    )
    locked = [r for r in results if not r["success"]]
    assert 15 <= len(locked) <= 45
    assert {r["errors"][0]["statusCode"] for r in locked} == {"UNABLE_TO_LOCK_ROW"}
    assert "unable to obtain exclusive access to this record" in locked[0]["errors"][0]["message"]
    written = sum(1 for i in ids if salesforce_sandbox.record(i)["Handoff_Score__c"] == 1.0)
    assert written == len(ids) - len(locked)


def test_unknown_sobject_and_bad_version_are_not_found(salesforce_sandbox, salesforce_client):
    with pytest.raises(SalesforceResourceNotFound):
        salesforce_client.restful("sobjects/Whizbang/describe")
    reply = salesforce_sandbox.session().get(
        salesforce_sandbox.base_url + "/services/data/59/limits", headers={"Authorization": "Bearer sandbox-token"}
    )
    assert reply.status_code == 404


def test_any_api_version_is_served(salesforce_sandbox):
    old = salesforce_sandbox.client(version="42.0")
    (lead,) = salesforce_sandbox.seed_leads({"LastName": "x", "Company": "y"})
    assert old.Lead.get(lead)["attributes"]["url"] == f"/services/data/v42.0/sobjects/Lead/{lead}"


def test_stats_count_calls_by_object(salesforce_sandbox, salesforce_client):
    salesforce_client.Lead.describe()
    salesforce_client.Task.describe()
    calls = salesforce_sandbox.stats()["calls"]
    assert calls["GET /services/data/{version}/sobjects/Lead/describe"] == {"200": 1}
    assert calls["GET /services/data/{version}/sobjects/Task/describe"] == {"200": 1}


def test_the_manual_clock_drives_audit_fields(sandbox_clock):
    clock = ManualClock(sandbox_clock())
    app = SalesforceSandbox(SalesforceConfig(), clock=clock)
    clock.advance(0.999)  # Salesforce keeps whole seconds
    (lead,) = app.seed_leads({"LastName": "x", "Company": "y"})
    record = app.org.get(lead)
    assert record is not None and record.values["CreatedDate"] == "2026-11-20T12:00:00.000+0000"
