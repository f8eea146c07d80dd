"""The scoring core, one behaviour per test: each rule kind and the default B2B rules."""

from __future__ import annotations

import textwrap
from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime

import pytest
from builders import NOW, activity, default_rules, demo_request, form, lead, page_view, rules_from

from connector.model import MAX_COUNT, Activity, Qualification, Stage
from connector.scoring.engine import score

RULES = default_rules()


def run(*activities, rules=RULES, **properties):
    return score(lead(*activities, **properties), rules.compiled, NOW)


def fit_rules(rule_yaml: str, **properties):
    rules = rules_from(
        f"""
        lists: {{free_mail: [gmail.com, yahoo.com], rivals: [rival.io]}}
        fit:
          cap: 100
          rules:
            {rule_yaml}
        """
    )
    return run(rules=rules, **properties)


# ---------------------------------------------------------------- fit rules


@pytest.mark.parametrize(
    ("rule", "properties", "expected_fit"),
    [
        ("- {name: de, field: country, equals: DE, points: 7}", {"country": "de"}, 7),
        ("- {name: de, field: country, equals: DE, points: 7}", {"country": "FR"}, 0),
        ("- {name: ind, field: industry, one_of: [Software, SaaS], points: 5}", {"industry": "saas "}, 5),
        ("- {name: ind, field: industry, one_of: [Software, SaaS], points: 5}", {"industry": "Retail"}, 0),
        ("- {name: vp, field: job_title, matches: '\\bvp\\b', points: 20}", {"job_title": "VP Sales"}, 20),
        ("- {name: vp, field: job_title, matches: '\\bvp\\b', points: 20}", {"job_title": "MVP Coach"}, 0),
        ("- {name: mid, field: company_size, min: 50, max: 1000, points: 15}", {"company_size": "1,000"}, 15),
        ("- {name: mid, field: company_size, min: 50, max: 1000, points: 15}", {"company_size": 1001}, 0),
        ("- {name: mid, field: company_size, min: 50, max: 1000, points: 15}", {"company_size": "unknown"}, 0),
        ("- {name: free, domain_in: free_mail, points: -9}", {"email": "x@gmail.com"}, -9),
        ("- {name: free, domain_in: free_mail, points: -9}", {"email": "x@acme.io"}, 0),
        ("- {name: rival, domain_in: [rival.io], points: -3}", {"email": "x@eu.rival.io"}, -3),
        ("- {name: budget, field: budget, present: true, points: 4}", {"budget": "50k"}, 4),
        ("- {name: budget, field: budget, present: true, points: 4}", {"budget": "  "}, 0),
        ("- {name: no_phone, field: phone, present: false, points: -2}", {}, -2),
        ("- {name: not_de, field: country, not_equals: DE, points: 3}", {"country": "fr"}, 3),
        ("- {name: not_de, field: country, not_equals: DE, points: 3}", {"country": " de"}, 0),
        ("- {name: not_de, field: country, not_equals: DE, points: 3}", {"country": None}, 0),
        ("- {name: not_de, field: country, not_equals: DE, points: 3}", {"country": ""}, 0),
        ("- {name: ind, field: industry, none_of: [Retail, Education], points: 5}", {"industry": "SaaS"}, 5),
        ("- {name: ind, field: industry, none_of: [Retail, Education], points: 5}", {"industry": "retail"}, 0),
        ("- {name: ind, field: industry, none_of: [Retail, Education], points: 5}", {"industry": None}, 0),
        ("- {name: small, field: company_size, none_of: [1, 2], points: 5}", {"company_size": "2"}, 0),
        ("- {name: free, field: email, none_of: free_mail, points: 2}", {"email": "x@acme.io"}, 2),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_fit_operator_matches_as_documented(rule, properties, expected_fit):
    assert fit_rules(rule, **properties).fit == expected_fit


def test_fit_points_stop_at_the_cap_but_negative_points_still_count():
    rules = rules_from(
        """
        fit:
          cap: 30
          rules:
            - {name: a, field: country, equals: DE, points: 25}
            - {name: b, field: industry, equals: Software, points: 25}
            - {name: c, field: job_title, matches: intern, points: -10}
        """
    )
    assert run(rules=rules, job_title="Marketing Intern").fit == 20


@pytest.mark.parametrize(("points", "grade"), [(45, "A"), (40, "A"), (39, "B"), (25, "B"), (10, "C"), (9, "D")])
def test_grade_follows_the_fit_thresholds(points, grade):
    rules = rules_from(
        f"""
        fit:
          grades: {{A: 40, B: 25, C: 10}}
          rules: [{{name: p, field: country, equals: DE, points: {points}}}]
        """
    )
    assert run(rules=rules).grade == grade


def test_fit_reason_fills_in_the_value():
    q = run(job_title="VP Engineering")
    assert "VP-level title (VP Engineering)" in [r.text for r in q.reasons]


def test_missing_bant_answers_are_reported_so_the_rep_knows_what_to_ask():
    q = run(budget="120k", timeline=None, need=None)
    assert q.missing == ("need", "timeline")


# ---------------------------------------------------------- engagement rules

ENGAGEMENT = """
engagement:
  half_life_days: 10
  cap: 50
  rules:
    - {name: pricing, type: page_view, url_contains: /pricing, points: 5, cap: 12, reason: "{count} pricing view{s}, {when}"}
    - {name: pages, type: page_view, points: 1}
    - {name: webinar, type: webinar_attendance, name_matches: 'forecast', points: 10, half_life_days: 1000}
    - {name: big, type: email_click, points: 30}
"""


def engaged(*activities):
    return run(*activities, rules=rules_from(ENGAGEMENT))


def test_points_are_earned_per_occurrence_and_count_carries_occurrences():
    assert engaged(page_view("/pricing", 0, count=2)).engagement == 10


def test_a_rule_cap_limits_its_points():
    assert engaged(page_view("/pricing", 0, count=5)).engagement == 12


def test_points_halve_every_half_life():
    assert engaged(page_view("/pricing", 10)).engagement == round(5 / 2)
    assert engaged(page_view("/about", 20, count=8)).engagement == 2


def test_a_rule_can_override_the_half_life():
    assert engaged(activity("webinar_attendance", 10, name="Forecasting Live")).engagement == 10


def test_conditions_restrict_which_activities_a_rule_counts():
    assert engaged(activity("webinar_attendance", 0, name="Hiring 101")).engagement == 0


def test_the_first_matching_rule_scores_an_activity():
    q = engaged(page_view("/pricing", 0))
    assert q.engagement == 5
    assert [r.text for r in q.reasons if r.kind == "engagement"] == ["1 pricing view, just now"]


def test_total_engagement_stops_at_its_cap():
    assert engaged(activity("email_click", 0, count=3)).engagement == 50


def test_activity_dated_in_the_future_counts_as_now_not_more():
    assert engaged(page_view("/pricing", -3)).engagement == 5


def test_reasons_are_ordered_by_contribution():
    q = engaged(page_view("/pricing", 0, count=2), page_view("/about", 0))
    points = [r.points for r in q.reasons]
    assert points == sorted(points, key=abs, reverse=True)


# ------------------------------------------------------------------ signals


def test_demo_request_fast_tracks_to_sql():
    q = run(demo_request(days_ago=2), job_title="Analyst", company_size=None, industry=None, country=None)
    assert q.stage is Stage.SQL
    assert q.signals == ("demo_request",)
    assert q.reasons[0].text == "Requested a demo 2 days ago"


def test_a_signal_outside_its_window_does_not_fire():
    q = run(demo_request(days_ago=45))
    assert "demo_request" not in q.signals


def test_pricing_signal_needs_enough_views_in_its_window():
    assert "pricing_interest" not in run(page_view("/pricing", 1), page_view("/pricing", 2)).signals
    q = run(page_view("/pricing", 1), page_view("/pricing", 2), page_view("/pricing", 3))
    assert "pricing_interest" in q.signals
    assert "3 pricing-page views this week" in [r.text for r in q.reasons]


def test_pricing_signal_ignores_views_older_than_its_window():
    q = run(page_view("/pricing", 1), page_view("/pricing", 2), page_view("/pricing", 9))
    assert "pricing_interest" not in q.signals


def test_signal_with_min_grade_ignores_poor_fits():
    q = run(
        page_view("/pricing", 1, count=4),
        email="tom@gmail.com",
        job_title="Freelancer",
        company_size=1,
        industry="Consulting",
        country="BR",
    )
    assert q.grade == "D"
    assert "pricing_interest" not in q.signals
    assert q.stage is Stage.LEAD


@pytest.mark.parametrize(
    ("act", "signal"),
    [
        (activity("trial_signup", 3), "trial_signup"),
        (activity("meeting_booked", 1), "meeting_booked"),
        (form("Contact sales", 0), "contact_sales"),
        (activity("chat", 0, name="Talk to sales"), "contact_sales"),
        (activity("cart_add", 2), "cart_add"),
    ],
)
def test_buying_signals_make_an_sql_and_name_themselves(act, signal):
    q = run(act, job_title="Analyst", company_size=None)
    assert signal in q.signals
    assert q.stage is Stage.SQL


def test_a_signal_and_the_engagement_for_the_same_form_make_one_reason():
    texts = [r.text for r in run(demo_request(2)).reasons]
    assert texts.count("Requested a demo 2 days ago") == 1
    assert not any("Request a demo" in t for t in texts)


# ------------------------------------------------ negatives and disqualifiers


def test_free_mail_scores_down_with_its_domain_named():
    q = run(email="ana@gmail.com")
    assert "Personal email address (gmail.com)" in [r.text for r in q.reasons]
    assert q.fit == run().fit - 15


def test_negative_activity_rule_lowers_engagement_with_a_floor():
    q = run(page_view("/careers", 0, count=10))
    assert q.engagement == -15


@pytest.mark.parametrize(
    ("properties", "activities", "reason"),
    [
        ({"email": "o@rivalcrm.com"}, [], "Works at a competitor (rivalcrm.com)"),
        ({"email": "o@sales.rivalcrm.com"}, [], "Works at a competitor (sales.rivalcrm.com)"),
        ({"job_title": "Student"}, [], "Job title says student (Student)"),
        ({"email": "mia@stanford.edu"}, [], "Student email address (stanford.edu)"),
        ({}, [activity("unsubscribe", 5)], "Unsubscribed from all email 5 days ago"),
    ],
)
def test_disqualified_leads_stay_leads_with_the_reason_first(properties, activities, reason):
    q = run(demo_request(1), *activities, **properties)
    assert q.disqualified
    assert q.disqualified_reason == reason
    assert q.stage is Stage.LEAD and q.hold_stage is Stage.LEAD
    assert q.reasons[0].text == reason


# -------------------------------------------------------------- thresholds

THRESHOLDS = """
fit:
  rules: [{name: fit, field: country, equals: DE, points: 30}]
engagement:
  rules: [{name: clicks, type: email_click, points: 1, half_life_days: 100000}]
thresholds: {mql: 40, mql_min_grade: C, sql: 75, sql_min_grade: B, hysteresis: 5}
"""


@pytest.mark.parametrize(
    ("clicks", "stage", "hold"),
    [
        (9, Stage.LEAD, Stage.MQL),  # 39: below MQL, but within the margin
        (10, Stage.MQL, Stage.MQL),  # 40
        (44, Stage.MQL, Stage.SQL),  # 74: within the SQL margin
        (45, Stage.SQL, Stage.SQL),  # 75
        (4, Stage.LEAD, Stage.LEAD),  # 34: below the margin
    ],
)
def test_score_thresholds_set_the_level_and_the_hold_level(clicks, stage, hold):
    q = run(activity("email_click", 0, count=clicks), rules=rules_from(THRESHOLDS))
    assert (q.stage, q.hold_stage) == (stage, hold)


NEGATIVE_TOTALS = """
fit:
  rules: [{name: intern, field: job_title, matches: intern, points: -30}]
negative:
  - {name: careers, type: page_view, url_contains: /careers, points: -5, cap: -40, half_life_days: 100000}
"""


def test_without_a_floor_totals_go_below_zero_and_keep_their_order():
    rules = rules_from(NEGATIVE_TOTALS)
    worse = run(page_view("/careers", 0, count=4), rules=rules, job_title="Intern")
    bad = run(rules=rules, job_title="Intern")
    assert (worse.score, worse.fit, worse.engagement) == (-50, -30, -20)
    assert bad.score == -30
    assert worse.stage is bad.stage is Stage.LEAD


def test_a_negative_total_ranks_below_a_zero_total():
    rules = rules_from(NEGATIVE_TOTALS)
    poor, plain = run(rules=rules, job_title="Intern"), run(rules=rules, job_title="Engineer")
    assert poor.score < plain.score == 0


def test_a_floor_keeps_totals_from_going_below_it():
    rules = rules_from(NEGATIVE_TOTALS + "thresholds: {floor: -40}")
    assert run(page_view("/careers", 0, count=4), rules=rules, job_title="Intern").score == -40
    assert run(rules=rules, job_title="Intern").score == -30


def test_the_default_rules_keep_scores_at_zero_or_above():
    assert run(page_view("/careers", 0, count=10), email="x@gmail.com", job_title="Intern").score == 0


def test_sql_by_score_needs_the_minimum_grade():
    rules = rules_from(THRESHOLDS.replace("points: 30}", "points: 5}").replace("points: 1,", "points: 80,"))
    q = run(activity("email_click", 0), rules=rules)
    assert q.score >= 75 and q.grade == "D"
    assert q.stage is Stage.LEAD


# ----------------------------------------------------------------- version


def test_declared_version_is_stamped_on_every_result():
    assert run().rules_version == "2026.11-b2b-saas-1"


def test_without_a_version_the_result_carries_a_hash_of_the_file():
    a = rules_from("thresholds: {mql: 40}")
    b = rules_from("thresholds: {mql: 41}")
    assert a.version.startswith("sha-") and a.version != b.version
    assert rules_from("thresholds: {mql: 40}").version == a.version


def test_interests_list_what_they_engaged_with_most_recent_first():
    q = run(
        activity("content_download", 5, name="Playbook"),
        activity("webinar_attendance", 1, name="Forecasting Live"),
        activity("content_download", 9, name="Playbook"),
    )
    assert q.interests == ("Forecasting Live", "Playbook")


def test_a_perfect_fit_without_engagement_is_not_an_mql():
    q = run(job_title="CTO", budget="100k", timeline="this quarter")
    assert q.score >= 40 and q.grade == "A"
    assert q.stage is Stage.LEAD


def test_equals_true_matches_checkboxes_as_crms_send_them_but_not_the_number_one():
    rules = rules_from("fit: {rules: [{name: flag, field: opted_in, equals: true, points: 7}]}")
    assert run(rules=rules, opted_in=True).fit == 7
    assert run(rules=rules, opted_in="true").fit == 7  # HubSpot's wire format
    assert run(rules=rules, opted_in=1).fit == 0
    assert run(rules=rules, opted_in="false").fit == 0
    assert run(rules=rules, opted_in=True).fit == 7  # a cached answer for 1 must not leak to True


# ------------------------------------------------------------ scorecard rules


def carded(*activities, scorecard: str, **properties):
    """Score with a fit rule worth 10 (the fit cap) and the given scorecard rules."""
    fit = "fit:\n  cap: 10\n  rules: [{name: de, field: country, equals: DE, points: 10}]\n"
    cards = textwrap.indent(textwrap.dedent(scorecard).strip("\n") + "\n", "  ")
    return run(*activities, rules=rules_from(fit + "scorecard:\n" + cards), **properties)


def test_a_scorecard_property_condition_adds_to_fit_beyond_the_fit_cap():
    q = carded(scorecard="- {name: not_retail, field: industry, not_equals: Retail, points: 5}", industry="SaaS")
    assert q.fit == 15
    assert "Not retail (SaaS)" in texts(q)
    assert carded(scorecard="- {name: not_retail, field: industry, not_equals: Retail, points: 5}").fit == 15
    assert (
        carded(scorecard="- {name: not_retail, field: industry, not_equals: Retail, points: 5}", industry=None).fit
        == 10
    )


def test_scorecard_fit_points_move_the_grade():
    card = "- {name: senior, field: job_title, matches: vp, points: 30}"
    assert carded(scorecard=card).grade == "A"  # 10 + 30
    assert carded(scorecard=card, job_title="Analyst").grade == "C"  # 10


SILENT = "- {name: silent, type: email_open, max_count: 0, within_days: 90, points: -10}"


@pytest.mark.parametrize(("opens", "engagement"), [((), -10), ((100,), -10), ((10,), 0)], ids=["none", "old", "recent"])
def test_an_activity_band_adds_its_points_once_when_the_count_in_its_window_is_in_the_band(opens, engagement):
    q = carded(*(activity("email_open", days) for days in opens), scorecard=SILENT)
    assert q.engagement == engagement


def test_a_band_with_none_counted_says_so_in_its_reason():
    assert texts(carded(scorecard=SILENT)) == ["De (DE)", "Silent: 0 in the last 90 days"]


BROWSING = """
- name: browsing
  type: page_view
  min_count: 2
  max_count: 5
  within_days: 14
  points: 7
  reason: "{count} page view{s} {window}, latest {ago}"
"""


@pytest.mark.parametrize(("views", "points"), [(1, 0), (2, 7), (5, 7), (6, 0)])
def test_a_band_counts_occurrences_and_neither_decays_nor_adds_per_activity(views, points):
    q = carded(page_view("/pricing", 10, count=views - 1), page_view("/about", 12), scorecard=BROWSING)
    assert q.engagement == points


def test_a_band_reason_names_the_count_the_window_and_the_latest_activity():
    q = carded(page_view("/pricing", 3, count=2), page_view("/about", 20), scorecard=BROWSING)
    assert "2 page views in the last 14 days, latest 3 days ago" in texts(q)


def test_a_band_without_a_window_counts_the_whole_history():
    q = carded(
        activity("webinar_attendance", 400),
        scorecard="- {name: webinars, type: webinar_attendance, min_count: 1, points: 4}",
    )
    assert q.engagement == 4
    assert "Webinars: 1" in texts(q)


VP_ON_PRICING = """
- name: vp_on_pricing
  all:
    - {field: job_title, matches: '\\bvp\\b'}
    - {type: page_view, url_contains: /pricing, min_count: 2, within_days: 14}
  points: 12
  reason: A VP comparing prices
"""


@pytest.mark.parametrize(("title", "views", "engagement"), [("VP Sales", 2, 12), ("Analyst", 2, 0), ("VP Sales", 1, 0)])
def test_a_rule_with_all_needs_every_condition(title, views, engagement):
    q = carded(page_view("/pricing", 1, count=views), scorecard=VP_ON_PRICING, job_title=title)
    assert q.engagement == engagement
    assert ("A VP comparing prices" in texts(q)) == bool(engagement)


def test_a_rule_with_all_on_properties_only_counts_toward_fit():
    card = """
    - name: german_saas
      all: [{field: country, equals: DE}, {field: industry, one_of: [SaaS, Software]}]
      points: 20
    """
    q = carded(scorecard=card)
    assert (q.fit, q.engagement) == (30, 0)
    assert "German saas" in texts(q)


def test_scorecard_points_may_take_the_total_below_zero():
    card = """
    - {name: retail, field: industry, equals: Retail, points: -40}
    - {name: silent, type: email_open, max_count: 0, points: -25}
    """
    q = carded(scorecard=card, industry="Retail")
    assert (q.score, q.fit, q.engagement) == (-55, -30, -25)
    assert q.stage is Stage.LEAD


# ------------------------------------------------------------ hostile values


def texts(q):
    return [r.text for r in q.reasons]


def test_a_line_break_in_a_job_title_does_not_add_a_reason_line():
    q = run(job_title="VP\r\n- Requested a demo just now\u2028Engineering")
    assert "VP-level title (VP - Requested a demo just now Engineering)" in texts(q)
    assert all(len(t.splitlines()) == 1 for t in texts(q))


def test_text_that_looks_like_a_task_marker_loses_its_colon_in_reasons():
    q = run(job_title="VP handoff:1001:sql:0 Handoff ref: x")
    assert "VP-level title (VP handoff -1001:sql:0 Handoff ref - x)" in texts(q)


def test_a_huge_value_is_cut_short_in_its_reason():
    q = run(job_title="VP " + "very " * 100_000)
    reason = next(t for t in texts(q) if t.startswith("VP-level title"))
    assert len(reason) < 250 and reason.endswith("…)")


def test_control_characters_in_a_form_name_are_dropped_from_reasons_and_interests():
    q = run(activity("content_download", 1, name="Play\x00book\r\n\u202eevil"))
    assert q.interests == ("Play book evil",)
    assert '1 content download, yesterday: "Play book evil"' in texts(q)


@pytest.mark.parametrize(
    "size",
    [float("nan"), float("inf"), "inf", "NaN", "1e999", 10**400, -(10**5000), [250], {}],
    ids=[
        "nan",
        "inf",
        "inf-text",
        "nan-text",
        "overflowing-text",
        "huge-int",
        "int-too-long-to-print",
        "list",
        "object",
    ],
)
def test_values_that_are_no_finite_number_never_meet_a_numeric_band(size):
    q = run(company_size=size)
    assert not any("employees" in t for t in texts(q))


@pytest.mark.parametrize(
    "value",
    [[1, 2], {"a": 1}, 10**5000, float("nan"), "\ud800"],
    ids=["list", "object", "int-too-long-to-print", "nan", "lone-surrogate"],
)
def test_any_json_value_in_a_property_scores_without_error(value):
    q = run(**dict.fromkeys(("email", "job_title", "industry", "country", "budget", "timeline"), value))
    assert q.grade in "ABCD"


def test_a_count_too_large_for_a_float_counts_as_a_very_large_count():
    q = run(activity("email_click", 0, count=10**400))
    assert q.engagement == 15  # the rule's cap
    assert f"Clicked {MAX_COUNT} marketing emails, latest just now" in texts(q)


@pytest.mark.parametrize("year", [1, 1970, 9999])
def test_activities_dated_far_in_the_past_or_future_score(year):
    q = score(
        lead(Activity("form_submission", datetime(year, 6, 1, tzinfo=UTC), name="Request a demo")), RULES.compiled, NOW
    )
    assert ("demo_request" in q.signals) == (year == 9999)


def test_an_activity_dated_in_the_future_counts_as_now_so_its_points_do_not_grow():
    later = score(lead(activity("email_click", -3650)), RULES.compiled, NOW)
    now = score(lead(activity("email_click", 0)), RULES.compiled, NOW)
    assert later.engagement == now.engagement == 3
    assert texts(later) == texts(now)


def test_an_activity_without_a_time_zone_is_read_as_utc():
    naive = Activity("email_click", datetime(2026, 11, 18, 9, 0))
    assert naive.at == datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    assert (
        score(lead(naive), RULES.compiled, NOW).reasons
        == score(lead(activity("email_click", hours_ago=1)), RULES.compiled, NOW).reasons
    )


# ------------------------------------------------------------ rules fired


def test_every_rule_that_played_a_part_is_named_not_only_the_signals():
    q = run(demo_request(1), page_view("/careers", 2), email="ana@gmail.com")
    assert {"vp_title", "mid_market", "target_industry", "free_mail", "demo_request", "job_seeker"} <= set(
        q.rules_fired
    )
    assert "executive_title" not in q.rules_fired
    assert len(set(q.rules_fired)) == len(q.rules_fired)


def test_disqualifiers_and_scorecard_rules_are_named_when_they_hold():
    assert "student" in run(job_title="Student").rules_fired
    assert "silent" in carded(scorecard=SILENT).rules_fired
    assert "silent" not in carded(activity("email_open", 10), scorecard=SILENT).rules_fired


def test_a_lead_nothing_matches_names_no_rule():
    assert run(job_title=None, company_size=None, industry=None, country=None).rules_fired == ()


def test_the_fast_qualification_builder_sets_every_field_as_the_constructor_does():
    q = score(
        lead(demo_request(), page_view("/pricing"), job_title="VP Sales", email="a@acme.io"),
        default_rules().compiled,
        NOW,
    )
    values = [getattr(q, f.name) for f in fields(Qualification)]
    built = Qualification.of(*values)
    assert built == Qualification(*values) == q
    assert [getattr(built, f.name) for f in fields(Qualification)] == values
    with pytest.raises(FrozenInstanceError):
        built.score = 0  # type: ignore[misc]
