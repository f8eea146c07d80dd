"""Records: per CRM record, the lead as last read, the CRM's state, Handoff's memory and what it wrote."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, literal, literal_column, select, true, tuple_, update

from connector.jsontext import read_json
from connector.model import CrmState, Lead, Memory
from connector.state.codec import (
    compared_from_json,
    compared_to_json,
    crm_state_from_json,
    crm_state_to_json,
    lead_from_stored,
    lead_to_json,
    memory_from_json,
    memory_to_json,
)
from connector.state.database import Database, chunks, utc
from connector.state.schema import records as table

#: the JSON columns a RecordState is read from, in the order ``_as_array`` puts them in
_JSON = ("lead", "crm_state", "counters", "memory", "written")


def _as_array(names: Sequence[str]) -> Any:
    """These JSON columns as the text of one JSON array: a row's JSON is decoded in one call, not one per column."""
    first, *rest = (cast(table.c[name], Text) for name in names)
    joined = literal_column("'['", Text) + first
    for column in rest:
        joined = joined + literal_column("','", Text) + column
    return (joined + literal_column("']'", Text)).label("stored")


#: what a RecordState is read from: the plain columns, then the JSON ones together
#: (when a row was last saved is not read)
_READ = (*(c for c in table.c if c.name not in _JSON and c.name != "updated_at"), _as_array(_JSON))


@dataclass
class RecordState:
    """What Handoff knows about one CRM record between cycles."""

    record_id: str
    lead: Lead
    crm_state: CrmState
    memory: Memory = field(default_factory=Memory)
    counters: dict[str, Any] = field(default_factory=dict)
    written: dict[str, str | None] = field(default_factory=dict)
    modified_at: datetime | None = None
    #: when the CRM created the record if the adapter says, else when Handoff first saw it
    created_at: datetime | None = None
    #: the earliest time re-scoring could plan anything for it (``connector.policy.steady``); None: always
    sweep_due: datetime | None = None
    #: the level it was last scored at ("untouched" when Handoff leaves it alone)
    sweep_status: str | None = None


class Records:
    def __init__(self, db: Database):
        self._db = db

    def get(self, record_ids: Sequence[str]) -> dict[str, RecordState]:
        """The stored state of those records that have one."""
        found: dict[str, RecordState] = {}
        with self._db.connect() as conn:
            for chunk in chunks(record_ids):
                rows = conn.execute(select(*_READ).where(table.c.crm == self._db.crm, table.c.record_id.in_(chunk)))
                found.update((row.record_id, _from_row(row)) for row in rows)
        return found

    def put(self, states: Sequence[RecordState]) -> None:
        """Save these records' states (in id order: concurrent writers lock rows in one order, never deadlock)."""
        now = self._db.clock()
        rows = [
            {
                "crm": self._db.crm,
                "record_id": s.record_id,
                "lead": lead_to_json(s.lead),
                "crm_state": crm_state_to_json(s.crm_state, s.lead.properties),
                "counters": compared_to_json(s.counters),
                "memory": memory_to_json(s.memory),
                "written": compared_to_json(s.written),
                "modified_at": s.modified_at,
                "updated_at": now,
                "created_at": s.created_at,
                "sweep_due": s.sweep_due,
                "sweep_status": s.sweep_status,
            }
            for s in sorted(states, key=lambda s: s.record_id)
        ]
        with self._db.connect() as conn:
            self._db.upsert(conn, table, rows, ("crm", "record_id"))

    def mark_due(self, states: Sequence[RecordState]) -> None:
        """Save only these records' sweep due times and levels (the rest of each is as stored)."""
        if not states:
            return
        rows = [
            {"key_id": s.record_id, "due": s.sweep_due, "status": s.sweep_status}
            for s in sorted(states, key=lambda s: s.record_id)
        ]
        statement = (
            update(table)
            .where(table.c.crm == self._db.crm, table.c.record_id == bindparam("key_id"))
            .values(sweep_due=bindparam("due"), sweep_status=bindparam("status"))
        )
        with self._db.connect() as conn:
            conn.execute(statement, rows)

    def due(self, now: datetime, batch_size: int = 500) -> Iterator[list[RecordState]]:
        """The records a sweep at ``now`` must re-score, a batch at a time: first those with no due time
        (by id), then those due by ``now`` (by due time and id; keyset paging on the sweep index, so a
        record given a later due time meanwhile is not read twice)."""
        yield from self._by_id(table.c.sweep_due.is_(None), batch_size)
        after: tuple[datetime, str] | None = None
        while True:
            position = (
                tuple_(table.c.sweep_due, table.c.record_id)
                > tuple_(literal(after[0], table.c.sweep_due.type), literal(after[1], table.c.record_id.type))
                if after
                else true()
            )
            rows = self._page(table.c.sweep_due <= now, position, batch_size)
            if not rows:
                return
            yield [_from_row(r) for r in rows]
            after = (rows[-1].sweep_due, rows[-1].record_id)

    def _page(self, due: Any, position: Any, size: int) -> list[Any]:
        with self._db.connect() as conn:
            return list(
                conn.execute(
                    select(*_READ)
                    .where(table.c.crm == self._db.crm, due, position)
                    .order_by(table.c.sweep_due, table.c.record_id)
                    .limit(size)
                ).all()
            )

    def steady(self, now: datetime) -> Counter[str]:
        """The records not due at ``now``, counted by the level they were last scored at (from the index alone)."""
        with self._db.connect() as conn:
            rows = conn.execute(
                select(table.c.sweep_status, func.count())
                .where(table.c.crm == self._db.crm, table.c.sweep_due > now)
                .group_by(table.c.sweep_status)
            ).all()
        return Counter({status or "untouched": count for status, count in rows})

    def batches(self, batch_size: int = 500) -> Iterator[list[RecordState]]:
        """Every stored record, in id order, a batch at a time (keyset paging: stable while writing)."""
        return self._by_id(true(), batch_size)

    def _by_id(self, condition: Any, batch_size: int) -> Iterator[list[RecordState]]:
        """The records meeting ``condition``, in id order, a batch at a time (keyset paging)."""
        last = ""
        while True:
            with self._db.connect() as conn:
                rows = conn.execute(
                    select(*_READ)
                    .where(table.c.crm == self._db.crm, condition, table.c.record_id > last)
                    .order_by(table.c.record_id)
                    .limit(batch_size)
                ).all()
            if not rows:
                return
            yield [_from_row(r) for r in rows]
            last = rows[-1].record_id

    def count(self) -> int:
        with self._db.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(table.c.crm == self._db.crm)).scalar_one()


def _from_row(row: Any) -> RecordState:
    stored_lead, crm_state, counters, memory, written = read_json(row.stored)
    lead = lead_from_stored(row.record_id, stored_lead)
    return RecordState(
        record_id=row.record_id,
        lead=lead,
        crm_state=crm_state_from_json(crm_state, lead.properties),
        memory=memory_from_json(memory),
        counters=compared_from_json(counters),
        written=compared_from_json(written),
        modified_at=utc(row.modified_at),
        created_at=utc(row.created_at),
        sweep_due=row.sweep_due,  # EpochSeconds reads back in UTC
        sweep_status=row.sweep_status,
    )
