"""Call statistics: counts by ``METHOD path-template`` and status, for tests and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

#: the status recorded for a call whose connection was dropped on purpose
DROPPED = "dropped"


class Stats:
    """Thread-safe counters of API calls (control calls are not counted)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str]] = Counter()
        #: name -> callable giving the most calls seen in one window of that limiter
        self._peaks: dict[str, Callable[[], int]] = {}

    def watch_peak(self, name: str, peak: Callable[[], int]) -> None:
        """Report ``peak()`` under ``max_in_window[name]``."""
        self._peaks[name] = peak

    def record(self, label: str, status: int | str) -> None:
        """Count one call of ``label`` answered with ``status``."""
        key = (label, str(status))
        with self._lock:
            self._calls[key] += 1

    def reset(self) -> None:
        """Forget every call."""
        with self._lock:
            self._calls.clear()

    def count(self, label: str | None = None, status: int | str | None = None) -> int:
        """Calls matching ``label`` and/or ``status`` (None matches anything)."""
        want = None if status is None else str(status)
        with self._lock:
            return sum(
                n
                for (lab, st), n in self._calls.items()
                if (label is None or lab == label) and (want is None or st == want)
            )

    def snapshot(self) -> dict[str, Any]:
        """JSON view: ``calls`` by label then status, totals, 429s and window peaks."""
        with self._lock:
            items = list(self._calls.items())
        calls: dict[str, dict[str, int]] = {}
        by_status: Counter[str] = Counter()
        for (label, status), n in sorted(items):
            calls.setdefault(label, {})[status] = n
            by_status[status] += n
        return {
            "total": sum(by_status.values()),
            "by_status": dict(sorted(by_status.items())),
            "rate_limited": by_status.get("429", 0),
            "calls": calls,
            "max_in_window": {name: peak() for name, peak in self._peaks.items()},
        }
