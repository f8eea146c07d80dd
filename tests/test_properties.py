"""Properties of the scoring core and the lifecycle policy that hold for any lead and any history.

Leads, activities and CRM histories are generated; every timestamp is relative
to the fixed ``NOW`` of the builders. The number of examples comes from the
active hypothesis profile (hypothesis' default of 100 keeps this file at a few
seconds); a profile registered in conftest.py and chosen with
``--hypothesis-profile`` runs more.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import yaml
from builders import DEFAULT_RULES, GOOD_FIT, NOW, activity, default_rules, memories, rules_from
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from connector.config.ruleset import load_rules
from connector.model import ACTIVITY_TYPES, Activity, CrmState, Lead, Memory, Stage
from connector.policy.lifecycle import decide, evaluate, task_key
from connector.scoring import CompiledRules, score

#: example count from the active profile; no deadline, as CI machines vary
PROPERTY = settings(deadline=None)

RULESET = default_rules()
RULES = RULESET.compiled
POLICY = RULESET.policy
#: the same file loaded a second time: new predicates, same results
RELOADED = default_rules().compiled
DAY = 86400

# ------------------------------------------------------------------ strategies

URL_PATHS = (
    "/",
    "/pricing",
    "/pricing/enterprise",
    "/product",
    "/features/scoring",
    "/integrations/hubspot",
    "/security",
    "/customers",
    "/blog/lead-scoring",
    "/docs/api",
    "/about",
    "/careers",
    "/careers/sdr",
)
NAMES = (
    "Request a demo",
    "Book a demo",
    "Contact sales",
    "Talk to sales",
    "Get a quote",
    "Pricing calculator",
    "Lead Scoring Playbook",
    "RevOps 2026",
    "Weekly newsletter",
    "Event signup",
    "Partner application",
)

urls = st.sampled_from(URL_PATHS).map(lambda path: "https://vendor.example" + path)
names = st.sampled_from(NAMES) | st.text(max_size=20)
#: from two days in the future (a skewed clock) to 400 days ago
moments = st.integers(-2 * DAY, 400 * DAY).map(lambda seconds: NOW - timedelta(seconds=seconds))


def activities(types: st.SearchStrategy[str] = st.sampled_from(sorted(ACTIVITY_TYPES))) -> st.SearchStrategy[Activity]:
    return st.builds(
        Activity, type=types, at=moments, count=st.integers(0, 5), name=st.none() | names, url=st.none() | urls
    )


properties = st.fixed_dictionaries(
    {},
    optional={
        "email": st.sampled_from(
            ["ana@acme.io", "bo@gmail.com", "cy@mail.rivalcrm.com", "di@uni.edu", "ed@ox.ac.uk", "no-at-sign", ""]
        ),
        "job_title": st.sampled_from(
            [
                "VP Engineering",
                "CEO",
                "Head of Sales",
                "Marketing Manager",
                "Intern",
                "PhD candidate",
                "Executive Assistant",
                "",
            ]
        )
        | st.text(max_size=15),
        "company_size": st.integers(0, 20000) | st.sampled_from(["250", "1,200", "unknown", ""]),
        "industry": st.sampled_from(["Software", "SaaS", "Logistics", "Retail", ""]),
        "country": st.sampled_from(["DE", "US", "NO", "BR", ""]),
        "budget": st.none() | st.sampled_from(["50k", ""]),
        "need": st.none() | st.just("replace spreadsheets"),
        "timeline": st.none() | st.sampled_from(["this quarter", "next year", "ASAP"]),
    },
)

leads = st.builds(
    Lead, id=st.just("1001"), properties=properties, activities=st.lists(activities(), max_size=25).map(tuple)
)


def is_positive(activity: Activity, rules: CompiledRules) -> bool:
    """No negative rule, disqualifier or negative-points rule of ``rules`` matches the activity."""
    route = rules.route(activity)
    return (
        not route.negatives
        and route.disqualifier is None
        and (route.engagement is None or route.engagement.points >= 0)
        and all(signal.points >= 0 for signal in rules.signals if signal in route.windowed)
    )


def with_activity(lead: Lead, activity: Activity, position: int = 0) -> Lead:
    position = min(position, len(lead.activities))
    return replace(lead, activities=(*lead.activities[:position], activity, *lead.activities[position:]))


# ------------------------------------------------------------ determinism


@PROPERTY
@given(lead=leads)
def test_scoring_the_same_lead_twice_gives_the_same_qualification(lead):
    assert score(lead, RULES, NOW) == score(lead, RULES, NOW)
    assert score(lead, RELOADED, NOW) == score(lead, RULES, NOW)


def reversed_activities(lead: Lead) -> Lead:
    return replace(lead, activities=lead.activities[::-1])


@PROPERTY
@given(lead=leads)
def test_the_order_of_activities_does_not_change_the_numbers(lead):
    def numbers(q):
        return q.score, q.fit, q.engagement, q.grade, q.stage, q.hold_stage, q.disqualified, q.signals

    assert numbers(score(reversed_activities(lead), RULES, NOW)) == numbers(score(lead, RULES, NOW))


@pytest.mark.parametrize(
    "history",
    [
        (activity("unsubscribe", 10), activity("unsubscribe", 2)),
        (activity("content_download", 2, name="Playbook A"), activity("content_download", 2, name="Playbook B")),
    ],
    ids=["two-unsubscribes", "two-downloads-at-the-same-time"],
)
def test_the_order_of_activities_does_not_change_the_reasons(history):
    """An adapter may list the same activities in another order on the next cycle; the words must not change."""
    the_lead = Lead("1001", GOOD_FIT, history)
    assert score(reversed_activities(the_lead), RULES, NOW) == score(the_lead, RULES, NOW)


@st.composite
def rules_documents(draw) -> dict:
    """A small valid rules file with random points and caps; each reason starts with its rule's name."""
    fit_fields = draw(
        st.lists(
            st.sampled_from(["email", "job_title", "company_size", "industry", "country"]), max_size=5, unique=True
        )
    )
    types = draw(
        st.lists(st.sampled_from(sorted(ACTIVITY_TYPES - {"unsubscribe"})), min_size=1, max_size=6, unique=True)
    )
    engagement_rules = []
    for kind in types:
        rule = {"name": f"e_{kind}", "type": kind, "points": draw(st.integers(0, 30)), "reason": f"e_{kind}: {{count}}"}
        if cap := draw(st.none() | st.integers(1, 40)):
            rule["cap"] = cap
        if half_life := draw(st.none() | st.integers(1, 365)):
            rule["half_life_days"] = half_life
        engagement_rules.append(rule)
    return {
        "fit": {
            "cap": draw(st.integers(1, 80)),
            "rules": [
                {"name": f"f_{name}", "field": name, "present": True, "points": draw(st.integers(-20, 40))}
                for name in fit_fields
            ],
        },
        "engagement": {
            "cap": draw(st.integers(1, 100)),
            "half_life_days": draw(st.integers(1, 365)),
            "rules": engagement_rules,
        },
        "negative": [
            {
                "name": "n_careers",
                "type": "page_view",
                "url_contains": "/careers",
                "points": draw(st.integers(-20, -1)),
                "cap": draw(st.integers(-40, -1)),
                "reason": "n_careers: {count}",
            }
        ],
    }


@PROPERTY
@given(document=rules_documents(), lead=leads)
def test_loading_the_same_rules_twice_gives_the_same_version_and_scores(document, lead):
    text = yaml.safe_dump(document)
    first, second = rules_from(text), rules_from(text)
    assert first.version == second.version
    assert first.version.startswith("sha-")
    assert score(lead, first.compiled, NOW) == score(lead, second.compiled, NOW)


def test_the_default_rules_load_with_the_same_declared_version_every_time():
    assert load_rules(DEFAULT_RULES).version == load_rules(DEFAULT_RULES).version == RULESET.file.version


# ------------------------------------------------------------ monotony


@PROPERTY
@given(lead=leads, extra=activities(), position=st.integers(0, 30))
def test_adding_a_positive_activity_never_lowers_the_score(lead, extra, position):
    assume(is_positive(extra, RULES))
    before = score(lead, RULES, NOW)
    after = score(with_activity(lead, extra, position), RULES, NOW)
    assert after.score >= before.score
    assert after.engagement >= before.engagement


@PROPERTY
@given(lead=leads, newer=activities(), older_by=st.integers(1, 200 * DAY))
def test_an_older_copy_of_an_activity_never_counts_more_than_a_newer_one(lead, newer, older_by):
    """Points down as well as points up: an older copy moves the score no further from the lead's own."""
    older = replace(newer, at=newer.at - timedelta(seconds=older_by))
    base = score(lead, RULES, NOW).score
    with_newer = score(with_activity(lead, newer), RULES, NOW).score
    with_older = score(with_activity(lead, older), RULES, NOW).score
    assert abs(with_older - base) <= abs(with_newer - base)
    if is_positive(newer, RULES):
        assert with_older <= with_newer


# ------------------------------------------------------------ caps


@PROPERTY
@given(document=rules_documents(), lead=leads)
def test_caps_always_hold(document, lead):
    rules = rules_from(yaml.safe_dump(document))
    q = score(lead, rules.compiled, NOW)
    fit_cap, engagement_cap = document["fit"]["cap"], document["engagement"]["cap"]
    rule_caps = {rule["name"]: rule.get("cap") for rule in document["engagement"]["rules"]}
    careers_floor = document["negative"][0]["cap"]

    fit_points = [r.points for r in q.reasons if r.kind == "fit"]
    assert q.fit == round(min(sum(p for p in fit_points if p > 0), fit_cap) + sum(p for p in fit_points if p < 0))
    assert q.fit <= fit_cap
    for reason in q.reasons:
        rule_name = reason.text.split(":", 1)[0]
        if reason.kind == "engagement" and rule_caps[rule_name] is not None:
            assert reason.points <= rule_caps[rule_name], reason
        if reason.kind == "negative":
            assert rule_name == "n_careers" and careers_floor <= reason.points < 0, reason
    assert q.engagement <= engagement_cap


# ------------------------------------------------------------ lifecycle

REP_STATUSES = (*POLICY.recycle_statuses, *POLICY.disqualify_statuses, "NEW", "OPEN", "IN_PROGRESS", "CONNECTED")
#: the repeated None tilts the draw toward cycles in which no rep touches the record
rep_statuses = st.sampled_from((None,) * 8 + REP_STATUSES)
rep_stage_moves = st.sampled_from((None,) * 12 + (Stage.LEAD, Stage.MQL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER))
crm_stages = st.none() | st.sampled_from(tuple(Stage))
memory_records = memories(moments, st.none() | st.sampled_from(REP_STATUSES))

#: what people do between two cycles: mostly what qualifies leads, sometimes what holds them back
cycle_activities = st.sampled_from(
    [
        ("form_submission", "Request a demo", None),
        ("form_submission", "Contact sales", None),
        ("form_submission", "Event signup", None),
        ("page_view", None, "https://vendor.example/pricing"),
        ("page_view", None, "https://vendor.example/product"),
        ("page_view", None, "https://vendor.example/careers"),
        ("content_download", "Lead Scoring Playbook", None),
        ("webinar_attendance", "RevOps 2026", None),
        ("email_click", None, None),
        ("site_visit", None, None),
        ("trial_signup", None, None),
        ("meeting_booked", None, None),
        ("unsubscribe", None, None),
        None,  # nobody did anything
    ]
)
cycles = st.lists(
    st.tuples(st.integers(1, 24 * 7), cycle_activities, st.integers(1, 4), rep_statuses, rep_stage_moves),
    min_size=5,
    max_size=30,
)


def disqualified_leads() -> st.SearchStrategy[Lead]:
    """Leads a disqualifier of the default rules blocks: an unsubscribe, a competitor or a student."""
    unsubscribe = activities(st.just("unsubscribe")).map(lambda a: replace(a, count=max(a.count, 1)))
    by_activity = st.builds(with_activity, leads, unsubscribe)
    by_property = st.builds(
        lambda lead, blocked: replace(lead, properties={**lead.properties, **blocked}),
        leads,
        st.sampled_from([{"email": "cy@rivalcrm.com"}, {"job_title": "Student"}, {"email": "di@cs.stanford.edu"}]),
    )
    return by_activity | by_property


def crm_state(stage: Stage | None, status: str | None) -> CrmState:
    return CrmState(stage=stage, lead_status=status, owner_id="77", name="Ana Ruiz", company="Acme")


def never_promoted(decision, crm: CrmState) -> bool:
    return decision.task is None and (
        decision.target_stage is None or (crm.stage is not None and decision.target_stage < crm.stage)
    )


@PROPERTY
@given(lead=disqualified_leads(), stage=crm_stages, status=st.sampled_from(REP_STATUSES), mem=memory_records)
def test_a_disqualified_lead_is_never_promoted(lead, stage, status, mem):
    q = score(lead, RULES, NOW)
    assert q.disqualified
    crm = crm_state(stage, status)
    d = decide(q, crm, mem, POLICY, NOW)
    assert never_promoted(d, crm), d
    if d.properties:
        assert d.properties["status"] == "disqualified"


@PROPERTY
@given(lead=leads, stage=crm_stages, status=st.sampled_from(POLICY.disqualify_statuses), mem=memory_records)
def test_a_lead_sales_marked_unqualified_is_never_promoted(lead, stage, status, mem):
    crm = crm_state(stage, status)
    d = decide(score(lead, RULES, NOW), crm, mem, POLICY, NOW)
    assert never_promoted(d, crm), d


@PROPERTY
@given(
    properties=st.just(GOOD_FIT) | properties,
    start=st.sampled_from([None, Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL]),
    steps=cycles,
)
def test_the_crm_stage_only_moves_back_through_a_recycle_and_each_task_is_created_once(properties, start, steps):
    """Simulate a record over many cycles: reps act now and then, Handoff's decisions are applied to it.

    A rep may move the stage back (below opportunity): Handoff then never promotes it on what came before.
    """
    crm, mem, now = crm_state(start, "NEW"), Memory(), NOW
    history: list[Activity] = []
    task_keys: set[str] = set()
    for hours, new_activity, count, status, moved_to in steps:
        now += timedelta(hours=hours)
        if new_activity is not None:
            kind, name, url = new_activity
            history.append(Activity(kind, now - timedelta(hours=hours / 2), count, name, url))
        if status is not None:
            crm = replace(crm, lead_status=status)
        stepped_back = moved_to is not None and crm.stage is not None and moved_to < crm.stage < Stage.OPPORTUNITY
        if moved_to is not None and (crm.stage is None or moved_to > crm.stage or stepped_back):
            crm = replace(crm, stage=moved_to)
        recycled = crm.lead_status in POLICY.recycle_statuses and crm.lead_status != mem.last_lead_status

        q, d = evaluate(Lead("1001", properties, tuple(history)), crm, mem, RULES, POLICY, now)

        if q.disqualified or crm.lead_status in POLICY.disqualify_statuses:
            assert never_promoted(d, crm), d
        if crm.stage is not None and crm.stage >= Stage.OPPORTUNITY:
            assert d.target_stage is None and d.task is None, d
        if stepped_back and not recycled and mem.crm_stage is not None:  # a stage Handoff had seen
            assert d.target_stage is None and d.task is None and d.memory.episode == mem.episode + 1, d
            event("stepped back by a rep")
        if d.reset_stage:
            assert recycled and crm.stage is not None and d.target_stage < crm.stage, d
            event("recycled back")
        elif d.target_stage is not None:
            assert crm.stage is None or d.target_stage > crm.stage, d
        if d.task is not None:
            assert d.task.stage is d.target_stage
            assert d.task.key == task_key("1001", d.task.stage, d.memory.episode)
            assert d.task.key not in task_keys, f"task {d.task.key} created twice"
            task_keys.add(d.task.key)
            event("task after a recycle" if d.memory.episode else "task")
        mem = d.memory
        if d.target_stage is not None:
            crm = replace(crm, stage=d.target_stage)
            mem = replace(mem, crm_stage=d.target_stage)  # the write landed, as the writer remembers it


HYSTERESIS_RULES = rules_from(
    """
    version: hysteresis-test
    engagement:
      cap: 1000
      rules:
        - {name: visits, type: site_visit, points: 1}
    thresholds: {mql: 40, mql_min_grade: D, sql: 75, sql_min_grade: D, hysteresis: 5}
    """
)


@PROPERTY
@given(
    threshold=st.sampled_from([(40, Stage.MQL), (75, Stage.SQL)]),
    first_above=st.integers(0, 5),
    wobble=st.lists(st.integers(-5, 5), min_size=1, max_size=20),
)
def test_a_score_wobbling_within_the_hysteresis_margin_changes_nothing_after_qualifying(threshold, first_above, wobble):
    """The score is the visit count (one visit is one point, counted at the moment of the cycle)."""
    points, level = threshold
    rules, policy = HYSTERESIS_RULES.compiled, HYSTERESIS_RULES.policy
    crm, mem = crm_state(Stage.LEAD, "NEW"), Memory()

    def cycle(visits: int, now: datetime, crm: CrmState, mem: Memory):
        lead = Lead("1001", GOOD_FIT, (Activity("site_visit", now, visits),))
        return evaluate(lead, crm, mem, rules, policy, now)

    q, d = cycle(points + first_above, NOW, crm, mem)
    assert (q.stage, d.target_stage) == (level, level) and d.task is not None
    crm, mem = replace(crm, stage=d.target_stage), d.memory
    for hour, offset in enumerate(wobble, start=1):
        q, d = cycle(points + offset, NOW + timedelta(hours=hour), crm, mem)
        assert q.score == points + offset
        assert d.target_stage is None and d.task is None, d
        assert d.properties["status"] == level.value
        mem = d.memory
