"""State stores made by earlier Handoffs open, upgrade in place and keep every row; newer ones are refused."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from builders import REPO, crm, lead
from sqlalchemy import MetaData, create_engine, inspect, text

from connector.model import Stage
from connector.state import PendingWrite, RecordState, StateError, Store
from connector.state.migrate import alembic_config, head

FIXTURES = REPO / "tests" / "fixtures" / "state"
V1_SQLITE = FIXTURES / "v1-handoff-state.sqlite"
V1_POSTGRESQL = FIXTURES / "v1-postgresql.sql"
OPEN_INTENT = "handoff:999:sql:0"
#: opens the store at argv[1] in a fresh interpreter: its revision, and whether Alembic got imported
OPEN_AND_SAY_IF_ALEMBIC_LOADED = """
import sys
from datetime import UTC, datetime
from connector.state import Store
store = Store(sys.argv[1], "hubspot", lambda: datetime.now(UTC))
print(store.revision, any(name.partition(".")[0] == "alembic" for name in sys.modules))
"""


def now() -> datetime:
    return datetime(2026, 11, 20, 13, 0, tzinfo=UTC)


def v1_copy(tmp_path: Path) -> str:
    """A copy of the version-1 state file (the committed one is never changed)."""
    target = tmp_path / "v1.sqlite"
    shutil.copy(V1_SQLITE, target)
    return f"sqlite:///{target}"


def everything(store: Store) -> dict[str, object]:
    """All a store holds, as the current code reads it."""
    records = [r for batch in store.records.batches() for r in batch]
    return {
        "records": records,
        "cursors": {name: store.cursors.get(name) for name in ("contacts", "contacts.trailing")},
        "tasks": store.tasks.entries(["handoff:999:sql:0", *(f"handoff:{r.record_id}:sql:0" for r in records)]),
        "pending": store.pending.all(),
        "dead_letters": store.dead_letters.all(),
        "runs": store.runs.last(),
    }


def test_a_version_1_state_file_is_upgraded_in_place_with_every_row_intact(tmp_path):
    url = v1_copy(tmp_path)
    store = Store(url, "hubspot", now)
    assert store.revision == head()
    held = everything(store)
    assert len(held["records"]) == 37
    assert held["cursors"] == {"contacts": "2026-11-20T12:10:50.000Z", "contacts.trailing": "2026-11-20T11:11:00.000Z"}
    tasks = held["tasks"]
    assert sorted((t.key, t.status, t.crm_task_id) for t in tasks.values()) == [
        ("handoff:100012:sql:0", "created", "30000001"),
        ("handoff:100023:sql:0", "created", "30000002"),
        ("handoff:100037:sql:0", "created", "30000003"),
        (OPEN_INTENT, "intent", None),
    ]
    assert tasks[OPEN_INTENT].spec.subject == "Sales-qualified: left open"
    assert held["pending"] == [PendingWrite("100037", {"handoff_score": "80"}, Stage.SQL, False, 2, "HTTP 502")]
    [letter] = held["dead_letters"]
    assert (letter.record_id, letter.error, letter.attempts) == ("12345", "PROPERTY_DOESNT_EXIST", 5)
    assert [(r["kind"], r["status"], r["report"]["tasks_created"]) for r in held["runs"]] == [
        ("sync", "ok", 1),
        ("backfill", "ok", 2),
    ]
    sql = [r for r in held["records"] if r.memory.promoted is Stage.SQL]
    assert len(sql) == 3 and all(r.lead.activities and r.written.get("status") == "sql" for r in sql)
    # no record has a sweep due time yet: the next sweep re-scores every one (and gives it one)
    assert sum(len(batch) for batch in store.records.due(now())) == 37
    assert store.records.steady(now()) == {}
    # the upgraded store works: the intent a crash left can be taken over, and reopening changes nothing
    [intent] = store.tasks.open_intents()
    assert [e.key for e in store.tasks.claim_again([intent])] == [OPEN_INTENT]
    store.close()
    again = Store(url, "hubspot", now)
    assert everything(again)["records"] == held["records"]
    again.close()


def test_the_upgrade_leaves_a_version_row_that_handoff_0_1_refuses(tmp_path):
    url = v1_copy(tmp_path)
    Store(url, "hubspot", now).close()
    engine = create_engine(url)
    with engine.connect() as conn:
        # Handoff 0.1 refused any store whose version is above its own (1)
        assert conn.execute(text("SELECT version FROM handoff_schema")).scalar_one() > 1
    engine.dispose()


def test_a_postgresql_schema_made_by_the_old_runner_is_upgraded_with_every_row_intact(postgresql_url, tmp_path):
    engine = create_engine(postgresql_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(V1_POSTGRESQL.read_text())
        _copy_rows(create_engine(f"sqlite:///{V1_SQLITE}"), conn)
    engine.dispose()
    upgraded = Store(postgresql_url, "hubspot", now)
    reference = Store(v1_copy(tmp_path), "hubspot", now)
    assert upgraded.revision == head()
    assert everything(upgraded) == everything(reference)
    assert sum(len(batch) for batch in upgraded.records.due(now())) == 37
    assert upgraded.runs.start("sync", dry_run=False) > 2  # ids go on from the old rows
    upgraded.close()
    reference.close()


def _copy_rows(source_engine, conn) -> None:
    """The rows of the version-1 state file, into version-1 tables on PostgreSQL."""
    conn.execute(text("SET LOCAL TIME ZONE 'UTC'"))  # the file's times are naive UTC
    source, target = MetaData(), MetaData()
    source.reflect(source_engine)
    target.reflect(conn)
    with source_engine.connect() as reading:
        for name in ("cursors", "records", "pending_writes", "tasks", "dead_letters", "runs"):
            rows = [dict(r._mapping) for r in reading.execute(source.tables[name].select())]
            conn.execute(target.tables[name].insert(), rows)
    for name in ("dead_letters", "runs"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"))
    source_engine.dispose()


def test_a_new_store_is_built_by_the_migrations_alone(state_url):
    store = Store(state_url, "hubspot", now)
    engine = create_engine(state_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert tables == {
        "alembic_version",
        "handoff_schema",
        "cursors",
        "records",
        "pending_writes",
        "tasks",
        "dead_letters",
        "runs",
        "episodes",
        "alerts",
        "escalations",
        "rotation",
        "rotation_picks",
        "crm_leads",
        "lookups",
    }
    assert store.revision == head()
    store.close()


def test_a_store_migrated_by_a_newer_handoff_is_refused(state_url):
    Store(state_url, "hubspot", now).close()
    engine = create_engine(state_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    with pytest.raises(StateError, match=r"schema revision 0999, newer than this Handoff \(revision \w+\)"):
        Store(state_url, "hubspot", now)


def test_a_store_from_an_unknown_version_of_the_old_runner_is_refused(state_url):
    engine = create_engine(state_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE handoff_schema (id INTEGER PRIMARY KEY, version INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO handoff_schema VALUES (1, 99)"))
    engine.dispose()
    with pytest.raises(StateError, match="schema version 99, newer than this Handoff"):
        Store(state_url, "hubspot", now)


def test_the_sweep_due_migration_goes_down_and_up_again_keeping_the_records(state_url):
    store = Store(state_url, "hubspot", now)
    store.records.put([RecordState("1", lead(id="1"), crm(), sweep_due=now(), sweep_status="mql")])
    store.close()
    engine = create_engine(state_url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0007_cache")
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("records")}
    engine.dispose()
    assert "sweep_due" not in columns and "record_id" in columns
    again = Store(state_url, "hubspot", now)
    [[record]] = list(again.records.due(now()))
    assert (record.record_id, record.sweep_due) == ("1", None)  # due at the next sweep
    again.close()


def test_the_head_read_from_the_migration_files_is_alembics_head():
    assert head() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_store_already_at_this_revision_opens_without_loading_alembic(state_url):
    def open_in_a_new_process() -> list[str]:
        opened = subprocess.run(
            [sys.executable, "-c", OPEN_AND_SAY_IF_ALEMBIC_LOADED, state_url],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
        )
        assert opened.returncode == 0, opened.stderr
        return opened.stdout.split()

    assert open_in_a_new_process() == [head(), "True"]  # a new store is migrated
    assert open_in_a_new_process() == [head(), "False"]
