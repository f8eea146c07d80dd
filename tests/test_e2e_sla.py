"""SLA follow-up and sales acceptance against each CRM sandbox, on its manual clock.

A demo request makes an SQL with a MEDIUM task for the first rep (the rules below); the task is due
one business hour later and escalates one business hour after that: priority HIGH, the next rep in
the rotation. The sandbox starts on Friday 2026-11-20 at 13:00 in Berlin, so all of it happens
inside business hours. Nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from builders import DEFAULT_RULES
from deployments import deploy
from test_e2e_episodes import Deployment, warm_up

from connector.crm.base import TaskUpdate
from connector.model import Priority, Stage
from connector.policy.escalation import Escalation

TASK_READ = "POST /crm/v3/objects/tasks/batch/read"
#: lead-status values a rep sets when working a lead, per CRM
WORKING = {"hubspot": "IN_PROGRESS", "salesforce": "Working - Contacted"}
SQL_SLA = "    sql: {due: 1bh, priority: HIGH}     # speed to lead: within one business hour\n"
ESCALATING_SLA = (
    "    sql: {due: 1bh, priority: MEDIUM, escalate: {after: 1bh, raise_priority: true, reassign_to: next}}\n"
)


def reps(portal) -> list[str]:
    if portal.crm == "hubspot":
        return [str(o["id"]) for o in portal.app.dump()["owners"] if o["type"] == "PERSON"][:2]
    return list(portal.app.directory.reps[:2])


def escalating_rules(portal, folder: Path, **replacements: str) -> Path:
    """The default rules with the SQL SLA escalating to the next of two reps (plus ``replacements``)."""
    first, second = reps(portal)
    replacements = {
        SQL_SLA: ESCALATING_SLA,
        "    round_robin: []": f'    round_robin: ["{first}", "{second}"]',
        **replacements,
    }
    text = DEFAULT_RULES.read_text()
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    path = folder / "scoring.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def deployment(portal, tmp_path):
    runtime = deploy(portal, tmp_path / "state.sqlite", handoff_rules=escalating_rules(portal, tmp_path))
    yield Deployment(portal, runtime)
    runtime.close()


def qualified(deployment, **canonical) -> str:
    portal = deployment.portal
    lead = portal.seed(**canonical)
    portal.activity(lead, "form_submission", name="Request a demo")
    assert deployment.cycle().tasks_created == 1
    return lead


def until_escalation(deployment, lead, minutes: float = 0) -> None:
    """Let the clock run to ``minutes`` after the task's escalation time (due + one business hour)."""
    [task] = deployment.portal.tasks(lead)
    escalates = task.due_at + timedelta(hours=1) + timedelta(minutes=minutes)
    deployment.later((escalates - deployment.now()).total_seconds() / 60)


def test_an_untouched_sql_task_is_escalated_once_past_due(deployment):
    portal = deployment.portal
    first, second = reps(portal)
    lead = qualified(deployment)
    [task] = portal.tasks(lead)
    assert (task.priority, task.owner_id) == ("MEDIUM", first)

    until_escalation(deployment, lead, minutes=-10)
    assert deployment.cycle().escalations == []  # past due, not yet past the grace

    until_escalation(deployment, lead, minutes=1)
    report = deployment.cycle()
    [escalation] = report.escalations
    assert (escalation.record_id, escalation.task_key, escalation.crm_task_id) == (
        lead,
        f"handoff:{lead}:sql:0",
        task.id,
    )
    assert escalation.actions == ("raise_priority", "reassign", "alert")
    assert (escalation.previous_owner, escalation.owner_id, escalation.stage) == (first, second, Stage.SQL)
    assert escalation.overdue_seconds >= 3600
    assert report.tasks_escalated == 1 and report.to_json()["escalated"] == 1
    [escalated] = portal.tasks(lead)
    assert (escalated.priority, escalated.owner_id, escalated.completed) == ("HIGH", second, False)

    reads = portal.calls(TASK_READ) if portal.crm == "hubspot" else None
    for _ in range(2):
        later = deployment.cycle(minutes=30)
        assert later.escalations == [] and later.tasks_escalated == 0
    assert portal.tasks(lead) == [escalated]
    if reads is not None:  # an escalated episode is not asked about again
        assert portal.calls(TASK_READ) == reads == 1
    assert deployment.store.escalations.count("done") == 1


def test_a_late_completion_before_the_escalation_time_prevents_it(deployment):
    portal = deployment.portal
    lead = qualified(deployment)
    [task] = portal.tasks(lead)
    until_escalation(deployment, lead, minutes=-30)  # half an hour past due
    portal.complete_task(task.id)
    until_escalation(deployment, lead, minutes=5)
    assert deployment.cycle().escalations == []
    [done] = portal.tasks(lead)
    assert (done.priority, done.owner_id, done.completed) == ("MEDIUM", task.owner_id, True)
    assert deployment.store.escalations.count() == 0


def test_a_working_lead_status_is_the_acceptance_and_ends_the_follow_up(deployment):
    portal = deployment.portal
    lead = qualified(deployment)
    sql_at = deployment.episode(lead).sql_at
    deployment.later(20)
    portal.rep_sets_status(lead, WORKING[portal.crm])
    set_at = deployment.now()
    deployment.cycle()
    episode = deployment.episode(lead)
    assert episode.accepted_at is not None and episode.first_touch_at == episode.accepted_at
    assert sql_at < episode.accepted_at <= set_at + timedelta(seconds=1)

    until_escalation(deployment, lead, minutes=5)
    assert deployment.cycle().escalations == []
    [task] = portal.tasks(lead)
    assert task.priority == "MEDIUM"


@pytest.mark.parametrize("logged", ["call", "meeting_booked"])
def test_a_call_or_meeting_logged_after_qualification_is_the_first_touch(deployment, logged):
    portal = deployment.portal
    lead = qualified(deployment)
    deployment.later(30)
    portal.activity(lead, logged, name="Intro")
    called = deployment.now()
    deployment.cycle()
    episode = deployment.episode(lead)
    assert episode.first_touch_at == called and episode.accepted_at is None

    until_escalation(deployment, lead, minutes=5)
    assert deployment.cycle().escalations == []


def test_an_escalation_claimed_by_a_process_that_died_is_finished_not_repeated(deployment):
    portal = deployment.portal
    first, second = reps(portal)
    lead = qualified(deployment)
    [task] = portal.tasks(lead)
    until_escalation(deployment, lead, minutes=1)
    # another replica claimed the escalation and died before it updated the task
    episode = deployment.episode(lead)
    claimed = Escalation(
        record_id=lead,
        episode=episode,
        task_key=f"handoff:{lead}:sql:0",
        crm_task_id=task.id,
        stage=Stage.SQL,
        previous_owner=first,
        owner_id=second,
        priority=Priority.HIGH,
        actions=("raise_priority", "reassign", "alert"),
        due_at=task.due_at,
        overdue_seconds=3660,
    )
    assert deployment.store.escalations.claim([claimed]) == [claimed]
    report = deployment.cycle()
    assert report.escalations == [] and report.tasks_escalated == 1  # finished, not escalated (or alerted) again
    [escalated] = portal.tasks(lead)
    assert (escalated.priority, escalated.owner_id) == ("HIGH", second)
    assert deployment.store.escalations.count("done") == 1


def test_an_mql_task_escalates_to_a_named_manager_when_its_sla_says_so(portal, tmp_path):
    manager = reps(portal)[1]
    mql_sla = "    mql: {due: 1bd, priority: MEDIUM}   # within one business day\n"
    escalating = f"    mql: {{due: 1bd, escalate: {{raise_priority: false, reassign_to: '{manager}'}}}}\n"
    rules = escalating_rules(portal, tmp_path, **{mql_sla: escalating})
    runtime = deploy(portal, tmp_path / "state.sqlite", handoff_rules=rules)
    deployment = Deployment(portal, runtime)
    try:
        lead = portal.seed()
        warm_up(deployment, lead)
        assert deployment.cycle().tasks_by_stage == {"mql": 1}
        [task] = portal.tasks(lead)
        # due one business day later (Monday afternoon) and escalated right then
        deployment.later((task.due_at - deployment.now()).total_seconds() / 60 - 10)
        assert deployment.cycle().escalations == []
        [escalation] = deployment.cycle(minutes=10).escalations
        assert (escalation.stage, escalation.actions, escalation.owner_id) == (
            Stage.MQL,
            ("reassign", "alert"),
            manager,
        )
        [escalated] = portal.tasks(lead)
        assert (escalated.priority, escalated.owner_id) == (task.priority, manager)
    finally:
        runtime.close()


def test_a_task_update_the_crm_refuses_fails_alone(deployment):
    portal = deployment.portal
    first, second = reps(portal)
    leads = [qualified(deployment, email="ana@acme.io"), qualified(deployment, email="bo@acme.io")]
    tasks = [portal.tasks(lead)[0] for lead in leads]
    nobody, gone = ("999999", "404") if portal.crm == "hubspot" else ("005000000000999AAA", "00T000000000999")
    outcomes = deployment.runtime.adapter.update_tasks(
        [
            TaskUpdate("bad", tasks[0].id, owner_id=nobody, priority=Priority.HIGH),
            TaskUpdate("good", tasks[1].id, owner_id=second, priority=Priority.LOW),
        ]
    )
    assert [(o.key, o.ok, o.retryable) for o in outcomes] == [("bad", False, False), ("good", True, False)]
    assert [(t.priority, t.owner_id) for lead in leads for t in portal.tasks(lead)] == [
        ("MEDIUM", first),
        ("LOW", second),
    ]
    states = deployment.runtime.adapter.task_states([t.id for t in tasks] + [gone])
    assert [(s.open, s.owner_id, s.priority) for s in states.values()] == [
        (True, first, Priority.MEDIUM),
        (True, second, Priority.LOW),
    ]
