"""``handoff run``: scheduled syncs and decay sweeps, a graceful stop, health and metrics over HTTP.

Two APScheduler interval jobs share one lock, so a run never overlaps itself
or the other job. A run function receives the daemon's stop event and checks it
between batches: on SIGTERM the daemon schedules nothing new, lets the running
batch finish and checkpoint, and exits 0.

Replicas share the state store's lease: before each run a replica takes it or
confirms it still holds it (active) or, while another holds it, skips the run
(standby). A standby therefore takes over at its first run after the active
one dies or stops, within one sync interval.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from connector.config.settings import Settings
from connector.crm.errors import StopRun
from connector.ops.http import HttpServer, health_app
from connector.ops.metrics import Metrics, RunStatus
from connector.state.lease import Lease, SoleLease

log = structlog.get_logger(__name__)

#: a run: do the work in batches, return early once the event is set, optionally return report counts
RunFunction = Callable[[threading.Event], Mapping[str, int] | None]

SYNC = "sync"
SWEEP = "sweep"
EXIT_OK = 0
EXIT_CANNOT_LISTEN = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Role(str, Enum):
    """Whether this replica holds the lease and runs, or waits to take over."""

    ACTIVE = "active"
    STANDBY = "standby"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _summary(exc: BaseException) -> str:
    """``Type: message (at file:line)``: enough to find the fault without a multi-line traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {_one_line(exc)}{where}"


class Daemon:
    """The scheduler, the stop protocol and the HTTP endpoints; ``run_daemon`` adds signals.

    ``start()`` binds the port and starts both jobs (the sync at once);
    ``request_stop()`` may be called from any thread;
    ``wait()`` blocks until then, lets the running job finish and returns the exit code.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        sync_once: RunFunction,
        sweep: RunFunction,
        startup: Callable[[], Any],
        metrics: Metrics,
        scheduler: BackgroundScheduler | None = None,
        clock: Callable[[], float] = time.monotonic,
        run_lock: AbstractContextManager[Any] | None = None,
        first_sweep: datetime | None = None,
        lease: Lease | None = None,
    ):
        """``startup`` runs before the first run, and again before each run until it succeeds.

        ``clock`` times runs; ``run_lock`` is held by every run (by default a private lock).
        ``first_sweep`` is when the first decay sweep is due (a time past runs it at once);
        by default one interval after start. ``lease`` is shared with the other replicas
        (by default this daemon is the only one).
        """
        self._settings = settings
        self._first_sweep = first_sweep
        self._runs: dict[str, RunFunction] = {SYNC: sync_once, SWEEP: sweep}
        self._startup = startup
        self.metrics = metrics
        self._scheduler = scheduler or BackgroundScheduler(timezone=UTC)
        self._clock = clock
        self._run_lock = run_lock or threading.Lock()
        #: set once stopping: run functions check it between batches
        self.stop_event = threading.Event()
        self._started_up = False
        self._not_ready: str | None = "startup has not run yet"
        self._lease = lease or SoleLease()
        self._role: Role | None = None
        #: runs that failed in a row, and how the last one did
        self._failures = 0
        self._last_failure: str | None = None
        self._http: HttpServer | None = None

    @property
    def port(self) -> int:
        """The HTTP port actually bound (useful when the settings ask for port 0)."""
        if self._http is None:
            raise RuntimeError("the daemon has not started")
        return self._http.address[1]

    def start(self) -> None:
        """Bind the HTTP port (OSError if taken), then start the jobs and the HTTP server."""
        app = health_app(self.health, self.readiness, self.metrics.render)
        self._http = HttpServer(app, self._settings.handoff_http_host, self._settings.handoff_http_port)
        # a late or missed firing collapses into one run instead of a burst; a run never overlaps itself
        every = {"trigger": "interval", "max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        self._scheduler.add_job(
            self._run,
            args=[SYNC],
            id=SYNC,
            name="incremental sync",
            seconds=self._settings.handoff_sync_interval,
            next_run_time=datetime.now(UTC),
            **every,
        )
        # APScheduler reads next_run_time=None as "paused": only pass a time when there is one
        first = {"next_run_time": self._first_sweep} if self._first_sweep is not None else {}
        self._scheduler.add_job(
            self._run,
            args=[SWEEP],
            id=SWEEP,
            name="decay sweep",
            seconds=self._settings.handoff_sweep_interval,
            **first,
            **every,
        )
        log.info(
            "daemon started",
            port=self.port,
            sync_interval=self._settings.handoff_sync_interval,
            sweep_interval=self._settings.handoff_sweep_interval,
        )
        self._scheduler.start()
        self._http.start()

    def request_stop(self, reason: str = "stop requested") -> None:
        """Schedule nothing new and tell the running job to stop after its batch; any thread may call it."""
        log.info("stopping: the running job finishes its batch", reason=reason)
        self.stop_event.set()

    def wait(self) -> int:
        """Block until a stop is requested, let the running job finish, shut down, return the exit code."""
        self.stop_event.wait()
        self._scheduler.shutdown(wait=True)
        self._lease.release()  # a standby takes over at its next run instead of waiting for our exit
        if self._http is not None:
            self._http.stop()
        log.info("stopped")
        return EXIT_OK

    def health(self) -> tuple[int, dict[str, str]]:
        """``/healthz``: 200 while the scheduler runs."""
        if self._scheduler.running:
            return 200, {"status": "ok"}
        return 503, {"status": "down", "reason": "the scheduler is not running"}

    @property
    def role(self) -> Role:
        """Active while this replica holds the lease; standby until it first does."""
        return self._role or Role.STANDBY

    def readiness(self) -> tuple[int, dict[str, str]]:
        """``/readyz``: 200 once startup succeeded, unless the last run ended with StopRun or the
        last ``HANDOFF_READY_MAX_FAILURES`` runs all failed. The body names the replica's role."""
        reason = self._not_ready
        if reason is None and self._failures >= self._settings.handoff_ready_max_failures:
            reason = f"the last {self._failures} runs failed, the last with {self._last_failure}"
        if reason is None:
            return 200, {"status": "ready", "role": self.role.value}
        return 503, {"status": "not ready", "role": self.role.value, "reason": reason}

    def _run(self, kind: str) -> None:
        with self._run_lock:
            # a job that waited for the lock while the daemon began stopping starts nothing new
            if self.stop_event.is_set() or not self._ensure_started() or not self._hold_lease():
                return
            started = self._clock()
            status, report, problem = self._call(lambda: self._runs[kind](self.stop_event))
            seconds = self._clock() - started
            if status is RunStatus.OK and self.stop_event.is_set():
                status = RunStatus.INTERRUPTED
            self._not_ready = f"last {kind} stopped: {problem}" if status is RunStatus.STOPPED else None
            self._count(status, problem)
            counts = dict(report) if isinstance(report, Mapping) else {}
            self.metrics.run_finished(kind, status, seconds, counts)
            self._log_outcome(kind, status, problem, seconds=round(seconds, 3), report=counts)

    def _hold_lease(self) -> bool:
        """Take or keep the lease; say so when the role changes. A failed check counts as a failed run."""
        status, held, problem = self._call(self._lease.acquire)
        if status is not RunStatus.OK:
            self._count(status, problem)
            self._log_outcome("lease check", status, problem)
        role = Role.ACTIVE if held else Role.STANDBY
        if role is not self._role:
            self._role = role
            if role is Role.ACTIVE:
                log.info("replica active", reason="this replica holds the lease and runs")
            else:
                log.info(
                    "replica standby", reason=problem or "another replica holds the lease; taking over if it stops"
                )
        return role is Role.ACTIVE

    def _count(self, status: RunStatus, problem: str | None) -> None:
        if status is RunStatus.FAILED:
            self._failures += 1
            self._last_failure = problem
        elif status is RunStatus.OK:
            self._failures = 0

    def _ensure_started(self) -> bool:
        if self._started_up:
            return True
        status, _, problem = self._call(self._startup)
        self._log_outcome("startup", status, problem)
        if status is RunStatus.OK:
            self._started_up = True
            self._not_ready = None
            return True
        self._not_ready = f"startup {status}: {problem}"
        return False

    @staticmethod
    def _call(fn: Callable[[], Any]) -> tuple[RunStatus, Any, str | None]:
        try:
            return RunStatus.OK, fn(), None
        except StopRun as exc:
            return RunStatus.STOPPED, None, _one_line(exc)
        except Exception as exc:
            return RunStatus.FAILED, None, _summary(exc)

    def _log_outcome(self, what: str, status: RunStatus, problem: str | None, **fields: Any) -> None:
        # one line per run: stopped runs say what the admin must fix and when Handoff tries again
        if problem is None:
            log.info(f"{what} {status}", **fields)
        elif status is RunStatus.STOPPED:
            log.error(
                f"{what} stopped", reason=problem, retry_in_seconds=self._settings.handoff_sync_interval, **fields
            )
        else:
            log.error(f"{what} failed", error=problem, **fields)


def run_daemon(
    settings: Settings,
    *,
    sync_once: RunFunction,
    sweep: RunFunction,
    startup: Callable[[], Any],
    metrics: Metrics,
    clock: Callable[[], float] = time.monotonic,
    first_sweep: datetime | None = None,
    lease: Lease | None = None,
) -> int:
    """Run until SIGTERM or SIGINT, then stop gracefully; returns the process exit code.

    Call from the main thread (signal handlers can only be installed there).
    """
    daemon = Daemon(
        settings,
        sync_once=sync_once,
        sweep=sweep,
        startup=startup,
        metrics=metrics,
        clock=clock,
        first_sweep=first_sweep,
        lease=lease,
    )
    # Python runs signal handlers only in the main thread, and only once it wakes up; if the
    # kernel hands SIGTERM to a worker thread, a main thread blocked on a lock never does.
    # The wakeup fd gets the signal number from whichever thread receives it, so the main
    # thread blocks reading that instead. The handlers themselves only replace the default
    # actions (terminate, KeyboardInterrupt).
    wake_r, wake_w = socket.socketpair()
    with wake_r, wake_w:
        wake_w.setblocking(False)
        previous_fd = signal.set_wakeup_fd(wake_w.fileno())
        # installed before the first run starts, so no signal can kill a batch half-way
        previous = {sig: signal.signal(sig, lambda _signum, _frame: None) for sig in STOP_SIGNALS}
        try:
            daemon.start()
        except OSError as exc:
            log.error(
                "cannot listen for health and metrics", port=settings.handoff_http_port, error=exc.strerror or str(exc)
            )
            return EXIT_CANNOT_LISTEN
        else:
            daemon.request_stop(_next_stop_signal(wake_r).name)
            return daemon.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_fd)


def _next_stop_signal(wakeup: socket.socket) -> signal.Signals:
    # other signals with Python handlers (e.g. SIGALRM) write their numbers too
    while True:
        for number in wakeup.recv(64):
            if number in STOP_SIGNALS:
                return signal.Signals(number)
