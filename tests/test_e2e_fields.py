"""A team's own CRM fields in rules, end to end: mapped in the rules file, read typed by each adapter.

Each CRM gets the fields an admin would have made (HubSpot through the
properties API, Salesforce as the org's custom fields); seeded people with
those values qualify as the rules say, and a mapping to a field the CRM lacks
stops start-up with one line naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SalesforceHandle
from deployments import deploy
from hubspot.crm.properties import Option, PropertyCreate
from typer.testing import CliRunner

from connector.cli import app
from connector.crm.errors import StopRun
from connector.sandbox.clock import ManualClock
from connector.sandbox.portals import HubSpotPortal, SalesforcePortal
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.salesforce.schema import custom_field

RULES = """\
version: fields-e2e
fields:
  occupation: {{hubspot: occupation, salesforce: Occupation__c}}
  annual_revenue: {{hubspot: annual_revenue, salesforce: AnnualRevenue}}
  product_interest: {{hubspot: product_interest, salesforce: Product_Interest__c}}
  marketing_consent: {{hubspot: marketing_consent, salesforce: Marketing_Consent__c}}
  interests: {{hubspot: interests, salesforce: Interests__c}}
  {extra}
fit:
  rules:
    - {{name: engineer, field: occupation, matches: engineer, points: 20}}
    - {{name: large company, field: annual_revenue, min: 1000000, points: 15}}
    - {{name: wants the platform, field: product_interest, one_of: [Platform], points: 10}}
    - {{name: consented, field: marketing_consent, equals: true, points: 5}}
disqualifiers:
  - {{name: student, field: occupation, equals: Student}}
thresholds: {{mql: 40, mql_min_engagement: 0, sql: 90}}
"""

#: the values each seeded person has, in canonical terms, and how the rules above qualify them
QUALIFIES = {
    "email": "ana@acme.io",
    "occupation": "Software Engineer",
    "annual_revenue": 5_000_000,
    "product_interest": "Platform",
}
TOO_SMALL = {
    "email": "bo@small.io",
    "occupation": "Software Engineer",
    "annual_revenue": 250_000,
    "product_interest": "Services",
}
STUDENT = {"email": "cy@uni.edu", "occupation": "Student", "annual_revenue": 5_000_000, "product_interest": "Platform"}
PICKLIST = ("Platform", "Services", "Training")


def rules_file(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "scoring.yaml"
    path.write_text(RULES.format(extra=extra), encoding="utf-8")
    return path


# ---------------------------------------------------------------- HubSpot


def create_hubspot_fields(handle: Any) -> None:
    """The properties a HubSpot admin made, through the properties API."""
    api = handle.client().crm.properties.core_api

    def create(name: str, kind: str, field_type: str, options: tuple[str, ...] = ()) -> None:
        choices = [Option(label=o, value=o, display_order=i, hidden=False) for i, o in enumerate(options)]
        body = PropertyCreate(
            name=name,
            label=name.replace("_", " ").title(),
            type=kind,
            field_type=field_type,
            group_name="contactinformation",
            options=choices or None,
        )
        api.create("contacts", body)

    create("occupation", "string", "text")
    create("annual_revenue", "number", "number")
    create("product_interest", "enumeration", "select", PICKLIST)
    create("marketing_consent", "bool", "booleancheckbox", ("true", "false"))
    create("interests", "enumeration", "checkbox", PICKLIST)


def hubspot_values(values: dict[str, Any], consent: bool, interests: str) -> dict[str, Any]:
    return {
        "occupation": values["occupation"],
        "annual_revenue": str(values["annual_revenue"]),
        "product_interest": values["product_interest"],
        "marketing_consent": "true" if consent else "false",
        "interests": interests,
    }


@pytest.fixture
def hubspot_portal(hubspot_sandbox: Any) -> HubSpotPortal:
    create_hubspot_fields(hubspot_sandbox)
    return HubSpotPortal(hubspot_sandbox.app, hubspot_sandbox.base_url, hubspot_sandbox.clock)


def hubspot_seed(portal: HubSpotPortal, values: dict[str, Any], consent: bool = True, interests: str = "") -> str:
    lead = portal.seed(email=values["email"])
    portal.app.touch(lead, hubspot_values(values, consent, interests))
    return lead


def test_hubspot_start_stops_naming_a_mapped_property_the_portal_lacks(hubspot_portal, tmp_path):
    rules = rules_file(tmp_path, extra="lead_origin: {hubspot: lead_origin}")
    with pytest.raises(StopRun, match=r"HubSpot contacts lacks: lead_origin;"):
        deploy(hubspot_portal, tmp_path / "state.sqlite", handoff_rules=rules)


def test_handoff_run_ends_with_one_line_and_exit_3_for_a_missing_mapped_property(hubspot_portal, tmp_path):
    rules = rules_file(tmp_path, extra="lead_origin: {hubspot: lead_origin}")
    env = {
        **hubspot_portal.env(),
        "HANDOFF_RULES": str(rules),
        "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}",
        "HANDOFF_REPORT_DIR": str(tmp_path / "reports"),
    }
    result = CliRunner().invoke(app, ["sync", "--once"], env=env)
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    [line] = [line for line in result.stderr.splitlines() if "lead_origin" in line]
    assert line.startswith("stopped: the rules file's fields: section maps properties that HubSpot contacts lacks")


# ------------------------------------------------------------- Salesforce

SALESFORCE_FIELDS = (
    custom_field("Occupation__c", "string"),
    custom_field("Product_Interest__c", "picklist", PICKLIST),
    custom_field("Marketing_Consent__c", "boolean"),
    custom_field("Interests__c", "multipicklist", PICKLIST),
)


@pytest.fixture
def salesforce_portal(sandbox_clock: ManualClock) -> Iterator[SalesforcePortal]:
    """An org whose admin added the team's own fields to Lead and Contact (AnnualRevenue is standard)."""
    app = SalesforceSandbox(SalesforceConfig(contacts=0, seed=1, extra_fields=SALESFORCE_FIELDS), clock=sandbox_clock)
    try:
        with app.server() as server:
            handle = SalesforceHandle(app, server, sandbox_clock)
            yield SalesforcePortal(handle.app, handle.base_url, handle.clock)
    finally:
        app.close()


def salesforce_seed(portal: SalesforcePortal, values: dict[str, Any], consent: bool = True, interests: str = "") -> str:
    lead = portal.seed(email=values["email"])
    portal.app.touch(
        lead,
        {
            "Occupation__c": values["occupation"],
            "AnnualRevenue": values["annual_revenue"],
            "Product_Interest__c": values["product_interest"],
            "Marketing_Consent__c": consent,
            "Interests__c": interests or None,
        },
    )
    return lead


def test_salesforce_start_stops_naming_a_mapped_field_the_org_lacks(salesforce_portal, tmp_path):
    rules = rules_file(tmp_path, extra="lead_origin: {salesforce: Lead_Origin__c}")
    with pytest.raises(StopRun, match=r"the Salesforce org lacks: Lead\.Lead_Origin__c;"):
        deploy(salesforce_portal, tmp_path / "state.sqlite", handoff_rules=rules)


# ------------------------------------------------------------- both CRMs

SEEDERS = {"hubspot": ("hubspot_portal", hubspot_seed), "salesforce": ("salesforce_portal", salesforce_seed)}


@pytest.mark.parametrize("crm", sorted(SEEDERS))
def test_the_teams_own_fields_qualify_leads_by_the_rules(crm, request, tmp_path):
    fixture, seed = SEEDERS[crm]
    portal = request.getfixturevalue(fixture)
    runtime = deploy(portal, tmp_path / "state.sqlite", handoff_rules=rules_file(tmp_path))
    try:
        qualifies = seed(portal, QUALIFIES, interests="Platform;Training")
        too_small = seed(portal, TOO_SMALL, consent=False)
        student = seed(portal, STUDENT)
        portal.clock.advance(300)
        report = runtime.sync.sync_once()
        assert report.status == "ok" and report.quarantined == 0
        assert portal.handoff(qualifies)["status"] == "mql"
        assert portal.handoff(qualifies)["fit_grade"] == "A"  # 20 + 15 + 10 + 5 = 50
        assert portal.handoff(too_small)["status"] == "lead"
        assert portal.handoff(student)["status"] == "disqualified"
        [pulled] = runtime.adapter.read([qualifies])
        typed = {k: pulled.properties[k] for k in ("annual_revenue", "marketing_consent", "interests")}
        assert typed == {"annual_revenue": 5_000_000, "marketing_consent": True, "interests": ["Platform", "Training"]}
        assert isinstance(typed["annual_revenue"], int if crm == "hubspot" else float)
    finally:
        runtime.close()
