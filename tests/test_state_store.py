"""The state store on SQLite and on PostgreSQL: the same behaviour on both."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import timedelta

import pytest
from builders import NOW, crm, demo_request, lead
from sqlalchemy import text

from connector.model import Activity, CrmState, Lead, Memory, Priority, Stage, TaskSpec
from connector.state import PendingWrite, RecordState, StateError, Store, Waiting
from connector.state.migrate import head


class FakeClock:
    def __init__(self, now=NOW):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(state_url, clock):
    s = Store(state_url, "hubspot", clock)
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


def test_a_new_store_is_at_the_current_schema_revision(store):
    assert store.revision == head()


def test_reopening_keeps_everything(state_url, clock):
    first = Store(state_url, "hubspot", clock)
    first.cursors.set("contacts", "2026-11-18T09:00:00.000Z")
    first.close()
    again = Store(state_url, "hubspot", clock)
    assert again.cursors.get("contacts") == "2026-11-18T09:00:00.000Z"
    again.close()


def test_cursors_are_per_crm(state_url, clock):
    hubspot, salesforce = Store(state_url, "hubspot", clock), Store(state_url, "salesforce", clock)
    hubspot.cursors.set("contacts", "a")
    assert salesforce.cursors.get("contacts") is None
    hubspot.cursors.set("contacts", "b")
    assert hubspot.cursors.get("contacts") == "b"
    hubspot.cursors.clear("contacts")
    assert hubspot.cursors.get("contacts") is None


def test_records_round_trip_with_lead_memory_and_written_values(store):
    memory = Memory(
        episode=2,
        episode_start=NOW,
        level=Stage.MQL,
        promoted=Stage.MQL,
        last_lead_status="OPEN",
        crm_stage=Stage.SQL,
        rejected_at=NOW,
        recycle_reason="moved back to mql",
    )
    original = state(
        memory=memory, counters={"page_views": 12}, written={"score": "55", "stage": "mql"}, modified_at=NOW
    )
    store.records.put([original])
    loaded = store.records.get(["1", "missing"])
    assert list(loaded) == ["1"]
    assert loaded["1"] == original


def test_long_written_and_counter_values_and_a_crm_state_as_the_lead_has_it_read_back_equal(store):
    reasons = "- Requested a demo (1 day ago)\n- Executive title (VP Engineering)\n- Sales territory (DE)"
    properties = {**lead().properties, "lifecycle_stage": "mql", "lead_status": "OPEN", "owner_id": "7"}
    original = state(
        lead=lead(demo_request(1), id="1", **properties),
        crm_state=CrmState(Stage.MQL, "OPEN", "7", "Ana Ruiz", properties["company"]),
        counters={"recent_conversion_date": "2026-11-17T10:00:00.000Z", "hs_email_open": "3"},
        written={"score": "55", "reasons": reasons},
    )
    store.records.put([original])
    assert store.records.get(["1"])["1"] == original
    with store._db.connect() as conn:
        kept = conn.execute(text("SELECT crm_state, written FROM records")).one()
    assert reasons not in str(kept.written) and "Ana Ruiz" not in str(kept.crm_state)


def test_putting_a_record_again_replaces_it(store):
    store.records.put([state(written={"score": "10"})])
    store.records.put([state(written={"score": "20"})])
    assert store.records.get(["1"])["1"].written == {"score": "20"}
    assert store.records.count() == 1


def test_the_sweep_reads_records_without_a_due_time_then_those_due_and_counts_the_rest(store):
    dues = {"1": None, "2": NOW - timedelta(days=2), "3": NOW, "4": NOW + timedelta(seconds=1), "5": None}
    dues |= {"6": NOW - timedelta(days=2), "7": NOW + timedelta(days=30)}
    store.records.put([state(r, sweep_due=due, sweep_status="mql" if r in "47" else "lead") for r, due in dues.items()])
    read = [[r.record_id for r in batch] for batch in store.records.due(NOW, batch_size=2)]
    # no due time first (by id), then by due time and id; what is due later stays unread
    assert read == [["1", "5"], ["2", "6"], ["3"]]
    assert store.records.steady(NOW) == {"mql": 2}
    assert store.records.get(["2"])["2"].sweep_due == NOW - timedelta(days=2)


def test_a_record_given_a_later_due_time_while_the_sweep_pages_is_not_read_again(store):
    store.records.put([state(str(r), sweep_due=NOW - timedelta(hours=r)) for r in range(1, 6)])
    seen = []
    for batch in store.records.due(NOW, batch_size=2):
        seen += [r.record_id for r in batch]
        for record in batch:
            record.sweep_due, record.sweep_status = NOW + timedelta(days=1), "lead"
        store.records.mark_due(batch)
    assert seen == ["5", "4", "3", "2", "1"]
    assert list(store.records.due(NOW)) == []
    assert store.records.steady(NOW) == {"lead": 5}


def test_record_batches_page_through_everything_in_id_order(store):
    store.records.put([state(str(i)) for i in range(7)])
    batches = list(store.records.batches(batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [r.record_id for b in batches for r in b] == sorted(str(i) for i in range(7))


def test_pending_writes_are_kept_until_dropped(store):
    store.pending.put([PendingWrite("1", {"score": "50"}, Stage.SQL, False, 1, "HTTP 502")])
    store.pending.put([PendingWrite("1", {"score": "51"}, Stage.SQL, False, 2, "HTTP 503")])
    assert store.pending.all() == [PendingWrite("1", {"score": "51"}, Stage.SQL, False, 2, "HTTP 503")]
    store.pending.drop(["1"])
    assert store.pending.all() == []


def keys(entries):
    return sorted(e.key for e in entries)


def test_a_task_is_claimed_once_and_confirmed_later(store):
    assert keys(store.tasks.claim([task()])) == ["handoff:1:sql:0"]
    assert store.tasks.claim([task()]) == []  # a retried cycle neither claims it again nor resets it
    assert keys(store.tasks.open_intents()) == ["handoff:1:sql:0"]
    store.tasks.created("handoff:1:sql:0", "9001")
    assert store.tasks.open_intents() == []
    entry = store.tasks.entries(["handoff:1:sql:0"])["handoff:1:sql:0"]
    assert (entry.status, entry.crm_task_id, entry.spec) == ("created", "9001", task())
    assert store.tasks.claim([task()]) == []
    assert store.tasks.entries(["handoff:1:sql:0"])["handoff:1:sql:0"].status == "created"


def test_two_processes_claiming_the_same_tasks_at_once_each_get_a_share_and_none_twice(state_url, clock):
    specs = [task(f"handoff:{n}:sql:0", str(n)) for n in range(300)]
    stores = [Store(state_url, "hubspot", clock) for _ in range(2)]  # two engines, as two processes have
    together = threading.Barrier(2)
    won: list[list[str]] = [[], []]

    def claim_all(i):
        together.wait()
        for start in range(0, len(specs), 10):
            won[i] += keys(stores[i].tasks.claim(specs[start : start + 10]))

    threads = [threading.Thread(target=claim_all, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(won[0]).isdisjoint(won[1])
    assert sorted(won[0] + won[1]) == keys(specs)
    for s in stores:
        s.close()


def test_an_open_intent_read_by_two_processes_is_taken_over_by_exactly_one(state_url, clock):
    first, second = Store(state_url, "hubspot", clock), Store(state_url, "hubspot", clock)
    first.tasks.claim([task()])
    [seen_by_first], [seen_by_second] = first.tasks.open_intents(), second.tasks.open_intents()
    clock.now = NOW + timedelta(minutes=5)
    [taken] = first.tasks.claim_again([seen_by_first])
    assert (taken.claims, taken.updated_at) == (1, clock.now)
    assert second.tasks.claim_again([seen_by_second]) == []  # what it read is out of date
    assert keys(second.tasks.claim_again(second.tasks.open_intents())) == ["handoff:1:sql:0"]
    first.tasks.created("handoff:1:sql:0", "9001")
    assert second.tasks.claim_again([seen_by_second]) == []  # a created task is never claimed again
    first.close()
    second.close()


def test_a_failure_reported_late_never_reopens_a_task_created_meanwhile(store):
    store.tasks.claim([task()])
    store.tasks.created("handoff:1:sql:0", "9001")
    store.tasks.failed("handoff:1:sql:0", "HTTP 502", dead=False)
    assert store.tasks.entries(["handoff:1:sql:0"])["handoff:1:sql:0"].status == "created"


def test_waiting_counts_open_intents_from_the_oldest_claim(store, clock):
    assert store.tasks.waiting() == Waiting(0, None)
    store.tasks.claim([task("handoff:1:sql:0", "1")])
    clock.now = NOW + timedelta(minutes=1)
    store.tasks.claim([task("handoff:2:sql:0", "2"), task("handoff:3:sql:0", "3")])
    store.tasks.created("handoff:3:sql:0", "9003")
    assert store.tasks.waiting() == Waiting(2, NOW)


def test_a_failing_task_counts_attempts_then_dies(store):
    store.tasks.claim([task()])
    store.tasks.failed("handoff:1:sql:0", "owner is a queue", dead=False)
    assert store.tasks.open_intents()[0].attempts == 1
    store.tasks.failed("handoff:1:sql:0", "owner is a queue", dead=True)
    assert store.tasks.open_intents() == []
    assert store.tasks.count("dead") == 1


def test_dead_letters_keep_the_payload_and_error(store, clock):
    store.dead_letters.add("1", "write", {"properties": {"score": "50"}}, "PROPERTY_DOESNT_EXIST", attempts=5)
    [letter] = store.dead_letters.all()
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
        store.cursors.set("contacts", "x")
        store.tasks.claim([task()])
        raise RuntimeError("killed mid-transaction")
    assert store.cursors.get("contacts") is None
    assert store.tasks.open_intents() == []


def test_runs_are_reported(store, clock):
    run_id = store.runs.start("sync", dry_run=False)
    clock.now = NOW + timedelta(seconds=30)
    store.runs.finish(run_id, "ok", {"written": 3})
    [run] = store.runs.last()
    assert (run["kind"], run["status"], run["report"], run["finished_at"]) == ("sync", "ok", {"written": 3}, clock.now)


def test_an_unreachable_database_is_one_clear_error_without_the_password(clock):
    with pytest.raises(StateError) as caught:
        Store("postgresql+psycopg://handoff:s3cret@127.0.0.1:1/nowhere", "hubspot", clock)
    assert "s3cret" not in str(caught.value)
    assert "[redacted]@127.0.0.1:1" in str(caught.value)  # the user name goes too; the host stays


def test_last_success_is_the_last_real_run_that_ended_well(store, clock):
    assert store.runs.last_success("sweep") is None
    for status, dry_run, minutes in (
        ("ok", False, 1),
        ("failed", False, 2),
        ("ok", True, 3),
        ("ok", False, 4),
        ("stopped", False, 5),
    ):
        clock.now = NOW + timedelta(minutes=minutes)
        run = store.runs.start("sweep", dry_run=dry_run)
        store.runs.finish(run, status, {})
    store.runs.finish(store.runs.start("sync", dry_run=False), "ok", {})
    assert store.runs.last_success("sweep") == NOW + timedelta(minutes=4)


def test_a_lead_is_stored_in_short_form_and_reads_back_whole(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'state.sqlite'}", "hubspot", lambda: NOW)
    activities = (
        Activity("page_view", NOW - timedelta(days=3), url="https://vendor.example/pricing"),
        Activity("email_open", NOW - timedelta(days=2), count=3),
        Activity("form_submission", NOW - timedelta(days=1), name="Request a demo"),
    )
    state = RecordState("1", Lead("1", {"email": "a@b.example"}, activities), CrmState(Stage.LEAD))
    store.records.put([state])
    assert store.records.get(["1"])["1"].lead == state.lead
    with store._db.connect() as conn:
        stored = conn.execute(text("SELECT lead, memory, crm_state FROM records")).one()
    assert len(stored.lead) < len(json.dumps(state.lead.to_json())) * 2 // 3
    assert (stored.memory, stored.crm_state) == ("{}", '{"stage":"lead"}')  # defaults are not stored
    store.close()


def test_a_new_sqlite_store_takes_pages_that_hold_many_records(tmp_path):
    path = tmp_path / "state.sqlite"
    Store(f"sqlite:///{path}", "hubspot", lambda: NOW).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA page_size").fetchone() == (16384,)


def test_a_records_json_read_back_in_one_piece_is_each_column_as_the_json_module_reads_it(store):
    # a number orjson reads otherwise (beyond 64 bits) in one column sends the whole row to the json module
    original = state(counters={"hs_big": 10**20, "hs_email_open": 3}, written={"score": "55", "fit_score": None})
    store.records.put([original])
    loaded = store.records.get(["1"])["1"]
    assert loaded == original and isinstance(loaded.counters["hs_big"], int)
    assert [s for batch in store.records.batches() for s in batch] == [original]
