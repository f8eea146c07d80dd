"""Retrying passing failures with tenacity: backoff with jitter, or the CRM's own Retry-After."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from connector.crm.errors import Retryable

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a failure is reported (and the write queued for the next cycle)."""

    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def call(self, fn: Callable[[], T], on_retry: Callable[[Retryable, float], None] | None = None) -> T:
        """Run ``fn``, retrying on Retryable; other errors pass straight through."""
        backoff = wait_exponential_jitter(multiplier=self.initial_wait, max=self.max_wait)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, Retryable) and error.retry_after is not None:
                return min(error.retry_after, self.max_wait)
            return backoff(state)

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            if on_retry is not None and isinstance(error, Retryable) and state.next_action is not None:
                on_retry(error, state.next_action.sleep)

        retrying = Retrying(
            retry=retry_if_exception_type(Retryable),
            stop=stop_after_attempt(self.attempts),
            wait=wait,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)
