"""Whatever a rules file holds, loading it ends in a Ruleset or in ConfigError lines: never a traceback.

Hypothesis writes arbitrary text, arbitrary bytes, YAML built from the rules
file's own vocabulary, and the default rules with one value swapped for
something hostile.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from builders import DEFAULT_RULES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.config.files import ConfigError
from connector.config.ruleset import Ruleset, load_rules

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DEFAULT_DATA = yaml.safe_load(DEFAULT_RULES.read_text(encoding="utf-8"))

KEYS = sorted(
    {
        *DEFAULT_DATA,
        "rules", "cap", "grades", "name", "field", "points", "reason", "type", "matches", "one_of", "min", "max",
        "equals", "domain_in", "present", "url_contains", "url_matches", "name_matches", "within_days", "min_count",
        "min_grade", "half_life_days", "mql", "sql", "hysteresis", "sla", "due", "priority", "business_hours",
        "timezone", "days", "start", "end", "holidays", "owners", "round_robin", "fallback", "A", "B", "C",
    }
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # nan and infinities included
    st.text(max_size=20),
    st.sampled_from(["2026-13-45", "25:00", "1bh", "99999bd", "(vp", "{value}", "{nope}", "page_view", "A", ".nan"]),
    st.dates(),
)
YAMLISH = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)


def loads_or_explains(path: Path, text: str | None = None) -> None:
    """The only two acceptable outcomes, each checked for its shape."""
    try:
        result = load_rules(path, text=text)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            line = str(problem)
            assert line.startswith(str(path)) and "\n" not in line, line
        return
    assert isinstance(result, Ruleset)
    assert result.version


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text(text):
    loads_or_explains(Path("fuzz.yaml"), text)


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_in_a_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("rules") / "fuzz.yaml"
    path.write_bytes(data)
    loads_or_explains(path)


@FUZZ
@given(YAMLISH)
def test_yaml_built_from_the_rules_vocabulary(data):
    loads_or_explains(Path("fuzz.yaml"), yaml.safe_dump(data, allow_unicode=True))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


PATHS = _paths(DEFAULT_DATA)


@FUZZ
@given(st.sampled_from(PATHS), YAMLISH)
def test_the_default_rules_with_one_value_swapped(path, value):
    data = copy.deepcopy(DEFAULT_DATA)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    loads_or_explains(Path("fuzz.yaml"), yaml.safe_dump(data, allow_unicode=True))
