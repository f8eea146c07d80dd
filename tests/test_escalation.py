"""The SLA follow-up decision and sales acceptance: pure rules on a simulated clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from builders import NOW, activity, rules_from
from hypothesis import given
from hypothesis import strategies as st

from connector.config.files import ConfigError, ConfigProblem
from connector.model import Priority, Stage, TaskSpec
from connector.outcomes.apply import apply_outcomes
from connector.outcomes.episode import Episode
from connector.outcomes.events import OutcomeKind
from connector.policy.acceptance import Acceptance, sales_touches
from connector.policy.business_time import BusinessHours, Duration, add_duration
from connector.policy.escalation import (
    Escalate,
    TaskState,
    decide_escalation,
    escalation_time,
    next_owner,
    shortest_wait,
)

BERLIN = BusinessHours(timezone="Europe/Berlin")
ROTATION = ["11", "22", "33"]
#: NOW is Wednesday 11:00 in Berlin: a task due in one business hour is due at 12:00 (11:00 UTC)
DUE = NOW + timedelta(hours=1)


def one_problem(yaml_text: str) -> ConfigProblem:
    with pytest.raises(ConfigError) as caught:
        rules_from(yaml_text, name="scoring.yaml")
    [problem] = caught.value.problems
    return problem


def episode(**fields) -> Episode:
    return Episode(record_id="1001", number=1, sql_at=NOW, task_key="handoff:1001:sql:0", **fields)


def task(due: datetime = DUE, owner: str = "11") -> TaskSpec:
    return TaskSpec("handoff:1001:sql:0", "1001", Stage.SQL, owner, "Call Ana", "Why now", due, Priority.MEDIUM)


def live(open: bool = True, owner: str | None = "11", priority: Priority | None = Priority.MEDIUM) -> TaskState:
    return TaskState("9001", open, owner, priority)


def decide(at: datetime, *, ep: Episode | None = None, state: TaskState | None = None, **escalate):
    config = Escalate(**{"after": "1bh", "reassign_to": "next", **escalate})
    spec = task()
    return decide_escalation(ep or episode(), spec, state or live(), config, BERLIN, ROTATION, lambda _: True, at)


def test_an_untouched_task_escalates_once_past_due_plus_the_grace_in_business_hours():
    assert decide(DUE + timedelta(minutes=59)) is None
    escalation = decide(DUE + timedelta(hours=1))
    assert escalation is not None
    assert escalation.actions == ("raise_priority", "reassign", "alert")
    assert (escalation.priority, escalation.previous_owner, escalation.owner_id) == (Priority.HIGH, "11", "22")
    assert (escalation.task_key, escalation.crm_task_id, escalation.overdue_seconds) == (
        "handoff:1001:sql:0",
        "9001",
        3600,
    )


def test_the_grace_waits_out_the_night_and_the_weekend():
    # due Friday 16:30 Berlin: one business hour later is Monday 09:30 Berlin
    friday = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    config = Escalate(after="1bh")
    spec = task(due=friday)
    saturday = datetime(2026, 11, 21, 12, tzinfo=UTC)
    monday = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert decide_escalation(episode(), spec, live(), config, BERLIN, [], lambda _: True, saturday) is None
    escalation = decide_escalation(episode(), spec, live(), config, BERLIN, [], lambda _: True, monday)
    assert escalation is not None and escalation.overdue_seconds == int((monday - friday).total_seconds())


@pytest.mark.parametrize(
    "touch",
    [
        {"first_touch_at": DUE + timedelta(minutes=30)},  # a late call, a late completed task
        {"accepted_at": DUE},
        {"recycled_at": DUE},
        {"rejected_at": DUE},
        {"opportunity_at": DUE},
    ],
)
def test_a_touch_or_an_outcome_before_the_escalation_time_prevents_it(touch):
    assert decide(DUE + timedelta(hours=2), ep=episode(**touch)) is None


def test_a_task_the_crm_shows_completed_or_no_longer_has_is_not_escalated():
    assert decide(DUE + timedelta(hours=2), state=live(open=False)) is None
    config = Escalate(after="0m")
    assert decide_escalation(episode(), task(), None, config, BERLIN, [], lambda _: True, DUE) is None


def test_a_task_already_high_keeps_its_priority_and_only_the_other_actions_are_taken():
    escalation = decide(DUE + timedelta(hours=1), state=live(priority=Priority.HIGH), alert=False)
    assert escalation is not None and escalation.actions == ("reassign",) and escalation.priority is None


def test_a_named_manager_takes_the_task_when_they_can_own_it():
    escalation = decide(DUE + timedelta(hours=1), reassign_to="99")
    assert escalation is not None and escalation.owner_id == "99"
    config = Escalate(reassign_to="99")
    unusable = decide_escalation(episode(), task(), live(), config, BERLIN, [], lambda o: o != "99", DUE)
    assert unusable is not None and "reassign" not in unusable.actions and unusable.owner_id == "11"


@given(
    start=st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    due=st.sampled_from(["0m", "30m", "2h", "1d", "1bh", "3bh", "1bd", "2bd"]),
    after=st.sampled_from(["0m", "45m", "1h", "1bh", "1bd"]),
)
def test_no_episode_younger_than_the_shortest_wait_is_ever_due(start, due, after):
    escalate = Escalate(after=after)
    due_at = add_duration(start, Duration.parse(due), BERLIN)
    assert escalation_time(due_at, escalate, BERLIN) - start >= shortest_wait(due, escalate, BERLIN)


@pytest.mark.parametrize(
    ("current", "usable", "expected"),
    [
        ("11", ROTATION, "22"),
        ("33", ROTATION, "11"),  # wraps around
        ("77", ROTATION, "11"),  # an owner outside the rotation hands to its start
        (None, ROTATION, "11"),
        ("11", ["11", "33"], "33"),  # a deactivated rep is skipped
        ("11", ["11"], None),  # nobody else to take it
    ],
)
def test_the_next_owner_is_the_next_usable_rep_in_the_rotation(current, usable, expected):
    assert next_owner(current, ROTATION, lambda o: o in usable) == expected


def test_an_empty_rotation_has_no_next_owner():
    assert next_owner("11", [], lambda _: True) is None


def test_escalation_is_configured_per_stage_in_the_rules_file_and_is_off_by_default():
    default = rules_from("{}").policy
    assert all(sla.escalate is None for sla in default.sla.values())
    policy = rules_from(
        """\
        lifecycle:
          sla:
            sql: {due: 1bh, priority: HIGH, escalate: {after: 2bh, raise_priority: false, reassign_to: next}}
        """
    ).policy
    assert policy.sla["sql"].escalate == Escalate(after="2bh", raise_priority=False, reassign_to="next", alert=True)


def test_an_escalation_that_does_nothing_is_refused_with_its_place():
    problem = one_problem(
        """\
        lifecycle:
          sla:
            sql: {due: 1bh, escalate: {raise_priority: false, reassign_to: null, alert: false}}
        """
    )
    assert problem.field == "lifecycle.sla.sql.escalate"
    assert "at least one of raise_priority, reassign_to, alert" in problem.message


def test_an_escalation_grace_of_more_than_a_year_is_refused():
    problem = one_problem(
        """\
        lifecycle:
          sla:
            sql: {due: 1bh, escalate: {after: 9000bd}}
        """
    )
    assert problem.field == "lifecycle.sla.sql.escalate.after"


# ------------------------------------------------------------------- acceptance

ACCEPTANCE = Acceptance()


def test_a_call_or_meeting_logged_after_qualification_is_the_first_touch():
    call = activity("call", hours_ago=-2)
    meeting = activity("meeting_booked", hours_ago=-3)
    before = activity("call", days_ago=1)  # before the episode: another story
    views = activity("page_view", hours_ago=-1)
    events = sales_touches("1001", [before, views, meeting, call], "NEW", "NEW", NOW, ACCEPTANCE)
    touched = apply_outcomes(episode(), events)
    assert (touched.first_touch_at, touched.accepted_at) == (call.at, None)


def test_a_lead_status_moved_to_working_is_a_touch_and_an_acceptance_when_it_changes():
    seen = NOW + timedelta(hours=4)
    events = sales_touches("1001", [], "NEW", "ATTEMPTED_TO_CONTACT", seen, ACCEPTANCE)
    assert sorted(e.kind for e in events) == [OutcomeKind.ACCEPTED, OutcomeKind.TOUCHED]
    touched = apply_outcomes(episode(), events)
    assert (touched.first_touch_at, touched.accepted_at) == (seen, seen)
    assert sales_touches("1001", [], "IN_PROGRESS", "IN_PROGRESS", seen, ACCEPTANCE) == []


def test_the_touching_statuses_and_activities_are_configurable():
    policy = rules_from(
        """\
        lifecycle:
          acceptance: {statuses: [Qualifying], activities: [meeting_booked]}
        """
    ).policy
    call = activity("call", hours_ago=-2)
    assert sales_touches("1001", [call], "NEW", "IN_PROGRESS", NOW, policy.acceptance) == []
    assert sales_touches("1001", [], "NEW", "Qualifying", NOW, policy.acceptance) != []
    problem = one_problem(
        """\
        lifecycle:
          acceptance: {activities: [phone_call]}
        """
    )
    assert problem.field == "lifecycle.acceptance.activities"


def test_the_earliest_touch_stays_when_touches_are_read_again():
    first = NOW + timedelta(hours=1)
    touched = replace(episode(), first_touch_at=first)
    later = sales_touches("1001", [activity("call", hours_ago=-5)], "NEW", "NEW", NOW, ACCEPTANCE)
    assert apply_outcomes(touched, later).first_touch_at == first
