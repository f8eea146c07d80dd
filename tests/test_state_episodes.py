"""The episodes table on SQLite and on PostgreSQL: upsert, open episodes, history, lead counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import NOW, crm, demo_request, lead
from test_state_store import FakeClock

from connector.outcomes import Episode
from connector.state import RecordState, Store


@pytest.fixture
def store(state_url):
    s = Store(state_url, "hubspot", FakeClock())
    yield s
    s.close()


def episode(record_id="1", number=1, **fields):
    return Episode(record_id=record_id, number=number, **{"mql_at": NOW, **fields})


def test_an_upserted_episode_reads_back_exactly(store):
    saved = episode(score=71, grade="A", reasons=("Requested a demo",), rules_fired=("demo_request",))
    store.episodes.upsert([saved])
    assert store.episodes.all() == [saved]


def test_upsert_replaces_the_episode_of_the_same_record_and_number(store):
    store.episodes.upsert([episode()])
    store.episodes.upsert([episode(sql_at=NOW + timedelta(hours=2))])
    assert [e.sql_at for e in store.episodes.all()] == [NOW + timedelta(hours=2)]


def test_an_ended_episode_is_no_longer_open_but_is_still_the_latest(store):
    recycled = episode("1", 1, recycled_at=NOW + timedelta(days=1), sales_reason="BAD_TIMING")
    store.episodes.upsert([recycled, episode("2", 1)])
    assert set(store.episodes.open_for(["1", "2", "3"])) == {"2"}
    assert store.episodes.latest(["1"]) == {"1": recycled}


def test_a_won_deal_ends_an_episode_but_a_deleted_one_does_not(store):
    store.episodes.upsert(
        [
            episode("1", won_at=NOW + timedelta(days=3)),
            episode("2", won_at=NOW + timedelta(days=3), deal_deleted_at=NOW + timedelta(days=4)),
        ]
    )
    assert set(store.episodes.open_for(["1", "2"])) == {"2"}


def test_the_open_episode_is_the_newest_one(store):
    store.episodes.upsert([episode("1", 2, mql_at=NOW + timedelta(days=9)), episode("1", 1, rejected_at=NOW)])
    assert store.episodes.open_for(["1"])["1"].number == 2


def test_all_since_leaves_out_episodes_that_started_earlier(store):
    store.episodes.upsert([episode("1"), episode("2", mql_at=NOW + timedelta(days=40))])
    assert [e.record_id for e in store.episodes.all(since=NOW + timedelta(days=1))] == ["2"]
    assert store.episodes.count() == 2


def test_episodes_belong_to_their_crm(state_url):
    clock = FakeClock()
    hubspot = Store(state_url, "hubspot", clock)
    salesforce = Store(state_url, "salesforce", clock)
    try:
        hubspot.episodes.upsert([episode()])
        assert salesforce.episodes.all() == []
        assert salesforce.episodes.open_for(["1"]) == {}
    finally:
        hubspot.close()
        salesforce.close()


def test_lead_counts_count_records_by_the_month_they_were_created(store):
    def record(record_id, created_at):
        return RecordState(record_id, lead(demo_request(1), id=record_id), crm(), created_at=created_at)

    store.records.put(
        [
            record("1", NOW - timedelta(days=60)),
            record("2", NOW),
            record("3", NOW + timedelta(hours=1)),
            record("4", NOW + timedelta(days=40)),
            record("5", None),  # kept by an older Handoff: no month until the sync reads it again
        ]
    )
    assert store.episodes.lead_counts() == {"2026-09": 1, "2026-11": 2, "2026-12": 1}
