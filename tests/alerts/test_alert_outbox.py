"""The alert outbox on its own (SQLite and PostgreSQL): the SLA-breach entry point, what waits, the ledger it keeps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import respx
from alert_builders import AT, WEBHOOK, new_sql
from pydantic import SecretStr

from connector.alerts import AlertConfig, AlertKind, AlertSender, json_body
from connector.model import CrmState, Stage
from connector.outcomes.episode import Episode
from connector.state import PendingWrite, Store
from connector.state.alerts import ALERT_PENDING, ALERT_SENT
from connector.sync.alerting import AlertOptions, AlertOutbox
from connector.sync.report import RunReport

LINK = "https://app.hubspot.com/contacts/4242/record/0-1/"


class Clock:
    def __init__(self) -> None:
        self.now = AT

    def __call__(self):
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(state_url, clock) -> Iterator[Store]:
    opened = Store(state_url, "hubspot", clock)
    yield opened
    opened.close()


@pytest.fixture
def webhook() -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(WEBHOOK)


def outbox(store: Store, clock: Clock, *kinds: AlertKind) -> AlertOutbox:
    sender = AlertSender(
        AlertConfig(url=SecretStr(WEBHOOK), format="json", max_attempts=1),
        sleep=lambda _s: None,
        clock=lambda: clock().timestamp(),
    )
    options = AlertOptions(kinds=frozenset(kinds)) if kinds else AlertOptions()
    return AlertOutbox(store, sender, options, clock, record_link=lambda record_id: LINK + record_id)


def late_episode() -> Episode:
    return Episode(record_id="1001", number=2, sql_at=AT, task_due_at=AT + timedelta(hours=1), owner_id="77", score=91)


def test_an_sla_breach_is_claimed_once_per_episode_and_posted_at_the_next_delivery(store, clock, webhook):
    webhook.mock(return_value=httpx.Response(200))
    clock.now = AT + timedelta(hours=3)
    alerts = outbox(store, clock)
    assert alerts.breach(late_episode(), CrmState(Stage.SQL, name="Ana Ruiz", company="Acme"), owner_name="Sam")
    assert not alerts.breach(late_episode(), CrmState(Stage.SQL))  # the same episode breaches once
    report = RunReport("sync", False)
    alerts.deliver(report)
    [call] = webhook.calls
    body = httpx.Response(200, content=call.request.content).json()
    assert (body["event"], body["key"], body["overdue_seconds"]) == ("sla_breach", "alert:1001:2:sla_breach", 7200)
    assert (body["record"]["url"], body["owner"]) == (LINK + "1001", {"id": "77", "name": "Sam"})
    assert report.alerts == {"sent": 1} and store.alerts.count(ALERT_SENT) == 1


def test_breach_alerts_switched_off_are_not_claimed(store, clock):
    alerts = outbox(store, clock, AlertKind.NEW_SQL)
    assert not alerts.breach(late_episode(), CrmState(Stage.SQL))
    assert alerts.enqueue([new_sql(kind=AlertKind.SLA_BREACH, due_at=AT)]) == []
    assert store.alerts.count() == 0


def test_an_alert_waits_while_its_records_write_waits_for_a_retry(store, clock, webhook):
    webhook.mock(return_value=httpx.Response(200))
    alerts = outbox(store, clock)
    assert alerts.enqueue([new_sql()]) == ["alert:1001:2:new_sql"]
    store.pending.put([PendingWrite("1001", {"handoff_status": "sql"}, Stage.SQL, attempts=1, last_error="HTTP 502")])
    alerts.deliver(RunReport("sync", False))
    assert not webhook.called and store.alerts.count(ALERT_PENDING) == 1
    store.pending.drop(["1001"])
    alerts.deliver(RunReport("sync", False))
    assert webhook.call_count == 1
    assert httpx.Response(200, content=webhook.calls[0].request.content).json() == json_body(new_sql())


def test_a_receivers_pause_is_kept_across_cycles(store, clock, webhook):
    webhook.mock(side_effect=[httpx.Response(429, headers={"Retry-After": "600"}), httpx.Response(200)])
    alerts = outbox(store, clock)
    alerts.enqueue([new_sql()])
    alerts.deliver(first := RunReport("sync", False))
    assert first.alerts == {"retrying": 1}
    clock.now = AT + timedelta(minutes=5)
    alerts.start()
    alerts.deliver(early := RunReport("sync", False))
    assert early.alerts == {} and webhook.call_count == 1
    clock.now = AT + timedelta(minutes=10)
    alerts.deliver(late := RunReport("sync", False))
    assert late.alerts == {"sent": 1} and webhook.call_count == 2


def test_after_a_passing_failure_the_run_posts_no_more(store, clock, webhook):
    webhook.mock(return_value=httpx.Response(503))
    alerts = outbox(store, clock)
    alerts.enqueue([new_sql(record_id="1001"), new_sql(record_id="1002")])
    alerts.deliver(RunReport("sync", False))
    alerts.deliver(RunReport("sync", False))
    assert webhook.call_count == 1  # max_attempts=1: one post, then the run leaves the receiver alone
    alerts.start()
    alerts.deliver(RunReport("sync", False))
    assert webhook.call_count == 2


def test_a_claimed_alert_is_not_claimed_again_even_after_it_was_sent(store, clock, webhook):
    webhook.mock(return_value=httpx.Response(200))
    alerts = outbox(store, clock)
    assert alerts.enqueue([new_sql()]) == ["alert:1001:2:new_sql"]
    alerts.deliver(RunReport("sync", False))
    assert alerts.enqueue([new_sql(reasons=("Something else",))]) == []
    alerts.deliver(RunReport("sync", False))
    assert webhook.call_count == 1


def test_an_alert_whose_posts_were_all_lost_in_crashes_is_dead_lettered_not_posted_again(store, clock, webhook):
    webhook.mock(return_value=httpx.Response(200))
    alerts = outbox(store, clock)
    alerts.enqueue([new_sql()])
    for _ in range(AlertOptions().max_attempts):  # each post counted, then the process died before marking it
        [entry] = store.alerts.due(10)
        assert store.alerts.take(entry)
    alerts.deliver(report := RunReport("sync", False))
    assert not webhook.called and report.alerts == {"dead_lettered": 1}
    [letter] = store.dead_letters.all()
    assert (letter.kind, letter.attempts) == ("alert", 5) and "never recorded" in letter.error
