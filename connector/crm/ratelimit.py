"""One rate limiter per CRM connection, shared by every thread that calls it.

``RollingWindow`` keeps at most N calls in any interval. ``ApiBudget`` holds the
windows a CRM has (HubSpot: a 10-second window and a separate search window),
sizes them to Handoff's share of what the CRM reports in its headers, and
stops the run before Handoff eats into the share of the daily quota that
belongs to the portal's other integrations.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connector.crm.errors import QuotaExhausted

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RollingWindow:
    """At most ``limit`` calls in any ``interval`` seconds; callers block until there is room."""

    def __init__(self, limit: int, interval: float, clock: Clock = time.monotonic, sleep: Sleep = time.sleep):
        self._limit = max(1, limit)
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return self._limit

    def resize(self, limit: int, interval: float | None = None) -> None:
        with self._lock:
            self._limit = max(1, limit)
            if interval is not None:
                self._interval = interval

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (the CRM said 429): nobody hammers a closed door."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def acquire(self) -> float:
        """Wait for room, take a slot, and return how long we waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._calls and self._calls[0] <= now - self._interval:
                    self._calls.popleft()
                if now >= self._paused_until and len(self._calls) < self._limit:
                    self._calls.append(now)
                    return waited
                wait = max(
                    self._paused_until - now,
                    self._calls[0] + self._interval - now if len(self._calls) >= self._limit else 0.0,
                )
            wait = max(wait, 0.001)
            self._sleep(wait)
            waited += wait


@dataclass(frozen=True)
class QuotaReading:
    """What the CRM said about its limits on one response."""

    interval_max: int | None = None
    interval_seconds: float | None = None
    daily_max: int | None = None
    daily_remaining: int | None = None


class ApiBudget:
    """Handoff's share of a CRM connection's limits, for every thread of this process."""

    def __init__(
        self,
        share: float,
        general: RollingWindow,
        search: RollingWindow | None = None,
        search_capacity: int | None = None,
        general_capacity: int | None = None,
        on_wait: Callable[[float], None] | None = None,
    ):
        self.share = share
        self._on_wait = on_wait
        self.general = general
        self.search = search or general
        self._search_capacity = search_capacity
        self._daily_floor: float | None = None
        self._daily_remaining: int | None = None
        self._lock = threading.Lock()
        if search is not None and search_capacity:
            search.resize(self._our_share(search_capacity))
        if general_capacity:
            general.resize(self._our_share(general_capacity))

    def _our_share(self, capacity: int) -> int:
        return max(1, math.floor(capacity * self.share))

    def acquire(self, *, search: bool = False) -> None:
        """Block until a call fits our share; raise QuotaExhausted when the daily share is spent."""
        with self._lock:
            if (
                self._daily_floor is not None
                and self._daily_remaining is not None
                and self._daily_remaining <= self._daily_floor
            ):
                raise QuotaExhausted(
                    f"only {self._daily_remaining} API calls left today and "
                    f"{self._daily_floor:.0f} are kept for the account's other integrations "
                    f"(HANDOFF_API_BUDGET={self.share:g})"
                )
        waited = (self.search if search else self.general).acquire()
        if waited and self._on_wait is not None:
            self._on_wait(waited)

    def observe(self, reading: QuotaReading) -> None:
        """Fit the windows to what the CRM reports; Handoff takes only its share."""
        if reading.interval_max:
            self.general.resize(self._our_share(reading.interval_max), reading.interval_seconds)
        with self._lock:
            if reading.daily_max is not None:
                self._daily_floor = reading.daily_max * (1 - self.share)
            if reading.daily_remaining is not None:
                self._daily_remaining = reading.daily_remaining

    def backoff(self, seconds: float, *, search: bool = False) -> None:
        (self.search if search else self.general).pause(seconds)


def read_hubspot_headers(headers: Mapping[str, str] | None) -> QuotaReading:
    """HubSpot's ``X-HubSpot-RateLimit-*`` headers, absent on search responses."""
    if not headers:
        return QuotaReading()

    def number(name: str) -> int | None:
        value = headers.get(name)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    interval_ms = number("X-HubSpot-RateLimit-Interval-Milliseconds")
    return QuotaReading(
        interval_max=number("X-HubSpot-RateLimit-Max"),
        interval_seconds=interval_ms / 1000 if interval_ms else None,
        daily_max=number("X-HubSpot-RateLimit-Daily"),
        daily_remaining=number("X-HubSpot-RateLimit-Daily-Remaining"),
    )
