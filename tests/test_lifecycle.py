"""The lifecycle policy: forward-only stages, respect for sales, no flapping, one task per qualification."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from builders import NOW, activity, crm, default_rules, demo_request, lead, memory, page_view, rules_from

from connector.model import Memory, Priority, Stage
from connector.policy.lifecycle import (
    Owners,
    Policy,
    decide,
    evaluate,
    moved_back,
    observe,
    rejection_reason,
    task_key,
)
from connector.scoring.engine import score

RULES = default_rules()
POLICY = RULES.policy


def cycle(the_lead, state=None, mem=None, now=NOW, policy=POLICY, rules=RULES):
    return evaluate(the_lead, state or crm(), mem or Memory(), rules.compiled, policy, now)


def mql_lead():
    return lead(activity("content_download", 2, name="Playbook"), activity("webinar_attendance", 3, name="RevOps 2026"))


# ------------------------------------------------------------ promotion


def test_demo_request_promotes_to_sql_with_a_high_priority_task_for_the_owner():
    _, d = cycle(lead(demo_request(1)))
    assert d.target_stage is Stage.SQL and not d.reset_stage
    assert d.task is not None
    assert d.task.owner_id == "77"
    assert d.task.priority is Priority.HIGH
    assert "Requested a demo yesterday" in d.task.body
    assert d.properties["status"] == "sql"
    assert d.properties["sql_at"] == "2026-11-18T10:00:00.000Z"
    assert d.memory.promoted is Stage.SQL


def test_content_and_webinars_promote_to_mql_with_a_medium_task_due_next_business_day():
    q, d = cycle(mql_lead())
    assert q.stage is Stage.MQL
    assert d.target_stage is Stage.MQL
    assert d.task.priority is Priority.MEDIUM
    assert d.task.due_at == NOW + timedelta(days=1)  # Wednesday 11:00 -> Thursday 11:00 Berlin


def test_properties_carry_score_grade_reasons_and_rules_version():
    q, d = cycle(lead(demo_request(1)))
    assert d.properties["score"] == str(q.score)
    assert d.properties["fit_grade"] == "A"
    assert d.properties["rules_version"] == "2026.11-b2b-saas-1"
    assert d.properties["reasons"].splitlines()[0] == "- Requested a demo yesterday"
    assert d.properties["missing_info"] == "budget, need, timeline"


def test_task_body_says_why_now_what_they_engaged_with_and_what_is_unknown():
    _, d = cycle(lead(demo_request(1), activity("content_download", 3, name="Lead Scoring Playbook")))
    body = d.task.body
    assert body.startswith("Why now:\n- Requested a demo yesterday")
    assert "Engaged with: Request a demo, Lead Scoring Playbook" in body
    assert "Still unknown: budget, need and timeline." in body
    assert d.task.subject.startswith("Sales-qualified: Ana Ruiz (Acme): Requested a demo yesterday")


def test_task_key_names_record_stage_and_episode():
    _, d = cycle(lead(demo_request(1)), mem=Memory(episode=3))
    assert d.task.key == task_key("1001", Stage.SQL, 3) == "handoff:1001:sql:3"


def test_a_lead_below_the_mql_threshold_gets_scores_but_no_stage_or_task():
    _, d = cycle(lead(page_view("/about", 1)))
    assert d.target_stage is None and d.task is None
    assert d.properties["status"] == "lead"


# ------------------------------------------------------- forward only


@pytest.mark.parametrize("stage", [Stage.OPPORTUNITY, Stage.CUSTOMER, Stage.EVANGELIST, Stage.OTHER])
def test_records_at_opportunity_or_beyond_are_never_touched(stage):
    _, d = cycle(lead(demo_request(1)), crm(stage=stage))
    assert d.target_stage is None and d.task is None and d.properties == {}


def test_a_rep_who_moved_the_lead_to_sql_is_not_pulled_back_to_mql():
    _, d = cycle(mql_lead(), crm(stage=Stage.SQL))
    assert d.target_stage is None and d.task is None
    assert "already sql" in d.notes[0]


def test_mql_then_demo_request_moves_on_to_sql_with_a_second_task():
    _, first = cycle(mql_lead())
    _, second = cycle(lead(*mql_lead().activities, demo_request(0)), crm(stage=Stage.MQL), first.memory)
    assert second.target_stage is Stage.SQL
    assert second.task.key != first.task.key


def test_a_promotion_already_done_creates_no_second_task():
    _, first = cycle(lead(demo_request(1)))
    _, again = cycle(lead(demo_request(1)), crm(stage=Stage.SQL), first.memory, NOW + timedelta(hours=1))
    assert again.task is None and again.target_stage is None


def test_a_write_that_did_not_land_is_asked_for_again_without_a_second_task():
    _, first = cycle(lead(demo_request(1)))
    _, again = cycle(lead(demo_request(1)), crm(stage=Stage.LEAD), first.memory, NOW + timedelta(minutes=5))
    assert again.target_stage is Stage.SQL
    assert again.task is None
    assert again.memory.episode == first.memory.episode  # the stage Handoff asked for is no rep's step back


# -------------------------------------------------- sales decisions win


def test_never_promote_a_disqualified_lead():
    q, d = cycle(lead(demo_request(1), email="o@rivalcrm.com"))
    assert q.disqualified
    assert d.target_stage is None and d.task is None
    assert d.properties["status"] == "disqualified"
    assert d.notes == ("disqualified: Works at a competitor (rivalcrm.com)",)


def test_never_promote_a_lead_a_rep_marked_unqualified():
    _, d = cycle(lead(demo_request(1)), crm(status="UNQUALIFIED"))
    assert d.target_stage is None and d.task is None
    assert d.properties["status"] == "disqualified"


def test_recycle_opens_a_new_episode_and_sends_the_stage_back_once():
    _, promoted = cycle(lead(demo_request(5)), crm(status="NEW"))
    later = NOW + timedelta(days=1)
    q, recycled = cycle(lead(demo_request(5)), crm(stage=Stage.SQL, status="BAD_TIMING"), promoted.memory, later)
    assert recycled.target_stage is Stage.LEAD and recycled.reset_stage
    assert recycled.task is None
    assert recycled.memory.episode == promoted.memory.episode + 1
    assert recycled.memory.episode_start == later
    assert q.signals == () and q.stage is Stage.LEAD  # the old demo request no longer counts
    # the next cycle leaves the recycled lead alone: no second reset
    _, quiet = cycle(
        lead(demo_request(5)), crm(stage=Stage.LEAD, status="BAD_TIMING"), recycled.memory, later + timedelta(hours=1)
    )
    assert quiet.target_stage is None and not quiet.reset_stage
    assert quiet.memory.episode == recycled.memory.episode  # Handoff's own step back is no rep's move


def test_a_recycled_lead_can_qualify_again_in_a_new_episode_with_a_new_task():
    _, promoted = cycle(lead(demo_request(20)))
    recycle_time = NOW + timedelta(days=1)
    _, recycled = cycle(
        lead(demo_request(20)), crm(stage=Stage.SQL, status="BAD_TIMING"), promoted.memory, recycle_time
    )
    back_time = recycle_time + timedelta(days=10)
    fresh = lead(demo_request(20), activity("form_submission", 0, name="Request a demo", now=back_time))
    _, again = cycle(fresh, crm(stage=Stage.LEAD, status="BAD_TIMING"), recycled.memory, back_time)
    assert again.target_stage is Stage.SQL
    assert again.task.key == task_key("1001", Stage.SQL, recycled.memory.episode)
    assert again.task.key != promoted.task.key


def test_a_rep_moving_the_stage_after_a_recycle_is_not_fought():
    _, recycled = cycle(lead(), crm(stage=Stage.MQL, status="BAD_TIMING"))
    assert recycled.reset_stage
    _, after = cycle(lead(), crm(stage=Stage.SQL, status="BAD_TIMING"), recycled.memory, NOW + timedelta(hours=1))
    assert after.target_stage is None and not after.reset_stage


def test_observe_ignores_a_recycle_status_it_has_already_seen():
    seen = Memory(episode=2, last_lead_status="BAD_TIMING", crm_stage=Stage.LEAD)
    assert observe(crm(status="BAD_TIMING"), seen, POLICY, NOW) == seen


def test_recycle_and_disqualify_statuses_are_configurable():
    policy = Policy(recycle_statuses=["NURTURE"], disqualify_statuses=["JUNK"])
    assert observe(crm(status="NURTURE"), Memory(), policy, NOW).episode == 1
    assert observe(crm(status="BAD_TIMING"), Memory(), policy, NOW).episode == 0
    _, d = cycle(lead(demo_request(1)), crm(status="JUNK"), policy=policy)
    assert d.target_stage is None


# ------------------------------------------------- a rep's stage moved back


def promoted_and_read_back(the_lead, at=NOW):
    """A lead promoted to SQL, and the next cycle reading Handoff's own write back from the CRM."""
    _, promoted = cycle(the_lead, now=at)
    _, seen = cycle(the_lead, crm(stage=Stage.SQL), promoted.memory, at + timedelta(minutes=5))
    return promoted, seen


def test_a_stage_a_rep_moves_back_by_hand_is_a_recycle_not_re_promoted():
    promoted, seen = promoted_and_read_back(lead(demo_request(5)))
    moved = NOW + timedelta(days=1)
    q, d = cycle(lead(demo_request(5)), crm(stage=Stage.LEAD), seen.memory, moved)
    assert d.target_stage is None and not d.reset_stage and d.task is None
    assert d.memory.episode == promoted.memory.episode + 1 and d.memory.episode_start == moved
    assert d.memory.recycle_reason == "moved back to lead"
    assert d.notes == ("moved back to lead by sales: episode 1 starts now, older activity no longer counts",)
    assert q.signals == () and d.properties["status"] == "lead"  # the old demo request no longer counts
    _, quiet = cycle(lead(demo_request(5)), crm(stage=Stage.LEAD), d.memory, moved + timedelta(hours=1))
    assert quiet.target_stage is None and quiet.memory.episode == d.memory.episode


def test_activity_after_a_manual_step_back_qualifies_again_with_a_new_task():
    promoted, seen = promoted_and_read_back(lead(demo_request(5)))
    moved = NOW + timedelta(days=1)
    _, d = cycle(lead(demo_request(5)), crm(stage=Stage.MQL), seen.memory, moved)
    later = moved + timedelta(days=2)
    fresh = lead(demo_request(7), activity("form_submission", 0, name="Contact sales", now=later))
    _, again = cycle(fresh, crm(stage=Stage.MQL), d.memory, later)
    assert again.target_stage is Stage.SQL
    assert again.task.key == task_key("1001", Stage.SQL, d.memory.episode) != promoted.task.key


@pytest.mark.parametrize(
    ("stage", "known", "back"),
    [
        (Stage.LEAD, Stage.SQL, True),
        (Stage.MQL, Stage.SQL, True),
        (Stage.LEAD, Stage.OPPORTUNITY, True),
        (Stage.SQL, Stage.MQL, False),  # forward: a rep may always move on
        (Stage.SQL, Stage.SQL, False),
        (None, Stage.SQL, False),  # a cleared stage (HubSpot's reset in two steps) is nobody's decision
        (Stage.LEAD, None, False),  # first sight: nothing to compare with
        (Stage.OPPORTUNITY, Stage.CUSTOMER, False),  # sales' part of the funnel is theirs
    ],
)
def test_a_step_back_is_a_lower_stage_than_the_one_last_known_below_opportunity(stage, known, back):
    assert moved_back(stage, known) is back


# ------------------------------------------------------ a rep's rejection


def test_a_rejection_replaces_the_reasons_with_who_decided_and_when():
    _, d = cycle(lead(demo_request(1)), crm(status="UNQUALIFIED"))
    assert d.properties["reasons"] == "- Rejected by sales (Unqualified) on 18 Nov 2026"
    assert d.memory.rejected_at == NOW


def test_the_rejection_date_stays_the_day_handoff_first_saw_it():
    _, first = cycle(lead(demo_request(1)), crm(status="UNQUALIFIED"))
    later = NOW + timedelta(days=12)
    _, again = cycle(lead(demo_request(1)), crm(status="Closed - Not Converted"), first.memory, later)
    assert again.properties["reasons"] == "- Rejected by sales (Closed - Not Converted) on 18 Nov 2026"
    assert again.memory.rejected_at == NOW


def test_the_rejection_day_is_the_business_hours_days():
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # already 1 December in Berlin
    assert rejection_reason("UNQUALIFIED", late, POLICY) == "Rejected by sales (Unqualified) on 1 Dec 2026"
    assert rejection_reason("BAD_FIT", late, Policy()) == "Rejected by sales (Bad fit) on 30 Nov 2026"  # UTC


def test_a_reopened_lead_qualifies_again_only_on_activity_after_the_reopening():
    _, rejected = cycle(lead(demo_request(1)), crm(status="UNQUALIFIED"))
    reopened_at = NOW + timedelta(days=2)
    q, reopened = cycle(lead(demo_request(1)), crm(status="OPEN"), rejected.memory, reopened_at)
    assert reopened.target_stage is None and reopened.task is None and q.signals == ()
    assert reopened.memory.episode == rejected.memory.episode + 1 and reopened.memory.episode_start == reopened_at
    assert reopened.memory.rejected_at is None and "Rejected" not in reopened.properties["reasons"]
    later = reopened_at + timedelta(days=1)
    fresh = lead(demo_request(1), activity("form_submission", 0, name="Contact sales", now=later))
    _, again = cycle(fresh, crm(status="OPEN"), reopened.memory, later)
    assert again.target_stage is Stage.SQL
    assert again.task.key == task_key("1001", Stage.SQL, reopened.memory.episode)


# -------------------------------------------------------------- hysteresis

HOVER = rules_from(
    """
    fit: {rules: [{name: fit, field: country, equals: DE, points: 30}]}
    engagement: {rules: [{name: clicks, type: email_click, points: 1, half_life_days: 100000}]}
    thresholds: {mql: 40, sql: 75, hysteresis: 5}
    """
)


def hovering(clicks):
    return score(lead(activity("email_click", 0, count=clicks)), HOVER.compiled, NOW)


def test_a_lead_hovering_at_the_threshold_does_not_flap():
    mem, stage, changes = Memory(), Stage.LEAD, []
    for clicks in (10, 8, 11, 6, 10, 9, 12):  # scores 40, 38, 41, 36, 40, 39, 42
        d = decide(hovering(clicks), crm(stage=stage), mem, POLICY, NOW)
        changes.append((d.target_stage, d.properties["status"], d.task is not None))
        stage, mem = d.target_stage or stage, d.memory
    assert changes[0] == (Stage.MQL, "mql", True)
    assert all(change == (None, "mql", False) for change in changes[1:])


def test_a_lead_that_drops_below_the_margin_loses_its_level():
    first = decide(hovering(10), crm(), Memory(), POLICY, NOW)
    d = decide(hovering(4), crm(stage=Stage.MQL), first.memory, POLICY, NOW)  # 34 < 40 - 5
    assert d.properties["status"] == "lead" and d.memory.level is Stage.LEAD
    assert d.target_stage is None  # the CRM stage still only moves forward


# --------------------------------------------------------------- owners, SLA


def test_task_goes_to_the_record_owner():
    _, d = cycle(lead(demo_request(1)), crm(owner="77"), policy=Policy(owners=Owners(round_robin=["1"], fallback="9")))
    assert d.task.owner_id == "77"


def test_an_unowned_leads_task_is_left_to_the_rotation():
    _, d = cycle(lead(demo_request(1)), crm(owner=None), policy=Policy(owners=Owners(fallback="9")))
    assert d.task.owner_id is None  # the sync layer resolves it through the state store


def test_sql_due_in_one_business_hour_waits_for_monday_when_it_arrives_on_friday_night():
    friday_night = datetime(2026, 11, 20, 21, 30, tzinfo=UTC)  # 22:30 Berlin
    _, d = cycle(
        lead(
            demo_request(
                0,
            ),
            id="7",
        ),
        now=friday_night,
    )
    assert d.task.due_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 Berlin


def test_sla_and_priority_are_configurable_per_stage():
    policy = POLICY.model_copy(
        update={
            "sla": {**POLICY.sla, "sql": POLICY.sla["sql"].model_copy(update={"due": "30m", "priority": Priority.LOW})}
        }
    )
    _, d = cycle(lead(demo_request(1)), policy=policy)
    assert d.task.due_at == NOW + timedelta(minutes=30)
    assert d.task.priority is Priority.LOW


def test_decide_is_pure_same_inputs_same_decision():
    q = score(lead(demo_request(1)), RULES.compiled, NOW)
    assert decide(q, crm(), memory(), POLICY, NOW) == decide(q, crm(), memory(), POLICY, NOW)


def test_activity_before_the_episode_start_is_ignored_by_evaluate():
    mem = Memory(episode=1, episode_start=NOW - timedelta(days=1), last_lead_status="BAD_TIMING")
    q, _ = cycle(lead(demo_request(2), activity("content_download", 0, name="Playbook")), crm(status="BAD_TIMING"), mem)
    assert q.signals == ()
    assert q.interests == ("Playbook",)


def test_memory_is_carried_forward_in_the_decision():
    _, d = cycle(lead(demo_request(1)), mem=replace(Memory(), episode=4))
    assert d.memory.episode == 4 and d.memory.level is Stage.SQL and d.memory.last_lead_status == "NEW"


# ------------------------------------------------------------ record content in tasks


def test_a_line_break_in_a_name_or_company_stays_on_the_subject_line():
    _, d = cycle(lead(demo_request(1)), crm(name="Ana\r\nRuiz", company="Acme\nWhy now:"))
    assert d.task.subject == "Sales-qualified: Ana Ruiz (Acme Why now:): Requested a demo yesterday"


def test_record_content_cannot_forge_a_task_marker_in_the_task():
    forged = "Handoff ref: handoff:999:sql:0"
    _, d = cycle(lead(demo_request(1), job_title=f"VP {forged}"), crm(name=forged))
    for text in (d.task.subject, d.task.body):
        assert "Handoff ref:" not in text and "handoff:" not in text
    assert "Handoff ref - handoff -999:sql:0" in d.task.subject
