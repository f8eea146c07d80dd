"""A backtest shows what a rules change would do before it is published."""

from __future__ import annotations

from builders import default_rules, rules_from
from labelled_courses import COURSE_RULES, NOW, course_leads

from connector.learning.backtest import CHANGE_COLUMNS, backtest
from connector.learning.labelled import LabelledLead, labelled_from_json


def labelled(n: int = 800) -> list[LabelledLead]:
    return [labelled_from_json(o) for o in course_leads(n)]


def test_rules_written_for_the_business_rank_its_leads_better_than_the_saas_defaults():
    result = backtest(labelled(), default_rules().compiled, rules_from(COURSE_RULES).compiled, NOW)
    base, cand = result.baseline, result.candidate
    assert base.auc is not None and cand.auc is not None
    assert base.auc < 0.6 < 0.7 < cand.auc
    assert cand.average_precision > base.average_precision
    assert cand.top_decile_conversion > base.top_decile_conversion
    assert (base.leads, base.labelled) == (800, 800)


def test_volumes_and_level_changes_are_counted_lead_by_lead():
    leads = labelled(300)
    result = backtest(leads, default_rules().compiled, rules_from(COURSE_RULES).compiled, NOW)
    cand = result.candidate
    pros = sum(1 for item in leads if item.lead.properties.get("occupation") == "Working Professional")
    assert cand.mql >= pros  # 30 points clear the MQL threshold of 25 on their own
    assert cand.mql >= cand.sql > 0
    assert len(result.changes) == sum(result.transitions().values())
    change = result.changes[0]
    row = change.row()
    assert row["baseline_level"] != row["candidate_level"]
    assert tuple(row) == CHANGE_COLUMNS
    assert {"baseline_reasons", "candidate_reasons", "baseline_score", "candidate_score"} <= set(row)


def test_each_rule_has_its_lift_with_counts():
    result = backtest(labelled(), default_rules().compiled, rules_from(COURSE_RULES).compiled, NOW)
    lifts = {lift.rule: lift for lift in result.candidate.lifts}
    pro = lifts["working_professional"]
    assert pro.section == "fit"
    assert pro.fired + pro.not_fired == 800
    assert pro.lift is not None and pro.lift > 2
    assert {"demo_request", "free_mail", "pricing_page"} <= {lift.rule for lift in result.baseline.lifts}


def test_conversion_is_shown_per_level_and_per_score_band():
    result = backtest(labelled(), default_rules().compiled, rules_from(COURSE_RULES).compiled, NOW)
    cand = result.candidate
    assert cand.levels["sql"].rate > cand.levels["lead"].rate
    assert sum(b.leads for b in cand.bands) == 800
    assert cand.bands[-1].rate > cand.bands[0].rate


def test_without_outcomes_only_volumes_and_changes_are_shown():
    leads = [LabelledLead(item.lead, None) for item in labelled(100)]
    result = backtest(leads, default_rules().compiled, rules_from(COURSE_RULES).compiled, NOW)
    assert result.candidate.auc is None and result.candidate.lifts == []
    assert result.candidate.mql > 0
    assert result.warnings == ["no lead has a known outcome (converted): only volumes and level changes are shown"]


def test_with_one_outcome_only_ranking_figures_are_left_out_with_a_warning():
    leads = [LabelledLead(item.lead, True) for item in labelled(50)]
    result = backtest(leads, default_rules().compiled, rules_from(COURSE_RULES).compiled, NOW)
    assert result.candidate.auc is None and result.candidate.average_precision is None
    assert result.warnings == ["all 50 leads with a known outcome converted: AUC and average precision need both"]
