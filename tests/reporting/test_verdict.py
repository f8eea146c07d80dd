"""The one judgement of an episode's outcome that the report and the labelled export share."""

from __future__ import annotations

from datetime import timedelta

from episode_builders import AS_OF, T0, at, episode

from connector.outcomes import OutcomeRule, deals_held_elsewhere, judge

WON_ONLY = OutcomeRule(converted_on="won")


def test_an_opportunity_converts_at_the_time_the_deal_opened():
    verdict = judge(episode(opportunity_at=at(3), deal_id="d1"), AS_OF)
    assert (verdict.converted, verdict.converted_at) == (True, at(3))


def test_with_converted_on_won_an_open_deal_is_undecided_and_a_win_converts_when_won():
    open_deal = judge(episode(opportunity_at=at(3), deal_id="d1"), at(10), WON_ONLY)
    won = judge(episode(opportunity_at=at(3), won_at=at(9), deal_id="d1"), AS_OF, WON_ONLY)
    assert open_deal.converted is None
    assert (won.converted, won.converted_at) == (True, at(9))


def test_a_lost_deal_counts_as_converted_on_opportunity_but_not_on_won():
    lost = episode(lost_at=at(8), deal_id="d1")
    assert (judge(lost, AS_OF).converted, judge(lost, AS_OF).converted_at) == (True, at(8))
    assert judge(lost, AS_OF, WON_ONLY).converted is False


def test_recycled_or_rejected_episodes_are_decided_not_converted():
    assert judge(episode(recycled_at=at(2)), at(5)).converted is False
    assert judge(episode(rejected_at=at(2)), at(5)).converted is False


def test_an_open_episode_is_undecided_until_it_goes_stale():
    rule = OutcomeRule(stale_after_days=30)
    young = judge(episode(), T0 + timedelta(days=29), rule)
    stale = judge(episode(), T0 + timedelta(days=31), rule)
    assert (young.converted, young.stale) == (None, False)
    assert (stale.converted, stale.stale) == (False, True)
    assert judge(episode(), T0 + timedelta(days=3000), OutcomeRule(stale_after_days=None)).converted is None


def test_outcomes_before_the_start_and_deleted_deals_do_not_count():
    early = episode(mql=at(5), opportunity_at=at(1), deal_id="d1")
    deleted = episode(opportunity_at=at(3), deal_id="d1", deal_deleted_at=at(4))
    assert judge(early, at(10)).converted is None
    assert judge(deleted, at(10)).converted is None


def test_a_deal_two_episodes_claim_belongs_to_the_one_live_when_it_came():
    first = episode("r1", 1, mql=at(0), recycled_at=at(1), opportunity_at=at(6), deal_id="d1")
    second = episode("r1", 2, mql=at(4), opportunity_at=at(6), deal_id="d1")
    assert deals_held_elsewhere([first, second]) == {0}
    assert judge(first, AS_OF, keeps_deal=False).converted is False
