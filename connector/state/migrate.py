"""Brings a state store to this Handoff's schema with Alembic, configured here (no alembic.ini).

A store is one of: empty (every migration runs), made by Handoff 0.1's hand-written
runner (a ``handoff_schema`` row at version 1: stamped at the baseline revision, then
upgraded), or already under Alembic (upgraded from its revision). A store from a newer
Handoff is refused. Replicas starting together migrate one at a time: PostgreSQL takes a
transaction-scoped advisory lock, SQLite an immediate (write-locked) transaction.

A store already at this Handoff's revision is told apart with one query and the revision
lines of the migration files, without importing Alembic (about 10 MB of every process's
memory); Alembic is loaded only when a store needs migrating.

A new migration is a file in ``migrations/versions``; to draft one against a store::

    python -c "from alembic import command; from connector.state.migrate import alembic_config; \\
               command.revision(alembic_config(), 'what changes')"
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from connector.state.database import StateError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
#: the revision equal to the hand-written runner's schema version 1
BASELINE = "0001"
LEGACY_VERSION = 1
#: first key of the advisory lock replicas take while migrating (second: the schema's name)
MIGRATION_LOCK = 0x48440001
#: where Alembic keeps a store's revision
VERSION_TABLE = "alembic_version"
#: a migration file's ``revision = ...`` and ``down_revision = ...`` lines
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, pointing at the migrations shipped in this package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The revision this Handoff works with: the one no migration file names as its ``down_revision``."""
    revisions: set[str] = set()
    earlier: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            named = ast.literal_eval(value.strip())
            if name == "revision":
                revisions.add(named)
            elif named is not None:
                # a merge revision names several
                earlier.update((named,) if isinstance(named, str) else named)
    [revision] = revisions - earlier
    return revision


def current_revision(engine: Engine) -> str | None:
    """The store's Alembic revision (None before the first migration)."""
    with engine.connect() as conn:
        return _stored_revision(conn)


def upgrade(engine: Engine) -> None:
    """Migrate the store to ``head()`` in one transaction, or raise StateError if it is newer."""
    if current_revision(engine) == head():
        return
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    with engine.connect() as conn:
        _lock(conn)
        config = alembic_config(conn)
        # read again under the lock: another replica may have migrated meanwhile
        revision = _stored_revision(conn)
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


def _stored_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one_or_none()


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
