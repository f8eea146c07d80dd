"""Bulk API 2.0 query jobs through the real simple-salesforce and over plain HTTP: the job's
lifecycle, CSV paging by locator, quoting, the daily quotas and the SOQL the REST route honours."""

from __future__ import annotations

import csv
import io

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceRefusedRequest

JOBS = "/services/data/v59.0/jobs/query"


def _leads(sandbox, n, **extra):
    return sandbox.seed_leads(
        *({"LastName": f"L{i:04d}", "Company": "Acme", "Email": f"l{i}@acme.io", **extra} for i in range(n))
    )


def _rows(chunk: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(chunk)))


def _http(sandbox, method, path, **kwargs):
    session = sandbox.session()
    session.headers["Authorization"] = f"Bearer {sandbox.app.config.token}"
    return session.request(method, sandbox.base_url + path, timeout=10, **kwargs)


def test_the_sdk_reads_a_job_in_pages_of_max_records_with_the_rows_rest_answers(salesforce_sandbox, salesforce_client):
    ids = _leads(salesforce_sandbox, 5)
    soql = "SELECT Id, LastName, Email, NumberOfEmployees, HasOptedOutOfEmail, SystemModstamp FROM Lead"
    chunks = list(salesforce_client.bulk2.Lead.query(soql, max_records=2, wait=0))
    assert [len(_rows(c)) for c in chunks] == [2, 2, 1]
    assert all(
        c.startswith('"Id","LastName","Email","NumberOfEmployees","HasOptedOutOfEmail","SystemModstamp"\n')
        for c in chunks
    )
    bulk = [row for c in chunks for row in _rows(c)]
    rest = salesforce_client.query(soql)["records"]
    assert [r["Id"] for r in bulk] == ids == [r["Id"] for r in rest]
    for got, want in zip(bulk, rest, strict=True):
        assert got["Email"] == want["Email"] and got["LastName"] == want["LastName"]
        assert got["HasOptedOutOfEmail"] == "false" and got["NumberOfEmployees"] == ""  # a null is empty
        assert got["SystemModstamp"] == want["SystemModstamp"].replace("+0000", "Z")
        assert got["SystemModstamp"].endswith(".000Z")


def test_a_job_is_created_complete_at_the_first_poll_and_paged_by_locator(salesforce_sandbox):
    _leads(salesforce_sandbox, 3)
    created = _http(salesforce_sandbox, "POST", JOBS, json={"operation": "query", "query": "SELECT Id FROM Lead"})
    assert created.status_code == 200
    job = created.json()
    assert job["id"].startswith("750") and job["state"] == "UploadComplete"
    assert {
        k: job[k] for k in ("operation", "object", "contentType", "apiVersion", "lineEnding", "columnDelimiter")
    } == {
        "operation": "query",
        "object": "Lead",
        "contentType": "CSV",
        "apiVersion": 59.0,
        "lineEnding": "LF",
        "columnDelimiter": "COMMA",
    }
    assert job["createdById"].startswith("005") and job["createdDate"].endswith("+0000")
    polled = _http(salesforce_sandbox, "GET", f"{JOBS}/{job['id']}").json()
    assert (polled["state"], polled["numberRecordsProcessed"], polled["retries"], polled["jobType"]) == (
        "JobComplete",
        3,
        0,
        "V2Query",
    )
    first = _http(salesforce_sandbox, "GET", f"{JOBS}/{job['id']}/results", params={"maxRecords": 2})
    assert first.status_code == 200 and first.headers["Content-Type"].startswith("text/csv")
    assert first.headers["Sforce-NumberOfRecords"] == "2" and first.headers["Sforce-Locator"] not in ("", "null")
    last = _http(
        salesforce_sandbox,
        "GET",
        f"{JOBS}/{job['id']}/results",
        params={"maxRecords": 2, "locator": first.headers["Sforce-Locator"]},
    )
    assert (last.headers["Sforce-NumberOfRecords"], last.headers["Sforce-Locator"]) == ("1", "null")
    assert last.text.splitlines()[0] == '"Id"'  # every page carries the header row
    assert len(_rows(first.text) + _rows(last.text)) == 3
    assert _http(salesforce_sandbox, "DELETE", f"{JOBS}/{job['id']}").status_code == 204
    assert _http(salesforce_sandbox, "GET", f"{JOBS}/{job['id']}").status_code == 404


def test_values_with_commas_quotes_and_newlines_survive_the_csv(salesforce_sandbox, salesforce_client):
    awkward = 'Acme, "Best"\nInc'
    _leads(salesforce_sandbox, 1, Company=awkward)
    [chunk] = salesforce_client.bulk2.Lead.query("SELECT Company, Title FROM Lead", wait=0)
    assert chunk == '"Company","Title"\n"Acme, ""Best""\nInc",""\n'
    assert _rows(chunk) == [{"Company": awkward, "Title": ""}]


def test_query_all_jobs_see_deleted_rows_and_query_jobs_do_not(salesforce_sandbox, salesforce_client):
    kept, gone = _leads(salesforce_sandbox, 2)
    assert salesforce_client.Lead.delete(gone) == 204
    live = [r["Id"] for c in salesforce_client.bulk2.Lead.query("SELECT Id FROM Lead", wait=0) for r in _rows(c)]
    every = [r["Id"] for c in salesforce_client.bulk2.Lead.query_all("SELECT Id FROM Lead", wait=0) for r in _rows(c)]
    assert live == [kept] and every == [kept, gone]


def test_relationship_columns_are_named_by_their_path(salesforce_sandbox, salesforce_client):
    _leads(salesforce_sandbox, 1)
    [chunk] = salesforce_client.bulk2.Lead.query("SELECT Id, Owner.Name FROM Lead", wait=0)
    [row] = _rows(chunk)
    assert list(row) == ["Id", "Owner.Name"] and row["Owner.Name"]


def test_a_query_the_rest_route_refuses_is_refused_alike_and_counts_are_refused(salesforce_sandbox, salesforce_client):
    bad = "SELECT Id, Nope__c FROM Lead"
    with pytest.raises(SalesforceMalformedRequest) as rest:
        salesforce_client.query(bad)
    with pytest.raises(SalesforceMalformedRequest) as bulk:
        list(salesforce_client.bulk2.Lead.query(bad, wait=0))
    assert bulk.value.content == rest.value.content
    assert bulk.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as counted:
        list(salesforce_client.bulk2.Lead.query("SELECT COUNT() FROM Lead", wait=0))
    assert counted.value.content[0]["errorCode"] == "API_ERROR"


def test_every_bulk_call_counts_toward_the_daily_allocation_and_jobs_toward_their_own(
    salesforce_sandbox, salesforce_client
):
    _leads(salesforce_sandbox, 3)
    before = salesforce_sandbox.app.allocation.used()
    list(salesforce_client.bulk2.Lead.query("SELECT Id FROM Lead", max_records=2, wait=0))
    # create, one poll, two result pages
    assert salesforce_sandbox.app.allocation.used() - before == 4
    assert salesforce_client.limits()["DailyBulkV2QueryJobs"] == {"Max": 10000, "Remaining": 9999}
    salesforce_sandbox.app.jobs.created.limit = 1
    with pytest.raises(SalesforceMalformedRequest) as refused:
        list(salesforce_client.bulk2.Lead.query("SELECT Id FROM Lead", wait=0))
    assert refused.value.content == [
        {"message": "Max bulk v2 query jobs (10000) per 24 hrs has been reached (1)", "errorCode": "LIMIT_EXCEEDED"}
    ]
    salesforce_sandbox.configure(daily_limit=salesforce_sandbox.app.allocation.used())
    with pytest.raises(SalesforceRefusedRequest):
        list(salesforce_client.bulk2.Lead.query("SELECT Id FROM Lead", wait=0))


def test_a_bad_locator_an_unknown_job_and_an_old_version_are_refused(salesforce_sandbox):
    _leads(salesforce_sandbox, 1)
    job = _http(salesforce_sandbox, "POST", JOBS, json={"operation": "query", "query": "SELECT Id FROM Lead"}).json()
    bad = _http(salesforce_sandbox, "GET", f"{JOBS}/{job['id']}/results", params={"locator": "not a locator"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALIDLOCATOR"
    assert _http(salesforce_sandbox, "GET", f"{JOBS}/750000000000000AAA").status_code == 404
    old = _http(
        salesforce_sandbox,
        "POST",
        "/services/data/v46.0/jobs/query",
        json={"operation": "query", "query": "SELECT Id FROM Lead"},
    )
    assert old.status_code == 404
    wrong = _http(salesforce_sandbox, "POST", JOBS, json={"operation": "insert", "query": "SELECT Id FROM Lead"})
    assert wrong.status_code == 400 and wrong.json()[0]["errorCode"] == "INVALIDJOB"
