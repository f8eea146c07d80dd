"""Alert events: one key per record, episode and kind; consistent fields; links to the CRM record."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from alert_builders import AT, new_sql, sla_breach
from builders import activity, crm, default_rules, demo_request, lead

from connector.alerts import (
    AlertKind,
    InvalidAlert,
    hubspot_record_url,
    qualified_event,
    salesforce_record_url,
    sla_breach_event,
)
from connector.model import Memory, Stage
from connector.outcomes import Episode
from connector.policy.lifecycle import evaluate


def test_the_key_names_record_episode_and_kind():
    assert new_sql().key == "alert:1001:2:new_sql"
    assert sla_breach().key == "alert:1001:2:sla_breach"
    assert new_sql(episode=3).key != new_sql().key


def test_a_new_sql_alert_must_be_about_sql():
    with pytest.raises(InvalidAlert, match=r"stage: a new_sql alert is about sql"):
        new_sql(stage=Stage.MQL)


def test_an_sla_breach_needs_the_due_time_and_says_how_late_it_is():
    with pytest.raises(InvalidAlert, match="due_at"):
        sla_breach(due_at=None)
    assert sla_breach(timedelta(minutes=95)).overdue_by == timedelta(minutes=95)
    assert new_sql().overdue_by is None


def test_times_must_be_aware_and_are_kept_in_utc():
    berlin = timezone(timedelta(hours=1))
    event = new_sql(occurred_at=AT.astimezone(berlin))
    assert event.occurred_at.utcoffset() == timedelta(0) and event.occurred_at == AT
    with pytest.raises(InvalidAlert, match="occurred_at: must be an aware datetime"):
        new_sql(occurred_at=AT.replace(tzinfo=None))


@pytest.mark.parametrize("url", ["javascript:alert(1)", "app.hubspot.com/contacts/1", "https://x.example/a b"])
def test_a_record_link_must_be_a_web_url(url):
    with pytest.raises(InvalidAlert, match="record_url"):
        new_sql(record_url=url)


def test_a_new_sql_alert_carries_the_task_the_policy_decided():
    rules = default_rules()
    q, decision = evaluate(lead(demo_request(1)), crm(), Memory(episode=2), rules.compiled, rules.policy, AT)
    assert decision.task is not None
    event = qualified_event(q, crm(), decision.task, episode=2, occurred_at=AT, record_url=None, reasons=2)
    assert event.kind is AlertKind.NEW_SQL and event.stage is Stage.SQL
    assert (event.name, event.company, event.owner_id) == ("Ana Ruiz", "Acme", "77")
    assert event.due_at == decision.task.due_at
    assert event.score == q.score and event.grade == q.grade
    assert event.reasons == tuple(r.text for r in q.reasons[:2])
    assert "Requested a demo yesterday" in event.reasons


def test_a_new_mql_alert_comes_from_an_mql_task():
    rules = default_rules()
    mql = lead(activity("content_download", 2, name="Playbook"), activity("webinar_attendance", 3, name="RevOps"))
    q, decision = evaluate(mql, crm(), Memory(), rules.compiled, rules.policy, AT)
    assert decision.task is not None
    event = qualified_event(q, crm(), decision.task, episode=0, occurred_at=AT)
    assert (event.kind, event.stage, event.key) == (AlertKind.NEW_MQL, Stage.MQL, "alert:1001:0:new_mql")


def test_an_sla_breach_alert_comes_from_the_episode_that_ran_late():
    ep = Episode(record_id="1001", number=2, sql_at=AT, task_due_at=AT + timedelta(hours=1), owner_id="78", score=90)
    event = sla_breach_event(ep, crm(owner="77"), occurred_at=AT + timedelta(hours=3))
    assert event.kind is AlertKind.SLA_BREACH and event.stage is Stage.SQL
    assert event.key == "alert:1001:2:sla_breach"
    assert event.owner_id == "78"  # whoever had the task, not whoever owns the record now
    assert event.overdue_by == timedelta(hours=2)
    with pytest.raises(InvalidAlert, match="no task due time"):
        sla_breach_event(Episode(record_id="1001", number=2, sql_at=AT), crm(), occurred_at=AT)


def test_hubspot_links_open_the_contact_in_the_accounts_ui_domain():
    assert hubspot_record_url(4242, "1001") == "https://app.hubspot.com/contacts/4242/record/0-1/1001"
    assert hubspot_record_url("4242", "1001", "app-eu1.hubspot.com").startswith("https://app-eu1.hubspot.com/")
    with pytest.raises(InvalidAlert, match="portal_id"):
        hubspot_record_url("42/../x", "1001")


def test_salesforce_links_open_the_lightning_record_page():
    assert (
        salesforce_record_url("https://acme.my.salesforce.com/", "00Q5e00000AbCdEFGH")
        == "https://acme.my.salesforce.com/lightning/r/Lead/00Q5e00000AbCdEFGH/view"
    )
    assert "/lightning/r/Contact/003x/view" in salesforce_record_url(
        "https://acme.my.salesforce.com", "003x", "Contact"
    )


def test_a_record_id_cannot_add_path_or_query_to_a_link():
    url = hubspot_record_url(4242, "1/../../settings?x=1#y")
    assert url == "https://app.hubspot.com/contacts/4242/record/0-1/1%2F..%2F..%2Fsettings%3Fx%3D1%23y"
