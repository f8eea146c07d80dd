"""The lead ledger: a CRM lead record (HubSpot's Leads object) is claimed before it is created, confirmed after.

One entry per record and qualification episode, keyed like tasks. An open intent
is looked for in the CRM before it is created (again), so a create whose answer
was lost in a crash is never repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from connector.state.database import Database, utc
from connector.state.ledger import CREATED, INTENT, count_status, record_failure
from connector.state.schema import crm_leads as table

LEAD_INTENT, LEAD_CREATED = INTENT, CREATED


@dataclass(frozen=True)
class LeadClaim:
    """What a lead is made from: its key, its contact, the task it goes with (and whose owner it takes), its name."""

    key: str
    record_id: str
    task_key: str
    name: str


@dataclass(frozen=True)
class LeadEntry:
    claim: LeadClaim
    status: str  # intent | created | dead
    updated_at: datetime
    lead_id: str | None = None
    attempts: int = 0
    last_error: str | None = None
    claims: int = 0


class LeadLedger:
    def __init__(self, db: Database):
        self._db = db

    def claim(self, claims: Sequence[LeadClaim]) -> set[str]:
        """Record the intent to create these leads; the keys that were free (an existing entry stays)."""
        now = self._db.clock()
        rows = [
            {
                "key": c.key,
                "crm": self._db.crm,
                "record_id": c.record_id,
                "task_key": c.task_key,
                "status": LEAD_INTENT,
                "spec": {"name": c.name},
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for c in sorted(claims, key=lambda c: c.key)
        ]
        with self._db.connect() as conn:
            return self._db.insert_new(conn, table, rows, "key")

    def open_intents(self) -> list[LeadEntry]:
        """Leads claimed but not confirmed created, oldest key first."""
        with self._db.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.crm == self._db.crm, table.c.status == LEAD_INTENT).order_by(table.c.key)
            ).all()
        return [_from_row(r) for r in rows]

    def take(self, entries: Sequence[LeadEntry]) -> list[LeadEntry]:
        """Take open intents as they were read to create them; the ones no other process took since.

        Each one taken restarts its settle time, so no other process takes it while this one creates it.
        """
        now = self._db.clock()
        won: set[str] = set()
        with self._db.connect() as conn:
            for entry in sorted(entries, key=lambda e: e.claim.key):
                won.update(
                    conn.execute(
                        update(table)
                        .where(
                            table.c.key == entry.claim.key,
                            table.c.status == LEAD_INTENT,
                            table.c.claims == entry.claims,
                        )
                        .values(claims=entry.claims + 1, updated_at=now)
                        .returning(table.c.key)
                    ).scalars()
                )
        return [replace(e, claims=e.claims + 1, updated_at=now) for e in entries if e.claim.key in won]

    def entries(self, keys: Sequence[str]) -> dict[str, LeadEntry]:
        with self._db.connect() as conn:
            rows = conn.execute(select(table).where(table.c.key.in_(list(keys)))).all() if keys else []
        return {r.key: _from_row(r) for r in rows}

    def created(self, key: str, lead_id: str) -> None:
        """The lead exists in the CRM (whoever created it)."""
        with self._db.connect() as conn:
            conn.execute(
                update(table)
                .where(table.c.key == key)
                .values(status=LEAD_CREATED, lead_id=lead_id, last_error=None, updated_at=self._db.clock())
            )

    def failed(self, key: str, error: str, *, dead: bool) -> None:
        """A create call failed: count the attempt; a dead lead is never tried again."""
        record_failure(self._db, table, key, error, dead=dead)

    def count(self, status: str | None = None) -> int:
        return count_status(self._db, table, status)


def _from_row(row: Any) -> LeadEntry:
    spec = row.spec or {}
    claim = LeadClaim(row.key, row.record_id, row.task_key, spec.get("name") or "")
    return LeadEntry(claim, row.status, utc(row.updated_at), row.lead_id, row.attempts, row.last_error, row.claims)
