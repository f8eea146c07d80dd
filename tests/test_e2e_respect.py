"""A rep's decisions win, on both CRM sandboxes: a stage moved back by hand, a rejection and its
reopening, and activity dated in the future.

Real SDKs over HTTP, the sandbox's manual clock: nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from deployments import deploy
from test_e2e_episodes import Deployment

from connector.policy.lifecycle import rejection_reason

LABELS = {"UNQUALIFIED": "Unqualified", "Closed - Not Converted": "Closed - Not Converted"}


@pytest.fixture
def deployment(portal, tmp_path):
    runtime = deploy(portal, tmp_path / "state.sqlite")
    yield Deployment(portal, runtime)
    runtime.close()


def memory(deployment, lead):
    return deployment.store.records.get([lead])[lead].memory


def test_a_stage_a_rep_moves_back_by_hand_stays_back_and_ends_the_episode(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    assert portal.stage(lead) == "sql"
    portal.rep_sets_stage(lead, "lead")
    deployment.cycle()
    deployment.cycle()
    assert portal.stage(lead) == "lead"  # not promoted again on the demo request from before
    assert len(portal.tasks(lead)) == 1
    ended = deployment.episode(lead, 1)
    assert ended.recycled_at is not None and ended.sales_reason == "moved back to lead"
    assert deployment.store.episodes.open_for([lead]) == {}
    assert memory(deployment, lead).episode == 1
    deployment.later(60 * 24 * 3)
    portal.activity(lead, "form_submission", name="Contact sales")
    deployment.cycle()
    assert portal.stage(lead) == "sql"
    assert len(portal.tasks(lead)) == 2
    assert deployment.episode(lead, 2).task_key == f"handoff:{lead}:sql:1"


def test_handoffs_own_step_back_after_a_recycle_is_not_taken_for_a_reps(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    portal.rep_sets_status(lead, portal.recycle_status)
    deployment.cycle()
    assert portal.stage(lead) == "lead"
    deployment.cycle()
    deployment.runtime.sync.sweep()
    deployment.cycle()
    assert memory(deployment, lead).episode == 1
    assert [e.number for e in deployment.store.episodes.all()] == [1]


def test_a_rejection_is_written_as_the_reason_with_the_day_handoff_first_saw_it(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    portal.rep_sets_status(lead, portal.reject_status)
    deployment.cycle()
    seen = memory(deployment, lead).rejected_at
    assert deployment.during_last_cycle(seen)
    expected = "- " + rejection_reason(portal.reject_status, seen, deployment.runtime.ruleset.policy)
    assert f"Rejected by sales ({LABELS[portal.reject_status]}) on " in expected
    written = portal.handoff(lead)
    assert (written["status"], written["reasons"]) == ("disqualified", expected)
    assert portal.stage(lead) == "sql" and len(portal.tasks(lead)) == 1  # the rep's record, left as they set it
    deployment.later(60 * 24 * 2)
    portal.activity(lead, "page_view", url="https://vendor.example/pricing")
    deployment.cycle()
    assert memory(deployment, lead).rejected_at == seen
    assert portal.handoff(lead)["reasons"] == expected


def test_a_reopened_lead_qualifies_again_only_on_activity_after_the_reopening(deployment):
    portal = deployment.portal
    lead = portal.seed(status=portal.reject_status)
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    assert portal.handoff(lead)["status"] == "disqualified"
    deployment.later(60 * 24)
    portal.rep_sets_status(lead, portal.open_status)
    deployment.cycle()
    reopened = memory(deployment, lead)
    assert deployment.during_last_cycle(reopened.episode_start) and reopened.episode == 1
    assert portal.stage(lead) == "lead" and portal.tasks(lead) == []  # the old demo request no longer counts
    assert "Rejected by sales" not in (portal.handoff(lead)["reasons"] or "")
    deployment.later(60 * 24)
    portal.activity(lead, "form_submission", name="Contact sales")
    deployment.cycle()
    assert portal.stage(lead) == "sql"
    assert len(portal.tasks(lead)) == 1
    assert deployment.episode(lead, 2).task_key == f"handoff:{lead}:sql:1"


def test_a_demo_request_dated_in_the_far_future_counts_from_when_it_was_read_and_decays(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo", at=datetime(9999, 12, 31, tzinfo=UTC))
    deployment.cycle()
    assert portal.stage(lead) == "sql"
    stored = deployment.store.records.get([lead])[lead].lead.activities
    [demo] = [a for a in stored if a.type == "form_submission"]
    assert deployment.during_last_cycle(demo.at)  # kept at the read time, not at year 9999
    first = float(portal.handoff(lead)["score"])
    deployment.later(60 * 24 * 60)
    deployment.runtime.sync.sweep()
    assert float(portal.handoff(lead)["score"]) < first - 5
    assert "Requested a demo just now" not in portal.handoff(lead)["reasons"]


def test_a_meeting_booked_for_next_week_counts_from_when_it_was_read(deployment):
    portal = deployment.portal
    lead = portal.seed()
    deployment.cycle()
    portal.activity(lead, "meeting_booked", name="Discovery call", at=deployment.now() + timedelta(days=7))
    deployment.cycle()
    stored = deployment.store.records.get([lead])[lead].lead.activities
    [meeting] = [a for a in stored if a.type == "meeting_booked"]
    assert deployment.during_last_cycle(meeting.at)
