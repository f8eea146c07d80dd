"""The CRM-neutral portal driver's sales verbs: written once, run against both sandboxes."""

from __future__ import annotations

import pytest

from connector.sandbox.portals import HubSpotPortal, SalesforcePortal

PORTALS = {"hubspot": (HubSpotPortal, "hubspot_sandbox"), "salesforce": (SalesforcePortal, "salesforce_sandbox")}


@pytest.fixture(params=sorted(PORTALS))
def portal(request):
    driver, sandbox = PORTALS[request.param]
    handle = request.getfixturevalue(sandbox)
    return driver(handle.app, handle.base_url, handle.clock)


def _handoff_task(portal, record_id: str) -> str:
    """A follow-up task the way Handoff leaves one."""
    if portal.crm == "hubspot":
        props = {
            "hs_task_subject": "Call Ana",
            "hs_task_body": "Handoff ref: k1",
            "hs_task_priority": "HIGH",
            "hs_task_status": "NOT_STARTED",
            "hs_timestamp": "2026-11-20T13:00:00.000Z",
        }
        (made,) = portal.app.add_activities([{"contactId": record_id, "objectType": "tasks", "properties": props}])
        return made["id"]
    fields = {
        "Subject": "Call Ana",
        "WhoId": record_id,
        "Priority": "High",
        "ReminderDateTime": "2026-11-20T13:00:00Z",
        "Handoff_Key__c": "k1",
    }
    (made,) = portal.app.add_activities([{"sobject": "Task", "fields": fields}])
    return made["id"]


def test_a_converted_lead_is_an_opportunity_with_one_open_deal(portal):
    lead = portal.seed()
    deal = portal.convert(lead, amount=18000)
    assert portal.stage(lead) == "opportunity"
    (seen,) = portal.deals(lead)
    assert (seen.id, seen.amount, seen.closed, seen.won) == (deal, 18000.0, False, False)


def test_a_won_deal_makes_a_customer_and_a_lost_one_does_not(portal):
    won, lost = portal.seed(), portal.seed(email="bo@acme.io")
    portal.close_deal(portal.convert(won), won=True)
    portal.close_deal(portal.convert(lost), won=False)
    assert (portal.stage(won), portal.stage(lost)) == ("customer", "opportunity")
    [(closed, is_won, day)] = [(d.closed, d.won, d.close_date) for d in portal.deals(won)]
    assert (closed, is_won, day) == (True, True, "2026-11-20")
    assert [(d.closed, d.won) for d in portal.deals(lost)] == [(True, False)]


def test_a_reopened_deal_is_open_again_and_a_deleted_one_is_gone(portal):
    lead = portal.seed()
    deal = portal.convert(lead)
    portal.close_deal(deal, won=False)
    portal.reopen_deal(deal)
    assert [d.closed for d in portal.deals(lead)] == [False]
    portal.delete_deal(deal)
    assert portal.deals(lead) == []


def test_a_rep_completes_handoffs_task_and_it_still_belongs_to_the_lead_after_conversion(portal):
    lead = portal.seed()
    task = _handoff_task(portal, lead)
    assert [t.completed for t in portal.tasks(lead)] == [False]
    portal.convert(lead)
    portal.complete_task(task)
    [seen] = portal.tasks(lead)
    assert (seen.id, seen.completed) == (task, True)
