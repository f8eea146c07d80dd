"""Shadow mode's pure part: the candidate's verdict goes into two properties and nowhere else."""

from __future__ import annotations

from datetime import UTC, datetime

from builders import DEFAULT_RULES

from connector.config.ruleset import load_rules
from connector.model import CrmState, Lead, Memory, Stage
from connector.policy.lifecycle import evaluate
from connector.policy.planner import plan_record
from connector.policy.shadow import shadow_properties, shadow_verdict, with_shadow
from connector.scoring.engine import score

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
RULES = load_rules(DEFAULT_RULES)


def verdicts(**properties):
    lead = Lead("1", {"email": "ana@acme.io", "job_title": "VP Sales", **properties})
    return evaluate(lead, CrmState(stage=Stage.LEAD), Memory(), RULES.compiled, RULES.policy, NOW)[1], score(
        lead, RULES.compiled, NOW
    )


def test_the_candidates_verdict_adds_two_properties_and_changes_nothing_else():
    decision, candidate = verdicts()
    shadowed = with_shadow(decision, candidate)
    assert shadowed.properties == {
        **decision.properties,
        "shadow_score": str(candidate.score),
        "shadow_status": candidate.stage.value,
    }
    assert (shadowed.target_stage, shadowed.task, shadowed.memory) == (
        decision.target_stage,
        decision.task,
        decision.memory,
    )


def test_a_disqualified_lead_is_disqualified_in_the_shadow_status_and_a_lead_in_the_episode():
    _, candidate = verdicts(job_title="Student")
    assert shadow_properties(candidate)["shadow_status"] == "disqualified"
    assert shadow_verdict(shadow_properties(candidate)) == (candidate.score, Stage.LEAD)


def test_outside_shadow_mode_there_is_no_shadow_verdict():
    decision, _ = verdicts()
    assert shadow_verdict(decision.properties) == (None, None)


def test_a_shadow_score_drifting_less_than_the_step_writes_nothing():
    decision, candidate = verdicts()
    shadowed = with_shadow(decision, candidate)
    written = {**shadowed.properties, "shadow_score": str(candidate.score + 3)}
    assert plan_record(shadowed, written, step=5, task_done=True).properties == {}
