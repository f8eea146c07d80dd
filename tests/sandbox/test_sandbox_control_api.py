"""The control API under /_sandbox/ (DESIGN.md 4.4), over HTTP, plus injected faults."""

from __future__ import annotations

import time

import pytest
import urllib3
from conftest import SANDBOX_START
from hubspot.crm.contacts import ApiException

from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox


def _contact(sandbox, contact_id):
    return next(c for c in sandbox.app.dump()["contacts"] if c["id"] == contact_id)


def test_seed_contacts_answers_their_ids(hubspot_sandbox, hubspot_client):
    status, body = hubspot_sandbox.control(
        "POST",
        "/_sandbox/contacts",
        [
            {"properties": {"email": "a@acme.io", "lifecyclestage": "lead"}},
            {"id": "777", "properties": {"email": "b@acme.io", "hs_analytics_num_page_views": "9"}},
        ],
    )
    assert status == 201 and body["ids"][1] == "777"
    assert hubspot_client.crm.contacts.basic_api.get_by_id("777").properties["email"] == "b@acme.io"


@pytest.mark.parametrize(
    ("items", "status"),
    [([{"properties": {"no_such": "x"}}], 400), ({"not": "a list"}, 400)],
)
def test_seed_contacts_refuses_bad_input(hubspot_sandbox, items, status):
    assert hubspot_sandbox.control("POST", "/_sandbox/contacts", items)[0] == status


def test_seeding_a_duplicate_email_is_409(hubspot_sandbox):
    hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    assert hubspot_sandbox.control("POST", "/_sandbox/contacts", [{"properties": {"email": "A@acme.io"}}])[0] == 409


def test_touch_changes_a_contact_like_a_rep_and_bumps_its_modified_time(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io", "lifecyclestage": "salesqualifiedlead"})
    hubspot_sandbox.clock.advance(90)
    status, _body = hubspot_sandbox.control(
        "POST",
        f"/_sandbox/contacts/{cid}/touch",
        {"properties": {"lifecyclestage": "lead", "hs_lead_status": "UNQUALIFIED"}},
    )
    assert status == 200
    props = hubspot_client.crm.contacts.basic_api.get_by_id(
        cid, properties=["lifecyclestage", "hs_lead_status"]
    ).properties
    assert props["lifecyclestage"] == "lead"  # a rep may move the stage back; the API may not
    assert props["hs_lead_status"] == "UNQUALIFIED"
    assert props["lastmodifieddate"] == "2026-11-20T12:01:30.000Z"
    history = hubspot_client.crm.contacts.basic_api.get_by_id(cid, properties_with_history=["lifecyclestage"])
    assert history.properties_with_history["lifecyclestage"][0].source_type == "CRM_UI"


def test_touching_a_missing_contact_is_404(hubspot_sandbox):
    assert hubspot_sandbox.control("POST", "/_sandbox/contacts/5/touch", {"properties": {}})[0] == 404


def test_seeded_activities_update_counters_and_create_engagements(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io", "hs_analytics_num_page_views": "2"})
    hubspot_sandbox.clock.advance(60)
    status, body = hubspot_sandbox.control(
        "POST",
        "/_sandbox/activities",
        [
            {
                "contactId": cid,
                "type": "page_view",
                "url": "https://vendor.example/pricing",
                "at": "2026-11-20T11:00:00Z",
                "count": 3,
            },
            {"contactId": cid, "type": "email_open", "at": "2026-11-19T08:00:00Z", "count": 2},
            {"contactId": cid, "type": "form_submission", "name": "Request a demo", "at": "2026-11-20T11:30:00Z"},
            {"contactId": cid, "type": "meeting_booked", "name": "Discovery call", "at": "2026-11-20T11:40:00Z"},
        ],
    )
    assert status == 201
    assert [c["objectType"] for c in body["created"]] == ["meetings"]
    props = _contact(hubspot_sandbox, cid)["properties"]
    assert props["hs_analytics_num_page_views"] == "5"
    assert props["hs_analytics_last_url"] == "https://vendor.example/pricing"
    assert props["hs_email_open"] == "2"
    assert props["num_conversion_events"] == "1" and props["recent_conversion_event_name"] == "Request a demo"
    assert props["lastmodifieddate"] == "2026-11-20T12:01:00.000Z"
    assert _contact(hubspot_sandbox, cid)["associations"] == {"meetings": [body["created"][0]["id"]]}


def test_bad_activity_is_400_with_the_field_named(hubspot_sandbox):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    status, body = hubspot_sandbox.control(
        "POST", "/_sandbox/activities", [{"contactId": cid, "type": "teleport", "at": "x"}]
    )
    assert status == 400 and "type" in body["error"]


def test_stats_count_calls_by_route_template_and_status(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    hubspot_client.crm.contacts.basic_api.get_by_id(cid)
    with pytest.raises(ApiException):
        hubspot_client.crm.contacts.basic_api.get_by_id("404404")
    hubspot_client.crm.objects.tasks.basic_api.get_page()
    status, stats = hubspot_sandbox.control("GET", "/_sandbox/stats")
    assert status == 200
    assert stats["calls"]["GET /crm/v3/objects/contacts/{objectId}"] == {"200": 1, "404": 1}
    assert stats["calls"]["GET /crm/v3/objects/tasks"] == {"200": 1}
    assert stats["total"] == 3 and stats["rate_limited"] == 0  # control calls are not counted
    assert stats["max_in_window"]["ten_secondly"] == 3


def test_dump_lists_every_record_with_properties_and_associations(hubspot_sandbox):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    hubspot_sandbox.app.add_activities([{"contactId": cid, "type": "call", "at": "2026-11-20T10:00:00Z"}])
    status, dump = hubspot_sandbox.control("GET", "/_sandbox/dump")
    assert status == 200
    assert set(dump) == {"owners", "contacts", "deals", "leads", "tasks", "calls", "meetings", "emails", "notes"}
    (call,) = dump["calls"]
    assert call["associations"] == {"contacts": [cid]} and call["properties"]["hs_call_status"] == "COMPLETED"


def test_injected_errors_answer_the_configured_status(hubspot_sandbox, hubspot_client):
    assert hubspot_sandbox.control("POST", "/_sandbox/faults", {"error_rate": 1.0, "status": 502})[0] == 200
    with pytest.raises(ApiException) as raised:
        hubspot_client.crm.contacts.basic_api.get_page()
    assert raised.value.status == 502
    assert hubspot_sandbox.control("GET", "/_sandbox/stats")[0] == 200  # the control API is never faulted
    hubspot_sandbox.control("POST", "/_sandbox/faults", {"error_rate": 0})
    hubspot_client.crm.contacts.basic_api.get_page()


def test_injected_429_carries_the_ten_secondly_body(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.control("POST", "/_sandbox/faults", {"error_rate": 1.0, "status": 429})
    with pytest.raises(ApiException) as raised:
        hubspot_client.crm.contacts.basic_api.get_page()
    assert raised.value.status == 429 and '"policyName":"TEN_SECONDLY_ROLLING"' in raised.value.body


def test_injected_latency_delays_answers(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.control("POST", "/_sandbox/faults", {"latency_ms": 120})
    started = time.monotonic()
    hubspot_client.crm.contacts.basic_api.get_page()
    assert time.monotonic() - started >= 0.12


def test_dropped_connections_reach_the_client_as_connection_errors(hubspot_sandbox):
    hubspot_sandbox.control("POST", "/_sandbox/faults", {"reset_rate": 1.0})
    http = urllib3.PoolManager(retries=False, headers={"Authorization": f"Bearer {hubspot_sandbox.token}"})
    with pytest.raises(urllib3.exceptions.ProtocolError):
        http.request("GET", hubspot_sandbox.base_url + "/crm/v3/objects/contacts")
    assert hubspot_sandbox.stats()["calls"]["GET /crm/v3/objects/contacts"] == {"dropped": 1}


def test_bad_fault_settings_are_400(hubspot_sandbox):
    assert hubspot_sandbox.control("POST", "/_sandbox/faults", {"error_rate": 2})[0] == 400
    assert hubspot_sandbox.control("POST", "/_sandbox/faults", {"status": 200, "error_rate": 1})[0] == 400
    assert hubspot_sandbox.control("POST", "/_sandbox/faults", {"typo": 1})[0] == 400


def test_reset_restores_the_starting_portal_and_clears_faults_and_stats():
    app = HubSpotSandbox(HubSpotConfig(contacts=30, seed=5, rate_per_10s=0), clock=ManualClock(SANDBOX_START))
    with app.server() as server:
        http = urllib3.PoolManager(headers={"Authorization": "Bearer sandbox-token"})
        before = http.request("GET", server.base_url + "/_sandbox/dump").json()
        app.seed_contacts([{"properties": {"email": "extra@acme.io"}}])
        http.request("POST", server.base_url + "/_sandbox/faults", body=b'{"error_rate": 1}')
        assert http.request("GET", server.base_url + "/crm/v3/objects/contacts").status == 503
        assert http.request("POST", server.base_url + "/_sandbox/reset").status == 200
        after = http.request("GET", server.base_url + "/_sandbox/dump").json()
        assert after == before
        assert http.request("GET", server.base_url + "/crm/v3/objects/contacts").status == 200
        assert http.request("GET", server.base_url + "/_sandbox/stats").json()["total"] == 1


def test_unknown_control_route_is_404(hubspot_sandbox):
    assert hubspot_sandbox.control("GET", "/_sandbox/nothing")[0] == 404
