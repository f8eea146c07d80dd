"""Errors typed by what the caller must do, never by HTTP status.

Adapters translate whatever their SDK raises into one of these; the sync loop
only ever asks: retry it, skip this record, or stop the run.
"""

from __future__ import annotations


class CrmError(Exception):
    """Base of every adapter error. Messages never contain secrets."""


class Retryable(CrmError):
    """A passing failure (429, 5xx, dropped connection): try again, after ``retry_after`` if given."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Retryable):
    """The CRM said slow down."""


class RecordRejected(CrmError):
    """This record (or this write) cannot succeed as it is: skip it, keep the run going."""


class StopRun(CrmError):
    """Nothing else will work until an admin acts (credentials, scopes, quota, missing setup)."""


class AuthenticationFailed(StopRun):
    pass


class MissingScopes(StopRun):
    def __init__(self, scopes: list[str]):
        self.scopes = scopes
        super().__init__("the CRM token lacks scopes Handoff needs (403); grant the app: " + ", ".join(scopes))


class QuotaExhausted(StopRun):
    """Handoff has used its share of the daily API quota; the run stops cleanly and resumes later."""
