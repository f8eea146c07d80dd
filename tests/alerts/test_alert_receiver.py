"""Alerts posted over real HTTP to a receiver on 127.0.0.1 that checks the signature as documented."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from alert_builders import SECRET_PATH, SIGNING_SECRET, Receiver, clock, new_sql, receiving, sla_breach
from pydantic import SecretStr

from connector.alerts import (
    AlertConfig,
    AlertFormat,
    AlertSender,
    Failed,
    RetryLater,
    Sent,
    json_body,
    slack_message,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving(clock) as state:
        yield state


def sender_for(url: str, sleeps: list[float], fmt: AlertFormat = "json", secret: str = SIGNING_SECRET) -> AlertSender:
    config = AlertConfig(url=SecretStr(url), format=fmt, secret=SecretStr(secret))
    return AlertSender(config, sleep=sleeps.append, clock=clock)


def test_a_signed_json_alert_is_verified_and_received_as_sent(receiver):
    sleeps: list[float] = []
    with sender_for(receiver.url, sleeps) as s:
        outcome = s.send(sla_breach())
    assert outcome == Sent(key="alert:1001:2:sla_breach", status=200, attempts=1)
    [body] = receiver.bodies
    assert json.loads(body) == json_body(sla_breach())
    assert receiver.rejected == 0


def test_the_slack_format_arrives_as_blocks_with_a_fallback_text(receiver):
    with sender_for(receiver.url, [], fmt="slack") as s:
        assert isinstance(s.send(new_sql()), Sent)
    message = json.loads(receiver.bodies[0])
    assert message["text"].startswith("New SQL: Ana Ruiz (Acme)")
    assert message == slack_message(new_sql())


def test_a_wrong_secret_is_refused_by_the_receiver_and_dead_lettered(receiver):
    with sender_for(receiver.url, [], secret="not-the-shared-secret") as s:
        outcome = s.send(new_sql())
    assert isinstance(outcome, Failed) and outcome.status == 401
    assert outcome.error.endswith("answered 401 (invalid_signature)")
    assert receiver.rejected == 1 and receiver.bodies == []


def test_a_replayed_request_is_refused(receiver):
    receiver.clock = lambda: clock() + 600  # the receiver sees the request ten minutes after it was signed
    with sender_for(receiver.url, []) as s:
        assert isinstance(s.send(new_sql()), Failed)
    assert receiver.rejected == 1


def test_a_busy_receiver_gets_the_pause_it_asked_for_and_the_same_key_again(receiver):
    receiver.script = [(503, {"Retry-After": "2"})]
    sleeps: list[float] = []
    with sender_for(receiver.url, sleeps) as s:
        outcome = s.send(new_sql())
    assert outcome == Sent(key="alert:1001:2:new_sql", status=200, attempts=2)
    assert sleeps == [2.0]
    keys = [json.loads(b)["key"] for b in receiver.bodies]
    assert keys == ["alert:1001:2:new_sql"] * 2  # a receiver drops the repeat by its key


def test_a_receiver_that_is_down_is_retried_next_cycle():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    with sender_for(f"http://127.0.0.1:{port}{SECRET_PATH}", sleeps) as s:
        outcome = s.send(new_sql())
    assert isinstance(outcome, RetryLater) and outcome.attempts == 3
    assert outcome.error.startswith(f"alert webhook http://127.0.0.1:{port}: ConnectError")
    assert SECRET_PATH not in outcome.error and len(sleeps) == 2
