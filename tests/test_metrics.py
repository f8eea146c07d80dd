"""The metrics a RevOps admin scrapes, as the sync loop reports them."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from connector.ops.metrics import Metrics, RunStatus

EXPOSED = {
    "handoff_sync_runs_total",
    "handoff_run_duration_seconds_bucket",
    "handoff_records_read_total",
    "handoff_records_written_total",
    "handoff_write_failures_total",
    "handoff_tasks_created_total",
    "handoff_dead_letters_total",
    "handoff_quarantined_total",
    "handoff_alerts_sent_total",
    "handoff_alerts_retrying_total",
    "handoff_crm_requests_total",
    "handoff_rate_limit_waits_seconds_total",
    "handoff_last_success_timestamp_seconds",
    "handoff_leads_by_stage",
}


@pytest.fixture
def metrics():
    return Metrics(clock=lambda: 1_790_000_000.0)


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_every_documented_metric_is_exposed_once_each_method_has_been_called(metrics):
    metrics.run_finished("sync", RunStatus.OK, 1.0, {"read": 1, "alerts_sent": 1, "alerts_retrying": 1})
    metrics.task_created("sql")
    metrics.crm_request(200)
    metrics.waited(0.5)
    metrics.leads_by_stage({"mql": 1})
    samples = {s.name for family in text_string_to_metric_families(metrics.render().decode()) for s in family.samples}
    assert samples >= EXPOSED


def test_each_metrics_has_its_own_registry_and_the_global_one_stays_clean():
    first, second = Metrics(), Metrics()
    first.crm_request(200)
    assert value(first, "handoff_crm_requests_total", status="200") == 1
    assert value(second, "handoff_crm_requests_total", status="200") is None
    assert REGISTRY.get_sample_value("handoff_crm_requests_total", {"status": "200"}) is None


def test_a_finished_run_counts_its_status_duration_and_report(metrics):
    report = {"read": 120, "written": 7, "write_failures": 2, "dead_letters": 1, "quarantined": 3, "skipped": 9}
    metrics.run_finished("sync", RunStatus.OK, 2.5, report)
    metrics.run_finished("sync", RunStatus.OK, 0.5, {"read": 5})
    assert value(metrics, "handoff_sync_runs_total", kind="sync", status="ok") == 2
    assert value(metrics, "handoff_run_duration_seconds_sum", kind="sync") == 3.0
    assert value(metrics, "handoff_run_duration_seconds_count", kind="sync") == 2
    assert value(metrics, "handoff_records_read_total") == 125
    assert value(metrics, "handoff_records_written_total") == 7
    assert value(metrics, "handoff_write_failures_total") == 2
    assert value(metrics, "handoff_dead_letters_total") == 1
    assert value(metrics, "handoff_quarantined_total") == 3
    assert value(metrics, "handoff_last_success_timestamp_seconds", kind="sync") == 1_790_000_000.0


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.STOPPED, RunStatus.INTERRUPTED])
def test_only_a_run_that_finished_ok_moves_the_last_success_time(metrics, status):
    metrics.run_finished("sweep", status, 1.0)
    assert value(metrics, "handoff_sync_runs_total", kind="sweep", status=status.value) == 1
    assert value(metrics, "handoff_last_success_timestamp_seconds", kind="sweep") is None


def test_tasks_crm_calls_and_waits_are_counted_by_their_labels(metrics):
    metrics.task_created("sql")
    metrics.task_created("sql", 2)
    metrics.task_created("mql")
    for status in (200, 207, 429, 429, "error"):
        metrics.crm_request(status)
    metrics.waited(1.25)
    metrics.waited(0.75)
    assert value(metrics, "handoff_tasks_created_total", stage="sql") == 3
    assert value(metrics, "handoff_tasks_created_total", stage="mql") == 1
    assert value(metrics, "handoff_crm_requests_total", status="429") == 2
    assert value(metrics, "handoff_crm_requests_total", status="error") == 1
    assert value(metrics, "handoff_rate_limit_waits_seconds_total") == 2.0


def test_leads_by_stage_follows_the_latest_counts_and_zeroes_a_stage_that_emptied(metrics):
    metrics.leads_by_stage({"lead": 40, "mql": 12, "sql": 3})
    metrics.leads_by_stage({"lead": 41, "sql": 5})
    assert value(metrics, "handoff_leads_by_stage", stage="lead") == 41
    assert value(metrics, "handoff_leads_by_stage", stage="mql") == 0
    assert value(metrics, "handoff_leads_by_stage", stage="sql") == 5
