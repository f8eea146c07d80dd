"""Activity dated in the future counts from when Handoff read it, and decays from then on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from builders import NOW, default_rules, demo_request, lead, page_view

from connector.model import Activity
from connector.scoring.engine import score
from connector.sync.cycle import KEEP_ACTIVITIES, as_stored, merge_lead

RULES = default_rules()
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def future_demo() -> Activity:
    return Activity("form_submission", FAR_FUTURE, name="Request a demo")


def test_an_activity_dated_after_the_read_is_kept_at_the_read_time():
    merged = merge_lead(None, "1", {}, [future_demo(), demo_request(3)], NOW)
    assert [a.at for a in merged.activities] == [NOW - timedelta(days=3), NOW]


def test_the_settled_time_does_not_move_on_later_reads():
    first = merge_lead(None, "1", {}, [future_demo()], NOW)
    later = merge_lead(first, "1", {}, [], NOW + timedelta(days=5))
    assert later.activities[0].at == NOW


def test_a_future_demo_request_decays_from_when_it_was_read():
    read = merge_lead(None, "1", {}, [future_demo()], NOW)
    fit = lead(*read.activities)
    fresh, weeks_on = score(fit, RULES.compiled, NOW), score(fit, RULES.compiled, NOW + timedelta(days=60))
    assert weeks_on.score < fresh.score - 5
    assert not any("just now" in r.text for r in weeks_on.reasons)


def test_the_sweep_scores_a_stored_lead_in_order_as_it_is():
    stored = lead(page_view("/pricing", 9), demo_request(3), page_view("/docs", 3), id="1")
    assert as_stored("1", stored, NOW) is stored


@pytest.mark.parametrize(
    "stored",
    [
        lead(future_demo(), id="1"),  # an older version kept a future date
        lead(demo_request(1), page_view("/pricing", 9), id="1"),  # out of order
        lead(*(page_view("/docs", 2 - i / 1000) for i in range(KEEP_ACTIVITIES + 1)), id="1"),  # too many
        lead(demo_request(3), id="1001"),  # a canonical row whose id is not the record's
    ],
)
def test_a_stored_lead_the_sweep_cannot_score_as_it_is_is_merged_first(stored):
    swept = as_stored("1", stored, NOW)
    assert swept == merge_lead(stored, "1", stored.properties, (), NOW) and swept != stored
