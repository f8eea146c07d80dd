"""HubSpot's Leads object: a name and a primary contact are required, several per contact, batches of 100."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.objects.leads import ApiException as LeadApiException
from hubspot.crm.objects.leads import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

LEAD_TO_PRIMARY_CONTACT = 578


def _lead(contact_id, name="Ana Ruiz", **properties):
    associations = []
    if contact_id is not None:
        associations.append(
            {
                "to": {"id": contact_id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": LEAD_TO_PRIMARY_CONTACT}],
            }
        )
    named = {"hs_lead_name": name} if name else {}
    return {"properties": {**named, **properties}, "associations": associations}


@pytest.fixture
def contact(hubspot_sandbox):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "ana@acme.io"})
    return cid


def test_a_lead_for_a_contact_starts_new_in_the_lead_pipeline(hubspot_client, contact):
    lead = hubspot_client.crm.objects.leads.basic_api.create(
        SimplePublicObjectInputForCreate(**_lead(contact, hs_lead_type="NEW BUSINESS", hs_lead_label="WARM"))
    )
    assert lead.properties["hs_pipeline"] == "lead-pipeline-id"
    assert lead.properties["hs_pipeline_stage"] == "new-stage-id"
    read = hubspot_client.crm.objects.leads.basic_api.get_by_id(lead.id, properties=["hs_lead_name", "hs_lead_label"])
    assert (read.properties["hs_lead_name"], read.properties["hs_lead_label"]) == ("Ana Ruiz", "WARM")


def test_a_lead_without_a_contact_is_refused(hubspot_client):
    with pytest.raises(LeadApiException) as refused:
        hubspot_client.crm.objects.leads.basic_api.create(SimplePublicObjectInputForCreate(**_lead(None)))
    body = json.loads(refused.value.body)
    assert refused.value.status == 400 and body["category"] == "VALIDATION_ERROR"
    assert "associationTypeId 578" in body["message"] and body["correlationId"]
    assert hubspot_client.crm.objects.leads.basic_api.get_page().results == []  # nothing half-made


def test_a_lead_for_a_contact_that_does_not_exist_is_refused_and_not_made(hubspot_client):
    with pytest.raises(LeadApiException) as refused:
        hubspot_client.crm.objects.leads.basic_api.create(SimplePublicObjectInputForCreate(**_lead("424242")))
    assert refused.value.status == 400 and "CONTACT 424242 does not exist" in refused.value.body
    assert hubspot_client.crm.objects.leads.basic_api.get_page().results == []


def test_a_lead_without_a_name_is_refused_like_any_required_property(hubspot_client, contact):
    with pytest.raises(LeadApiException) as refused:
        hubspot_client.crm.objects.leads.basic_api.create(SimplePublicObjectInputForCreate(**_lead(contact, name="")))
    body = json.loads(refused.value.body)
    assert refused.value.status == 400 and body["message"].startswith("Property values were not valid")
    (detail,) = json.loads(body["message"].partition(": ")[2])
    assert (detail["name"], detail["error"]) == ("hs_lead_name", "REQUIRED_PROPERTY")


def test_a_contact_can_have_several_leads_read_back_through_associations(hubspot_client, contact):
    first = hubspot_client.crm.objects.leads.basic_api.create(SimplePublicObjectInputForCreate(**_lead(contact)))
    second = hubspot_client.crm.objects.leads.basic_api.create(
        SimplePublicObjectInputForCreate(**_lead(contact, name="Ana again"))
    )
    reply = hubspot_client.crm.associations.v4.batch_api.get_page(
        "contacts", "leads", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": contact}])
    )
    assert sorted(t.to_object_id for t in reply.results[0].to) == sorted([first.id, second.id])
    back = hubspot_client.crm.associations.v4.batch_api.get_page(
        "leads", "contacts", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": first.id}])
    )
    assert back.results[0].to[0].association_types[0].type_id == LEAD_TO_PRIMARY_CONTACT


def test_batch_create_makes_leads_with_contacts_and_reports_the_rest(hubspot_client, contact):
    inputs = [
        {**_lead(contact), "objectWriteTraceId": "good"},
        {**_lead(None, name="Orphan"), "objectWriteTraceId": "orphan"},
    ]
    reply = hubspot_client.crm.objects.leads.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
    )
    assert len(reply.results) == 1 and reply.num_errors == 1
    (error,) = reply.errors
    assert error.category == "VALIDATION_ERROR" and error.context == {"objectWriteTraceId": ["orphan"]}


def test_lead_batches_hold_at_most_100(hubspot_client, contact):
    inputs = [_lead(contact, name=f"Lead {i}") for i in range(101)]
    with pytest.raises(LeadApiException) as refused:
        hubspot_client.crm.objects.leads.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        )
    assert refused.value.status == 400
    made = hubspot_client.crm.objects.leads.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs[:100])
    )
    assert len(made.results) == 100


def test_a_lead_moved_to_a_stage_of_no_lead_pipeline_is_refused(hubspot_client, contact):
    lead = hubspot_client.crm.objects.leads.basic_api.create(SimplePublicObjectInputForCreate(**_lead(contact)))
    with pytest.raises(LeadApiException) as refused:
        hubspot_client.crm.objects.leads.basic_api.update(
            lead.id, SimplePublicObjectInput(properties={"hs_pipeline_stage": "closedwon"})
        )
    assert refused.value.status == 400
    hubspot_client.crm.objects.leads.basic_api.update(
        lead.id, SimplePublicObjectInput(properties={"hs_pipeline_stage": "qualified-stage-id"})
    )
    read = hubspot_client.crm.objects.leads.basic_api.get_by_id(lead.id, properties=["hs_pipeline_stage"])
    assert read.properties["hs_pipeline_stage"] == "qualified-stage-id"


def test_a_lead_made_with_its_task_is_associated_both_ways_with_hubspots_type_ids(hubspot_sandbox, hubspot_client):
    (contact,) = hubspot_sandbox.seed_contacts({"email": "ana@acme.io"})
    task = hubspot_client.crm.objects.tasks.basic_api.create(
        {
            "properties": {"hs_timestamp": "2026-11-30T10:00:00.000Z", "hs_task_subject": "Call Ana"},
            "associations": [
                {"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]}
            ],
        }
    )
    with_task = _lead(contact)
    with_task["associations"].append(
        {"to": {"id": task.id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 646}]}
    )
    lead = hubspot_client.crm.objects.leads.basic_api.create(SimplePublicObjectInputForCreate(**with_task))
    batch = hubspot_client.crm.associations.v4.batch_api
    to_task = batch.get_page("leads", "tasks", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": lead.id}]))
    assert [(t.to_object_id, t.association_types[0].type_id) for t in to_task.results[0].to] == [(task.id, 646)]
    back = batch.get_page("tasks", "leads", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": task.id}]))
    assert [(t.to_object_id, t.association_types[0].type_id) for t in back.results[0].to] == [(lead.id, 647)]
    mine = batch.get_page("contacts", "leads", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": contact}]))
    assert mine.results[0].to[0].association_types[0].type_id == 609  # contact to lead
