"""Calls to Salesforce through simple-salesforce, with our budget, retries and error types.

Every call goes through ``restful`` (query, composite, describe alike) so there
is one place that reads ``Sforce-Limit-Info`` and one place that turns
simple-salesforce's exceptions into retry / skip / stop.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.bulk2 import SFBulk2Handler
from simple_salesforce.exceptions import SalesforceError, SalesforceOperationError
from simple_salesforce.format import format_soql

from connector.crm.errors import (
    AuthenticationFailed,
    CrmError,
    Outage,
    QuotaExhausted,
    RateLimited,
    RecordMovedOn,
    RecordRejected,
    Retryable,
    cause_name,
    public_url,
)
from connector.crm.ratelimit import ApiBudget, QuotaReading
from connector.crm.retry import RetryPolicy

TIMEOUT = 60.0
#: every write carries this, or Salesforce's lead assignment rules may hand the lead to someone else
NO_AUTO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}
#: errors of one item in a composite call that a later try may get past
RETRYABLE_ITEM_ERRORS = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION"})
#: the longest request URI Salesforce answers (414 above it); a query travels in its URI
URI_LIMIT = 16_384
#: query subrequests one Composite call may hold (Query, QueryAll and query-more alike)
COMPOSITE_QUERIES = 5


class QueryJobsSpent(CrmError):
    """The org's Bulk API 2.0 query jobs for the rolling day are spent (10,000): REST queries still work."""


class SalesforceApi:
    """One authenticated Salesforce connection, shared by all threads."""

    def __init__(
        self,
        client: Salesforce,
        budget: ApiBudget,
        retry: RetryPolicy,
        on_response: Callable[[int | str], None] | None = None,
        verify: str | bool = True,
        bulk_poll: int = 5,
    ):
        self.client = client
        self.where = f"Salesforce at {public_url(client.base_url)}"
        # passed on every call: requests lets REQUESTS_CA_BUNDLE override a session's own verify
        self._verify = verify
        self.budget = budget
        self._retry = retry
        self._on_response = on_response
        #: seconds simple-salesforce sleeps before a Bulk API 2.0 job's first poll and, from 2 on,
        #: between polls (below 2 they back off to 2 s): each poll is an API call
        self._bulk_poll = bulk_poll

    def call(self, path: str, method: str = "GET", **kwargs: Any) -> Any:
        """One REST call relative to ``/services/data/vXX.X/``, under the budget with retries."""
        return self._retry.call(lambda: self._once(path, method, **kwargs))

    def _once(self, path: str, method: str, **kwargs: Any) -> Any:
        self.budget.acquire()
        try:
            result = self.client.restful(path, method=method, timeout=TIMEOUT, verify=self._verify, **kwargs)
        except SalesforceError as exc:
            self._count(exc.status)
            self._observe()
            raise self._translate(exc.status, exc.content) from None
        except requests.exceptions.RequestException as exc:
            self._count("error")
            raise Outage(f"cannot reach {self.where} ({cause_name(exc)})") from None
        self._count(200)
        self._observe()
        return result

    def query_many(self, soqls: Sequence[str]) -> list[list[dict[str, Any]]]:
        """Every row of each ``queryAll`` (deleted rows included), the queries sent together.

        They go as subrequests of Composite calls, five queries a call (Salesforce's limit on query
        subrequests), and a whole Composite call counts as one call toward the daily allocation; a
        result with more rows is followed by its ``nextRecordsUrl`` in the next Composite call.
        A subrequest's error is raised as the same query's direct call would raise it (retried alike).
        """
        base = urlsplit(self.client.base_url).path
        pending = [(i, f"{base}queryAll/?{urlencode({'q': soql})}") for i, soql in enumerate(soqls)]
        rows: list[list[dict[str, Any]]] = [[] for _ in soqls]
        while pending:
            batch, pending = pending[:COMPOSITE_QUERIES], pending[COMPOSITE_QUERIES:]
            pages = self._retry.call(partial(self._composite, [url for _, url in batch]))
            for (index, _), page in zip(batch, pages, strict=True):
                rows[index].extend(page.get("records", []))
                if not page.get("done", True):
                    pending.append((index, str(page["nextRecordsUrl"])))
        return rows

    def _composite(self, urls: Sequence[str]) -> list[dict[str, Any]]:
        """The bodies of one Composite call of GET subrequests, in order; the first failed one raised."""
        body = {
            "allOrNone": False,
            "compositeRequest": [{"method": "GET", "url": url, "referenceId": f"r{i}"} for i, url in enumerate(urls)],
        }
        answers = (self._once("composite", "POST", json=body) or {}).get("compositeResponse", [])
        if len(answers) != len(urls):
            raise Retryable(f"{self.where} answered {len(answers)} composite results for {len(urls)} subrequests")
        for answer in answers:
            status = int(answer.get("httpStatusCode") or 0)
            if not 200 <= status < 300:
                raise self._translate(status, answer.get("body"))
        return [answer.get("body") or {} for answer in answers]

    def bulk_rows(self, sobject: str, soql: str, max_records: int) -> Iterator[dict[str, str]]:
        """Every row of a Bulk API 2.0 ``query`` job as CSV text (a null is ``""``), ``max_records`` a results call.

        simple-salesforce creates the job, polls it and pages its results by locator. The job's
        creation and first page are retried together (a fresh job each time); a later page that
        fails raises, and the caller starts again from where it can resume.
        """

        def start() -> tuple[Iterator[str], str | None]:
            chunks = getattr(self._bulk2(), sobject).query(soql, max_records=max_records, wait=self._bulk_poll)
            return chunks, self._bulk_next(chunks)

        chunks, chunk = self._retry.call(start)
        while chunk is not None:
            yield from csv.DictReader(_lines(chunk))
            chunk = self._bulk_next(chunks)

    def _bulk2(self) -> SFBulk2Handler:
        """simple-salesforce's Bulk API 2.0 handler, with the client's current session id, on a
        session that takes each of its calls from the budget and counts it."""
        session = _BudgetedSession(self._verify, self.budget.acquire, self._count)
        session.proxies.update(self.client.session.proxies)
        return SFBulk2Handler(self.client.session_id, self.client.bulk2_url, session=session)

    def _bulk_next(self, chunks: Iterator[str]) -> str | None:
        """The next CSV page of a job (None after the last): the SDK creates, polls and pages on its own."""
        try:
            return next(chunks, None)
        except SalesforceError as exc:
            if error_code(exc.content)[0] == "LIMIT_EXCEEDED":
                raise QueryJobsSpent(f"{self.where}: {error_code(exc.content)[1]}") from None
            raise self._translate(exc.status, exc.content) from None
        except SalesforceOperationError as exc:  # the job ended Failed or Aborted
            raise Retryable(f"{self.where}: a Bulk API 2.0 query job did not complete ({exc})") from None
        except requests.exceptions.RequestException as exc:
            raise Outage(f"cannot reach {self.where} ({cause_name(exc)})") from None

    def query_all(self, soql: str) -> list[dict[str, Any]]:
        """Every row of a ``queryAll`` (deleted rows included), following ``nextRecordsUrl``."""
        page = self.call("queryAll/", params={"q": soql})
        rows = list(page.get("records", []))
        while not page.get("done", True):
            locator = page["nextRecordsUrl"].split("/query/", 1)[1]
            page = self.call(f"query/{locator}")
            rows.extend(page.get("records", []))
        return rows

    def query_in(self, head: str, ids: Sequence[str], tail: str = "") -> Iterator[dict[str, Any]]:
        """Every row of ``<head> IN (<ids>)<tail>``: the queries of ``in_queries``, sent together."""
        for rows in self.query_many(self.in_queries(head, ids, tail)):
            yield from rows

    def in_queries(self, head: str, ids: Sequence[str], tail: str = "") -> list[str]:
        """``<head> IN (<ids>)<tail>`` as queries, the ids in runs as long as one query's URI holds.

        An 18-character id costs 27 URI bytes once encoded, so one query names several hundred
        people (where a fixed 200 spent twice the calls) and never meets Salesforce's 414; a
        Composite subrequest's url is kept to the same length.
        """
        if not ids:
            return []
        sample = max(ids, key=len)
        one, two = (len(urlencode({"q": f"{head} IN {format_soql('{}', [sample] * n)}{tail}"})) for n in (1, 2))
        per_id = two - one
        room = URI_LIMIT - len(self.client.base_url) - len("queryAll/?") - (one - per_id)
        size = max(1, room // per_id)
        return [
            f"{head} IN {format_soql('{}', list(ids[start : start + size]))}{tail}"
            for start in range(0, len(ids), size)
        ]

    def _observe(self) -> None:
        usage = (self.client.api_usage or {}).get("api-usage")
        if usage is not None:
            self.budget.observe(QuotaReading(daily_max=usage.total, daily_remaining=max(0, usage.total - usage.used)))

    def _count(self, status: int | str) -> None:
        if self._on_response is not None:
            self._on_response(status)

    def _translate(self, status: int, content: Any) -> Exception:
        code, message = error_code(content)
        answer = f"{status} {code}: {message}".strip()
        detail = f"Salesforce {answer}"
        if status == 401:
            return AuthenticationFailed(
                f"Salesforce rejected the session (401 {code or 'INVALID_SESSION_ID'}): check SALESFORCE_SESSION_ID "
                "or the login settings"
            )
        if code == "REQUEST_LIMIT_EXCEEDED":
            if "concurrent" in message.lower():
                return RateLimited(f"{self.where} answered {answer}")
            return QuotaExhausted(
                "Salesforce's daily API requests are spent for this org (REQUEST_LIMIT_EXCEEDED); "
                "the run resumes when the rolling 24 hours free some"
            )
        if status in (420, 429):
            return RateLimited(f"{self.where} answered {answer}")
        if status >= 500 or code == "SERVER_UNAVAILABLE":
            return Outage(f"{self.where} answered {answer}")
        if code == "UNABLE_TO_LOCK_ROW":
            return Retryable(detail)
        return RecordRejected(detail)


class _BudgetedSession(requests.Session):
    """The session of simple-salesforce's Bulk API 2.0 calls, which it makes on its own (the job's
    creation, every poll, every results page): each takes a slot of the budget before it goes and
    is counted by its answer, and carries ``verify`` and ``TIMEOUT`` unless the call sets its own.

    A call without ``verify`` would let ``REQUESTS_CA_BUNDLE`` from the environment replace the
    session's (a private CA's bundle), and one without a timeout could wait forever.
    """

    def __init__(self, verify: str | bool, before: Callable[[], None], after: Callable[[int | str], None]) -> None:
        super().__init__()
        self.verify = verify
        self._before = before
        self._after = after

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("verify", self.verify)
        kwargs.setdefault("timeout", TIMEOUT)
        self._before()
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.exceptions.RequestException:
            self._after("error")
            raise
        self._after(response.status_code)
        return response


def _lines(text: str) -> Iterator[str]:
    """``text`` line by line, each with its ``\n`` (what ``csv`` reads a quoted line break from).

    Not ``io.StringIO``: it copies the page at four bytes a character, several times the memory of
    the 10,000 rows themselves.
    """
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        yield text[start:end]
        start = end


def error_code(content: Any) -> tuple[str, str]:
    """(errorCode, message) of a Salesforce error body, which is usually a list of one."""
    first = content[0] if isinstance(content, list) and content else content
    if isinstance(first, dict):
        return str(first.get("errorCode") or first.get("statusCode") or ""), str(first.get("message") or "")
    return "", str(content or "")[:300]


def item_error(errors: Any) -> CrmError:
    """The typed error of one failed item of a composite call (its ``errors`` list)."""
    code, message = error_code(errors)
    detail = f"{code}: {message}"
    if code in RETRYABLE_ITEM_ERRORS:
        return Retryable(detail)
    if code == "CANNOT_UPDATE_CONVERTED_LEAD":
        # converted since we read it: it belongs to its account now, and is left alone
        return RecordMovedOn(detail)
    return RecordRejected(detail)
