"""Shadow mode against each CRM sandbox: a candidate rules file scored beside the live one.

The candidate's score and level land in the shadow properties and on the episodes; stages and
tasks follow the live rules alone; the report compares the two once outcomes are known.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from builders import DEFAULT_RULES, NOW
from deployments import deploy
from test_e2e_episodes import Deployment
from typer.testing import CliRunner

from connector.cli.app import app
from connector.cli.runtime import salesforce_adapter
from connector.crm.errors import StopRun
from connector.model import Stage, format_time
from connector.sandbox.clock import ManualClock
from connector.sandbox.portals import SalesforcePortal
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox

#: a candidate that makes every lead with an email an SQL: were it live, quiet leads would move
EAGER = textwrap.dedent(
    """\
    version: eager-1
    scorecard:
      - {name: has_email, field: email, present: true, points: 90, reason: Has an email address}
    thresholds: {mql: 40, mql_min_grade: D, mql_min_engagement: 0, sql: 80, sql_min_grade: D}
    """
)


@pytest.fixture
def candidate(tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text(EAGER)
    return path


@pytest.fixture
def deployment(portal, tmp_path, candidate):
    runtime = deploy(portal, tmp_path / "state.sqlite", handoff_shadow_rules=candidate)
    yield Deployment(portal, runtime)
    runtime.close()


def test_shadow_scores_land_in_the_shadow_properties_and_move_nothing(deployment):
    portal = deployment.portal
    quiet = portal.seed(email="quiet@acme.io")
    demo = portal.seed(email="demo@acme.io")
    portal.activity(demo, "form_submission", name="Request a demo")
    report = deployment.cycle()
    assert report.tasks_created == 1 and report.stages == {"sql": 1}
    for lead in (quiet, demo):
        shadow = portal.shadow(lead)
        assert (float(shadow["score"]), shadow["status"]) == (90.0, "sql")
    # the candidate would make the quiet lead an SQL; the live rules keep it where it was, without a task
    assert portal.stage(quiet) == "lead" and portal.tasks(quiet) == []
    assert portal.handoff(quiet)["status"] == "lead"
    assert portal.stage(demo) == "sql" and len(portal.tasks(demo)) == 1


def test_the_episode_keeps_the_shadow_verdict_at_qualification(deployment):
    portal = deployment.portal
    lead = portal.seed()
    portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    episode = deployment.episode(lead)
    assert (episode.shadow_score, episode.shadow_level) == (90, Stage.SQL)
    assert episode.rules_version != "eager-1"  # the live rules qualified it


def test_the_report_compares_live_and_shadow_on_the_episodes_that_follow(deployment, tmp_path):
    portal = deployment.portal
    won = [portal.seed(email=f"won{i}@acme.io") for i in range(2)]
    rejected = [portal.seed(email=f"no{i}@acme.io") for i in range(2)]
    for lead in (*won, *rejected):
        portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    for lead in rejected:
        portal.rep_sets_status(lead, portal.reject_status)
    deployment.cycle()
    deployment.later(60 * 24)
    for lead in won:
        portal.convert(lead, amount=1000)
    deployment.cycle(minutes=60 * 2)
    env = {
        "HANDOFF_CRM": portal.crm,
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_REPORT_DIR": str(tmp_path),
    }
    now = format_time(deployment.now())
    result = CliRunner().invoke(app, ["report", "--json", "--now", now], env=env)
    assert result.exit_code == 0, result.output
    shadow = json.loads(result.stdout)["shadow"]
    assert shadow["episodes"] == 4
    # the candidate gives everyone the same score: it cannot tell them apart (AUC one half)
    assert shadow["auc_shadow"] == 0.5
    assert [(c["live"], c["shadow"], c["episodes"], c["converted"]) for c in shadow["levels"]] == [("sql", "sql", 4, 2)]
    page = tmp_path / "report.html"
    assert CliRunner().invoke(app, ["report", "--out", str(page), "--now", now], env=env).exit_code == 0
    assert "Live against shadow rules" in page.read_text(encoding="utf-8")
    assert [b["episodes"] for b in shadow["shadow_bands"]] == [4]  # one score: one band


def test_a_bad_shadow_rules_file_stops_the_sync_with_one_line(portal, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: x\nthresholds: {mql: 50, sql: 10}\n")
    env = {
        **portal.env(),
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_SHADOW_RULES": str(bad),
    }
    for command in (["sync", "--once"], ["run"], ["check-config"]):
        result = CliRunner().invoke(app, command, env=env)
        assert result.exit_code == 2, result.output
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"HANDOFF_SHADOW_RULES={bad}:") and "sql" in line
        assert "Traceback" not in result.output


def shadow_properties_on(hubspot_client):
    found = hubspot_client.crm.properties.core_api.get_all("contacts").results
    return sorted(p.name for p in found if p.name.startswith("handoff_shadow"))


def test_hubspot_creates_the_shadow_properties_only_in_shadow_mode(hubspot_deployment, hubspot_client, candidate):
    portal, _ = hubspot_deployment
    assert shadow_properties_on(hubspot_client) == []
    deploy(portal, candidate.parent / "shadow.sqlite", handoff_shadow_rules=candidate).close()
    assert shadow_properties_on(hubspot_client) == ["handoff_shadow_score", "handoff_shadow_status"]


@pytest.mark.parametrize("shadow", [False, True])
def test_salesforce_requires_the_shadow_fields_only_in_shadow_mode(tmp_path, shadow):
    clock = ManualClock(NOW)
    app = SalesforceSandbox(SalesforceConfig(custom_fields=False), clock=clock)
    with app.server() as server:
        portal = SalesforcePortal(app, server.base_url, clock)
        adapter = salesforce_adapter(portal.settings(f"sqlite:///{tmp_path / 's.sqlite'}", DEFAULT_RULES))
        if shadow:
            adapter.use_shadow()
        with pytest.raises(StopRun) as stopped:
            adapter.start()
    wanted = (
        "Lead.Handoff_Shadow_Score__c (Number(18, 0))",
        "Lead.Handoff_Shadow_Status__c (Picklist: lead, mql, sql, disqualified)",
    )
    assert all((field in str(stopped.value)) is shadow for field in wanted)
