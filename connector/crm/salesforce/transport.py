"""Calls to Salesforce through simple-salesforce, with our budget, retries and error types.

Every call goes through ``restful`` (query, composite, describe alike) so there
is one place that reads ``Sforce-Limit-Info`` and one place that turns
simple-salesforce's exceptions into retry / skip / stop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
import structlog
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connector.crm.errors import (
    AuthenticationFailed,
    QuotaExhausted,
    RateLimited,
    RecordRejected,
    Retryable,
)
from connector.crm.ratelimit import ApiBudget, QuotaReading
from connector.crm.retry import RetryPolicy

log = structlog.get_logger(__name__)

TIMEOUT = 60.0
#: every write carries this, or Salesforce's lead assignment rules may hand the lead to someone else
NO_AUTO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}


class SalesforceApi:
    """One authenticated Salesforce connection, shared by all threads."""

    def __init__(
        self,
        client: Salesforce,
        budget: ApiBudget,
        retry: RetryPolicy,
        on_response: Callable[[int | str], None] | None = None,
        verify: str | bool = True,
    ):
        self.client = client
        # passed on every call: requests lets REQUESTS_CA_BUNDLE override a session's own verify
        self._verify = verify
        self.budget = budget
        self._retry = retry
        self._on_response = on_response

    def call(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        """One REST call relative to ``/services/data/vXX.X/``, under the budget with retries."""

        def once() -> Any:
            self.budget.acquire()
            try:
                result = self.client.restful(path, method=method, timeout=TIMEOUT, verify=self._verify, **kwargs)
            except SalesforceError as exc:
                self._count(exc.status)
                self._observe()
                raise _translate(exc) from None
            except requests.exceptions.RequestException as exc:
                self._count("error")
                raise Retryable(f"connection to Salesforce failed ({type(exc).__name__})") from None
            self._count(200)
            self._observe()
            return result

        return self._retry.call(once, on_retry=_log_retry)

    def query_all(self, soql: str) -> list[dict[str, Any]]:
        """Every row of a ``queryAll`` (deleted rows included), following ``nextRecordsUrl``."""
        page = self.call("queryAll/", params={"q": soql})
        rows = list(page.get("records", []))
        while not page.get("done", True):
            locator = page["nextRecordsUrl"].split("/query/", 1)[1]
            page = self.call(f"query/{locator}")
            rows.extend(page.get("records", []))
        return rows

    def _observe(self) -> None:
        usage = (self.client.api_usage or {}).get("api-usage")
        if usage is not None:
            self.budget.observe(QuotaReading(daily_max=usage.total, daily_remaining=max(0, usage.total - usage.used)))

    def _count(self, status: int | str) -> None:
        if self._on_response is not None:
            self._on_response(status)


def _log_retry(error: Retryable, wait: float) -> None:
    log.warning("retrying", error=str(error), wait_seconds=round(wait, 2))


def error_code(content: Any) -> tuple[str, str]:
    """(errorCode, message) of a Salesforce error body, which is usually a list of one."""
    first = content[0] if isinstance(content, list) and content else content
    if isinstance(first, dict):
        return str(first.get("errorCode") or first.get("statusCode") or ""), str(first.get("message") or "")
    return "", str(content or "")[:300]


def _translate(exc: SalesforceError) -> Exception:
    code, message = error_code(exc.content)
    detail = f"Salesforce {exc.status} {code}: {message}".strip()
    if exc.status == 401:
        return AuthenticationFailed(
            f"Salesforce rejected the session (401 {code or 'INVALID_SESSION_ID'}): check SALESFORCE_SESSION_ID "
            "or the login settings"
        )
    if code == "REQUEST_LIMIT_EXCEEDED":
        if "concurrent" in message.lower():
            return RateLimited(detail)
        return QuotaExhausted(
            "Salesforce's daily API requests are spent for this org (REQUEST_LIMIT_EXCEEDED); "
            "the run resumes when the rolling 24 hours free some"
        )
    if exc.status in (420, 429) or exc.status >= 500 or code in ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"):
        return Retryable(detail)
    return RecordRejected(detail)
