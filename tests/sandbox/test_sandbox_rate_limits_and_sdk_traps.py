"""Rate limits, auth and the SDK behaviours that bite integrations (research/hubspot.md 4, 5, 8)."""

from __future__ import annotations

import json

import hubspot
import pytest
import urllib3
from hubspot.crm.contacts import (
    ApiException,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
)
from hubspot.crm.contacts.exceptions import ServiceException, UnauthorizedException
from urllib3.util.retry import Retry

from connector.sandbox.faults import Faults

LIST = "GET /crm/v3/objects/contacts"
SEARCH = "POST /crm/v3/objects/contacts/search"


def _search(client):
    return client.crm.contacts.search_api.do_search(PublicObjectSearchRequest(filter_groups=[], limit=10))


def test_every_call_carries_the_ten_secondly_headers(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.configure(rate_per_10s=100)
    _, _, headers = hubspot_client.crm.contacts.basic_api.get_page_with_http_info()
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert headers["X-HubSpot-RateLimit-Max"] == "100"
    assert headers["X-HubSpot-RateLimit-Remaining"] == "99"
    assert headers["X-HubSpot-Correlation-Id"]


def test_ten_secondly_budget_refuses_with_hubspots_429_body_and_headers(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.configure(rate_per_10s=3)
    api = hubspot_client.crm.contacts.basic_api
    for _ in range(3):
        api.get_page()
    with pytest.raises(ApiException) as raised:
        api.get_page()
    error = raised.value
    assert error.status == 429
    body = json.loads(error.body)
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["groupName"].startswith("publicapi:")
    assert error.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in error.headers


def test_the_ten_second_window_rolls(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.configure(rate_per_10s=2)
    api = hubspot_client.crm.contacts.basic_api
    api.get_page()
    hubspot_sandbox.clock.advance(6)
    api.get_page()
    hubspot_sandbox.clock.advance(4.1)  # the first call left the window, the second did not
    api.get_page()
    with pytest.raises(ApiException):
        api.get_page()
    hubspot_sandbox.clock.advance(10)
    api.get_page()
    assert hubspot_sandbox.stats()["max_in_window"]["ten_secondly"] == 2


def test_search_has_its_own_per_second_budget_and_429_without_rate_headers(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.configure(rate_per_10s=100, search_rate_per_s=2)
    _search(hubspot_client)
    _, _, headers = hubspot_client.crm.contacts.search_api.do_search_with_http_info(
        PublicObjectSearchRequest(filter_groups=[], limit=1)
    )
    assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in headers)
    with pytest.raises(ApiException) as raised:
        _search(hubspot_client)
    body = json.loads(raised.value.body)
    assert raised.value.status == 429
    assert body == {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "correlationId": body["correlationId"],
        "category": "RATE_LIMITS",
    }
    assert not any(h.lower().startswith("x-hubspot-ratelimit") for h in raised.value.headers)
    hubspot_sandbox.clock.advance(1)
    _search(hubspot_client)


def test_search_does_not_spend_the_ten_second_budget(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.configure(rate_per_10s=1, search_rate_per_s=10)
    for _ in range(5):
        _search(hubspot_client)
    hubspot_client.crm.contacts.basic_api.get_page()  # the one call of the 10-second budget


def test_daily_budget_refuses_with_the_daily_policy(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.configure(daily_limit=2)
    api = hubspot_client.crm.contacts.basic_api
    _, _, headers = api.get_page_with_http_info()
    assert headers["X-HubSpot-RateLimit-Daily"] == "2" and headers["X-HubSpot-RateLimit-Daily-Remaining"] == "1"
    api.get_page()
    with pytest.raises(ApiException) as raised:
        api.get_page()
    body = json.loads(raised.value.body)
    assert raised.value.status == 429 and body["policyName"] == "DAILY"
    assert body["message"] == "You have reached your daily limit."
    hubspot_sandbox.clock.advance(12 * 3600)  # past UTC midnight: a new day
    api.get_page()


def test_bad_or_missing_token_is_401_invalid_authentication(hubspot_sandbox):
    bad = hubspot.HubSpot(access_token="pat-wrong", host=hubspot_sandbox.base_url)
    with pytest.raises(UnauthorizedException) as raised:
        bad.crm.contacts.basic_api.get_page()
    body = json.loads(raised.value.body)
    assert raised.value.status == 401 and body["category"] == "INVALID_AUTHENTICATION"
    http = urllib3.PoolManager()
    reply = http.request("GET", hubspot_sandbox.base_url + "/crm/v3/objects/contacts")
    assert reply.status == 401 and json.loads(reply.data)["category"] == "INVALID_AUTHENTICATION"


def test_rejected_calls_are_counted_in_stats(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.configure(rate_per_10s=1)
    hubspot_client.crm.contacts.basic_api.get_page()
    with pytest.raises(ApiException):
        hubspot_client.crm.contacts.basic_api.get_page()
    stats = hubspot_sandbox.stats()
    assert stats["calls"][LIST] == {"200": 1, "429": 1}
    assert stats["rate_limited"] == 1


def test_urllib3_retry_retries_get_but_never_a_post(hubspot_sandbox):
    client = hubspot_sandbox.client(
        retry=Retry(total=2, status_forcelist=(503,), backoff_factor=0, raise_on_status=False)
    )
    hubspot_sandbox.app.faults.configure(Faults(error_rate=1.0, status=503))
    with pytest.raises(ServiceException):
        client.crm.contacts.basic_api.get_page()
    with pytest.raises(ServiceException):
        _search(client)
    calls = hubspot_sandbox.stats()["calls"]
    assert calls[LIST] == {"503": 3}  # one call plus two retries
    assert calls[SEARCH] == {"503": 1}  # POST is not in urllib3's default allowed_methods


def test_exhausted_retries_surface_as_max_retry_error_not_api_exception(hubspot_sandbox):
    client = hubspot_sandbox.client(
        retry=Retry(total=1, status_forcelist=(429,), allowed_methods=None, backoff_factor=0)
    )
    hubspot_sandbox.configure(search_rate_per_s=1)
    _search(client)
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        _search(client)


def test_patch_is_not_retried_either(hubspot_sandbox):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    client = hubspot_sandbox.client(
        retry=Retry(total=3, status_forcelist=(429,), backoff_factor=0, raise_on_status=False)
    )
    hubspot_sandbox.configure(rate_per_10s=1)
    client.crm.contacts.basic_api.get_by_id(cid)
    with pytest.raises(ApiException) as raised:
        client.crm.contacts.basic_api.update(cid, SimplePublicObjectInput(properties={"jobtitle": "CTO"}))
    assert raised.value.status == 429
    assert hubspot_sandbox.stats()["calls"]["PATCH /crm/v3/objects/contacts/{objectId}"] == {"429": 1}
