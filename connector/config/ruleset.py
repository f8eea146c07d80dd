"""The rules file (``config/scoring.yaml``): scoring rules plus the lifecycle policy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from connector.config.files import Location, load_model, read_text
from connector.policy.business_time import Duration, add_duration
from connector.policy.lifecycle import Policy
from connector.scoring.engine import CompiledRules, compile_rules, rules_version
from connector.scoring.rules import ScoringRules, StrictModel, cross_reference_problems

#: where an admin's rules live, relative to the working directory (the repository, a mounted volume)
DEFAULT_RULES_PATH = Path("config/scoring.yaml")
#: the same default rules, shipped inside the package for when there is no such file
PACKAGED_RULES_PATH = Path(__file__).with_name("default_scoring.yaml")
#: the canonical lead properties the adapters already read (DESIGN.md 4.3); a mapping may replace one only
#: when it says ``override: true``, so a typo never silently hides the built-in value
BUILT_IN_PROPERTIES = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "job_title",
        "company",
        "company_size",
        "industry",
        "country",
        "lead_source",
        "lead_status",
        "owner_id",
        "budget",
        "timeline",
        "need",
        "lifecycle_stage",
    }
)
#: the CRMs a mapping can name
CRMS = ("hubspot", "salesforce")
_CANONICAL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: HubSpot internal names are lower case; Salesforce API names may mix case (``Occupation__c``, ``AnnualRevenue``)
_CRM_NAME = {
    "hubspot": re.compile(r"^[a-z][a-z0-9_]{0,99}$"),
    "salesforce": re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$"),
}
#: Handoff writes these: reading one back as a rule's input would score a lead on its own last score
_HANDOFF_PREFIX = "handoff_"
#: an SLA due later than this many (business) days is a typo (``1000bd``); far enough out, no date fits it
LONGEST_SLA_DAYS = 366


class FieldMapping(StrictModel):
    """Where one canonical property lives in each CRM: a property (HubSpot) or field API name (Salesforce)."""

    hubspot: str | None = Field(None, description="internal name of the HubSpot contact property")
    salesforce: str | None = Field(None, description="API name of the Lead (and Contact) field, e.g. Occupation__c")
    override: bool = Field(False, description="replace the built-in canonical property of the same name")

    @field_validator("hubspot", "salesforce")
    @classmethod
    def _crm_name(cls, name: str | None, info: Any) -> str | None:
        if name is not None:
            if not _CRM_NAME[info.field_name].match(name):
                shape = "lower-case letters, digits and _" if info.field_name == "hubspot" else "letters, digits and _"
                raise ValueError(f"{name!r} is no {info.field_name} property name ({shape}, starting with a letter)")
            if name.lower().startswith(_HANDOFF_PREFIX):
                raise ValueError(f"{name!r} is one of Handoff's own results, not an input to score on")
        return name

    @model_validator(mode="after")
    def _one_crm(self) -> FieldMapping:
        if self.hubspot is None and self.salesforce is None:
            raise ValueError("name the property in at least one CRM (hubspot: ..., salesforce: ...)")
        return self

    def name_in(self, crm: str) -> str | None:
        """The property's name in ``crm``, or None when it is not mapped there."""
        return self.hubspot if crm == "hubspot" else self.salesforce if crm == "salesforce" else None


class RulesFile(ScoringRules):
    """The whole file: what earns points, what qualifies, and how the handoff to sales works."""

    fields: dict[str, FieldMapping] = Field(
        default_factory=dict,
        description="canonical name -> the CRM property it is read from, e.g. occupation: {hubspot: occupation}",
    )
    lifecycle: Policy = Field(default_factory=Policy)

    def fields_for(self, crm: str) -> dict[str, str]:
        """The mapped properties to read from ``crm``: canonical name -> the CRM's property name."""
        return {canonical: name for canonical, mapping in self.fields.items() if (name := mapping.name_in(crm))}


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
        spans: list[tuple[Location, str]] = [(("lifecycle", "sla", stage, "due"), sla.due)]
        if sla.escalate is not None:
            spans.append((("lifecycle", "sla", stage, "escalate", "after"), sla.escalate.after))
        for location, text in spans:
            duration = Duration.parse(text)
            # checked before computing, so a huge business duration never sets the clock walking for ages
            if duration.unit == "bh":
                days = timedelta(hours=duration.amount) / hours.day_length
            else:
                days = duration.amount * {"m": 1 / 1440, "h": 1 / 24}.get(duration.unit, 1)
            if days > LONGEST_SLA_DAYS:
                kind = "business days" if duration.business else "days"
                problems.append((location, f"{text!r} is more than {LONGEST_SLA_DAYS} {kind}"))
                continue
            try:
                add_duration(start, duration, hours)
            except (ValueError, OverflowError) as exc:
                problems.append((location, f"no due time can be computed from {text!r}: {exc}"))
    return problems


def _field_problems(fields: dict[str, FieldMapping]) -> list[tuple[Location, str]]:
    """Canonical names that are malformed, or that take a built-in name without ``override: true``."""
    problems: list[tuple[Location, str]] = []
    for name, mapping in fields.items():
        if not _CANONICAL_NAME.match(name):
            problems.append(
                (("fields", name), "a canonical name is lower-case letters, digits and _ (e.g. occupation)")
            )
        elif name in BUILT_IN_PROPERTIES and not mapping.override:
            problems.append(
                (("fields", name), f"{name!r} is a built-in property; add override: true to read it from elsewhere")
            )
        elif name not in BUILT_IN_PROPERTIES and mapping.override:
            problems.append((("fields", name, "override"), f"{name!r} is not a built-in property: nothing to override"))
    for crm in CRMS:
        taken: dict[str, str] = {}
        for name, mapping in fields.items():
            crm_name = mapping.name_in(crm)
            if crm_name is None:
                continue
            # both CRMs compare property names without regard to case
            first = taken.setdefault(crm_name.lower(), name)
            if first != name:
                problems.append((("fields", name, crm), f"{crm_name!r} is already mapped to {first!r}"))
    return problems


def _problems(rules: RulesFile) -> list[tuple[Location, str]]:
    return cross_reference_problems(rules) + _sla_problems(rules.lifecycle) + _field_problems(rules.fields)


def field_notes(rules: RulesFile, crm: str | None = None) -> list[str]:
    """What ``check-config`` tells an admin about property names, offline: nothing here is an error.

    The mapped properties (whether the CRM has them is checked when Handoff starts), those left
    unmapped for ``crm``, and rules on a property that is neither built in nor mapped (a typo
    never matches).
    """
    notes: list[str] = []
    if rules.fields:
        notes.append(
            f"fields: {', '.join(sorted(rules.fields))} mapped; whether the CRM has them is checked when Handoff starts"
        )
    unmapped = sorted(name for name, mapping in rules.fields.items() if crm is not None and not mapping.name_in(crm))
    if unmapped:
        notes.append(f"fields: {', '.join(unmapped)} not mapped for {crm}: rules on them see no value there")
    known = BUILT_IN_PROPERTIES | set(rules.fields)
    used = {
        rule.field or "email"
        for rule in (*rules.fit.rules, *rules.negative, *rules.disqualifiers)
        if rule.is_property_test()
    } | set(rules.bant.values())
    unknown = sorted(used - known)
    if unknown:
        notes.append(f"rules use {', '.join(unknown)}: neither a built-in property nor mapped under fields:")
    return notes


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
