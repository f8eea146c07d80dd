"""HubSpot's rate-limit policies, their headers and their 429 bodies.

- Every call but search spends the token's rolling 10-second budget and carries the
  ``X-HubSpot-RateLimit-Interval-Milliseconds/-Max/-Remaining`` headers (plus the
  deprecated, informational ``-Secondly`` pair HubSpot still sent when recorded).
- Search is exempt from that bucket and has its own per-second budget; its replies
  carry no interval headers, and its 429 has a different body (``category``, no
  ``policyName``).
- An optional daily budget covers every call and adds the ``-Daily`` headers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from connector.sandbox.clock import Clock
from connector.sandbox.hubspot.errors import CORRELATION_HEADER, correlation_id
from connector.sandbox.ratelimit import DailyBudget, RollingWindow
from connector.sandbox.server import HttpError

SECONDLY_MESSAGE = "You have reached your secondly limit."
TEN_SECONDLY_MESSAGE = "You have reached your ten_secondly_rolling limit."
DAILY_MESSAGE = "You have reached your daily limit."


@dataclass(slots=True)
class LimitSettings:
    """Budgets; 0 turns one off."""

    rate_per_10s: int = 100
    search_rate_per_s: int = 5
    daily_limit: int = 0


class HubSpotLimits:
    """The budgets of one private-app token in one portal."""

    def __init__(self, settings: LimitSettings, clock: Clock, portal_id: int) -> None:
        self.ten_secondly = RollingWindow(settings.rate_per_10s, 10.0, clock)
        self.search = RollingWindow(settings.search_rate_per_s, 1.0, clock)
        self.daily = DailyBudget(settings.daily_limit, clock)
        # only feeds the informational -Secondly headers; never refuses a call
        self._last_second = RollingWindow(0, 1.0, clock)
        self._group = f"publicapi:private-app-api-calls-ten-secondly:{portal_id}"

    def configure(self, settings: LimitSettings) -> None:
        """Change the budgets in place (calls already counted stay counted)."""
        self.ten_secondly.limit = settings.rate_per_10s
        self.search.limit = settings.search_rate_per_s
        self.daily.limit = settings.daily_limit

    def settings(self) -> LimitSettings:
        return LimitSettings(self.ten_secondly.limit, self.search.limit, self.daily.limit)

    def reset(self) -> None:
        """Forget every counted call."""
        for window in (self.ten_secondly, self.search, self._last_second):
            window.reset()
        self.daily.reset()

    def admit(self, is_search: bool) -> dict[str, str]:
        """Spend one call; the rate-limit headers for the reply, or HttpError(429).

        The daily budget is spent first: a call refused by a short window still counts
        towards the day, and its 429 carries the daily headers (as recorded).
        """
        headers: dict[str, str] = {}
        if self.daily.limit:
            admitted, left = self.daily.acquire()
            headers["X-HubSpot-RateLimit-Daily"] = str(self.daily.limit)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(left)
            if not admitted:
                if is_search:
                    raise _search_refusal(headers)
                raise _refusal("DAILY", DAILY_MESSAGE, headers, requestId=correlation_id())
        if is_search:
            admitted, _ = self.search.acquire()
            if not admitted:
                raise _search_refusal(headers)
        elif self.ten_secondly.limit:
            admitted, remaining = self.ten_secondly.acquire()
            self._interval_headers(headers, remaining)
            if not admitted:
                raise self.ten_secondly_refusal(headers)
        else:
            self.ten_secondly.acquire()  # still counted, for the stats' peak
        return headers

    def _interval_headers(self, headers: dict[str, str], remaining: int) -> None:
        limit = self.ten_secondly.limit
        self._last_second.acquire()
        per_second = math.ceil(limit / 10)
        headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        headers["X-HubSpot-RateLimit-Max"] = str(limit)
        headers["X-HubSpot-RateLimit-Remaining"] = str(remaining)
        headers["X-HubSpot-RateLimit-Secondly"] = str(per_second)
        headers["X-HubSpot-RateLimit-Secondly-Remaining"] = str(max(per_second - self._last_second.used(), 0))

    def ten_secondly_refusal(self, headers: dict[str, str]) -> HttpError:
        """The 429 of the rolling 10-second policy."""
        return _refusal("TEN_SECONDLY_ROLLING", TEN_SECONDLY_MESSAGE, headers, groupName=self._group)


def _refusal(policy: str, message: str, headers: dict[str, str], **extra: str) -> HttpError:
    cid = correlation_id()
    body = {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": cid,
        "policyName": policy,
        **extra,
    }
    return HttpError(429, body, {**headers, CORRELATION_HEADER: cid})


def _search_refusal(headers: dict[str, str]) -> HttpError:
    """Search's own 429: a ``category``, no policy, no interval headers (as recorded)."""
    cid = correlation_id()
    body = {"status": "error", "message": SECONDLY_MESSAGE, "correlationId": cid, "category": "RATE_LIMITS"}
    return HttpError(429, body, {**headers, CORRELATION_HEADER: cid})
