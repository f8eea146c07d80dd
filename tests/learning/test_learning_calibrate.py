"""Calibration learns a readable scorecard that ranks a business's own leads, measured on leads it never saw."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from builders import DEFAULT_RULES, default_rules, rules_from
from labelled_courses import COURSE_RULES, NOW, course_leads

from connector.learning.backtest import backtest
from connector.learning.calibrate import CalibrationError, CalibrationOptions, calibrate, split
from connector.learning.features import evaluate
from connector.learning.labelled import LabelledLead, labelled_from_json
from connector.scoring import score

OUT = Path("proposed.yaml")


def labelled(n: int = 1500, seed: int = 3) -> list[LabelledLead]:
    return [labelled_from_json(o) for o in course_leads(n, seed)]


def run(leads, current=None, doc=None, **options):
    current = current or default_rules()
    doc = doc if doc is not None else yaml.safe_load(DEFAULT_RULES.read_text())
    return calibrate(leads, current, doc, NOW, CalibrationOptions(**options), "courses.jsonl", OUT)


@pytest.fixture(scope="module")
def default_run():
    return run(labelled())


def test_calibrated_rules_rank_held_out_leads_far_better_than_the_saas_defaults(default_run):
    before, after = default_run.before, default_run.after
    assert before.auc < 0.6
    assert after.auc > 0.75
    assert after.average_precision > before.average_precision + 0.1
    assert (default_run.trained_on, default_run.held_out) == (1050, 450)


def test_the_engine_scores_the_proposed_file_exactly_as_it_was_learned(default_run):
    leads = [item.lead for item in labelled(300, seed=9)]
    rules = default_run.rules
    held = evaluate([r.condition for r in rules], leads, NOW)
    learned = held.astype(np.int64) @ np.array([r.points for r in rules])
    engine = [score(lead, default_run.proposed.compiled, NOW).score for lead in leads]
    assert engine == learned.tolist()


def test_the_scorecard_finds_what_drives_conversion_and_words_it_plainly(default_run):
    by_name = {r.condition.name: r for r in default_run.rules}
    assert by_name["occupation_working_professional"].points >= 15
    assert by_name["lead_origin_lead_add_form"].points >= 10
    assert by_name["occupation_working_professional"].condition.reason == "Occupation: Working Professional"
    assert len(default_run.rules) <= 15
    assert all(r.condition.reason for r in default_run.rules)


def test_the_current_rules_make_no_mql_here_so_the_mql_volume_aims_at_the_conversion_rate(default_run):
    assert default_run.before.mql == 0
    assert any("make no lead an MQL on these leads" in w for w in default_run.warnings)
    converted = sum(1 for item in labelled() if item.converted) / 1500
    assert default_run.after.mql_rate == pytest.approx(converted, abs=0.06)


def test_by_default_the_mql_volume_stays_what_the_current_rules_make():
    current = rules_from(COURSE_RULES)
    result = run(labelled(), current=current, doc=yaml.safe_load(textwrap.dedent(COURSE_RULES)))
    assert result.before.mql_rate > 0.1
    assert result.after.mql_rate == pytest.approx(result.before.mql_rate, abs=0.06)
    assert result.after.sql == pytest.approx(result.before.sql, abs=0.06 * result.held_out)


def test_a_target_mql_rate_sets_the_volume():
    result = run(labelled(), target_mql_rate=0.3)
    assert result.after.mql_rate == pytest.approx(0.3, abs=0.06)
    assert "30.0% of leads MQL or better" in result.text


def test_a_target_precision_makes_mqls_convert_at_that_rate():
    leads = labelled()
    result = run(leads, target_precision=0.6)
    held = [leads[i] for i in split(np.array([x.converted for x in leads]), 0.3, 0)[1]]
    levels = [score(x.lead, result.proposed.compiled, NOW) for x in held]
    mqls = [x.converted for x, q in zip(held, levels, strict=True) if q.stage.value in ("mql", "sql")]
    assert len(mqls) > 20
    assert sum(mqls) / len(mqls) == pytest.approx(0.6, abs=0.12)


def test_the_max_rules_budget_is_kept():
    assert len(run(labelled(), max_rules=4).rules) <= 4


def test_the_same_leads_and_seed_give_the_same_file():
    leads = labelled(900)
    assert run(leads).text == run(leads).text


def test_leads_without_outcome_are_left_out_with_a_warning():
    leads = labelled(900) + [LabelledLead(item.lead, None) for item in labelled(20, seed=8)]
    result = run(leads)
    assert "20 lead(s) without a known outcome left out" in result.warnings
    assert result.trained_on + result.held_out == 900


@pytest.mark.parametrize(
    ("outcomes", "message"),
    [
        ([False] * 200, "courses.jsonl: all 200 leads with a known outcome did not convert"),
        ([True] * 200, "courses.jsonl: all 200 leads with a known outcome converted"),
        ([True] * 12 + [False] * 188, "courses.jsonl: too few leads for a 30% holdout: 12 converted and 188 did not"),
    ],
)
def test_outcomes_that_cannot_support_a_calibration_say_why_in_one_line(outcomes, message):
    leads = [LabelledLead(item.lead, flag) for item, flag in zip(labelled(len(outcomes)), outcomes, strict=True)]
    with pytest.raises(CalibrationError) as caught:
        run(leads)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_backtest_of_the_proposed_file_shows_each_learned_rules_lift(default_run):
    result = backtest(labelled(400, seed=11), default_rules().compiled, default_run.proposed.compiled, NOW)
    lifts = {lift.rule: lift for lift in result.candidate.lifts if lift.section == "scorecard"}
    assert set(lifts) == {rule.condition.name for rule in default_run.rules}
    assert lifts["occupation_working_professional"].lift > 2
