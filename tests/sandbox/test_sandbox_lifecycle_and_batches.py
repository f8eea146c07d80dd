"""Lifecycle-stage rules and batch endpoints (read, create, update, upsert, archive) via the SDK."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectInput,
)


def _stage(client, contact_id):
    return client.crm.contacts.basic_api.get_by_id(contact_id, properties=["lifecyclestage"]).properties[
        "lifecyclestage"
    ]


def _write_stage(client, contact_id, stage):
    return client.crm.contacts.basic_api.update(
        contact_id, SimplePublicObjectInput(properties={"lifecyclestage": stage})
    )


def test_lifecycle_stage_options_come_in_hubspots_default_order(hubspot_client):
    prop = hubspot_client.crm.properties.core_api.get_by_name("contacts", "lifecyclestage")
    assert [o.value for o in sorted(prop.options, key=lambda o: o.display_order)] == [
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
        "evangelist",
        "other",
    ]
    status = hubspot_client.crm.properties.core_api.get_by_name("contacts", "hs_lead_status")
    assert [o.value for o in status.options] == [
        "NEW",
        "OPEN",
        "IN_PROGRESS",
        "OPEN_DEAL",
        "UNQUALIFIED",
        "ATTEMPTED_TO_CONTACT",
        "CONNECTED",
        "BAD_TIMING",
    ]


def test_forward_lifecycle_write_moves_the_stage_and_stamps_its_date(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io", "lifecyclestage": "lead"})
    reply = _write_stage(hubspot_client, cid, "marketingqualifiedlead")
    assert reply.properties["lifecyclestage"] == "marketingqualifiedlead"
    props = hubspot_client.crm.contacts.basic_api.get_by_id(
        cid, properties=["lifecyclestage", "hs_lifecyclestage_marketingqualifiedlead_date"]
    ).properties
    assert props["lifecyclestage"] == "marketingqualifiedlead"
    assert props["hs_lifecyclestage_marketingqualifiedlead_date"] == "2026-11-20T12:00:00.000Z"


def test_backward_lifecycle_write_is_accepted_but_ignored(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io", "lifecyclestage": "salesqualifiedlead"})
    hubspot_sandbox.clock.advance(30)
    reply = _write_stage(hubspot_client, cid, "lead")  # no exception: HubSpot answers 200
    assert reply.properties["lifecyclestage"] == "salesqualifiedlead"  # the reply shows the kept stage
    assert reply.properties["lastmodifieddate"] == "2026-11-20T12:00:30.000Z"  # and the write still counts
    assert _stage(hubspot_client, cid) == "salesqualifiedlead"


def test_clearing_the_stage_then_setting_it_moves_it_backward(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io", "lifecyclestage": "salesqualifiedlead"})
    _write_stage(hubspot_client, cid, "")
    assert _stage(hubspot_client, cid) is None
    _write_stage(hubspot_client, cid, "lead")
    assert _stage(hubspot_client, cid) == "lead"


def test_unknown_lifecycle_stage_is_an_invalid_option(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    with pytest.raises(ApiException) as raised:
        _write_stage(hubspot_client, cid, "mql")
    assert raised.value.status == 400 and "INVALID_OPTION" in raised.value.body


def test_batch_read_answers_207_with_object_not_found_for_missing_ids(hubspot_sandbox, hubspot_client):
    a, b = hubspot_sandbox.seed_contacts({"email": "a@acme.io"}, {"email": "b@acme.io"})
    reply = hubspot_client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(properties=["email"], inputs=[{"id": a}, {"id": "424242"}, {"id": b}])
    )
    # a 207 is no exception in the SDK: the errors ride along on the reply
    assert sorted(r.id for r in reply.results) == sorted([a, b])
    assert reply.num_errors == 1
    error = reply.errors[0]
    assert error.category == "OBJECT_NOT_FOUND" and error.context == {"ids": ["424242"]}


def test_batch_read_by_email_uses_id_property(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    reply = hubspot_client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(id_property="email", properties=["email"], inputs=[{"id": "A@acme.io"}])
    )
    assert [r.id for r in reply.results] == [cid]
    assert getattr(reply, "errors", None) is None


def test_more_than_100_batch_inputs_is_400(hubspot_client):
    with pytest.raises(ApiException) as raised:
        hubspot_client.crm.contacts.batch_api.read(
            BatchReadInputSimplePublicObjectId(properties=["email"], inputs=[{"id": str(i)} for i in range(101)])
        )
    assert raised.value.status == 400 and '"category":"VALIDATION_ERROR"' in raised.value.body


def test_batch_read_with_history_is_limited_to_50_inputs(hubspot_client):
    with pytest.raises(ApiException) as raised:
        hubspot_client.crm.contacts.batch_api.read(
            BatchReadInputSimplePublicObjectId(
                properties=["email"],
                properties_with_history=["lifecyclestage"],
                inputs=[{"id": str(i)} for i in range(51)],
            )
        )
    assert raised.value.status == 400
    assert "property histories is 50" in raised.value.body


def test_batch_update_reports_unknown_property_as_a_207_element(hubspot_sandbox, hubspot_client):
    good, bad = hubspot_sandbox.seed_contacts({"email": "a@acme.io"}, {"email": "b@acme.io"})
    reply = hubspot_client.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": good, "properties": {"hs_lead_status": "OPEN"}},
                {"id": bad, "properties": {"mql_score": "42"}, "objectWriteTraceId": "trace-1"},
            ]
        )
    )
    assert [r.id for r in reply.results] == [good]
    assert reply.results[0].properties["hs_lead_status"] == "OPEN"
    (error,) = reply.errors
    assert error.category == "VALIDATION_ERROR" and "PROPERTY_DOESNT_EXIST" in error.message
    assert error.context["objectWriteTraceId"] == ["trace-1"]


def test_batch_update_backward_stage_is_complete_and_keeps_the_stage(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io", "lifecyclestage": "opportunity"})
    reply = hubspot_client.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": cid, "properties": {"lifecyclestage": "marketingqualifiedlead"}}]
        )
    )
    assert reply.status == "COMPLETE" and getattr(reply, "errors", None) is None
    assert reply.results[0].properties["lifecyclestage"] == "opportunity"


def test_batch_create_answers_201_and_results_do_not_follow_input_order(hubspot_client):
    inputs = [{"properties": {"email": f"user{i}@demo.com", "firstname": f"User {i}"}} for i in range(10)]
    reply = hubspot_client.crm.contacts.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))
    emails = [r.properties["email"] for r in reply.results]
    assert sorted(emails) == sorted(i["properties"]["email"] for i in inputs)
    assert emails != [i["properties"]["email"] for i in inputs]  # match results to inputs by a key, never by position


def test_batch_upsert_by_email_creates_or_updates(hubspot_sandbox, hubspot_client):
    (existing,) = hubspot_sandbox.seed_contacts({"email": "old@acme.io"})
    reply = hubspot_client.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                {"id": "old@acme.io", "idProperty": "email", "properties": {"jobtitle": "CFO"}},
                {"id": "new@acme.io", "idProperty": "email", "properties": {"jobtitle": "CEO"}},
            ]
        )
    )
    by_id = {r.id: r for r in reply.results}
    assert by_id[existing].new is False and by_id[existing].properties["jobtitle"] == "CFO"
    (created,) = [r for r in reply.results if r.id != existing]
    assert created.new is True and created.properties["email"] == "new@acme.io"


def test_batch_archive_answers_204(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    assert hubspot_client.crm.contacts.batch_api.archive(BatchInputSimplePublicObjectId(inputs=[{"id": cid}])) is None
    assert hubspot_client.crm.contacts.basic_api.get_page().results == []


def test_duplicate_ids_in_one_batch_update_are_400(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    with pytest.raises(ApiException) as raised:
        hubspot_client.crm.contacts.batch_api.update(
            BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    {"id": cid, "properties": {"lifecyclestage": ""}},
                    {"id": cid, "properties": {"lifecyclestage": "lead"}},
                ]
            )
        )
    assert raised.value.status == 400
