"""The shared rate limiter and the retry policy, on a fake clock: no test sleeps."""

from __future__ import annotations

import threading

import pytest

from connector.crm.errors import QuotaExhausted, RateLimited, RecordRejected, Retryable
from connector.crm.ratelimit import ApiBudget, QuotaReading, RollingWindow, read_hubspot_headers
from connector.crm.retry import RetryPolicy


class FakeTime:
    """A clock whose sleep moves time forward instead of waiting."""

    def __init__(self):
        self.now = 0.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def clock(self):
        return self.now

    def sleep(self, seconds):
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


@pytest.fixture
def fake():
    return FakeTime()


def window(fake, limit, interval=10.0):
    return RollingWindow(limit, interval, clock=fake.clock, sleep=fake.sleep)


def test_calls_within_the_limit_do_not_wait(fake):
    w = window(fake, 3)
    assert [w.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert fake.slept == []


def test_the_call_past_the_limit_waits_for_the_oldest_to_leave_the_window(fake):
    w = window(fake, 2)
    w.acquire()
    fake.now = 4.0
    w.acquire()
    fake.now = 5.0
    assert w.acquire() == pytest.approx(5.0)  # the call at t=0 leaves the window at t=10
    assert fake.now == pytest.approx(10.0)


def test_no_more_than_limit_calls_in_any_window(fake):
    w = window(fake, 5, interval=1.0)
    stamps = []
    for _ in range(40):
        w.acquire()
        stamps.append(fake.now)
    assert all(sum(1 for s in stamps if t - 1.0 < s <= t) <= 5 for t in stamps)


def test_a_pause_holds_every_caller(fake):
    w = window(fake, 100)
    w.pause(3.0)
    assert w.acquire() == pytest.approx(3.0)


def test_threads_share_one_window(fake):
    w = window(fake, 10, interval=1000.0)
    results = []
    threads = [threading.Thread(target=lambda: results.append(w.acquire())) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 10 and fake.slept == []
    w.resize(10)
    fake.now = 1.0
    assert w.acquire() > 0  # the eleventh call in the window had to wait


def test_budget_takes_its_share_of_the_advertised_limit(fake):
    budget = ApiBudget(0.5, window(fake, 100))
    budget.observe(
        read_hubspot_headers({"X-HubSpot-RateLimit-Max": "190", "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})
    )
    assert budget.general.limit == 95


def test_search_has_its_own_smaller_budget(fake):
    budget = ApiBudget(0.5, window(fake, 50), window(fake, 5, interval=1.0), search_capacity=5)
    assert budget.search.limit == 2
    for _ in range(3):
        budget.acquire(search=True)
    assert fake.now == pytest.approx(1.0)


def test_budget_stops_before_eating_the_other_integrations_daily_share(fake):
    budget = ApiBudget(0.5, window(fake, 100))
    budget.observe(QuotaReading(daily_max=250_000, daily_remaining=125_001))
    budget.acquire()
    budget.observe(QuotaReading(daily_remaining=125_000))
    with pytest.raises(QuotaExhausted, match="125000 are kept for the account's other integrations"):
        budget.acquire()


def test_headers_missing_or_garbled_change_nothing():
    assert read_hubspot_headers(None) == QuotaReading()
    assert read_hubspot_headers({"X-HubSpot-RateLimit-Max": "lots"}) == QuotaReading()


def test_retry_policy_retries_passing_failures_then_succeeds(fake):
    outcomes = [Retryable("502"), RateLimited("429"), "ok"]

    def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    seen = []
    assert RetryPolicy(sleep=fake.sleep).call(call, on_retry=lambda e, wait: seen.append(str(e))) == "ok"
    assert seen == ["502", "429"]
    assert len(fake.slept) == 2


def test_retry_after_from_the_crm_is_honoured(fake):
    outcomes = [RateLimited("429", retry_after=7.0), "ok"]

    def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    RetryPolicy(sleep=fake.sleep).call(call)
    assert fake.slept == [7.0]


def test_retries_give_up_after_the_last_attempt_with_the_last_error(fake):
    calls = []

    def call():
        calls.append(1)
        raise Retryable(f"503 #{len(calls)}")

    with pytest.raises(Retryable, match="503 #4"):
        RetryPolicy(attempts=4, sleep=fake.sleep).call(call)
    assert len(calls) == 4


def test_record_errors_are_not_retried(fake):
    calls = []

    def call():
        calls.append(1)
        raise RecordRejected("invalid email")

    with pytest.raises(RecordRejected):
        RetryPolicy(sleep=fake.sleep).call(call)
    assert calls == [1] and fake.slept == []
