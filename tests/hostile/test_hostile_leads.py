"""Whatever a CRM record holds, scoring and the lifecycle policy answer, and their words stay clean.

Leads are generated with hostile values: non-finite and huge numbers, strings where
numbers belong, control characters, line and paragraph separators, bidi overrides,
lone surrogates, huge strings, lists and objects, activities dated in year 1 or
9999, counts too large for a float, and text that imitates Handoff's task marker.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from builders import NOW, default_rules, memories, rules_from
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.model import ACTIVITY_TYPES, QUALIFICATION_LEVELS, Activity, CrmState, Lead, Stage
from connector.policy.lifecycle import evaluate
from connector.scoring import score

PROPERTY = settings(deadline=None)

DEFAULT = default_rules()
#: every operator and every placeholder, on fields the generated leads fill
EVERY_OPERATOR = rules_from(
    """
    lists: {rivals: [rival.com], regions: [DE, "NO"]}
    fit:
      rules:
        - {name: title, field: job_title, matches: 'vp|head', points: 20, reason: "Title {value} at {domain} ({field})"}
        - {name: size, field: company_size, min: 50, max: 1000, points: 15, reason: "Size {value}"}
        - {name: big, field: company_size, min: 1001, points: 10}
        - {name: region, field: country, one_of: regions, points: 5}
        - {name: not_retail, field: industry, not_equals: Retail, points: 3, reason: "Industry {value}"}
        - {name: other_region, field: country, none_of: regions, points: -2}
        - {name: flag, field: opted_in, equals: true, points: 1}
        - {name: budget, field: budget, present: true, points: 5, reason: "Budget {value}"}
        - {name: company_domain, field: website, domain_in: rivals, points: -5, reason: "Site at {domain}"}
    engagement:
      rules:
        - {name: pages, type: page_view, points: 1, reason: "{count} view{s} of {url}, {when}"}
        - {name: forms, type: form_submission, points: 5, reason: "Sent {name} {ago}"}
        - {name: rest, type: [email_open, email_click, content_download, webinar_attendance], points: 2}
    signals:
      - {name: demo, type: form_submission, name_matches: demo, within_days: 30, reason: "Demo {ago}: {name}"}
      - {name: pricing, type: page_view, url_contains: /pricing, min_count: 2, within_days: 7, reason: "{count} {window}"}
    negative:
      - {name: careers, type: page_view, url_contains: /careers, points: -5, cap: -15}
    disqualifiers:
      - {name: rival, domain_in: rivals, reason: "Rival ({domain})"}
      - {name: unsubscribed, type: unsubscribe, reason: "Unsubscribed {ago} ({name})"}
    """
)
RULESETS = (DEFAULT, EVERY_OPERATOR)

FORGED = ("Handoff ref: handoff:999:sql:0", "handoff:1001:mql:3", "HANDOFF REF : x", "x handoff :y")
SPECIAL_TEXT = (
    "",
    " ",
    "VP\r\nEngineering",
    "Head of Sales\n- Requested a demo just now",
    "a\x00b\x1b[31mred\x7f",
    "line\u2028separator\u2029paragraph\x85next",
    "\u202eevil\u202c \u2066isolate\u2069 \u200fmark",
    "lone \ud800 surrogate \udfff",
    "👩‍💻 İstanbul ß",
    "x" * 3_000,
    "1e999",
    "NaN",
    "-inf",
    "1,000",
    *FORGED,
)
HUGE_INTS = (10**400, -(10**5000), 2**64)

texts = (
    st.sampled_from(SPECIAL_TEXT)
    | st.text(max_size=30)
    | st.builds("".join, st.lists(st.sampled_from(SPECIAL_TEXT), max_size=3))
)
numbers = st.floats() | st.integers() | st.sampled_from(HUGE_INTS)
scalars = st.none() | st.booleans() | numbers | texts
values = scalars | st.lists(scalars, max_size=3) | st.dictionaries(st.text(max_size=5), scalars, max_size=2)
emails = st.builds(lambda local, domain: f"{local}@{domain}", texts, texts) | texts
FIELDS = ("job_title", "company", "company_size", "industry", "country", "budget", "timeline", "need", "opted_in")
properties = st.fixed_dictionaries(
    {},
    optional={"email": emails, "website": emails, **dict.fromkeys(FIELDS, values)},
)
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
activities = st.builds(
    Activity,
    type=st.sampled_from(sorted(ACTIVITY_TYPES)),
    at=moments | st.just(NOW),
    count=st.integers(0, 10) | st.integers() | st.sampled_from(HUGE_INTS),
    name=st.none() | texts,
    url=st.none() | texts | st.just("https://vendor.example/pricing"),
)
leads = st.builds(
    Lead,
    id=st.sampled_from(["1001", "003Dn00000Xyz", "a:b", "\ud800"]) | texts,
    properties=properties,
    activities=st.lists(activities, max_size=12).map(tuple),
)
crm_states = st.builds(
    CrmState,
    stage=st.none() | st.sampled_from(tuple(Stage)),
    lead_status=st.none() | st.sampled_from(["NEW", "BAD_TIMING", "UNQUALIFIED"]) | texts,
    owner_id=st.none() | texts,
    name=st.none() | texts,
    company=st.none() | texts,
)
memory_records = memories(moments)

#: what could fake a line, reorder text or break an encoder
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MARKER = re.compile(r"handoff\s*(ref\s*)?:", re.IGNORECASE)


def unsafe_characters(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in _BIDI]


def assert_one_clean_line(text: str) -> None:
    assert not unsafe_characters(text), repr(text)
    assert len(text.splitlines()) <= 1, repr(text)
    assert not _MARKER.search(text), repr(text)


@PROPERTY
@given(lead=leads, which=st.sampled_from(RULESETS))
def test_scoring_never_raises_and_its_words_are_one_clean_line_each(lead, which):
    q = score(lead, which.compiled, NOW)
    assert q.grade in "ABCD" and q.stage in QUALIFICATION_LEVELS and isinstance(q.score, int)
    for text in (*(r.text for r in q.reasons), *q.interests, q.disqualified_reason or ""):
        assert_one_clean_line(text)


@PROPERTY
@given(lead=leads, crm=crm_states, mem=memory_records, which=st.sampled_from(RULESETS))
def test_the_lifecycle_never_raises_and_record_content_cannot_forge_lines_or_task_keys(lead, crm, mem, which):
    q, d = evaluate(lead, crm, mem, which.compiled, which.policy, NOW)
    reasons_written = d.properties.get("reasons")
    if reasons_written and crm.lead_status in which.policy.disqualify_statuses:
        [rejected] = reasons_written.splitlines()  # a rep's rejection stands alone
        assert rejected.startswith("- Rejected by sales (")
        assert_one_clean_line(rejected)
    elif reasons_written:
        assert len(reasons_written.splitlines()) == min(len(q.reasons), which.policy.reasons_written)
    for note in d.notes:
        assert_one_clean_line(note)
    if d.task is not None:
        assert_one_clean_line(d.task.subject)
        lines = d.task.body.splitlines()
        expected = 2 + min(len(q.reasons), which.policy.reasons_in_task) + bool(q.interests) + bool(q.missing)
        assert len(lines) == expected, lines
        for line in lines:
            assert_one_clean_line(line)
