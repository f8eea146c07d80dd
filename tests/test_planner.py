"""The planner writes only what changed, and nothing for decay noise."""

from __future__ import annotations

from builders import NOW, crm, default_rules, demo_request, lead

from connector.model import Decision, Memory, Stage
from connector.policy.lifecycle import evaluate
from connector.policy.planner import after_write, plan_record

RULES = default_rules()


def decision(**properties):
    base = {
        "score": "60",
        "fit_grade": "A",
        "fit_score": "45",
        "engagement_score": "15",
        "status": "mql",
        "reasons": "- Attended a webinar 2 days ago",
        "missing_info": "budget",
        "rules_version": "v1",
    }
    return Decision("1", None, False, {**base, **properties}, None, Memory())


def test_first_write_sends_every_property():
    plan = plan_record(decision(), {}, step=5, task_done=False)
    assert set(plan.properties) == {
        "score",
        "fit_grade",
        "fit_score",
        "engagement_score",
        "status",
        "reasons",
        "missing_info",
        "rules_version",
    }


def test_nothing_changed_means_an_empty_plan():
    d = decision()
    plan = plan_record(d, dict(d.properties), step=5, task_done=False)
    assert plan.is_empty


def test_decay_below_the_reporting_step_writes_nothing():
    written = dict(decision().properties)
    plan = plan_record(
        decision(score="57", engagement_score="12", reasons="- Attended a webinar 3 days ago"),
        written,
        step=5,
        task_done=False,
    )
    assert plan.is_empty


def test_a_score_moving_past_the_step_writes_the_changed_values():
    written = dict(decision().properties)
    plan = plan_record(
        decision(score="55", reasons="- Attended a webinar 9 days ago"), written, step=5, task_done=False
    )
    assert plan.properties == {"score": "55", "reasons": "- Attended a webinar 9 days ago"}


def test_a_grade_or_status_change_is_always_written():
    written = dict(decision().properties)
    assert plan_record(decision(status="sql"), written, 5, False).properties == {"status": "sql"}
    assert plan_record(decision(fit_grade="B"), written, 5, False).properties == {"fit_grade": "B"}


def test_a_promotion_carries_the_stage_and_the_task_until_the_task_exists():
    _, d = evaluate(lead(demo_request(1)), crm(), Memory(), RULES.compiled, RULES.policy, NOW)
    plan = plan_record(d, {}, 5, task_done=False)
    assert plan.stage is Stage.SQL and plan.task is d.task
    assert plan_record(d, {}, 5, task_done=True).task is None


def test_after_write_remembers_values_and_stage():
    plan = plan_record(Decision("1", Stage.SQL, False, {"score": "80"}, None, Memory()), {"score": "70"}, 5, False)
    assert after_write({"score": "70", "status": "mql"}, plan) == {"score": "80", "status": "mql", "stage": "sql"}
