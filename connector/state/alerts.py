"""The alert ledger: an alert is claimed before it is posted and marked sent after, like a task.

The claim is an insert keyed by ``alert:<record>:<episode>:<kind>`` that only one process can
make, so a qualification alerts once across restarts and replicas. Each post is preceded by a
conditional update raising ``attempts``: of two processes holding one pending row, only one
posts, and a crash right after a post still counts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from connector.alerts.events import AlertEvent, AlertKind
from connector.model import Stage, format_time, parse_time
from connector.state.database import Database, chunks, utc
from connector.state.ledger import count_status, settle
from connector.state.schema import alerts as table

ALERT_PENDING, ALERT_SENT, ALERT_DEAD = "pending", "sent", "dead"


@dataclass(frozen=True)
class AlertEntry:
    """One alert in the ledger."""

    event: AlertEvent
    status: str  # pending | sent | dead
    attempts: int = 0
    last_error: str | None = None
    not_before: datetime | None = None

    @property
    def key(self) -> str:
        return self.event.key


class AlertLedger:
    def __init__(self, db: Database):
        self._db = db

    def claim(self, events: Sequence[AlertEvent]) -> list[str]:
        """Record these alerts as pending; the keys this call claimed (an alert already in the ledger,
        sent or not, is not claimed again)."""
        now = self._db.clock()
        rows: list[dict[str, Any]] = [
            {
                "key": e.key,
                "crm": self._db.crm,
                "record_id": e.record_id,
                "kind": e.kind.value,
                "status": ALERT_PENDING,
                "event": event_to_json(e),
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for e in sorted({e.key: e for e in events}.values(), key=lambda e: e.key)  # one lock order
        ]
        with self._db.connect() as conn:
            won = self._db.insert_new(conn, table, rows, "key")
        return [str(row["key"]) for row in rows if row["key"] in won]

    def due(self, limit: int) -> list[AlertEntry]:
        """Pending alerts whose pause (if any) is over, oldest first."""
        now = self._db.clock()
        query = (
            select(table)
            .where(
                table.c.crm == self._db.crm,
                table.c.status == ALERT_PENDING,
                or_(table.c.not_before.is_(None), table.c.not_before <= now),
            )
            .order_by(table.c.created_at, table.c.key)
            .limit(limit)
        )
        with self._db.connect() as conn:
            return [_from_row(r) for r in conn.execute(query)]

    def entries(self, keys: Sequence[str]) -> dict[str, AlertEntry]:
        found: dict[str, AlertEntry] = {}
        with self._db.connect() as conn:
            for chunk in chunks(keys):
                found.update((r.key, _from_row(r)) for r in conn.execute(select(table).where(table.c.key.in_(chunk))))
        return found

    def take(self, entry: AlertEntry) -> bool:
        """Count one more attempt on a pending alert as it was read; False if another process
        posted, settled or took it since (then this one must not post it)."""
        with self._db.connect() as conn:
            taken = conn.execute(
                update(table)
                .where(table.c.key == entry.key, table.c.status == ALERT_PENDING, table.c.attempts == entry.attempts)
                .values(attempts=entry.attempts + 1, updated_at=self._db.clock())
                .returning(table.c.key)
            ).first()
        return taken is not None

    def sent(self, key: str) -> None:
        """The receiver accepted the alert."""
        now = self._db.clock()
        self._settle(key, status=ALERT_SENT, last_error=None, sent_at=now)

    def retry(self, key: str, error: str, not_before: datetime | None) -> None:
        """A passing failure: post it again in a later cycle, not before ``not_before``."""
        self._settle(key, status=ALERT_PENDING, last_error=error, not_before=not_before)

    def dead(self, key: str, error: str) -> None:
        """Refused, or out of attempts: never posted again (the dead-letter table says why)."""
        self._settle(key, status=ALERT_DEAD, last_error=error)

    def count(self, status: str | None = None) -> int:
        """Entries of this CRM, all or with ``status``."""
        return count_status(self._db, table, status)

    def _settle(self, key: str, **values: Any) -> None:
        settle(self._db, table, key, ALERT_PENDING, **values)


def event_to_json(event: AlertEvent) -> dict[str, Any]:
    """The event as stored in the ledger."""
    return {
        "kind": event.kind.value,
        "record_id": event.record_id,
        "episode": event.episode,
        "stage": event.stage.value,
        "occurred_at": format_time(event.occurred_at),
        "name": event.name,
        "company": event.company,
        "score": event.score,
        "grade": event.grade,
        "reasons": list(event.reasons),
        "owner_id": event.owner_id,
        "owner_name": event.owner_name,
        "due_at": format_time(event.due_at) if event.due_at else None,
        "record_url": event.record_url,
    }


def event_from_json(data: dict[str, Any]) -> AlertEvent:
    return AlertEvent(
        kind=AlertKind(data["kind"]),
        record_id=data["record_id"],
        episode=data["episode"],
        stage=Stage(data["stage"]),
        occurred_at=parse_time(data["occurred_at"]),
        name=data.get("name"),
        company=data.get("company"),
        score=data.get("score"),
        grade=data.get("grade"),
        reasons=tuple(data.get("reasons") or ()),
        owner_id=data.get("owner_id"),
        owner_name=data.get("owner_name"),
        due_at=parse_time(data["due_at"]) if data.get("due_at") else None,
        record_url=data.get("record_url"),
    )


def _from_row(row: Any) -> AlertEntry:
    return AlertEntry(
        event_from_json(row.event),
        row.status,
        row.attempts,
        row.last_error,
        utc(row.not_before),
    )
