"""The daemon as an operator and a probe see it: schedule, stop, health, readiness, metrics.

Nothing here sleeps to wait: tests wait on events the scheduler or the run
functions raise, with a timeout only as a safety net.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine
from structlog.testing import capture_logs

from connector.config.settings import Settings, load_settings
from connector.crm.errors import AuthenticationFailed
from connector.ops.daemon import SWEEP, SYNC, Daemon, run_daemon
from connector.ops.metrics import CONTENT_TYPE, Metrics
from connector.state.lease import AdvisoryLease, FileLease

SAFETY = 5.0  # seconds; only reached when a test is about to fail
FAST = 0.02  # an interval that fires again long before a blocked run is released
NEVER = 3600.0


def settings(sync: float = NEVER, sweep: float = NEVER, port: int = 0, **more: Any) -> Settings:
    return load_settings(handoff_sync_interval=sync, handoff_sweep_interval=sweep, handoff_http_port=port, **more)


def idle(_stop: threading.Event) -> None:
    return None


class SchedulerEvents:
    """Counts the scheduler's job events so a test can wait for the n-th one."""

    def __init__(self, scheduler: BackgroundScheduler):
        self._seen: list[tuple[int, str]] = []
        self._cond = threading.Condition()
        scheduler.add_listener(self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_MAX_INSTANCES)

    def _on_event(self, event: JobEvent) -> None:
        with self._cond:
            self._seen.append((event.code, event.job_id))
            self._cond.notify_all()

    def wait(self, code: int, job_id: str, count: int = 1) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._seen.count((code, job_id)) >= count, SAFETY)

    def count(self, job_id: str, code: int = EVENT_JOB_EXECUTED) -> int:
        with self._cond:
            return self._seen.count((code, job_id))


class Harness:
    """A started daemon with its scheduler's events; stopped at teardown if the test did not."""

    def __init__(self, daemon: Daemon, events: SchedulerEvents, scheduler: BackgroundScheduler):
        self.daemon = daemon
        self.events = events
        self.scheduler = scheduler
        self.exit_code: int | None = None

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.daemon.port}{path}", timeout=SAFETY)

    def ran(self, job_id: str, count: int = 1) -> bool:
        return self.events.wait(EVENT_JOB_EXECUTED, job_id, count)

    def stop(self) -> int:
        self.daemon.request_stop()
        self.exit_code = self.daemon.wait()
        return self.exit_code


@pytest.fixture
def start() -> Iterator[Callable[..., Harness]]:
    harnesses: list[Harness] = []

    def _start(
        sync_once: Callable[[threading.Event], Any] = idle,
        sweep: Callable[[threading.Event], Any] = idle,
        startup: Callable[[], Any] = lambda: None,
        config: Settings | None = None,
        **extra: Any,
    ) -> Harness:
        scheduler = BackgroundScheduler(timezone="UTC")
        events = SchedulerEvents(scheduler)
        daemon = Daemon(
            config or settings(),
            sync_once=sync_once,
            sweep=sweep,
            startup=startup,
            metrics=Metrics(),
            scheduler=scheduler,
            **extra,
        )
        daemon.start()
        harness = Harness(daemon, events, scheduler)
        harnesses.append(harness)
        return harness

    yield _start
    for harness in harnesses:
        if harness.exit_code is None:
            harness.stop()


class Concurrency:
    """Records how many calls were inside at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self.inside = 0
        self.most = 0
        self.calls = 0

    def __enter__(self) -> None:
        with self._lock:
            self.calls += 1
            self.inside += 1
            self.most = max(self.most, self.inside)

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self.inside -= 1


class WatchedLock:
    """A lock that tells when someone had to wait for it."""

    def __init__(self):
        self._lock = threading.Lock()
        self.contended = threading.Event()

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            self.contended.set()
            self._lock.acquire()

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()


def sample(metrics_text: str, name: str) -> float:
    """The value of the sample line starting with ``name`` (labels included)."""
    for line in metrics_text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics:\n{metrics_text}")


def test_the_first_sync_runs_at_once_and_its_report_reaches_metrics(start):
    ticks = iter([100.0, 102.5])
    h = start(sync_once=lambda stop: {"read": 3, "written": 2}, clock=lambda: next(ticks))
    assert h.ran(SYNC)
    response = h.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    text = response.text
    assert sample(text, 'handoff_sync_runs_total{kind="sync",status="ok"}') == 1
    assert sample(text, "handoff_records_read_total") == 3
    assert sample(text, "handoff_records_written_total") == 2
    assert sample(text, 'handoff_run_duration_seconds_sum{kind="sync"}') == pytest.approx(2.5)
    assert sample(text, 'handoff_last_success_timestamp_seconds{kind="sync"}') > 0


def test_a_sync_still_running_when_its_interval_fires_again_is_not_started_twice(start):
    release = threading.Event()
    seen = Concurrency()

    def slow_sync(stop):
        with seen:
            release.wait(SAFETY)

    h = start(sync_once=slow_sync, config=settings(sync=FAST))
    assert h.events.wait(EVENT_JOB_MAX_INSTANCES, SYNC), "the scheduler never fired while the sync ran"
    assert (seen.calls, seen.inside) == (1, 1)
    release.set()
    assert h.ran(SYNC, count=3)
    assert seen.calls >= 3
    assert seen.most == 1


def test_the_sweep_waits_for_a_running_sync_and_runs_after_it(start):
    release = threading.Event()
    began = threading.Event()
    order: list[str] = []
    lock = WatchedLock()

    def sync(stop):
        order.append("sync begins")
        began.set()
        release.wait(SAFETY)
        order.append("sync ends")

    h = start(sync_once=sync, sweep=lambda stop: order.append("sweep"), config=settings(sweep=FAST), run_lock=lock)
    # the sweep may knock while the sync job still starts up under the lock: wait for both
    assert began.wait(SAFETY), "the sync never began"
    assert lock.contended.wait(SAFETY), "the sweep never tried to run during the sync"
    assert order == ["sync begins"]
    release.set()
    assert h.ran(SWEEP)
    assert order[:3] == ["sync begins", "sync ends", "sweep"]


def test_stop_lets_the_running_batch_finish_then_exits_0_without_another_run(start):
    batches_begun: list[int] = []
    batches_done: list[int] = []
    in_second_batch = threading.Event()
    calls = Concurrency()

    def sync(stop):
        with calls:
            for batch in range(1, 100):
                if stop.is_set():
                    return {"read": len(batches_done)}
                batches_begun.append(batch)
                if batch == 2:
                    in_second_batch.set()
                    assert stop.wait(SAFETY)  # the stop arrives while this batch is under way
                batches_done.append(batch)

    h = start(sync_once=sync, config=settings(sync=FAST))
    assert in_second_batch.wait(SAFETY)
    assert h.stop() == 0
    assert batches_begun == batches_done == [1, 2]
    assert calls.calls == 1
    assert h.daemon.health()[0] == 503
    assert b'handoff_sync_runs_total{kind="sync",status="interrupted"} 1.0' in h.daemon.metrics.render()


def test_sigterm_stops_run_daemon_after_the_current_batch_and_restores_the_handlers():
    before = signal.getsignal(signal.SIGTERM)
    batches_done: list[int] = []

    def sync(stop):
        for batch in range(1, 100):
            if stop.is_set():
                return None
            if batch == 2:
                os.kill(os.getpid(), signal.SIGTERM)
                assert stop.wait(SAFETY)
            batches_done.append(batch)

    code = run_daemon(settings(), sync_once=sync, sweep=idle, startup=lambda: None, metrics=Metrics())
    assert code == 0
    assert batches_done == [1, 2]
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.set_wakeup_fd(-1) == -1  # the wakeup fd was handed back too


def test_run_daemon_exits_1_when_the_http_port_is_taken():
    with socket.create_server(("0.0.0.0", 0)) as taken:
        port = taken.getsockname()[1]
        with capture_logs() as logs:
            code = run_daemon(settings(port=port), sync_once=idle, sweep=idle, startup=lambda: None, metrics=Metrics())
    assert code == 1
    assert logs[-1]["event"] == "cannot listen for health and metrics"
    assert logs[-1]["port"] == port


def test_healthz_is_200_while_the_scheduler_runs(start):
    h = start()
    response = h.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_until_startup_succeeds_and_no_run_starts_before(start):
    startup_may_succeed = threading.Event()
    synced = threading.Event()

    def startup():
        if not startup_may_succeed.is_set():
            raise AuthenticationFailed("HubSpot rejected the access token")

    h = start(sync_once=lambda stop: synced.set(), startup=startup, config=settings(sync=FAST))
    assert h.ran(SYNC)
    response = h.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "role": "standby",
        "reason": "startup stopped: HubSpot rejected the access token",
    }
    assert not synced.is_set()
    startup_may_succeed.set()
    assert synced.wait(SAFETY)
    assert h.get("/readyz").status_code == 200


def test_stop_run_in_a_sync_is_one_log_line_makes_readyz_503_and_the_next_interval_retries(start):
    second_call = threading.Event()
    finish_second = threading.Event()
    calls = Concurrency()

    def sync(stop):
        with calls:
            if calls.calls == 1:
                raise AuthenticationFailed("HubSpot rejected the access token\n(401)")
            second_call.set()
            finish_second.wait(SAFETY)

    with capture_logs() as logs:
        h = start(sync_once=sync, config=settings(sync=FAST))
        assert h.ran(SYNC)
        response = h.get("/readyz")
        assert response.status_code == 503
        assert response.text.count("\n") == 1
        assert response.json()["reason"] == "last sync stopped: HubSpot rejected the access token (401)"
        assert second_call.wait(SAFETY)
        finish_second.set()
        assert h.ran(SYNC, count=2)
        assert h.get("/readyz").status_code == 200
    stopped = [entry for entry in logs if entry["event"] == "sync stopped"]
    assert len(stopped) == 1
    assert stopped[0]["reason"] == "HubSpot rejected the access token (401)"
    assert b'handoff_sync_runs_total{kind="sync",status="stopped"} 1.0' in h.daemon.metrics.render()


def test_an_unexpected_error_is_a_one_line_summary_counted_as_failed_and_readiness_stays(start):
    def sync(stop):
        raise ValueError("no stage named 'customer'")

    with capture_logs() as logs:
        h = start(sync_once=sync)
        assert h.ran(SYNC)
    failed = [entry for entry in logs if entry["event"] == "sync failed"]
    assert len(failed) == 1
    assert failed[0]["error"].startswith("ValueError: no stage named 'customer' (at ")
    assert failed[0]["error"].endswith(f"{__file__}:{sync.__code__.co_firstlineno + 1})")
    assert "exc_info" not in failed[0] and "exception" not in failed[0]
    assert b'handoff_sync_runs_total{kind="sync",status="failed"} 1.0' in h.daemon.metrics.render()
    assert h.get("/readyz").status_code == 200


def test_readyz_body_is_one_line_of_json(start):
    h = start()
    assert h.ran(SYNC)
    response = h.get("/readyz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text.count("\n") == 1
    assert json.loads(response.text) == {"status": "ready", "role": "active"}


def test_an_overdue_sweep_runs_at_start_so_frequent_restarts_never_starve_it(start):
    swept = threading.Event()
    h = start(sweep=lambda stop: swept.set(), first_sweep=datetime.now(UTC) - timedelta(minutes=5))
    assert h.ran(SWEEP)  # with the default first run (an interval after start) this would wait an hour
    assert swept.is_set()


def test_a_sweep_done_recently_is_not_repeated_at_start(start):
    sweeps: list[int] = []
    h = start(sweep=lambda stop: sweeps.append(1), first_sweep=datetime.now(UTC) + timedelta(hours=1))
    assert h.ran(SYNC)
    assert h.scheduler.get_job(SWEEP).next_run_time > datetime.now(UTC) + timedelta(minutes=59)
    assert sweeps == []


class Script:
    """A sync that does what each call's step says; a step waits for the test to let it finish."""

    def __init__(self, *outcomes: Callable[[], Any]):
        self.outcomes = list(outcomes)
        self.started = [threading.Event() for _ in outcomes]
        self.finish = [threading.Event() for _ in outcomes]
        self.calls = 0

    def __call__(self, stop: threading.Event) -> Any:
        n = min(self.calls, len(self.outcomes) - 1)
        self.calls += 1
        self.started[n].set()
        assert self.finish[n].wait(SAFETY)
        return self.outcomes[n]()


def fail() -> None:
    raise ValueError("no stage named 'customer'")


def test_readyz_is_503_after_the_configured_number_of_failed_runs_in_a_row_and_200_after_a_good_one(start):
    script = Script(fail, fail, lambda: None)
    h = start(sync_once=script, config=settings(sync=FAST, handoff_ready_max_failures=2))
    script.finish[0].set()
    assert script.started[1].wait(SAFETY)
    assert h.get("/readyz").status_code == 200  # one failure is not a pattern
    script.finish[1].set()
    assert script.started[2].wait(SAFETY)
    response = h.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "role": "active",
        "reason": "the last 2 runs failed, the last with ValueError: no stage named 'customer' "
        f"(at {__file__}:{fail.__code__.co_firstlineno + 1})",
    }
    assert h.get("/healthz").status_code == 200  # the process itself is fine
    script.finish[2].set()
    assert h.ran(SYNC, count=3)
    assert h.get("/readyz").json() == {"status": "ready", "role": "active"}


def test_the_failure_threshold_defaults_to_three():
    assert load_settings().handoff_ready_max_failures == 3
    assert load_settings(handoff_ready_max_failures="5").handoff_ready_max_failures == 5


class WatchedLease(FileLease):
    """The real file lock, telling the test what each attempt got."""

    def __init__(self, path, name: str, timeline: list[str]):
        super().__init__(path)
        self.name, self.timeline = name, timeline
        self.took = threading.Event()

    def acquire(self) -> bool:
        held = super().acquire()
        self.timeline.append(f"{self.name} {'holds' if held else 'waits'}")
        if held:
            self.took.set()
        return held

    def release(self) -> None:
        super().release()
        self.timeline.append(f"{self.name} released")


def test_of_two_replicas_one_runs_the_other_stands_by_and_takes_over_at_its_next_run(start, tmp_path):
    timeline: list[str] = []
    first_lease = WatchedLease(tmp_path / "state.sqlite.hubspot.lease", "first", timeline)
    second_lease = WatchedLease(tmp_path / "state.sqlite.hubspot.lease", "second", timeline)
    first_runs, second_runs = Concurrency(), Concurrency()

    def counted(runs: Concurrency) -> Callable[[threading.Event], None]:
        def sync(stop: threading.Event) -> None:
            with runs:
                pass

        return sync

    with capture_logs() as logs:
        first = start(sync_once=counted(first_runs), config=settings(sync=FAST), lease=first_lease)
        assert first_lease.took.wait(SAFETY)
        second = start(sync_once=counted(second_runs), config=settings(sync=FAST), lease=second_lease)
        assert second.ran(SYNC, count=3)
        assert second_runs.calls == 0 and first_runs.calls >= 1
        assert second.get("/readyz").json() == {"status": "ready", "role": "standby"}
        assert first.get("/readyz").json() == {"status": "ready", "role": "active"}
        first.stop()
        assert second_lease.took.wait(SAFETY)
        assert second.ran(SYNC, count=second.events.count(SYNC) + 1)
    after_release = timeline[timeline.index("first released") + 1 :]
    second_attempts = [entry for entry in after_release if entry.startswith("second")]
    # an attempt already under way when the lease was freed may still have missed it; the next one takes it
    assert "second holds" in second_attempts[:2]
    assert second_runs.calls >= 1
    assert second.get("/readyz").json() == {"status": "ready", "role": "active"}
    roles = [(entry["event"], entry.get("reason")) for entry in logs if entry["event"].startswith("replica ")]
    assert roles == [
        ("replica active", "this replica holds the lease and runs"),
        ("replica standby", "another replica holds the lease; taking over if it stops"),
        ("replica active", "this replica holds the lease and runs"),
    ]


def test_a_replica_that_cannot_reach_the_lease_does_not_sync_and_turns_unready(start):
    unreachable = AdvisoryLease(create_engine("postgresql+psycopg://handoff@127.0.0.1:1/state"), "hubspot")
    synced = threading.Event()
    h = start(
        sync_once=lambda stop: synced.set(),
        config=settings(sync=FAST, handoff_ready_max_failures=2),
        lease=unreachable,
    )
    assert h.ran(SYNC, count=2)
    response = h.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["role"]) == ("not ready", "standby")
    assert re.match(r"the last \d+ runs failed, the last with OperationalError: ", body["reason"])
    assert not synced.is_set()
