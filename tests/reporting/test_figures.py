"""The report's figures against numbers worked out by hand (see ``ten_episodes`` for the table)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from episode_builders import AS_OF, at, episode, sample_history, ten_episodes

from connector.model import Stage
from connector.outcomes import FunnelInput
from connector.reporting import ReportOptions, build_figures
from connector.reporting.figures import quantile, rank_auc


def figures_of(*episodes, leads=None, as_of=AS_OF, **options):
    return build_figures(FunnelInput(episodes, leads or {}), as_of, ReportOptions(**options))


@pytest.fixture(scope="module")
def ten():
    return build_figures(ten_episodes(), AS_OF)


def test_funnel_counts_each_step_of_the_ten_episodes(ten):
    f = ten.funnel
    assert (f.leads, f.mql, f.sql, f.sql_direct, f.opportunity, f.won, f.open) == (40, 8, 7, 2, 4, 2, 2)
    assert f.won_amount == Decimal(4000)


def test_conversion_between_steps_is_the_share_of_one_step_that_reached_the_next(ten):
    c = ten.conversion
    assert c.lead_to_mql == pytest.approx(8 / 40)
    # five of the eight MQL episodes became SQL; the two straight-to-SQL episodes are on neither side
    assert c.mql_to_sql == pytest.approx(5 / 8)
    assert c.sql_to_opportunity == pytest.approx(4 / 7)
    assert c.opportunity_to_won == pytest.approx(2 / 4)


def test_one_cohort_matches_the_totals(ten):
    (september,) = ten.cohorts
    assert september.month == "2026-09"
    assert september.counts == ten.funnel
    assert september.conversion == ten.conversion


def test_speed_to_lead_median_p90_and_sla_share(ten):
    s = ten.speed_to_lead
    # touches after SQL: 5, 10, 20, 30, 60, 120, 240 minutes
    assert (s.sql, s.touched) == (7, 7)
    assert s.median_minutes == pytest.approx(30)
    assert s.p90_minutes == pytest.approx(120 + 0.4 * 120)  # rank 5.4 of 0..6
    # SLA 60 min, except e7 whose task was due after 3 h: only e10 (240 min) missed it
    assert s.within_sla == pytest.approx(6 / 7)


def test_speed_to_lead_by_rep(ten):
    by_owner = {s.owner: s for s in ten.speed_by_owner}
    assert list(by_owner) == ["(no owner)", "ana", "ben"]
    ana, ben, nobody = by_owner["ana"], by_owner["ben"], by_owner["(no owner)"]
    assert (ana.median_minutes, ana.p90_minutes, ana.within_sla) == (10, pytest.approx(18), 1.0)
    assert (ben.median_minutes, ben.p90_minutes, ben.within_sla) == (60, pytest.approx(108), 1.0)
    assert (nobody.median_minutes, nobody.p90_minutes, nobody.within_sla) == (240, 240, 0.0)


def test_open_episode_without_opportunity_is_left_out_of_outcome_figures(ten):
    # e9 is open; e2 is open too but already reached an opportunity, so it counts as converted
    assert (ten.decided, ten.converted) == (9, 4)


def test_auc_is_the_share_of_converted_non_converted_pairs_ordered_by_score(ten):
    # converted 95 90 85 52 against 70 60 55 50 40: 15 pairs won by the top three, 2 by the 52
    assert ten.auc == pytest.approx(17 / 20)


def test_score_bands_split_decided_episodes_into_equal_groups_by_score():
    figures = build_figures(ten_episodes(), AS_OF, ReportOptions(bands=3))
    bands = [(b.band, b.min_score, b.max_score, b.episodes, b.converted) for b in figures.score_bands]
    assert bands == [(1, 40, 52, 3, 1), (2, 55, 70, 3, 0), (3, 85, 95, 3, 3)]
    assert [b.rate for b in figures.score_bands] == pytest.approx([1 / 3, 0, 1])


def test_deciles_of_nine_distinct_scores_are_one_episode_each(ten):
    assert [b.episodes for b in ten.score_bands] == [1] * 9
    assert [b.min_score for b in ten.score_bands] == [40, 50, 52, 55, 60, 70, 85, 90, 95]


def test_tied_scores_share_a_band():
    eps = [episode(f"t{i}", score=s, opportunity_at=at(3) if i % 2 else None, rejected_at=at(2)) for i, s in
           enumerate([10, 10, 10, 20])]  # fmt: skip
    figures = figures_of(*eps, bands=2)
    assert [(b.min_score, b.max_score, b.episodes) for b in figures.score_bands] == [(10, 10, 3), (20, 20, 1)]


def test_rule_lift_compares_conversion_when_fired_and_not(ten):
    rules = {r.name: r for r in ten.rules}
    demo = rules["demo"]
    assert (demo.fired, demo.converted_fired, demo.not_fired, demo.converted_not_fired) == (4, 3, 5, 1)
    assert demo.converted_when_fired == pytest.approx(0.75)
    assert demo.converted_when_not == pytest.approx(0.2)
    assert demo.lift == pytest.approx(3.75)
    assert rules["vp"].lift == pytest.approx((2 / 3) / (2 / 6))
    assert rules["pricing"].lift == pytest.approx(2.0)
    # the open e9 is left out: webinar fired on three decided episodes, none converted
    assert (rules["webinar"].fired, rules["webinar"].lift) == (3, 0.0)
    assert [r.name for r in ten.rules] == ["demo", "pricing", "vp", "webinar"]


def test_recycle_and_rejection_reasons_are_counted(ten):
    assert [(r.reason, r.count) for r in ten.recycle_reasons] == [("BAD_TIMING", 2), ("NO_BUDGET", 1)]
    assert [(r.reason, r.count) for r in ten.rejection_reasons] == [("UNQUALIFIED", 2)]


def test_json_has_the_documented_keys_and_numbers(ten):
    data = ten.to_json()
    assert data["funnel"]["mql"] == 8 and data["funnel"]["won_amount"] == 4000.0
    assert data["conversion"]["mql_to_sql"] == 0.625
    assert data["speed_to_lead"]["median_minutes"] == 30 and data["speed_to_lead"]["p90_minutes"] == 168
    assert data["speed_to_lead"]["within_sla"] == round(6 / 7, 4)
    assert data["auc"] == 0.85
    assert len(data["score_bands"]) == 9
    assert data["rules"][0] == {
        "name": "demo",
        "fired": 4,
        "not_fired": 5,
        "converted_fired": 3,
        "converted_not_fired": 1,
        "converted_when_fired": 0.75,
        "converted_when_not": 0.2,
        "lift": 3.75,
    }


# -- careful definitions --------------------------------------------------------------------------


def test_nothing_to_report_gives_zeros_and_nulls():
    figures = build_figures(FunnelInput(), AS_OF)
    assert figures.empty
    data = figures.to_json()
    assert data["funnel"] == {
        "leads": None, "mql": 0, "sql": 0, "sql_direct": 0, "opportunity": 0, "won": 0, "open": 0, "won_amount": 0.0,
    }  # fmt: skip
    assert set(data["conversion"].values()) == {None}
    assert data["speed_to_lead"]["median_minutes"] is None and data["speed_to_lead"]["within_sla"] is None
    assert (data["auc"], data["score_bands"], data["rules"], data["cohorts"]) == (None, [], [], [])


def test_leads_without_episodes_still_make_a_cohort():
    figures = figures_of(leads={"2026-08": 25})
    assert not figures.empty
    assert figures.funnel.leads == 25 and figures.conversion.lead_to_mql == 0.0


def test_sql_direct_episode_counts_in_sql_but_not_in_mql_to_sql():
    figures = figures_of(episode("a", mql=at(0), sql=at(1)), episode("b", mql=at(0)), episode("c", sql=at(0)))
    assert (figures.funnel.mql, figures.funnel.sql, figures.funnel.sql_direct) == (2, 2, 1)
    assert figures.conversion.mql_to_sql == 0.5


def test_mql_time_after_sql_time_counts_as_straight_to_sql():
    figures = figures_of(episode("a", mql=at(2), sql=at(1)))
    assert (figures.funnel.mql, figures.funnel.sql_direct) == (0, 1)


def test_open_episode_counts_at_its_steps_and_turns_not_converted_once_stale():
    fresh = episode("a", mql=AS_OF - timedelta(days=10), sql=AS_OF - timedelta(days=9), score=80)
    old = episode("b", mql=AS_OF - timedelta(days=100), score=30)
    won = episode("c", mql=AS_OF - timedelta(days=50), opportunity_at=AS_OF - timedelta(days=20), score=60)
    figures = figures_of(fresh, old, won)
    assert (figures.funnel.sql, figures.funnel.open) == (1, 3)
    assert (figures.decided, figures.converted, figures.notes.stale_counted_not_converted) == (2, 1, 1)
    never_stale = figures_of(fresh, old, won, stale_after_days=None)
    assert never_stale.decided == 1 and never_stale.auc is None


def test_converted_on_won_waits_for_the_deal_to_close():
    open_deal = episode("a", score=90, opportunity_at=at(3))
    won = episode("b", score=80, opportunity_at=at(3), won_at=at(9))
    lost = episode("c", score=70, opportunity_at=at(3), lost_at=at(9))
    figures = figures_of(open_deal, won, lost, converted_on="won")
    assert (figures.decided, figures.converted, figures.auc) == (2, 1, 1.0)


def test_outcomes_dated_before_the_episode_started_are_ignored():
    stale_deal = episode("a", mql=at(10), opportunity_at=at(2), won_at=at(5), amount=500, first_touch_at=at(1))
    figures = figures_of(stale_deal)
    assert (figures.funnel.opportunity, figures.funnel.won, figures.funnel.won_amount) == (0, 0, 0)
    assert figures.speed_to_lead.touched == 0
    assert figures.notes.outcomes_before_start == 1


def test_deleted_deal_is_no_opportunity_win_or_amount():
    gone = episode("a", deal_id="d1", opportunity_at=at(2), won_at=at(9), amount=700, deal_deleted_at=at(12))
    figures = figures_of(gone)
    assert (figures.funnel.opportunity, figures.funnel.won, figures.funnel.won_amount) == (0, 0, 0)
    assert figures.notes.deleted_deals == 1


def test_deal_reopened_after_won_counts_once_by_its_latest_close():
    relost = episode("a", deal_id="d1", opportunity_at=at(2), won_at=at(9), lost_at=at(15), amount=700)
    reopened = episode("b", deal_id="d2", opportunity_at=at(12), won_at=at(9), amount=300)
    figures = figures_of(relost, reopened)
    assert (figures.funnel.opportunity, figures.funnel.won, figures.funnel.won_amount) == (2, 1, 300)
    assert figures.conversion.opportunity_to_won == 0.5
    assert figures.notes.reopened_after_won == 2


def test_a_deal_shared_by_episodes_counts_once_for_the_episode_live_when_it_came():
    first = episode(
        "a", 1, mql=at(0), recycled_at=at(5), deal_id="d1", opportunity_at=at(30), won_at=at(40), amount=900
    )
    second = episode("a", 2, mql=at(20), deal_id="d1", opportunity_at=at(30), won_at=at(40), amount=900)
    colleague = episode("b", mql=at(25), deal_id="d1", opportunity_at=at(30), won_at=at(40), amount=900)
    figures = figures_of(first, second, colleague)  # fmt: skip
    assert (figures.funnel.opportunity, figures.funnel.won, figures.funnel.won_amount) == (1, 1, 900)
    assert figures.notes.shared_deals == 2
    # the colleague's episode started last before the deal came, so it holds the deal
    assert figures.converted == 1 and figures.decided == 2  # the first episode was recycled, the second is open


def test_the_last_copy_of_an_episode_wins():
    early = episode("a", opportunity_at=at(3))
    later = episode("a", opportunity_at=at(3), won_at=at(8), amount=100)
    figures = figures_of(early, later)
    assert (figures.episodes, figures.funnel.won, figures.notes.duplicates_dropped) == (1, 1, 1)


def test_won_without_amount_counts_as_won_and_adds_nothing():
    figures = figures_of(episode("a", opportunity_at=at(3), won_at=at(8)), episode("b", won_at=at(8), amount=250))
    # a won deal was an opportunity even when its opportunity time is missing
    assert (figures.funnel.opportunity, figures.funnel.won, figures.funnel.won_amount) == (2, 2, 250)
    assert figures.notes.won_without_amount == 1


def test_lead_count_never_below_the_records_that_qualified_and_unknown_months_stay_unknown():
    eps = [episode(f"r{i}", created_at=at(-3)) for i in range(3)] + [episode("x", created_at=at(40))]
    figures = figures_of(*eps, leads={"2026-09": 2})
    september, october = figures.cohorts
    assert (september.month, september.counts.leads, september.conversion.lead_to_mql) == ("2026-09", 3, 1.0)
    assert (october.month, october.counts.leads, october.conversion.lead_to_mql) == ("2026-10", None, None)
    # overall lead→MQL uses only the cohorts whose leads are known
    assert (figures.funnel.leads, figures.funnel.mql, figures.conversion.lead_to_mql) == (3, 4, 1.0)


def test_cohort_is_the_creation_month_else_the_start_month():
    figures = figures_of(episode("a", created_at=at(-40)), episode("b", created_at=None))
    assert [c.month for c in figures.cohorts] == ["2026-07", "2026-09"]  # 2026-07-29 and 2026-09-07


def test_since_keeps_cohorts_from_its_month_on():
    eps = [episode("old", created_at=at(-40)), episode("new", created_at=at(-3))]
    figures = figures_of(*eps, leads={"2026-07": 50, "2026-09": 30}, since=date(2026, 9, 20))
    assert [c.month for c in figures.cohorts] == ["2026-09"]
    assert (figures.funnel.leads, figures.funnel.mql, figures.notes.before_period) == (30, 1, 1)


def test_touch_between_qualifying_and_sql_is_zero_minutes_and_pending_deadlines_wait():
    early = episode("a", mql=at(0), sql=at(1), first_touch_at=at(0.5), sla_minutes=60)
    pending = episode("b", sql=AS_OF - timedelta(minutes=20), sla_minutes=60)
    missed = episode("c", sql=AS_OF - timedelta(hours=5), sla_minutes=60)
    speed = figures_of(early, pending, missed).speed_to_lead
    assert (speed.sql, speed.touched, speed.median_minutes) == (3, 1, 0.0)
    assert (speed.sla_counted, speed.within_sla) == (2, 0.5)


def test_rules_versions_side_by_side():
    eps = [
        episode("a", score=80, rules_version="v1", opportunity_at=at(3)),
        episode("b", score=40, rules_version="v1", rejected_at=at(1)),
        episode("c", mql=at(30), score=70, rules_version="v2", rejected_at=at(31)),
        episode("d", sql=at(31), score=20, rules_version="v2", opportunity_at=at(33)),
    ]
    v1, v2 = figures_of(*eps).rules_versions
    assert (v1.version, v1.episodes, v1.rate, v1.auc, v1.sql_share) == ("v1", 2, 0.5, 1.0, 0.0)
    assert (v2.version, v2.episodes, v2.rate, v2.auc, v2.sql_share) == ("v2", 2, 0.5, 0.0, 0.5)


def test_live_against_shadow_on_the_same_decided_episodes():
    eps = [
        episode("a", score=80, shadow_score=60, shadow_level=Stage.MQL, opportunity_at=at(3)),
        episode("b", score=90, shadow_score=30, shadow_level=Stage.LEAD, rejected_at=at(1)),
        episode("c", sql=at(0), score=70, shadow_score=95, shadow_level=Stage.SQL, opportunity_at=at(2)),
    ]
    shadow = figures_of(*eps).shadow
    assert shadow is not None
    assert (shadow.episodes, shadow.auc_live, shadow.auc_shadow) == (3, 0.0, 1.0)
    cells = [(c.live, c.shadow, c.episodes, c.converted) for c in shadow.levels]
    assert cells == [("mql", "lead", 1, 0), ("mql", "mql", 1, 1), ("sql", "sql", 1, 1)]
    assert figures_of(episode("z")).shadow is None


def test_live_and_shadow_scores_each_split_the_same_episodes_into_bands():
    eps = [
        episode("a", score=80, shadow_score=60, shadow_level=Stage.MQL, opportunity_at=at(3)),
        episode("b", score=90, shadow_score=30, shadow_level=Stage.LEAD, rejected_at=at(1)),
        episode("c", sql=at(0), score=70, shadow_score=95, shadow_level=Stage.SQL, opportunity_at=at(2)),
    ]
    shadow = figures_of(*eps, bands=3).shadow
    assert shadow is not None
    live = [(b.min_score, b.converted) for b in shadow.live_bands]
    candidate = [(b.min_score, b.converted) for b in shadow.shadow_bands]
    assert live == [(70, 1), (80, 1), (90, 0)]
    assert candidate == [(30, 0), (60, 1), (95, 1)]


def test_rank_auc_counts_ties_half_and_needs_both_outcomes():
    assert rank_auc([(5, True), (5, False)]) == 0.5
    assert rank_auc([(1, False), (2, True), (2, False), (3, True)]) == pytest.approx(3.5 / 4)
    assert rank_auc([(1, True), (2, True)]) is None


def test_quantile_interpolates_between_ranks():
    assert quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)
    assert quantile([4.0], 0.5) == 4.0
    assert quantile([], 0.5) is None


def test_sample_history_is_plausible():
    figures = build_figures(sample_history(), AS_OF)
    assert figures.funnel.leads and figures.funnel.leads > figures.funnel.mql > figures.funnel.won > 0
    assert figures.auc is not None and figures.auc > 0.6
    assert len(figures.rules_versions) == 2 and figures.shadow is not None
