"""The state store on SQLite and on PostgreSQL: the same behaviour on both."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
from builders import NOW, crm, demo_request, lead
from sqlalchemy import create_engine, text

from connector.model import Memory, Priority, Stage, TaskSpec
from connector.state import PendingWrite, RecordState, StateError, Store
from connector.state.schema import SCHEMA_VERSION

PG_URL = os.environ.get("HANDOFF_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class FakeClock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    schema_name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    except Exception as exc:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL at {PG_URL}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema_name}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
    admin.dispose()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(store_url, clock):
    s = Store(store_url, "hubspot", clock)
    yield s
    s.close()


def task(key="handoff:1:sql:0", record_id="1"):
    return TaskSpec(
        key=key,
        record_id=record_id,
        stage=Stage.SQL,
        owner_id="77",
        subject="s",
        body="b",
        due_at=NOW + timedelta(hours=1),
        priority=Priority.HIGH,
    )


def state(record_id="1", **fields):
    defaults = {"lead": lead(demo_request(1), id=record_id), "crm_state": crm(stage=Stage.MQL, status="OPEN")}
    return RecordState(record_id=record_id, **{**defaults, **fields})


def test_a_new_store_is_at_the_current_schema_version(store):
    assert store.schema_version == SCHEMA_VERSION


def test_reopening_keeps_everything(store_url, clock):
    first = Store(store_url, "hubspot", clock)
    first.set_cursor("contacts", "2026-11-18T09:00:00.000Z")
    first.close()
    again = Store(store_url, "hubspot", clock)
    assert again.get_cursor("contacts") == "2026-11-18T09:00:00.000Z"
    again.close()


def test_cursors_are_per_crm(store_url, clock):
    hubspot, salesforce = Store(store_url, "hubspot", clock), Store(store_url, "salesforce", clock)
    hubspot.set_cursor("contacts", "a")
    assert salesforce.get_cursor("contacts") is None
    hubspot.set_cursor("contacts", "b")
    assert hubspot.get_cursor("contacts") == "b"
    hubspot.clear_cursor("contacts")
    assert hubspot.get_cursor("contacts") is None


def test_records_round_trip_with_lead_memory_and_written_values(store):
    memory = Memory(episode=2, episode_start=NOW, level=Stage.MQL, promoted=Stage.MQL, last_lead_status="OPEN")
    original = state(
        memory=memory, counters={"page_views": 12}, written={"score": "55", "stage": "mql"}, modified_at=NOW
    )
    store.put_records([original])
    loaded = store.get_records(["1", "missing"])
    assert list(loaded) == ["1"]
    assert loaded["1"] == original


def test_putting_a_record_again_replaces_it(store):
    store.put_records([state(written={"score": "10"})])
    store.put_records([state(written={"score": "20"})])
    assert store.get_records(["1"])["1"].written == {"score": "20"}
    assert store.count_records() == 1


def test_iter_records_pages_through_everything_in_id_order(store):
    store.put_records([state(str(i)) for i in range(7)])
    batches = list(store.iter_records(batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [r.record_id for b in batches for r in b] == sorted(str(i) for i in range(7))


def test_pending_writes_are_kept_until_dropped(store):
    store.put_pending([PendingWrite("1", {"score": "50"}, Stage.SQL, False, 1, "HTTP 502")])
    store.put_pending([PendingWrite("1", {"score": "51"}, Stage.SQL, False, 2, "HTTP 503")])
    assert store.pending_writes() == [PendingWrite("1", {"score": "51"}, Stage.SQL, False, 2, "HTTP 503")]
    store.drop_pending(["1"])
    assert store.pending_writes() == []


def test_a_task_intent_is_recorded_once_and_confirmed_later(store):
    store.record_task_intents([task()])
    store.record_task_intents([task()])  # a retried cycle must not reset the entry
    assert [t.key for t in store.open_task_intents()] == ["handoff:1:sql:0"]
    store.mark_task_created("handoff:1:sql:0", "9001")
    assert store.open_task_intents() == []
    entry = store.task_entries(["handoff:1:sql:0"])["handoff:1:sql:0"]
    assert (entry.status, entry.crm_task_id, entry.spec) == ("created", "9001", task())
    store.record_task_intents([task()])
    assert store.task_entries(["handoff:1:sql:0"])["handoff:1:sql:0"].status == "created"


def test_a_failing_task_counts_attempts_then_dies(store):
    store.record_task_intents([task()])
    store.mark_task_failed("handoff:1:sql:0", "owner is a queue", dead=False)
    assert store.open_task_intents()[0].attempts == 1
    store.mark_task_failed("handoff:1:sql:0", "owner is a queue", dead=True)
    assert store.open_task_intents() == []
    assert store.count_tasks("dead") == 1


def test_dead_letters_keep_the_payload_and_error(store, clock):
    store.add_dead_letter("1", "write", {"properties": {"score": "50"}}, "PROPERTY_DOESNT_EXIST", attempts=5)
    [letter] = store.dead_letters()
    assert (letter.record_id, letter.kind, letter.payload, letter.error, letter.attempts) == (
        "1",
        "write",
        {"properties": {"score": "50"}},
        "PROPERTY_DOESNT_EXIST",
        5,
    )
    assert letter.created_at == clock.now


def test_atomic_rolls_back_everything_on_failure(store):
    with pytest.raises(RuntimeError), store.atomic():
        store.set_cursor("contacts", "x")
        store.record_task_intents([task()])
        raise RuntimeError("killed mid-transaction")
    assert store.get_cursor("contacts") is None
    assert store.open_task_intents() == []


def test_runs_are_reported(store, clock):
    run_id = store.start_run("sync", dry_run=False)
    clock.now = NOW + timedelta(seconds=30)
    store.finish_run(run_id, "ok", {"written": 3})
    [run] = store.last_runs()
    assert (run["kind"], run["status"], run["report"], run["finished_at"]) == ("sync", "ok", {"written": 3}, clock.now)


def test_a_store_from_a_newer_handoff_is_refused(store_url, clock):
    Store(store_url, "hubspot", clock).close()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE handoff_schema SET version = 99"))
    engine.dispose()
    with pytest.raises(StateError, match="schema version 99, newer than this Handoff"):
        Store(store_url, "hubspot", clock)


def test_an_unreachable_database_is_one_clear_error_without_the_password(clock):
    with pytest.raises(StateError) as caught:
        Store("postgresql+psycopg://handoff:s3cret@127.0.0.1:1/nowhere", "hubspot", clock)
    assert "s3cret" not in str(caught.value)
    assert "***" in str(caught.value)


def test_last_success_is_the_last_real_run_that_ended_well(store, clock):
    assert store.last_success("sweep") is None
    for status, dry_run, minutes in (
        ("ok", False, 1),
        ("failed", False, 2),
        ("ok", True, 3),
        ("ok", False, 4),
        ("stopped", False, 5),
    ):
        clock.now = NOW + timedelta(minutes=minutes)
        run = store.start_run("sweep", dry_run=dry_run)
        store.finish_run(run, status, {})
    store.finish_run(store.start_run("sync", dry_run=False), "ok", {})
    assert store.last_success("sweep") == NOW + timedelta(minutes=4)
