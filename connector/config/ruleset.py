"""The rules file (``config/scoring.yaml``): scoring rules plus the lifecycle policy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from connector.config.files import load_model, read_text
from connector.policy.lifecycle import Policy
from connector.scoring.engine import CompiledRules, compile_rules, rules_version
from connector.scoring.rules import ScoringRules, cross_reference_problems

DEFAULT_RULES_PATH = Path("config/scoring.yaml")


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


def load_rules(path: Path, text: str | None = None) -> Ruleset:
    """Load, validate and compile a rules file. Raises ConfigError with one line per problem."""
    if text is None:
        text = read_text(path)
    parsed = load_model(path, RulesFile, cross_reference_problems, text=text)
    return Ruleset(path, parsed, compile_rules(parsed, rules_version(parsed, text)))


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the rules file, for editors (yaml-language-server)."""
    schema = RulesFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Handoff scoring rules"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
