"""Errors typed by what the caller must do, never by HTTP status.

Adapters translate whatever their SDK raises into one of these; the sync loop
only ever asks: retry it, skip this record, or stop the run.
"""

from __future__ import annotations

from urllib.parse import urlsplit


class CrmError(Exception):
    """Base of every adapter error. Messages never contain secrets."""


class Retryable(CrmError):
    """A passing failure (429, 5xx, dropped connection, a locked row): try again, after ``retry_after`` if given."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Retryable):
    """The CRM said slow down."""


class Outage(Retryable):
    """The CRM could not be reached or failed on its side (connection error, 5xx)."""


class RecordRejected(CrmError):
    """This record (or this write) cannot succeed as it is: skip it, keep the run going."""


class Conflict(RecordRejected):
    """What we tried to create exists already (another replica or an earlier run made it)."""


class RecordMovedOn(RecordRejected):
    """The record left Handoff's hands since it was read (e.g. a lead converted): nothing to retry or report."""


class StopRun(CrmError):
    """Nothing else will work until an admin acts (credentials, scopes, quota, missing setup) or the CRM is back."""


class AuthenticationFailed(StopRun):
    pass


class MissingScopes(StopRun):
    def __init__(self, scopes: list[str]):
        self.scopes = scopes
        super().__init__("the CRM token lacks scopes Handoff needs (403); grant the app: " + ", ".join(scopes))


class QuotaExhausted(StopRun):
    """Handoff has used its share of the daily API quota; the run stops cleanly and resumes later."""


class CrmUnavailable(StopRun):
    """The CRM stayed unreachable, failing or refusing through every retry; the next run tries again."""


def public_url(url: str) -> str:
    """``scheme://host[:port]`` of a URL, fit for a message: no user, password, path or query."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme or 'http'}://{host}" + (f":{port}" if port else "")


def cause_name(exc: BaseException) -> str:
    """The name of the innermost error behind ``exc`` (``ConnectionRefusedError``...): what happened, never a URL."""
    seen = {id(exc)}
    while True:
        inner = exc.__cause__ or exc.__context__ or getattr(exc, "reason", None)
        if not isinstance(inner, BaseException) or id(inner) in seen:
            return type(exc).__name__
        seen.add(id(inner))
        exc = inner
