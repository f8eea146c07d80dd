"""Reading outcomes from each CRM sandbox: a rep's work after qualification becomes events, each once.

Handoff qualifies a lead through a real cycle; the rep then works the task and the
deal with the portal's verbs, and the adapter's ``outcomes()`` reads what changed
since its cursors (kept in the real state store). Time is the sandbox's manual clock.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from deployments import deploy

from connector.outcomes.apply import apply_outcomes
from connector.outcomes.episode import Episode
from connector.outcomes.events import OutcomeKind
from connector.sandbox.salesforce import sales

K = OutcomeKind
#: API calls a quiet outcome read makes, per CRM (deal search, archived deals page, task search /
#: one Composite call holding the opportunity, conversion and task queries)
QUIET_CALLS = {"hubspot": 3, "salesforce": 1}


@pytest.fixture
def runtime(portal, tmp_path):
    runtime = deploy(portal, tmp_path / "state.sqlite")
    yield runtime
    runtime.close()


def outcomes(portal, runtime):
    """One outcome read an hour and a bit later (past HubSpot's late-index delay): its events."""
    portal.clock.advance(61 * 60)
    return [e for batch in runtime.adapter.outcomes(portal.clock.datetime(), runtime.store.cursors) for e in batch]


def calls(portal) -> int:
    return portal.app.stats.snapshot()["total"]


def qualified_lead(portal, runtime) -> str:
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    portal.clock.advance(300)
    assert runtime.sync.sync_once().tasks_created == 1
    return lead


def told(events):
    return Counter((e.kind, e.record_id, e.source_id, e.amount) for e in events)


def test_a_reps_work_after_qualification_is_read_once_and_a_quiet_read_is_cheap(portal, runtime):
    lead = qualified_lead(portal, runtime)
    assert outcomes(portal, runtime) == []  # the first read goes through history once: nothing yet
    [task] = portal.tasks(lead)
    portal.complete_task(task.id)
    completed = portal.clock.datetime()
    portal.clock.advance(600)
    deal = portal.convert(lead, amount=1500)
    opened = portal.clock.datetime()
    portal.clock.advance(600)
    portal.close_deal(deal, won=True)

    events = outcomes(portal, runtime)
    assert told(events) == Counter(
        {
            (K.TOUCHED, lead, task.id, None): 1,
            (K.OPPORTUNITY, lead, deal, Decimal(1500)): 1,
            (K.WON, lead, deal, Decimal(1500)): 1,
        }
    )
    at = {e.kind: e.at for e in events}
    assert (at[K.TOUCHED], at[K.OPPORTUNITY]) == (completed, opened)
    assert at[K.WON].date() == opened.date()  # a close date

    before = calls(portal)
    assert outcomes(portal, runtime) == []
    assert calls(portal) - before == QUIET_CALLS[portal.crm]
    assert outcomes(portal, runtime) == []

    portal.reopen_deal(deal)
    assert told(outcomes(portal, runtime)) == Counter({(K.REOPENED, lead, deal, Decimal(1500)): 1})
    portal.close_deal(deal, won=False)
    assert told(outcomes(portal, runtime)) == Counter({(K.LOST, lead, deal, Decimal(1500)): 1})
    portal.delete_deal(deal)
    assert told(outcomes(portal, runtime)) == Counter({(K.DELETED, lead, deal, None): 1})
    assert outcomes(portal, runtime) == []


def test_events_read_fold_into_the_episode_the_report_reads(portal, runtime):
    lead = qualified_lead(portal, runtime)
    started = portal.clock.datetime()
    [task] = portal.tasks(lead)
    portal.complete_task(task.id)
    deal = portal.convert(lead)  # no amount
    portal.close_deal(deal, won=True)
    episode = Episode(record_id=lead, number=1, sql_at=started)
    for _ in range(2):  # read twice: the second read adds nothing
        episode = apply_outcomes(episode, outcomes(portal, runtime))
    assert episode.deal_id == deal and episode.won_at is not None and episode.amount is None
    assert episode.first_touch_at is not None and episode.opportunity_at is not None


def test_a_killed_read_tells_its_unconsumed_batch_again(portal, runtime):
    lead = qualified_lead(portal, runtime)
    outcomes(portal, runtime)
    deal = portal.convert(lead, amount=10)
    portal.clock.advance(61 * 60)
    reading = runtime.adapter.outcomes(portal.clock.datetime(), runtime.store.cursors)
    first = next(reading)
    assert {e.kind for e in first} == {K.OPPORTUNITY}
    reading.close()  # the run stops before the batch was consumed
    assert told(outcomes(portal, runtime)) == Counter({(K.OPPORTUNITY, lead, deal, Decimal(10)): 1})


@pytest.mark.parametrize("portal", ["hubspot"], indirect=True)
def test_a_deal_in_a_custom_pipeline_is_lost_by_its_stage_metadata(portal, runtime):
    lead = qualified_lead(portal, runtime)
    deal = portal.app.create_deal(lead, pipeline="705209413").id
    portal.app.move_deal(deal, "1058723919")  # "No Decision": closed, probability 0.0
    assert {e.kind for e in outcomes(portal, runtime)} == {K.OPPORTUNITY, K.LOST}


@pytest.mark.parametrize("portal", ["hubspot"], indirect=True)
def test_only_handoffs_completed_tasks_are_touches(portal, runtime, hubspot_client):
    lead = qualified_lead(portal, runtime)
    outcomes(portal, runtime)
    hubspot_client.crm.objects.tasks.basic_api.create(
        {
            "properties": {
                "hs_task_subject": "My own follow-up",
                "hs_task_body": "<p>Handoff ref: not really</p> and more",
                "hs_task_status": "COMPLETED",
                "hs_timestamp": portal.clock.datetime().isoformat(),
            }
        }
    )
    [task] = portal.tasks(lead)
    portal.app.set_task_status(task.id, "IN_PROGRESS")
    assert outcomes(portal, runtime) == []


@pytest.mark.parametrize("portal", ["salesforce"], indirect=True)
def test_a_lead_converted_into_an_existing_account_is_accepted_not_an_opportunity(portal, runtime):
    lead = qualified_lead(portal, runtime)
    outcomes(portal, runtime)
    sales.convert_lead(portal.app.org, lead, opportunity=False)
    [event] = outcomes(portal, runtime)
    assert (event.kind, event.record_id, event.reason) == (K.ACCEPTED, lead, "CONVERTED_WITHOUT_OPPORTUNITY")
    assert outcomes(portal, runtime) == []


@pytest.mark.parametrize("portal", ["hubspot"], indirect=True)
def test_several_deals_for_one_contact_are_each_told_and_fold_into_won_if_any_won(portal, runtime):
    lead = qualified_lead(portal, runtime)
    started = portal.clock.datetime()
    outcomes(portal, runtime)
    first = portal.convert(lead, amount=100)
    portal.close_deal(first, won=False)
    portal.clock.advance(3600)
    second = portal.convert(lead, amount=700)
    portal.close_deal(second, won=True)
    events = outcomes(portal, runtime)
    assert Counter(e.kind for e in events) == Counter({K.OPPORTUNITY: 2, K.LOST: 1, K.WON: 1})
    episode = apply_outcomes(Episode(record_id=lead, number=1, sql_at=started), events)
    assert (episode.deal_id, episode.amount, episode.lost_at) == (second, Decimal(700), None)
    assert episode.opportunity_at == min(e.at for e in events if e.kind is K.OPPORTUNITY)
