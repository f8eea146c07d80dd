"""Handoff against a CRM sandbox over real HTTP with the real SDK: the product's promises, for each CRM.

Time is the sandbox's manual clock, shared by Handoff, its rate limiter and
its retries: nothing here sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from deployments import deploy

from connector.cli.runtime import Runtime
from connector.crm.errors import CrmUnavailable, QuotaExhausted
from connector.model import parse_time
from connector.policy.business_time import Duration, add_duration
from connector.sync.dry_run import DryRun


class Deployment:
    """Handoff wired to a sandbox portal, as `handoff run` would be, on the sandbox's clock."""

    def __init__(self, portal, runtime: Runtime):
        self.portal = portal
        self.runtime = runtime

    def later(self, minutes: float = 5) -> None:
        self.portal.clock.advance(minutes * 60)

    def now(self):
        return self.portal.clock.datetime()

    def cycle(self, **kwargs):
        """Let time pass beyond the safety lag, then run one incremental sync."""
        self.later()
        return self.runtime.sync.sync_once(**kwargs)


@pytest.fixture
def deployment(portal, tmp_path):
    runtime = deploy(portal, tmp_path / "state.sqlite")
    yield Deployment(portal, runtime)
    runtime.close()


def test_demo_request_makes_an_sql_with_one_high_priority_task_for_its_owner(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    requested = deployment.now()
    report = deployment.cycle()
    assert report.status == "ok" and report.tasks_created == 1
    assert portal.stage(lead) == "sql"
    seen = portal.handoff(lead)
    assert (seen["status"], seen["fit_grade"], seen["rules_version"]) == ("sql", "A", "2026.11-b2b-saas-1")
    assert float(seen["score"]) >= 75
    assert seen["reasons"].startswith("- Requested a demo")
    [task] = portal.tasks(lead)
    assert task.priority == "HIGH"
    assert task.owner_id == portal.owner()
    assert "Requested a demo" in task.body
    policy = deployment.runtime.ruleset.policy
    synced_at = requested + timedelta(minutes=5)
    assert task.due_at == add_duration(synced_at, Duration.parse("1bh"), policy.business_hours)
    assert requested <= parse_time(seen["sql_at"])


def test_a_second_cycle_with_nothing_new_writes_nothing(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    deployment.cycle()  # re-reads the records our own writes touched
    before = portal.writes()
    report = deployment.cycle()
    assert portal.writes() == before
    assert report.written == 0 and report.tasks_created == 0
    assert len(portal.tasks(lead)) == 1


def test_a_reps_recycle_sends_the_lead_back_and_it_can_qualify_again(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    portal.rep_sets_status(lead, portal.recycle_status)
    updates_before = portal.calls(portal.update_call)
    deployment.cycle()
    assert portal.stage(lead) == "lead"
    assert portal.calls(portal.update_call) - updates_before == portal.recycle_writes
    assert len(portal.tasks(lead)) == 1
    deployment.later(60 * 24 * 3)
    # a different form: Salesforce keeps one membership per campaign, so a repeat of the same one leaves no trace
    portal.activity(lead, "form_submission", name="Contact sales")
    deployment.cycle()
    assert portal.stage(lead) == "sql"
    assert len(portal.tasks(lead)) == 2


def test_a_reps_unqualified_is_never_promoted(deployment):
    portal = deployment.portal
    lead = portal.seed(status=portal.reject_status)
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    assert portal.stage(lead) == "lead"
    assert portal.handoff(lead)["status"] == "disqualified"
    assert portal.tasks(lead) == []


def test_a_manual_stage_change_by_a_rep_is_never_overwritten_backward(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "content_download", name="Lead Scoring Playbook", at=deployment.now() - timedelta(days=1))
    portal.activity(lead, "webinar_registration", name="RevOps Benchmarks 2026")
    deployment.cycle()
    assert portal.stage(lead) == "mql"
    portal.rep_sets_stage(lead, "opportunity")
    portal.activity(lead, "form_submission", name="Request a demo")
    report = deployment.cycle()
    assert portal.stage(lead) == "opportunity"
    assert report.stages == {}
    assert len(portal.tasks(lead)) == 1  # only the MQL task from before


def test_a_dry_run_makes_no_write_call(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    before = portal.writes()

    class Rows:
        def __init__(self):
            self.plans = []

        def add(self, record, qualification, decision, plan):
            self.plans.append(plan)

    rows = Rows()
    report = deployment.cycle(sink=DryRun(rows))
    assert portal.writes() == before
    assert report.stages == {"sql": 1}
    assert [p.stage.value for p in rows.plans if p.stage] == ["sql"]
    assert portal.stage(lead) == "lead"
    assert deployment.runtime.store.cursors.get("contacts") is None  # a dry run moves no cursor


def test_a_cycle_that_fails_outright_is_redone_by_the_next_one(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    portal.set_faults(error_rate=1.0, status=503)
    with pytest.raises(CrmUnavailable, match="answered 503"):
        deployment.cycle()
    portal.set_faults(error_rate=0.0)
    deployment.cycle()
    assert portal.stage(lead) == "sql"
    assert len(portal.tasks(lead)) == 1


def test_the_decay_sweep_shows_a_cooling_mql_without_reading_the_crm(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "content_download", name="Lead Scoring Playbook", at=deployment.now() - timedelta(days=1))
    portal.activity(lead, "webinar_registration", name="RevOps Benchmarks 2026")
    deployment.cycle()
    warm = portal.handoff(lead)
    assert (portal.stage(lead), warm["status"]) == ("mql", "mql")
    deployment.cycle()
    quiet = deployment.runtime.sync.sweep()
    assert quiet.written == 0  # hours of decay stay below the reporting step
    deployment.later(60 * 24 * 90)
    report = deployment.runtime.sync.sweep()
    assert report.written == 1 and report.read == 1  # the one stored lead, re-scored from the state store
    cooled = portal.handoff(lead)
    assert float(cooled["score"]) < float(warm["score"]) - 5
    assert cooled["status"] == "lead"
    assert portal.stage(lead) == "mql"  # the stage never moves back by itself


def test_the_sweep_skips_a_lead_until_it_is_due_and_then_demotes_it(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo", at=deployment.now() - timedelta(days=27))
    deployment.cycle()
    assert portal.handoff(lead)["status"] == "sql"  # the demo request fast-tracks it, for 30 days
    first = deployment.runtime.sync.sweep()  # the first sweep re-scores every lead and gives each its due time
    assert (first.read, first.written) == (1, 0)
    deployment.later(60 * 24)
    quiet = deployment.runtime.sync.sweep()
    assert (quiet.read, quiet.unchanged, quiet.written) == (0, 1, 0)  # not due: nothing read, nothing written
    assert quiet.levels == {"sql": 1}  # still counted at its level
    deployment.later(60 * 24 * 3)  # the demo request has left its window
    report = deployment.runtime.sync.sweep()
    assert (report.read, report.written) == (1, 1)
    assert portal.handoff(lead)["status"] != "sql"
    again = deployment.runtime.sync.sweep()
    assert (again.read, again.unchanged, again.written) == (0, 1, 0)


def test_the_owner_never_changes_because_of_handoffs_writes(deployment):
    portal = deployment.portal
    lead = portal.seed()
    owner = portal.owner_of(lead)
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    portal.rep_sets_status(lead, portal.recycle_status)
    deployment.cycle()
    assert portal.stage(lead) == "lead"  # two rounds of writes landed...
    assert portal.owner_of(lead) == owner  # ...and no assignment rule moved the lead


def test_a_run_stops_cleanly_before_the_daily_quota_other_integrations_need(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    portal.leave_daily_calls(4)  # far below the half of the day's quota Handoff may use
    with pytest.raises(QuotaExhausted, match="kept for the account's other integrations"):
        deployment.cycle()
    assert portal.stage(lead) == "lead"
    assert portal.tasks(lead) == []
