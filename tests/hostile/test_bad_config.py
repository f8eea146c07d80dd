"""Every configuration input that once ended in a traceback, a hang or a false "ok".

Each one must now end the command with exactly one line on stderr naming the
variable or file, the field and the problem, and exit code 2. ``check-config``
must catch each one it can without the network, before a run trips over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from builders import DEFAULT_RULES
from typer.testing import CliRunner

from connector.cli import app

#: rules files, written into the test's folder: (id, content, expected start of the line after "<file>:")
RULES_FILES: list[tuple[str, str | bytes, str]] = [
    ("holiday-2026-13-45", "lifecycle:\n  business_hours:\n    holidays: [2026-13-45]\n",
     "3: lifecycle.business_hours.holidays[0]: Input should be a valid date"),
    ("5001-digit-integer", "fit:\n  cap: " + "9" * 5001 + "\n", "2: fit.cap: not valid YAML: a number with 5001 digits"),
    ("5000-deep-nesting", "lists:\n  x: " + "[" * 5000 + "]" * 5000 + "\n", "2: not usable YAML: nested more than 50"),
    ("nan-points", "fit:\n  rules:\n    - {name: a, field: x, present: true, points: .nan}\n",
     "3: fit.rules[0].points: must be a finite number (got nan)"),
    ("inf-points", "engagement:\n  rules:\n    - {name: a, type: page_view, points: .inf}\n",
     "3: engagement.rules[0].points: must be a finite number (got inf)"),
    ("inf-threshold-string", "thresholds:\n  sql: inf\n", "2: thresholds.sql: must be a finite number (got inf)"),
    ("alias-bomb", "lists:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
     + "".join(f"  {n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)),
     "6: not usable YAML: expands to more than 100,000 values"),
    ("binary-file", bytes(range(256)), " not UTF-8 text"),
    ("control-character", "version: a\x1f\n", "1: not valid YAML: special characters are not allowed"),
    ("empty-file", "", " the file is empty"),
    ("comments-only", "# scoring rules go here\n", " the file is empty"),
    ("sla-99999999bd", "lifecycle:\n  sla:\n    sql: {due: 99999999bd}\n",
     "3: lifecycle.sla.sql.due: '99999999bd' is more than 366 business days"),
    ("sla-1bh-in-a-microsecond-day", "lifecycle:\n  business_hours: {start: '09:00:00', end: '09:00:00.000001'}\n",
     "1: lifecycle.sla.sql.due: '1bh' is more than 366 business days"),
    ("timestamp-hour-25", "lifecycle:\n  business_hours:\n    holidays: [2026-01-01T25:00:00]\n",
     "3: lifecycle.business_hours.holidays[0]: Input should be a valid date"),
]  # fmt: skip


@dataclass(frozen=True)
class EnvCase:
    """Environment variables (on top of a good HubSpot setup) and the line check-config must print."""

    env: dict[str, str]
    line: str
    files: dict[str, bytes] = field(default_factory=dict)  # written into the test's folder first


SALESFORCE = {
    "HANDOFF_CRM": "salesforce",
    "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
    "SALESFORCE_SESSION_ID": "00Dxx0000001gPL!AQ4AQ",
}
JWT = {"HANDOFF_CRM": "salesforce", "SALESFORCE_USERNAME": "handoff@acme.io", "SALESFORCE_CONSUMER_KEY": "3MVG9"}

ENV_CASES: dict[str, EnvCase] = {
    "binary-token-file": EnvCase(
        {"HUBSPOT_ACCESS_TOKEN": "", "HUBSPOT_ACCESS_TOKEN_FILE": "{dir}/token"},
        "environment: HUBSPOT_ACCESS_TOKEN_FILE: {dir}/token: not UTF-8 text",
        {"token": b"\x00\xff\xfe\x80binary"},
    ),
    "empty-token-file": EnvCase(
        {"HUBSPOT_ACCESS_TOKEN": "", "HUBSPOT_ACCESS_TOKEN_FILE": "{dir}/token"},
        "environment: HUBSPOT_ACCESS_TOKEN_FILE: {dir}/token: the file is empty",
        {"token": b"\n"},
    ),
    "token-with-a-space": EnvCase(
        {"HUBSPOT_ACCESS_TOKEN": "pat-na1 abc"}, "environment: HUBSPOT_ACCESS_TOKEN: contains spaces"
    ),
    "empty-token": EnvCase({"HUBSPOT_ACCESS_TOKEN": ""}, "environment: HUBSPOT_ACCESS_TOKEN: is empty"),
    "objects-not-json": EnvCase(
        {"HANDOFF_SALESFORCE_OBJECTS": "Lead"}, "environment: HANDOFF_SALESFORCE_OBJECTS: not valid JSON"
    ),
    "objects-empty-list": EnvCase(
        {"HANDOFF_SALESFORCE_OBJECTS": "[]"}, "environment: HANDOFF_SALESFORCE_OBJECTS: List should have at least 1"
    ),
    "stage-values-not-json": EnvCase(
        {"HANDOFF_SALESFORCE_STAGE_VALUES": "lead=Lead"},
        "environment: HANDOFF_SALESFORCE_STAGE_VALUES: not valid JSON",
    ),
    "stage-values-incomplete": EnvCase(
        {"HANDOFF_SALESFORCE_STAGE_VALUES": '{"lead": "Lead"}'},
        "environment: HANDOFF_SALESFORCE_STAGE_VALUES: needs a picklist value for each of lead, mql and sql",
    ),
    "stage-values-shared": EnvCase(
        {"HANDOFF_SALESFORCE_STAGE_VALUES": '{"lead": "Lead", "mql": "Lead", "sql": "SQL"}'},
        "environment: HANDOFF_SALESFORCE_STAGE_VALUES: each stage needs its own picklist value",
    ),
    "state-url-mysql": EnvCase(
        {"HANDOFF_STATE_URL": "mysql://handoff:s3cret@db/handoff"},
        "environment: HANDOFF_STATE_URL: mysql is not supported",
    ),
    "state-url-not-a-url": EnvCase(
        {"HANDOFF_STATE_URL": "handoff.sqlite"}, "environment: HANDOFF_STATE_URL: not a database URL"
    ),
    "state-url-port-not-a-number": EnvCase(
        {"HANDOFF_STATE_URL": "postgresql+psycopg://handoff:s3cret@db:five/handoff"},
        "environment: HANDOFF_STATE_URL: not a database URL",
    ),
    "state-url-missing-directory": EnvCase(
        {"HANDOFF_STATE_URL": "sqlite:///{dir}/nowhere/state.sqlite"},
        "environment: HANDOFF_STATE_URL: the SQLite file's directory {dir}/nowhere does not exist",
    ),
    "http-port-not-a-number": EnvCase(
        {"HANDOFF_HTTP_PORT": "eighty"}, "environment: HANDOFF_HTTP_PORT: Input should be a valid integer"
    ),
    "http-host-not-an-address": EnvCase(
        {"HANDOFF_HTTP_HOST": "all"}, "environment: HANDOFF_HTTP_HOST: not an IP address"
    ),
    "report-dir-is-a-file": EnvCase(
        {"HANDOFF_REPORT_DIR": "{dir}/reports"},
        "environment: HANDOFF_REPORT_DIR: {dir}/reports is a file, not a directory",
        {"reports": b"not a folder"},
    ),
    "api-base-empty": EnvCase({"HUBSPOT_API_BASE": ""}, "environment: HUBSPOT_API_BASE: must start with https://"),
    "api-base-without-scheme": EnvCase(
        {"HUBSPOT_API_BASE": "api.hubapi.com"}, "environment: HUBSPOT_API_BASE: must start with https://"
    ),
    "api-base-port-not-a-number": EnvCase(
        {"HUBSPOT_API_BASE": "http://127.0.0.1:port"}, "environment: HUBSPOT_API_BASE: not a URL: Port could not"
    ),
    "sync-interval-inf": EnvCase(
        {"HANDOFF_SYNC_INTERVAL": "inf"}, "environment: HANDOFF_SYNC_INTERVAL: Input should be a finite number"
    ),
    "sweep-interval-nan": EnvCase(
        {"HANDOFF_SWEEP_INTERVAL": "nan"}, "environment: HANDOFF_SWEEP_INTERVAL: Input should be a finite number"
    ),
    "overlap-1e300-seconds": EnvCase(
        {"HANDOFF_OVERLAP_SECONDS": "1e300"}, "environment: HANDOFF_OVERLAP_SECONDS: Input should be less than"
    ),
    "safety-lag-1e12-seconds": EnvCase(
        {"HANDOFF_SAFETY_LAG_SECONDS": "1e12"}, "environment: HANDOFF_SAFETY_LAG_SECONDS: Input should be less than"
    ),
    "trailing-pass-inf": EnvCase(
        {"HANDOFF_TRAILING_PASS_SECONDS": "inf"},
        "environment: HANDOFF_TRAILING_PASS_SECONDS: Input should be a finite number",
    ),
    "task-settle-1e20-seconds": EnvCase(
        {"HANDOFF_TASK_SETTLE_SECONDS": "1e20"}, "environment: HANDOFF_TASK_SETTLE_SECONDS: Input should be less than"
    ),
    "5001-digit-integer": EnvCase(
        {"HANDOFF_MAX_WRITE_ATTEMPTS": "9" * 5001}, "environment: HANDOFF_MAX_WRITE_ATTEMPTS: Unable to parse"
    ),
    "salesforce-domain-with-host": EnvCase(
        {**SALESFORCE, "SALESFORCE_DOMAIN": "login.salesforce.com"},
        "environment: SALESFORCE_DOMAIN: give what comes before .salesforce.com",
    ),
    "salesforce-api-version-word": EnvCase(
        {**SALESFORCE, "SALESFORCE_API_VERSION": "latest"},
        "environment: SALESFORCE_API_VERSION: a Salesforce API version looks like 59.0",
    ),
    "salesforce-stage-field-with-space": EnvCase(
        {**SALESFORCE, "HANDOFF_SALESFORCE_STAGE_FIELD": "Lifecycle Stage"},
        "environment: HANDOFF_SALESFORCE_STAGE_FIELD: not a Salesforce field API name",
    ),
    "salesforce-instance-url-without-host": EnvCase(
        {**SALESFORCE, "SALESFORCE_INSTANCE_URL": "https://"},
        "environment: SALESFORCE_INSTANCE_URL: has no host name",
    ),
    "salesforce-private-key-missing": EnvCase(
        {**JWT, "SALESFORCE_PRIVATE_KEY_FILE": "{dir}/key.pem"},
        "environment: SALESFORCE_PRIVATE_KEY_FILE: {dir}/key.pem: cannot read: No such file or directory",
    ),
    "salesforce-private-key-not-a-key": EnvCase(
        {**JWT, "SALESFORCE_PRIVATE_KEY_FILE": "{dir}/key.pem"},
        "environment: SALESFORCE_PRIVATE_KEY_FILE: {dir}/key.pem: holds no PEM private key",
        {"key.pem": b"ssh-rsa AAAAB3Nza handoff@acme\n"},
    ),
}


def check_config(args: list[str], env: dict[str, str | None]):
    return CliRunner().invoke(app, ["check-config", *args], env=env)


def assert_one_line_exit_2(result, expected_start: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected_start), lines[0]
    assert len(lines[0]) < 300
    assert result.stdout == ""


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in RULES_FILES], ids=[c[0] for c in RULES_FILES])
@pytest.mark.timeout(20)  # the alias bomb once ran for minutes
def test_a_bad_rules_file_is_one_line_and_exit_2(tmp_path, content, expected):
    path = tmp_path / "scoring.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    assert_one_line_exit_2(check_config(["--rules", str(path)], {}), f"{path}:{expected}")


@pytest.mark.parametrize("case", list(ENV_CASES.values()), ids=list(ENV_CASES))
def test_a_bad_environment_value_is_one_line_and_exit_2_in_check_config(tmp_path, case):
    for name, data in case.files.items():
        (tmp_path / name).write_bytes(data)
    env: dict[str, str | None] = {
        "HANDOFF_CRM": "hubspot",
        "HUBSPOT_ACCESS_TOKEN": "pat-na1-0f1e2d3c",
        "HUBSPOT_ACCESS_TOKEN_FILE": None,
        "HANDOFF_RULES": str(DEFAULT_RULES),
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_REPORT_DIR": str(tmp_path / "out"),
        **{name: value.replace("{dir}", str(tmp_path)) for name, value in case.env.items()},
    }
    result = check_config([], env)
    assert_one_line_exit_2(result, case.line.replace("{dir}", str(tmp_path)))
    assert "s3cret" not in result.output  # a database password never shows, even in a bad URL
