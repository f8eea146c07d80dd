"""The admin commands against the Salesforce sandbox, where record ids have a shape and a checksum."""

from __future__ import annotations

import pytest
from builders import DEFAULT_RULES
from typer.testing import CliRunner

from connector.cli import app


@pytest.fixture
def run(salesforce_sandbox, tmp_path):
    sandbox = salesforce_sandbox
    env = {
        "HANDOFF_CRM": "salesforce",
        "SALESFORCE_INSTANCE_URL": sandbox.base_url,
        "SALESFORCE_SESSION_ID": sandbox.token,
        "SALESFORCE_CA_BUNDLE": sandbox.ca_path,
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_RULES": str(DEFAULT_RULES),
        "HANDOFF_LOG_FORMAT": "json",
    }

    def invoke(*args):
        return CliRunner().invoke(app, list(args), env=env)

    return invoke


@pytest.mark.parametrize(
    ("record_id", "line"),
    [
        # a lead's prefix and length, but a checksum no id has: Salesforce refuses the query
        ("00Q000000000001AAA", "explain: salesforce cannot read a record with id '00Q000000000001AAA' (Salesforce 400"),
        ("00Q' OR Name != '", "explain: salesforce cannot read a record with id \"00Q' OR Name != '\" (Salesforce 400"),
        ("xyz", "explain: no record with id 'xyz' in salesforce"),
    ],
    ids=["bad-checksum", "quote-injection", "not-an-id"],
)
def test_explain_of_a_malformed_or_unknown_id_is_one_line_and_exit_2(run, record_id, line):
    result = run("explain", record_id)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1].startswith(line)


def test_explain_of_a_lead_shows_its_score(run, salesforce_sandbox):
    [lead] = salesforce_sandbox.seed_leads(
        {"FirstName": "Ana", "LastName": "Ruiz", "Company": "Acme", "Title": "VP Engineering", "Email": "ana@acme.io"}
    )
    result = run("explain", lead)
    assert result.exit_code == 0, result.output
    assert f"(record {lead}): score" in result.stdout
