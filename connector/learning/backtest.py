"""What a rules change would do: two rule sets over the same leads, side by side.

For each rule set: how many leads would be MQL (or better) and SQL, and where outcomes are known
how well the score ranks them (AUC, average precision, conversion in the top decile and per score
band and per level) and each rule's lift. Between the two: who would change level.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from connector.learning.conditions import rule_conditions
from connector.learning.features import evaluate
from connector.learning.labelled import LabelledLead
from connector.learning.metrics import (
    Band,
    Conversion,
    Lift,
    auc,
    average_precision,
    both_outcomes,
    rule_lift,
    score_bands,
    top_share_conversion,
)
from connector.model import Qualification, Stage
from connector.scoring import CompiledRules, score

#: the levels a lead can end at, lowest first
LEVELS = ("disqualified", "lead", "mql", "sql")
#: the columns of a level change, in the order the CSV shows them
CHANGE_COLUMNS = (
    "id",
    "baseline_level",
    "candidate_level",
    "baseline_score",
    "candidate_score",
    "baseline_reasons",
    "candidate_reasons",
)
_TOP_REASONS = 3


def level(q: Qualification) -> str:
    """``disqualified``, ``lead``, ``mql`` or ``sql``."""
    return "disqualified" if q.disqualified else q.stage.value


@dataclass
class Side:
    """One rule set over the leads."""

    rules_version: str
    leads: int
    mql: int
    sql: int
    disqualified: int
    labelled: int
    converted: int
    auc: float | None = None
    average_precision: float | None = None
    top_decile_conversion: float | None = None
    bands: list[Band] = field(default_factory=list)
    #: conversion of the labelled leads at each level
    levels: dict[str, Conversion] = field(default_factory=dict)
    lifts: list[Lift] = field(default_factory=list)

    @property
    def mql_rate(self) -> float:
        return self.mql / self.leads if self.leads else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "rules_version": self.rules_version,
            "leads": self.leads,
            "mql": self.mql,
            "sql": self.sql,
            "disqualified": self.disqualified,
            "labelled": self.labelled,
            "converted": self.converted,
            "auc": self.auc,
            "average_precision": self.average_precision,
            "top_decile_conversion": self.top_decile_conversion,
            "bands": [b.to_json() for b in self.bands],
            "levels": {name: b.to_json() for name, b in self.levels.items()},
            "rules": [lift.to_json() for lift in self.lifts],
        }


@dataclass(frozen=True)
class Change:
    """A lead whose level differs between the two rule sets."""

    id: str
    baseline: Qualification
    candidate: Qualification

    def row(self) -> dict[str, Any]:
        """One CSV row (:data:`CHANGE_COLUMNS`): levels, scores and top reasons under both rule sets."""
        b, c = self.baseline, self.candidate
        values = (
            self.id,
            level(b),
            level(c),
            b.score,
            c.score,
            "; ".join(r.text for r in b.reasons[:_TOP_REASONS]),
            "; ".join(r.text for r in c.reasons[:_TOP_REASONS]),
        )
        return dict(zip(CHANGE_COLUMNS, values, strict=True))


@dataclass
class Backtest:
    """Both sides and the leads that change level."""

    baseline: Side
    candidate: Side
    changes: list[Change]
    warnings: list[str] = field(default_factory=list)

    def transitions(self) -> dict[str, int]:
        """How many leads move from each level to each other one, e.g. ``{"lead -> mql": 12}``."""
        moves = Counter(f"{level(c.baseline)} -> {level(c.candidate)}" for c in self.changes)
        return dict(sorted(moves.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "leads": self.baseline.leads,
            "labelled": self.baseline.labelled,
            "baseline": self.baseline.to_json(),
            "candidate": self.candidate.to_json(),
            "changes": len(self.changes),
            "transitions": self.transitions(),
            "warnings": self.warnings,
        }


def score_all(leads: Sequence[LabelledLead], rules: CompiledRules, now: datetime) -> list[Qualification]:
    """Every lead scored at ``now``."""
    return [score(item.lead, rules, now) for item in leads]


def _lifts(
    rules: CompiledRules, leads: Sequence[LabelledLead], results: Sequence[Qualification], now: datetime
) -> list[Lift]:
    known = [i for i, item in enumerate(leads) if item.converted is not None]
    converted = np.array([leads[i].converted for i in known], dtype=np.bool_)
    source = rules.source
    conditions = rule_conditions(source)
    fired = evaluate(conditions, [leads[i].lead for i in known], now, source.lists)
    out = [rule_lift(c.name, c.origin, fired[:, j], converted) for j, c in enumerate(conditions)]
    for signal in source.signals:
        hit = np.array([signal.name in results[i].signals for i in known], dtype=np.bool_)
        out.append(rule_lift(signal.name, "signals", hit, converted))
    return out


def summarise(
    rules: CompiledRules,
    leads: Sequence[LabelledLead],
    results: Sequence[Qualification],
    now: datetime,
    lifts: bool = True,
) -> Side:
    """Volumes for every lead; ranking, conversion and lift for those with a known outcome."""
    levels = [level(q) for q in results]
    known = [i for i, item in enumerate(leads) if item.converted is not None]
    converted = np.array([leads[i].converted for i in known], dtype=np.bool_)
    scores = np.array([results[i].score for i in known], dtype=np.float64)
    side = Side(
        rules_version=rules.version,
        leads=len(leads),
        mql=sum(1 for name in levels if name in ("mql", "sql")),
        sql=levels.count(Stage.SQL.value),
        disqualified=levels.count("disqualified"),
        labelled=len(known),
        converted=int(converted.sum()),
    )
    if not known:
        return side
    side.top_decile_conversion = top_share_conversion(scores, converted)
    side.bands = score_bands(scores, converted)
    known_levels = np.array([levels[i] for i in known])
    for name in LEVELS:
        members = known_levels == name
        if members.any():
            side.levels[name] = Conversion(int(members.sum()), int(converted[members].sum()))
    if both_outcomes(converted):
        side.auc = auc(scores, converted)
        side.average_precision = average_precision(scores, converted)
    if lifts:
        side.lifts = _lifts(rules, leads, results, now)
    return side


def outcome_warnings(leads: Sequence[LabelledLead]) -> list[str]:
    """What the outcomes allow: no AUC without both converted and not converted leads."""
    outcomes = [item.converted for item in leads if item.converted is not None]
    if not outcomes:
        return ["no lead has a known outcome (converted): only volumes and level changes are shown"]
    if all(outcomes) or not any(outcomes):
        which = "converted" if all(outcomes) else "did not convert"
        return [f"all {len(outcomes)} leads with a known outcome {which}: AUC and average precision need both"]
    return []


def backtest(
    leads: Sequence[LabelledLead], baseline: CompiledRules, candidate: CompiledRules, now: datetime
) -> Backtest:
    """Both rule sets over the same leads at ``now``."""
    base_results = score_all(leads, baseline, now)
    cand_results = score_all(leads, candidate, now)
    changes = [
        Change(item.lead.id, b, c)
        for item, b, c in zip(leads, base_results, cand_results, strict=True)
        if level(b) != level(c)
    ]
    return Backtest(
        summarise(baseline, leads, base_results, now),
        summarise(candidate, leads, cand_results, now),
        changes,
        outcome_warnings(leads),
    )
