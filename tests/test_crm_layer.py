"""The shared CRM layer against the sandboxes: ties drained, conflicts typed, SOQL quoted, one clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cached_property

import pytest
from builders import DEFAULT_RULES

from connector.cli.runtime import hubspot_adapter
from connector.crm.errors import Conflict, CrmUnavailable, RecordMovedOn, RecordRejected, Retryable
from connector.crm.hubspot.mapping import engagement_activity
from connector.crm.hubspot.transport import HubSpotApi
from connector.crm.outcomes import task_outcome, write_outcome
from connector.crm.salesforce.adapter import SalesforceAdapter
from connector.crm.seen import SeenEngagements
from connector.model import Priority, Stage, TaskSpec


def read_ids(adapter, since, until):
    return [r.record_id for page in adapter.changed_since(since, until) for r in page.records]


def test_more_hubspot_contacts_in_one_millisecond_than_a_search_page_holds_are_each_read_once(hubspot_deployment):
    portal, runtime = hubspot_deployment
    now = portal.clock.datetime()
    seeded = portal.app.seed_contacts([{"properties": {"email": f"p{i}@acme.io"}} for i in range(250)])
    searches = portal.calls("POST /crm/v3/objects/contacts/search")
    ids = read_ids(runtime.adapter, now - timedelta(minutes=1), now + timedelta(minutes=1))
    assert sorted(ids) == sorted(seeded)  # every one, once, though all 250 share a millisecond
    assert portal.calls("POST /crm/v3/objects/contacts/search") - searches >= 4  # two windows, then the drain


def test_more_salesforce_leads_in_one_second_than_a_page_holds_are_each_read_once(salesforce_deployment):
    portal, runtime = salesforce_deployment
    adapter: SalesforceAdapter = runtime.adapter
    adapter.page_size = 5
    now = portal.clock.datetime()
    seeded = [portal.seed(email=f"p{i}@acme.io") for i in range(12)]
    ids = read_ids(adapter, now - timedelta(minutes=1), now + timedelta(minutes=1))
    assert sorted(ids) == sorted(seeded)


def test_a_salesforce_scan_pages_by_id_and_resumes_where_it_stopped(salesforce_deployment):
    portal, runtime = salesforce_deployment
    runtime.adapter.page_size = 4
    seeded = sorted(portal.seed(email=f"p{i}@acme.io") for i in range(10))
    pages = list(runtime.adapter.scan(None))
    assert [r.record_id for p in pages for r in p.records] == seeded
    resumed = runtime.adapter.scan(pages[0].resume)
    assert [r.record_id for p in resumed for r in p.records] == seeded[4:]


def test_soql_values_are_quoted_so_an_id_or_key_cannot_change_the_query(salesforce_deployment):
    portal, runtime = salesforce_deployment
    lead = portal.seed()
    with pytest.raises(RecordRejected, match=r"invalid ID field: 00Q' OR Id != '$"):
        runtime.adapter.read(["00Q' OR Id != '"])  # one literal, which is no id: nothing else was queried
    assert [r.record_id for r in runtime.adapter.read([lead])] == [lead]
    forged = TaskSpec(
        "x' OR Handoff_Key__c != '", lead, Stage.SQL, None, "s", "b", portal.clock.datetime(), Priority.LOW
    )
    assert runtime.adapter.existing_tasks([forged]) == {}


def test_creating_a_property_that_exists_is_a_typed_conflict(hubspot_deployment):
    _, runtime = hubspot_deployment
    api = runtime.adapter.api
    body = {"name": "handoff_score", "label": "x", "type": "number", "fieldType": "number", "groupName": "handoff"}
    with pytest.raises(Conflict):
        api.call(api.properties.create, "contacts", body)


def test_each_hubspot_sdk_api_is_built_at_its_first_use_and_kept():
    api = HubSpotApi("token", "http://127.0.0.1:9", budget=None, retry=None)  # builds call nothing
    lazy = [name for name, value in vars(HubSpotApi).items() if isinstance(value, cached_property)]
    assert len(lazy) == 14 and not any(name in vars(api) for name in lazy)
    for name in lazy:
        built = getattr(api, name)
        assert getattr(api, name) is built
        for sdk_api in built.values() if isinstance(built, dict) else [built]:
            assert type(sdk_api).__module__.startswith("hubspot.crm."), name


def test_a_replica_that_loses_the_race_to_create_handoffs_properties_starts_anyway(hubspot_deployment, tmp_path):
    portal, _ = hubspot_deployment
    settings = portal.settings(f"sqlite:///{tmp_path / 'other.sqlite'}", DEFAULT_RULES)
    other = hubspot_adapter(settings, sleep=portal.clock.advance, monotonic=portal.clock, clock=portal.clock.datetime)
    other._ensure_properties({})  # as if its read of the properties came before ours created them
    assert other.stages.missing() == []


def test_a_hubspot_engagement_without_a_readable_date_is_dated_when_handoff_read_it():
    read_at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    meeting = engagement_activity("meetings", {"hs_timestamp": "soon", "hs_meeting_title": "Demo"}, read_at)
    call = engagement_activity("calls", {"hs_call_status": "COMPLETED", "hs_timestamp": "9" * 30}, read_at)
    assert meeting.at == call.at == read_at


def test_typed_errors_become_the_outcomes_the_sync_acts_on():
    assert write_outcome("1").ok
    assert write_outcome("1", Retryable("locked")).retryable
    assert write_outcome("1", RecordMovedOn("converted")).skipped
    rejected = write_outcome("1", RecordRejected("invalid email"))
    assert (rejected.ok, rejected.retryable, rejected.skipped) == (False, False, False)
    assert task_outcome("k", "T1").crm_task_id == "T1"
    assert task_outcome("k", error=Retryable("no result")).retryable
    with pytest.raises(CrmUnavailable):
        write_outcome("1", CrmUnavailable("down"))


def test_seen_engagements_are_remembered_once_and_only_the_latest_are_kept():
    seen = SeenEngagements({"seen_engagements": ["a", "b"]})
    assert seen.new(["b", "c", "c", "d"]) == ["c", "d"]
    assert "c" in seen and "z" not in seen
    kept = SeenEngagements({}).counters({"n": 1})
    assert kept == {"n": 1}  # no ids: no key, every stored record is smaller for it
    many = SeenEngagements(None)
    many.new(str(i) for i in range(600))
    assert many.counters({})["seen_engagements"] == [str(i) for i in range(100, 600)]
