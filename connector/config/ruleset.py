"""The rules file (``config/scoring.yaml``): scoring rules plus the lifecycle policy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field

from connector.config.files import Location, load_model, read_text
from connector.policy.business_time import Duration, add_duration
from connector.policy.lifecycle import Policy
from connector.scoring.engine import CompiledRules, compile_rules, rules_version
from connector.scoring.rules import ScoringRules, cross_reference_problems

#: where an admin's rules live, relative to the working directory (the repository, a mounted volume)
DEFAULT_RULES_PATH = Path("config/scoring.yaml")
#: the same default rules, shipped inside the package for when there is no such file
PACKAGED_RULES_PATH = Path(__file__).with_name("default_scoring.yaml")
#: an SLA due later than this many (business) days is a typo (``1000bd``); far enough out, no date fits it
LONGEST_SLA_DAYS = 366


class RulesFile(ScoringRules):
    """The whole file: what earns points, what qualifies, and how the handoff to sales works."""

    lifecycle: Policy = Field(default_factory=Policy)


@dataclass(frozen=True)
class Ruleset:
    """A loaded rules file, compiled and versioned: what every run scores with."""

    path: Path
    file: RulesFile
    compiled: CompiledRules

    @property
    def version(self) -> str:
        return self.compiled.version

    @property
    def policy(self) -> Policy:
        return self.file.lifecycle


def rules_path(given: Path | None) -> Path:
    """The rules file to use: the one given, else ``config/scoring.yaml`` if there is one, else the packaged rules."""
    if given is not None:
        return given
    return DEFAULT_RULES_PATH if DEFAULT_RULES_PATH.is_file() else PACKAGED_RULES_PATH


def _sla_problems(policy: Policy) -> list[tuple[Location, str]]:
    """SLAs whose due time cannot be computed or lies more than a year (of business days) out."""
    problems: list[tuple[Location, str]] = []
    hours = policy.business_hours
    # a Monday, so every kind of week has business days ahead of it
    start = datetime(2026, 1, 5, tzinfo=UTC)
    for stage, sla in policy.sla.items():
        duration = Duration.parse(sla.due)
        location = ("lifecycle", "sla", stage, "due")
        # checked before computing, so a huge business duration never sets the clock walking for ages
        if duration.unit == "bh":
            days = timedelta(hours=duration.amount) / hours.day_length
        else:
            days = duration.amount * {"m": 1 / 1440, "h": 1 / 24}.get(duration.unit, 1)
        if days > LONGEST_SLA_DAYS:
            kind = "business days" if duration.business else "days"
            problems.append((location, f"{sla.due!r} is more than {LONGEST_SLA_DAYS} {kind}"))
            continue
        try:
            add_duration(start, duration, hours)
        except (ValueError, OverflowError) as exc:
            problems.append((location, f"no due time can be computed from {sla.due!r}: {exc}"))
    return problems


def _problems(rules: RulesFile) -> list[tuple[Location, str]]:
    return cross_reference_problems(rules) + _sla_problems(rules.lifecycle)


def load_rules(path: Path, text: str | None = None) -> Ruleset:
    """Load, validate and compile a rules file. Raises ConfigError with one line per problem."""
    if text is None:
        text = read_text(path)
    parsed = load_model(path, RulesFile, _problems, text=text)
    return Ruleset(path, parsed, compile_rules(parsed, rules_version(parsed, text)))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the rules file, for editors (yaml-language-server)."""
    schema = RulesFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Handoff scoring rules"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
