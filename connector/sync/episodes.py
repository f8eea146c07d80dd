"""Episodes from the sync's own decisions: a qualification opens one, a rep's recycle or rejection ends it.

Pure: a planned record and the record's open episode in, the episodes to save out. Outcomes read
from the CRM afterwards (deals, wins) are folded in by ``connector.outcomes.apply``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from connector.model import Stage, parse_time
from connector.outcomes.episode import Episode
from connector.policy.lifecycle import DISQUALIFIED
from connector.policy.shadow import shadow_verdict
from connector.sync.sink import Planned


def episode_changes(planned: Planned, current: Episode | None, now: datetime) -> list[Episode]:
    """The episodes this planned record opens, updates or ends (empty when nothing changes).

    ``current`` is the record's open episode. A recycle (the policy opened a new memory episode:
    a recycle status or a stage a rep moved back) or a rep's rejection ends it; a promotion to MQL
    or SQL opens the next one, or adds ``sql_at`` to an open MQL episode of the same qualification.
    """
    changed: list[Episode] = []
    status = planned.state.crm_state.lead_status
    if current is not None and planned.state.memory.episode > planned.before.episode:
        # a recycle status, a stage moved back by hand, or a reopening that found an episode open
        current = replace(current, recycled_at=now, sales_reason=planned.state.memory.recycle_reason or status)
        changed.append(current)
        current = None
    elif current is not None and _rejected_by_rep(planned) and current.rejected_at is None:
        current = replace(current, rejected_at=now, sales_reason=status)
        changed.append(current)
        current = None
    task = planned.decision.task
    if task is None or task.stage not in (Stage.MQL, Stage.SQL):
        return changed
    number = planned.state.memory.episode + 1
    # the time written to the CRM as mql_at / sql_at, so the episode and the record agree
    at = _time(planned.decision.properties.get(f"{task.stage.value}_at")) or now
    if current is not None and current.number == number:
        if task.stage is Stage.SQL and current.sql_at is None:
            changed.append(replace(current, sql_at=at))
        return changed
    changed.append(_opened(planned, number, task.stage, at))
    return changed


def _rejected_by_rep(planned: Planned) -> bool:
    # the policy writes "disqualified" both for its own disqualifiers and for a rep's rejection
    return planned.decision.properties.get("status") == DISQUALIFIED and not planned.qualification.disqualified


def _opened(planned: Planned, number: int, stage: Stage, now: datetime) -> Episode:
    q, task = planned.qualification, planned.decision.task
    assert task is not None
    written = planned.decision.properties.get("reasons") or ""
    shadow_score, shadow_level = shadow_verdict(planned.decision.properties)
    return Episode(
        record_id=planned.state.record_id,
        number=number,
        # the record's cohort time: the CRM's creation time, else when Handoff first saw it (as the lead counts)
        created_at=planned.state.created_at,
        mql_at=now if stage is Stage.MQL else None,
        sql_at=now if stage is Stage.SQL else None,
        score=q.score,
        fit=q.fit,
        grade=q.grade,
        rules_version=q.rules_version,
        reasons=tuple(line.removeprefix("- ") for line in written.splitlines() if line.strip()),
        rules_fired=q.rules_fired,
        task_key=task.key,
        owner_id=task.owner_id,
        task_due_at=task.due_at,
        sla_minutes=max(0, round((task.due_at - now).total_seconds() / 60)),
        shadow_score=shadow_score,
        shadow_level=shadow_level,
    )


def _time(raw: object) -> datetime | None:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo is not None else None
    if isinstance(raw, str):
        try:
            return parse_time(raw)
        except ValueError:
            return None
    return None
