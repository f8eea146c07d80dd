"""Alert events in one line each, a webhook URL that is a secret, and a clock that never moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connector.alerts import AlertEvent, AlertKind
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
