"""What did not land: writes retried next cycle, and dead letters an admin must look at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select

from connector.model import Stage
from connector.state.database import Database, chunks, utc
from connector.state.schema import dead_letters as letters_table
from connector.state.schema import pending_writes as pending_table


@dataclass(frozen=True)
class PendingWrite:
    """A write that has not landed yet: retried every cycle until it does or runs out of attempts."""

    record_id: str
    properties: dict[str, str | None]
    stage: Stage | None = None
    reset_stage: bool = False
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    id: int
    record_id: str | None
    kind: str  # write | task | record
    payload: dict[str, Any]
    error: str
    attempts: int
    created_at: datetime


class PendingWrites:
    def __init__(self, db: Database):
        self._db = db

    def all(self) -> list[PendingWrite]:
        table = pending_table
        with self._db.connect() as conn:
            rows = conn.execute(select(table).where(table.c.crm == self._db.crm).order_by(table.c.record_id)).all()
        return [
            PendingWrite(
                r.record_id,
                dict(r.properties),
                Stage(r.stage) if r.stage else None,
                bool(r.reset_stage),
                r.attempts,
                r.last_error,
            )
            for r in rows
        ]

    def put(self, writes: Sequence[PendingWrite]) -> None:
        now = self._db.clock()
        rows = [
            {
                "crm": self._db.crm,
                "record_id": w.record_id,
                "properties": w.properties,
                "stage": w.stage.value if w.stage else None,
                "reset_stage": w.reset_stage,
                "attempts": w.attempts,
                "last_error": w.last_error,
                "updated_at": now,
            }
            for w in writes
        ]
        with self._db.connect() as conn:
            self._db.upsert(conn, pending_table, rows, ("crm", "record_id"))

    def drop(self, record_ids: Sequence[str]) -> None:
        table = pending_table
        with self._db.connect() as conn:
            for chunk in chunks(record_ids):
                conn.execute(delete(table).where(table.c.crm == self._db.crm, table.c.record_id.in_(chunk)))


class DeadLetters:
    def __init__(self, db: Database):
        self._db = db

    def add(self, record_id: str | None, kind: str, payload: dict[str, Any], error: str, attempts: int = 1) -> None:
        with self._db.connect() as conn:
            conn.execute(
                insert(letters_table).values(
                    crm=self._db.crm,
                    record_id=record_id,
                    kind=kind,
                    payload=payload,
                    error=error,
                    attempts=attempts,
                    created_at=self._db.clock(),
                )
            )

    def all(self, limit: int = 1000) -> list[DeadLetter]:
        table = letters_table
        with self._db.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.crm == self._db.crm).order_by(table.c.id).limit(limit)
            ).all()
        return [
            DeadLetter(r.id, r.record_id, r.kind, dict(r.payload), r.error, r.attempts, utc(r.created_at)) for r in rows
        ]
