"""Candidate conditions come from the data: values, bands, missing-ness, activity counts, and the current rules."""

from __future__ import annotations

from builders import NOW, activity, default_rules
from labelled_courses import course_leads

from connector.learning.candidates import CandidateOptions, find_candidates
from connector.learning.conditions import ActivityCondition, PropertyCondition
from connector.learning.features import evaluate
from connector.learning.labelled import labelled_from_json
from connector.model import Lead


def leads_of(n: int = 600) -> list[Lead]:
    return [labelled_from_json(o).lead for o in course_leads(n)]


def by_name(found):
    return {c.name: c for c in found.conditions}


def test_each_value_enough_leads_share_becomes_an_equals_condition_with_plain_words():
    found = by_name(find_candidates(leads_of(), NOW))
    pro = found["occupation_working_professional"]
    assert isinstance(pro, PropertyCondition)
    assert pro.test == {"field": "occupation", "equals": "Working Professional"}
    assert pro.reason == "Occupation: Working Professional"
    assert "lead_origin_lead_add_form" in found


def test_a_rare_value_is_no_candidate():
    leads = leads_of(400)
    leads.append(Lead("rare", {"occupation": "Astronaut"}))
    assert not any("astronaut" in name for name in by_name(find_candidates(leads, NOW)))


def test_numbers_are_cut_into_bands_that_cover_every_value_once():
    leads = leads_of()
    found = find_candidates(leads, NOW, options=CandidateOptions(bands=4, min_support=0, min_leads=1))
    bands = [
        c for c in found.conditions if isinstance(c, PropertyCondition) and c.field == "total_time_on_website_minutes"
    ]
    assert len(bands) >= 3
    assert bands[0].test.get("min") is None and "max" in bands[0].test  # "under ..."
    assert bands[-1].test.get("max") is None and "min" in bands[-1].test  # "... or more"
    assert bands[-1].reason.startswith("Total time on website minutes ") and bands[-1].reason.endswith(
        " or more ({value})"
    )
    held = evaluate(bands, leads, NOW)
    has_minutes = [lead.properties.get("total_time_on_website_minutes") is not None for lead in leads]
    assert (held.sum(axis=1) == has_minutes).all()


def test_a_property_often_missing_gets_a_missing_condition():
    leads = [Lead(str(i), {"budget": "50k" if i % 3 else None}) for i in range(300)]
    found = by_name(find_candidates(leads, NOW))
    assert found["budget_missing"].test == {"field": "budget", "present": False}
    assert found["budget_missing"].reason == "Budget not given"


def test_a_constant_property_is_reported_and_left_out():
    leads = [Lead(str(i), {"country": "IN", "occupation": "Student" if i % 2 else "Unemployed"}) for i in range(100)]
    found = find_candidates(leads, NOW)
    assert "property country has the same value on every lead: no rule can use it" in found.warnings
    assert not any(c.name.startswith("country") for c in found.conditions)


def test_who_the_person_is_and_what_the_crm_recorded_are_never_candidates():
    leads = [
        Lead(str(i), {"email": "same@acme.io", "lead_status": "CONNECTED" if i % 2 else "NEW", "company": "Acme"})
        for i in range(100)
    ]
    assert find_candidates(leads, NOW).conditions == []


def test_activity_counts_within_windows_become_at_least_k_conditions():
    leads = [
        Lead(str(i), {}, (activity("site_visit", days_ago=i % 40, count=1 + i % 6),) if i % 4 else ())
        for i in range(400)
    ]
    found = [c for c in find_candidates(leads, NOW).conditions if isinstance(c, ActivityCondition)]
    assert {c.within_days for c in found} == {7, 30, 90, 365}
    one = next(c for c in found if c.name == "site_visit_1_plus_30d")
    assert (one.match, one.min_count, one.max_count) == ({"type": "site_visit"}, 1, None)
    assert one.reason == "{count} website visit{s} {window}"
    assert any(c.min_count > 1 for c in found)


def test_the_current_rules_are_candidates_under_their_own_names():
    rules = default_rules()
    found = by_name(find_candidates(leads_of(200), NOW, rules.file, reserved=["demo_request"]))
    assert found["vp_title"].origin == "fit"
    assert found["vp_title"].reason == "VP-level title ({value})"
    assert found["free_mail"].origin == "negative"
    assert "demo_request" not in found  # a kept signal's name is taken
