"""Contacts through the real SDK: list, get, create, update, archive, value formats."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from hubspot.crm.contacts import (
    ApiException,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import NotFoundException

ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def _props(client, contact_id, *names):
    return client.crm.contacts.basic_api.get_by_id(contact_id, properties=list(names)).properties


def test_list_pages_by_next_record_id_until_no_paging(hubspot_sandbox, hubspot_client):
    ids = hubspot_sandbox.seed_contacts(*({"email": f"p{i}@acme.io"} for i in range(25)))
    api = hubspot_client.crm.contacts.basic_api
    seen, after = [], None
    while True:
        page = api.get_page(limit=10, after=after, archived=False)
        seen.extend(r.id for r in page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
        assert after == str(int(seen[-1]) + 1)
    assert seen == ids


def test_list_accepts_repeated_and_comma_separated_properties(hubspot_sandbox, hubspot_client):
    hubspot_sandbox.seed_contacts({"email": "a@acme.io", "jobtitle": "CTO", "company": "Acme", "hs_lead_status": "NEW"})
    url = f"{hubspot_sandbox.base_url}/crm/v3/objects/contacts?properties=jobtitle,company&properties=hs_lead_status&archived=False"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {hubspot_sandbox.token}"})
    with urllib.request.urlopen(request) as reply:
        props = json.loads(reply.read())["results"][0]["properties"]
    assert {"jobtitle", "company", "hs_lead_status"} <= set(props)
    assert props["jobtitle"] == "CTO" and props["hs_lead_status"] == "NEW"


def test_default_properties_when_none_requested(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io", "jobtitle": "CTO"})
    props = hubspot_client.crm.contacts.basic_api.get_by_id(cid).properties
    assert set(props) == {"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"}
    assert props["firstname"] is None and props["hs_object_id"] == cid


def test_requested_property_without_value_is_null_and_unknown_is_omitted(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    props = _props(hubspot_client, cid, "jobtitle", "no_such_property")
    assert props["jobtitle"] is None
    assert "no_such_property" not in props


def test_every_property_value_is_a_string_and_timestamps_are_iso_ms_z(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts(
        {
            "email": "a@acme.io",
            "hs_analytics_num_page_views": 12,
            "hs_email_optout": True,
            "recent_conversion_date": "1763640000000",
        }
    )
    props = _props(hubspot_client, cid, "hs_analytics_num_page_views", "hs_email_optout", "recent_conversion_date")
    assert props["hs_analytics_num_page_views"] == "12"
    assert props["hs_email_optout"] == "true"
    for name in ("createdate", "lastmodifieddate", "recent_conversion_date"):
        assert ISO_MS_Z.match(props[name]), props[name]
    assert props["recent_conversion_date"] == "2025-11-20T12:00:00.000Z"


def test_get_by_email_with_id_property(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "Ana@Acme.io"})
    found = hubspot_client.crm.contacts.basic_api.get_by_id("ana@acme.io", id_property="email")
    assert found.id == cid


def test_missing_contact_raises_not_found_exception(hubspot_client):
    with pytest.raises(NotFoundException) as raised:
        hubspot_client.crm.contacts.basic_api.get_by_id("999999")
    assert raised.value.status == 404
    assert '"category":"OBJECT_NOT_FOUND"' in raised.value.body


def test_create_answers_201_and_the_sdk_returns_the_object(hubspot_client):
    created = hubspot_client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "new@acme.io", "firstname": "New"})
    )
    assert created is not None  # a 200 would deserialize to None: the SDK only maps 201
    assert created.properties["hs_email_domain"] == "acme.io"
    assert created.properties["hs_object_id"] == created.id


def test_create_with_existing_email_is_409_conflict(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "dup@acme.io"})
    with pytest.raises(ApiException) as raised:
        hubspot_client.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "DUP@acme.io"})
        )
    assert raised.value.status == 409
    assert f"Contact already exists. Existing ID: {cid}" in raised.value.body
    assert '"category":"CONFLICT"' in raised.value.body


def test_update_bumps_lastmodifieddate_on_every_write(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    api = hubspot_client.crm.contacts.basic_api
    hubspot_sandbox.clock.advance(60)
    first = api.update(cid, SimplePublicObjectInput(properties={"hs_lead_status": "OPEN"}))
    hubspot_sandbox.clock.advance(1.5)
    second = api.update(cid, SimplePublicObjectInput(properties={"hs_lead_status": "OPEN"}))  # same value
    assert first.properties["lastmodifieddate"] == "2026-11-20T12:01:00.000Z"
    assert second.properties["lastmodifieddate"] == "2026-11-20T12:01:01.500Z"
    props = _props(hubspot_client, cid, "hs_lastmodifieddate")
    assert props["lastmodifieddate"] == props["hs_lastmodifieddate"] == "2026-11-20T12:01:01.500Z"


def test_empty_string_clears_a_property(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io", "jobtitle": "CTO"})
    reply = hubspot_client.crm.contacts.basic_api.update(cid, SimplePublicObjectInput(properties={"jobtitle": ""}))
    assert reply.properties["jobtitle"] == ""  # the write reply echoes the empty string
    assert _props(hubspot_client, cid, "jobtitle")["jobtitle"] is None


@pytest.mark.parametrize(
    ("properties", "code"),
    [
        ({"no_such_property": "x"}, "PROPERTY_DOESNT_EXIST"),
        ({"hs_lead_status": "open"}, "INVALID_OPTION"),  # enumerations are case-sensitive
        ({"hubspot_owner_id": "not-a-number"}, "INVALID_INTEGER"),
        ({"hs_analytics_num_page_views": "5"}, "READ_ONLY_VALUE"),
    ],
)
def test_invalid_writes_are_400_validation_errors_with_details_in_the_message(
    hubspot_sandbox, hubspot_client, properties, code
):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    with pytest.raises(ApiException) as raised:
        hubspot_client.crm.contacts.basic_api.update(cid, SimplePublicObjectInput(properties=properties))
    assert raised.value.status == 400
    assert '"category":"VALIDATION_ERROR"' in raised.value.body
    assert "Property values were not valid" in raised.value.body and code in raised.value.body


def test_owner_id_must_name_an_existing_owner(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    owner_id = hubspot_client.crm.owners.owners_api.get_page().results[0].id
    api = hubspot_client.crm.contacts.basic_api
    assert (
        api.update(cid, SimplePublicObjectInput(properties={"hubspot_owner_id": owner_id})).properties[
            "hubspot_owner_id"
        ]
        == owner_id
    )
    with pytest.raises(ApiException) as raised:
        api.update(cid, SimplePublicObjectInput(properties={"hubspot_owner_id": "123"}))
    assert raised.value.status == 400


def test_archive_answers_204_and_the_contact_moves_to_the_archived_list(hubspot_sandbox, hubspot_client):
    keep, gone = hubspot_sandbox.seed_contacts({"email": "a@acme.io"}, {"email": "b@acme.io"})
    api = hubspot_client.crm.contacts.basic_api
    assert api.archive(gone) is None
    assert [r.id for r in api.get_page(archived=False).results] == [keep]
    archived = api.get_page(archived=True).results
    assert [r.id for r in archived] == [gone] and archived[0].archived is True
    with pytest.raises(NotFoundException):
        api.get_by_id(gone)


def test_properties_with_history_lists_values_newest_first(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io", "hs_lead_status": "NEW"})
    api = hubspot_client.crm.contacts.basic_api
    hubspot_sandbox.clock.advance(10)
    api.update(cid, SimplePublicObjectInput(properties={"hs_lead_status": "OPEN"}))
    history = api.get_by_id(cid, properties_with_history=["hs_lead_status"]).properties_with_history["hs_lead_status"]
    assert [h.value for h in history] == ["OPEN", "NEW"]
    assert history[0].source_type == "API"
