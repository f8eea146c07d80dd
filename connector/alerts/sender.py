"""Posting alerts to the webhook: one httpx client, retries with tenacity, a typed outcome per event.

The webhook URL is a secret (a Slack incoming-webhook URL is its own credential), and so is the
signing secret: neither appears in an outcome, an exception or a log line. Messages name the
receiver by ``scheme://host[:port]`` only; the ``httpx`` logger, which would print the full URL of
every request at INFO, is filtered while a sender is open.

A call to :meth:`AlertSender.send` never raises for a webhook failure and never waits long: it
tries ``max_attempts`` times within the call (exponential backoff with jitter, or the receiver's
``Retry-After`` on 429/503 when that is at most ``max_wait``) and then reports what the caller
should do. See :mod:`connector.alerts` for how the sync loop records and retries them.
"""

from __future__ import annotations

import logging
import math
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
import structlog
from pydantic import SecretStr
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity import wait_exponential_jitter as exponential_jitter

from connector import __version__
from connector.alerts.events import AlertEvent, is_web_url
from connector.alerts.formats import FORMATS, AlertFormat, render, signature_headers

log = structlog.get_logger(__name__)

REDACTED = "[redacted]"
#: statuses worth another try: timeout, too many requests, server trouble
_TRANSIENT = frozenset({408, 429}) | frozenset(range(500, 600))
#: statuses whose Retry-After is honoured
_RETRY_AFTER = frozenset({429, 503})
#: a short error code in a response body (Slack answers e.g. ``invalid_payload``, ``channel_not_found``)
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class AlertConfigError(ValueError):
    """An alert setting that cannot work: ``variable`` names it, ``problem`` says why (never its value)."""

    def __init__(self, variable: str, problem: str):
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


@dataclass(frozen=True)
class AlertConfig:
    """Where and how alerts are posted (``HANDOFF_ALERT_WEBHOOK_URL``, ``_FORMAT``, ``_SECRET``).

    ``secret``, when set, signs every request (see :mod:`connector.alerts.formats`); it is meant
    for the ``json`` format, Slack ignores the headers. ``max_wait`` bounds every pause inside one
    :meth:`AlertSender.send`: a receiver asking for a longer one gets a :class:`RetryLater` instead.
    """

    url: SecretStr
    format: AlertFormat = "slack"
    secret: SecretStr | None = None
    connect_timeout: float = 5.0
    #: read, write and pool timeout of each request
    timeout: float = 10.0
    max_attempts: int = 3
    initial_wait: float = 1.0
    max_wait: float = 30.0

    def __post_init__(self) -> None:
        if not is_web_url(self.url.get_secret_value()):
            raise AlertConfigError("HANDOFF_ALERT_WEBHOOK_URL", "must be an http(s) URL with a host")
        if self.format not in FORMATS:
            raise AlertConfigError("HANDOFF_ALERT_FORMAT", f"must be slack or json, not {self.format!r}")
        if self.secret is not None and not self.secret.get_secret_value():
            raise AlertConfigError("HANDOFF_ALERT_SECRET", "is set but empty")
        for name in ("connect_timeout", "timeout", "initial_wait", "max_wait"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise AlertConfigError(name, f"must be a positive number of seconds, not {value!r}")
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise AlertConfigError("max_attempts", f"must be a whole number from 1, not {self.max_attempts!r}")

    @property
    def target(self) -> str:
        """``scheme://host[:port]`` of the webhook: what logs and errors may say about it."""
        parts = urlsplit(self.url.get_secret_value())
        assert parts.hostname is not None  # checked in __post_init__
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        port = f":{parts.port}" if parts.port is not None else ""
        return f"{parts.scheme}://{host}{port}"


@dataclass(frozen=True, slots=True)
class Sent:
    """The receiver accepted the alert: mark it sent."""

    key: str
    status: int
    attempts: int


@dataclass(frozen=True, slots=True)
class RetryLater:
    """A passing failure outlasted this call's attempts: keep the alert and try again next cycle,
    not before ``retry_after`` seconds when the receiver asked for a pause."""

    key: str
    error: str
    attempts: int
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """The receiver refused the alert (a 4xx other than 408/429, or a redirect): retrying cannot
    help, dead-letter it with ``error``."""

    key: str
    error: str
    attempts: int
    status: int | None = None


SendOutcome = Sent | RetryLater | Failed


class _Transient(Exception):
    def __init__(self, error: str, retry_after: float | None = None):
        super().__init__(error)
        self.error = error
        self.retry_after = retry_after


class _Permanent(Exception):
    def __init__(self, error: str, status: int):
        super().__init__(error)
        self.error = error
        self.status = status


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """A ``Retry-After`` header as seconds from ``now``: delay-seconds or an HTTP date; None if unusable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)


class _Redactor:
    """Hides the webhook URL (keeping its scheme and host), each token-like part of it, and the secret."""

    def __init__(self, config: AlertConfig):
        url = config.url.get_secret_value()
        parts, wire = urlsplit(url), httpx.URL(url)  # httpx may print the URL normalised
        whole = {url, str(wire)}
        pieces = {parts.path, parts.query, parts.netloc.rpartition("@")[0], wire.raw_path.decode("ascii")}
        pieces |= {s for s in re.split(r"[/?&=;]", f"{parts.path}?{parts.query}") if _token_like(s)}
        if config.secret is not None:
            pieces.add(config.secret.get_secret_value())
        # the whole URL before its pieces, longer pieces before shorter; "/" and "" hide nothing
        self._replacements = [(u, f"{config.target}/{REDACTED}") for u in sorted(whole, key=len, reverse=True)]
        self._replacements += [(p, REDACTED) for p in sorted(pieces - whole, key=len, reverse=True) if len(p) > 1]

    def __call__(self, text: str) -> str:
        for secret, replacement in self._replacements:
            text = text.replace(secret, replacement)
        return text


def _token_like(segment: str) -> bool:
    """A URL piece that may be a credential (Slack's ``T0123ABCD``, a long random path) rather than a word."""
    return len(segment) >= 16 or (len(segment) >= 6 and any(c.isdigit() for c in segment))


class _HttpxLogFilter(logging.Filter):
    """On the ``httpx`` logger, which logs every request's URL at INFO: hides the URL of each open sender.

    One filter for all senders; a sender that is closed, or dropped without closing, leaves the set.
    """

    def __init__(self) -> None:
        super().__init__()
        self.redactors: weakref.WeakSet[_Redactor] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        redactors = list(self.redactors)
        if redactors:
            message = cleaned = record.getMessage()
            for redact in redactors:
                cleaned = redact(cleaned)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


_HTTPX_LOG_FILTER = _HttpxLogFilter()


class AlertSender:
    """Posts alerts to one webhook. Thread-safe as httpx's client is; close it (or use ``with``) when done.

    ``sleep`` and ``clock`` (epoch seconds) are injected so tests never wait.
    """

    def __init__(
        self,
        config: AlertConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self._sleep = sleep
        self._clock = clock
        self._redact = _Redactor(config)
        self._backoff = exponential_jitter(initial=config.initial_wait, max=config.max_wait, jitter=config.initial_wait)
        _HTTPX_LOG_FILTER.redactors.add(self._redact)
        logging.getLogger("httpx").addFilter(_HTTPX_LOG_FILTER)  # once: a filter already there is not added again
        self._client = httpx.Client(
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            follow_redirects=False,  # a redirect would carry a signed alert to a host nobody configured
            headers={"User-Agent": f"Handoff/{__version__}", "Content-Type": "application/json"},
        )

    def __enter__(self) -> AlertSender:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
        _HTTPX_LOG_FILTER.redactors.discard(self._redact)

    def send(self, event: AlertEvent) -> SendOutcome:
        """Post ``event`` in the configured format; say whether it was sent, should be retried
        next cycle, or failed for good. Never raises for a webhook failure."""
        body = render(event, self.config.format)
        attempts = 0

        def attempt() -> int:
            nonlocal attempts
            attempts += 1
            return self._post(event, body)

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "alert_retry",
                key=event.key,
                target=self.config.target,
                attempt=state.attempt_number,
                wait_seconds=round(wait, 2),
                error=getattr(error, "error", None),
            )

        retrying = Retrying(
            retry=retry_if_exception(self._worth_retrying_now),
            stop=stop_after_attempt(self.config.max_attempts),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            status = retrying(attempt)
        except _Transient as exc:
            log.warning("alert_deferred", key=event.key, target=self.config.target, attempts=attempts, error=exc.error)
            return RetryLater(key=event.key, error=exc.error, attempts=attempts, retry_after=exc.retry_after)
        except _Permanent as exc:
            log.error("alert_failed", key=event.key, target=self.config.target, attempts=attempts, error=exc.error)
            return Failed(key=event.key, error=exc.error, attempts=attempts, status=exc.status)
        log.info("alert_sent", key=event.key, target=self.config.target, attempts=attempts, status=status)
        return Sent(key=event.key, status=status, attempts=attempts)

    def _post(self, event: AlertEvent, body: bytes) -> int:
        """One request; returns the status, or raises _Transient / _Permanent with a redacted message."""
        headers = {"Idempotency-Key": event.key}
        if self.config.secret is not None:
            headers |= signature_headers(self.config.secret.get_secret_value(), body, int(self._clock()))
        where = f"alert webhook {self.config.target}"
        try:
            response = self._client.post(self.config.url.get_secret_value(), content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise _Transient(f"{where}: timed out ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise _Transient(f"{where}: {type(exc).__name__}: {self._describe(exc)}") from None
        status = response.status_code
        if 200 <= status < 300:
            return status
        error = f"{where} answered {status}{self._error_code(response)}"
        if status in _TRANSIENT:
            retry_after = None
            if status in _RETRY_AFTER:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"), self._clock())
            raise _Transient(error, retry_after)
        if 300 <= status < 400:
            error += " (a redirect, not followed: configure the webhook's final URL)"
        raise _Permanent(error, status)

    def _describe(self, exc: Exception) -> str:
        return self._redact(str(exc))[:200] or "no detail"

    def _error_code(self, response: httpx.Response) -> str:
        """`` (invalid_payload)`` when the body is a short error code like Slack's; else nothing:
        a receiver's error page may echo the request path, which is the secret."""
        text = response.text.strip()
        if _ERROR_CODE.fullmatch(text) and self._redact(text) == text:
            return f" ({text})"
        return ""

    def _wait(self, state: RetryCallState) -> float:
        """The receiver's Retry-After when it gave one (at most ``max_wait``, see below), else backoff."""
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(state))

    def _worth_retrying_now(self, error: BaseException) -> bool:
        """A passing failure, unless the receiver wants a longer pause than this call may take
        (the next cycle retries it then)."""
        if not isinstance(error, _Transient):
            return False
        return error.retry_after is None or error.retry_after <= self.config.max_wait
