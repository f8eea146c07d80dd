"""The connection every repository shares: one engine, one CRM's rows, one clock, one transaction scope."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite

from connector.jsontext import read_json

Clock = Callable[[], datetime]

#: ids per ``IN (...)`` query: well under every driver's parameter limit
CHUNK = 500


class StateError(Exception):
    """The state store cannot be used (bad URL, unreachable, newer schema). Stop the run."""


@overload
def utc(moment: datetime) -> datetime: ...
@overload
def utc(moment: None) -> None: ...
def utc(moment: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without a zone; everything stored is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def chunks(items: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


#: SQLite's page size for a new state file
SQLITE_PAGE_SIZE = 16384


def make_engine(url: str) -> Engine:
    """An engine for a state URL: SQLite in WAL mode, PostgreSQL with connections checked before use."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_serializer=compact_json,
            json_deserializer=read_json,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            # a record's row is 1-2 KB: 4 KB pages would hold one or two, large pages fill well.
            # Only a new file takes it (before WAL is on); an existing store keeps its page size.
            cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
            # WAL: readers (health endpoint, admin scripts) never block the sync
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=compact_json, json_deserializer=read_json)


def compact_json(value: Any) -> str:
    """JSON without the spaces after separators: every stored record is a few hundred bytes smaller."""
    return json.dumps(value, separators=(",", ":"))


class Database:
    """What the repositories share. Each repository call is its own transaction unless inside ``atomic()``."""

    def __init__(self, engine: Engine, crm: str, clock: Clock):
        self.engine = engine
        self.crm = crm
        self.clock = clock
        self._local = threading.local()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """The transaction ``atomic()`` opened on this thread, or a new one committed on exit."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group several repository calls into one transaction (all or nothing)."""
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self.engine.begin() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @staticmethod
    def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
        """Insert rows, replacing every other column of a row whose ``keys`` already exist."""
        if not rows:
            return
        dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(table)
        changing = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
        conn.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=changing), rows)

    @staticmethod
    def insert_new(conn: Connection, table: Table, rows: list[dict[str, Any]], key: str) -> set[Any]:
        """Insert the rows whose ``key`` is not taken yet; the keys this call inserted.

        Atomic on both stores: of two transactions inserting one key, exactly one is told it did.
        """
        if not rows:
            return set()
        dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        return set(conn.execute(statement, rows).scalars())
