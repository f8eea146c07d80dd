"""The composite resource and the version resource through the real simple-salesforce: shapes, limits, calls."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

BASE = "/services/data/v59.0"


def query(soql: str, ref: str, resource: str = "query") -> dict[str, str]:
    return {"method": "GET", "url": f"{BASE}/{resource}/?{urlencode({'q': soql})}", "referenceId": ref}


def composite(client, *subrequests, all_or_none=False):
    return client.restful(
        "composite", method="POST", json={"allOrNone": all_or_none, "compositeRequest": list(subrequests)}
    )["compositeResponse"]


def test_queries_answer_in_order_with_their_reference_ids_in_one_call(salesforce_sandbox, salesforce_client):
    [lead] = salesforce_sandbox.seed_leads({"LastName": "Ada", "Company": "Acme"})
    salesforce_sandbox.app.stats.reset()
    before = salesforce_sandbox.app.allocation.used()
    answers = composite(
        salesforce_client,
        query("SELECT Id, LastName FROM Lead", "leads"),
        query("SELECT Id FROM Task", "tasks", "queryAll"),
        {"method": "GET", "url": f"{BASE}/sobjects/Lead/{lead}?fields=Company", "referenceId": "one"},
    )
    assert [a["referenceId"] for a in answers] == ["leads", "tasks", "one"]
    assert [a["httpStatusCode"] for a in answers] == [200, 200, 200]
    assert answers[0]["body"]["totalSize"] == 1 and answers[0]["body"]["records"][0]["LastName"] == "Ada"
    assert answers[1]["body"] == {"totalSize": 0, "done": True, "records": []}
    assert answers[2]["body"]["Company"] == "Acme"
    assert all(a["httpHeaders"] == {} for a in answers)
    stats = salesforce_sandbox.stats()
    assert stats["total"] == 1 and stats["calls"] == {"POST /services/data/{version}/composite": {"200": 1}}
    assert salesforce_sandbox.app.allocation.used() == before + 1
    assert salesforce_client.api_usage["api-usage"] == (before + 1, 15000)


def test_a_failing_subrequest_fails_alone_when_all_or_none_is_false(salesforce_client):
    answers = composite(
        salesforce_client,
        query("SELECT Nope FROM Lead", "bad"),
        query("SELECT Id FROM Lead", "good"),
    )
    assert answers[0]["httpStatusCode"] == 400
    [refusal] = answers[0]["body"]
    assert refusal["errorCode"] == "INVALID_FIELD" and "Nope" in refusal["message"]
    assert (answers[1]["httpStatusCode"], answers[1]["body"]["done"]) == (200, True)


def test_all_or_none_halts_every_other_subrequest(salesforce_client):
    answers = composite(
        salesforce_client,
        query("SELECT Id FROM Lead", "good"),
        query("SELECT Nope FROM Lead", "bad"),
        query("SELECT Id FROM Task", "after"),
        all_or_none=True,
    )
    assert [a["httpStatusCode"] for a in answers] == [400, 400, 400]
    assert answers[1]["body"][0]["errorCode"] == "INVALID_FIELD"
    assert {answers[0]["body"][0]["errorCode"], answers[2]["body"][0]["errorCode"]} == {"PROCESSING_HALTED"}


def test_query_more_is_a_subrequest_too(salesforce_sandbox, salesforce_client):
    salesforce_sandbox.seed_leads(*({"LastName": f"L{i}", "Company": "Acme"} for i in range(2100)))
    [first] = composite(salesforce_client, query("SELECT Id FROM Lead", "first"))
    assert (first["body"]["done"], len(first["body"]["records"])) == (False, 2000)
    more = {"method": "GET", "url": first["body"]["nextRecordsUrl"], "referenceId": "more"}
    [second] = composite(salesforce_client, more)
    assert (second["httpStatusCode"], second["body"]["done"], len(second["body"]["records"])) == (200, True, 100)


def test_a_later_subrequest_reads_an_earlier_ones_result_by_reference(salesforce_sandbox, salesforce_client):
    create = {"method": "POST", "url": f"{BASE}/sobjects/Lead", "referenceId": "new", "body": {"LastName": "Bo"}}
    create["body"]["Company"] = "Acme"
    read = {"method": "GET", "url": f"{BASE}/sobjects/Lead/@{{new.id}}?fields=LastName", "referenceId": "read"}
    created, fetched = composite(salesforce_client, create, read)
    assert created["httpStatusCode"] == 201 and created["httpHeaders"]["Location"].endswith(created["body"]["id"])
    assert (fetched["httpStatusCode"], fetched["body"]["LastName"]) == (200, "Bo")


@pytest.mark.parametrize(
    ("subrequests", "message"),
    [
        ([query("SELECT Id FROM Lead", f"q{i}") for i in range(6)], "at most 5 query"),
        (
            [{"method": "GET", "url": f"{BASE}/sobjects/Lead/describe", "referenceId": f"d{i}"} for i in range(26)],
            "at most 25 subrequests",
        ),
    ],
)
def test_more_than_25_subrequests_or_5_queries_are_refused_and_cost_one_call(
    salesforce_sandbox, salesforce_client, subrequests, message
):
    salesforce_sandbox.app.stats.reset()
    with pytest.raises(SalesforceMalformedRequest) as refused:
        composite(salesforce_client, *subrequests)
    assert refused.value.status == 400
    [body] = refused.value.content
    assert body["errorCode"] == "LIMIT_EXCEEDED" and message in body["message"]
    assert salesforce_sandbox.stats()["total"] == 1


def test_five_queries_with_other_subrequests_are_within_the_limits(salesforce_client):
    queries = [query("SELECT Id FROM Lead", f"q{i}") for i in range(5)]
    describes = [{"method": "GET", "url": f"{BASE}/sobjects/Lead/describe", "referenceId": f"d{i}"} for i in range(20)]
    answers = composite(salesforce_client, *queries, *describes)
    assert len(answers) == 25 and {a["httpStatusCode"] for a in answers} == {200}


@pytest.mark.parametrize(
    "subrequest",
    [
        {"method": "GET", "url": f"{BASE}/limits", "referenceId": "limits"},  # not a resource composite serves
        {"method": "GET", "url": f"{BASE}/sobjects/Lead/describe", "referenceId": "no-dashes"},
        {"method": "GET", "url": f"{BASE}/sobjects/Lead/describe"},
    ],
)
def test_a_malformed_subrequest_refuses_the_whole_request(salesforce_client, subrequest):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        composite(salesforce_client, subrequest)
    assert refused.value.status == 400


def test_an_unknown_record_is_a_404_subresult(salesforce_client):
    [answer] = composite(
        salesforce_client, {"method": "GET", "url": f"{BASE}/sobjects/Lead/00Q000000000000AAA", "referenceId": "x"}
    )
    assert answer["httpStatusCode"] == 404 and answer["body"][0]["errorCode"] == "NOT_FOUND"


def test_the_version_resource_lists_composite_and_names_the_api_user_in_its_identity_url(
    salesforce_sandbox, salesforce_client
):
    resources = salesforce_client.restful("")
    assert resources["composite"] == f"{BASE}/composite" and resources["queryAll"] == f"{BASE}/queryAll"
    user = resources["identity"].rsplit("/", 1)[1]
    assert user == salesforce_sandbox.app.org.api_user_id and user.startswith("005")
    [lead] = salesforce_sandbox.seed_leads({"LastName": "Ada", "Company": "Acme"})
    salesforce_client.Lead.update(lead, {"Title": "CTO"})
    assert salesforce_client.Lead.get(lead)["LastModifiedById"] == user


def test_a_reference_reads_into_an_earlier_query_s_rows(salesforce_sandbox, salesforce_client):
    [lead] = salesforce_sandbox.seed_leads({"LastName": "Ada", "Company": "Acme"})
    read = {"method": "GET", "url": f"{BASE}/sobjects/Lead/@{{leads.records[0].Id}}?fields=Company", "referenceId": "r"}
    answers = composite(salesforce_client, query(f"SELECT Id FROM Lead WHERE Id = '{lead}'", "leads"), read)
    assert [a["httpStatusCode"] for a in answers] == [200, 200]
    assert answers[1]["body"]["attributes"]["url"].endswith(lead) and answers[1]["body"]["Company"] == "Acme"
