"""What the ledgers share: settling an entry still open, an intent's failed attempt, and counts by status.

Each table holds ``key``, ``crm``, ``status``, ``attempts``, ``last_error`` and ``updated_at``;
the intent ledgers (tasks, leads) use the statuses intent, created and dead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, select, update

from connector.state.database import Database

INTENT, CREATED, DEAD = "intent", "created", "dead"


def record_failure(db: Database, table: Table, key: str, error: str, *, dead: bool) -> None:
    """A create call failed: count the attempt; a dead entry is never tried again.

    An entry meanwhile confirmed created stays created.
    """
    settle(db, table, key, INTENT, attempts=table.c.attempts + 1, last_error=error, status=DEAD if dead else INTENT)


def settle(db: Database, table: Table, key: str, open_status: str, **values: Any) -> None:
    """Set ``values`` on the entry ``key`` if it is still ``open_status`` (a settled entry stays as it is)."""
    with db.connect() as conn:
        conn.execute(
            update(table)
            .where(table.c.key == key, table.c.status == open_status)
            .values(updated_at=db.clock(), **values)
        )


def count_status(db: Database, table: Table, status: str | None = None) -> int:
    """Entries of this CRM, all or with ``status``."""
    query = select(func.count()).select_from(table).where(table.c.crm == db.crm)
    if status is not None:
        query = query.where(table.c.status == status)
    with db.connect() as conn:
        return conn.execute(query).scalar_one()
