"""The rules file's fields: section, and how each adapter reads a mapped property into a typed value."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from connector.cli import app
from connector.config.files import ConfigError
from connector.config.ruleset import BUILT_IN_PROPERTIES, field_notes, load_rules
from connector.crm.hubspot import mapping as hubspot
from connector.crm.mapped import Kind, MappedField, read_value
from connector.crm.reading import read_page
from connector.crm.salesforce import mapping as salesforce
from connector.model import Lead
from connector.scoring.engine import score


def rules(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "scoring.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rules(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        rules(tmp_path, text)
    return [str(p) for p in caught.value.problems]


# ------------------------------------------------------------ the section


def test_a_mapping_names_the_property_in_each_crm(tmp_path):
    loaded = rules(
        tmp_path,
        "fields:\n"
        "  occupation: {hubspot: occupation_c, salesforce: Occupation__c}\n"
        "  lead_origin: {salesforce: Lead_Origin__c}\n",
    )
    assert loaded.file.fields_for("hubspot") == {"occupation": "occupation_c"}
    assert loaded.file.fields_for("salesforce") == {"occupation": "Occupation__c", "lead_origin": "Lead_Origin__c"}


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("revenue: {}", "fields.revenue: name the property in at least one CRM"),
        ("revenue: {hubspot: Annual_Revenue}", "fields.revenue.hubspot: 'Annual_Revenue' is no hubspot property name"),
        ("revenue: {salesforce: 'Annual Revenue'}", "fields.revenue.salesforce: 'Annual Revenue' is no salesforce"),
        ("revenue: {hubspot: handoff_score}", "'handoff_score' is one of Handoff's own results"),
        ("revenue: {hubspot: revenue, crm: x}", "fields.revenue.crm: unknown key"),
        ("Revenue: {hubspot: revenue}", "fields.Revenue: a canonical name is lower-case letters, digits and _"),
        ("industry: {hubspot: industry_c}", "'industry' is a built-in property; add override: true"),
        ("revenue: {hubspot: revenue, override: true}", "fields.revenue.override: 'revenue' is not a built-in"),
        (
            "revenue: {salesforce: AnnualRevenue}\n  turnover: {salesforce: annualrevenue}",
            "fields.turnover.salesforce: 'annualrevenue' is already mapped to 'revenue'",
        ),
    ],
    ids=[
        "no-crm",
        "hubspot-case",
        "salesforce-space",
        "own-result",
        "unknown-key",
        "name",
        "clash",
        "no-override",
        "twice",
    ],
)
def test_a_bad_mapping_is_one_line_naming_the_field(tmp_path, entry, problem):
    [line] = problems(tmp_path, f"fields:\n  {entry}\n")
    assert problem in line
    assert line.startswith(f"{tmp_path / 'scoring.yaml'}:")


def test_a_built_in_property_can_be_read_from_elsewhere_when_said_so(tmp_path):
    loaded = rules(tmp_path, "fields:\n  industry: {hubspot: industry_segment, override: true}\n")
    assert loaded.file.fields_for("hubspot") == {"industry": "industry_segment"}


def test_the_built_in_names_are_the_properties_both_adapters_read():
    hubspot_names = {*hubspot.CANONICAL_PROPERTIES, "company_size", "lead_source", "lifecycle_stage"}
    salesforce_names = {*salesforce.LEAD_FIELDS, "lifecycle_stage"}
    assert hubspot_names | salesforce_names == BUILT_IN_PROPERTIES


def test_notes_name_unmapped_fields_and_rules_on_unknown_properties(tmp_path):
    loaded = rules(
        tmp_path,
        "fields:\n  occupation: {salesforce: Occupation__c}\n"
        "fit:\n  rules:\n    - {name: typo, field: ocupation, equals: x, points: 3}\n",
    )
    assert field_notes(loaded.file, "hubspot") == [
        "fields: occupation mapped; whether the CRM has them is checked when Handoff starts",
        "fields: occupation not mapped for hubspot: rules on them see no value there",
        "rules use ocupation: neither a built-in property nor mapped under fields:",
    ]
    assert field_notes(loaded.file, "salesforce")[1:] == [
        "rules use ocupation: neither a built-in property nor mapped under fields:"
    ]


def test_check_config_prints_the_notes_and_stays_offline(tmp_path):
    path = tmp_path / "scoring.yaml"
    path.write_text("fields:\n  occupation: {hubspot: occupation}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check-config", "--rules", str(path)], env={"HUBSPOT_ACCESS_TOKEN": ""})
    assert result.exit_code == 0, result.output
    assert "fields: occupation mapped; whether the CRM has them is checked when Handoff starts" in result.stdout


# ------------------------------------------------------------ typed values


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("5,000,000", Kind.NUMBER, 5_000_000),
        ("12.5", Kind.NUMBER, 12.5),
        (250, Kind.DECIMAL, 250.0),
        ("", Kind.NUMBER, None),
        ("true", Kind.BOOLEAN, True),
        ("FALSE", Kind.BOOLEAN, False),
        (False, Kind.BOOLEAN, False),
        ("2026-11-20", Kind.DATE, "2026-11-20"),
        ("1763596800000", Kind.DATE, "2025-11-20"),
        ("2026-11-20T12:00:00.000+0000", Kind.DATETIME, "2026-11-20T12:00:00.000Z"),
        ("1763640000000", Kind.DATETIME, "2025-11-20T12:00:00.000Z"),
        ("Platform", Kind.CHOICE, "Platform"),
        ("Platform;Training; ;Platform", Kind.CHOICES, ["Platform", "Training"]),
        (";", Kind.CHOICES, None),
        ("Data\nEngineer\x00", Kind.TEXT, "Data Engineer"),
    ],
)
def test_values_arrive_typed_by_the_propertys_kind(value, kind, expected):
    assert read_value(value, kind) == expected
    assert type(read_value(value, kind)) is type(expected)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("NaN", Kind.NUMBER),
        ("1e400", Kind.DECIMAL),
        ("12 apples", Kind.NUMBER),
        (True, Kind.NUMBER),
        ("yes", Kind.BOOLEAN),
        ("20/11/2026", Kind.DATE),
        ("99999999999999999999", Kind.DATETIME),
        ({"a": 1}, Kind.TEXT),
        (["x"] * 101, Kind.CHOICES),
    ],
)
def test_a_value_that_does_not_fit_its_kind_raises_a_readable_error(value, kind):
    with pytest.raises((ValueError, TypeError)):
        read_value(value, kind)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=5,
)


@given(value=JSON, kind=st.sampled_from(Kind))
def test_any_json_value_is_a_clean_value_of_its_kind_or_a_readable_error(value, kind):
    try:
        clean = read_value(value, kind)
    except (ValueError, TypeError):
        return
    allowed = {
        Kind.NUMBER: (int, float),
        Kind.DECIMAL: (float,),
        Kind.BOOLEAN: (bool,),
        Kind.DATE: (str,),
        Kind.DATETIME: (str,),
        Kind.CHOICE: (str, int, float, bool),
        Kind.TEXT: (str, int, float, bool),
        Kind.CHOICES: (list,),
    }[kind]
    assert clean is None or isinstance(clean, allowed)
    json.dumps(clean, allow_nan=False)  # what the state store and a dry-run report keep


# ------------------------------------------------------------ the adapters


@pytest.mark.parametrize(
    ("definition", "kind"),
    [
        ({"type": "number", "fieldType": "number"}, Kind.NUMBER),
        ({"type": "bool", "fieldType": "booleancheckbox"}, Kind.BOOLEAN),
        ({"type": "enumeration", "fieldType": "booleancheckbox"}, Kind.BOOLEAN),
        ({"type": "enumeration", "fieldType": "select"}, Kind.CHOICE),
        ({"type": "enumeration", "fieldType": "checkbox"}, Kind.CHOICES),
        ({"type": "date", "fieldType": "date"}, Kind.DATE),
        ({"type": "datetime", "fieldType": "date"}, Kind.DATETIME),
        ({"type": "string", "fieldType": "text"}, Kind.TEXT),
        ({"type": "phone_number", "fieldType": "phonenumber"}, Kind.TEXT),
    ],
)
def test_hubspot_reads_each_property_by_its_type(definition, kind):
    assert hubspot.property_kind(definition) is kind


@pytest.mark.parametrize(
    ("kind_name", "kind"),
    [
        ("currency", Kind.DECIMAL),
        ("percent", Kind.DECIMAL),
        ("double", Kind.DECIMAL),
        ("int", Kind.NUMBER),
        ("boolean", Kind.BOOLEAN),
        ("date", Kind.DATE),
        ("datetime", Kind.DATETIME),
        ("picklist", Kind.CHOICE),
        ("multipicklist", Kind.CHOICES),
        ("string", Kind.TEXT),
    ],
)
def test_salesforce_reads_each_field_by_its_describe_type(kind_name, kind):
    assert salesforce.field_kind({"type": kind_name}) is kind


NOW = "2026-11-20T12:00:00.000Z"
OCCUPATION = MappedField("occupation", "occupation_c", Kind.TEXT)
REVENUE = MappedField("annual_revenue", "annual_revenue_c", Kind.NUMBER)


def contact(**props: Any) -> dict[str, Any]:
    return {"id": "101", "properties": {"lastmodifieddate": NOW, "industry": "Software", **props}}


def hubspot_page(rows: list[dict[str, Any]], mapped: tuple[MappedField, ...]) -> Any:
    stages = hubspot.StageMap([(v, i) for i, v in enumerate(hubspot.DEFAULT_STAGE_VALUES)])
    return read_page(rows, lambda raw: hubspot.pulled(raw, stages, mapped), "id")


def test_a_hostile_value_in_a_mapped_field_quarantines_that_record_naming_the_property():
    rows = [
        contact(annual_revenue_c="1e309"),
        {**contact(annual_revenue_c="2,500,000", occupation_c="Chief\u202eExecutive"), "id": "102"},
    ]
    page = hubspot_page(rows, (OCCUPATION, REVENUE))
    [quarantined] = page.quarantined
    assert quarantined.record_id == "101"
    assert "annual_revenue_c: not a plausible number" in quarantined.reason
    [record] = page.records
    assert record.properties["annual_revenue"] == 2_500_000
    assert record.properties["occupation"] == "Chief Executive"


def test_an_override_replaces_the_built_in_property_even_when_blank():
    segment = MappedField("industry", "industry_segment", Kind.CHOICE)
    [record] = hubspot_page([contact()], (segment,)).records
    assert "industry" not in record.properties
    [record] = hubspot_page([contact(industry_segment="Fintech")], (segment,)).records
    assert record.properties["industry"] == "Fintech"


def test_salesforce_reads_a_multi_select_picklist_as_its_values():
    row = {
        "Id": "00Q000000000001",
        "SystemModstamp": "2026-11-20T12:00:00.000+0000",
        "LastName": "Ruiz",
        "Interests__c": "Platform;Training",
        "AnnualRevenue": 5000000,
    }
    mapped = (
        MappedField("interests", "Interests__c", Kind.CHOICES),
        MappedField("annual_revenue", "AnnualRevenue", Kind.DECIMAL),
    )
    pulled = salesforce.pulled(row, salesforce.LEAD, salesforce.StageField(), mapped)
    assert pulled is not None
    assert pulled.properties["interests"] == ["Platform", "Training"]
    assert pulled.properties["annual_revenue"] == 5_000_000.0


# ------------------------------------------------------------ the operators on typed values


def test_the_operators_work_on_typed_values(tmp_path):
    loaded = rules(
        tmp_path,
        "fit:\n  rules:\n"
        "    - {name: consent, field: consent, equals: true, points: 1}\n"
        "    - {name: revenue, field: annual_revenue, min: 1000000, max: 10000000, points: 2}\n"
        "    - {name: interest, field: product_interest, one_of: [Platform], points: 4}\n"
        "    - {name: since, field: customer_since, matches: '^2026-', points: 8}\n",
    )
    lead = Lead(
        "1",
        {
            "consent": True,
            "annual_revenue": 5_000_000,
            "product_interest": "Platform",
            "customer_since": "2026-01-05",
        },
    )
    assert score(lead, loaded.compiled, datetime(2026, 11, 20, tzinfo=UTC)).fit == 15
    other = Lead("2", {"consent": False, "annual_revenue": 20_000_000.0, "product_interest": "Services"})
    assert score(other, loaded.compiled, datetime(2026, 11, 20, tzinfo=UTC)).fit == 0


def test_one_of_matches_a_multi_select_when_any_of_its_values_is_listed(tmp_path):
    loaded = rules(tmp_path, "fit:\n  rules:\n    - {name: p, field: interests, one_of: [Platform], points: 4}\n")
    lead = Lead("1", {"interests": ["Training", "Platform"]})
    assert score(lead, loaded.compiled, datetime(2026, 11, 20, tzinfo=UTC)).fit == 4
