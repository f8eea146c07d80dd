"""Alerts from the sync loop, against each CRM sandbox, posted over real HTTP to a receiver on 127.0.0.1.

Handoff, the sandbox, the sender's waits and the receiver's signature check share the sandbox's
manual clock: nothing sleeps.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from alert_builders import SIGNING_SECRET, receiving
from builders import DEFAULT_RULES
from deployments import deploy
from pydantic import SecretStr
from test_e2e_crm import Deployment
from typer.testing import CliRunner

from connector.cli import app
from connector.sandbox.hubspot.store import PORTAL_ID
from connector.state.alerts import ALERT_DEAD, ALERT_PENDING, ALERT_SENT
from connector.sync.dry_run import DryRun


class Crash(Exception):
    """The process dies here."""


@pytest.fixture
def receiver(portal):
    with receiving(portal.clock) as r:
        yield r


def alerting(portal, receiver, tmp_path, **settings) -> Deployment:
    """Handoff on ``portal``, posting signed JSON alerts to ``receiver``."""
    runtime = deploy(
        portal,
        tmp_path / "state.sqlite",
        handoff_alert_webhook_url=SecretStr(receiver.url),
        handoff_alert_format="json",
        handoff_alert_secret=SecretStr(SIGNING_SECRET),
        handoff_hubspot_portal_id=str(PORTAL_ID),
        **settings,
    )
    return Deployment(portal, runtime)


@pytest.fixture
def deployment(portal, receiver, tmp_path):
    deployed = alerting(portal, receiver, tmp_path)
    yield deployed
    deployed.runtime.close()


def demo_request(deployment, email: str = "ana@acme.io") -> str:
    lead = deployment.portal.seed(email=email)
    deployment.portal.activity(lead, "form_submission", name="Request a demo")
    return lead


def record_link(deployment, lead: str) -> str:
    if deployment.portal.crm == "hubspot":
        return f"https://app.hubspot.com/contacts/{PORTAL_ID}/record/0-1/{lead}"
    return f"{deployment.portal.base_url}/lightning/r/Lead/{lead}/view"


def test_a_demo_request_that_becomes_sql_posts_one_signed_alert_with_its_link(deployment, receiver):
    lead = demo_request(deployment)
    report = deployment.cycle()
    assert report.status == "ok" and report.alerts["sent"] == 1
    [alert] = receiver.accepted
    assert receiver.rejected == 0  # the receiver verified the signature with the shared secret
    assert (alert["event"], alert["key"], alert["stage"]) == ("new_sql", f"alert:{lead}:1:new_sql", "sql")
    assert alert["record"] == {"id": lead, "episode": 1, "url": record_link(deployment, lead)}
    assert alert["reasons"][0].startswith("Requested a demo")
    [task] = deployment.portal.tasks(lead)
    assert alert["owner"]["id"] == task.owner_id
    assert deployment.runtime.store.alerts.count(ALERT_SENT) == 1

    deployment.portal.activity(lead, "page_view", url="https://acme-vendor.com/pricing")
    again = deployment.cycle()
    assert again.alerts["sent"] == 0 and len(receiver.bodies) == 1


def test_a_backfill_creates_its_tasks_without_posting_an_alert_per_promotion(deployment, receiver):
    leads = [demo_request(deployment, email=f"buyer{n}@acme.io") for n in range(3)]
    deployment.later()
    report = deployment.runtime.sync.backfill()
    assert report.tasks_created == 3
    assert report.alerts["sent"] == 0 and receiver.bodies == []
    assert deployment.runtime.store.alerts.count(ALERT_SENT) == 0
    deployment.portal.activity(leads[0], "page_view", url="https://acme-vendor.com/pricing")
    assert deployment.cycle().alerts["sent"] == 0  # qualified already: nothing new to announce


def test_an_alert_whose_sending_was_not_recorded_is_posted_once_more_after_a_restart(deployment, receiver, monkeypatch):
    lead = demo_request(deployment)
    ledger = deployment.runtime.store.alerts
    marked = ledger.sent

    def die_before_marking(key: str) -> None:
        monkeypatch.setattr(ledger, "sent", marked)  # the restarted process marks normally
        raise Crash(key)

    monkeypatch.setattr(ledger, "sent", die_before_marking)
    with pytest.raises(Crash):
        deployment.cycle()
    assert len(receiver.accepted) == 1 and ledger.count(ALERT_PENDING) == 1

    deployment.cycle()
    deployment.cycle()
    keys = [a["key"] for a in receiver.accepted]
    assert keys == [f"alert:{lead}:1:new_sql"] * 2  # repeated once, with the key receivers drop repeats by
    assert ledger.count(ALERT_SENT) == 1
    assert len(deployment.portal.tasks(lead)) == 1


def test_an_alert_claimed_before_a_crash_is_posted_once_after_the_restart(deployment, receiver, monkeypatch):
    lead = demo_request(deployment)
    sender = deployment.runtime.alerts.sender
    post = sender.send

    def die_before_posting(event):
        monkeypatch.setattr(sender, "send", post)
        raise Crash(event.key)

    monkeypatch.setattr(sender, "send", die_before_posting)
    with pytest.raises(Crash):
        deployment.cycle()
    assert receiver.bodies == [] and deployment.runtime.store.alerts.count(ALERT_PENDING) == 1

    deployment.cycle()
    deployment.cycle()
    assert [a["key"] for a in receiver.accepted] == [f"alert:{lead}:1:new_sql"]


def test_an_sla_breach_claimed_between_cycles_goes_out_with_the_next_one(deployment, receiver):
    lead = demo_request(deployment)
    deployment.cycle()
    store, alerts = deployment.runtime.store, deployment.runtime.alerts
    episode = store.episodes.open_for([lead])[lead]
    crm = store.records.get([lead])[lead].crm_state
    deployment.later(60 * 24)  # a day later, the task is still open
    assert alerts.breach(episode, crm) and not alerts.breach(episode, crm)
    deployment.cycle()
    qualified, breach = receiver.accepted
    assert (breach["event"], breach["key"]) == ("sla_breach", f"alert:{lead}:1:sla_breach")
    assert breach["record"] == qualified["record"]  # the same episode number and link
    assert breach["overdue_seconds"] > 0


def test_an_alert_the_receiver_failed_is_delivered_next_cycle_without_holding_up_the_sync(deployment, receiver):
    receiver.script = [(500, {})] * 3  # every attempt of the first cycle
    lead = demo_request(deployment)
    first = deployment.cycle()
    assert first.status == "ok" and first.alerts == {"retrying": 1}
    assert deployment.portal.stage(lead) == "sql" and len(deployment.portal.tasks(lead)) == 1
    assert receiver.accepted == []

    second = deployment.cycle()
    assert second.alerts == {"sent": 1}
    assert [a["key"] for a in receiver.accepted] == [f"alert:{lead}:1:new_sql"]
    assert receiver.statuses == [500, 500, 500, 200]


def test_a_refused_alert_is_dead_lettered_with_its_error_and_never_posted_again(deployment, receiver):
    receiver.script = [(400, {})]
    lead = demo_request(deployment)
    report = deployment.cycle()
    assert report.alerts == {"dead_lettered": 1} and report.dead_lettered == 1
    [letter] = deployment.runtime.store.dead_letters.all()
    assert (letter.record_id, letter.kind, letter.payload["key"]) == (lead, "alert", f"alert:{lead}:1:new_sql")
    assert "answered 400" in letter.error
    assert "xS3cr3tPathToken" not in letter.error and SIGNING_SECRET not in str(letter.payload)

    deployment.cycle()
    assert receiver.statuses == [400]
    assert deployment.runtime.store.alerts.count(ALERT_DEAD) == 1


def test_a_receiver_that_stays_down_costs_one_alerts_retries_per_cycle_until_dead_lettered(portal, receiver, tmp_path):
    deployment = alerting(portal, receiver, tmp_path, handoff_max_write_attempts=2)
    receiver.script = [(503, {})] * 100
    first, second = demo_request(deployment), demo_request(deployment, email="ben@acme.io")
    try:
        started = deployment.now()
        assert deployment.cycle().alerts == {"retrying": 1}
        assert len(receiver.bodies) == 3  # one alert's three attempts; the other waits for the next cycle
        assert deployment.now() - started < timedelta(minutes=5, seconds=30)  # backoff waits are seconds

        assert deployment.cycle().alerts == {"dead_lettered": 1}  # out of cycles; the receiver is still down
        assert deployment.cycle().alerts == {"retrying": 1}
        assert deployment.cycle().alerts == {"dead_lettered": 1}
        letters = deployment.runtime.store.dead_letters.all()
        assert sorted(d.record_id for d in letters) == sorted([first, second])
        assert all(d.attempts == 2 and "answered 503" in d.error for d in letters)
        assert deployment.cycle().alerts == {} and len(receiver.bodies) == 12
    finally:
        deployment.runtime.close()


def test_a_dry_run_posts_nothing_and_claims_nothing_but_counts_what_it_would_post(deployment, receiver):
    demo_request(deployment)
    deployment.later()
    report = deployment.runtime.sync.sync_once(sink=DryRun(alerts=deployment.runtime.alerts))
    assert report.stages["sql"] == 1 and report.alerts == {"would_send": 1}
    assert receiver.bodies == [] and deployment.runtime.store.alerts.count() == 0


def warm_up(deployment) -> str:
    """A lead whose activity makes it an MQL but not an SQL."""
    lead = deployment.portal.seed()
    deployment.portal.activity(
        lead, "content_download", name="Lead Scoring Playbook", at=deployment.now() - timedelta(days=1)
    )
    deployment.portal.activity(lead, "webinar_registration", name="RevOps Benchmarks 2026")
    return lead


def test_a_new_mql_is_not_alerted_by_default(deployment, receiver):
    lead = warm_up(deployment)
    deployment.cycle()
    assert deployment.portal.stage(lead) == "mql" and receiver.bodies == []


def test_a_new_mql_alert_when_switched_on(portal, receiver, tmp_path):
    deployment = alerting(portal, receiver, tmp_path, handoff_alert_on=("sql", "mql"))
    try:
        lead = warm_up(deployment)
        deployment.cycle()
        [alert] = receiver.accepted
        assert (alert["event"], alert["record"]["id"], alert["stage"]) == ("new_mql", lead, "mql")
    finally:
        deployment.runtime.close()


def test_the_sync_command_posts_and_its_dry_run_only_counts(portal, tmp_path):
    env = {
        **portal.env(),
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_RULES": str(DEFAULT_RULES),
        "HANDOFF_REPORT_DIR": str(tmp_path / "reports"),
        "HANDOFF_ALERT_FORMAT": "json",
        "HANDOFF_ALERT_SECRET": SIGNING_SECRET,
    }
    with receiving(time.time) as receiver:  # the command runs on the real clock
        env["HANDOFF_ALERT_WEBHOOK_URL"] = receiver.url
        first = portal.seed()
        portal.activity(first, "form_submission", name="Request a demo")
        dry = CliRunner().invoke(app, ["sync", "--dry-run"], env=env)
        assert dry.exit_code == 0, dry.output
        assert "alerts would send 1" in dry.stdout and receiver.bodies == []
        real = CliRunner().invoke(app, ["sync"], env=env)
        assert real.exit_code == 0, real.output
        assert "alerts sent 1" in real.stdout
        assert [a["key"] for a in receiver.accepted] == [f"alert:{first}:1:new_sql"]
        assert receiver.url not in real.output and "xS3cr3tPathToken" not in real.output
