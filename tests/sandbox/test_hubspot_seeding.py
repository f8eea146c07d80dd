"""Seeding a HubSpot sandbox portal: synthetic people are created without per-property checks,
which holds only because their rendering already writes every value in its stored form."""

from __future__ import annotations

from datetime import UTC, datetime

from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.hubspot.objects import CONTACTS, DEALS
from connector.sandbox.hubspot.properties import normalize
from connector.sandbox.hubspot.render import render_person
from connector.sandbox.synthetic import generate

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_rendered_people_hold_only_defined_properties_in_their_stored_form():
    population = generate(1500, seed=5, now=NOW)
    app = HubSpotSandbox(HubSpotConfig(contacts=0), clock=ManualClock(NOW))
    catalog = app.portal.properties
    owner_ids = {owner.id for owner in population.owners}
    checked = set()
    for person in population.people:
        rendered = render_person(person)
        objects = [(CONTACTS, rendered.properties), *rendered.engagements]
        if rendered.deal is not None:
            objects.append((DEALS, rendered.deal))
        for otype, props in objects:
            for name, value in props.items():
                prop = catalog[otype.name].get(name)
                assert prop is not None, f"{otype.name}.{name} is not defined"
                assert normalize(prop, value, owner_ids) == value, (otype.name, name, value)
                checked.add((otype.name, prop.type))
    # every kind of value the portal checks went through the check above
    assert {("contacts", t) for t in ("string", "number", "datetime", "enumeration", "bool")} <= checked
    assert {("deals", "number"), ("deals", "datetime"), ("meetings", "datetime")} <= checked
