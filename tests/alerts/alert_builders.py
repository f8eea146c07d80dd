"""Alert events in one line each, a webhook URL that is a secret, a clock that never moves, and a
real webhook receiver on 127.0.0.1 that checks the signature as documented."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from connector.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, AlertEvent, AlertKind, verify_signature
from connector.model import Stage

#: when the alerts of these tests happen (epoch seconds of it are ``CLOCK()``)
AT = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
#: a Slack-style webhook URL: its path is the credential
WEBHOOK = "https://hooks.slack.example/services/T0AB12CD3/B0EF45GH6/xS3cr3tT0k3nInThePath"
WEBHOOK_PATH = "/services/T0AB12CD3/B0EF45GH6/xS3cr3tT0k3nInThePath"
SIGNING_SECRET = "whsec-sign-me-please-42"
RECORD_URL = "https://app.hubspot.com/contacts/4242/record/0-1/1001"


def clock() -> float:
    return AT.timestamp()


def new_sql(**fields: Any) -> AlertEvent:
    """Ana Ruiz of Acme became SQL in her second episode, with two why-now lines."""
    values: dict[str, Any] = {
        "kind": AlertKind.NEW_SQL,
        "record_id": "1001",
        "episode": 2,
        "stage": Stage.SQL,
        "occurred_at": AT,
        "name": "Ana Ruiz",
        "company": "Acme",
        "score": 87,
        "grade": "A",
        "reasons": ("Requested a demo yesterday", "VP-level title (VP Engineering)"),
        "owner_id": "77",
        "owner_name": "Sam Rep",
        "due_at": AT + timedelta(hours=1),
        "record_url": RECORD_URL,
    }
    return AlertEvent(**{**values, **fields})


def sla_breach(overdue: timedelta = timedelta(hours=2, minutes=15), **fields: Any) -> AlertEvent:
    """Ana's SQL follow-up, due at AT, still untouched ``overdue`` later."""
    return new_sql(**{"kind": AlertKind.SLA_BREACH, "due_at": AT, "occurred_at": AT + overdue, **fields})


#: the receiver's path: the credential of its URL
SECRET_PATH = "/hooks/T0AB12CD3/xS3cr3tPathToken"


@dataclass
class Receiver:
    """What a team's own webhook endpoint would do: verify, record, answer."""

    secret: str
    clock: Callable[[], float]
    #: answers to give, in order, before settling on 200 "ok": (status, headers)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    #: every verified body, and the status it was answered with
    bodies: list[bytes] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    rejected: int = 0
    url: str = ""

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """The JSON bodies answered with success."""
        return [json.loads(b) for b, status in zip(self.bodies, self.statuses, strict=True) if status < 300]

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        stamp, signature = handler.headers[TIMESTAMP_HEADER], handler.headers[SIGNATURE_HEADER]
        if handler.path != SECRET_PATH or not verify_signature(self.secret, body, stamp, signature, now=self.clock()):
            self.rejected += 1
            self._answer(handler, 401, {}, b"invalid_signature")
            return
        status, headers = self.script.pop(0) if self.script else (200, {})
        self.bodies.append(body)
        self.statuses.append(status)
        self._answer(handler, status, headers, b"ok" if status == 200 else b"busy")

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], text: bytes) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(text)))
        handler.end_headers()
        handler.wfile.write(text)


@contextmanager
def receiving(clock: Callable[[], float], secret: str = SIGNING_SECRET) -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (a free port) until the block ends; ``clock`` is its epoch seconds."""
    state = Receiver(secret=secret, clock=clock)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.handle(self)

        def log_message(self, *_args: object) -> None:  # the path is a secret: not on stderr either
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
