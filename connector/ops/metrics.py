"""Prometheus metrics a RevOps admin alerts on: runs, records, tasks, CRM calls, funnel.

Each ``Metrics`` owns its own ``CollectorRegistry`` (never the global one), so
tests and tools can create as many as they like. The sync loop reports through
the few methods below; the daemon serves ``render()`` on ``/metrics``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from enum import StrEnum

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: media type of ``render()``'s output
CONTENT_TYPE = CONTENT_TYPE_LATEST


class RunStatus(StrEnum):
    """How a run ended: the ``status`` label of ``handoff_sync_runs_total``."""

    OK = "ok"
    INTERRUPTED = "interrupted"  # finished its batch and stopped early because the daemon is stopping
    STOPPED = "stopped"  # StopRun: an admin must act (credentials, scopes, quota)
    FAILED = "failed"  # any other error


# from a sub-second quiet cycle to an hour-long backfill
_DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class Metrics:
    """Handoff's metrics in a dedicated registry, updated through typed methods."""

    def __init__(self, clock: Callable[[], float] = time.time):
        """``clock`` gives the wall time recorded as a run's last success."""
        self.registry = CollectorRegistry()
        self._clock = clock
        self._stages_seen: set[str] = set()

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(name, doc, labels, registry=self.registry)

        self._runs = counter(
            "handoff_sync_runs", "Runs by kind (sync, sweep, backfill) and status.", ("kind", "status")
        )
        self._duration = Histogram(
            "handoff_run_duration_seconds",
            "How long runs take.",
            ("kind",),
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self._last_success = Gauge(
            "handoff_last_success_timestamp_seconds",
            "Unix time the last run of this kind finished ok.",
            ("kind",),
            registry=self.registry,
        )
        #: run-report keys and the counter each one feeds
        self._report_counters = {
            "read": counter("handoff_records_read", "CRM records read."),
            "written": counter("handoff_records_written", "CRM records written back."),
            "write_failures": counter("handoff_write_failures", "Record writes that failed (retried next cycle)."),
            "dead_letters": counter("handoff_dead_letters", "Writes given up on and put in the dead-letter table."),
            "quarantined": counter("handoff_quarantined", "Records set aside as unreadable or invalid."),
            "alerts_sent": counter("handoff_alerts_sent", "Alerts the webhook accepted."),
            "alerts_retrying": counter(
                "handoff_alerts_retrying", "Alert posts that failed passingly (retried next cycle)."
            ),
            "escalated": counter("handoff_escalations", "Rep tasks escalated past their SLA (once per episode)."),
        }
        self._tasks = counter(
            "handoff_tasks_created", "Rep tasks created, by the stage that triggered them.", ("stage",)
        )
        self._crm_requests = counter(
            "handoff_crm_requests", "CRM API calls by HTTP status ('error': no response).", ("status",)
        )
        self._waits = counter("handoff_rate_limit_waits_seconds", "Time spent waiting for the rate limiter.")
        self._by_stage = Gauge(
            "handoff_leads_by_stage", "Stored leads per funnel stage.", ("stage",), registry=self.registry
        )

    def run_finished(
        self, kind: str, status: RunStatus, seconds: float, report: Mapping[str, int] | None = None
    ) -> None:
        """Count one run of ``kind`` ending with ``status`` after ``seconds``.

        ``report`` keys ``read``, ``written``, ``write_failures``, ``dead_letters``,
        ``quarantined``, ``escalated``, ``alerts_sent`` and ``alerts_retrying`` add to their counters; other keys
        are ignored.
        """
        self._runs.labels(kind, status.value).inc()
        self._duration.labels(kind).observe(seconds)
        if status is RunStatus.OK:
            self._last_success.labels(kind).set(self._clock())
        for key, value in (report or {}).items():
            if key in self._report_counters and value:
                self._report_counters[key].inc(value)

    def task_created(self, stage: str, count: int = 1) -> None:
        """Count rep tasks created for leads that reached ``stage``."""
        self._tasks.labels(stage).inc(count)

    def crm_request(self, status: int | str) -> None:
        """Count one CRM API call by its HTTP status, or ``"error"`` when no response came back."""
        self._crm_requests.labels(str(status)).inc()

    def waited(self, seconds: float) -> None:
        """Add the (non-negative) seconds a caller waited for the rate limiter."""
        self._waits.inc(seconds)

    def leads_by_stage(self, counts: Mapping[str, int]) -> None:
        """Set the funnel gauge to ``counts``; a stage missing from ``counts`` drops to 0."""
        for stage in self._stages_seen - counts.keys():
            self._by_stage.labels(stage).set(0)
        for stage, count in counts.items():
            self._by_stage.labels(stage).set(count)
        self._stages_seen |= counts.keys()

    def render(self) -> bytes:
        """The registry in Prometheus text format (media type ``CONTENT_TYPE``)."""
        return generate_latest(self.registry)
