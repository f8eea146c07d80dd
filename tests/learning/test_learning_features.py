"""Conditions mean what the scoring engine says they mean: the learner and `handoff score` agree."""

from __future__ import annotations

import numpy as np
import pytest
from builders import NOW, activity, default_rules, lead, page_view, rules_from

from connector.learning.conditions import ActivityCondition, PropertyCondition, rule_conditions
from connector.learning.features import evaluate
from connector.sandbox.synthetic import generate_people
from connector.scoring import score


def test_fired_fit_and_negative_rules_add_up_to_the_engines_fit():
    rules = default_rules()
    people = [p.lead for p in generate_people(400, seed=5, now=NOW)]
    conditions = rule_conditions(rules.file)
    fired = evaluate(conditions, people, NOW, rules.file.lists)
    points = {r.name: r.points for r in [*rules.file.fit.rules, *rules.file.negative]}
    cap = rules.file.fit.cap
    for row, person in zip(fired, people, strict=True):
        hits = [
            c.name
            for c, held in zip(conditions, row, strict=True)
            if held and isinstance(c, PropertyCondition) and c.origin in ("fit", "negative")
        ]
        positive = sum(points[n] for n in hits if points[n] > 0)
        negative = sum(points[n] for n in hits if points[n] < 0)
        assert round(min(positive, cap) + negative) == score(person, rules.compiled, NOW).fit, person.id


def test_an_engagement_rule_fires_only_for_the_activities_it_scores():
    rules = default_rules()
    conditions = rule_conditions(rules.file)
    names = [c.name for c in conditions]
    pricing, blog = lead(page_view("/pricing", 1), id="a"), lead(page_view("/blog/post", 1), id="b")
    fired = evaluate(conditions, [pricing, blog], NOW, rules.file.lists)
    # the first matching rule scores an activity: a pricing page is not one of the "other pages"
    assert fired[0, names.index("pricing_page")] and not fired[0, names.index("other_pages")]
    assert fired[1, names.index("other_pages")] and not fired[1, names.index("pricing_page")]


def test_activity_counts_add_up_within_the_window_and_fall_in_the_band():
    visits = lead(
        activity("site_visit", 2, count=2), activity("site_visit", 5), activity("site_visit", 20, count=5), id="v"
    )
    week = {"type": "site_visit"}
    conditions = [
        ActivityCondition("three_this_week", week, "-", within_days=7, min_count=3),
        ActivityCondition("at_most_two_this_week", week, "-", within_days=7, min_count=0, max_count=2),
        ActivityCondition("eight_ever", week, "-", min_count=8),
        ActivityCondition("nine_ever", week, "-", min_count=9),
    ]
    assert evaluate(conditions, [visits], NOW).tolist() == [[True, False, True, False]]


def test_property_tests_follow_the_engines_reading_of_values():
    conditions = [
        PropertyCondition("pro", {"field": "occupation", "equals": "working professional"}, "-"),
        PropertyCondition("long_visit", {"field": "minutes", "min": 15}, "-"),
        PropertyCondition("no_minutes", {"field": "minutes", "present": False}, "-"),
        PropertyCondition("free_mail", {"domain_in": ["gmail.com"]}, "-"),
    ]
    leads = [
        lead(id="1", occupation=" Working Professional ", minutes="16", email="a@gmail.com"),
        lead(id="2", occupation="Student", minutes=None, email="b@mail.gmail.com"),
        lead(id="3", occupation=None, minutes=3, email="c@acme.io"),
    ]
    assert evaluate(conditions, leads, NOW).tolist() == [
        [True, True, False, True],
        [False, False, True, True],  # a subdomain of a listed domain counts, as in the engine
        [False, False, False, False],
    ]


SCORECARD = """
    thresholds: {mql: 10, sql: 20}
    scorecard:
      - {name: pro, field: occupation, equals: Working Professional, points: 12}
      - {name: not_student, field: occupation, not_equals: Student, points: 2}
      - {name: long_visit, field: minutes, min: 15, points: 7}
      - {name: browsing, type: page_view, min_count: 3, max_count: 10, within_days: 14, points: 6}
      - {name: gone_quiet, type: [email_open, email_click], max_count: 0, within_days: 90, points: -9}
      - {name: ever_called, type: call, min_count: 1, points: 4}
      - name: pro_pricing
        all:
          - {field: occupation, equals: Working Professional}
          - {type: page_view, url_contains: /pricing, min_count: 2, within_days: 7}
        points: 5
"""


def test_scorecard_rules_hold_exactly_where_the_engine_gives_their_points():
    rules = rules_from(SCORECARD)
    conditions = rule_conditions(rules.file)
    points = np.array([rule.points for rule in rules.file.scorecard])
    assert [c.name for c in conditions] == [rule.name for rule in rules.file.scorecard]
    leads = [
        lead(page_view("/pricing", 1, count=2), page_view("/blog", 3), id="a", occupation="Working Professional"),
        lead(page_view("/pricing", 20, count=5), activity("email_open", 95), id="b", occupation="Student", minutes=15),
        lead(page_view("/docs", 14, count=11), activity("call", 300), id="c", occupation=None, minutes="14.9"),
        lead(activity("email_click", 89), page_view("/pricing", 6), page_view("/pricing", 8), id="d", minutes=40),
        lead(page_view("/x", 14, count=3), activity("email_open", 90), id="e"),  # both on a window's edge
    ]
    held = evaluate(conditions, leads, NOW, rules.file.lists)
    assert held.astype(int) @ points == pytest.approx([score(x, rules.compiled, NOW).score for x in leads])
    assert held[:, -1].tolist() == [True, False, False, False, False]  # all: both parts, for the first lead only
