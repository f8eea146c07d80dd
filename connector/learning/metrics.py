"""How well a score ranks leads by their outcome, and how a single rule relates to it.

Scores and outcomes are numpy arrays of the same length. Figures that need both outcomes (AUC,
average precision) are None when only one was seen.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

Scores = NDArray[np.floating[Any]] | NDArray[np.integer[Any]]
Outcomes = NDArray[np.bool_]


def both_outcomes(converted: Outcomes) -> bool:
    """True when both converted and not converted leads are present."""
    return bool(converted.any()) and not bool(converted.all())


def auc(scores: Scores, converted: Outcomes) -> float | None:
    """Area under the ROC curve: the chance a converted lead outscores one that did not (ties count half).

    Worked out from ranks (the Mann-Whitney statistic, tied scores sharing their mean rank), which
    is the same number as scikit-learn's: the funnel report needs it, and importing scikit-learn
    would cost every ``handoff`` command seconds.
    """
    if not both_outcomes(converted):
        return None
    _, where, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = ((ends - counts + 1 + ends) / 2)[where.ravel()]  # 1-based, ties at their mean rank
    hits = int(converted.sum())
    misses = len(converted) - hits
    return float((ranks[converted].sum() - hits * (hits + 1) / 2) / (hits * misses))


def average_precision(scores: Scores, converted: Outcomes) -> float | None:
    """Average precision: conversion among the leads ranked above each converted lead, averaged."""
    from sklearn.metrics import average_precision_score  # only backtests need it: see ``auc``

    return float(average_precision_score(converted, scores)) if both_outcomes(converted) else None


def top_share_conversion(scores: Scores, converted: Outcomes, share: float = 0.1) -> float | None:
    """Conversion among the top ``share`` of leads by score.

    Leads tied at the cut count in proportion, as if the tie were broken at random, so a rule set
    that gives everyone the same score gets the base rate, not a lucky or unlucky slice.
    """
    n = len(scores)
    if n == 0:
        return None
    take = max(1, round(n * share))
    order = np.sort(scores)[::-1]
    cut = order[take - 1]
    above = scores > cut
    tied = scores == cut
    room = take - int(above.sum())
    tied_rate = float(converted[tied].mean()) if tied.any() else 0.0
    return (float(converted[above].sum()) + room * tied_rate) / take


@dataclass(frozen=True)
class Conversion:
    """How many leads, and how many of them converted."""

    leads: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.leads if self.leads else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rate": self.rate}


@dataclass(frozen=True)
class Band(Conversion):
    """Conversion of the leads whose score lies in ``[low, high]``."""

    low: float = 0.0
    high: float = 0.0


def score_bands(scores: Scores, converted: Outcomes, bands: int = 5) -> list[Band]:
    """Conversion per score band, bands cut at score quantiles; tied scores stay in one band."""
    if len(scores) == 0:
        return []
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, bands + 1)[1:-1], method="lower"))
    which = np.searchsorted(edges, scores, side="left")  # a band ends at its quantile, ties included
    out = []
    for band in range(len(edges) + 1):
        members = which == band
        if members.any():
            values = scores[members]
            out.append(
                Band(int(members.sum()), int(converted[members].sum()), float(values.min()), float(values.max()))
            )
    return out


@dataclass(frozen=True, slots=True)
class Lift:
    """Conversion of the leads a rule fired for against the leads it did not fire for."""

    rule: str
    section: str
    fired: int
    fired_converted: int
    not_fired: int
    not_fired_converted: int

    @property
    def fired_rate(self) -> float | None:
        return self.fired_converted / self.fired if self.fired else None

    @property
    def not_fired_rate(self) -> float | None:
        return self.not_fired_converted / self.not_fired if self.not_fired else None

    @property
    def lift(self) -> float | None:
        """How many times likelier to convert the leads the rule fired for are (None when undefined)."""
        fired, rest = self.fired_rate, self.not_fired_rate
        if fired is None or not rest:
            return None
        return fired / rest

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "fired_rate": self.fired_rate, "not_fired_rate": self.not_fired_rate, "lift": self.lift}


def rule_lift(rule: str, section: str, fired: Outcomes, converted: Outcomes) -> Lift:
    """The lift of one rule from where it fired and who converted."""
    hits = int(fired.sum())
    hit_conv = int((fired & converted).sum())
    return Lift(rule, section, hits, hit_conv, len(fired) - hits, int(converted.sum()) - hit_conv)
