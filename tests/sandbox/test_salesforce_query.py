"""SOQL through the real simple-salesforce: paging, queryAll, the subset's operators, its refusals."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceError, SalesforceMalformedRequest
from simple_salesforce.format import format_soql


def _leads(sandbox, n, **extra):
    return sandbox.seed_leads(
        *({"LastName": f"L{i:04d}", "Company": "Acme", "Email": f"l{i}@acme.io", **extra} for i in range(n))
    )


def test_paging_follows_relative_next_records_url_with_a_constant_total(salesforce_sandbox, salesforce_client):
    ids = _leads(salesforce_sandbox, 450)
    first = salesforce_client.query(
        "SELECT Id FROM Lead ORDER BY Id", headers={"Sforce-Query-Options": "batchSize=200"}
    )
    assert (first["totalSize"], first["done"], len(first["records"])) == (450, False, 200)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-200")
    second = salesforce_client.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert (second["totalSize"], second["done"], len(second["records"])) == (450, False, 200)
    # the whole result through the SDK's iterator, default page of 2000 here
    seen = [r["Id"] for r in salesforce_client.query_all_iter("SELECT Id FROM Lead ORDER BY Id")]
    assert seen == sorted(ids)


def test_query_all_iter_walks_every_page(salesforce_sandbox):
    _leads(salesforce_sandbox, 2500)
    client = salesforce_sandbox.client()
    pages = client.query("SELECT Id, Email FROM Lead")
    assert len(pages["records"]) == 2000 and pages["nextRecordsUrl"].endswith("-2000")
    assert len(list(client.query_all_iter("SELECT Id, Email FROM Lead"))) == 2500


def test_a_bad_locator_is_invalid_query_locator(salesforce_client):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        salesforce_client.query_more("/services/data/v59.0/query/01gNOPE-200", identifier_is_url=True)
    assert refused.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_sees_deleted_rows_and_query_does_not(salesforce_sandbox, salesforce_client):
    keep, gone = _leads(salesforce_sandbox, 2)
    assert salesforce_client.Lead.delete(gone) == 204
    live = salesforce_client.query("SELECT Id FROM Lead")
    assert [r["Id"] for r in live["records"]] == [keep]
    everything = salesforce_client.query_all("SELECT Id, IsDeleted FROM Lead ORDER BY Id", include_deleted=True)
    assert {(r["Id"], r["IsDeleted"]) for r in everything["records"]} == {(keep, False), (gone, True)}


def test_relationship_fields_come_back_nested_with_their_own_attributes(salesforce_sandbox, salesforce_client):
    (lead,) = _leads(salesforce_sandbox, 1)
    salesforce_sandbox.add_activities(
        {"leadId": lead, "type": "webinar_registration", "at": "2026-11-10T10:00:00Z", "name": "Webinar: Speed to Lead"}
    )
    rows = salesforce_client.query(
        f"SELECT Id, Status, Campaign.Name, Campaign.Type, HasResponded FROM CampaignMember WHERE LeadId = '{lead}'"
    )
    (member,) = rows["records"]
    assert member["Campaign"]["attributes"]["type"] == "Campaign"
    assert (member["Campaign"]["Name"], member["Campaign"]["Type"]) == ("Webinar: Speed to Lead", "Webinar")
    assert (member["Status"], member["HasResponded"]) == ("Registered", True)
    owner = salesforce_client.query(f"SELECT Owner.Type, Owner.Name FROM Lead WHERE Id = '{lead}'")["records"][0]
    assert owner["Owner"]["attributes"]["type"] == "Name" and owner["Owner"]["Type"] == "User"


def test_a_row_keeps_the_selected_order_with_relationships_among_fields_and_none_for_no_reference(
    salesforce_sandbox, salesforce_client
):
    (lead,) = _leads(salesforce_sandbox, 1)
    salesforce_sandbox.add_activities(
        {"sobject": "Task", "fields": {"Subject": "Orphan", "Status": "Completed"}},
        {"sobject": "Task", "fields": {"Subject": "Call", "Status": "Completed", "WhoId": lead}},
    )
    rows = salesforce_client.query("SELECT Who.Name, Subject, Owner.Name, Who.Type, Id FROM Task ORDER BY Subject")
    call, orphan = rows["records"]  # by Subject
    assert list(orphan) == list(call) == ["attributes", "Who", "Subject", "Owner", "Id"]
    assert (orphan["Who"], orphan["Subject"]) == (None, "Orphan")
    assert list(call["Who"]) == ["attributes", "Name", "Type"]
    assert (call["Who"]["Name"], call["Who"]["Type"], call["Subject"]) == ("L0000", "Lead", "Call")
    assert call["Owner"] == orphan["Owner"] and list(call["Owner"]) == ["attributes", "Name"]


def test_owner_type_tells_queues_from_users(salesforce_sandbox, salesforce_client):
    queue = salesforce_sandbox.app.directory.queue_id
    (queued,) = _leads(salesforce_sandbox, 1, OwnerId=queue)
    rows = salesforce_client.query("SELECT Id FROM Lead WHERE Owner.Type = 'Queue'")["records"]
    assert [r["Id"] for r in rows] == [queued]


@pytest.mark.parametrize(
    "literal",
    ["2026-11-20T12:00:00Z", "2026-11-20T12:00:00+00:00", "2026-11-20T12:00:00.000+0000", "2026-11-20T13:00:00+01:00"],
)
def test_datetime_literals_in_every_iso_form_compare_as_instants(salesforce_sandbox, salesforce_client, literal):
    salesforce_sandbox.seed_leads(
        {"LastName": "Old", "Company": "A", "SystemModstamp": "2026-11-20T11:59:59Z"},
        {"LastName": "New", "Company": "A", "SystemModstamp": "2026-11-20T12:00:00Z"},
    )
    rows = salesforce_client.query(f"SELECT LastName FROM Lead WHERE SystemModstamp >= {literal}")["records"]
    assert [r["LastName"] for r in rows] == ["New"]


def test_where_and_or_in_like_and_order_by_with_limit(salesforce_sandbox, salesforce_client):
    salesforce_sandbox.seed_leads(
        {"LastName": "Ada", "Company": "A", "Industry": "Software", "NumberOfEmployees": 500, "Email": "ada@a.io"},
        {"LastName": "bob", "Company": "B", "Industry": "Retail", "NumberOfEmployees": 20, "Email": "bob@b.io"},
        {"LastName": "Cy", "Company": "C", "Industry": "Software", "NumberOfEmployees": None, "Email": "cy@gmail.com"},
        {"LastName": "Dee", "Company": "D", "Industry": "Energy", "NumberOfEmployees": 90, "Email": "dee@d.io"},
    )

    def names(soql):
        return [r["LastName"] for r in salesforce_client.query(soql)["records"]]

    assert names(
        "SELECT LastName FROM Lead WHERE Industry = 'software' AND (NumberOfEmployees > 100 "
        "OR Email LIKE '%@gmail.com') ORDER BY LastName"
    ) == ["Ada", "Cy"]
    assert names("SELECT LastName FROM Lead WHERE Industry NOT IN ('Software') ORDER BY LastName DESC") == [
        "Dee",
        "bob",
    ]
    assert names("SELECT LastName FROM Lead ORDER BY NumberOfEmployees DESC NULLS LAST, LastName LIMIT 3") == [
        "Ada",
        "Dee",
        "bob",
    ]
    assert names("SELECT LastName FROM Lead WHERE NumberOfEmployees = null") == ["Cy"]
    assert names("SELECT LastName FROM Lead WHERE NOT (Industry IN ('Software', 'Retail'))") == ["Dee"]
    assert salesforce_client.query("SELECT COUNT() FROM Lead WHERE Industry = 'Software'")["totalSize"] == 2


@pytest.mark.parametrize(
    "soql",
    [
        "invalid",
        "SELECT Id FROM Lead WHERE Industry = 'A' AND Industry = 'B' OR Industry = 'C'",
        "SELECT Id, (SELECT Id FROM Tasks) FROM Lead",
        "SELECT Industry, COUNT(Id) FROM Lead GROUP BY Industry",
        "SELECT Id FROM Lead OFFSET 10",
        "SELECT Id FROM Lead WHERE CreatedDate > TODAY",
        "SELECT Id FROM Lead WHERE SystemModstamp >= 2026-11-20T12:00:00 00:00",  # a '+' sent unencoded
        "SELECT Id FROM Lead WHERE SystemModstamp >= 2026-11-20T12:00:00",  # no zone
        "SELECT Id, Id FROM Lead",
        "SELECT Id FROM Lead LIMIT",
    ],
)
def test_anything_outside_the_subset_is_malformed_query(salesforce_client, soql):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        salesforce_client.query(soql)
    assert refused.value.status == 400
    assert refused.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_unknown_field_is_invalid_field_with_salesforce_wording(salesforce_client):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        salesforce_client.query("SELECT Id, Scroe__c FROM Lead")
    (problem,) = refused.value.content
    assert problem["errorCode"] == "INVALID_FIELD"
    assert "No such column 'Scroe__c' on entity 'Lead'" in problem["message"]
    assert "ERROR at Row:1:Column:12" in problem["message"]


def test_quoted_datetime_is_refused_as_in_a_real_org(salesforce_client):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        salesforce_client.query("SELECT Id FROM Lead WHERE SystemModstamp >= '2026-11-20T12:00:00Z'")
    (problem,) = refused.value.content
    assert problem["errorCode"] == "INVALID_FIELD"
    assert "must be of type dateTime and should not be enclosed in quotes" in problem["message"]


def test_long_text_fields_cannot_be_filtered(salesforce_client):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        salesforce_client.query("SELECT Id FROM Lead WHERE Handoff_Reasons__c = 'x'")
    assert refused.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_field_names_are_case_insensitive_but_answered_canonically(salesforce_sandbox, salesforce_client):
    (lead,) = _leads(salesforce_sandbox, 1)
    (row,) = salesforce_client.query(f"select id, lastname from LEAD where ID = '{lead[:15]}'")["records"]
    assert row["Id"] == lead and row["LastName"] == "L0000"


def test_a_query_whose_uri_passes_16384_bytes_is_refused_with_414(salesforce_sandbox, salesforce_client):
    ids = _leads(salesforce_sandbox, 1)
    fits = format_soql("SELECT Id FROM Lead WHERE Id IN {}", ids * 500)
    assert [r["Id"] for r in salesforce_client.query(fits)["records"]] == ids
    with pytest.raises(SalesforceError) as refused:
        salesforce_client.query(format_soql("SELECT Id FROM Lead WHERE Id IN {}", ids * 700))
    assert refused.value.status == 414
