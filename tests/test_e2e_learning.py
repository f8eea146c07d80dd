"""Labelled leads from a state store a real sync built against each CRM sandbox, round-tripped.

``handoff export --labelled`` writes the episodes as labelled leads; ``handoff backtest`` and
``handoff calibrate`` read the same leads ``--from state`` and ``--from FILE`` and agree.
"""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta

import pytest
from builders import DEFAULT_RULES
from deployments import deploy
from test_e2e_episodes import Deployment
from typer.testing import CliRunner

from connector.cli.app import app
from connector.model import format_time, parse_time

#: leads per outcome: enough for calibrate's 30% holdout (five of each outcome held out)
PER_OUTCOME = 17


@pytest.fixture
def deployment(portal, tmp_path):
    runtime = deploy(portal, tmp_path / "state.sqlite")
    yield Deployment(portal, runtime)
    runtime.close()


def env(deployment, tmp_path):
    return {
        "HANDOFF_CRM": deployment.portal.crm,
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_REPORT_DIR": str(tmp_path),
    }


def handoff(deployment, tmp_path, *args):
    return CliRunner().invoke(app, [str(a) for a in args], env=env(deployment, tmp_path))


@pytest.fixture
def qualified(deployment):
    """Leads that all became SQL; the VPs got a deal (one of them won), five engineers were rejected."""
    portal = deployment.portal
    vps = [portal.seed(email=f"vp{i}@acme.io", job_title="VP Sales") for i in range(PER_OUTCOME)]
    engineers = [portal.seed(email=f"eng{i}@acme.io", job_title="Engineer") for i in range(PER_OUTCOME)]
    for lead in (*vps, *engineers):
        portal.activity(lead, "form_submission", name="Request a demo")
    deployment.cycle()
    for lead in engineers[:5]:
        portal.rep_sets_status(lead, portal.reject_status)
    deployment.cycle()
    deployment.later(60 * 24)  # Salesforce dates a conversion by the day
    deals = [portal.convert(lead, amount=1000) for lead in vps]
    deployment.cycle(minutes=60 * 2)  # past the CRM's late-indexing delay: the deals are read
    portal.close_deal(deals[0], won=True)
    deployment.cycle(minutes=60 * 2)
    return vps, engineers


def exported(result):
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_export_writes_each_decided_episode_as_the_lead_was_when_it_qualified(deployment, tmp_path, qualified):
    vps, engineers = qualified
    # the rejected engineers are decided now; the others stay open until they go stale
    now = format_time(deployment.now())
    rows = exported(handoff(deployment, tmp_path, "export", "--labelled", "--now", now))
    assert {r["id"] for r in rows} == {*vps, *engineers[:5]}
    converted = {r["id"] for r in rows if r["converted"]}
    assert converted == set(vps)
    episodes = {e.record_id: e for e in deployment.store.episodes.all()}
    for row in rows:
        started = episodes[row["id"]].started_at
        assert row["activities"] and all(parse_time(a["at"]) <= started for a in row["activities"])
        assert row["properties"]  # today's properties: the store keeps no history of them
        if row["converted"]:
            assert parse_time(row["converted_at"]) == episodes[row["id"]].opportunity_at
        else:
            assert row["converted_at"] is None


def test_export_counts_on_won_and_leaves_undecided_episodes_out(deployment, tmp_path, qualified):
    vps, engineers = qualified
    now = format_time(deployment.now())
    result = handoff(deployment, tmp_path, "export", "--labelled", "--converted-on", "won", "--now", now)
    rows = exported(result)
    assert [r["id"] for r in rows if r["converted"]] == [vps[0]]
    # the other deals are open: undecided on won, like the engineers nobody answered yet
    assert {r["id"] for r in rows} == {vps[0], *engineers[:5]}
    assert f"{len(vps) - 1 + len(engineers) - 5} undecided episode(s) left out" in result.stderr


def test_export_since_keeps_the_episodes_that_started_from_that_date(deployment, tmp_path, qualified):
    later = format_time(deployment.now() + timedelta(days=1))
    rows = exported(handoff(deployment, tmp_path, "export", "--labelled", "--since", later))
    assert rows == []


def test_export_without_labelled_and_with_a_bad_date_are_one_clear_line(deployment, tmp_path):
    bare = handoff(deployment, tmp_path, "export")
    bad = handoff(deployment, tmp_path, "export", "--labelled", "--since", "yesterday")
    assert (bare.exit_code, bad.exit_code) == (2, 2)
    assert bare.stderr.startswith("export: say what to export")
    assert bad.stderr.strip() == "--since: not an ISO-8601 date or time: 'yesterday'"


CANDIDATE = textwrap.dedent(
    """\
    version: candidate-1
    scorecard:
      - {name: vp, field: job_title, matches: '\\bvp\\b', points: 30, reason: A VP}
      - {name: engineer, field: job_title, equals: Engineer, points: -30, reason: An engineer}
    """
)


def test_backtest_and_calibrate_read_the_same_leads_from_state_and_from_the_export(deployment, tmp_path, qualified):
    stale = format_time(deployment.now() + timedelta(days=120))  # every open episode counts as failed by then
    at = ["--now", stale]
    path = tmp_path / "leads.jsonl"
    path.write_text(handoff(deployment, tmp_path, "export", "--labelled", *at).stdout)
    assert len(path.read_text().splitlines()) == 2 * PER_OUTCOME
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(CANDIDATE)
    backtests = [
        handoff(
            deployment,
            tmp_path,
            "backtest",
            "--rules",
            candidate,
            "--baseline",
            DEFAULT_RULES,
            "--from",
            source,
            *at,
            "--json",
        )
        for source in ("state", path)
    ]
    for result in backtests:
        assert result.exit_code == 0, result.output
    from_state, from_file = (json.loads(r.stdout) for r in backtests)
    assert from_state == from_file
    assert from_state["candidate"]["auc"] == 1.0

    proposed = {}
    for name, source in (("state", "state"), ("file", path)):
        out = tmp_path / f"proposed-{name}.yaml"
        result = handoff(
            deployment, tmp_path, "calibrate", "--from", source, "--rules", DEFAULT_RULES, *at, "--out", out
        )
        assert result.exit_code == 0, result.output
        proposed[name] = [line for line in out.read_text().splitlines() if not line.startswith("#")]
        assert handoff(deployment, tmp_path, "check-config", "--rules", out).exit_code == 0
    assert proposed["state"] == proposed["file"]
