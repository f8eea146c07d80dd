"""The escalation ledger in each state store: one claim per episode, an unconfirmed update offered again."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from builders import NOW

from connector.model import Priority, Stage
from connector.outcomes.episode import Episode
from connector.policy.escalation import Escalation
from connector.state import Store
from connector.state.escalations import ESCALATION_DEAD, ESCALATION_DONE


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


def escalation(record_id: str = "1001", actions=("raise_priority", "reassign", "alert")) -> Escalation:
    episode = Episode(record_id=record_id, number=1, sql_at=NOW)
    return Escalation(
        record_id=record_id,
        episode=episode,
        task_key=f"handoff:{record_id}:sql:0",
        crm_task_id=f"task-{record_id}",
        stage=Stage.SQL,
        previous_owner="11",
        owner_id="22",
        priority=Priority.HIGH,
        actions=actions,
        due_at=NOW,
        overdue_seconds=3600,
    )


def test_of_two_replicas_claiming_one_episode_exactly_one_escalates_it(state_url):
    clock = Clock()
    one, other = Store(state_url, "hubspot", clock), Store(state_url, "hubspot", clock)
    try:
        won = one.escalations.claim([escalation("1001"), escalation("1002")])
        lost = other.escalations.claim([escalation("1002"), escalation("1003")])
        assert [e.record_id for e in won] == ["1001", "1002"]
        assert [e.record_id for e in lost] == ["1003"]
    finally:
        one.close()
        other.close()


def test_an_unconfirmed_update_is_offered_again_once_settled_until_done_or_dead(state_url):
    clock = Clock()
    store = Store(state_url, "salesforce", clock)
    try:
        store.escalations.claim([escalation("1001"), escalation("1002"), escalation("1003", actions=("alert",))])
        settle = timedelta(minutes=2)
        assert store.escalations.unfinished(clock.now - settle) == []  # just claimed: its claimant is at it
        clock.now += settle
        offered = store.escalations.unfinished(clock.now - settle)
        # an alert-only escalation has nothing to send: done as claimed
        assert [(e.record_id, e.crm_task_id, e.owner_id, e.priority) for e in offered] == [
            ("1001", "task-1001", "22", Priority.HIGH),
            ("1002", "task-1002", "22", Priority.HIGH),
        ]
        store.escalations.done(offered[0].key)
        store.escalations.failed(offered[1].key, "INVALID_CROSS_REFERENCE_KEY", dead=True)
        clock.now += settle
        assert store.escalations.unfinished(clock.now) == []
        assert (store.escalations.count(ESCALATION_DONE), store.escalations.count(ESCALATION_DEAD)) == (2, 1)
    finally:
        store.close()


def test_the_follow_up_reads_only_episodes_awaiting_a_touch_in_its_window_and_not_escalated(state_url):
    clock = Clock()
    store = Store(state_url, "hubspot", clock)
    try:
        waiting = Episode(record_id="1001", number=1, sql_at=NOW - timedelta(hours=3))
        store.episodes.upsert(
            [
                waiting,
                replace(waiting, record_id="1002", first_touch_at=NOW),  # touched
                replace(waiting, record_id="1003", won_at=NOW, deal_id="d1"),  # closed
                replace(waiting, record_id="1004"),  # escalated below
                replace(waiting, record_id="1005", sql_at=NOW - timedelta(minutes=30)),  # too young to be due
                replace(waiting, record_id="1006", sql_at=NOW - timedelta(days=20)),  # beyond the horizon
            ]
        )
        store.escalations.claim([escalation("1004")])
        found = store.episodes.awaiting_follow_up(NOW - timedelta(days=14), NOW - timedelta(hours=2))
        assert [e.record_id for e in found] == ["1001"]
    finally:
        store.close()
