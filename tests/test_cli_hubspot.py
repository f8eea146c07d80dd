"""The admin commands against the HubSpot sandbox, as a RevOps admin runs them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
from builders import DEFAULT_RULES
from typer.testing import CliRunner

from connector.cli import app

WRITES = (
    "POST /crm/v3/objects/contacts/batch/update",
    "POST /crm/v3/objects/tasks/batch/create",
    "POST /crm/v3/properties/contacts",
    "POST /crm/v3/properties/contacts/groups",
)


@pytest.fixture
def admin(hubspot_sandbox, tmp_path):
    sandbox = hubspot_sandbox
    owner = next(o["id"] for o in sandbox.app.dump()["owners"] if o["type"] == "PERSON")
    [contact] = sandbox.seed_contacts(
        {
            "firstname": "Ana",
            "lastname": "Ruiz",
            "email": "ana@acme.io",
            "jobtitle": "VP Engineering",
            "company": "Acme",
            "numemployees": "100-500",
            "industry": "Software",
            "lifecyclestage": "lead",
            "hubspot_owner_id": owner,
        }
    )
    sandbox.app.add_activities(
        [
            {
                "contactId": contact,
                "type": "form_submission",
                "name": "Request a demo",
                "at": sandbox.clock.datetime().isoformat(),
            }
        ]
    )
    env = {
        "HUBSPOT_ACCESS_TOKEN": sandbox.token,
        "HUBSPOT_API_BASE": sandbox.base_url,
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_RULES": str(DEFAULT_RULES),
        "HANDOFF_REPORT_DIR": str(tmp_path / "reports"),
        "HANDOFF_LOG_FORMAT": "json",
    }

    def run(*args, **extra_env):
        return CliRunner().invoke(app, list(args), env={**env, **extra_env})

    run.env = env

    def writes():
        calls = sandbox.stats()["calls"]
        return sum(sum(calls.get(c, {}).values()) for c in WRITES)

    return run, contact, writes, sandbox


def test_sync_once_prints_a_json_summary(admin):
    run, contact, _, sandbox = admin
    result = run("sync", "--once", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["status"], summary["stages"], summary["tasks_created"]) == ("ok", {"sql": 1}, 1)
    contact_props = next(c for c in sandbox.app.dump()["contacts"] if c["id"] == contact)["properties"]
    assert contact_props["lifecyclestage"] == "salesqualifiedlead"


def test_a_backfill_dry_run_writes_a_csv_and_nothing_to_the_crm(admin, tmp_path):
    run, contact, writes, _ = admin
    result = run("backfill", "--dry-run")
    assert result.exit_code == 0, result.output
    assert writes() == 0
    [report] = (tmp_path / "reports").glob("dry-run-backfill-*.csv")
    rows = list(csv.DictReader(report.open()))
    assert [(r["record_id"], r["target_stage"], r["task_priority"]) for r in rows] == [(contact, "sql", "HIGH")]
    assert f"plan_csv: {report}" in result.stdout


def test_explain_shows_every_reason_with_its_points(admin):
    run, contact, writes, _ = admin
    result = run("explain", contact)
    assert result.exit_code == 0, result.output
    assert "Requested a demo" in result.stdout and "+20" in result.stdout
    assert "decision: move to sql" in result.stdout
    assert writes() == 0


def test_a_wrong_token_stops_with_one_clear_line_and_never_echoes_it(admin):
    run, *_ = admin
    result = run("sync", "--once", HUBSPOT_ACCESS_TOKEN="pat-na1-not-the-right-one")
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines()[-1].startswith("stopped: HubSpot rejected the access token (401")
    assert "pat-na1-not-the-right-one" not in result.output


def test_missing_scopes_are_named(admin):
    run, _, _, sandbox = admin
    sandbox.control("POST", "/_sandbox/faults", {"error_rate": 1.0, "status": 403})
    result = run("sync", "--once")
    assert result.exit_code == 3
    assert "grant the app: crm.objects.contacts.read, crm.objects.contacts.write" in result.stderr


def test_a_dry_run_csv_never_hands_a_spreadsheet_a_formula(admin, tmp_path):
    run, _, _, sandbox = admin
    sandbox.seed_contacts(
        {
            "firstname": '=HYPERLINK("http://evil.example","Ana")',
            "lastname": "Ruiz",
            "email": "eve@evil.example",
            "jobtitle": "VP Engineering",
            "company": "=cmd|' /C calc'!A0",
            "numemployees": "100-500",
            "lifecyclestage": "lead",
        }
    )
    result = run("backfill", "--dry-run")
    assert result.exit_code == 0, result.output
    [report] = (tmp_path / "reports").glob("dry-run-backfill-*.csv")
    row = next(r for r in csv.DictReader(report.open()) if "evil" in r["name"])
    assert row["name"] == '\'=HYPERLINK("http://evil.example","Ana") Ruiz'
    assert row["company"] == "'=cmd|' /C calc'!A0"
    cells = [cell for r in csv.DictReader(report.open()) for cell in r.values()]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_a_dry_run_into_a_report_dir_that_is_a_file_is_one_line(admin, tmp_path):
    run, *_ = admin
    blocker = tmp_path / "reports-file"
    blocker.write_text("not a folder")
    result = run("sync", "--once", "--dry-run", HANDOFF_REPORT_DIR=str(blocker))
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith(f"environment: HANDOFF_REPORT_DIR: cannot create {blocker}/dry-run-sync-")
    assert "Traceback" not in result.output


def test_sweep_rescores_the_stored_leads_and_counts_what_it_read(admin):
    run, _, _, sandbox = admin
    sandbox.seed_contacts({"firstname": "Bo", "email": "bo@acme.io", "lifecyclestage": "lead"})
    assert run("sync", "--once").exit_code == 0
    result = run("sweep", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["kind"], summary["status"], summary["read"]) == ("sweep", "ok", 2)


def test_sweep_dry_run_plans_into_a_csv(admin, tmp_path):
    run, *_ = admin
    assert run("sync", "--once").exit_code == 0
    result = run("sweep", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("sweep (dry run) ok: read 1, ")
    assert list((tmp_path / "reports").glob("dry-run-sweep-*.csv"))


def test_a_spent_daily_quota_stops_with_one_line_that_says_so_once(admin):
    run, _, _, sandbox = admin
    sandbox.configure(daily_limit=20)
    result = run("backfill")
    assert result.exit_code == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("stopped: only ") and "API calls left today" in last
    assert "stopping" not in last


def test_explain_of_an_unknown_id_is_one_line_and_exit_2(admin):
    run, *_ = admin
    result = run("explain", "999999")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == "explain: no record with id '999999' in hubspot"


def test_piped_output_keeps_the_summary_on_stdout_and_the_logs_on_stderr(admin):
    # a real process: what a shell pipe sees, not what a test runner captures
    run, *_ = admin
    env = {**os.environ, **run.env, "HANDOFF_LOG_FORMAT": "json"}
    done = subprocess.run(
        [sys.executable, "-m", "connector", "sync", "--once", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [summary] = done.stdout.splitlines()
    assert json.loads(summary)["kind"] == "sync"
    logs = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(entry["event"] == "hubspot ready" for entry in logs)
