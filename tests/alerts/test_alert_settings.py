"""Alert settings: bad values are one line naming the variable (never the secret), exit 2; good ones are summed up."""

from __future__ import annotations

import pytest
from builders import DEFAULT_RULES
from typer.testing import CliRunner

from connector.cli import app

WEBHOOK = "https://hooks.slack.example/services/T0AB12CD3/B0EF45GH6/xS3cr3tT0k3nInThePath"
SECRET = "whsec-sign-me-please-42"


def check_config(tmp_path, **env: str | None):
    base: dict[str, str | None] = {
        "HANDOFF_CRM": "hubspot",
        "HUBSPOT_ACCESS_TOKEN": "pat-na1-0f1e2d3c",
        "HANDOFF_RULES": str(DEFAULT_RULES),
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_REPORT_DIR": str(tmp_path / "out"),
        "HANDOFF_ALERT_WEBHOOK_URL": WEBHOOK,
    }
    return CliRunner().invoke(app, ["check-config"], env={**base, **env})


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"HANDOFF_ALERT_WEBHOOK_URL": "ftp://files.example/xS3cr3tT0k3nInThePath"},
         "environment: HANDOFF_ALERT_WEBHOOK_URL: must be an http(s) URL with a host"),
        ({"HANDOFF_ALERT_WEBHOOK_URL": "https:///xS3cr3tT0k3nInThePath"},
         "environment: HANDOFF_ALERT_WEBHOOK_URL: must be an http(s) URL with a host"),
        ({"HANDOFF_ALERT_FORMAT": "xml"}, "environment: HANDOFF_ALERT_FORMAT: Input should be 'slack' or 'json'"),
        ({"HANDOFF_ALERT_SECRET": " "}, "environment: HANDOFF_ALERT_SECRET: is empty"),
        ({"HANDOFF_ALERT_ON": "sql,won"},
         "environment: HANDOFF_ALERT_ON: name events from sql, mql, sla_breach, separated by commas (got 'sql,won')"),
        ({"HANDOFF_ALERT_ON": ""}, "environment: HANDOFF_ALERT_ON: name events from sql, mql, sla_breach"),
        ({"HANDOFF_HUBSPOT_PORTAL_ID": "acme"}, "environment: HANDOFF_HUBSPOT_PORTAL_ID: the Hub ID is a number"),
        ({"HANDOFF_HUBSPOT_UI_DOMAIN": "https://app.hubspot.com/"},
         "environment: HANDOFF_HUBSPOT_UI_DOMAIN: a host name like app.hubspot.com"),
    ],
)  # fmt: skip
def test_a_bad_alert_setting_is_one_line_and_exit_2(tmp_path, env, line):
    result = check_config(tmp_path, **env)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [result.stderr.strip()] and result.stderr.startswith(line)
    assert result.stdout == "" and "Traceback" not in result.output
    assert "xS3cr3tT0k3nInThePath" not in result.output


def test_check_config_says_where_alerts_go_without_their_secrets(tmp_path):
    (tmp_path / "webhook").write_text(WEBHOOK + "\n")
    (tmp_path / "secret").write_text(SECRET + "\n")
    result = check_config(
        tmp_path,
        HANDOFF_ALERT_WEBHOOK_URL=None,
        HANDOFF_ALERT_WEBHOOK_URL_FILE=str(tmp_path / "webhook"),
        HANDOFF_ALERT_SECRET_FILE=str(tmp_path / "secret"),
        HANDOFF_ALERT_FORMAT="json",
        HANDOFF_ALERT_ON="sql, mql,sla_breach",
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "alerts: ok (json to https://hooks.slack.example, signed; on sql, mql, sla_breach)" in lines
    assert "alerts: no links to records: set HANDOFF_HUBSPOT_PORTAL_ID to your Hub ID" in lines
    assert "xS3cr3tT0k3nInThePath" not in result.output and SECRET not in result.output


def test_with_the_hub_id_set_check_config_has_nothing_to_add(tmp_path):
    result = check_config(tmp_path, HANDOFF_HUBSPOT_PORTAL_ID="4242")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("alerts:")] == [
        "alerts: ok (slack to https://hooks.slack.example; on sql, sla_breach)"
    ]
