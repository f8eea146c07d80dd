"""Episodes: each qualification of a record, from what Handoff knew then to what sales did after."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select

from connector.outcomes.episode import Episode, cohort_month
from connector.policy.escalation import untouched
from connector.state.database import Database, chunks, utc
from connector.state.schema import episodes as table
from connector.state.schema import escalations, records


def is_closed(episode: Episode) -> bool:
    """Sales ended the episode: recycled or rejected it, or its deal closed (and was not deleted)."""
    if episode.recycled_at is not None or episode.rejected_at is not None:
        return True
    return episode.deal_deleted_at is None and (episode.won_at is not None or episode.lost_at is not None)


class Episodes:
    def __init__(self, db: Database):
        self._db = db

    def upsert(self, episodes: Sequence[Episode]) -> None:
        """Save these episodes, replacing the stored ones of the same record and number."""
        now = self._db.clock()
        rows = [
            {
                "crm": self._db.crm,
                "record_id": e.record_id,
                "number": e.number,
                "started_at": e.started_at,
                "closed": is_closed(e),
                "awaiting": untouched(e),
                "episode": e.to_json(),
                "updated_at": now,
            }
            for e in sorted(episodes, key=lambda e: (e.record_id, e.number))
        ]
        with self._db.connect() as conn:
            self._db.upsert(conn, table, rows, ("crm", "record_id", "number"))

    def latest(self, record_ids: Sequence[str], open_only: bool = False) -> dict[str, Episode]:
        """The newest episode of each of these records that has one (only open ones if ``open_only``)."""
        found: dict[str, Episode] = {}
        with self._db.connect() as conn:
            for chunk in chunks(record_ids):
                query = select(table.c.record_id, table.c.episode).where(
                    table.c.crm == self._db.crm, table.c.record_id.in_(chunk)
                )
                if open_only:
                    query = query.where(table.c.closed.is_(False))
                for row in conn.execute(query.order_by(table.c.record_id, table.c.number)):
                    found[row.record_id] = Episode.from_json(row.episode)  # the last row per record wins
        return found

    def open_for(self, record_ids: Sequence[str]) -> dict[str, Episode]:
        """The open episode of each of these records that has one."""
        return self.latest(record_ids, open_only=True)

    def all(self, since: datetime | None = None) -> list[Episode]:
        """Every episode (started on or after ``since``, when given), oldest first."""
        query = select(table.c.episode).where(table.c.crm == self._db.crm)
        if since is not None:
            query = query.where(table.c.started_at >= since)
        with self._db.connect() as conn:
            rows = conn.execute(query.order_by(table.c.started_at, table.c.record_id, table.c.number))
            return [Episode.from_json(row.episode) for row in rows]

    def awaiting_follow_up(self, since: datetime, until: datetime) -> list[Episode]:
        """Episodes started in [since, until] with no sales touch or outcome yet and not escalated, oldest first."""
        escalated = exists().where(
            and_(
                escalations.c.crm == table.c.crm,
                escalations.c.record_id == table.c.record_id,
                escalations.c.number == table.c.number,
            )
        )
        query = select(table.c.episode).where(
            table.c.crm == self._db.crm,
            table.c.closed.is_(False),
            table.c.awaiting.is_(True),
            table.c.started_at >= since,
            table.c.started_at <= until,
            ~escalated,
        )
        with self._db.connect() as conn:
            rows = conn.execute(query.order_by(table.c.started_at, table.c.record_id, table.c.number))
            return [Episode.from_json(row.episode) for row in rows]

    def count(self) -> int:
        with self._db.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(table.c.crm == self._db.crm)).scalar_one()

    def lead_counts(self) -> dict[str, int]:
        """Leads per creation month (``YYYY-MM``) from the records table: where the funnel starts."""
        counts: Counter[str] = Counter()
        with self._db.connect() as conn:
            moments: Any = conn.execute(
                select(records.c.created_at).where(records.c.crm == self._db.crm, records.c.created_at.is_not(None))
            ).scalars()
            for moment in moments:
                counts[cohort_month(utc(moment))] += 1
        return dict(sorted(counts.items()))
