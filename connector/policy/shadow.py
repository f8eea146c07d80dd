"""Shadow mode: a candidate rules file scored beside the live one, seen only in two properties.

Pure. The candidate's verdict is written to the shadow score and shadow status properties and
nothing else: stages, tasks and Handoff's memory follow the live rules alone. The shadow level is
the candidate's plain verdict on the lead as it is now (no hysteresis, no memory of earlier
levels), so it shows what the candidate would say, not what it would have done over time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from connector.model import Decision, Qualification, Stage
from connector.policy.lifecycle import DISQUALIFIED

SHADOW_SCORE = "shadow_score"
SHADOW_STATUS = "shadow_status"


def shadow_properties(candidate: Qualification) -> dict[str, str | None]:
    """The shadow properties for the candidate rules' qualification of a lead."""
    status = DISQUALIFIED if candidate.disqualified else candidate.stage.value
    return {SHADOW_SCORE: str(candidate.score), SHADOW_STATUS: status}


def with_shadow(decision: Decision, candidate: Qualification) -> Decision:
    """``decision`` that also writes the candidate's score and level; its stage, task and memory unchanged."""
    return replace(decision, properties={**decision.properties, **shadow_properties(candidate)})


def shadow_verdict(properties: Mapping[str, str | None]) -> tuple[int | None, Stage | None]:
    """The shadow score and level a decision's properties carry (None, None outside shadow mode).

    A disqualified lead's shadow level is ``lead``: the candidate would not qualify it.
    """
    raw_score, status = properties.get(SHADOW_SCORE), properties.get(SHADOW_STATUS)
    if raw_score is None or status is None:
        return None, None
    level = Stage.LEAD if status == DISQUALIFIED else Stage(status)
    return int(raw_score), level
