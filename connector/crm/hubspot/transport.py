"""Calls to HubSpot through hubspot-api-client, with our budget, retries and error types.

The SDK builds URLs, query strings and auth headers. We ask it for the raw
response (``_preload_content=False``) and read the JSON ourselves: that gives us
the rate-limit headers on every call and spares the SDK's slow model parsing.
The SDK's own urllib3 retries are off: they skip POSTs and raise the wrong
exception when exhausted, and tenacity does it better.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from operator import attrgetter
from typing import Any

import hubspot
import urllib3

from connector.crm.errors import (
    AuthenticationFailed,
    Conflict,
    MissingScopes,
    Outage,
    QuotaExhausted,
    RateLimited,
    RecordRejected,
    Retryable,
    cause_name,
    public_url,
)
from connector.crm.ratelimit import ApiBudget, read_hubspot_headers
from connector.crm.retry import RetryPolicy

#: the scopes Handoff's private app needs (README lists them too); named when HubSpot does not say
REQUIRED_SCOPES = (
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.schemas.contacts.read",
    "crm.schemas.contacts.write",
    "crm.objects.owners.read",
)
#: wait after HubSpot's 10-second rolling window is exceeded, when it gives no Retry-After
TEN_SECONDLY_WAIT = 10.0
SECONDLY_WAIT = 1.0


def _built(path: str) -> cached_property[Any]:
    """The SDK API object at ``path`` under ``crm``, built at its first use: building one imports its
    part of the SDK (about 1 MB each), and a backfill uses fewer than half of them. Every attribute
    access in the SDK builds a new ApiClient and connection pool, so it is built once and kept."""
    return cached_property(lambda api: attrgetter(path)(api._crm))


class HubSpotApi:
    """One authenticated HubSpot connection: SDK API objects built once, shared by all threads."""

    contacts_basic = _built("contacts.basic_api")
    contacts_batch = _built("contacts.batch_api")
    contacts_search = _built("contacts.search_api")
    tasks_batch = _built("objects.tasks.batch_api")
    tasks_search = _built("objects.tasks.search_api")
    leads_batch = _built("objects.leads.batch_api")
    deals_basic = _built("deals.basic_api")
    deals_search = _built("deals.search_api")
    pipelines = _built("pipelines.pipelines_api")
    associations = _built("associations.v4.batch_api")
    properties = _built("properties.core_api")
    groups = _built("properties.groups_api")
    owners = _built("owners.owners_api")

    def __init__(
        self,
        token: str,
        base_url: str,
        budget: ApiBudget,
        retry: RetryPolicy,
        on_response: Callable[[int], None] | None = None,
    ):
        self._crm = hubspot.HubSpot(access_token=token, host=base_url, retry=False).crm
        self.budget = budget
        self.where = f"HubSpot at {public_url(base_url)}"
        self._retry = retry
        self._on_response = on_response

    @cached_property
    def objects_batch(self) -> dict[str, Any]:
        """The batch APIs of the engagements read with a contact (one pass reads all three)."""
        return {kind: attrgetter(f"objects.{kind}.batch_api")(self._crm) for kind in ("meetings", "calls", "emails")}

    def call(self, method: Callable[..., Any], *args: Any, search: bool = False, **kwargs: Any) -> Any:
        """Run one SDK method under the budget with retries; returns the parsed JSON body (None when empty)."""

        def once() -> Any:
            self.budget.acquire(search=search)
            try:
                response = method(*args, _preload_content=False, **kwargs)
            except urllib3.exceptions.HTTPError as exc:
                self._count(0)
                raise Outage(f"cannot reach {self.where} ({cause_name(exc)})") from None
            except Exception as exc:
                if not hasattr(exc, "status"):
                    raise
                self._count(int(exc.status or 0))
                raise self._translate(exc, search) from None
            try:
                body = response.data
            except urllib3.exceptions.HTTPError as exc:
                self._count(0)
                raise Outage(f"{self.where} closed the connection mid-response ({cause_name(exc)})") from None
            finally:
                response.release_conn()
            self._count(response.status)
            self.budget.observe(read_hubspot_headers(response.headers))
            try:
                return json.loads(body) if body else None
            except ValueError:
                raise Outage(f"{self.where} answered {response.status} with a body that is not JSON") from None

        return self._retry.call(once)

    def _count(self, status: int) -> None:
        if self._on_response is not None:
            self._on_response(status)

    def _translate(self, exc: Any, search: bool) -> Exception:
        status = int(exc.status or 0)
        body = _json(exc.body)
        message = body.get("message") if isinstance(body, dict) else None
        said = message or exc.reason or "no message"
        detail = f"HubSpot {status}: {said}"
        if status == 401:
            return AuthenticationFailed(
                "HubSpot rejected the access token (401 INVALID_AUTHENTICATION): check HUBSPOT_ACCESS_TOKEN"
            )
        if status == 403:
            return MissingScopes(_required_scopes(body) or list(REQUIRED_SCOPES))
        if status == 429:
            policy = body.get("policyName") if isinstance(body, dict) else None
            if policy == "DAILY":
                return QuotaExhausted("HubSpot's daily API limit is spent for this account; the run resumes tomorrow")
            retry_after = _seconds(exc.headers.get("Retry-After") if exc.headers else None)
            wait = retry_after if retry_after is not None else (SECONDLY_WAIT if search else TEN_SECONDLY_WAIT)
            self.budget.backoff(wait, search=search)
            # the budget already holds every caller back
            return RateLimited(f"{self.where} answered {status}: {said}", retry_after=0.0)
        if status == 0 or status >= 500:
            return Outage(f"{self.where} answered {status}: {said}")
        if status == 423:
            return Retryable(detail)
        if status == 409:
            return Conflict(detail)
        return RecordRejected(detail)


def _json(body: Any) -> Any:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        return json.loads(body) if body else {}
    except ValueError:
        return {}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _required_scopes(body: Any) -> list[str]:
    scopes: list[str] = []
    if isinstance(body, dict):
        for error in body.get("errors") or []:
            context = error.get("context") or {}
            for key in ("requiredGranularScopes", "requiredScopes"):
                scopes.extend(s for s in context.get(key, []) if s not in scopes)
    return scopes
