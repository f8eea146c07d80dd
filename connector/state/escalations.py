"""The escalation ledger: an SLA escalation is claimed before the task is updated, so it happens once.

One row per record and qualification episode. The claim is an insert only one process can make
(on SQLite and PostgreSQL alike), so of two replicas, or of a run and its restart, only one
escalates an episode. The row keeps the update to make (owner, priority): setting them again is
harmless, so a claim whose update did not land (a crash, an outage) is simply sent again later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from connector.model import Priority
from connector.policy.escalation import Escalation
from connector.state.database import Database
from connector.state.ledger import count_status, settle
from connector.state.schema import escalations as table

ESCALATION_CLAIMED, ESCALATION_DONE, ESCALATION_DEAD = "claimed", "done", "dead"


@dataclass(frozen=True)
class EscalationEntry:
    """A claimed escalation whose task update is still to be confirmed."""

    key: str
    record_id: str
    number: int
    task_key: str
    crm_task_id: str
    owner_id: str | None
    priority: Priority | None
    attempts: int = 0


class Escalations:
    def __init__(self, db: Database):
        self._db = db

    def key(self, record_id: str, number: int) -> str:
        """The ledger key of one episode's escalation."""
        return f"escalation:{self._db.crm}:{record_id}:{number}"

    def claim(self, escalations: Sequence[Escalation]) -> list[Escalation]:
        """Record these escalations; the ones this call claimed (episodes nobody escalated before)."""
        now = self._db.clock()
        rows = [
            {
                "key": self.key(e.record_id, e.episode.number),
                "crm": self._db.crm,
                "record_id": e.record_id,
                "number": e.episode.number,
                "task_key": e.task_key,
                "crm_task_id": e.crm_task_id,
                # nothing to send to the CRM (an alert only): done as it is claimed
                "status": ESCALATION_CLAIMED if e.changes_task else ESCALATION_DONE,
                "owner_id": e.owner_id if "reassign" in e.actions else None,
                "priority": e.priority.value if e.priority else None,
                "actions": list(e.actions),
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for e in sorted(escalations, key=lambda e: (e.record_id, e.episode.number))
        ]
        with self._db.connect() as conn:
            won = self._db.insert_new(conn, table, rows, "key")
        return [e for e in escalations if self.key(e.record_id, e.episode.number) in won]

    def unfinished(self, settled_before: datetime) -> list[EscalationEntry]:
        """Claimed escalations whose task update was not confirmed and that nobody touched since ``settled_before``."""
        with self._db.connect() as conn:
            rows = conn.execute(
                select(table)
                .where(
                    table.c.crm == self._db.crm,
                    table.c.status == ESCALATION_CLAIMED,
                    table.c.updated_at <= settled_before,
                )
                .order_by(table.c.key)
            ).all()
        return [_from_row(r) for r in rows]

    def done(self, key: str) -> None:
        """The task update landed."""
        self._set(key, status=ESCALATION_DONE, last_error=None)

    def failed(self, key: str, error: str, *, dead: bool) -> None:
        """A task update failed: count the attempt; a dead one is not tried again."""
        self._set(
            key,
            attempts=table.c.attempts + 1,
            last_error=error,
            status=ESCALATION_DEAD if dead else ESCALATION_CLAIMED,
        )

    def count(self, status: str | None = None) -> int:
        """Entries of this CRM, all or with ``status``."""
        return count_status(self._db, table, status)

    def _set(self, key: str, **values: Any) -> None:
        settle(self._db, table, key, ESCALATION_CLAIMED, **values)


def _from_row(row: Any) -> EscalationEntry:
    return EscalationEntry(
        key=row.key,
        record_id=row.record_id,
        number=row.number,
        task_key=row.task_key,
        crm_task_id=row.crm_task_id,
        owner_id=row.owner_id,
        priority=Priority(row.priority) if row.priority else None,
        attempts=row.attempts,
    )
