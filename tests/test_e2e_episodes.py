"""Episodes kept by the sync against a CRM sandbox, and the funnel report read back from them.

Real SDKs over HTTP, the sandbox's manual clock: nothing sleeps.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from deployments import deploy
from test_e2e_crm import Deployment as CrmDeployment
from typer.testing import CliRunner

from connector.cli.app import app
from connector.model import format_time, parse_time
from connector.sync.dry_run import DryRun


class Deployment(CrmDeployment):
    """The e2e deployment, remembering when its last cycle started, with its episodes at hand."""

    def __init__(self, portal, runtime):
        super().__init__(portal, runtime)
        self.store = runtime.store

    def cycle(self, minutes: float = 5):
        """Let time pass beyond the safety lag, then run one incremental sync (``started`` is when)."""
        self.later(minutes)
        self.started = self.now()
        return self.runtime.sync.sync_once()

    def during_last_cycle(self, moment) -> bool:
        return self.started <= moment <= self.now()

    def episode(self, record_id, number=1):
        return next(e for e in self.store.episodes.all() if (e.record_id, e.number) == (record_id, number))


@pytest.fixture
def deployment(portal, tmp_path):
    runtime = deploy(portal, tmp_path / "state.sqlite")
    yield Deployment(portal, runtime)
    runtime.close()


def warm_up(deployment, lead):
    """Activity that makes the lead an MQL but not an SQL."""
    portal = deployment.portal
    portal.activity(lead, "content_download", name="Lead Scoring Playbook", at=deployment.now() - timedelta(days=1))
    portal.activity(lead, "webinar_registration", name="RevOps Benchmarks 2026")


def test_a_demo_request_opens_an_sql_episode_with_what_handoff_knew(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    episode = deployment.episode(lead)
    [task] = portal.tasks(lead)
    seen = portal.handoff(lead)
    assert episode.sql_at == parse_time(seen["sql_at"]) and episode.mql_at is None
    assert deployment.during_last_cycle(episode.sql_at)
    assert (episode.score, episode.grade, episode.rules_version) == (
        float(seen["score"]),
        seen["fit_grade"],
        seen["rules_version"],
    )
    assert episode.reasons[0].startswith("Requested a demo")
    assert "\n".join(f"- {r}" for r in episode.reasons) == seen["reasons"]
    assert episode.rules_fired  # the demo-request signal rule
    assert episode.task_key == f"handoff:{lead}:sql:0"
    assert (episode.owner_id, episode.task_due_at) == (task.owner_id, task.due_at)
    assert episode.sla_minutes == round((task.due_at - episode.sql_at).total_seconds() / 60)


def test_an_mql_that_becomes_sql_keeps_one_episode(deployment):
    portal = deployment.portal
    lead = portal.seed()
    warm_up(deployment, lead)
    deployment.cycle()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    [episode] = deployment.store.episodes.all()
    written = portal.handoff(lead)
    assert (episode.mql_at, episode.sql_at) == (parse_time(written["mql_at"]), parse_time(written["sql_at"]))
    assert episode.mql_at < deployment.started and deployment.during_last_cycle(episode.sql_at)
    assert episode.task_key == f"handoff:{lead}:mql:0"  # what Handoff knew when the episode started


def test_a_reps_recycle_ends_the_episode_and_a_new_qualification_opens_the_next(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    portal.rep_sets_status(lead, portal.recycle_status)
    deployment.cycle()
    recycled = deployment.episode(lead, 1)
    assert deployment.during_last_cycle(recycled.recycled_at) and recycled.sales_reason == portal.recycle_status
    assert deployment.store.episodes.open_for([lead]) == {}
    deployment.later(60 * 24 * 3)
    portal.activity(lead, "form_submission", name="Contact sales")
    deployment.cycle()
    second = deployment.episode(lead, 2)
    assert deployment.during_last_cycle(second.sql_at) and second.task_key == f"handoff:{lead}:sql:1"


def test_a_reps_rejection_lands_on_the_open_episode(deployment):
    portal = deployment.portal
    lead = portal.seed()
    warm_up(deployment, lead)
    deployment.cycle()
    portal.rep_sets_status(lead, portal.reject_status)
    deployment.cycle()
    episode = deployment.episode(lead)
    assert deployment.during_last_cycle(episode.rejected_at) and episode.sales_reason == portal.reject_status
    assert episode.recycled_at is None


def test_a_dry_run_records_no_episode(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.later()
    deployment.runtime.sync.sync_once(sink=DryRun())
    assert deployment.store.episodes.count() == 0


def report_json(deployment, tmp_path):
    """``handoff report --json`` as a user runs it, against the deployment's state store."""
    env = {
        "HANDOFF_CRM": deployment.portal.crm,
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_REPORT_DIR": str(tmp_path),
    }
    result = CliRunner().invoke(app, ["report", "--json", "--now", format_time(deployment.now())], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_report_from_state_agrees_with_the_sandboxs_own_records(deployment, tmp_path):
    portal = deployment.portal
    sql = [portal.seed(email=f"sql{i}@acme.io") for i in range(3)]
    mql = [portal.seed(email=f"mql{i}@acme.io") for i in range(3)]
    for i in range(2):
        portal.seed(email=f"quiet{i}@acme.io")
    for lead in sql:
        portal.activity(lead, "form_submission", name="Request a demo")
    for lead in mql:
        warm_up(deployment, lead)
    deployment.cycle()
    portal.activity(mql[0], "form_submission", name="Request a demo")
    portal.rep_sets_status(sql[0], portal.recycle_status)
    portal.rep_sets_status(mql[1], portal.reject_status)
    deployment.cycle()
    # the next day: Salesforce dates a conversion by the day, and a day before the qualification is too early
    deployment.later(60 * 24)
    deals = {sql[1]: portal.convert(sql[1], amount=5000), sql[2]: portal.convert(sql[2], amount=5000)}
    deployment.cycle(minutes=60 * 2)  # past the CRM's late-indexing delay: the deals are read
    portal.close_deal(deals[sql[1]], won=True)
    portal.close_deal(deals[sql[2]], won=False)
    deployment.cycle(minutes=60 * 24)

    figures = report_json(deployment, tmp_path)
    # the same counts, taken straight from the sandbox's records as a rep would see them
    seen = {record_id: portal.handoff(record_id) for record_id in portal.outcome()}
    funnel = figures["funnel"]
    assert funnel["leads"] == len(seen) == 8
    assert funnel["mql"] == sum(1 for h in seen.values() if h["mql_at"]) == 3
    assert funnel["sql"] == sum(1 for h in seen.values() if h["sql_at"]) == 4
    deals = [deal for record_id in seen for deal in portal.deals(record_id)]
    assert funnel["opportunity"] == len(deals) == 2
    assert funnel["won"] == sum(1 for deal in deals if deal.won) == 1
    assert figures["recycle_reasons"] == [{"reason": portal.recycle_status, "count": 1}]
    assert figures["rejection_reasons"] == [{"reason": portal.reject_status, "count": 1}]


def test_the_report_of_an_empty_state_says_there_is_nothing_yet(deployment, tmp_path):
    env = {"HANDOFF_CRM": deployment.portal.crm, "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}"}
    page = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--out", str(page)], env=env)
    assert result.exit_code == 0, result.output
    assert "Nothing to report yet" in page.read_text(encoding="utf-8")


def test_sales_work_read_from_the_crm_lands_on_the_episode(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    [task] = portal.tasks(lead)
    deployment.later(30)
    portal.complete_task(task.id)
    deal = portal.convert(lead, amount=8000)
    deployment.cycle(minutes=60 * 2)  # past the CRM's late-indexing delay
    converted = deployment.episode(lead)
    assert converted.first_touch_at is not None and converted.opportunity_at is not None
    assert converted.deal_id == deal and converted.won_at is None
    deployment.later(60 * 24 * 3)
    portal.close_deal(deal, won=True)
    report = deployment.cycle(minutes=60 * 2)
    won = deployment.episode(lead)
    assert won.won_at is not None and won.amount == 8000
    assert report.episodes_updated == 1
    assert deployment.store.episodes.open_for([lead]) == {}


def test_stages_a_rep_sets_by_hand_count_as_the_crm_records_them(hubspot_deployment, tmp_path):
    deployment = Deployment(*hubspot_deployment)
    portal = deployment.portal
    leads = [portal.seed(email=f"sql{i}@acme.io") for i in range(4)]
    for lead in leads:
        portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    deployment.later(60)
    portal.rep_sets_stage(leads[0], "opportunity")  # by hand, no deal
    portal.rep_sets_stage(leads[1], "customer")
    portal.convert(leads[2], amount=4000)  # a deal: HubSpot's deal sync sets the stage as well
    deployment.cycle(minutes=60 * 2)  # past the CRM's late-indexing delay

    figures = report_json(deployment, tmp_path)
    # the same counts, straight from the contacts' lifecycle stage dates in the sandbox
    contacts = {c["id"]: c["properties"] for c in portal.app.dump()["contacts"]}
    became = {
        stage: {r for r, props in contacts.items() if props.get(f"hs_lifecyclestage_{stage}_date")}
        for stage in ("opportunity", "customer")
    }
    assert figures["funnel"]["opportunity"] == len(became["opportunity"] | became["customer"]) == 3
    assert figures["funnel"]["won"] == len(became["customer"]) == 1
    by_hand = deployment.episode(leads[0])
    assert by_hand.opportunity_at == parse_time(contacts[leads[0]]["hs_lifecyclestage_opportunity_date"])
    assert by_hand.deal_id is None and deployment.episode(leads[2]).deal_id is not None
    # the lead cohort is the contact's creation in the CRM, not when Handoff first read it
    assert by_hand.created_at == parse_time(contacts[leads[0]]["createdate"]) < by_hand.started_at


def test_a_deal_opened_and_closed_the_day_the_lead_qualified_counts(deployment, tmp_path):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    deployment.later(30)
    deal = portal.convert(lead, amount=3000)
    portal.close_deal(deal, won=True)  # Salesforce's CloseDate is that day's midnight: before the episode
    deployment.cycle(minutes=60 * 2)
    episode = deployment.episode(lead)
    assert episode.won_at is not None and episode.won_at >= episode.started_at
    assert report_json(deployment, tmp_path)["funnel"]["won"] == 1
