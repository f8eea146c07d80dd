"""Sales touches seen on the records the sync reads, folded into their episodes.

Pure: a planned record and its episode in, the episode with the touch out. A logged call or meeting
and a lead status moved to a working value come with the record (its activities and state), so
recording them costs no call; Handoff's completed tasks come with the outcome read instead.
"""

from __future__ import annotations

from datetime import datetime

from connector.outcomes.apply import apply_outcomes
from connector.outcomes.episode import Episode
from connector.policy.acceptance import Acceptance, sales_touches
from connector.sync.sink import Planned


def touched_episode(planned: Planned, episode: Episode | None, acceptance: Acceptance, now: datetime) -> Episode | None:
    """``episode`` with the touches ``planned`` shows; None when there is no episode or nothing changes."""
    if episode is None:
        return None
    state = planned.state
    events = sales_touches(
        state.record_id,
        state.lead.activities,
        planned.before.last_lead_status,
        state.crm_state.lead_status,
        state.modified_at or now,
        acceptance,
    )
    updated = apply_outcomes(episode, events)
    return updated if updated != episode else None
