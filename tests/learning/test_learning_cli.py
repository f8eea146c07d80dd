"""`handoff backtest` and `handoff calibrate` as marketing ops runs them: figures, files, one clear line on bad input."""

from __future__ import annotations

import csv
import json
import random
import textwrap

import pytest
import yaml
from builders import DEFAULT_RULES
from labelled_courses import COURSE_RULES, NOW, course_leads, jsonl
from typer.testing import CliRunner

from connector.cli import app
from connector.config.ruleset import load_rules
from connector.model import Lead, Stage
from connector.scoring.engine import score

AT = ["--now", NOW.isoformat()]
ENV = {"HUBSPOT_ACCESS_TOKEN": "pat-test", "HANDOFF_CRM": "hubspot"}


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def course_file(tmp_path):
    path = tmp_path / "courses.jsonl"
    path.write_text(jsonl(course_leads(900)))
    return path


@pytest.fixture
def candidate(tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text(textwrap.dedent(COURSE_RULES))
    return path


def invoke(runner, *args):
    return runner.invoke(app, [str(a) for a in args], env=ENV)


def no_traceback(result):
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# ------------------------------------------------------------------ backtest


def test_backtest_json_puts_both_rule_sets_side_by_side(runner, course_file, candidate):
    result = invoke(
        runner, "backtest", "--rules", candidate, "--baseline", DEFAULT_RULES, "--from", course_file, *AT, "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for side in ("baseline", "candidate"):
        assert {"auc", "average_precision", "mql", "sql"} <= set(data[side])
    assert data["candidate"]["auc"] > data["baseline"]["auc"]
    assert data["changes"] == sum(data["transitions"].values()) > 0


def test_backtest_csv_lists_who_changes_level_with_scores_and_reasons(runner, course_file, candidate, tmp_path):
    out = tmp_path / "changes.csv"
    result = invoke(runner, "backtest", "--rules", candidate, "--from", course_file, *AT, "--csv", out)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert rows and all(r["baseline_level"] != r["candidate_level"] for r in rows)
    promoted = next(r for r in rows if r["candidate_level"] == "sql")
    assert "Working professional" in promoted["candidate_reasons"] or "lead form" in promoted["candidate_reasons"]
    assert f"{len(rows):,} lead(s) change level" in result.stdout


def test_backtest_tables_show_volumes_auc_bands_and_lift(runner, course_file, candidate):
    result = invoke(runner, "backtest", "--rules", candidate, "--from", course_file, *AT)
    assert result.exit_code == 0, result.output
    for words in (
        "MQL or better",
        "AUC",
        "average precision",
        "Conversion by score band",
        "Rule lift",
        "working_professional",
    ):
        assert words in result.stdout


def test_backtest_from_a_state_store_without_episodes_says_so(runner, candidate, tmp_path):
    env = {**ENV, "HANDOFF_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite'}"}
    result = runner.invoke(app, ["backtest", "--rules", str(candidate), *AT], env=env)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "state: no episodes yet (the sync records one when a lead becomes MQL or SQL)",
        "state: no usable lead",
    ]
    no_traceback(result)


def test_from_state_with_bad_settings_is_one_clear_line(runner, candidate):
    env = {**ENV, "HANDOFF_STATE_URL": "mysql://nowhere/db"}
    result = runner.invoke(app, ["backtest", "--rules", str(candidate), *AT], env=env)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("environment: HANDOFF_STATE_URL: mysql is not supported")
    no_traceback(result)


def test_backtest_reports_skipped_lines_and_exits_1(runner, candidate, tmp_path):
    path = tmp_path / "leads.jsonl"
    path.write_text(jsonl(course_leads(40)) + '{"id": "x", "converted": "maybe"}\n')
    result = invoke(runner, "backtest", "--rules", candidate, "--from", path, *AT, "--json")
    assert result.exit_code == 1
    assert f"{path}:41: converted: 'maybe' is not true or false" in result.stderr
    assert json.loads(result.stdout)["leads"] == 40


# ----------------------------------------------------------------- calibrate


def calibrate(runner, source, out, *extra):
    return invoke(runner, "calibrate", "--from", source, "--rules", DEFAULT_RULES, *AT, "--out", out, *extra)


def test_calibration_with_no_conversions_is_one_clear_line(runner, tmp_path):
    path = tmp_path / "none.jsonl"
    path.write_text(jsonl([{**o, "converted": False} for o in course_leads(200)]))
    result = calibrate(runner, path, tmp_path / "p.yaml")
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == f"{path}: all 200 leads with a known outcome did not convert; calibration needs both outcomes"
    )
    assert not (tmp_path / "p.yaml").exists()
    no_traceback(result)


def test_calibration_with_only_conversions_is_one_clear_line(runner, tmp_path):
    path = tmp_path / "all.jsonl"
    path.write_text(jsonl([{**o, "converted": True} for o in course_leads(200)]))
    result = calibrate(runner, path, tmp_path / "p.yaml")
    assert result.exit_code == 2
    assert "all 200 leads with a known outcome converted; calibration needs both outcomes" in result.stderr
    no_traceback(result)


def test_too_few_leads_for_a_holdout_is_one_clear_line(runner, tmp_path):
    path = tmp_path / "few.jsonl"
    path.write_text(jsonl(course_leads(30)))
    result = calibrate(runner, path, tmp_path / "p.yaml")
    assert result.exit_code == 2
    assert "too few leads for a 30% holdout" in result.stderr and "each outcome needs at least" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    no_traceback(result)


def test_one_target_at_a_time(runner, course_file, tmp_path):
    result = calibrate(
        runner, course_file, tmp_path / "p.yaml", "--target-mql-rate", "0.2", "--target-precision", "0.5"
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == "--target-mql-rate and --target-precision: give one or the other"


def test_text_labels_constant_properties_and_odd_numbers_are_warnings_not_failures(runner, tmp_path):
    objects = course_leads(900)
    for i, o in enumerate(objects):
        o["converted"] = "yes" if o["converted"] else "no"
        if i % 50 == 0:
            o["properties"]["total_time_on_website_minutes"] = float("nan")
    path = tmp_path / "odd.jsonl"
    path.write_text(jsonl(objects))
    out = tmp_path / "p.yaml"
    result = calibrate(runner, path, out)
    assert result.exit_code == 0, result.output
    assert "converted given as text or a number on 900 line(s)" in result.stderr
    assert "18 value(s) are not finite numbers (NaN or Infinity)" in result.stderr
    assert "property country has the same value on every lead: no rule can use it" in result.stderr
    assert out.exists()
    no_traceback(result)


def test_the_proposed_file_passes_check_config_and_keeps_the_agreements(runner, course_file, tmp_path):
    out = tmp_path / "proposed.yaml"
    result = calibrate(runner, course_file, out, "--max-rules", "8")
    assert result.exit_code == 0, result.output
    checked = invoke(runner, "check-config", "--rules", out)
    assert checked.exit_code == 0, checked.output
    assert "(rules version 2026.11-b2b-saas-2)" in checked.stdout
    text = out.read_text()
    assert text.startswith("# yaml-language-server")
    for words in ("AUC", "average precision", "MQL volume", "held out"):
        assert words in text.split("version:")[0]
    from connector.config.ruleset import load_rules

    proposed, current = load_rules(out), load_rules(DEFAULT_RULES)
    assert 0 < len(proposed.file.scorecard) <= 8
    assert all(rule.reason for rule in proposed.file.scorecard)
    assert all(float(rule.points).is_integer() for rule in proposed.file.scorecard)
    assert proposed.file.lists == current.file.lists
    assert proposed.file.lifecycle == current.file.lifecycle
    assert proposed.file.signals == current.file.signals
    assert proposed.file.disqualifiers == current.file.disqualifiers
    assert "Occupation: Working Professional" in {rule.reason for rule in proposed.file.scorecard}
    for words in ("Held out", "AUC", "Rules against the current file", "+ occupation_working_professional"):
        assert words in result.stdout


def test_calibrated_negative_thresholds_pass_check_config_and_keep_poor_leads_in_order(runner, tmp_path):
    # most leads are students who rarely convert: the learned points are negative, so is the MQL threshold
    rng = random.Random(3)
    rows = []
    for i in range(400):
        student = rng.random() < 0.8
        converted = rng.random() < (0.05 if student else 0.6)
        rows.append(
            {"id": str(i), "properties": {"occupation": "Student" if student else "Pro"}, "converted": converted}
        )
    source = tmp_path / "students.jsonl"
    source.write_text(jsonl(rows))
    out = tmp_path / "proposed.yaml"
    result = calibrate(runner, source, out, "--target-mql-rate", "0.9")
    assert result.exit_code == 0, result.output
    thresholds = yaml.safe_load(out.read_text())["thresholds"]
    assert thresholds["mql"] < 0 and "floor" not in thresholds  # the current file's floor: 0 is not carried over
    assert invoke(runner, "check-config", "--rules", out).exit_code == 0
    proposed = load_rules(out)
    student, pro = (score(Lead(k, {"occupation": k}), proposed.compiled, NOW) for k in ("Student", "Pro"))
    assert student.score < 0 <= pro.score
    assert student.stage is Stage.MQL  # at the negative threshold: 90% of leads are MQL or better
