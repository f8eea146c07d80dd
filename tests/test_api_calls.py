"""What Handoff spends of a CRM's API budget: batches as large as the API takes, nothing read twice for nothing.

Real adapters against the sandboxes, counting the calls the sandbox saw; time is the sandbox's clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from deployments import deploy

from connector.crm.hubspot.adapter import LATE_DELAY, LATE_STEP
from connector.crm.hubspot.mapping import DELTA_COUNTERS
from connector.crm.seen import SEEN_KEY
from connector.sandbox.salesforce.values import sf_datetime
from connector.sandbox.synthetic import Owner

MINUTES = 60
ENGAGEMENTS = ("meetings", "calls", "emails")
#: what an idle cycle costs once its overlap and outcome reads are behind it: HubSpot one contact
#: search; Salesforce one Composite call holding the Lead query and the closed Task, Event and
#: campaign response queries
IDLE_CALLS = {"hubspot": 1, "salesforce": 1}


def association_reads(portal) -> int:
    return sum(portal.calls(f"POST /crm/v4/associations/contacts/{kind}/batch/read") for kind in ENGAGEMENTS)


def total(portal) -> int:
    return portal.app.stats.snapshot()["total"]


def seed_people(portal, count: int) -> list[str]:
    people = [{"properties": {"email": f"person{i}@example.com", "lifecyclestage": "lead"}} for i in range(count)]
    return portal.app.seed_contacts(people)


def written_demo_request(portal, runtime) -> str:
    """A lead that asked for a demo, scored and written by a cycle five minutes later."""
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    portal.clock.advance(5 * MINUTES)
    assert runtime.sync.sync_once().written == 1
    return lead


def reads_a_minute_apart(portal, runtime, cycles: int) -> list[int]:
    """How many records each of ``cycles`` cycles, a minute apart, read."""
    reads = []
    for _ in range(cycles):
        portal.clock.advance(1 * MINUTES)
        reads.append(runtime.sync.sync_once().read)
    return reads


@pytest.fixture
def state(tmp_path):
    return tmp_path / "state.sqlite"


def test_a_backfill_of_250_contacts_reads_each_engagement_association_once(hubspot_deployment):
    portal, runtime = hubspot_deployment
    seed_people(portal, 250)
    runtime.sync.backfill()
    assert portal.calls("GET /crm/v3/objects/contacts") == 3  # list pages of 100
    assert association_reads(portal) == 3  # one read of up to 1,000 ids per engagement type, not one per page


def test_a_cycle_reads_the_associations_of_several_search_pages_at_once(hubspot_deployment):
    portal, runtime = hubspot_deployment
    seed_people(portal, 450)
    portal.clock.advance(5 * MINUTES)
    report = runtime.sync.sync_once()
    assert report.read == 450  # three search pages or more (seeded at one instant, they are drained by id)
    assert association_reads(portal) == 3


def test_a_stopped_backfill_resumes_after_the_last_group_it_finished(hubspot_deployment):
    portal, runtime = hubspot_deployment
    seed_people(portal, 1500)
    assert runtime.sync.backfill(limit=1000).read == 1000
    assert runtime.sync.backfill().read == 500


def lookup_reads(portal) -> tuple[int, int]:
    return portal.calls("GET /crm/v3/properties/contacts"), portal.calls("GET /crm/v3/owners/")


def test_a_second_run_takes_the_property_list_and_owners_from_the_state_store(hubspot_deployment, state):
    portal, _ = hubspot_deployment
    properties, owners = lookup_reads(portal)
    assert (properties, owners) == (1, 1)  # the first run created Handoff's properties and kept them unread
    deploy(portal, state).close()
    assert lookup_reads(portal) == (properties, owners)
    portal.clock.advance(61 * MINUTES)  # older than HANDOFF_LOOKUP_REFRESH_SECONDS: read again
    deploy(portal, state).close()
    assert lookup_reads(portal) == (properties + 1, owners + 1)


def test_an_owner_the_kept_list_does_not_know_makes_it_read_the_owners_again(hubspot_deployment, state):
    portal, _ = hubspot_deployment
    newcomer = Owner("77000001", "Nova", "Newcomer", "nova@example.com", "person", "Sales", 9000001)
    portal.app.portal.add_owners([newcomer])
    runtime = deploy(portal, state)  # the owners kept by the first run lack the newcomer
    try:
        lead = portal.seed()
        portal.app.touch(lead, {"hubspot_owner_id": newcomer.id})
        portal.activity(lead, "form_submission", name="Request a demo")
        portal.clock.advance(5 * MINUTES)
        assert runtime.sync.sync_once().tasks_created == 1
        assert portal.calls("GET /crm/v3/owners/") == 2
        assert [t.owner_id for t in portal.tasks(lead)] == [newcomer.id]
    finally:
        runtime.close()


def test_a_property_the_kept_list_lacks_makes_it_read_the_list_again(hubspot_deployment, state):
    portal, first = hubspot_deployment
    reads = portal.calls("GET /crm/v3/properties/contacts")
    runtime = deploy(portal, state, handoff_lookup_refresh_seconds=3600)
    runtime.close()
    assert portal.calls("GET /crm/v3/properties/contacts") == reads  # everything needed is kept
    first.store.lookups.put("hubspot.contact_properties", {"lifecyclestage": {"type": "enumeration"}})
    runtime = deploy(portal, state)
    runtime.close()
    assert portal.calls("GET /crm/v3/properties/contacts") == reads + 1


def test_an_idle_cycle_after_a_write_costs_what_its_crm_needs_to_see_nothing_changed(portal, state):
    runtime = deploy(portal, state)
    try:
        written_demo_request(portal, runtime)
        portal.clock.advance(5 * MINUTES)
        back = runtime.sync.sync_once()
        assert (back.read, back.unchanged, back.written) == (1, 1, 0)  # its own write, read back and let be
        for _ in range(3):
            portal.clock.advance(1 * MINUTES)
            before = total(portal)
            assert runtime.sync.sync_once().written == 0
            assert total(portal) - before == IDLE_CALLS[portal.crm]
    finally:
        runtime.close()


def test_a_contact_handoff_wrote_is_read_back_once_by_the_cycle_and_once_by_the_late_pass(hubspot_deployment):
    portal, runtime = hubspot_deployment
    lead = written_demo_request(portal, runtime)
    minutes = (LATE_DELAY + LATE_STEP) // timedelta(minutes=1) + 5  # past the late pass's window, by a step
    assert sum(reads_a_minute_apart(portal, runtime, minutes)) == 2
    assert len(portal.tasks(lead)) == 1


def test_a_new_call_on_a_lead_read_again_unchanged_is_still_read(salesforce_deployment):
    portal, runtime = salesforce_deployment
    lead = portal.seed()
    portal.clock.advance(5 * MINUTES)
    runtime.sync.sync_once()
    portal.activity(lead, "form_submission", name="Request a demo")  # a campaign response: the Lead is untouched
    portal.clock.advance(1 * MINUTES)
    report = runtime.sync.sync_once()
    assert report.unchanged == 0
    assert portal.stage(lead) == "sql"


def test_reconciling_unanswered_tasks_searches_the_tasks_of_100_contacts_at_a_time(hubspot_deployment):
    portal, runtime = hubspot_deployment
    written_demo_request(portal, runtime)
    [entry] = runtime.store.tasks.entries(list(portal.task_keys())).values()
    others = [replace(entry.spec, key=f"other-{i}", record_id=i) for i in seed_people(portal, 149)]
    searches = portal.calls("POST /crm/v3/objects/tasks/search")
    found = runtime.adapter.existing_tasks([entry.spec, *others])
    assert found == {entry.key: entry.crm_task_id}
    assert portal.calls("POST /crm/v3/objects/tasks/search") - searches == 2


def test_hubspot_stores_only_the_counters_its_next_read_compares_and_still_lets_its_own_write_be(
    hubspot_deployment,
):
    portal, runtime = hubspot_deployment
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    portal.activity(lead, "page_view")
    portal.clock.advance(5 * MINUTES)
    assert runtime.sync.sync_once().written == 1
    kept = runtime.store.records.get([lead])[lead].counters
    assert "recent_conversion_date" in kept and set(kept) <= DELTA_COUNTERS | {SEEN_KEY}
    portal.clock.advance(5 * MINUTES)
    back = runtime.sync.sync_once()
    assert (back.read, back.unchanged, back.written) == (1, 1, 0)


def test_a_lead_handoff_wrote_is_read_back_once_by_the_regular_cycle(salesforce_deployment):
    portal, runtime = salesforce_deployment
    lead = written_demo_request(portal, runtime)
    assert sum(reads_a_minute_apart(portal, runtime, 10)) == 1  # the overlap (5 minutes) and then some
    assert len(portal.tasks(lead)) == 1


@pytest.mark.parametrize(("late_by", "read"), [("rep", 1), ("handoff", 0)])
def test_a_change_committed_late_behind_the_last_read_is_read_in_the_overlap_unless_handoff_made_it(
    salesforce_deployment, late_by, read
):
    portal, runtime = salesforce_deployment
    for _ in range(2):
        portal.clock.advance(1 * MINUTES)
        runtime.sync.sync_once()
    stamp = sf_datetime(portal.clock.datetime() - timedelta(minutes=2))  # inside the overlap, behind the last read
    user = portal.app.directory.reps[0] if late_by == "rep" else portal.app.org.api_user_id
    portal.app.seed_records(
        [
            {
                "properties": {
                    "LastName": "Late",
                    "Company": "Acme",
                    "SystemModstamp": stamp,
                    "LastModifiedDate": stamp,
                    "LastModifiedById": user,
                }
            }
        ]
    )
    portal.clock.advance(1 * MINUTES)
    assert runtime.sync.sync_once().read == read
