"""Runs: one row per sync, backfill or sweep, with its report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from connector.state.database import Database, utc
from connector.state.schema import runs as table


class Runs:
    def __init__(self, db: Database):
        self._db = db

    def start(self, kind: str, dry_run: bool) -> int:
        with self._db.connect() as conn:
            result = conn.execute(
                insert(table).values(
                    crm=self._db.crm, kind=kind, dry_run=dry_run, status="running", started_at=self._db.clock()
                )
            )
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def finish(self, run_id: int, status: str, report: dict[str, Any]) -> None:
        with self._db.connect() as conn:
            conn.execute(
                update(table)
                .where(table.c.id == run_id)
                .values(status=status, finished_at=self._db.clock(), report=report)
            )

    def last_success(self, kind: str) -> datetime | None:
        """When the last run of ``kind`` that wrote for real finished well."""
        with self._db.connect() as conn:
            finished = conn.execute(
                select(table.c.finished_at)
                .where(
                    table.c.crm == self._db.crm,
                    table.c.kind == kind,
                    table.c.status.in_(("ok", "partial")),
                    table.c.dry_run.is_(False),
                )
                .order_by(table.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
        return utc(finished)

    def last(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest runs, newest first."""
        with self._db.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.crm == self._db.crm).order_by(table.c.id.desc()).limit(limit)
            ).all()
        return [
            {
                "id": r.id,
                "kind": r.kind,
                "dry_run": r.dry_run,
                "status": r.status,
                "started_at": utc(r.started_at),
                "finished_at": utc(r.finished_at),
                "report": r.report,
            }
            for r in rows
        ]
