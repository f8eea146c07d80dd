"""Retrying passing failures with tenacity: backoff with jitter, or the CRM's own Retry-After."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from connector.crm.errors import CrmUnavailable, Outage, RateLimited, Retryable

T = TypeVar("T")

log = structlog.get_logger(__name__)


def _log_retry(error: Retryable, wait: float) -> None:
    log.warning("retrying", error=str(error), wait_seconds=round(wait, 2))


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a failure is reported (and the write queued for the next cycle)."""

    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def call(self, fn: Callable[[], T], on_retry: Callable[[Retryable, float], None] = _log_retry) -> T:
        """Run ``fn``, retrying on Retryable (each retry logged, or told to ``on_retry``); other errors pass through.

        When the last attempt fails too, a CRM that is down or keeps refusing stops
        the run (``CrmUnavailable``); a record-level retryable error (a locked row)
        is raised as it is, so the caller can queue that one write for later.
        """
        backoff = wait_exponential_jitter(multiplier=self.initial_wait, max=self.max_wait)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, Retryable) and error.retry_after is not None:
                return min(error.retry_after, self.max_wait)
            return backoff(state)

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, Retryable) and state.next_action is not None:
                on_retry(error, state.next_action.sleep)

        retrying = Retrying(
            retry=retry_if_exception_type(Retryable),
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(fn)
        except (Outage, RateLimited) as exc:
            tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
            raise CrmUnavailable(f"{exc}; gave up after {tries}") from None
