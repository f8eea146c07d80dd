"""HubSpot's Leads object (HANDOFF_HUBSPOT_LEADS=true) against the HubSpot sandbox: one lead per SQL episode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from deployments import deploy

from connector.config.settings import Settings, crm_credential_problems
from connector.crm.hubspot.leads import KEY_PROPERTY, HubSpotLeads, LeadSpec
from connector.sandbox.portals import HubSpotPortal
from connector.state import Store
from connector.state.leads import LeadClaim


def _leads(portal: HubSpotPortal, contact: str) -> list[dict]:
    return [
        lead
        for lead in portal.app.dump()["leads"]
        if contact in lead["associations"].get("contacts", []) and not lead["archived"]
    ]


@pytest.fixture
def hubspot(hubspot_sandbox, tmp_path):
    portal = HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, hubspot_sandbox.clock)
    runtime = deploy(portal, tmp_path / "state.sqlite", handoff_hubspot_leads=True)
    yield portal, runtime
    runtime.close()


def _cycle(portal, runtime):
    portal.clock.advance(300)
    return runtime.sync.sync_once()


def _sql(portal: HubSpotPortal, email: str = "ana@acme.io") -> str:
    contact = portal.seed(email=email)
    portal.activity(contact, "form_submission", name="Request a demo")
    return contact


def test_reaching_sql_makes_one_lead_for_the_contact_owned_like_the_task_and_associated_with_it(hubspot):
    portal, runtime = hubspot
    contact = _sql(portal)
    report = _cycle(portal, runtime)
    assert report.tasks_created == 1 and report.leads_created == 1
    [task] = portal.tasks(contact)
    [lead] = _leads(portal, contact)
    props = lead["properties"]
    assert props["hs_lead_name"] == "Ana Ruiz"
    assert props["hubspot_owner_id"] == task.owner_id == portal.owner()
    assert props[KEY_PROPERTY] == f"handoff:{contact}:lead:0"
    assert (props["hs_pipeline"], props["hs_pipeline_stage"]) == ("lead-pipeline-id", "new-stage-id")
    assert lead["associations"]["tasks"] == [task.id]
    assert runtime.store.leads.count("created") == 1


def test_a_rerun_makes_no_second_lead(hubspot):
    portal, runtime = hubspot
    contact = _sql(portal)
    _cycle(portal, runtime)
    portal.activity(contact, "page_view", url="/pricing")
    report = _cycle(portal, runtime)
    report_again = _cycle(portal, runtime)
    assert report.leads_created == report_again.leads_created == 0
    assert len(_leads(portal, contact)) == 1


def test_an_mql_makes_no_lead(hubspot):
    portal, runtime = hubspot
    contact = portal.seed()
    portal.activity(
        contact, "content_download", name="Lead Scoring Playbook", at=portal.clock.datetime() - timedelta(days=1)
    )
    portal.activity(contact, "webinar_registration", name="RevOps Benchmarks 2026")
    report = _cycle(portal, runtime)
    assert portal.stage(contact) == "mql" and report.leads_created == 0
    assert _leads(portal, contact) == []


def test_a_crash_between_the_create_and_its_record_finds_the_lead_again(hubspot, monkeypatch):
    portal, runtime = hubspot
    contact = _sql(portal)

    def killed(key: str, lead_id: str) -> None:
        raise KeyboardInterrupt("killed after the create call landed")

    with monkeypatch.context() as patch:
        patch.setattr(runtime.store.leads, "created", killed)
        with pytest.raises(KeyboardInterrupt):
            _cycle(portal, runtime)
    assert len(_leads(portal, contact)) == 1 and runtime.store.leads.count("intent") == 1
    report = _cycle(portal, runtime)
    assert (report.leads_reconciled, report.leads_created) == (1, 0)
    assert len(_leads(portal, contact)) == 1
    assert runtime.store.leads.count("created") == 1


def test_a_recycled_lead_that_qualifies_again_gets_a_lead_for_its_new_episode(hubspot):
    portal, runtime = hubspot
    contact = _sql(portal)
    _cycle(portal, runtime)
    portal.rep_sets_status(contact, portal.recycle_status)
    _cycle(portal, runtime)
    portal.rep_sets_status(contact, "OPEN")
    portal.activity(contact, "form_submission", name="Request a demo")
    report = _cycle(portal, runtime)
    assert report.leads_created == 1
    keys = sorted(lead["properties"][KEY_PROPERTY] for lead in _leads(portal, contact))
    assert keys == [f"handoff:{contact}:lead:0", f"handoff:{contact}:lead:1"]


def test_without_the_flag_no_lead_is_made(hubspot_sandbox, tmp_path):
    portal = HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, hubspot_sandbox.clock)
    runtime = deploy(portal, tmp_path / "state.sqlite")
    try:
        contact = _sql(portal)
        report = _cycle(portal, runtime)
        assert report.tasks_created == 1 and report.leads_created == 0
        assert _leads(portal, contact) == []
        assert portal.calls("POST /crm/v3/objects/leads/batch/create") == 0
    finally:
        runtime.close()


def test_a_lead_for_a_contact_that_does_not_exist_is_refused_for_good(hubspot):
    _, runtime = hubspot
    leads = HubSpotLeads(runtime.adapter.api)
    leads.prepare()
    [outcome] = leads.create([LeadSpec("handoff:1:lead:0", "999999999", "Nobody", None, None)])
    assert not outcome.ok and not outcome.retryable
    assert "VALIDATION_ERROR" in (outcome.error or "")


# ----------------------------------------------------------------- the ledger


def test_a_lead_is_claimed_once_and_confirmed_or_given_up(state_url):
    store = Store(state_url, "hubspot", lambda: datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    first = LeadClaim("handoff:1:lead:0", "1", "handoff:1:sql:0", "Ana Ruiz")
    second = LeadClaim("handoff:2:lead:0", "2", "handoff:2:sql:0", "Bo Lee")
    assert store.leads.claim([first, second]) == {first.key, second.key}
    assert store.leads.claim([first]) == set()  # a replica or a rerun planning it again gets nothing
    assert [e.claim for e in store.leads.open_intents()] == [first, second]
    store.leads.created(first.key, "380000000001")
    store.leads.failed(second.key, "VALIDATION_ERROR: no contact", dead=False)
    assert store.leads.entries([second.key])[second.key].attempts == 1
    store.leads.failed(second.key, "VALIDATION_ERROR: no contact", dead=True)
    assert store.leads.open_intents() == []
    assert (store.leads.count("created"), store.leads.count("dead")) == (1, 1)
    assert store.leads.entries([first.key])[first.key].lead_id == "380000000001"
    store.close()


def test_the_leads_flag_with_salesforce_is_a_configuration_problem():
    settings = Settings(
        handoff_crm="salesforce",
        salesforce_instance_url="https://acme.my.salesforce.com",
        salesforce_session_id="00D!session",
        handoff_hubspot_leads=True,
    )
    assert [str(p) for p in crm_credential_problems(settings)] == [
        "environment: HANDOFF_HUBSPOT_LEADS: HubSpot's Leads object needs HANDOFF_CRM=hubspot"
    ]


def test_of_two_processes_taking_an_open_lead_intent_one_wins(state_url):
    one = Store(state_url, "hubspot", lambda: datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    other = Store(state_url, "hubspot", lambda: datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    one.leads.claim([LeadClaim("handoff:1:lead:0", "1", "handoff:1:sql:0", "Ana Ruiz")])
    [seen_by_one] = one.leads.open_intents()
    [seen_by_other] = other.leads.open_intents()
    assert [e.claim.key for e in one.leads.take([seen_by_one])] == ["handoff:1:lead:0"]
    assert other.leads.take([seen_by_other]) == []  # it read the intent before the first one took it
    [again] = other.leads.open_intents()
    assert again.claims == 1
    one.close()
    other.close()


def test_with_the_default_settle_time_a_lead_is_still_made_in_the_run_that_claimed_it(hubspot_sandbox, tmp_path):
    portal = HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, hubspot_sandbox.clock)
    runtime = deploy(portal, tmp_path / "state.sqlite", handoff_hubspot_leads=True, handoff_task_settle_seconds=120)
    try:
        contact = _sql(portal)
        assert _cycle(portal, runtime).leads_created == 1
        assert len(_leads(portal, contact)) == 1
    finally:
        runtime.close()
