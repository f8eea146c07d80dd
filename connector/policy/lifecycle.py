"""The lifecycle policy: from a qualification and what the CRM says to what Handoff should do.

Pure: data and a clock in, a Decision out. The rules it keeps are the ones
that make sales trust the tool: stages only move forward, a rep's recycle or
rejection wins, a lead near a threshold does not flap, and each qualification
gets exactly one task.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector.model import (
    CrmState,
    Decision,
    Lead,
    Memory,
    Priority,
    Qualification,
    Stage,
    TaskSpec,
    format_time,
)
from connector.policy.acceptance import Acceptance
from connector.policy.business_time import BusinessHours, Duration, add_duration
from connector.policy.escalation import Escalate
from connector.policy.routing import Owners
from connector.scoring.engine import CompiledRules, Scored, score_in_full
from connector.scoring.phrases import day_label, join_words, quoted, status_label

#: Properties Handoff writes, by canonical key. Adapters map them to CRM field names.
PROPERTY_KEYS = (
    "score",
    "fit_grade",
    "fit_score",
    "engagement_score",
    "status",
    "reasons",
    "missing_info",
    "rules_version",
    "mql_at",
    "sql_at",
)
DISQUALIFIED = "disqualified"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sla(_Strict):
    """How fast a rep must act on a newly qualified lead."""

    due: str = Field("1bh", description="e.g. 30m, 1h, 1bh (business hour), 1bd (business day)")
    priority: Priority = Priority.HIGH
    escalate: Escalate | None = Field(None, description="what to do when the task stays untouched past due")

    @field_validator("due")
    @classmethod
    def _duration(cls, value: str) -> str:
        Duration.parse(value)
        return value


_DEFAULT_SLAS: dict[Literal["mql", "sql"], Sla] = {
    "mql": Sla(due="1bd", priority=Priority.MEDIUM),
    "sql": Sla(due="1bh", priority=Priority.HIGH),
}


class Policy(_Strict):
    """The handoff agreement between marketing and sales."""

    recycle_statuses: list[str] = Field(
        default_factory=lambda: ["BAD_TIMING", "Recycled"],
        description="lead-status values meaning: sales bounced this lead back to nurture",
    )
    disqualify_statuses: list[str] = Field(
        default_factory=lambda: ["UNQUALIFIED", "Closed - Not Converted"],
        description="lead-status values meaning: sales rejected this lead",
    )
    recycle_to: Literal["subscriber", "lead"] = "lead"
    sla: dict[Literal["mql", "sql"], Sla] = Field(default_factory=lambda: dict(_DEFAULT_SLAS))
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    owners: Owners = Field(default_factory=Owners)
    acceptance: Acceptance = Field(default_factory=Acceptance)
    reasons_written: int = Field(5, ge=1, description="reasons written to the CRM record")
    reasons_in_task: int = Field(3, ge=1, description="reasons in the rep's task body")


def observe(crm: CrmState, memory: Memory, policy: Policy, now: datetime) -> Memory:
    """Fold what sales did since the last cycle into memory.

    Three decisions of a rep open a new episode, in which only activity from
    ``now`` on counts: a lead status that newly becomes a recycle value (the
    stage is then to be reset once), a rejected lead reopened (its status no
    longer a disqualify value), and a stage moved back by hand (below the stage
    Handoff last read or wrote; the rep already set it, so nothing is reset).
    A rejection is remembered from when it was first seen.
    """
    status = crm.lead_status
    if status in policy.recycle_statuses and status != memory.last_lead_status:
        memory = _new_episode(memory, now, reason=status, reset=True)
    elif memory.last_lead_status in policy.disqualify_statuses and status not in policy.disqualify_statuses:
        memory = _new_episode(memory, now, reason=None, reset=False)
    elif moved_back(crm.stage, memory.crm_stage):
        assert crm.stage is not None
        memory = _new_episode(memory, now, reason=f"moved back to {crm.stage.value}", reset=False)
    rejected_at = (memory.rejected_at or now) if status in policy.disqualify_statuses else None
    if (memory.last_lead_status, memory.crm_stage, memory.rejected_at) == (status, crm.stage, rejected_at):
        return memory  # most records, re-scored by the sweep: nothing new to fold in (``replace`` is costly)
    return replace(memory, last_lead_status=status, crm_stage=crm.stage, rejected_at=rejected_at)


def moved_back(stage: Stage | None, known: Stage | None) -> bool:
    """Whether the CRM's stage is now below the one Handoff last knew, back in Handoff's part of the funnel."""
    return stage is not None and known is not None and stage < known and stage < Stage.OPPORTUNITY


def _new_episode(memory: Memory, now: datetime, reason: str | None, reset: bool) -> Memory:
    return Memory(
        episode=memory.episode + 1,
        episode_start=now,
        level=Stage.LEAD,
        promoted=None,
        last_lead_status=memory.last_lead_status,
        reset_pending=reset,
        crm_stage=memory.crm_stage,
        recycle_reason=reason,
    )


def episode_lead(lead: Lead, memory: Memory) -> Lead:
    """The lead with only the activity of the current episode."""
    if memory.episode_start is None:
        return lead
    start = memory.episode_start
    return replace(lead, activities=tuple(a for a in lead.activities if a.at >= start))


def evaluate(
    lead: Lead, crm: CrmState, memory: Memory, rules: CompiledRules, policy: Policy, now: datetime
) -> tuple[Qualification, Decision]:
    """Observe, score the current episode, decide: the whole pure pipeline for one record."""
    scored, decision = evaluate_in_full(lead, crm, memory, rules, policy, now)
    return scored.qualification, decision


def evaluate_in_full(
    lead: Lead, crm: CrmState, memory: Memory, rules: CompiledRules, policy: Policy, now: datetime
) -> tuple[Scored, Decision]:
    """``evaluate``, with the sums behind the qualification (the decay sweep's drift reads them)."""
    memory = observe(crm, memory, policy, now)
    scored = score_in_full(episode_lead(lead, memory), rules, now)
    return scored, decide(scored.qualification, crm, memory, policy, now)


def held_level(qualification: Qualification, previous: Stage) -> Stage:
    """The level after hysteresis: a lead keeps its level until it drops below the margin."""
    if qualification.disqualified:
        return Stage.LEAD
    if qualification.stage >= previous:
        return qualification.stage
    return max(qualification.stage, min(previous, qualification.hold_stage))


def decide(qualification: Qualification, crm: CrmState, memory: Memory, policy: Policy, now: datetime) -> Decision:
    """What to write for one record: the target stage, properties and at most one task."""
    record_id = qualification.id
    if crm.stage is not None and crm.stage >= Stage.OPPORTUNITY:
        return Decision(
            record_id,
            None,
            False,
            {},
            None,
            replace(memory, reset_pending=False),
            (f"at {crm.stage.value}: sales owns this record, Handoff leaves it alone",),
        )

    level = held_level(qualification, memory.level)
    rep_rejected = crm.lead_status in policy.disqualify_statuses
    notes: list[str] = []
    if memory.recycle_reason and memory.episode_start == now and not memory.reset_pending:
        # a rep's step back, seen just now (a recycle status has its own note below)
        notes.append(
            f"{memory.recycle_reason} by sales: episode {memory.episode} starts now, older activity no longer counts"
        )
    target: Stage | None = None
    reset = False
    task: TaskSpec | None = None
    promoted = memory.promoted
    properties = _score_properties(qualification, level, rep_rejected, policy.reasons_written)
    if rep_rejected:
        # the reasons to qualify no longer stand beside a rep's "no": say who decided, and when
        properties["reasons"] = f"- {rejection_reason(crm.lead_status, memory.rejected_at or now, policy)}"

    if memory.reset_pending:
        recycle_stage = Stage(policy.recycle_to)
        if crm.stage is not None and crm.stage > recycle_stage:
            target, reset = recycle_stage, True
        notes.append(
            f"recycled by sales ({quoted(crm.lead_status)}): back to {policy.recycle_to}, episode {memory.episode}"
        )
    elif qualification.disqualified:
        notes.append(f"disqualified: {qualification.disqualified_reason}")
    elif rep_rejected:
        notes.append(f"marked {quoted(crm.lead_status)} by sales: never promoted")
    elif level in (Stage.MQL, Stage.SQL):
        if crm.stage is None or crm.stage < level:
            target = level
            if promoted is None or promoted < level:
                task = build_task(qualification, crm, memory, policy, level, now)
                properties[f"{level.value}_at"] = format_time(now)
        else:
            notes.append(f"already {crm.stage.value} in the CRM: no promotion")
        if promoted is None or promoted < level:
            promoted = level

    new_memory = _remembered(memory, level, promoted)
    if reset:
        # Handoff's own step back: the lower stage read next is no rep's move (should the write
        # fail, the CRM keeps the higher stage, which is no step back either)
        new_memory = replace(new_memory, crm_stage=target)
    return Decision(record_id, target, reset, properties, task, new_memory, tuple(notes))


def _remembered(memory: Memory, level: Stage, promoted: Stage | None) -> Memory:
    """``memory`` with this level and promotion and no reset pending; itself when it holds them already."""
    if memory.level is level and memory.promoted is promoted and not memory.reset_pending:
        return memory
    return replace(memory, level=level, promoted=promoted, reset_pending=False)


def rejection_reason(status: str | None, at: datetime, policy: Policy) -> str:
    """``Rejected by sales (Unqualified) on 30 Nov 2026``: the day in the business-hours time zone."""
    day = at.astimezone(ZoneInfo(policy.business_hours.timezone))
    return f"Rejected by sales ({status_label(status)}) on {day_label(day)}"


def _score_properties(q: Qualification, level: Stage, rejected: bool, reasons: int) -> dict[str, str | None]:
    status = DISQUALIFIED if q.disqualified or rejected else level.value
    return {
        "score": str(q.score),
        "fit_grade": q.grade,
        "fit_score": str(q.fit),
        "engagement_score": str(q.engagement),
        "status": status,
        "reasons": "\n".join([f"- {r.text}" for r in q.reasons[:reasons]]),  # a list joins faster than a generator
        "missing_info": ", ".join(q.missing),
        "rules_version": q.rules_version,
    }


def task_key(record_id: str, stage: Stage, episode: int) -> str:
    """The idempotency key: one task per record, stage and qualification episode."""
    return f"handoff:{record_id}:{stage.value}:{episode}"


def task_record(key: str) -> str | None:
    """The record a ``task_key`` was made for; None for any other text."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != "handoff" or not parts[1]:
        return None
    return parts[1]


def build_task(
    q: Qualification, crm: CrmState, memory: Memory, policy: Policy, stage: Stage, now: datetime
) -> TaskSpec:
    """The rep's task: who, by when, and a body that says why now and what to ask."""
    sla = policy.sla["sql" if stage is Stage.SQL else "mql"]
    due = add_duration(now, Duration.parse(sla.due), policy.business_hours)
    who = quoted(crm.name) or f"Lead {quoted(q.id)}"
    if company := quoted(crm.company):
        who += f" ({company})"
    label = "Sales-qualified" if stage is Stage.SQL else "Marketing-qualified"
    top = q.reasons[0].text if q.reasons else f"score {q.score}"
    lines = ["Why now:"]
    lines += [f"- {r.text}" for r in q.reasons[: policy.reasons_in_task]]
    if q.interests:
        lines.append("Engaged with: " + ", ".join(q.interests))
    if q.missing:
        lines.append(f"Still unknown: {join_words(list(q.missing))}. Ask about it on the first call.")
    lines.append(f"Score {q.score}, fit grade {q.grade}, rules {q.rules_version}.")
    return TaskSpec(
        key=task_key(q.id, stage, memory.episode),
        record_id=q.id,
        stage=stage,
        # no owner: the sync layer gives the task a turn in the rotation (connector.policy.routing)
        owner_id=crm.owner_id,
        subject=f"{label}: {who}: {top}"[:250],
        body="\n".join(lines),
        due_at=due,
        priority=sla.priority,
    )
