"""A CRM that cannot be reached or keeps failing: after the retries, the run stops with one plain line, exit 3."""

from __future__ import annotations

import functools

import pytest
from builders import DEFAULT_RULES
from typer.testing import CliRunner

from connector.cli import app, runtime
from connector.config.settings import Settings
from connector.crm.errors import CrmUnavailable, Outage
from connector.crm.retry import RetryPolicy
from connector.sandbox.clock import ManualClock
from connector.sandbox.portals import HubSpotPortal, SalesforcePortal

UNREACHABLE = "http://handoff:hunter2@127.0.0.1:1"


class Slept:
    """Stands in for time.sleep: remembers the waits instead of waiting."""

    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_an_unreachable_hubspot_stops_the_run_after_the_retries_with_a_plain_message(tmp_path):
    slept = Slept()
    settings = Settings(
        hubspot_access_token="pat-na1-secret-token",
        hubspot_api_base=UNREACHABLE,
        handoff_state_url=f"sqlite:///{tmp_path / 'state.sqlite'}",
    )
    adapter = runtime.hubspot_adapter(settings, sleep=slept, monotonic=ManualClock(0))
    with pytest.raises(CrmUnavailable) as stopped:
        adapter.start()
    message = str(stopped.value)
    assert message.startswith("cannot reach HubSpot at http://127.0.0.1:1 (")
    assert message.endswith("; gave up after 6 attempts")
    assert len(slept.waits) == 5
    assert "hunter2" not in message and "handoff:" not in message and "pat-na1" not in message


def test_a_salesforce_outage_stops_the_run_after_the_retries(salesforce_sandbox):
    portal = SalesforcePortal(salesforce_sandbox.app, salesforce_sandbox.base_url, salesforce_sandbox.clock)
    adapter = runtime.salesforce_adapter(
        portal.settings("sqlite://", DEFAULT_RULES), sleep=portal.clock.advance, monotonic=portal.clock
    )
    portal.set_faults(error_rate=1.0, status=503)
    with pytest.raises(CrmUnavailable, match=r"^Salesforce at https://127\.0\.0\.1:\d+ answered 503 .*gave up after 6"):
        adapter.start()


def test_retries_ride_out_a_passing_outage():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise Outage("HubSpot answered 503")
        return "ok"

    assert RetryPolicy(sleep=Slept()).call(flaky) == "ok"


@pytest.fixture
def cli(hubspot_sandbox, tmp_path, monkeypatch):
    """``handoff`` against the HubSpot sandbox, with retries that wait on the sandbox's clock, not the wall's."""
    clock = hubspot_sandbox.clock
    no_wait = functools.partial(runtime.hubspot_adapter, sleep=clock.advance, monotonic=clock)
    monkeypatch.setattr(runtime, "hubspot_adapter", no_wait)
    portal = HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, clock)
    portal.seed()
    env = {
        **portal.env(),
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_RULES": str(DEFAULT_RULES),
        "HANDOFF_REPORT_DIR": str(tmp_path / "reports"),
        "HANDOFF_LOG_FORMAT": "json",
    }

    def run(*args, **extra_env):
        return CliRunner().invoke(app, list(args), env={**env, **extra_env})

    return run, portal


def stopped_with_one_line(result, starts: str) -> None:
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if not line.startswith("{")]  # log lines are JSON
    assert len(errors) == 1 and errors[0].startswith("stopped: " + starts), errors


@pytest.mark.parametrize("command", [("sync", "--once"), ("backfill",), ("backfill", "--dry-run")])
def test_an_unreachable_crm_ends_the_command_with_one_line_and_exit_3(cli, command):
    run, _ = cli
    result = run(*command, HUBSPOT_API_BASE=UNREACHABLE)
    stopped_with_one_line(result, "cannot reach HubSpot at http://127.0.0.1:1 (")
    assert "hunter2" not in result.output


def test_an_outage_of_mostly_503s_ends_the_command_with_one_line_and_exit_3(cli):
    run, portal = cli
    portal.set_faults(error_rate=0.85, status=503)
    result = run("sync", "--once")
    stopped_with_one_line(result, f"HubSpot at {portal.base_url} answered 503: ")
    assert result.stderr.strip().endswith("gave up after 6 attempts")
