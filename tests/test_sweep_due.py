"""Sweep due times: a record not due has nothing to plan, whatever time before its due time it is re-scored."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from builders import NOW, activity, crm, default_rules, demo_request, lead, memories, page_view, rules_from
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.config.ruleset import Ruleset
from connector.model import Activity, CrmState, Decision, Lead, Memory, Stage
from connector.policy.lifecycle import episode_lead, evaluate_in_full
from connector.policy.planner import RecordPlan, after_write, plan_record
from connector.policy.steady import NEVER, steady_until
from connector.scoring.drift import drift

RULES = default_rules()
#: the default rules without a floor, with an uncapped, fast-decaying negative and a scorecard count:
#: totals may rise with time and go below zero, and a count leaving its window moves points
ODD_RULES = rules_from(
    """
    version: odd-1
    fit:
      rules:
        - {name: vp, field: job_title, matches: '\\bvp\\b', points: 30}
        - {name: size, field: company_size, min: 50, points: 15}
    engagement:
      half_life_days: 10
      cap: 60
      rules:
        - {name: pages, type: page_view, points: 3, cap: 20}
        - {name: forms, type: form_submission, points: 12}
        - {name: clicks, type: email_click, points: 2, half_life_days: 3}
    signals:
      - {name: demo, type: form_submission, name_matches: demo, within_days: 5}
    negative:
      - {name: careers, type: page_view, url_contains: /careers, points: -8, half_life_days: 2}
    scorecard:
      - {name: busy_week, type: page_view, min_count: 3, within_days: 3, points: 7}
      - {name: quiet, type: email_open, max_count: 0, within_days: 4, points: -6}
    thresholds: {mql: 30, sql: 60, mql_min_engagement: 4, hysteresis: 3}
    """
)

TYPES = (
    "page_view",
    "email_open",
    "email_click",
    "form_submission",
    "site_visit",
    "content_download",
    "trial_signup",
    "meeting_booked",
    "cart_add",
    "chat",
    "unsubscribe",
)
PATHS = ("/pricing", "/product", "/careers", "/blog/x", None)
NAMES = ("Request a demo", "Contact sales", "Whitepaper", None)
TITLES = ("VP Sales", "Head of RevOps", "CTO", "Student", "Assistant", "Engineer", None)
EMAILS = ("ana@acme.io", "ana@gmail.com", "ana@uni.edu", "ana@rivalcrm.com")
STATUSES = (None, "NEW", "IN_PROGRESS", "BAD_TIMING", "UNQUALIFIED")
STAGES = (None, Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Swept:
    """One record scored as the sweep scores it, and how it stands once its plan landed."""

    plan: RecordPlan
    decision: Decision
    written: dict[str, str | None]
    crm: CrmState
    memory: Memory
    due: datetime | None


def sweep_once(
    rules: Ruleset,
    the_lead: Lead,
    state: CrmState,
    remembered: Memory,
    written: dict[str, str | None],
    step: int,
    at: datetime,
    task_done: bool = False,
) -> Swept:
    """What ``Sync`` does with one stored record at ``at``, and the state its writer leaves when the write lands."""
    scored, d = evaluate_in_full(the_lead, state, remembered, rules.compiled, rules.policy, at)
    q = scored.qualification
    plan = plan_record(d, written, step, task_done=task_done)
    landed = after_write(written, plan)
    moves = drift(episode_lead(the_lead, d.memory), rules.compiled, scored, at.timestamp())
    due = steady_until(q, d, remembered, landed, moves, rules.compiled.source.thresholds, step, at)
    if plan.stage is not None:  # the CRM now holds the stage Handoff wrote (CrmWriter._push)
        state = replace(state, stage=plan.stage)
        return Swept(plan, d, landed, state, replace(d.memory, crm_stage=plan.stage), due)
    return Swept(plan, d, landed, state, d.memory, due)


def _activities(draw: st.DrawFn, latest: datetime) -> tuple[Activity, ...]:
    found = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(TYPES))
        # mostly recent: windows of days and weeks are where results move
        days = draw(st.floats(0, 6) | st.floats(0, 40) | st.floats(0, 400))
        url = draw(st.sampled_from(PATHS)) if kind == "page_view" else None
        name = draw(st.sampled_from(NAMES)) if kind in ("form_submission", "chat", "content_download") else None
        found.append(
            activity(
                kind,
                days,
                count=draw(st.integers(1, 3)),
                url=f"https://vendor.example{url}" if url else None,
                name=name,
                now=latest,
            )
        )
    return tuple(sorted(found, key=lambda a: a.at))


@st.composite
def stored_records(draw: st.DrawFn) -> tuple[Ruleset, Lead, CrmState, Memory, dict[str, str | None], int, datetime]:
    """A record as a sync or sweep left it some time ago, and a sweep time ``at`` later."""
    rules = draw(st.sampled_from((RULES, ODD_RULES)))
    at = NOW + draw(st.floats(0, 30)) * DAY
    earlier = at - draw(st.floats(0, 60)) * DAY
    properties = {
        "job_title": draw(st.sampled_from(TITLES)),
        "email": draw(st.sampled_from(EMAILS)),
        "company_size": draw(st.sampled_from((5, 250, 5000))),
    }
    the_lead = lead(*_activities(draw, at), **properties)
    state = crm(stage=draw(st.sampled_from(STAGES)), status=draw(st.sampled_from(STATUSES)))
    remembered = draw(memories(st.just(earlier - 10 * DAY), st.sampled_from(STATUSES)))
    step = draw(st.sampled_from((1, 5, 10)))
    # what the CRM has from us: nothing yet, or what an earlier run wrote (with the activity it saw then)
    written: dict[str, str | None] = {}
    if draw(st.booleans()):
        seen = replace(the_lead, activities=tuple(a for a in the_lead.activities if a.at <= earlier))
        before = sweep_once(rules, seen, state, remembered, {}, step, earlier)
        written, state, remembered = before.written, before.crm, before.memory
    return rules, the_lead, state, remembered, written, step, at


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stored_records(), st.floats(0, 1), st.booleans())
def test_a_record_rescored_before_its_due_time_plans_nothing(stored, fraction, at_due) -> None:
    rules, the_lead, state, remembered, written, step, at = stored
    first = sweep_once(rules, the_lead, state, remembered, written, step, at)
    if first.due is None:
        return  # due at every sweep: nothing is promised
    assert first.due > at
    horizon = min(first.due, at + 1000 * DAY)
    later = horizon if at_due else at + (horizon - at) * fraction
    again = sweep_once(rules, the_lead, first.crm, first.memory, first.written, step, later, task_done=True)
    assert again.plan.is_empty, (later - at, again.plan)
    assert again.decision.memory == first.memory


def test_a_typical_lead_is_not_due_again_for_days() -> None:
    stored = lead(
        activity("content_download", 3, name="Playbook"),
        activity("email_click", 10),
        page_view("/product", 20),
        job_title="Engineer",
    )
    first = sweep_once(RULES, stored, crm(), Memory(), {}, 5, NOW)
    assert first.due is not None and first.due - NOW > 2 * DAY
    # and re-scored at its due time, something does move: the time is not far too early
    moved = sweep_once(RULES, stored, first.crm, first.memory, first.written, 5, first.due + 2 * DAY, True)
    assert moved.decision.properties["score"] != first.decision.properties["score"]


def test_a_signal_leaving_its_window_makes_the_record_due_by_then() -> None:
    stored = lead(demo_request(days_ago=28))
    first = sweep_once(RULES, stored, crm(), Memory(), {}, 5, NOW)
    assert first.decision.properties["status"] == "sql"
    assert first.due is not None and first.due <= NOW + 2 * DAY  # the 30-day window ends in two days


@pytest.mark.parametrize("stage", [Stage.OPPORTUNITY, Stage.CUSTOMER])
def test_a_record_sales_owns_is_never_due(stage: Stage) -> None:
    first = sweep_once(RULES, lead(demo_request(1)), crm(stage=stage), Memory(), {}, 5, NOW)
    assert first.due == NEVER


def test_a_written_score_that_is_no_number_leaves_the_record_due() -> None:
    first = sweep_once(RULES, lead(demo_request(1)), crm(), Memory(), {}, 5, NOW)
    scored, d = evaluate_in_full(lead(demo_request(1)), crm(), Memory(), RULES.compiled, RULES.policy, NOW)
    q = scored.qualification
    moves = drift(lead(demo_request(1)), RULES.compiled, scored, NOW.timestamp())
    assert first.due is not None
    assert (
        steady_until(q, d, Memory(), {**first.written, "score": "n/a"}, moves, RULES.compiled.source.thresholds, 5, NOW)
        is None
    )
