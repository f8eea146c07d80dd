"""Hostile records in a sandbox CRM, read by the real adapters over HTTP: the bad one waits, the rest go on.

Also what record content can do to what Handoff writes back: nothing. Markup
stays text, a line break in a title adds no line to a task, and text that looks
like Handoff's idempotency marker cannot pass for it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from deployments import deploy

from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.portals import HubSpotPortal, SalesforcePortal
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sync.dry_run import DryRun

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PEOPLE = 60
HOSTILE_MARKUP = {
    "first_name": "<script>alert(1)</script>",
    "job_title": 'VP Engineering <img src=x onerror="alert(1)">\r\n- Requested a demo',
    "company": "<iframe src=//evil.example></iframe>",
}


def synthetic(portal_type, app, clock, tmp_path):
    """Handoff deployed on a sandbox seeded with synthetic people."""
    with app.server() as server:
        portal = portal_type(app, server.base_url, clock)
        runtime = deploy(portal, tmp_path / "state.sqlite")
        yield portal, runtime
        runtime.close()


@pytest.fixture
def hubspot(tmp_path):
    clock = ManualClock(START)
    app = HubSpotSandbox(HubSpotConfig(contacts=PEOPLE, seed=7, rate_per_10s=0, search_rate_per_s=0), clock=clock)
    yield from synthetic(HubSpotPortal, app, clock, tmp_path)


@pytest.fixture
def salesforce(tmp_path):
    clock = ManualClock(START)
    app = SalesforceSandbox(SalesforceConfig(contacts=PEOPLE, seed=7), clock=clock)
    try:
        yield from synthetic(SalesforcePortal, app, clock, tmp_path)
    finally:
        app.close()


RUNS = {
    "backfill": lambda sync: sync.backfill(),
    "dry-run backfill": lambda sync: sync.backfill(sink=DryRun()),
    "incremental sync": lambda sync: sync.sync_once(),
    "dry-run sync": lambda sync: sync.sync_once(sink=DryRun()),
}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_a_contact_with_an_overflowing_counter_is_quarantined_and_every_other_is_read(hubspot, run):
    portal, runtime = hubspot
    portal.app.seed_contacts(
        [
            {"properties": {"email": "huge@acme.io", "hs_email_click": "1e400"}},
            {"properties": {"email": "inf@acme.io", "hs_analytics_num_page_views": "inf"}},
        ]
    )
    portal.clock.advance(60)
    report = RUNS[run](runtime.sync)
    assert (report.read, report.quarantined) == (PEOPLE, 2)
    if "dry-run" not in run:
        reasons = sorted(d.error for d in runtime.store.dead_letters.all())
        assert reasons == [
            "unreadable record: ValueError: hs_analytics_num_page_views: not a plausible number: inf",
            "unreadable record: ValueError: hs_email_click: not a plausible number: inf",
        ]


def test_a_lead_with_an_impossible_employee_count_is_quarantined_and_every_other_is_read(salesforce):
    portal, runtime = salesforce
    leads = len(portal.app.dump()["Lead"])
    portal.app.seed_leads({"LastName": "Huge", "Company": "Acme", "NumberOfEmployees": 1e300})
    portal.clock.advance(60)
    report = runtime.sync.sync_once()
    assert (report.read, report.quarantined) == (leads, 1)
    [dead] = runtime.store.dead_letters.all()
    assert dead.error.startswith("unreadable record: ValueError: NumberOfEmployees: not a plausible number: 1000")


def test_text_that_looks_like_the_task_marker_never_makes_a_second_task(hubspot_deployment):
    portal, runtime = hubspot_deployment
    lead = portal.seed(job_title="VP Engineering Handoff ref: handoff:100001:sql:1")
    portal.activity(lead, "form_submission", name="Request a demo")
    for _ in range(3):
        portal.clock.advance(300)
        report = runtime.sync.sync_once()
        assert report.dead_lettered == 0
    [task] = portal.tasks(lead)
    # the title is in the body as text, its marker-like part defused by the core before the adapter escapes it
    assert "VP Engineering Handoff ref" in task.body
    assert "handoff:100001:sql:1" not in task.body
    assert portal.task_keys() == {f"handoff:{lead}:sql:0": 1}
    [entry] = runtime.store.tasks.entries([f"handoff:{lead}:sql:0"]).values()
    assert entry.status == "created"


def test_markup_from_the_crm_reaches_hubspot_tasks_as_text_and_adds_no_line(hubspot_deployment):
    portal, runtime = hubspot_deployment
    lead = portal.seed(**HOSTILE_MARKUP)
    portal.activity(lead, "content_download", name="<iframe src=//evil.example>Guide</iframe>", at=START)
    portal.clock.advance(3600)
    portal.activity(lead, "webinar_registration", name="<b onmouseover=alert(1)>RevOps</b>")
    portal.clock.advance(300)
    runtime.sync.sync_once()
    [task] = portal.tasks(lead)
    tags = set(re.findall(r"<\s*/?\s*([a-zA-Z]+)", task.body))
    assert tags <= {"p", "br"}, tags
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in task.body
    assert "&lt;iframe src=//evil.example&gt;Guide&lt;/iframe&gt;" in task.body
    assert "&lt;b onmouseover=alert(1)&gt;RevOps&lt;/b&gt;" in task.body
    assert not any(line.startswith("- Requested a demo") for line in re.split(r"<br>|<p>", task.body))
    assert "\r" not in task.subject and "\n" not in task.subject
    assert task.subject.startswith("Marketing-qualified: <script>alert(1)</script> Ruiz (<iframe")  # plain text


def test_markup_and_line_breaks_from_the_crm_stay_inside_their_line_of_a_salesforce_task(salesforce_deployment):
    portal, runtime = salesforce_deployment
    lead = portal.seed(**HOSTILE_MARKUP)
    portal.activity(lead, "form_submission", name="Contact sales")
    portal.clock.advance(300)
    runtime.sync.sync_once()
    [task] = portal.tasks(lead)
    assert not any(line.startswith("- Requested a demo") for line in task.body.splitlines())
    assert "\r" not in task.body and "\r" not in task.subject and "\n" not in task.subject
    assert 'VP Engineering <img src=x onerror="alert(1)"> - Requested a demo' in task.body  # plain text, one line
