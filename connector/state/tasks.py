"""The task ledger: a task is claimed before the CRM call that creates it, and confirmed after.

A claim decides which process may create a task, atomically, on SQLite and on
PostgreSQL: the first claim is an insert that only one process can make, and a
later claim (taking over an intent another run left open, or renewing one's own
right before the create call) is an update that expects the claim count it read.
Of several processes trying at once, exactly one is told it holds the claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import func, select, update

from connector.model import TaskSpec
from connector.state.codec import task_from_json, task_to_json
from connector.state.database import Database, chunks, utc
from connector.state.ledger import CREATED, DEAD, INTENT, count_status, record_failure
from connector.state.schema import tasks as table

TASK_INTENT, TASK_CREATED, TASK_DEAD = INTENT, CREATED, DEAD


@dataclass(frozen=True)
class TaskEntry:
    key: str
    record_id: str
    status: str  # intent | created | dead
    spec: TaskSpec
    updated_at: datetime
    crm_task_id: str | None = None
    attempts: int = 0
    last_error: str | None = None
    claims: int = 0


@dataclass(frozen=True)
class Waiting:
    """Intents not confirmed yet: how many, and the oldest moment one of them was claimed or failed."""

    count: int = 0
    oldest: datetime | None = None


class TaskLedger:
    def __init__(self, db: Database):
        self._db = db

    def claim(self, specs: Sequence[TaskSpec]) -> list[TaskEntry]:
        """Record the intent to create these tasks; the entries this call claimed (keys that were free).

        A key another process recorded first, a moment ago or long ago, is not returned: only the
        claimant creates the task.
        """
        now = self._db.clock()
        rows = [
            {
                "key": s.key,
                "crm": self._db.crm,
                "record_id": s.record_id,
                "stage": s.stage.value,
                "status": TASK_INTENT,
                "spec": task_to_json(s),
                "attempts": 0,
                "claims": 0,
                "created_at": now,
                "updated_at": now,
            }
            for s in sorted(specs, key=lambda s: s.key)  # one lock order for concurrent claimants
        ]
        with self._db.connect() as conn:
            won = self._db.insert_new(conn, table, rows, "key")
        return [TaskEntry(s.key, s.record_id, TASK_INTENT, s, now) for s in specs if s.key in won]

    def claim_again(self, entries: Sequence[TaskEntry]) -> list[TaskEntry]:
        """Claim open intents as they were read; the ones still open and claimed by nobody since.

        Each one claimed restarts its settle time, so no other process takes it over while this
        one is creating it.
        """
        now = self._db.clock()
        won: set[str] = set()
        with self._db.connect() as conn:
            for claims, group in groupby(sorted(entries, key=lambda e: e.claims), key=lambda e: e.claims):
                for chunk in chunks([e.key for e in group]):
                    won.update(
                        conn.execute(
                            update(table)
                            .where(table.c.key.in_(chunk), table.c.status == TASK_INTENT, table.c.claims == claims)
                            .values(claims=claims + 1, updated_at=now)
                            .returning(table.c.key)
                        ).scalars()
                    )
        return [replace(e, claims=e.claims + 1, updated_at=now) for e in entries if e.key in won]

    def entries(self, keys: Sequence[str]) -> dict[str, TaskEntry]:
        found: dict[str, TaskEntry] = {}
        with self._db.connect() as conn:
            for chunk in chunks(keys):
                found.update((r.key, _from_row(r)) for r in conn.execute(select(table).where(table.c.key.in_(chunk))))
        return found

    def open_intents(self) -> list[TaskEntry]:
        """Tasks claimed but not confirmed created: to look for in the CRM before creating them."""
        with self._db.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.crm == self._db.crm, table.c.status == TASK_INTENT).order_by(table.c.key)
            ).all()
        return [_from_row(r) for r in rows]

    def waiting(self) -> Waiting:
        with self._db.connect() as conn:
            row = conn.execute(
                select(func.count(), func.min(table.c.updated_at)).where(
                    table.c.crm == self._db.crm, table.c.status == TASK_INTENT
                )
            ).one()
        return Waiting(row[0], utc(row[1]))

    def created(self, key: str, crm_task_id: str) -> None:
        """The task exists in the CRM (whoever created it)."""
        with self._db.connect() as conn:
            conn.execute(
                update(table)
                .where(table.c.key == key)
                .values(status=TASK_CREATED, crm_task_id=crm_task_id, last_error=None, updated_at=self._db.clock())
            )

    def failed(self, key: str, error: str, *, dead: bool) -> None:
        """A create call failed: count the attempt; a dead task is never tried again."""
        record_failure(self._db, table, key, error, dead=dead)

    def count(self, status: str | None = None) -> int:
        return count_status(self._db, table, status)


def _from_row(row: Any) -> TaskEntry:
    return TaskEntry(
        row.key,
        row.record_id,
        row.status,
        task_from_json(row.spec),
        utc(row.updated_at),
        row.crm_task_id,
        row.attempts,
        row.last_error,
        row.claims,
    )
