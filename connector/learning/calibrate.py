"""A proposed rules file learned from outcomes, with figures measured on leads it never saw.

1. The labelled leads are split (seeded, stratified): a training part and a held-out part.
2. Candidate conditions are found in the training leads and the current rules file.
3. A sparse integer scorecard is learned over them (:mod:`connector.learning.scorecard`).
4. Fit grades are cut at quantiles of the training leads' fit points; MQL and SQL thresholds are
   chosen on the training leads: SQL volume as today, MQL volume as today (or as asked).
5. The file is written, loaded back through the rules loader (so ``check-config`` accepts it), and
   both the current and the proposed rules are scored on the held-out leads.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from connector.config.files import ConfigError
from connector.config.ruleset import Ruleset, load_rules
from connector.learning.backtest import Side, level, score_all, summarise
from connector.learning.candidates import CandidateOptions, find_candidates, plain_number
from connector.learning.conditions import ActivityCondition, Condition
from connector.learning.features import evaluate
from connector.learning.labelled import LabelledLead
from connector.learning.scorecard import POINTS_PER_DOUBLING, learn_scorecard
from connector.learning.writer import LearnedRule, bump_version, render

#: each outcome must appear this often among the held-out leads, and twice as often in training
MIN_PER_OUTCOME = 5
#: share of training leads at or above each grade's cut (fit points)
_GRADE_SHARES = {"A": 0.1, "B": 0.3, "C": 0.6}
_UNREACHABLE = 10**9
#: thresholds are chosen on at most this many training leads
_THRESHOLD_LEADS = 10_000


class CalibrationError(Exception):
    """The leads cannot be calibrated on; the message is one line saying why."""


@dataclass(frozen=True)
class CalibrationOptions:
    """What to learn and how to choose the thresholds."""

    max_rules: int = 15
    holdout: float = 0.3
    #: share of leads to make MQL or better (default: as many as the current rules make)
    target_mql_rate: float | None = None
    #: conversion the MQLs should reach instead (the largest MQL volume that reaches it)
    target_precision: float | None = None
    seed: int = 0
    candidates: CandidateOptions = field(default_factory=CandidateOptions)


@dataclass
class Calibration:
    """The proposed file and what it would change, measured on the held-out leads."""

    text: str
    proposed: Ruleset
    rules: list[LearnedRule]
    before: Side
    after: Side
    trained_on: int
    held_out: int
    diff: list[str]
    warnings: list[str]


def split(converted: NDArray[np.bool_], holdout: float, seed: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Training and held-out row numbers: seeded, and each part keeps the share of conversions."""
    rows = np.arange(len(converted))
    parts = train_test_split(rows, test_size=holdout, stratify=converted, random_state=seed)
    return np.sort(parts[0]), np.sort(parts[1])


def _enough(leads: int, holdout: float) -> bool:
    """Whether this many leads of one outcome leave enough of them on both sides of the split."""
    held = math.floor(leads * holdout)
    return held >= MIN_PER_OUTCOME and leads - held >= 2 * MIN_PER_OUTCOME


def check_outcomes(converted: NDArray[np.bool_], holdout: float, source: str) -> None:
    """Raise CalibrationError unless both outcomes are there often enough for a held-out part."""
    n, yes = len(converted), int(converted.sum())
    if n == 0:
        raise CalibrationError(f"{source}: no lead has a known outcome (converted: true or false)")
    if yes == 0 or yes == n:
        which = "converted" if yes == n else "did not convert"
        raise CalibrationError(f"{source}: all {n} leads with a known outcome {which}; calibration needs both outcomes")
    if not _enough(min(yes, n - yes), holdout):
        need = next(count for count in itertools.count(1) if _enough(count, holdout))
        raise CalibrationError(
            f"{source}: too few leads for a {holdout:.0%} holdout: {yes} converted and {n - yes} did not;"
            f" each outcome needs at least {need} leads"
        )


def _threshold_for_rate(scores: NDArray[np.int64], base: int, n: int, rate: float) -> int:
    """The threshold whose share of qualified leads (``base`` of them qualify anyway) is nearest ``rate``."""
    ordered = np.sort(scores)
    options = np.append(np.unique(ordered), ordered[-1] + 1 if len(ordered) else _UNREACHABLE)
    above = len(ordered) - np.searchsorted(ordered, options, side="left")
    gaps = np.abs((base + above) / n - rate)
    best = np.flatnonzero(gaps == gaps.min())
    return int(options[best[-1]])


def _threshold_for_precision(
    scores: NDArray[np.int64], converted: NDArray[np.bool_], base_hits: int, base: int, precision: float
) -> tuple[int, float]:
    """The lowest threshold whose qualified leads convert at ``precision`` or better, else the best one.

    ``base`` leads qualify anyway, ``base_hits`` of whom converted.
    """
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], np.cumsum(converted[order])
    meeting: tuple[int, float] | None = None
    best: tuple[int, float] = (int(ranked[0]) + 1 if len(ranked) else _UNREACHABLE, -1.0)
    for t in np.unique(ranked)[::-1]:
        taken = int(np.searchsorted(-ranked, -t, side="right"))
        rate = (base_hits + int(hits[taken - 1])) / (base + taken)
        if rate >= precision:
            meeting = (int(t), rate)
        if rate > best[1]:
            best = (int(t), rate)
    return meeting or best


def _grades(fit: NDArray[np.int64]) -> dict[str, int]:
    """Grade cuts at quantiles of the fit points, strictly falling from A to C."""
    cuts: dict[str, int] = {}
    above = _UNREACHABLE
    for grade, share in _GRADE_SHARES.items():
        cut = int(np.quantile(fit, 1 - share, method="higher")) if len(fit) else 0
        cuts[grade] = above = min(cut, above - 1)
    return cuts


def _learned(
    conditions: Sequence[Condition],
    matrix: NDArray[np.bool_],
    converted: NDArray[np.bool_],
    columns: Sequence[int],
    points: Sequence[int],
) -> list[LearnedRule]:
    """The learned rules, largest points first, with how the training leads they fire for did."""
    out = []
    for column, value in sorted(zip(columns, points, strict=True), key=lambda cp: -abs(cp[1])):
        fired = matrix[:, column]
        hits = int(fired.sum())
        out.append(
            LearnedRule(
                conditions[column],
                value,
                hits,
                int(converted[fired].sum()),
                len(fired) - hits,
                int(converted[~fired].sum()),
            )
        )
    return out


def _diff(current: Ruleset, rules: Sequence[LearnedRule]) -> list[str]:
    """Rule by rule, what changes against the current file's point-giving rules."""
    source = current.file
    old = {
        **{r.name: f"{r.points:g} points (fit)" for r in source.fit.rules},
        **{r.name: f"{r.points:g} points per activity (engagement)" for r in source.engagement.rules},
        **{r.name: f"{r.points:g} points (negative)" for r in source.negative},
        **{r.name: f"{r.points:g} points (scorecard)" for r in source.scorecard},
    }
    new = {learned.condition.name: learned.points for learned in rules}
    lines = []
    for name, points in new.items():
        was = old.get(name)
        lines.append(f"~ {name}: {was} -> {points:+d}" if was else f"+ {name}: {points:+d}")
    dropped = [name for name in old if name not in new]
    if dropped:
        lines.append(f"- {len(dropped)} rule(s) of the current file dropped: {', '.join(dropped)}")
    kept = f"{len(source.signals)} signal(s) and {len(source.disqualifiers)} disqualifier(s) kept as they were"
    return [*lines, f"= {kept}"]


def _header(
    source: str, current: Ruleset, before: Side, after: Side, trained: int, held: int, mql_words: str
) -> list[str]:
    def figure(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    def volume(side: Side) -> str:
        return f"{side.mql:,} ({side.mql_rate:.1%})"

    return [
        f"Proposed by handoff calibrate from {source}: learned on {trained:,} leads with known outcomes,",
        f"measured on {held:,} others it never saw (held out):",
        "",
        f"{'':22}{current.version:>24}  {'proposed':>12}",
        f"{'AUC':22}{figure(before.auc):>24}  {figure(after.auc):>12}",
        f"{'average precision':22}{figure(before.average_precision):>24}  {figure(after.average_precision):>12}",
        f"{'MQL volume':22}{volume(before):>24}  {volume(after):>12}",
        f"{'SQL volume':22}{before.sql:>24,}  {after.sql:>12,}",
        "",
        f"Points: {POINTS_PER_DOUBLING} points double the odds of converting. Thresholds: {mql_words}.",
        f"Copied as they were from {current.path}: every section but fit, engagement, negative,",
        "scorecard and thresholds. Review it, then publish it like any rules change.",
    ]


def _thresholds(
    draft: Ruleset,
    current: Ruleset,
    leads: Sequence[LabelledLead],
    converted: NDArray[np.bool_],
    now: datetime,
    options: CalibrationOptions,
    lowest_engagement: int,
) -> tuple[dict[str, Any], str, list[str]]:
    """MQL and SQL thresholds chosen on the training leads, and the words that say how."""
    warnings: list[str] = []
    ours = score_all(leads, draft.compiled, now)
    theirs = [level(q) for q in score_all(leads, current.compiled, now)]
    n = len(leads)
    levels = [level(q) for q in ours]
    fast = np.array([name == "sql" for name in levels])  # the draft's thresholds are out of reach
    open_ = np.array([name == "lead" for name in levels])
    scores = np.array([q.score for q in ours], dtype=np.int64)
    sql_rate = theirs.count("sql") / n
    sql = _threshold_for_rate(scores[open_], int(fast.sum()), n, sql_rate)
    if options.target_precision is not None:
        mql, reached = _threshold_for_precision(
            scores[open_], converted[open_], int(converted[fast].sum()), int(fast.sum()), options.target_precision
        )
        if reached < options.target_precision:
            warnings.append(
                f"no MQL threshold reaches {options.target_precision:.0%} conversion on the training leads;"
                f" the best is {reached:.1%}, at {mql} points"
            )
        words = f"MQLs convert at {options.target_precision:.0%} or better on the training leads"
    else:
        rate = options.target_mql_rate
        words = f"{rate:.1%} of leads MQL or better" if rate is not None else ""
        if rate is None:
            rate = sum(1 for name in theirs if name in ("mql", "sql")) / n
            words = f"MQL volume as with the current rules ({rate:.1%})"
            if rate in (0.0, 1.0):
                none_or_all = "no" if rate == 0.0 else "every"
                rate = float(converted.mean())
                warnings.append(
                    f"the current rules make {none_or_all} lead an MQL on these leads;"
                    f" the MQL threshold aims at the conversion rate instead ({rate:.1%}): see --target-mql-rate"
                )
                words = f"as many MQLs as conversions ({rate:.1%})"
        mql = _threshold_for_rate(scores[open_], int(fast.sum()), n, rate)
    mql = min(mql, sql - 1)
    chosen = {
        "mql": mql,
        "mql_min_grade": "D",
        "mql_min_engagement": lowest_engagement,  # never in the way: the scorecard weighs activity itself
        "sql": sql,
        "sql_min_grade": "D",
        "hysteresis": plain_number(current.file.thresholds.hysteresis),
    }
    return chosen, words, warnings


def calibrate(
    leads: Sequence[LabelledLead],
    current: Ruleset,
    current_doc: Mapping[str, Any],
    now: datetime,
    options: CalibrationOptions,
    source: str,
    out: Path,
) -> Calibration:
    """Learn a proposed rules file from ``leads`` (those with a known outcome) against ``current``.

    ``current_doc`` is the current file as parsed YAML: its agreements are copied as written.
    Raises CalibrationError when the outcomes cannot support it.
    """
    warnings: list[str] = []
    known = [item for item in leads if item.converted is not None]
    if len(known) < len(leads):
        warnings.append(f"{len(leads) - len(known)} lead(s) without a known outcome left out")
    converted = np.array([item.converted for item in known], dtype=np.bool_)
    check_outcomes(converted, options.holdout, source)
    train_rows, held_rows = split(converted, options.holdout, options.seed)
    train = [known[i] for i in train_rows]
    held = [known[i] for i in held_rows]
    y = converted[train_rows]
    train_leads = [item.lead for item in train]
    reserved = [r.name for r in current.file.signals] + [r.name for r in current.file.disqualifiers]
    found = find_candidates(train_leads, now, current.file, options.candidates, reserved)
    warnings += found.warnings
    matrix = evaluate(found.conditions, train_leads, now, current.file.lists)
    usable = usable_columns(matrix, options.candidates.support(len(train)))
    card = learn_scorecard(matrix[:, usable], y, options.max_rules, options.seed)
    columns = [int(usable[c]) for c in card.columns]
    rules = _learned(found.conditions, matrix, y, columns, card.points)
    fit_points = _fit_points(found.conditions, matrix, columns, card.points)
    activity_low = sum(min(r.points, 0) for r in rules if isinstance(r.condition, ActivityCondition))
    version = bump_version(current.file.version)
    grades = _grades(fit_points)
    draft_thresholds = {"mql": _UNREACHABLE, "sql": _UNREACHABLE + 1, "mql_min_grade": "D", "sql_min_grade": "D"}
    draft = _load(render([], version, current_doc, rules, grades, draft_thresholds), out)
    sample = _sample(len(train), options.seed)
    thresholds, words, threshold_warnings = _thresholds(
        draft, current, [train[i] for i in sample], y[sample], now, options, activity_low
    )
    warnings += threshold_warnings
    proposed = _load(render([], version, current_doc, rules, grades, thresholds), out)
    before = summarise(current.compiled, held, score_all(held, current.compiled, now), now, lifts=False)
    after = summarise(proposed.compiled, held, score_all(held, proposed.compiled, now), now, lifts=False)
    header = _header(source, current, before, after, len(train), len(held), words)
    text = render(header, version, current_doc, rules, grades, thresholds)
    return Calibration(
        text, _load(text, out), rules, before, after, len(train), len(held), _diff(current, rules), warnings
    )


def _sample(n: int, seed: int) -> NDArray[np.intp]:
    """At most ``_THRESHOLD_LEADS`` row numbers, seeded: thresholds are shares, and a sample tells them well."""
    if n <= _THRESHOLD_LEADS:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, _THRESHOLD_LEADS, replace=False))


def usable_columns(matrix: NDArray[np.bool_], support: int) -> NDArray[np.intp]:
    """Columns that hold for enough leads and fail for enough, each distinct column once (the first)."""
    held = matrix.sum(axis=0)
    candidates = np.flatnonzero((held >= support) & (held <= matrix.shape[0] - support))
    seen: set[bytes] = set()
    keep = []
    for column in candidates:
        packed = np.packbits(matrix[:, column]).tobytes()
        if packed not in seen:
            seen.add(packed)
            keep.append(column)
    return np.array(keep, dtype=np.intp)


def _fit_points(
    conditions: Sequence[Condition], matrix: NDArray[np.bool_], columns: Sequence[int], points: Sequence[int]
) -> NDArray[np.int64]:
    """Each training lead's fit: the points of the property rules that hold for it."""
    total = np.zeros(matrix.shape[0], dtype=np.int64)
    for column, value in zip(columns, points, strict=True):
        if not isinstance(conditions[column], ActivityCondition):
            total += matrix[:, column] * value
    return total


def _load(text: str, out: Path) -> Ruleset:
    try:
        return load_rules(out, text=text)
    except ConfigError as exc:  # a bug here, not the admin's: say what the file got wrong
        raise CalibrationError("the proposed rules do not load: " + "; ".join(map(str, exc.problems))) from None
