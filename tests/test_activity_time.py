"""Activity dated in the future counts from when Handoff read it, and decays from then on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from builders import NOW, default_rules, demo_request, lead

from connector.model import Activity
from connector.scoring.engine import score
from connector.sync.cycle import merge_lead

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
