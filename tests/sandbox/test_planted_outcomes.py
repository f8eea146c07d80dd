"""The planted outcomes: a hidden model with real signal, told consistently by both sandboxes."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from datetime import UTC, datetime

import pytest
from builders import DEFAULT_RULES

from connector.config.ruleset import load_rules
from connector.model import Lead, parse_time
from connector.sandbox.clock import ManualClock
from connector.sandbox.hubspot import HubSpotConfig, HubSpotSandbox
from connector.sandbox.hubspot.render import render_person
from connector.sandbox.salesforce import SalesforceConfig, SalesforceSandbox
from connector.sandbox.synthetic import generate_owners, generate_people
from connector.scoring.engine import score

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SENIOR = {
    "CEO",
    "CTO",
    "Founder",
    "VP Engineering",
    "VP Sales",
    "VP Marketing",
    "VP Operations",
    "Director of IT",
    "Director of Marketing",
    "Head of Sales Operations",
    "Head of Data",
}
JUNIOR = {"Software Engineer", "Data Analyst", "Marketing Specialist", "Intern", "Assistant", "Consultant"}


@pytest.fixture(scope="module")
def prospects():
    """Everyone but the existing customers: the people sales could still win."""
    return [p for p in generate_people(4000, 21, NOW) if p.segment != "customer"]


def _rate(people) -> float:
    return sum(p.outcome.converted for p in people) / len(people)


def _auc(scores: list[float], labels: list[bool]) -> float:
    """Probability that a random converter outranks a random non-converter (ties count half)."""
    positives = [s for s, y in zip(scores, labels, strict=True) if y]
    negatives = sorted(s for s, y in zip(scores, labels, strict=True) if not y)
    wins = sum((bisect_left(negatives, s) + bisect_right(negatives, s)) / 2 for s in positives)
    return wins / (len(positives) * len(negatives))


def test_same_seed_same_outcomes_and_another_seed_others():
    first, again = generate_people(300, 5, NOW), generate_people(300, 5, NOW)
    assert [p.outcome for p in first] == [p.outcome for p in again]
    other = generate_people(300, 6, NOW)
    assert [p.outcome.converted for p in first] != [p.outcome.converted for p in other]


def test_conversion_rises_with_fit(prospects):
    def props(p):
        return p.lead.properties

    buyers = [
        p for p in prospects if props(p)["job_title"] in SENIOR and 100 <= (props(p)["company_size"] or 0) <= 2000
    ]
    juniors = [p for p in prospects if props(p)["job_title"] in JUNIOR and (props(p)["company_size"] or 10**6) < 25]
    assert len(buyers) > 50 and len(juniors) > 50
    assert _rate(buyers) > 2 * _rate(juniors)
    free = [p for p in prospects if props(p)["email"].endswith(("@gmail.com", "@outlook.com", "@yahoo.com"))]
    business = [p for p in prospects if p.segment not in ("student", "competitor") and p not in free]
    assert _rate(business) > 1.3 * _rate(free)
    assert _rate([p for p in prospects if p.segment in ("student", "competitor")]) < 0.01


def test_conversion_rises_with_engagement_and_a_raised_hand(prospects):
    def raised(p):
        return any(a.type == "form_submission" and "demo" in (a.name or "").lower() for a in p.lead.activities)

    silent = [p for p in prospects if not p.lead.activities]
    demo = [p for p in prospects if raised(p)]
    assert len(silent) > 50 and len(demo) > 30
    assert _rate(demo) > 4 * _rate(silent)
    ordered = sorted(prospects, key=lambda p: p.outcome.probability)
    tenth = len(ordered) // 10
    assert _rate(ordered[-tenth:]) > 5 * _rate(ordered[:tenth])


def test_the_shipped_rules_find_part_of_the_signal_and_leave_some(prospects):
    rules = load_rules(DEFAULT_RULES).compiled
    labels = [p.outcome.converted for p in prospects]
    scores = []
    for person in prospects:
        ready = person.outcome.qualified_at  # the lead as it was when it was ready for sales
        properties = {**person.lead.properties, "lifecycle_stage": "lead"}
        activities = tuple(a for a in person.lead.activities if a.at <= ready)
        scores.append(score(Lead(person.lead.id, properties, activities), rules, ready).score)
    by_rules = _auc(scores, labels)
    ceiling = _auc([p.outcome.probability for p in prospects], labels)
    assert by_rules > 0.62  # the default rules are partly right
    assert ceiling > by_rules + 0.04  # and a learner has more to find


def test_outcome_timelines_are_in_order_and_never_in_the_future(prospects):
    converted = [p.outcome for p in prospects if p.outcome.converted]
    for outcome in converted:
        assert outcome.qualified_at < outcome.opportunity_at <= NOW
        assert outcome.opportunity_at < outcome.closes_at
        assert outcome.updated_at <= NOW
        assert (outcome.closes_at <= NOW) == outcome.closed
    kinds = Counter("open" if not o.closed else "won" if o.won else "lost" for o in converted)
    assert min(kinds.values()) > 20, kinds
    assert 0.05 < sum(o.amount is None for o in converted) / len(converted) < 0.3
    assert all(o.amount is None or o.amount > 0 for o in converted)


def test_people_who_became_opportunities_are_in_that_stage_and_owned_by_a_rep():
    people = generate_people(1500, 9, NOW)
    reps = {o.id for o in generate_owners(9) if o.kind == "person"}
    for person in people:
        stage = person.lead.properties["lifecycle_stage"]
        outcome = person.outcome
        if outcome.converted:
            assert stage == ("customer" if outcome.closed and outcome.won else "opportunity")
            assert person.lead.properties["owner_id"] in reps
        else:
            assert stage not in ("opportunity", "customer")
    assert all(p.outcome.converted and p.outcome.won for p in people if p.segment == "customer")


def test_both_sandboxes_plant_the_same_deals():
    hubspot = HubSpotSandbox(HubSpotConfig(contacts=500, seed=4), clock=ManualClock(NOW)).dump()
    salesforce = SalesforceSandbox(SalesforceConfig(contacts=500, seed=4), clock=ManualClock(NOW)).dump()
    deals, opportunities = hubspot["deals"], salesforce["Opportunity"]
    assert len(deals) == len(opportunities) > 20
    won = Counter(d["properties"]["hs_is_closed_won"] == "true" for d in deals)
    assert won == Counter(o["IsWon"] for o in opportunities)
    assert sorted(float(d["properties"].get("amount") or 0) for d in deals) == sorted(
        o["Amount"] or 0 for o in opportunities
    )
    pipelines = Counter(d["properties"]["pipeline"] for d in deals)
    assert pipelines["default"] and pipelines["705209413"]
    converted = [lead for lead in salesforce["Lead"] if lead["IsConverted"]]
    assert len(converted) == len(opportunities)
    assert {lead["ConvertedOpportunityId"] for lead in converted} == {o["Id"] for o in opportunities}
    accounts = {a["Id"] for a in salesforce["Account"]}
    assert len(accounts) < len(converted)  # some conversions went into an existing account
    for lead in converted:
        assert lead["ConvertedAccountId"] in accounts and lead["ConvertedDate"] <= "2026-11-20"


def test_a_hubspot_contact_with_a_deal_tells_when_it_entered_each_stage():
    app = HubSpotSandbox(HubSpotConfig(contacts=500, seed=4), clock=ManualClock(NOW))
    dump = app.dump()
    contacts = {c["id"]: c["properties"] for c in dump["contacts"]}
    for deal in dump["deals"]:
        (contact_id,) = deal["associations"]["contacts"]
        props, stamp = contacts[contact_id], deal["properties"]
        assert props["hs_lifecyclestage_lead_date"] <= props["hs_lifecyclestage_opportunity_date"]
        assert props["hs_lifecyclestage_opportunity_date"] == stamp["createdate"]
        assert stamp["createdate"] <= stamp["hs_lastmodifieddate"] <= "2026-11-20T12:00:00.000Z"
        if stamp["hs_is_closed_won"] == "true":
            assert props["lifecyclestage"] == "customer"
            assert props["hs_lifecyclestage_customer_date"] == stamp["closedate"]
        else:
            assert props["lifecyclestage"] == "opportunity"
        assert props["lastmodifieddate"] >= props["hs_lifecyclestage_opportunity_date"]


def test_synthetic_records_are_never_created_in_the_future():
    # meetings booked in the last day were once "created" a day ahead, at their start time
    now = "2026-11-20T12:00:00.000Z"
    booked_lately = 0
    for person in generate_people(3000, 3, NOW):
        rendered = render_person(person)
        for _kind, props in rendered.engagements:
            created = props.get("hs_createdate", props["hs_timestamp"])
            assert created <= now, (person.lead.id, props)
            if "hs_meeting_start_time" in props:
                booked_lately += props["hs_meeting_start_time"] > now
        if rendered.deal is not None:
            assert rendered.deal["createdate"] <= now and rendered.deal["hs_lastmodifieddate"] <= now
    assert booked_lately  # the case that went wrong is in the data
    org = SalesforceSandbox(SalesforceConfig(contacts=300, seed=3), clock=ManualClock(NOW)).dump()
    for kind in ("Lead", "Contact", "Account", "Opportunity", "Task", "Event", "CampaignMember"):
        assert all(parse_time(r["CreatedDate"].replace("+0000", "+00:00")) <= NOW for r in org[kind]), kind


def test_a_meeting_booked_through_the_control_api_is_created_when_booked(hubspot_sandbox):
    (cid,) = hubspot_sandbox.seed_contacts({"email": "ana@acme.io"})
    status, _ = hubspot_sandbox.control(
        "POST",
        "/_sandbox/activities",
        [{"contactId": cid, "type": "meeting_booked", "name": "Discovery", "at": "2026-11-20T11:00:00Z"}],
    )
    assert status == 201
    (meeting,) = hubspot_sandbox.app.dump()["meetings"]
    assert meeting["properties"]["hs_createdate"] == "2026-11-20T11:00:00.000Z"
    assert meeting["properties"]["hs_meeting_start_time"] == "2026-11-21T11:00:00.000Z"
