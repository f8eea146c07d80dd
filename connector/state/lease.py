"""The lease that lets one of several replicas sync while the others stand by.

Both kinds are freed by the operating system or the database when the holder dies,
so a standby's next attempt takes over without anyone cleaning up:

- PostgreSQL: a session-level advisory lock on a connection kept open for as long as
  the lease is held; the server frees it when that session ends (a killed process
  closes its socket; keepalives end a session whose host vanished).
- SQLite: an exclusive ``flock`` on a file beside the state file; the kernel frees it
  when the holder's process ends.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

#: first key of the lease's advisory lock (second: hash of schema and CRM); other than the migration's
LEASE_LOCK = 0x48440002
#: a replica whose host vanishes loses its session, and the lease, within about 30 s
KEEPALIVES = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 3")


class Lease(Protocol):
    def acquire(self) -> bool:
        """Take the lease, or confirm it is still held; False while another replica holds it."""
        ...

    def release(self) -> None:
        """Give the lease up (a standby takes it on its next attempt)."""
        ...


class SoleLease:
    """The lease of a store only this process can open (in-memory SQLite): always held."""

    def acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class FileLease:
    """An exclusive ``flock`` on ``path``; each instance is its own holder, even within one process."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the lock
            self._fd = None


class AdvisoryLease:
    """A PostgreSQL advisory lock for one CRM in the store's schema, held on its own connection."""

    def __init__(self, engine: Engine, crm: str):
        self._engine = engine
        self._crm = crm
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        if self._conn is not None:
            if self._alive(self._conn):
                return True
            self.release()  # the session ended, and the lock with it
        conn = self._engine.connect()
        try:
            for setting in KEEPALIVES:
                conn.execute(text(setting))
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:space, hashtext(current_schema() || ':' || :crm))"),
                {"space": LEASE_LOCK, "crm": self._crm},
            ).scalar_one()
            conn.commit()
        except DBAPIError:
            _discard(conn)
            raise
        if not got:
            _discard(conn)
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        if self._conn is not None:
            _discard(self._conn)
            self._conn = None

    @staticmethod
    def _alive(conn: Connection) -> bool:
        # nothing but the end of its session frees the lock: a live session still holds it
        try:
            conn.execute(text("SELECT 1"))
            conn.commit()
            return True
        except DBAPIError:
            return False


def _discard(conn: Connection) -> None:
    # closed, not handed back to the pool, which would keep the session (and the lock) alive
    conn.invalidate()
    conn.close()


def lease_for(engine: Engine, crm: str) -> Lease:
    """The lease that fits the store behind ``engine``."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLease(engine, crm)
    database = engine.url.database
    if not database or database == ":memory:":
        return SoleLease()
    return FileLease(Path(f"{database}.{crm}.lease"))
