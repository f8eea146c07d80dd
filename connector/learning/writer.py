"""The proposed rules file, as text a reviewer reads in a pull request.

The learned rules go under ``scorecard``, one line each with a comment saying how many leads the
rule fires for and how they converted. The sections that carry agreements rather than points
(``lists``, ``bant``, ``signals``, ``disqualifiers``, ``lifecycle`` and any other) are copied from
the current file as they were written. Old fit, engagement and negative rules are replaced: the
ones that still matter came back as candidates and are in the scorecard under their own names, with
new points.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from connector.learning.candidates import plain_number
from connector.learning.conditions import AllCondition, Condition, PropertyCondition

#: sections of the current file that calibration writes anew; every other one is copied as it is
REPLACED_SECTIONS = frozenset({"version", "fit", "engagement", "negative", "scorecard", "thresholds"})
#: rules files can be long; a rule stays on one line whatever its length
_WIDTH = 4096
#: a mapping this short stays on its key's line
_SHORT = 60


@dataclass(frozen=True)
class LearnedRule:
    """A condition with its points, and how it did on the training leads."""

    condition: Condition
    points: int
    fired: int
    fired_converted: int
    not_fired: int
    not_fired_converted: int

    def rule(self) -> dict[str, Any]:
        """The rule as the rules file's ``scorecard`` section takes it."""
        return {
            "name": self.condition.name,
            **_test(self.condition),
            "points": self.points,
            "reason": self.condition.reason,
        }

    def comment(self) -> str:
        total = self.fired + self.not_fired
        share = self.fired / total if total else 0.0
        fired = self.fired_converted / self.fired if self.fired else 0.0
        rest = self.not_fired_converted / self.not_fired if self.not_fired else 0.0
        return f"{share:.1%} of leads; {fired:.1%} of them converted, {rest:.1%} of the others"


def _test(condition: Condition) -> dict[str, Any]:
    """A condition's test as a scorecard rule writes it (without name, points and reason)."""
    if isinstance(condition, AllCondition):
        return {"all": [_test(part) for part in condition.parts]}
    if isinstance(condition, PropertyCondition):
        return dict(condition.test)
    out: dict[str, Any] = {**condition.match, "min_count": condition.min_count}
    if condition.max_count is not None:
        out["max_count"] = condition.max_count
    if condition.within_days is not None:
        out["within_days"] = plain_number(condition.within_days)
    return out


def bump_version(version: str | None) -> str:
    """``2026.11-b2b-saas-1`` -> ``2026.11-b2b-saas-2``; a version without a trailing number gets ``-calibrated-1``."""
    if not version:
        return "calibrated-1"
    found = re.search(r"(\d+)$", version)
    if found is None:
        return f"{version}-calibrated-1"
    return version[: found.start()] + str(int(found.group(1)) + 1)


def _flow(value: Any) -> str:
    """A value on one line, quoted where YAML would misread it (``'NO'``, ``'09:00'``)."""
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=_WIDTH, allow_unicode=True)
    return text.removesuffix("...\n").strip()


def _block(key: str, value: Any, depth: int = 0) -> str:
    """A section: mappings nest, a list of rules puts one rule on a line, the rest sits on the key's line."""
    pad = "  " * depth
    short = isinstance(value, Mapping) and len(_flow(value)) <= _SHORT
    if isinstance(value, Mapping) and value and not short:
        return f"{pad}{_flow(key)}:\n" + "".join(_block(k, v, depth + 1) for k, v in value.items())
    if isinstance(value, list) and value and all(isinstance(item, Mapping) for item in value):
        return f"{pad}{_flow(key)}:\n" + "".join(f"{pad}  - {_flow(item)}\n" for item in value)
    return f"{pad}{_flow(key)}: {_flow(value)}\n"


def render(
    header: Sequence[str],
    version: str,
    current: Mapping[str, Any],
    rules: Sequence[LearnedRule],
    grades: Mapping[str, int],
    thresholds: Mapping[str, Any],
) -> str:
    """The whole proposed file: ``header`` as comments, then the sections in the usual order."""
    kept = [key for key in current if key not in REPLACED_SECTIONS and key != "lifecycle"]
    parts = [
        "# yaml-language-server: $schema=scoring.schema.json\n#\n",
        "".join(f"# {line}".rstrip() + "\n" for line in header),
        "\n",
        _block("version", version),
    ]
    parts += ["\n" + _block(key, current[key]) for key in kept]
    parts.append("\n" + _block("fit", {"grades": dict(grades)}))
    parts.append("\n# points added once when a lead meets the condition; the comment says how the training leads did\n")
    if rules:
        parts.append("scorecard:\n")
        parts += [f"  # {learned.comment()}\n  - {_flow(learned.rule())}\n" for learned in rules]
    else:
        parts.append("scorecard: []\n")
    parts.append("\n" + _block("thresholds", dict(thresholds)))
    if "lifecycle" in current:
        parts.append("\n" + _block("lifecycle", current["lifecycle"]))
    return "".join(parts)
