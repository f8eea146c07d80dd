"""The state store: SQLite by default, PostgreSQL by URL, through SQLAlchemy Core.

Everything the daemon must not forget between cycles lives here: cursors,
per-record snapshots, the task ledger, pending writes, dead letters and run
reports. Each method is its own transaction unless called inside ``atomic()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, delete, event, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from connector.model import CrmState, Lead, Memory, Stage, TaskSpec, lead_from_json
from connector.state import schema
from connector.state.codec import (
    crm_state_from_json,
    crm_state_to_json,
    memory_from_json,
    memory_to_json,
    task_from_json,
    task_to_json,
)

Clock = Callable[[], datetime]


class StateError(Exception):
    """The state store cannot be used (bad URL, unreachable, newer schema). Stop the run."""


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
class TaskEntry:
    key: str
    record_id: str
    status: str
    spec: TaskSpec
    updated_at: datetime
    crm_task_id: str | None = None
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class DeadLetter:
    id: int
    record_id: str | None
    kind: str
    payload: dict[str, Any]
    error: str
    attempts: int
    created_at: datetime


TASK_INTENT, TASK_CREATED, TASK_DEAD = "intent", "created", "dead"


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands datetimes back without a zone; everything we store is UTC
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def redact_url(url: str) -> str:
    """A database URL fit for a log line: the password replaced."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable database URL>"


class Store:
    """The daemon's memory, scoped to one CRM connection."""

    def __init__(self, url: str, crm: str, clock: Clock, engine: Engine | None = None):
        self.crm = crm
        self._clock = clock
        self._local = threading.local()
        try:
            self._engine = engine or _make_engine(url)
            self._migrate()
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            first_line = (str(cause).splitlines() or [""])[0]
            raise StateError(f"state store {redact_url(url)}: {type(cause).__name__}: {first_line}") from None

    # ------------------------------------------------------------ plumbing

    def _migrate(self) -> None:
        with self._engine.begin() as conn:
            schema.schema_info.create(conn, checkfirst=True)
            row = conn.execute(select(schema.schema_info.c.version)).first()
            version = row.version if row else 0
            if version > schema.SCHEMA_VERSION:
                raise StateError(
                    f"the state store is at schema version {version}, newer than this Handoff "
                    f"({schema.SCHEMA_VERSION}); upgrade Handoff"
                )
            for number in range(version, schema.SCHEMA_VERSION):
                schema.MIGRATIONS[number](conn)
            if row is None:
                conn.execute(insert(schema.schema_info).values(id=1, version=schema.SCHEMA_VERSION))
            elif version != schema.SCHEMA_VERSION:
                conn.execute(update(schema.schema_info).values(version=schema.SCHEMA_VERSION))

    @property
    def schema_version(self) -> int:
        with self._conn() as conn:
            return conn.execute(select(schema.schema_info.c.version)).scalar_one()

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group several store calls into one transaction (all or nothing)."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self._engine.begin() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    def _upsert(self, conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
        if not rows:
            return
        dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(table)
        changing = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
        conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changing), rows)

    def close(self) -> None:
        self._engine.dispose()

    # ------------------------------------------------------------- cursors

    def get_cursor(self, name: str) -> str | None:
        table = schema.cursors
        with self._conn() as conn:
            return conn.execute(
                select(table.c.value).where(table.c.crm == self.crm, table.c.name == name)
            ).scalar_one_or_none()

    def set_cursor(self, name: str, value: str) -> None:
        with self._conn() as conn:
            self._upsert(
                conn,
                schema.cursors,
                [{"crm": self.crm, "name": name, "value": value, "updated_at": self._clock()}],
                ("crm", "name"),
            )

    def clear_cursor(self, name: str) -> None:
        table = schema.cursors
        with self._conn() as conn:
            conn.execute(delete(table).where(table.c.crm == self.crm, table.c.name == name))

    # ------------------------------------------------------------- records

    def get_records(self, record_ids: Sequence[str]) -> dict[str, RecordState]:
        table = schema.records
        found: dict[str, RecordState] = {}
        with self._conn() as conn:
            for start in range(0, len(record_ids), 500):
                chunk = list(record_ids[start : start + 500])
                rows = conn.execute(select(table).where(table.c.crm == self.crm, table.c.record_id.in_(chunk)))
                for row in rows:
                    found[row.record_id] = _record_from_row(row)
        return found

    def put_records(self, states: Sequence[RecordState]) -> None:
        now = self._clock()
        rows = [
            {
                "crm": self.crm,
                "record_id": s.record_id,
                "lead": s.lead.to_json(),
                "crm_state": crm_state_to_json(s.crm_state),
                "counters": s.counters,
                "memory": memory_to_json(s.memory),
                "written": s.written,
                "modified_at": s.modified_at,
                "updated_at": now,
            }
            for s in states
        ]
        with self._conn() as conn:
            self._upsert(conn, schema.records, rows, ("crm", "record_id"))

    def iter_records(self, batch_size: int = 500) -> Iterator[list[RecordState]]:
        """Every stored record, in id order, a batch at a time (keyset paging: stable while writing)."""
        table = schema.records
        last = ""
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    select(table)
                    .where(table.c.crm == self.crm, table.c.record_id > last)
                    .order_by(table.c.record_id)
                    .limit(batch_size)
                ).all()
            if not rows:
                return
            yield [_record_from_row(r) for r in rows]
            last = rows[-1].record_id

    def count_records(self) -> int:
        table = schema.records
        with self._conn() as conn:
            return conn.execute(select(func.count()).select_from(table).where(table.c.crm == self.crm)).scalar_one()

    # ------------------------------------------------------- pending writes

    def pending_writes(self) -> list[PendingWrite]:
        table = schema.pending_writes
        with self._conn() as conn:
            rows = conn.execute(select(table).where(table.c.crm == self.crm).order_by(table.c.record_id)).all()
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

    def put_pending(self, writes: Sequence[PendingWrite]) -> None:
        now = self._clock()
        rows = [
            {
                "crm": self.crm,
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
        with self._conn() as conn:
            self._upsert(conn, schema.pending_writes, rows, ("crm", "record_id"))

    def drop_pending(self, record_ids: Sequence[str]) -> None:
        table = schema.pending_writes
        with self._conn() as conn:
            for start in range(0, len(record_ids), 500):
                chunk = list(record_ids[start : start + 500])
                conn.execute(delete(table).where(table.c.crm == self.crm, table.c.record_id.in_(chunk)))

    # ---------------------------------------------------------- task ledger

    def record_task_intents(self, specs: Sequence[TaskSpec]) -> None:
        """Remember that these tasks are about to be created; existing keys are left as they are."""
        if not specs:
            return
        table = schema.tasks
        now = self._clock()
        with self._conn() as conn:
            known = set(conn.execute(select(table.c.key).where(table.c.key.in_([s.key for s in specs]))).scalars())
            rows = [
                {
                    "key": s.key,
                    "crm": self.crm,
                    "record_id": s.record_id,
                    "stage": s.stage.value,
                    "status": TASK_INTENT,
                    "spec": task_to_json(s),
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for s in specs
                if s.key not in known
            ]
            if rows:
                conn.execute(insert(table), rows)

    def task_entries(self, keys: Sequence[str]) -> dict[str, TaskEntry]:
        table = schema.tasks
        with self._conn() as conn:
            rows = conn.execute(select(table).where(table.c.key.in_(list(keys)))).all() if keys else []
        return {r.key: _task_from_row(r) for r in rows}

    def open_task_intents(self) -> list[TaskEntry]:
        """Tasks recorded as intended but not confirmed created: to reconcile before creating."""
        table = schema.tasks
        with self._conn() as conn:
            rows = conn.execute(
                select(table).where(table.c.crm == self.crm, table.c.status == TASK_INTENT).order_by(table.c.key)
            ).all()
        return [_task_from_row(r) for r in rows]

    def mark_task_created(self, key: str, crm_task_id: str) -> None:
        self._set_task(key, status=TASK_CREATED, crm_task_id=crm_task_id, last_error=None)

    def mark_task_failed(self, key: str, error: str, *, dead: bool) -> None:
        table = schema.tasks
        with self._conn() as conn:
            conn.execute(
                update(table)
                .where(table.c.key == key)
                .values(
                    attempts=table.c.attempts + 1,
                    last_error=error,
                    status=TASK_DEAD if dead else TASK_INTENT,
                    updated_at=self._clock(),
                )
            )

    def _set_task(self, key: str, **values: Any) -> None:
        table = schema.tasks
        with self._conn() as conn:
            conn.execute(update(table).where(table.c.key == key).values(updated_at=self._clock(), **values))

    def count_tasks(self, status: str | None = None) -> int:
        table = schema.tasks
        query = select(func.count()).select_from(table).where(table.c.crm == self.crm)
        if status is not None:
            query = query.where(table.c.status == status)
        with self._conn() as conn:
            return conn.execute(query).scalar_one()

    # ---------------------------------------------------------- dead letters

    def add_dead_letter(
        self, record_id: str | None, kind: str, payload: dict[str, Any], error: str, attempts: int = 1
    ) -> None:
        with self._conn() as conn:
            conn.execute(
                insert(schema.dead_letters).values(
                    crm=self.crm,
                    record_id=record_id,
                    kind=kind,
                    payload=payload,
                    error=error,
                    attempts=attempts,
                    created_at=self._clock(),
                )
            )

    def dead_letters(self, limit: int = 1000) -> list[DeadLetter]:
        table = schema.dead_letters
        with self._conn() as conn:
            rows = conn.execute(select(table).where(table.c.crm == self.crm).order_by(table.c.id).limit(limit)).all()
        return [
            DeadLetter(r.id, r.record_id, r.kind, dict(r.payload), r.error, r.attempts, _utc(r.created_at))
            for r in rows
        ]

    # ------------------------------------------------------------------ runs

    def start_run(self, kind: str, dry_run: bool) -> int:
        with self._conn() as conn:
            result = conn.execute(
                insert(schema.runs).values(
                    crm=self.crm, kind=kind, dry_run=dry_run, status="running", started_at=self._clock()
                )
            )
            return int(result.inserted_primary_key[0])

    def finish_run(self, run_id: int, status: str, report: dict[str, Any]) -> None:
        table = schema.runs
        with self._conn() as conn:
            conn.execute(
                update(table)
                .where(table.c.id == run_id)
                .values(status=status, finished_at=self._clock(), report=report)
            )

    def last_success(self, kind: str) -> datetime | None:
        """When the last run of ``kind`` that wrote for real finished well."""
        table = schema.runs
        with self._conn() as conn:
            finished = conn.execute(
                select(table.c.finished_at)
                .where(
                    table.c.crm == self.crm, table.c.kind == kind, table.c.status == "ok", table.c.dry_run.is_(False)
                )
                .order_by(table.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
        return _utc(finished)

    def last_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        table = schema.runs
        with self._conn() as conn:
            rows = conn.execute(
                select(table).where(table.c.crm == self.crm).order_by(table.c.id.desc()).limit(limit)
            ).all()
        return [
            {
                "id": r.id,
                "kind": r.kind,
                "dry_run": r.dry_run,
                "status": r.status,
                "started_at": _utc(r.started_at),
                "finished_at": _utc(r.finished_at),
                "report": r.report,
            }
            for r in rows
        ]


def _record_from_row(row: Any) -> RecordState:
    return RecordState(
        record_id=row.record_id,
        lead=lead_from_json(row.lead),
        crm_state=crm_state_from_json(row.crm_state),
        memory=memory_from_json(row.memory),
        counters=dict(row.counters),
        written=dict(row.written),
        modified_at=_utc(row.modified_at),
    )


def _task_from_row(row: Any) -> TaskEntry:
    return TaskEntry(
        row.key,
        row.record_id,
        row.status,
        task_from_json(row.spec),
        _utc(row.updated_at),
        row.crm_task_id,
        row.attempts,
        row.last_error,
    )


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            # WAL: readers (health endpoint, admin scripts) never block the sync
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)
