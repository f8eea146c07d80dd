"""What scoring remembers across leads never changes an answer: a warm cache scores like a cold one.

The cache keeps which rules an activity falls under, what a property value meets and the
words of a reason (by only what the words show). Leads that share pages, forms, counts and
ages are scored one after another with one compiled rules file, and each result is compared
with scoring the same lead on rules whose cache is empty.
"""

from __future__ import annotations

from dataclasses import replace

from builders import NOW, activity, default_rules, lead, rules_from
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.model import Activity, Lead
from connector.scoring import score
from connector.scoring.compiled import CompiledRules, ScoringCache
from connector.scoring.engine import _activity_text
from connector.scoring.phrases import ago, ago_key

#: placeholders in every combination, on pages and forms that repeat across leads
EVERY_PLACEHOLDER = rules_from(
    """
    engagement:
      half_life_days: 10
      rules:
        - {name: pricing, type: page_view, url_contains: /pricing, points: 5, cap: 20, reason: "{count} view{s}, {when}"}
        - {name: pages, type: page_view, points: 1, reason: "{count} view{s} of {url}, {when}"}
        - {name: forms, type: form_submission, points: 5, reason: "Sent {name} {ago}"}
        - {name: opens, type: email_open, points: 0.5, cap: 5, reason: "Opened {count} email{s}"}
        - {name: downloads, type: content_download, points: 10, reason: "Downloaded {name}"}
        - {name: chats, type: chat, points: 3, reason: "Chatted"}
    signals:
      - {name: demo, type: form_submission, name_matches: demo, within_days: 30, reason: "Demo {ago}: {name}"}
      - {name: pricing_views, type: page_view, url_contains: /pricing, min_count: 2, within_days: 7,
         reason: "{count} pricing views {window}, latest {url}"}
    negative:
      - {name: careers, type: page_view, url_contains: /careers, points: -5, cap: -15, reason: "{count} on {url}"}
    """
)
PAGES = ("/pricing", "/pricing/team", "/product", "/careers", "/careers/ae", "/")
FORMS = ("Book a demo", "Newsletter", "Request a demo", None)
#: few ages and counts, so that leads often share all but one thing a reason may show
DAYS = st.sampled_from([0, 1, 9, 40])
COUNTS = st.sampled_from([0, 1, 2])

activities = st.one_of(
    st.builds(
        lambda path, days, hours, count: activity(
            "page_view", days, hours_ago=hours, count=count, url=f"https://vendor.example{path}"
        ),
        st.sampled_from(PAGES),
        DAYS,
        st.sampled_from([0, 0.5, 3]),
        COUNTS,
    ),
    st.builds(
        lambda kind, name, days, count: activity(kind, days, count=count, name=name),
        st.sampled_from(["form_submission", "email_open", "content_download", "chat", "unsubscribe"]),
        st.sampled_from(FORMS),
        DAYS,
        COUNTS,
    ),
)
leads = st.lists(activities, max_size=12).map(lambda found: lead(*sorted(found, key=_newest_first)))


def _newest_first(found: Activity) -> float:
    return -found.ts


def _cold(rules: CompiledRules) -> CompiledRules:
    return replace(rules, cache=ScoringCache())


@settings(deadline=None, max_examples=60)
@given(st.lists(leads, min_size=2, max_size=8), st.sampled_from([default_rules(), EVERY_PLACEHOLDER]))
def test_a_warm_cache_scores_every_lead_as_a_cold_one(batch: list[Lead], ruleset) -> None:
    warm = _cold(ruleset.compiled)
    for each in batch:
        assert score(each, warm, NOW) == score(each, _cold(ruleset.compiled), NOW)


DAY = 86400.0
#: ages around every boundary the words change at: 2 minutes, an hour, a day, two weeks, two months
AGES = st.sampled_from([0.0, 59.9, 60.0, 119.9, 120.0, 3599.9, 3600.0, 86399.9, 86400.0, 13 * DAY, 14 * DAY])


@settings(deadline=None, max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(EVERY_PLACEHOLDER.compiled.engagement["page_view"]) - 1),
            st.integers(0, 3),
            AGES | st.floats(0, 400 * DAY),
            st.sampled_from(PAGES),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_cached_reason_words_are_the_words_the_rule_would_write(tallies) -> None:
    """The cache keys words by only what they show (count, age to the minute or day, name, URL):
    whatever was cached before, a reason reads as formatting it afresh would."""
    rules = _cold(EVERY_PLACEHOLDER.compiled)
    texts = rules.cache.activity_texts
    now_ts = NOW.timestamp()
    for index, count, age, path in tallies:
        rule = rules.engagement["page_view"][index]
        latest = activity("page_view", url=f"https://vendor.example{path}")
        tally = [0.0, count, now_ts - age, latest]
        assert _activity_text(rule, tally, now_ts, texts) == rule.words.fill(count, ago(age), None, latest.url)


def test_two_ages_share_a_reason_key_exactly_when_they_read_the_same() -> None:
    """Reason words are cached by ago_key: it must tell apart every two ages ago() words differently,
    and no more (each minute of the first day and each day of eight years, at both of its ends)."""
    ages = [m * 60.0 + s for m in range(1440) for s in (0.0, 59.9)]
    ages += [d * DAY + s for d in range(1, 3000) for s in (0.0, DAY - 0.1)]
    words_of: dict[int, str] = {}
    key_of: dict[str, int] = {}
    for age in ages:
        assert words_of.setdefault(ago_key(age), ago(age)) == ago(age)
        assert key_of.setdefault(ago(age), ago_key(age)) == ago_key(age)


def test_leads_with_their_own_addresses_add_nothing_to_the_property_cache() -> None:
    # student_email reads the whole address: caching it would add an entry per lead and
    # empty the shared cache (titles, sizes, domains) every CACHE_LIMIT leads
    rules = _cold(default_rules().compiled)
    score(lead(id="1", email="ada@uni.edu"), rules, NOW)
    cached = len(rules.cache.property_hits)
    for n in range(2, 50):
        found = score(lead(id=str(n), email=f"person{n}@uni.edu"), rules, NOW)
        assert "Student email address (uni.edu)" in [reason.text for reason in found.reasons]
    assert len(rules.cache.property_hits) == cached
