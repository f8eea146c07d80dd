"""Rate-limit primitives: a rolling window and a calendar-day budget, both on an injected clock."""

from __future__ import annotations

import threading
from collections import deque

from connector.sandbox.clock import Clock


class RollingWindow:
    """At most ``limit`` calls in any ``seconds``-long window; ``limit`` 0 means unlimited.

    Only admitted calls count: a rejected call does not push the window further out.
    ``peak`` is the most calls seen inside one window, for the sandbox's stats.
    """

    def __init__(self, limit: int, seconds: float, clock: Clock) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()
        self.peak = 0

    def _expire(self, now: float) -> None:
        horizon = now - self.seconds
        calls = self._calls
        while calls and calls[0] <= horizon:
            calls.popleft()

    def acquire(self) -> tuple[bool, int]:
        """Try to take one call: (admitted, calls still available in the window)."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            if self.limit and len(self._calls) >= self.limit:
                return False, 0
            self._calls.append(now)
            used = len(self._calls)
            if used > self.peak:
                self.peak = used
            return True, max(self.limit - used, 0)

    def used(self) -> int:
        """Calls inside the current window."""
        with self._lock:
            self._expire(self._clock())
            return len(self._calls)

    def reset(self) -> None:
        """Forget every call and the peak."""
        with self._lock:
            self._calls.clear()
            self.peak = 0


class DailyBudget:
    """At most ``limit`` calls per UTC calendar day; ``limit`` 0 means unlimited."""

    def __init__(self, limit: int, clock: Clock) -> None:
        self.limit = limit
        self._clock = clock
        self._day = -1
        self._used = 0
        self._lock = threading.Lock()

    def acquire(self) -> tuple[bool, int]:
        """Try to take one call: (admitted, calls left today)."""
        day = int(self._clock() // 86400)
        with self._lock:
            if day != self._day:
                self._day, self._used = day, 0
            if self.limit and self._used >= self.limit:
                return False, 0
            self._used += 1
            return True, max(self.limit - self._used, 0)

    def reset(self) -> None:
        """Forget today's calls."""
        with self._lock:
            self._day, self._used = -1, 0
