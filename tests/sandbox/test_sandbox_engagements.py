"""Tasks, meetings, calls, emails and notes; associations v4; owners; properties and groups."""

from __future__ import annotations

import orjson
import pytest
import urllib3
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.contacts import SimplePublicObjectInput
from hubspot.crm.objects.emails import BatchReadInputSimplePublicObjectId
from hubspot.crm.objects.tasks import ApiException as TaskApiException
from hubspot.crm.objects.tasks import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.properties import ApiException as PropertyApiException
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate

from connector.sandbox.hubspot import routes
from connector.sandbox.hubspot.objects import CONTACTS, DEALS, MEETINGS

TASK_TO_CONTACT = 204


def _task(contact_id, subject, **extra):
    return {
        "properties": {
            "hs_task_subject": subject,
            "hs_task_body": "Asked for a demo; pricing page twice this week.",
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": "HIGH",
            "hs_task_type": "CALL",
            "hs_timestamp": "2026-11-20T13:00:00.000Z",
            **extra,
        },
        "associations": [
            {
                "to": {"id": contact_id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_CONTACT}],
            }
        ],
    }


@pytest.fixture
def contact(hubspot_sandbox):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "ana@acme.io"})
    return cid


def _search_by_contact(api, contact_id, properties=()):
    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "associations.contact", "operator": "EQ", "value": contact_id}]}],
        properties=list(properties),
        limit=100,
    )
    return api.do_search(request)


def test_task_create_with_contact_association_answers_201(hubspot_sandbox, hubspot_client, contact):
    task = hubspot_client.crm.objects.tasks.basic_api.create(
        SimplePublicObjectInputForCreate(**_task(contact, "Call Ana"))
    )
    assert task is not None and task.properties["hs_task_subject"] == "Call Ana"
    assert task.properties["hs_timestamp"] == "2026-11-20T13:00:00.000Z"
    dump = hubspot_sandbox.app.dump()
    (stored,) = dump["tasks"]
    assert stored["associations"] == {"contacts": [contact]}
    assert dump["contacts"][0]["associations"] == {"tasks": [task.id]}


def test_task_timestamp_accepts_epoch_milliseconds(hubspot_client, contact):
    task = hubspot_client.crm.objects.tasks.basic_api.create(
        SimplePublicObjectInputForCreate(**_task(contact, "Call Ana", hs_timestamp="1763643600000"))
    )
    assert task.properties["hs_timestamp"] == "2025-11-20T13:00:00.000Z"


def test_task_without_due_time_is_refused(hubspot_client, contact):
    spec = _task(contact, "Call Ana")
    del spec["properties"]["hs_timestamp"]
    with pytest.raises(TaskApiException) as raised:
        hubspot_client.crm.objects.tasks.basic_api.create(SimplePublicObjectInputForCreate(**spec))
    assert raised.value.status == 400 and "hs_timestamp" in raised.value.body


def test_task_priority_must_be_high_medium_or_low(hubspot_client, contact):
    with pytest.raises(TaskApiException) as raised:
        hubspot_client.crm.objects.tasks.basic_api.create(
            SimplePublicObjectInputForCreate(**_task(contact, "Call Ana", hs_task_priority="URGENT"))
        )
    assert raised.value.status == 400 and "INVALID_OPTION" in raised.value.body


def test_task_association_to_a_missing_contact_is_refused(hubspot_client):
    with pytest.raises(TaskApiException) as raised:
        hubspot_client.crm.objects.tasks.basic_api.create(SimplePublicObjectInputForCreate(**_task("999", "Call")))
    assert raised.value.status == 400


def test_batch_create_tasks_then_list_and_search_them_by_contact(hubspot_client, contact):
    api = hubspot_client.crm.objects.tasks
    reply = api.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(inputs=[_task(contact, "First"), _task(contact, "Second")])
    )
    assert sorted(t.properties["hs_task_subject"] for t in reply.results) == ["First", "Second"]
    listed = api.basic_api.get_page(properties=["hs_task_subject"])
    assert sorted(t.properties["hs_task_subject"] for t in listed.results) == ["First", "Second"]
    found = _search_by_contact(api.search_api, contact, ["hs_task_subject", "hs_task_status"])
    assert found.total == 2
    assert {t.properties["hs_task_status"] for t in found.results} == {"NOT_STARTED"}
    assert set(found.results[0].properties) >= {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"}


def test_retried_task_create_makes_a_duplicate_since_there_is_no_idempotency_key(hubspot_client, contact):
    api = hubspot_client.crm.objects.tasks.basic_api
    first = api.create(SimplePublicObjectInputForCreate(**_task(contact, "Call Ana")))
    second = api.create(SimplePublicObjectInputForCreate(**_task(contact, "Call Ana")))
    assert first.id != second.id
    assert _search_by_contact(hubspot_client.crm.objects.tasks.search_api, contact).total == 2


def test_activities_of_a_contact_via_search_batch_read_and_associations_v4(hubspot_sandbox, hubspot_client, contact):
    created = hubspot_sandbox.app.add_activities(
        [
            {"contactId": contact, "type": "meeting_booked", "at": "2026-11-18T09:00:00Z", "name": "Discovery call"},
            {"contactId": contact, "type": "call", "at": "2026-11-18T10:00:00Z", "name": "Intro call"},
            {
                "contactId": contact,
                "objectType": "emails",
                "properties": {
                    "hs_timestamp": "2026-11-18T11:00:00Z",
                    "hs_email_subject": "Hello",
                    "hs_email_direction": "EMAIL",
                },
            },
            {
                "contactId": contact,
                "objectType": "notes",
                "properties": {"hs_timestamp": "2026-11-18T12:00:00Z", "hs_note_body": "Met at a fair"},
            },
        ]
    )
    assert [c["objectType"] for c in created] == ["meetings", "calls", "emails", "notes"]
    objects = hubspot_client.crm.objects
    meetings = _search_by_contact(objects.meetings.search_api, contact, ["hs_meeting_title"])
    assert [m.properties["hs_meeting_title"] for m in meetings.results] == ["Discovery call"]
    calls = objects.calls.basic_api.get_page(properties=["hs_call_title", "hs_call_direction"])
    assert calls.results[0].properties["hs_call_direction"] == "OUTBOUND"
    email_id = created[2]["id"]
    emails = objects.emails.batch_api.read(
        BatchReadInputSimplePublicObjectId(properties=["hs_email_subject"], inputs=[{"id": email_id}])
    )
    assert emails.results[0].properties["hs_email_subject"] == "Hello"
    assert _search_by_contact(objects.notes.search_api, contact).total == 1

    associations = hubspot_client.crm.associations.v4.batch_api.get_page(
        "contacts", "meetings", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": contact}])
    )
    (result,) = associations.results
    assert result._from.id == contact
    assert [str(t.to_object_id) for t in result.to] == [created[0]["id"]]
    assert result.to[0].association_types[0].type_id == 199  # contact -> meeting


def test_associations_v4_batch_read_answers_207_for_records_without_associations(
    hubspot_sandbox, hubspot_client, contact
):
    (lonely,) = hubspot_sandbox.seed_contacts({"email": "lonely@acme.io"})
    hubspot_client.crm.objects.tasks.basic_api.create(SimplePublicObjectInputForCreate(**_task(contact, "Call")))
    reply = hubspot_client.crm.associations.v4.batch_api.get_page(
        "contacts", "tasks", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": contact}, {"id": lonely}])
    )
    assert [r._from.id for r in reply.results] == [contact]
    assert reply.results[0].to[0].association_types[0].type_id == 203
    assert reply.num_errors == 1 and reply.errors[0].context["fromObjectId"] == [lonely]


def test_owners_answer_with_and_without_trailing_slash(hubspot_sandbox, hubspot_client):
    owners = hubspot_client.crm.owners.owners_api.get_page(limit=100).results  # the SDK adds the slash
    kinds = {o.type for o in owners}
    assert kinds == {"PERSON", "QUEUE"}
    http = urllib3.PoolManager(headers={"Authorization": f"Bearer {hubspot_sandbox.token}"})
    plain = http.request("GET", hubspot_sandbox.base_url + "/crm/v3/owners?limit=100").json()
    assert [o["id"] for o in plain["results"]] == [o.id for o in owners]
    person = next(o for o in owners if o.type == "PERSON")
    assert hubspot_client.crm.owners.owners_api.get_by_id(int(person.id)).email == person.email
    by_email = hubspot_client.crm.owners.owners_api.get_page(email=person.email).results
    assert [o.id for o in by_email] == [person.id]


def test_owner_list_pages(hubspot_client):
    api = hubspot_client.crm.owners.owners_api
    first = api.get_page(limit=2)
    second = api.get_page(limit=2, after=first.paging.next.after)
    assert len(first.results) == 2 and {o.id for o in first.results}.isdisjoint(o.id for o in second.results)


def test_task_properties_are_defined(hubspot_client):
    names = {p.name for p in hubspot_client.crm.properties.core_api.get_all("tasks").results}
    assert {
        "hs_task_subject",
        "hs_task_body",
        "hs_task_status",
        "hs_task_priority",
        "hs_timestamp",
        "hubspot_owner_id",
        "hs_task_type",
    } <= names
    priority = hubspot_client.crm.properties.core_api.get_by_name("tasks", "hs_task_priority")
    assert [o.value for o in priority.options] == ["LOW", "MEDIUM", "HIGH"]


def test_property_group_and_property_create_then_409_on_duplicates(hubspot_sandbox, hubspot_client):
    properties = hubspot_client.crm.properties
    group = properties.groups_api.create("contacts", PropertyGroupCreate(name="lead_scoring", label="Lead scoring"))
    assert group.name == "lead_scoring"
    with pytest.raises(PropertyApiException) as raised:
        properties.groups_api.create("contacts", PropertyGroupCreate(name="lead_scoring", label="Again"))
    assert raised.value.status == 409
    spec = PropertyCreate(
        name="mql_score", label="MQL score", type="number", field_type="number", group_name="lead_scoring"
    )
    created = properties.core_api.create("contacts", spec)
    assert created.name == "mql_score" and created.type == "number"
    with pytest.raises(PropertyApiException) as raised:
        properties.core_api.create("contacts", spec)
    assert raised.value.status == 409
    (cid,) = hubspot_sandbox.seed_contacts({"email": "a@acme.io"})
    reply = hubspot_client.crm.contacts.basic_api.update(cid, SimplePublicObjectInput(properties={"mql_score": 42}))
    assert reply.properties["mql_score"] == "42"  # numbers travel as strings


def test_property_in_a_missing_group_is_400(hubspot_client):
    spec = PropertyCreate(name="x", label="X", type="string", field_type="text", group_name="nope")
    with pytest.raises(PropertyApiException) as raised:
        hubspot_client.crm.properties.core_api.create("contacts", spec)
    assert raised.value.status == 400


def test_object_type_aliases_reach_the_same_objects(hubspot_sandbox, contact):
    http = urllib3.PoolManager(headers={"Authorization": f"Bearer {hubspot_sandbox.token}"})
    for alias in ("contacts", "contact", "CONTACT", "0-1"):
        reply = http.request("GET", f"{hubspot_sandbox.base_url}/crm/v3/objects/{alias}/{contact}")
        assert reply.status == 200 and reply.json()["id"] == contact
    assert http.request("GET", f"{hubspot_sandbox.base_url}/crm/v3/objects/widgets").status == 400


@pytest.mark.parametrize("key", ["123", 'a"b\\c', "café", "\x00", "</x>", "12\n3"])
def test_an_id_without_associations_is_answered_as_its_error_element_encodes(key):
    for otype, to_type in ((CONTACTS, MEETINGS), (DEALS, CONTACTS)):
        encoded = orjson.dumps(routes._unlinked_error(otype, to_type)(key))
        assert encoded == orjson.dumps(routes._no_associations(otype, to_type, key))
        assert orjson.loads(encoded)["context"]["fromObjectId"] == [key]
