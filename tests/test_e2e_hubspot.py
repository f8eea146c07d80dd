"""Handoff against the HubSpot sandbox over real HTTP with the real SDK: the product's promises.

Time is the sandbox's manual clock, shared by Handoff, its rate limiter and
its retries: nothing here sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from builders import DEFAULT_RULES
from connector.business_time import Duration, add_duration
from connector.model import parse_time
from connector.runtime import Runtime, build, hubspot_adapter
from connector.settings import Settings

WRITE_CALLS = ("POST /crm/v3/objects/contacts/batch/update", "POST /crm/v3/objects/tasks/batch/create",
               "POST /crm/v3/properties/contacts", "POST /crm/v3/properties/contacts/groups",
               "PATCH /crm/v3/objects/contacts/{contactId}")

GOOD_FIT = {"firstname": "Ana", "lastname": "Ruiz", "email": "ana@acme.io", "jobtitle": "VP Engineering",
            "company": "Acme", "numemployees": "100-500", "industry": "Software", "country": "DE",
            "lifecyclestage": "lead", "hs_lead_status": "NEW"}


@dataclass
class Deployment:
    """Handoff wired to the sandbox, as `handoff run` would be, on the sandbox's clock."""

    sandbox: Any
    runtime: Runtime

    @property
    def owner(self) -> str:
        return next(o["id"] for o in self.sandbox.app.dump()["owners"] if o["type"] == "PERSON")

    def seed(self, **properties: str) -> str:
        props = {**GOOD_FIT, "hubspot_owner_id": self.owner, **properties}
        return self.sandbox.seed_contacts(props)[0]

    def activity(self, contact_id: str, type: str, **fields: Any) -> None:
        at = fields.pop("at", self.now())
        self.sandbox.app.add_activities([{"contactId": contact_id, "type": type, "at": at.isoformat(), **fields}])

    def touch(self, contact_id: str, **properties: str) -> None:
        self.sandbox.app.touch(contact_id, properties)

    def now(self) -> datetime:
        return self.sandbox.clock.datetime()

    def later(self, minutes: float = 5) -> None:
        self.sandbox.clock.advance(minutes * 60)

    def cycle(self, **kwargs: Any):
        """Let time pass beyond the safety lag, then run one incremental sync."""
        self.later()
        return self.runtime.sync.sync_once(**kwargs)

    def contact(self, contact_id: str) -> dict[str, Any]:
        return next(c for c in self.sandbox.app.dump()["contacts"] if c["id"] == contact_id)["properties"]

    def tasks_of(self, contact_id: str) -> list[dict[str, Any]]:
        dump = self.sandbox.app.dump()
        return [t["properties"] for t in dump["tasks"] if contact_id in t["associations"].get("contacts", [])]

    def writes(self) -> int:
        calls = self.sandbox.stats()["calls"]
        return sum(sum(calls.get(c, {}).values()) for c in WRITE_CALLS)


@pytest.fixture
def deployment(hubspot_sandbox, tmp_path):
    clock = hubspot_sandbox.clock
    settings = Settings(
        hubspot_access_token=hubspot_sandbox.token, hubspot_api_base=hubspot_sandbox.base_url,
        handoff_state_url=f"sqlite:///{tmp_path / 'state.sqlite'}", handoff_rules=DEFAULT_RULES,
        handoff_task_settle_seconds=0,
    )
    adapter = hubspot_adapter(settings, sleep=clock.advance, monotonic=clock)
    runtime = build(settings, clock=clock.datetime, adapter=adapter)
    adapter.start()
    yield Deployment(hubspot_sandbox, runtime)
    runtime.close()


def test_demo_request_makes_an_sql_with_one_high_priority_task_for_its_owner(deployment):
    contact = deployment.seed()
    deployment.activity(contact, "form_submission", name="Request a demo")
    requested = deployment.now()
    report = deployment.cycle()
    assert report.status == "ok" and report.tasks_created == 1
    props = deployment.contact(contact)
    assert props["lifecyclestage"] == "salesqualifiedlead"
    assert props["handoff_status"] == "sql"
    assert props["handoff_fit_grade"] == "A"
    assert int(props["handoff_score"]) >= 75
    assert props["handoff_reasons"].startswith("- Requested a demo")
    assert props["handoff_rules_version"] == "2026.11-b2b-saas-1"
    [task] = deployment.tasks_of(contact)
    assert task["hs_task_priority"] == "HIGH"
    assert task["hubspot_owner_id"] == deployment.owner
    assert "Requested a demo" in task["hs_task_body"]
    policy = deployment.runtime.ruleset.policy
    synced_at = requested + timedelta(minutes=5)
    assert parse_time(task["hs_timestamp"]) == add_duration(synced_at, Duration.parse("1bh"), policy.business_hours)
    assert requested <= parse_time(props["handoff_sql_at"])


def test_a_second_cycle_with_nothing_new_writes_nothing(deployment):
    contact = deployment.seed()
    deployment.activity(contact, "form_submission", name="Request a demo")
    deployment.cycle()
    deployment.cycle()  # re-reads the contacts our own writes touched
    before = deployment.writes()
    report = deployment.cycle()
    assert deployment.writes() == before
    assert report.written == 0 and report.tasks_created == 0
    assert len(deployment.tasks_of(contact)) == 1


def test_a_reps_recycle_sends_the_lead_back_and_it_can_qualify_again(deployment):
    contact = deployment.seed()
    deployment.activity(contact, "form_submission", name="Request a demo")
    deployment.cycle()
    deployment.touch(contact, hs_lead_status="BAD_TIMING")
    updates_before = sum(deployment.sandbox.stats()["calls"]["POST /crm/v3/objects/contacts/batch/update"].values())
    deployment.cycle()
    assert deployment.contact(contact)["lifecyclestage"] == "lead"
    updates = sum(deployment.sandbox.stats()["calls"]["POST /crm/v3/objects/contacts/batch/update"].values())
    assert updates - updates_before == 2  # clear, then set, in two separate requests
    assert len(deployment.tasks_of(contact)) == 1
    deployment.later(60 * 24 * 3)
    deployment.activity(contact, "form_submission", name="Request a demo")
    deployment.cycle()
    assert deployment.contact(contact)["lifecyclestage"] == "salesqualifiedlead"
    assert len(deployment.tasks_of(contact)) == 2


def test_a_reps_unqualified_is_never_promoted(deployment):
    contact = deployment.seed(hs_lead_status="UNQUALIFIED")
    deployment.activity(contact, "form_submission", name="Request a demo")
    deployment.cycle()
    props = deployment.contact(contact)
    assert props["lifecyclestage"] == "lead"
    assert props["handoff_status"] == "disqualified"
    assert deployment.tasks_of(contact) == []


def test_a_manual_stage_change_by_a_rep_is_never_overwritten_backward(deployment):
    contact = deployment.seed()
    deployment.activity(contact, "content_download", name="Lead Scoring Playbook")
    deployment.activity(contact, "email_click", count=3)
    deployment.cycle()
    assert deployment.contact(contact)["lifecyclestage"] == "marketingqualifiedlead"
    deployment.touch(contact, lifecyclestage="opportunity")
    deployment.activity(contact, "form_submission", name="Request a demo")
    report = deployment.cycle()
    assert deployment.contact(contact)["lifecyclestage"] == "opportunity"
    assert report.stages == {}
    assert len(deployment.tasks_of(contact)) == 1  # only the MQL task from before


def test_a_dry_run_makes_no_write_call(deployment):
    contact = deployment.seed()
    deployment.activity(contact, "form_submission", name="Request a demo")
    before = deployment.writes()

    class Rows:
        def __init__(self):
            self.plans = []

        def add(self, record, qualification, decision, plan):
            self.plans.append(plan)

    rows = Rows()
    report = deployment.cycle(dry_run=True, sink=rows)
    assert deployment.writes() == before
    assert report.stages == {"sql": 1}
    assert [p.stage.value for p in rows.plans if p.stage] == ["sql"]
    assert deployment.contact(contact)["lifecyclestage"] == "lead"
    assert deployment.runtime.store.get_cursor("contacts") is None  # a dry run moves no cursor


def test_a_cycle_that_fails_outright_is_redone_by_the_next_one(deployment):
    contact = deployment.seed()
    deployment.activity(contact, "form_submission", name="Request a demo")
    deployment.sandbox.control("POST", "/_sandbox/faults", {"error_rate": 1.0, "status": 503})
    with pytest.raises(Exception):
        deployment.cycle()
    deployment.sandbox.control("POST", "/_sandbox/faults", {"error_rate": 0.0})
    deployment.cycle()
    assert deployment.contact(contact)["lifecyclestage"] == "salesqualifiedlead"
    assert len(deployment.tasks_of(contact)) == 1


def test_the_decay_sweep_shows_a_cooling_mql_without_reading_the_crm(deployment):
    contact = deployment.seed()
    deployment.activity(contact, "content_download", name="Lead Scoring Playbook")
    deployment.activity(contact, "webinar_registration", name="RevOps Benchmarks 2026")
    deployment.activity(contact, "email_click", count=3)
    deployment.cycle()
    warm = deployment.contact(contact)
    assert (warm["lifecyclestage"], warm["handoff_status"]) == ("marketingqualifiedlead", "mql")
    deployment.cycle()
    quiet = deployment.runtime.sync.sweep()
    assert quiet.written == 0  # hours of decay stay below the reporting step
    deployment.later(60 * 24 * 90)
    reads_before = sum(sum(v.values()) for k, v in deployment.sandbox.stats()["calls"].items() if "search" in k)
    report = deployment.runtime.sync.sweep()
    assert report.written == 1
    cooled = deployment.contact(contact)
    assert int(cooled["handoff_score"]) < int(warm["handoff_score"]) - 5
    assert cooled["handoff_status"] == "lead"
    assert cooled["lifecyclestage"] == "marketingqualifiedlead"  # the stage never moves back by itself
    assert sum(sum(v.values()) for k, v in deployment.sandbox.stats()["calls"].items() if "search" in k) == reads_before
