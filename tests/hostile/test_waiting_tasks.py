"""Task intents a run could not finish are reported, with when they are retried, until they are done."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from builders import DEFAULT_RULES
from crowd import sql_task
from typer.testing import CliRunner

from connector.cli import app
from connector.cli.runtime import build, hubspot_adapter, utc_now
from connector.crm.errors import CrmUnavailable
from connector.model import parse_time
from connector.sandbox.portals import HubSpotPortal
from connector.state import Store

TASK_CREATE = "POST /crm/v3/objects/tasks/batch/create"
SETTLE = timedelta(minutes=2)


def refuse_task_creation(sandbox):
    """Until the returned function is called, every task create gets a 503 (and creates nothing)."""
    serve = sandbox.app.serve
    sandbox.app.serve = lambda request, handler: (
        sandbox.app.fault_response(request, 503) if request.label == TASK_CREATE else serve(request, handler)
    )
    return lambda: setattr(sandbox.app, "serve", serve)


def test_a_backfill_whose_tasks_could_not_be_created_is_partial_until_a_later_run_creates_them(
    hubspot_sandbox, tmp_path
):
    clock = hubspot_sandbox.clock
    portal = HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, clock)
    leads = [portal.seed(email=f"buyer{n}@acme.io") for n in range(15)]
    for lead in leads:
        portal.activity(lead, "form_submission", name="Request a demo")
    settings = portal.settings(f"sqlite:///{tmp_path / 'state.sqlite'}", DEFAULT_RULES).model_copy(
        update={"handoff_task_settle_seconds": SETTLE.total_seconds()}
    )
    adapter = hubspot_adapter(settings, sleep=clock.advance, monotonic=clock)
    runtime = build(settings, clock=clock.datetime, adapter=adapter)
    adapter.start()
    allow = refuse_task_creation(hubspot_sandbox)

    with pytest.raises(CrmUnavailable):  # the task calls fail through every retry: the run stops there
        runtime.sync.backfill()
    failed_at = clock.datetime()

    allow()
    clock.advance(60)
    rerun = runtime.sync.backfill()  # the settle window is not over: nothing is created twice, nothing said "ok"
    assert (rerun.status, rerun.tasks_created, rerun.tasks_waiting) == ("partial", 0, 15)
    assert rerun.tasks_retry_at is not None and failed_at < rerun.tasks_retry_at <= failed_at + SETTLE
    assert rerun.to_json()["tasks_waiting"] == 15
    assert portal.task_keys() == {}

    clock.advance(SETTLE.total_seconds())
    done = runtime.sync.sync_once()
    assert (done.status, done.tasks_created, done.tasks_waiting, done.tasks_retry_at) == ("ok", 15, 0, None)
    assert portal.task_keys() == {f"handoff:{lead}:sql:0": 1 for lead in leads}
    runtime.close()


def test_the_run_summary_says_how_many_tasks_wait_and_when_they_are_retried(hubspot_sandbox, tmp_path):
    portal = HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, hubspot_sandbox.clock)
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    state_url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    # a run killed during task creation left this intent a moment ago: the CRM never got the call
    killed = Store(state_url, "hubspot", utc_now)
    killed.tasks.claim([sql_task(lead, portal.owner(), utc_now())])
    killed.close()
    env = {
        **portal.env(),
        "HANDOFF_STATE_URL": state_url,
        "HANDOFF_RULES": str(DEFAULT_RULES),
        "HANDOFF_LOG_FORMAT": "json",
    }
    as_json = CliRunner().invoke(app, ["sync", "--once", "--json"], env=env)
    summary = json.loads(as_json.stdout.strip().splitlines()[-1])
    assert (summary["status"], summary["tasks_waiting"], summary["tasks_created"]) == ("partial", 1, 0)
    retry_at = parse_time(summary["tasks_retry_at"])
    assert timedelta(0) < retry_at - utc_now() <= SETTLE
    as_text = CliRunner().invoke(app, ["sync", "--once"], env=env)
    assert as_text.exit_code == 0, as_text.output
    assert as_text.stdout.startswith("sync partial: ")
    assert f"tasks waiting 1 (retried from {summary['tasks_retry_at']})" in as_text.stdout
    assert portal.task_keys() == {}
    done = CliRunner().invoke(app, ["sync", "--once", "--json"], env={**env, "HANDOFF_TASK_SETTLE_SECONDS": "0"})
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["status"], summary["tasks_waiting"], summary["tasks_retry_at"]) == ("ok", 0, None)
    assert portal.task_keys() == {f"handoff:{lead}:sql:0": 1}
