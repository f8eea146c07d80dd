"""The outcome rules: events from the CRM folded into an episode, once, whatever the order or the mess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from connector.outcomes.apply import apply_outcomes
from connector.outcomes.episode import Episode
from connector.outcomes.events import STAGE_SOURCE, OutcomeEvent, OutcomeKind

T0 = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)
K = OutcomeKind


def qualified(**fields: object) -> Episode:
    return Episode(record_id="r1", number=1, mql_at=T0, **fields)  # type: ignore[arg-type]


def ev(
    kind: OutcomeKind, days: float, deal: str | None = "d1", amount: str | None = None, **kw: object
) -> OutcomeEvent:
    return OutcomeEvent(
        kw.pop("record_id", "r1"),  # type: ignore[arg-type]
        kind,
        T0 + timedelta(days=days),
        deal,
        None if amount is None else Decimal(amount),
        **kw,  # type: ignore[arg-type]
    )


def test_a_won_deal_gives_opportunity_win_and_amount():
    done = apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1), ev(K.WON, 9, amount="1500.00")])
    assert (done.deal_id, done.opportunity_at, done.won_at, done.amount) == (
        "d1",
        T0 + timedelta(days=1),
        T0 + timedelta(days=9),
        Decimal("1500.00"),
    )
    assert done.lost_at is None


def test_a_deal_without_an_amount_leaves_the_amount_unknown():
    done = apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1), ev(K.LOST, 4)])
    assert done.lost_at == T0 + timedelta(days=4) and done.amount is None


def test_a_deal_in_a_custom_pipeline_counts_like_any_other():
    # the adapter reads won and lost from the pipeline; the rules only see the event
    done = apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1, deal="705209413-7"), ev(K.WON, 2, deal="705209413-7")])
    assert done.deal_id == "705209413-7" and done.won_at is not None


def test_a_lead_converted_into_an_existing_account_is_touched_but_no_opportunity():
    # the Salesforce adapter sends only an acceptance for a conversion without an Opportunity
    done = apply_outcomes(qualified(), [ev(K.ACCEPTED, 2, deal=None, reason="converted without opportunity")])
    assert done.accepted_at == T0 + timedelta(days=2)
    assert done.opportunity_at is None and done.deal_id is None


def test_an_opportunity_reopened_after_won_is_neither_won_nor_lost():
    done = apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1), ev(K.WON, 3), ev(K.REOPENED, 5)])
    assert done.won_at is None and done.lost_at is None and done.opportunity_at == T0 + timedelta(days=1)


def test_a_reopened_deal_lost_later_is_lost():
    events = [ev(K.OPPORTUNITY, 1), ev(K.WON, 3), ev(K.REOPENED, 5), ev(K.LOST, 8)]
    done = apply_outcomes(qualified(), events)
    assert done.won_at is None and done.lost_at == T0 + timedelta(days=8)


def test_a_reopening_read_late_does_not_undo_a_later_win():
    won = apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1), ev(K.WON, 9)])
    assert apply_outcomes(won, [ev(K.REOPENED, 5)]).won_at == T0 + timedelta(days=9)


def test_outcomes_dated_before_the_episode_belong_to_an_earlier_story():
    done = apply_outcomes(qualified(), [ev(K.OPPORTUNITY, -30), ev(K.WON, -2), ev(K.TOUCHED, -1, deal="t1")])
    assert done == qualified()


def test_a_win_closed_on_the_day_the_episode_started_counts_from_the_start():
    done = apply_outcomes(qualified(), [ev(K.WON, -9 / 24, day_only=True)])  # midnight of that day: a close date
    assert done.won_at == T0 and done.opportunity_at == T0


def test_a_day_only_conversion_on_the_first_day_counts_and_one_the_day_before_does_not():
    same_day = ev(K.ACCEPTED, -9 / 24, deal=None, day_only=True)
    assert apply_outcomes(qualified(), [same_day]).accepted_at == T0
    assert apply_outcomes(qualified(), [ev(K.ACCEPTED, -1, deal=None, day_only=True)]) == qualified()


def test_an_exact_time_before_the_start_on_the_same_day_still_belongs_to_an_earlier_story():
    assert apply_outcomes(qualified(), [ev(K.ACCEPTED, -1 / 24, deal=None)]) == qualified()


def test_a_day_only_date_after_the_first_day_keeps_its_day():
    assert apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1), ev(K.LOST, 2 - 9 / 24, day_only=True)]).lost_at == (
        datetime(2026, 9, 9, tzinfo=UTC)
    )


def stage(kind: OutcomeKind, days: float) -> OutcomeEvent:
    return ev(kind, days, deal=STAGE_SOURCE)


def test_a_stage_set_by_hand_without_a_deal_makes_an_opportunity_and_a_customer_a_win():
    done = apply_outcomes(qualified(), [stage(K.OPPORTUNITY, 1), stage(K.WON, 4)])
    assert (done.opportunity_at, done.won_at, done.deal_id) == (T0 + timedelta(days=1), T0 + timedelta(days=4), None)
    customer_at_once = apply_outcomes(qualified(), [stage(K.WON, 2)])
    assert customer_at_once.opportunity_at == customer_at_once.won_at == T0 + timedelta(days=2)


def test_a_deal_tells_the_story_over_stage_dates_whichever_is_read_first():
    events = [stage(K.OPPORTUNITY, 1), ev(K.OPPORTUNITY, 2), ev(K.LOST, 5)]
    stage_first = apply_outcomes(apply_outcomes(qualified(), events[:1]), events[1:])
    deal_first = apply_outcomes(apply_outcomes(qualified(), events[1:]), events[:1])
    assert stage_first == deal_first == apply_outcomes(qualified(), events)
    assert (stage_first.deal_id, stage_first.opportunity_at) == ("d1", T0 + timedelta(days=2))


def test_the_stage_a_deleted_deal_left_behind_does_not_bring_it_back():
    deleted = apply_outcomes(apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1)]), [ev(K.DELETED, 2)])
    assert apply_outcomes(deleted, [stage(K.OPPORTUNITY, 1), stage(K.WON, 3)]) == deleted


def test_stage_dates_before_the_episode_started_are_ignored():
    assert apply_outcomes(qualified(), [stage(K.OPPORTUNITY, -3), stage(K.WON, -1)]) == qualified()


def test_a_deleted_deal_no_longer_counts():
    opened = apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1), ev(K.WON, 2)])
    done = apply_outcomes(opened, [ev(K.DELETED, 3)])
    assert done.deal_deleted_at == T0 + timedelta(days=3)
    assert apply_outcomes(done, [ev(K.OPPORTUNITY, 1), ev(K.WON, 2)]) == done  # a late re-read stays deleted


def test_a_deal_opened_and_deleted_in_one_batch_leaves_no_trace():
    assert apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1), ev(K.DELETED, 2)]) == qualified()


def test_another_deal_after_a_deleted_one_becomes_the_episodes_deal():
    deleted = apply_outcomes(apply_outcomes(qualified(), [ev(K.OPPORTUNITY, 1)]), [ev(K.DELETED, 2)])
    done = apply_outcomes(deleted, [ev(K.OPPORTUNITY, 4, deal="d2", amount="900")])
    assert (done.deal_id, done.deal_deleted_at, done.opportunity_at, done.amount) == (
        "d2",
        None,
        T0 + timedelta(days=4),
        Decimal("900"),
    )


def test_several_deals_take_the_first_opportunity_and_count_won_if_any_won():
    events = [
        ev(K.OPPORTUNITY, 1, deal="a"),
        ev(K.OPPORTUNITY, 3, deal="b"),
        ev(K.LOST, 4, deal="a", amount="100"),
        ev(K.WON, 6, deal="b", amount="700"),
    ]
    done = apply_outcomes(qualified(), events)
    assert (done.deal_id, done.opportunity_at, done.won_at, done.lost_at, done.amount) == (
        "b",
        T0 + timedelta(days=1),
        T0 + timedelta(days=6),
        None,
        Decimal("700"),
    )


def test_the_first_touch_and_the_first_recycle_reason_are_kept():
    events = [
        ev(K.TOUCHED, 3, deal="t1"),
        ev(K.TOUCHED, 1, deal="t2"),
        ev(K.RECYCLED, 5, deal=None, reason="BAD_TIMING"),
        ev(K.RECYCLED, 6, deal=None, reason="later"),
    ]
    done = apply_outcomes(qualified(), events)
    assert done.first_touch_at == T0 + timedelta(days=1)
    assert (done.recycled_at, done.sales_reason) == (T0 + timedelta(days=5), "BAD_TIMING")


def test_events_of_other_records_and_garbage_are_ignored():
    naive = OutcomeEvent("r1", K.WON, datetime(2026, 9, 8), "d1")
    junk = [ev(K.WON, 2, record_id="other"), naive, "not an event"]
    assert apply_outcomes(qualified(), junk) == qualified()  # type: ignore[list-item]


def test_applying_the_same_events_twice_counts_them_once():
    events = [ev(K.OPPORTUNITY, 1, amount="10"), ev(K.WON, 2, amount="10"), ev(K.TOUCHED, 0.5, deal="t")]
    once = apply_outcomes(qualified(), events)
    assert apply_outcomes(once, events) == once


# ------------------------------------------------------------------ properties

_kinds = st.sampled_from(list(OutcomeKind))
_events = st.lists(
    st.builds(
        OutcomeEvent,
        record_id=st.sampled_from(["r1", "r1", "r1", "r2"]),
        kind=_kinds,
        at=st.integers(-5, 20).map(lambda d: T0 + timedelta(days=d)),
        source_id=st.sampled_from([None, "a", "b", "c"]),
        amount=st.one_of(st.none(), st.decimals(min_value=0, max_value=10**6, places=2)),
        reason=st.one_of(st.none(), st.sampled_from(["BAD_TIMING", "UNQUALIFIED"])),
    ),
    max_size=12,
)


@given(_events)
def test_applying_any_events_twice_gives_the_same_episode(events):
    once = apply_outcomes(qualified(), events)
    assert apply_outcomes(once, events) == once


@given(_events, st.randoms())
def test_the_order_events_arrive_in_does_not_matter(events, random):
    shuffled = list(events)
    random.shuffle(shuffled)
    assert apply_outcomes(qualified(), shuffled) == apply_outcomes(qualified(), events)


@given(_events, _events)
def test_any_batches_fold_into_a_valid_episode(first, second):
    done = apply_outcomes(apply_outcomes(qualified(), first), second)
    assert Episode.from_json(done.to_json()) == done
    if done.won_at is not None:
        assert done.lost_at is None and done.opportunity_at is not None
