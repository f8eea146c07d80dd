"""``handoff score``, ``check-config`` and ``demo`` as an admin runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from builders import DEFAULT_RULES, REPO
from typer.testing import CliRunner

from connector.cli import app

LEAD = {
    "id": "1001",
    "properties": {"email": "ana@acme.io", "job_title": "VP Engineering", "company_size": 250, "industry": "Software"},
    "activities": [{"type": "form_submission", "name": "Request a demo", "at": "2026-11-20T10:00:00Z"}],
}
NOW = ["--now", "2026-11-22T12:00:00Z"]


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, args, stdin=None, env=None):
    return runner.invoke(app, args, input=stdin, env=env)


def test_score_writes_one_json_result_per_input_line(runner):
    lines = "\n".join(json.dumps({**LEAD, "id": str(i)}) for i in range(3)) + "\n"
    result = invoke(runner, ["score", "--rules", str(DEFAULT_RULES), *NOW, "-"], lines)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["0", "1", "2"]
    first = out[0]
    assert set(first) >= {"id", "score", "fit", "engagement", "grade", "stage", "signals", "reasons", "rules_version"}
    assert first["stage"] == "sql"
    assert first["signals"] == ["demo_request"]
    assert first["reasons"][0] == "Requested a demo 2 days ago"


def test_malformed_lines_are_reported_with_their_number_and_skipped(runner):
    lines = "\n".join(
        [
            json.dumps(LEAD),
            "{not json",
            json.dumps({**LEAD, "activities": [{"type": "fax", "at": "2026-11-20T10:00:00Z"}]}),
            json.dumps({**LEAD, "id": "2"}),
        ]
    )
    result = invoke(runner, ["score", "--rules", str(DEFAULT_RULES), *NOW], lines)
    assert result.exit_code == 1
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["1001", "2"]
    assert "<stdin>:2: not valid JSON" in result.stderr
    assert "<stdin>:3: activities[0].type: unknown activity type 'fax'" in result.stderr
    assert "2 line(s) skipped" in result.stderr


def test_score_reads_a_file_and_takes_the_rules_path_from_the_environment(runner, tmp_path):
    source = tmp_path / "leads.jsonl"
    source.write_text(json.dumps(LEAD) + "\n")
    result = invoke(runner, ["score", *NOW, str(source)], env={"HANDOFF_RULES": str(DEFAULT_RULES)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rules_version"] == "2026.11-b2b-saas-1"


def test_score_as_a_table_shows_stage_and_top_reason(runner):
    result = invoke(runner, ["score", "--rules", str(DEFAULT_RULES), *NOW, "--format", "table"], json.dumps(LEAD))
    assert result.exit_code == 0
    assert "sql" in result.stdout and "Requested a demo 2 days ago" in result.stdout


def test_a_missing_input_file_is_one_clear_line(runner, tmp_path):
    result = invoke(runner, ["score", "--rules", str(DEFAULT_RULES), str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{tmp_path / 'nope.jsonl'}: cannot read: No such file or directory"


TOKEN_ENV = {"HUBSPOT_ACCESS_TOKEN": "pat-na1-secret-value"}


def test_check_config_accepts_the_default_rules_and_environment(runner):
    result = invoke(runner, ["check-config", "--rules", str(DEFAULT_RULES), "--env"], env=TOKEN_ENV)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{DEFAULT_RULES}: ok (rules version 2026.11-b2b-saas-1)",
        "environment: ok (CRM hubspot at https://api.hubapi.com)",
    ]
    assert "pat-na1-secret-value" not in result.output


def test_check_config_with_rules_checks_them_offline_without_credentials(runner):
    result = invoke(
        runner,
        ["check-config", "--rules", str(DEFAULT_RULES)],
        env={"HUBSPOT_ACCESS_TOKEN": None, "HUBSPOT_ACCESS_TOKEN_FILE": None, "HANDOFF_CRM": "salesforce"},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{DEFAULT_RULES}: ok (rules version 2026.11-b2b-saas-1)\n"


def test_check_config_hides_credentials_inside_the_api_base(runner):
    env = {**TOKEN_ENV, "HUBSPOT_API_BASE": "http://admin:hunter2@127.0.0.1:8089"}
    result = invoke(runner, ["check-config", "--rules", str(DEFAULT_RULES), "--env"], env=env)
    assert result.exit_code == 0, result.output
    assert "environment: ok (CRM hubspot at http://[redacted]@127.0.0.1:8089)" in result.stdout
    assert "hunter2" not in result.output and "admin" not in result.output


def test_check_config_names_each_bad_environment_variable(runner):
    env = {"HUBSPOT_ACCESS_TOKEN": "", "HANDOFF_API_BUDGET": "1.5", "HANDOFF_CRM": "pipedrive"}
    result = invoke(runner, ["check-config", "--rules", str(DEFAULT_RULES), "--env"], env=env)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any(
        line.startswith("environment: HANDOFF_API_BUDGET: Input should be less than or equal to 1") for line in lines
    )
    assert any(line.startswith("environment: HANDOFF_CRM: Input should be 'hubspot' or 'salesforce'") for line in lines)


def test_check_config_reads_the_token_from_a_file(runner, tmp_path):
    secret = tmp_path / "token"
    secret.write_text("pat-from-file\n")
    env = {"HUBSPOT_ACCESS_TOKEN": None, "HUBSPOT_ACCESS_TOKEN_FILE": str(secret)}
    result = invoke(runner, ["check-config", "--rules", str(DEFAULT_RULES), "--env"], env=env)
    assert result.exit_code == 0, result.output
    assert "pat-from-file" not in result.output


def test_check_config_without_a_token_says_which_variable_to_set(runner):
    result = invoke(
        runner,
        ["check-config"],
        env={"HUBSPOT_ACCESS_TOKEN": None, "HUBSPOT_ACCESS_TOKEN_FILE": None, "HANDOFF_RULES": str(DEFAULT_RULES)},
    )
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("environment: HUBSPOT_ACCESS_TOKEN: required when HANDOFF_CRM=hubspot: a service key")


def test_a_broken_rules_file_stops_score_with_one_line_per_problem(runner, tmp_path):
    bad = tmp_path / "scoring.yaml"
    bad.write_text("fit:\n  cap: lots\nthresholds:\n  mql: 40\n  sql: 10\n")
    result = invoke(runner, ["score", "--rules", str(bad)], json.dumps(LEAD))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{bad}:2: fit.cap: Input should be a valid number, unable to parse string as a number (got 'lots')",
        f"{bad}:5: thresholds.sql: must be above the MQL threshold (40)",
    ]
    assert result.stdout == ""


def test_the_bundled_examples_score_as_a_table(runner):
    examples = REPO / "config" / "examples" / "leads.jsonl"
    result = invoke(runner, ["score", "--rules", str(DEFAULT_RULES), *NOW, "--format", "table", str(examples)])
    assert result.exit_code == 0, result.output
    assert "Requested a demo 2 days ago" in result.stdout
    assert "Works at a competitor (rivalcrm.com)" in result.stdout
    assert len(examples.read_text().splitlines()) >= 30


def test_python_dash_m_connector_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "connector", "check-config", "--rules", str(DEFAULT_RULES)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        env={**os.environ, **TOKEN_ENV},
    )
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_the_packaged_default_rules_are_the_repositorys_rules():
    from connector.config.ruleset import PACKAGED_RULES_PATH

    assert PACKAGED_RULES_PATH.read_bytes() == DEFAULT_RULES.read_bytes(), (
        "connector/config/default_scoring.yaml must stay a copy of config/scoring.yaml: cp one over the other"
    )


def test_check_config_outside_the_repository_uses_the_packaged_rules(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "connector", "check-config"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}, **TOKEN_ENV},
    )
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.endswith("connector/config/default_scoring.yaml: ok (rules version 2026.11-b2b-saas-1)")


def test_the_sandbox_prints_its_token_and_how_to_point_handoff_at_it(tmp_path):
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "connector", "sandbox", "hubspot", "--contacts", "3", "--token", "pat-local"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = sandbox.stdout.readline().rstrip("\n")
        assert first.startswith("LISTENING http://127.0.0.1:") and len(first.split()) == 2
        assert sandbox.stdout.readline() == "TOKEN pat-local\n"
        assert sandbox.stdout.readline().startswith("To point Handoff at it")
        exports = dict(sandbox.stdout.readline().split()[1].split("=", 1) for _ in range(3))
        assert exports == {
            "HANDOFF_CRM": "hubspot",
            "HUBSPOT_ACCESS_TOKEN": "pat-local",
            "HUBSPOT_API_BASE": first.split()[1],
        }
        # following the hint works: a sync against the sandbox
        env = {**os.environ, **exports, "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 's.sqlite'}"}
        synced = subprocess.run(
            [sys.executable, "-m", "connector", "sync", "--once", "--json"],
            capture_output=True,
            text=True,
            env={**env, "HANDOFF_RULES": str(DEFAULT_RULES), "HANDOFF_REPORT_DIR": str(tmp_path)},
            timeout=60,
        )
        assert synced.returncode == 0, synced.stderr
        assert json.loads(synced.stdout)["read"] == 3
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        sandbox.stdout.close()
        sandbox.stderr.close()
