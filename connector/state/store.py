"""The state store: SQLite by default, PostgreSQL by URL, through SQLAlchemy Core.

Everything the daemon must not forget between cycles lives here, one repository
per group of tables: cursors, records, the task ledger, pending writes, dead
letters, runs, qualification episodes, their SLA escalations, the alert ledger, the owner rotation,
the lead ledger and CRM lookups. Each repository call is its own transaction unless made inside
``store.atomic()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from connector.config.redact import redact_url
from connector.state import migrate
from connector.state.alerts import AlertLedger
from connector.state.cursors import Cursors
from connector.state.database import Clock, Database, StateError, make_engine
from connector.state.episodes import Episodes
from connector.state.escalations import Escalations
from connector.state.failures import DeadLetters, PendingWrites
from connector.state.leads import LeadLedger
from connector.state.lease import Lease, lease_for
from connector.state.lookups import Lookups
from connector.state.records import Records
from connector.state.rotation import Rotation
from connector.state.runs import Runs
from connector.state.tasks import TaskLedger


class Store:
    """The daemon's memory, scoped to one CRM connection, migrated to this Handoff's schema on open."""

    def __init__(self, url: str, crm: str, clock: Clock, engine: Engine | None = None):
        try:
            engine = engine or make_engine(url)
            migrate.upgrade(engine)
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            first_line = (str(cause).splitlines() or [""])[0]
            raise StateError(f"state store {redact_url(url)}: {type(cause).__name__}: {first_line}") from None
        self.crm = crm
        self._db = Database(engine, crm, clock)
        self.cursors = Cursors(self._db)
        self.records = Records(self._db)
        self.tasks = TaskLedger(self._db)
        self.pending = PendingWrites(self._db)
        self.dead_letters = DeadLetters(self._db)
        self.runs = Runs(self._db)
        self.episodes = Episodes(self._db)
        self.alerts = AlertLedger(self._db)
        self.escalations = Escalations(self._db)
        self.rotation = Rotation(self._db)
        self.leads = LeadLedger(self._db)
        self.lookups = Lookups(self._db)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group several repository calls into one transaction (all or nothing)."""
        with self._db.atomic():
            yield

    def lease(self) -> Lease:
        """A new lease for this store and CRM: held by one replica at a time."""
        return lease_for(self._db.engine, self.crm)

    @property
    def revision(self) -> str | None:
        """The schema revision the store is at."""
        return migrate.current_revision(self._db.engine)

    def close(self) -> None:
        self._db.engine.dispose()
