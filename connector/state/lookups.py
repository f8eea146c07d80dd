"""Lookups: slow-changing CRM facts (the property list, owners) kept so a run need not read them again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from connector.state.database import Database, utc
from connector.state.schema import lookups as table


class Lookups:
    def __init__(self, db: Database):
        self._db = db

    def get(self, name: str, max_age: timedelta) -> Any | None:
        """The value kept under ``name`` if it was read from the CRM less than ``max_age`` ago, else None."""
        with self._db.connect() as conn:
            row = conn.execute(
                select(table.c.value, table.c.read_at).where(table.c.crm == self._db.crm, table.c.name == name)
            ).first()
        if row is None or utc(row.read_at) <= self._db.clock() - max_age:
            return None
        return row.value

    def put(self, name: str, value: Any) -> None:
        """Keep ``value`` (JSON) under ``name``, read from the CRM now."""
        row = {"crm": self._db.crm, "name": name, "value": value, "read_at": self._db.clock()}
        with self._db.connect() as conn:
            self._db.upsert(conn, table, [row], ("crm", "name"))
