"""Alerts posted over real HTTP to a receiver on 127.0.0.1 that checks the signature as documented."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from alert_builders import SIGNING_SECRET, clock, new_sql, sla_breach
from pydantic import SecretStr

from connector.alerts import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AlertConfig,
    AlertFormat,
    AlertSender,
    Failed,
    RetryLater,
    Sent,
    json_body,
    slack_message,
    verify_signature,
)

SECRET_PATH = "/hooks/T0AB12CD3/xS3cr3tPathToken"


@dataclass
class Receiver:
    """What a team's own webhook endpoint would do: verify, record, answer."""

    secret: str
    clock: Callable[[], float]
    #: answers to give, in order, before settling on 200 "ok": (status, headers)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    rejected: int = 0
    url: str = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        stamp, signature = handler.headers[TIMESTAMP_HEADER], handler.headers[SIGNATURE_HEADER]
        if handler.path != SECRET_PATH or not verify_signature(self.secret, body, stamp, signature, now=self.clock()):
            self.rejected += 1
            self._answer(handler, 401, {}, b"invalid_signature")
            return
        self.bodies.append(body)
        status, headers = self.script.pop(0) if self.script else (200, {})
        self._answer(handler, status, headers, b"ok" if status == 200 else b"busy")

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], text: bytes) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(text)))
        handler.end_headers()
        handler.wfile.write(text)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(secret=SIGNING_SECRET, clock=clock)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.handle(self)

        def log_message(self, *_args: object) -> None:  # the path is a secret: not on stderr either
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


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
