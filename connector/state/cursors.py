"""Cursors: where each read (incremental, trailing, a backfill's page) is to continue from."""

from __future__ import annotations

from sqlalchemy import delete, select

from connector.state.database import Database
from connector.state.schema import cursors as table


class Cursors:
    def __init__(self, db: Database):
        self._db = db

    def get(self, name: str) -> str | None:
        with self._db.connect() as conn:
            return conn.execute(
                select(table.c.value).where(table.c.crm == self._db.crm, table.c.name == name)
            ).scalar_one_or_none()

    def set(self, name: str, value: str) -> None:
        row = {"crm": self._db.crm, "name": name, "value": value, "updated_at": self._db.clock()}
        with self._db.connect() as conn:
            self._db.upsert(conn, table, [row], ("crm", "name"))

    def clear(self, name: str) -> None:
        with self._db.connect() as conn:
            conn.execute(delete(table).where(table.c.crm == self._db.crm, table.c.name == name))
