"""The synthetic people generator: deterministic, canonical, realistic, fast; and its HubSpot rendering."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from connector.config.ruleset import BUILT_IN_PROPERTIES
from connector.model import ACTIVITY_TYPES, Stage, lead_from_json
from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.hubspot.render import render_person
from connector.sandbox.synthetic import (
    COMPETITOR_DOMAINS,
    FREE_MAIL_DOMAINS,
    generate,
    generate_people,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
CANONICAL = BUILT_IN_PROPERTIES


@pytest.fixture(scope="module")
def population():
    return generate(3000, seed=11, now=NOW)


def test_same_seed_and_time_give_the_same_people():
    assert generate_people(200, 3, NOW) == generate_people(200, 3, NOW)
    assert generate_people(200, 3, NOW) != generate_people(200, 4, NOW)


def test_people_are_canonical_leads(population):
    stages = {s.value for s in Stage}
    for person in population.people:
        lead = person.lead
        assert set(lead.properties) == CANONICAL
        assert lead.properties["lifecycle_stage"] in stages
        assert lead_from_json(lead.to_json()) == lead  # survives the canonical JSON round trip
        for activity in lead.activities:
            assert activity.type in ACTIVITY_TYPES
            assert person.created_at <= activity.at <= NOW


def test_owners_are_reps_and_a_queue_and_every_owner_id_is_one_of_them(population):
    kinds = Counter(o.kind for o in population.owners)
    assert kinds["queue"] == 1 and kinds["person"] >= 6
    ids = {o.id for o in population.owners}
    assigned = [p.lead.properties["owner_id"] for p in population.people]
    assert {a for a in assigned if a} <= ids
    assert 0 < assigned.count(None) < len(assigned) / 2


def test_hot_leads_are_a_realistic_minority_with_buying_intent(population):
    hot = [p for p in population.people if p.hot]
    assert 0.03 < len(hot) / len(population.people) < 0.10
    for person in hot:
        names = {a.name for a in person.lead.activities if a.type == "form_submission"}
        assert names & {"Request a demo", "Contact sales", "Start free trial"}
        assert any(a.type == "page_view" and a.url.endswith("/pricing") for a in person.lead.activities)
    cold = [p for p in population.people if p.segment == "cold"]
    assert len(cold) > len(population.people) / 3
    assert not any(a.type == "form_submission" for p in cold for a in p.lead.activities)


def test_the_noise_is_there_students_competitors_free_mail_unsubscribes_job_seekers(population):
    people = population.people
    domains = Counter(p.lead.properties["email"].rpartition("@")[2] for p in people)
    free = sum(n for d, n in domains.items() if d in FREE_MAIL_DOMAINS) / len(people)
    assert 0.1 < free < 0.35
    assert sum(n for d, n in domains.items() if d in COMPETITOR_DOMAINS) > 10
    assert sum(1 for p in people if p.lead.properties["job_title"] == "Student") > 20
    assert sum(1 for p in people if any(a.type == "unsubscribe" for a in p.lead.activities)) > 20
    assert sum(1 for p in people if any((a.url or "").endswith("/careers") for a in p.lead.activities)) > 20
    emails = [p.lead.properties["email"] for p in people]
    assert len(set(emails)) == len(emails)  # a CRM keeps emails unique


def test_companies_titles_and_places_vary(population):
    props = [p.lead.properties for p in population.people]
    sizes = [p["company_size"] for p in props if p["company_size"]]
    assert min(sizes) < 10 and max(sizes) > 5000
    assert len({p["industry"] for p in props}) >= 10 and len({p["country"] for p in props}) >= 10
    titles = {p["job_title"] for p in props}
    assert {"CEO", "VP Sales", "Director of IT", "Marketing Manager", "Software Engineer", "Intern"} <= titles
    assert len({p["lead_source"] for p in props}) == 9


def test_rendered_contacts_hold_only_strings_and_seed_cleanly_with_engagements(population):
    app = HubSpotSandbox(HubSpotConfig(contacts=0), clock=ManualClock(NOW))
    app.portal.add_owners(population.owners)
    ids = app.seed_people(population.people[:400])
    assert len(ids) == 400
    for person in population.people[:400]:
        rendered = render_person(person)
        assert all(isinstance(v, str) for v in rendered.properties.values())
    dump = app.dump()
    engagements = sum(len(dump[kind]) for kind in ("meetings", "calls", "emails", "notes"))
    assert engagements > 20
    assert all(item["associations"] == {"contacts": item["associations"]["contacts"]} for item in dump["meetings"])
    hot = [c for c, p in zip(dump["contacts"], population.people[:400], strict=False) if p.hot]
    assert hot and all(int(c["properties"]["num_conversion_events"]) >= 1 for c in hot)


def test_sandbox_started_with_contacts_serves_the_synthetic_portal(hubspot_sandbox):
    app = HubSpotSandbox(HubSpotConfig(contacts=120, seed=2), clock=ManualClock(NOW))
    contacts = app.dump()["contacts"]
    assert len(contacts) == 120
    stages = Counter(c["properties"].get("lifecyclestage") for c in contacts)
    assert stages["lead"] > 60 and set(stages) <= {
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
    }
