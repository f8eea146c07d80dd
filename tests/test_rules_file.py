"""A broken rules file says what is wrong and where, one line per problem, and never shows a traceback.

Each problem reads ``<file>:<line>: <field>: <what is wrong>``, so an admin can
jump to the line in an editor.
"""

from __future__ import annotations

import re

import pytest
from builders import DEFAULT_RULES, REPO, rules_from
from typer.testing import CliRunner

from connector.cli import app
from connector.config.files import ConfigError, ConfigProblem
from connector.config.ruleset import json_schema_text

SCHEMA_FILE = REPO / "config" / "scoring.schema.json"
#: check-config --rules checks the rules file alone: no credentials needed
ENV = {"HUBSPOT_ACCESS_TOKEN": None, "HUBSPOT_ACCESS_TOKEN_FILE": None}


def problems(yaml_text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        rules_from(yaml_text, name="scoring.yaml")
    return caught.value.problems


def one_problem(yaml_text: str) -> ConfigProblem:
    found = problems(yaml_text)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


# ------------------------------------------------------------ syntax and structure


def test_bad_yaml_syntax_names_the_line():
    problem = one_problem(
        """\
        fit:
          cap: 60
          rules: [
            - name: vp
        """
    )
    assert str(problem).startswith("scoring.yaml:4: not valid YAML: ")


def test_unknown_key_points_at_its_line():
    problem = one_problem(
        """\
        fit:
          cap: 60
          grads: {A: 40, B: 25, C: 10}
        """
    )
    assert str(problem) == "scoring.yaml:3: fit.grads: unknown key"


def test_unknown_key_inside_a_rule_points_at_its_line():
    problem = one_problem(
        """\
        engagement:
          rules:
            - name: pricing_page
              type: page_view
              url_contains: /pricing
              points: 5
              capp: 20
        """
    )
    assert str(problem) == "scoring.yaml:7: engagement.rules[0].capp: unknown key"


def test_a_missing_required_field_names_the_rule():
    problem = one_problem(
        """\
        fit:
          rules:
            - field: job_title
              matches: vp
              points: 20
        """
    )
    assert str(problem) == "scoring.yaml:3: fit.rules[0].name: required but missing"


def test_wrong_type_names_the_value_it_got():
    problem = one_problem(
        """\
        engagement:
          half_life_days: a month
        """
    )
    assert (problem.line, problem.field) == (2, "engagement.half_life_days")
    assert "valid number" in problem.message and "(got 'a month')" in problem.message


def test_a_list_where_a_mapping_belongs_is_a_wrong_type():
    problem = one_problem("fit: [vp_title]\n")
    assert (problem.line, problem.field) == (1, "fit")
    assert "valid dictionary" in problem.message


def test_a_top_level_list_is_rejected_in_one_line():
    assert str(one_problem("- fit\n- engagement\n")) == "scoring.yaml:1: the top level must be a mapping of sections"


@pytest.mark.parametrize(
    "yaml_text",
    ["", "# only comments\n", "---\n"],
    ids=["empty", "comments-only", "empty-document"],
)
def test_an_empty_file_is_an_error_not_the_defaults(yaml_text):
    # an empty file is a mount or an editor gone wrong: scoring with built-in defaults would hide it
    assert str(one_problem(yaml_text)) == "scoring.yaml: the file is empty: it needs at least one section"


def test_a_key_given_twice_is_reported_at_the_second_one():
    problem = one_problem(
        """\
        fit:
          rules:
            - {name: vp_title, field: job_title, matches: vp, points: 20}
          rules:
            - {name: mid_market, field: company_size, min: 50, points: 15}
        """
    )
    assert (problem.line, problem.field) == (4, "fit.rules")


# ------------------------------------------------------------ rule contents


@pytest.mark.parametrize(
    ("yaml_text", "line", "field"),
    [
        (
            "fit:\n  rules:\n    - name: vp\n      field: job_title\n      matches: '(vp'\n      points: 20\n",
            5,
            "fit.rules[0].matches",
        ),
        (
            "engagement:\n  rules:\n    - name: pricing\n      type: page_view\n      url_matches: '[/pricing'\n"
            "      points: 5\n",
            5,
            "engagement.rules[0].url_matches",
        ),
        (
            "signals:\n  - name: demo\n    type: form_submission\n    name_matches: '*demo'\n",
            4,
            "signals[0].name_matches",
        ),
    ],
    ids=["matches", "url_matches", "name_matches"],
)
def test_a_bad_regex_names_its_field_and_the_regex_engines_complaint(yaml_text, line, field):
    problem = one_problem(yaml_text)
    assert (problem.line, problem.field) == (line, field)
    assert problem.message.startswith("bad regular expression: ")
    assert "position 0" in problem.message


def test_an_unknown_activity_type_is_named_with_the_known_ones():
    problem = one_problem(
        """\
        engagement:
          rules:
            - name: pricing
              type: page_veiw
              points: 5
        """
    )
    assert (problem.line, problem.field) == (4, "engagement.rules[0].type")
    assert "(got 'page_veiw')" in problem.message and "'page_view'" in problem.message


def test_an_unknown_activity_type_in_a_list_is_one_line_at_the_item():
    problem = one_problem(
        """\
        engagement:
          rules:
            - name: talks
              type: [call, webinar]
              points: 5
        """
    )
    assert problem.field == "engagement.rules[0].type[1]"
    assert "(got 'webinar')" in problem.message


@pytest.mark.parametrize("operator", ["domain_in", "one_of", "none_of"])
def test_a_reference_to_an_undefined_list_names_the_lists_there_are(operator):
    problem = one_problem(
        f"""\
        lists:
          competitors: [rivalcrm.com]
        negative:
          - name: free_mail
            field: email
            {operator}: freemail
            points: -15
        """
    )
    assert str(problem) == (
        f"scoring.yaml:6: negative[0].{operator}: no list named 'freemail' under lists (competitors)"
    )


def test_duplicate_rule_names_point_at_the_second_rule():
    problem = one_problem(
        """\
        fit:
          rules:
            - {name: seniority, field: job_title, matches: vp, points: 20}
        negative:
          - {name: seniority, field: job_title, matches: intern, points: -10}
        """
    )
    assert str(problem) == "scoring.yaml:5: negative[0].name: rule name 'seniority' is already used in fit.rules"


def test_a_rule_with_two_operators_names_both():
    problem = one_problem(
        """\
        fit:
          rules:
            - name: vp
              field: job_title
              matches: vp
              equals: VP
              points: 20
        """
    )
    assert (problem.line, problem.field) == (3, "fit.rules[0]")
    assert problem.message.endswith("(got equals, matches)")


def test_a_rule_without_an_operator_lists_the_operators():
    problem = one_problem(
        """\
        fit:
          rules:
            - name: vp
              field: job_title
              points: 20
        """
    )
    assert str(problem) == (
        "scoring.yaml:3: fit.rules[0]: a property rule needs exactly one of equals, not_equals, one_of, none_of, "
        "matches, min/max, domain_in, present"
    )


def test_a_rule_testing_a_property_and_activities_at_once_is_rejected():
    problem = one_problem(
        """\
        negative:
          - name: careers
            type: page_view
            field: job_title
            present: true
            points: -5
        """
    )
    assert (problem.line, problem.field) == (2, "negative[0]")
    assert "either a property (field + operator) or activities (type), not both" in problem.message


def test_a_negative_rule_with_positive_points_is_rejected():
    problem = one_problem(
        """\
        negative:
          - name: free_mail
            domain_in: [gmail.com]
            points: 15
        """
    )
    assert str(problem) == "scoring.yaml:4: negative[0].points: Input should be less than 0 (got 15)"


@pytest.mark.parametrize(
    ("reason", "allowed"),
    [
        ("'{count} views of {page}'", "{ago}, {count}, {name}, {s}, {url}, {when}, {window}"),
        ("'Viewed {value}'", "{ago}, {count}, {name}, {s}, {url}, {when}, {window}"),
    ],
)
def test_an_unknown_reason_placeholder_lists_the_ones_allowed(reason, allowed):
    problem = one_problem(
        f"""\
        engagement:
          rules:
            - name: pricing
              type: page_view
              points: 5
              reason: {reason}
        """
    )
    assert problem.line is not None and problem.field.startswith("engagement.rules[0]")
    assert re.fullmatch(r"unknown placeholder \{\w+\} in reason; use one of " + re.escape(allowed), problem.message)


@pytest.mark.parametrize("reason", ["'{value:.0f} employees'", "'{value!r} employees'"])
def test_a_reason_placeholder_with_a_format_is_rejected_because_crm_values_are_text(reason):
    problem = one_problem(
        f"""\
        fit:
          rules:
            - {{name: size, field: company_size, min: 50, points: 5, reason: {reason}}}
        """
    )
    assert (problem.field, problem.message) == (
        "fit.rules[0].reason",
        "placeholders take no format or conversion: write {value}",
    )


def test_an_unknown_reason_placeholder_points_at_the_reason_line():
    problem = one_problem(
        """\
        fit:
          rules:
            - name: vp
              field: job_title
              matches: vp
              points: 20
              reason: 'VP ({title})'
        """
    )
    assert (problem.line, problem.field) == (7, "fit.rules[0].reason")


# ------------------------------------------------------------ scorecard rules


def test_a_scorecard_takes_property_conditions_activity_counts_and_combinations():
    rules = rules_from(
        """\
        lists: {low_fit_industries: [Retail, Education]}
        scorecard:
          - {name: outside_retail, field: industry, none_of: low_fit_industries, points: 4}
          - {name: silent, type: email_open, max_count: 0, within_days: 90, points: -10}
          - name: vp_on_pricing
            all:
              - {field: job_title, matches: '\\bvp\\b'}
              - {type: page_view, url_contains: /pricing, min_count: 2, within_days: 14}
            points: 12
            reason: VP looking at pricing
        """
    )
    assert [(r.name, r.counts_activities()) for r in rules.file.scorecard] == [
        ("outside_retail", False),
        ("silent", True),
        ("vp_on_pricing", True),
    ]


def test_a_reference_to_an_undefined_list_inside_all_points_at_the_condition():
    problem = one_problem(
        """\
        scorecard:
          - name: outside_retail
            all:
              - {field: industry, none_of: low_fit}
            points: 4
        """
    )
    assert str(problem) == (
        "scoring.yaml:4: scorecard[0].all[0].none_of: no list named 'low_fit' under lists (none defined)"
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("{type: email_open, within_days: 30}", "an activity count needs min_count, max_count or both"),
        ("{type: email_open, min_count: 3, max_count: 1}", "min_count (3) is above max_count (1)"),
        ("{min_count: 3}", "an activity count needs a type"),
        (
            "{field: title, equals: CEO, type: call, min_count: 1}",
            "a condition tests either a property (field + operator) or an activity count "
            "(type + min_count/max_count), not both",
        ),
        ("{field: title, equals: CEO, not_equals: CTO}", "(got equals, not_equals)"),
    ],
)
def test_a_bad_scorecard_condition_says_what_is_wrong_at_its_own_line(rule, message):
    problem = one_problem(
        f"""\
        scorecard:
          - name: combined
            all:
              - {{field: country, equals: DE}}
              - {rule}
            points: 5
        """
    )
    assert (problem.line, problem.field) == (5, "scorecard[0].all[1]")
    assert problem.message.endswith(message)


def test_a_scorecard_rule_keeps_its_conditions_under_all_or_beside_its_name_not_both():
    problem = one_problem(
        """\
        scorecard:
          - {name: both, field: country, equals: DE, all: [{field: industry, equals: SaaS}], points: 5}
        """
    )
    assert problem.message == "a rule with `all` keeps its conditions under `all`, not beside it"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "{name: a, all: [{field: country, equals: DE}], points: 5, reason: 'From {value}'}",
            "unknown placeholder {value} in reason; this reason takes none",
        ),
        (
            "{name: a, type: call, min_count: 1, points: 5, reason: 'From {value}'}",
            "unknown placeholder {value} in reason; use one of {ago}, {count}, {name}, {s}, {url}, {when}, {window}",
        ),
        (
            "{name: a, field: country, equals: DE, points: 5, reason: '{count} calls'}",
            "unknown placeholder {count} in reason; use one of {domain}, {field}, {value}",
        ),
    ],
)
def test_a_scorecard_reason_takes_the_placeholders_of_its_kind_of_condition(rule, message):
    problem = one_problem(f"scorecard: [{rule}]")
    assert (problem.field, problem.message) == ("scorecard[0].reason", message)


# ------------------------------------------------------------ grades and thresholds


def test_grade_thresholds_out_of_order_are_rejected():
    problem = one_problem(
        """\
        fit:
          cap: 60
          grades: {A: 25, B: 40, C: 10}
        """
    )
    assert str(problem) == "scoring.yaml:3: fit.grades: grade thresholds must fall from A to B to C"


@pytest.mark.parametrize("sql", [40, 30])
def test_the_sql_threshold_must_be_above_the_mql_threshold(sql):
    problem = one_problem(
        f"""\
        thresholds:
          mql: 40
          sql: {sql}
        """
    )
    assert (problem.line, problem.field) == (3, "thresholds.sql")
    assert "above the MQL threshold (40)" in problem.message


def test_thresholds_may_be_negative_for_scorecards_whose_totals_go_below_zero():
    rules = rules_from("thresholds: {mql: -10, sql: 5, mql_min_engagement: -20, floor: -100}")
    assert (rules.file.thresholds.mql, rules.file.thresholds.floor) == (-10, -100)


def test_a_floor_at_or_above_the_mql_threshold_is_refused():
    problem = one_problem("thresholds: {mql: -10, sql: 5, floor: 0}\n")
    assert problem.field == "thresholds.floor"
    assert "below the MQL threshold (-10)" in problem.message


# ------------------------------------------------------------ YAML surprises


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("lists:\n  regions: [DE, SE, NO]\n", "lists.regions[2]"),
        ("lifecycle:\n  recycle_statuses: [BAD_TIMING, NO]\n", "lifecycle.recycle_statuses[1]"),
    ],
)
def test_an_unquoted_no_in_a_string_list_says_to_quote_it(yaml_text, field):
    problem = one_problem(yaml_text)
    assert (problem.line, problem.field) == (2, field)
    assert "got False" in problem.message and "quote the value" in problem.message


def test_an_unquoted_no_in_a_one_of_list_says_to_quote_it():
    problem = one_problem(
        """\
        fit:
          rules:
            - {name: nordics, field: country, one_of: [SE, NO], points: 5}
        """
    )
    assert problem.field.startswith("fit.rules[0].one_of")
    assert "quote the value" in problem.message


# ------------------------------------------------------------ the handoff policy


@pytest.mark.parametrize("due", ["1 hour", "1w", "-1h", "soon"])
def test_a_bad_sla_duration_gives_examples_of_good_ones(due):
    problem = one_problem(
        f"""\
        lifecycle:
          sla:
            sql: {{due: "{due}"}}
        """
    )
    assert (problem.line, problem.field) == (3, "lifecycle.sla.sql.due")
    assert problem.message == (
        f"not a duration: {due!r} (use e.g. 30m, 2h, 1d, 1bh for business hours, 1bd for business days)"
    )


def test_an_unknown_time_zone_asks_for_an_iana_name():
    problem = one_problem(
        """\
        lifecycle:
          business_hours:
            timezone: Europe/Berlinn
        """
    )
    assert str(problem) == (
        "scoring.yaml:3: lifecycle.business_hours.timezone: unknown time zone 'Europe/Berlinn' "
        "(use an IANA name such as Europe/Berlin)"
    )


# ------------------------------------------------------------ several at once

SEVERAL_PROBLEMS = """\
fit:
  cap: 0
  grads: {A: 40}
engagement:
  rules:
    - name: pricing
      type: page_view
      url_matches: '[/pricing'
      points: 5
lifecycle:
  business_hours:
    timezone: Mars/Olympus
"""


def test_several_problems_give_one_line_each_in_file_order():
    found = problems(SEVERAL_PROBLEMS)
    assert [(p.line, p.field) for p in found] == [
        (2, "fit.cap"),
        (3, "fit.grads"),
        (8, "engagement.rules[0].url_matches"),
        (12, "lifecycle.business_hours.timezone"),
    ]


# ------------------------------------------------------------ through the CLI


@pytest.fixture
def check_config(tmp_path):
    runner = CliRunner()

    def run(yaml_text: str):
        path = tmp_path / "scoring.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        return path, runner.invoke(app, ["check-config", "--rules", str(path)], env=ENV)

    return run


def test_check_config_prints_one_file_line_field_message_per_problem_and_exits_2(check_config):
    path, result = check_config(SEVERAL_PROBLEMS)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{path}:2", "fit.cap"],
        [f"{path}:3", "fit.grads"],
        [f"{path}:8", "engagement.rules[0].url_matches"],
        [f"{path}:12", "lifecycle.business_hours.timezone"],
    ]
    assert all(re.fullmatch(re.escape(str(path)) + r":\d+: [\w.\[\]]+: \S.*", line) for line in lines), lines
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_check_config_reports_bad_yaml_in_one_line_without_a_traceback(check_config):
    path, result = check_config("fit:\n  cap: 60\n rules: []\n")
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"{path}:3: not valid YAML: ")
    assert "Traceback" not in result.output


def test_check_config_reports_a_missing_rules_file_in_one_line(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    result = CliRunner().invoke(app, ["check-config", "--rules", str(missing)], env=ENV)
    assert result.exit_code == 2
    assert result.stderr == f"{missing}: cannot read file: No such file or directory\n"


def test_check_config_rejects_an_empty_rules_file(check_config):
    path, result = check_config("")
    assert result.exit_code == 2
    assert result.stderr == f"{path}: the file is empty: it needs at least one section\n"


def test_the_default_rules_load_and_check_config_says_ok():
    result = CliRunner().invoke(app, ["check-config", "--rules", str(DEFAULT_RULES)], env=ENV)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"{DEFAULT_RULES}: ok (rules version 2026.11-b2b-saas-1)"


# ------------------------------------------------------------ the schema for editors


def test_the_committed_json_schema_matches_the_rules_models():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "config/scoring.schema.json is out of date: run .venv/bin/python scripts/export_rules_schema.py"
    )


def test_the_scorecard_example_in_the_readme_loads():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(scorecard:\n.*?)```", readme, re.DOTALL)
    assert example is not None
    rules = rules_from("lists: {low_fit_industries: [Retail]}\n" + example.group(1))
    assert len(rules.file.scorecard) == 4
