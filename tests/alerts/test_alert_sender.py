"""Posting an alert: retried with backoff or the receiver's Retry-After, typed outcomes, secrets never shown."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from email.utils import format_datetime

import httpx
import pytest
import respx
import structlog
from alert_builders import AT, SIGNING_SECRET, WEBHOOK, WEBHOOK_PATH, clock, new_sql
from pydantic import SecretStr

from connector.alerts import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    AlertConfig,
    AlertConfigError,
    AlertSender,
    Failed,
    RetryLater,
    Sent,
    render,
    verify_signature,
)
from connector.alerts.sender import retry_after_seconds
from connector.ops.logs import configure_logging

TARGET = "https://hooks.slack.example"


def config(**fields) -> AlertConfig:
    return AlertConfig(url=SecretStr(WEBHOOK), **fields)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Tests that read what would be logged change the logging set-up; each gets the old one back."""
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    handlers, level, httpx_level = list(root.handlers), root.level, httpx_logger.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    httpx_logger.setLevel(httpx_level)
    logging.getLogger("connector").setLevel(logging.NOTSET)
    logging.captureWarnings(False)
    structlog.reset_defaults()


@pytest.fixture
def webhook() -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock.post(WEBHOOK)


@pytest.fixture
def sleeps() -> list[float]:
    return []


def sender(sleeps: list[float], **fields) -> AlertSender:
    return AlertSender(config(**fields), sleep=sleeps.append, clock=clock)


def test_an_accepted_alert_is_sent_once_as_the_configured_body(webhook, sleeps):
    webhook.mock(return_value=httpx.Response(200, text="ok"))
    with sender(sleeps) as s:
        outcome = s.send(new_sql())
    assert outcome == Sent(key="alert:1001:2:new_sql", status=200, attempts=1)
    [call] = webhook.calls
    assert call.request.content == render(new_sql(), "slack")
    assert call.request.headers["Content-Type"] == "application/json"
    assert call.request.headers["Idempotency-Key"] == "alert:1001:2:new_sql"
    assert SIGNATURE_HEADER not in call.request.headers  # no secret, no signature
    assert sleeps == []


def test_every_request_has_connect_and_read_timeouts(webhook, sleeps):
    webhook.mock(return_value=httpx.Response(200))
    sender(sleeps, connect_timeout=2.0, timeout=7.0).send(new_sql())
    assert webhook.calls[0].request.extensions["timeout"] == {"connect": 2.0, "read": 7.0, "write": 7.0, "pool": 7.0}


def test_with_a_secret_each_request_is_signed_over_its_body(webhook, sleeps):
    webhook.mock(return_value=httpx.Response(204))
    outcome = sender(sleeps, format="json", secret=SecretStr(SIGNING_SECRET)).send(new_sql())
    assert isinstance(outcome, Sent) and outcome.status == 204
    request = webhook.calls[0].request
    assert request.headers[TIMESTAMP_HEADER] == str(int(AT.timestamp()))
    assert verify_signature(
        SIGNING_SECRET,
        request.content,
        request.headers[TIMESTAMP_HEADER],
        request.headers[SIGNATURE_HEADER],
        now=clock(),
    )


def test_a_server_error_is_retried_with_exponential_backoff_and_jitter(webhook, sleeps):
    webhook.mock(side_effect=[httpx.Response(500), httpx.Response(502), httpx.Response(200)])
    outcome = sender(sleeps, max_attempts=3, initial_wait=1.0).send(new_sql())
    assert outcome == Sent(key="alert:1001:2:new_sql", status=200, attempts=3)
    assert len(sleeps) == 2
    assert 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 3.0


def test_retry_after_in_seconds_is_honoured_on_429(webhook, sleeps):
    webhook.mock(side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)])
    assert isinstance(sender(sleeps).send(new_sql()), Sent)
    assert sleeps == [7.0]


def test_retry_after_as_an_http_date_is_honoured_on_503(webhook, sleeps):
    later = format_datetime(AT.replace(second=12), usegmt=True)  # 12 s after the injected clock
    webhook.mock(side_effect=[httpx.Response(503, headers={"Retry-After": later}), httpx.Response(200)])
    assert isinstance(sender(sleeps).send(new_sql()), Sent)
    assert sleeps == [12.0]


def test_a_retry_after_longer_than_the_call_may_wait_is_left_to_the_next_cycle(webhook, sleeps):
    webhook.mock(return_value=httpx.Response(429, headers={"Retry-After": "120"}))
    outcome = sender(sleeps, max_wait=30.0).send(new_sql())
    assert outcome == RetryLater(
        key="alert:1001:2:new_sql", error=f"alert webhook {TARGET} answered 429", attempts=1, retry_after=120.0
    )
    assert sleeps == [] and webhook.call_count == 1


def test_a_receiver_that_keeps_failing_is_retried_next_cycle(webhook, sleeps):
    webhook.mock(return_value=httpx.Response(503))
    outcome = sender(sleeps, max_attempts=3).send(new_sql())
    assert outcome == RetryLater(key="alert:1001:2:new_sql", error=f"alert webhook {TARGET} answered 503", attempts=3)
    assert webhook.call_count == 3 and len(sleeps) == 2


def test_a_request_timeout_answer_is_passing(webhook, sleeps):
    webhook.mock(side_effect=[httpx.Response(408), httpx.Response(200)])
    assert sender(sleeps).send(new_sql()) == Sent(key="alert:1001:2:new_sql", status=200, attempts=2)


@pytest.mark.parametrize("status", [400, 403, 404, 410, 413])
def test_a_refusal_is_permanent_and_not_retried(webhook, sleeps, status):
    webhook.mock(return_value=httpx.Response(status, text="invalid_payload"))
    outcome = sender(sleeps).send(new_sql())
    assert outcome == Failed(
        key="alert:1001:2:new_sql",
        error=f"alert webhook {TARGET} answered {status} (invalid_payload)",
        attempts=1,
        status=status,
    )
    assert webhook.call_count == 1 and sleeps == []


def test_a_redirect_is_not_followed(webhook, sleeps):
    elsewhere = respx.post("https://elsewhere.example/hook").mock(return_value=httpx.Response(200))
    webhook.mock(return_value=httpx.Response(302, headers={"Location": "https://elsewhere.example/hook"}))
    outcome = sender(sleeps).send(new_sql())
    assert isinstance(outcome, Failed) and outcome.status == 302
    assert "redirect, not followed" in outcome.error
    assert not elsewhere.called


def test_timeouts_and_dropped_connections_are_retried_next_cycle(webhook, sleeps):
    webhook.mock(side_effect=[httpx.ConnectError("connection refused"), httpx.ReadTimeout("read timed out")])
    outcome = sender(sleeps, max_attempts=2).send(new_sql())
    assert outcome == RetryLater(
        key="alert:1001:2:new_sql", error=f"alert webhook {TARGET}: timed out (ReadTimeout)", attempts=2
    )
    assert len(sleeps) == 1


# ------------------------------------------------------------ secrets


def secret_free(text: str) -> bool:
    return WEBHOOK_PATH not in text and "xS3cr3tT0k3nInThePath" not in text and SIGNING_SECRET not in text


def test_errors_never_carry_the_webhook_path_or_the_secret(webhook, sleeps):
    webhook.mock(
        side_effect=[
            httpx.ConnectError(f"could not connect to {WEBHOOK} (secret {SIGNING_SECRET})"),
            httpx.Response(404, text=f"Cannot POST {WEBHOOK_PATH}"),
        ]
    )
    s = sender(sleeps, secret=SecretStr(SIGNING_SECRET), max_attempts=1)
    dropped, refused = s.send(new_sql()), s.send(new_sql())
    assert dropped == RetryLater(
        key="alert:1001:2:new_sql",
        error=f"alert webhook {TARGET}: ConnectError: could not connect to {TARGET}/[redacted] (secret [redacted])",
        attempts=1,
    )
    assert refused == Failed(
        key="alert:1001:2:new_sql", error=f"alert webhook {TARGET} answered 404", attempts=1, status=404
    )
    assert secret_free(repr(dropped)) and secret_free(repr(refused))


def test_log_lines_never_carry_the_webhook_path_or_the_secret(webhook, sleeps, restore_logging):
    out = io.StringIO()
    configure_logging("json", stream=out)
    logging.getLogger("httpx").setLevel(logging.INFO)  # httpx logs every request URL at INFO
    webhook.mock(
        side_effect=[httpx.ConnectError(f"could not connect to {WEBHOOK}"), httpx.Response(400, text="no_text")]
    )
    with sender(sleeps, secret=SecretStr(SIGNING_SECRET)) as s:
        s.send(new_sql())
    logged = out.getvalue()
    assert '"event": "alert_retry"' in logged and '"event": "alert_failed"' in logged
    assert f"HTTP Request: POST {TARGET}/[redacted]" in logged  # the request was logged, its path hidden
    assert secret_free(logged)


def test_even_a_plain_debug_logging_setup_never_sees_the_webhook_path(webhook, sleeps, restore_logging, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # everything, from every library, unredacted by Handoff's log set-up
    webhook.mock(side_effect=[httpx.Response(503, text=f"down: {WEBHOOK}"), httpx.Response(200)])
    with sender(sleeps) as s:
        s.send(new_sql())
    printed = capsys.readouterr()
    assert "HTTP Request: POST" in caplog.text and "alert_sent" in printed.out
    assert secret_free(caplog.text) and secret_free(printed.out + printed.err)


def test_one_log_filter_serves_every_sender():
    senders = [AlertSender(config()) for _ in range(3)]
    assert len(logging.getLogger("httpx").filters) == 1
    for s in senders:
        s.close()


# ------------------------------------------------------------ config and Retry-After


def test_a_bad_webhook_url_is_named_by_its_variable_without_showing_it():
    with pytest.raises(AlertConfigError) as error:
        AlertConfig(url=SecretStr("ftp://files.example/xS3cr3tT0k3nInThePath"))
    assert str(error.value) == "HANDOFF_ALERT_WEBHOOK_URL: must be an http(s) URL with a host"
    assert error.value.variable == "HANDOFF_ALERT_WEBHOOK_URL"


def test_other_bad_settings_are_one_clear_line_each():
    with pytest.raises(AlertConfigError, match=r"^HANDOFF_ALERT_FORMAT: must be slack or json, not 'xml'$"):
        config(format="xml")
    with pytest.raises(AlertConfigError, match=r"^HANDOFF_ALERT_SECRET: is set but empty$"):
        config(secret=SecretStr(""))
    with pytest.raises(AlertConfigError, match=r"^max_attempts: must be a whole number from 1"):
        config(max_attempts=0)
    with pytest.raises(AlertConfigError, match=r"^timeout: must be a positive number of seconds"):
        config(timeout=float("inf"))


def test_the_config_shows_only_scheme_and_host():
    c = AlertConfig(url=SecretStr("http://user:pw@127.0.0.1:8080/hooks/abc123?token=zz"), secret=SecretStr("k"))
    assert c.target == "http://127.0.0.1:8080"
    assert "abc123" not in repr(c) and "pw" not in repr(c)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), (" 1.5 ", 1.5), ("-1", None), ("soon", None), ("", None), (None, None), ("nan", None)],
)
def test_retry_after_seconds(header, seconds):
    assert retry_after_seconds(header, now=clock()) == seconds


def test_retry_after_dates_count_from_now_and_never_go_negative():
    assert retry_after_seconds("Wed, 18 Nov 2026 10:01:00 GMT", now=clock()) == 60.0
    assert retry_after_seconds("Wed, 18 Nov 2026 09:00:00 GMT", now=clock()) == 0.0
