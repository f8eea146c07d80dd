"""HubSpot outcomes: deals, deal pipelines, contacts to deals, stage dates, task completion,
and the rep's control verbs that move them, all through the real SDK."""

from __future__ import annotations

import pytest
from hubspot.crm.associations.v4 import ApiException as AssociationApiException
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.contacts import SimplePublicObjectInput
from hubspot.crm.deals import ApiException as DealApiException
from hubspot.crm.deals import (
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.objects.tasks import PublicObjectSearchRequest as TaskSearch
from hubspot.crm.objects.tasks import SimplePublicObjectInputForCreate as TaskInput
from hubspot.crm.pipelines import ApiException as PipelineApiException

DEAL_TO_CONTACT = 3
ENTERPRISE = "705209413"


@pytest.fixture
def contact(hubspot_sandbox):
    (cid,) = hubspot_sandbox.seed_contacts(
        {"email": "ana@acme.io", "company": "Acme", "lifecyclestage": "salesqualifiedlead"}
    )
    return cid


def _contact(client, cid, *names):
    return client.crm.contacts.basic_api.get_by_id(cid, properties=list(names)).properties


def _deal(client, deal_id, *names):
    return client.crm.deals.basic_api.get_by_id(deal_id, properties=list(names)).properties


# -- pipelines ----------------------------------------------------------------------------


def test_deal_pipelines_carry_string_metadata_and_custom_won_and_lost_stages(hubspot_client):
    pipelines = {p.id: p for p in hubspot_client.crm.pipelines.pipelines_api.get_all("deals").results}
    assert set(pipelines) == {"default", ENTERPRISE}
    default = {s.id: s.metadata for s in pipelines["default"].stages}
    assert default["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert default["closedlost"] == {"isClosed": "true", "probability": "0.0"}
    assert default["appointmentscheduled"] == {"isClosed": "false", "probability": "0.2"}
    custom = pipelines[ENTERPRISE].stages
    closed = {s.id: s.metadata["probability"] for s in custom if s.metadata["isClosed"] == "true"}
    assert closed == {"1058723918": "1.0", "1058723919": "0.0"}  # won and lost, told only by metadata
    assert [s.display_order for s in custom] == list(range(len(custom)))


def test_one_pipeline_and_its_stages_are_readable_alone(hubspot_client):
    api = hubspot_client.crm.pipelines
    assert api.pipelines_api.get_by_id("deals", ENTERPRISE).label == "Enterprise Pipeline"
    stages = api.pipeline_stages_api.get_all("deals", "default").results
    assert stages[-2].id == "closedwon"
    assert api.pipeline_stages_api.get_by_id("deals", "default", "closedlost").metadata["isClosed"] == "true"
    with pytest.raises(PipelineApiException) as missing:
        api.pipelines_api.get_by_id("deals", "no-such-pipeline")
    assert missing.value.status == 404


def test_lead_pipeline_uses_hubspots_string_stage_ids(hubspot_client):
    (pipeline,) = hubspot_client.crm.pipelines.pipelines_api.get_all("leads").results
    assert pipeline.id == "lead-pipeline-id"
    assert [s.id for s in pipeline.stages] == [
        "new-stage-id",
        "attempting-stage-id",
        "connected-stage-id",
        "qualified-stage-id",
        "unqualified-stage-id",
    ]


def test_contacts_have_no_pipelines(hubspot_client):
    with pytest.raises(PipelineApiException) as refused:
        hubspot_client.crm.pipelines.pipelines_api.get_all("contacts")
    assert refused.value.status == 400


# -- deals through the API ----------------------------------------------------------------


def _create(client, contact_id, **properties):
    body = SimplePublicObjectInputForCreate(
        properties={"dealname": "Acme - New Business", "dealstage": "appointmentscheduled", **properties},
        associations=[
            {
                "to": {"id": contact_id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": DEAL_TO_CONTACT}],
            }
        ],
    )
    return client.crm.deals.basic_api.create(body)


def test_a_deal_created_for_a_contact_derives_its_flags_and_makes_the_contact_an_opportunity(
    hubspot_sandbox, hubspot_client, contact
):
    deal = _create(hubspot_client, contact, amount="12000")
    props = _deal(hubspot_client, deal.id, "pipeline", "hs_is_closed", "hs_is_closed_won", "amount", "closedate")
    assert (props["pipeline"], props["hs_is_closed"], props["hs_is_closed_won"]) == ("default", "false", "false")
    assert props["amount"] == "12000" and props["closedate"] is None
    seen = _contact(hubspot_client, contact, "lifecyclestage", "hs_lifecyclestage_opportunity_date")
    assert seen["lifecyclestage"] == "opportunity"
    assert seen["hs_lifecyclestage_opportunity_date"] == "2026-11-20T12:00:00.000Z"


def test_closing_won_sets_the_close_date_and_makes_the_contact_a_customer(hubspot_sandbox, hubspot_client, contact):
    deal = _create(hubspot_client, contact)
    hubspot_sandbox.clock.advance(3600)
    hubspot_client.crm.deals.basic_api.update(deal.id, SimplePublicObjectInput(properties={"dealstage": "closedwon"}))
    props = _deal(hubspot_client, deal.id, "hs_is_closed", "hs_is_closed_won", "closedate", "hs_lastmodifieddate")
    assert props == {
        "closedate": "2026-11-20T13:00:00.000Z",
        "createdate": "2026-11-20T12:00:00.000Z",
        "hs_is_closed": "true",
        "hs_is_closed_won": "true",
        "hs_lastmodifieddate": "2026-11-20T13:00:00.000Z",
        "hs_object_id": deal.id,
    }
    seen = _contact(hubspot_client, contact, "lifecyclestage", "hs_lifecyclestage_customer_date")
    assert seen["lifecyclestage"] == "customer"
    assert seen["hs_lifecyclestage_customer_date"] == "2026-11-20T13:00:00.000Z"


def test_the_lifecycle_sync_only_moves_forward(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "eve@acme.io", "lifecyclestage": "evangelist"})
    _create(hubspot_client, cid)
    assert _contact(hubspot_client, cid, "lifecyclestage")["lifecyclestage"] == "evangelist"


def test_a_stage_of_another_pipeline_is_refused(hubspot_client, contact):
    with pytest.raises(DealApiException) as refused:
        _create(hubspot_client, contact, pipeline=ENTERPRISE)  # appointmentscheduled is the default's
    assert refused.value.status == 400
    assert "INVALID_OPTION" in refused.value.body and "dealstage" in refused.value.body


def test_a_deal_needs_a_name_and_a_stage(hubspot_client):
    with pytest.raises(DealApiException) as refused:
        hubspot_client.crm.deals.basic_api.create(SimplePublicObjectInputForCreate(properties={"amount": "1"}))
    assert refused.value.status == 400
    assert '"name\\":\\"dealname\\"' in refused.value.body.replace(" ", "")


def test_deals_page_batch_read_and_search_like_contacts(hubspot_sandbox, hubspot_client, contact):
    ids = [_create(hubspot_client, contact, dealname=f"Deal {i}").id for i in range(12)]
    page = hubspot_client.crm.deals.basic_api.get_page(limit=5)
    assert [d.id for d in page.results] == ids[:5] and page.paging.next.after == ids[5]
    assert set(page.results[0].properties) == {
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    }
    batch = hubspot_client.crm.deals.batch_api.read(
        BatchReadInputSimplePublicObjectId(inputs=[{"id": ids[0]}, {"id": "1"}], properties=["dealstage"])
    )
    assert [d.id for d in batch.results] == [ids[0]]
    assert batch.errors[0].category == "OBJECT_NOT_FOUND" and batch.errors[0].context == {"ids": ["1"]}
    hubspot_sandbox.clock.advance(60)
    hubspot_sandbox.app.move_deal(ids[3], "won")
    since = str(int(hubspot_sandbox.clock() * 1000) - 1)
    found = hubspot_client.crm.deals.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": since}]}],
            properties=["hs_is_closed_won"],
            limit=200,
        )
    )
    assert [(d.id, d.properties["hs_is_closed_won"]) for d in found.results] == [(ids[3], "true")]
    with pytest.raises(DealApiException) as too_many:
        hubspot_client.crm.deals.search_api.do_search(PublicObjectSearchRequest(limit=201))
    assert too_many.value.status == 400


def test_a_deleted_deal_is_listed_as_archived_and_drops_out_of_associations(hubspot_sandbox, hubspot_client, contact):
    deal = hubspot_sandbox.app.create_deal(contact)
    status, _ = hubspot_sandbox.control("DELETE", f"/_sandbox/deals/{deal.id}")
    assert status == 204
    assert hubspot_client.crm.deals.basic_api.get_page(archived=False).results == []
    (archived,) = hubspot_client.crm.deals.basic_api.get_page(archived=True).results
    assert archived.id == deal.id and archived.archived and archived.archived_at is not None
    with pytest.raises(DealApiException) as gone:
        hubspot_client.crm.deals.basic_api.get_by_id(deal.id)
    assert gone.value.status == 404
    reply = hubspot_client.crm.associations.v4.batch_api.get_page(
        "contacts", "deals", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": contact}])
    )
    assert reply.results == [] and reply.errors[0].sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND"


def test_contacts_to_deals_read_in_batches_of_up_to_1000(hubspot_sandbox, hubspot_client, contact):
    deal = hubspot_sandbox.app.create_deal(contact)
    reply = hubspot_client.crm.associations.v4.batch_api.get_page(
        "contacts", "deals", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": contact}])
    )
    ((to,),) = [r.to for r in reply.results]
    assert to.to_object_id == deal.id and to.association_types[0].type_id == 4
    back = hubspot_client.crm.associations.v4.batch_api.get_page(
        "deals", "contacts", BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": deal.id}])
    )
    assert back.results[0].to[0].association_types[0].type_id == DEAL_TO_CONTACT
    many = [{"id": str(100000 + i)} for i in range(1000)]
    assert hubspot_client.crm.associations.v4.batch_api.get_page(
        "contacts", "deals", BatchInputPublicFetchAssociationsBatchRequest(inputs=many)
    ).results
    with pytest.raises(AssociationApiException) as too_many:
        hubspot_client.crm.associations.v4.batch_api.get_page(
            "contacts", "deals", BatchInputPublicFetchAssociationsBatchRequest(inputs=[*many, {"id": "1"}])
        )
    assert too_many.value.status == 400


# -- stage dates and tasks ----------------------------------------------------------------


def test_entering_a_stage_stamps_its_date_whoever_moves_it(hubspot_sandbox, hubspot_client):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "bo@acme.io", "lifecyclestage": "lead"})
    hubspot_sandbox.clock.advance(60)
    hubspot_client.crm.contacts.basic_api.update(
        cid, SimplePublicObjectInput(properties={"lifecyclestage": "marketingqualifiedlead"})
    )  # Handoff, through the API
    hubspot_sandbox.clock.advance(60)
    hubspot_sandbox.control("POST", f"/_sandbox/contacts/{cid}/touch", {"properties": {"lifecyclestage": "other"}})
    dates = _contact(
        hubspot_client,
        cid,
        "hs_lifecyclestage_lead_date",
        "hs_lifecyclestage_marketingqualifiedlead_date",
        "hs_lifecyclestage_other_date",
        "hs_lifecyclestage_customer_date",
    )
    assert dates["hs_lifecyclestage_lead_date"] == "2026-11-20T12:00:00.000Z"
    assert dates["hs_lifecyclestage_marketingqualifiedlead_date"] == "2026-11-20T12:01:00.000Z"
    assert dates["hs_lifecyclestage_other_date"] == "2026-11-20T12:02:00.000Z"  # a rep's move
    assert dates["hs_lifecyclestage_customer_date"] is None


def test_task_completion_is_read_incrementally_by_modified_time(hubspot_sandbox, hubspot_client, contact):
    task = hubspot_client.crm.objects.tasks.basic_api.create(
        TaskInput(
            properties={"hs_task_subject": "Call Ana", "hs_timestamp": "2026-11-20T13:00:00.000Z"},
            associations=[
                {"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]}
            ],
        )
    )
    hubspot_sandbox.clock.advance(600)
    since = str(int(hubspot_sandbox.clock() * 1000))
    hubspot_sandbox.clock.advance(600)
    status, done = hubspot_sandbox.control("POST", f"/_sandbox/tasks/{task.id}/complete")
    assert status == 200
    assert done["properties"]["hs_task_status"] == "COMPLETED"
    assert done["properties"]["hs_task_completion_date"] == "2026-11-20T12:20:00.000Z"
    request = TaskSearch(
        filter_groups=[{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": since}]}],
        properties=["hs_task_status", "hs_task_completion_date"],
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
    )
    (found,) = hubspot_client.crm.objects.tasks.search_api.do_search(request).results
    assert found.properties["hs_task_status"] == "COMPLETED"
    assert found.properties["hs_lastmodifieddate"] == "2026-11-20T12:20:00.000Z"
    status, reopened = hubspot_sandbox.control("POST", f"/_sandbox/tasks/{task.id}/status", {"status": "DEFERRED"})
    assert status == 200 and "hs_task_completion_date" not in reopened["properties"]


# -- the rep's control verbs --------------------------------------------------------------


def test_a_rep_opens_moves_closes_and_reopens_a_deal_over_http(hubspot_sandbox, hubspot_client, contact):
    status, deal = hubspot_sandbox.control(
        "POST", "/_sandbox/deals", {"contactId": contact, "pipeline": ENTERPRISE, "amount": 50000}
    )
    assert status == 201
    assert deal["properties"]["dealstage"] == "1058723914" and deal["properties"]["amount"] == "50000"
    assert deal["properties"]["dealname"] == "Acme - New Business"
    hubspot_sandbox.clock.advance(86400)
    status, moved = hubspot_sandbox.control("POST", f"/_sandbox/deals/{deal['id']}/stage", {"stage": "1058723917"})
    assert status == 200 and moved["properties"]["hs_deal_stage_probability"] == "0.8"
    assert moved["properties"]["hs_lastmodifieddate"] == "2026-11-21T12:00:00.000Z"
    status, lost = hubspot_sandbox.control("POST", f"/_sandbox/deals/{deal['id']}/stage", {"stage": "lost"})
    assert lost["properties"]["dealstage"] == "1058723919" and lost["properties"]["hs_is_closed_won"] == "false"
    assert lost["properties"]["closedate"] == "2026-11-21T12:00:00.000Z"
    status, reopened = hubspot_sandbox.control(
        "POST", f"/_sandbox/deals/{deal['id']}/stage", {"stage": "reopen", "properties": {"amount": "42000"}}
    )
    assert reopened["properties"]["hs_is_closed"] == "false" and reopened["properties"]["amount"] == "42000"
    assert _contact(hubspot_client, contact, "lifecyclestage")["lifecyclestage"] == "opportunity"


def test_a_deal_without_an_amount_has_none(hubspot_sandbox, hubspot_client, contact):
    deal = hubspot_sandbox.app.create_deal(contact)
    assert _deal(hubspot_client, deal.id, "amount")["amount"] is None


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/_sandbox/deals", {"contactId": "999"}, 404),
        ("POST", "/_sandbox/deals", {"amount": 5}, 400),
        ("POST", "/_sandbox/deals/999/stage", {"stage": "won"}, 404),
        ("DELETE", "/_sandbox/deals/999", None, 404),
        ("POST", "/_sandbox/tasks/999/complete", None, 404),
        ("POST", "/_sandbox/tasks/999/status", {"state": "x"}, 400),
    ],
)
def test_rep_verbs_refuse_unknown_records_and_bad_bodies(hubspot_sandbox, method, path, body, status):
    assert hubspot_sandbox.control(method, path, body)[0] == status


def test_moving_a_deal_to_a_stage_it_cannot_have_is_400_with_details(hubspot_sandbox, contact):
    deal = hubspot_sandbox.app.create_deal(contact)
    status, body = hubspot_sandbox.control("POST", f"/_sandbox/deals/{deal.id}/stage", {"stage": "1058723918"})
    assert status == 400 and "not a valid stage" in body["details"][0]


def test_the_portal_describes_the_outcome_properties_of_deals(hubspot_client):
    api = hubspot_client.crm.properties.core_api
    for name in ("hs_is_closed", "hs_is_closed_won"):
        prop = api.get_by_name("deals", name)
        assert (prop.type, prop.modification_metadata.read_only_value, prop.calculated) == ("bool", True, True)
    stage = api.get_by_name("deals", "dealstage")
    assert {"closedwon", "closedlost", "1058723918"} <= {o.value for o in stage.options}
    assert api.get_by_name("deals", "amount").type == "number"
    assert api.get_by_name("leads", "hs_lead_name").type == "string"
