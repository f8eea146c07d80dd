"""Brings a state store to this Handoff's schema with Alembic, configured here (no alembic.ini).

A store is one of: empty (every migration runs), made by Handoff 0.1's hand-written
runner (a ``handoff_schema`` row at version 1: stamped at the baseline revision, then
upgraded), or already under Alembic (upgraded from its revision). A store from a newer
Handoff is refused. Replicas starting together migrate one at a time: PostgreSQL takes a
transaction-scoped advisory lock, SQLite an immediate (write-locked) transaction.

A new migration is a file in ``migrations/versions``; to draft one against a store::

    python -c "from alembic import command; from connector.state.migrate import alembic_config; \\
               command.revision(alembic_config(), 'what changes')"
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, inspect, text

from connector.state.database import StateError

MIGRATIONS = Path(__file__).parent / "migrations"
#: the revision equal to the hand-written runner's schema version 1
BASELINE = "0001"
LEGACY_VERSION = 1
#: first key of the advisory lock replicas take while migrating (second: the schema's name)
MIGRATION_LOCK = 0x48440001


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, pointing at the migrations shipped in this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The revision this Handoff works with."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def current_revision(engine: Engine) -> str | None:
    """The store's Alembic revision (None before the first migration)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Migrate the store to ``head()`` in one transaction, or raise StateError if it is newer."""
    with engine.connect() as conn:
        _lock(conn)
        config = alembic_config(conn)
        revision = MigrationContext.configure(conn).get_current_revision()
        if revision is None:
            legacy = _legacy_version(conn)
            if legacy is not None and legacy > LEGACY_VERSION:
                raise _newer(f"schema version {legacy}")
            if legacy == LEGACY_VERSION:
                command.stamp(config, BASELINE)
        else:
            try:
                ScriptDirectory.from_config(config).get_revision(revision)
            except CommandError:
                raise _newer(f"schema revision {revision}") from None
        command.upgrade(config, "head")
        conn.commit()


def _lock(conn: Connection) -> None:
    """Begin the migration's transaction holding a lock that other replicas wait for."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(current_schema()))"), {"space": MIGRATION_LOCK}
        )
    else:
        # pysqlite opens no transaction before DDL; this one also takes the write lock at once
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _legacy_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table("handoff_schema"):
        return None
    return conn.execute(text("SELECT version FROM handoff_schema")).scalar()


def _newer(what: str) -> StateError:
    return StateError(f"the state store is at {what}, newer than this Handoff (revision {head()}); upgrade Handoff")
