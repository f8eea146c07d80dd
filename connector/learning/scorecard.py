"""A sparse, integer scorecard learned from yes/no conditions and outcomes.

1. An L1-regularised logistic regression, walked from strong to weak regularisation, proposes
   nested sets of conditions (the strongest penalty keeps one, weaker ones keep more), up to a few
   times ``max_rules``.
2. A set larger than ``max_rules`` is pruned back to it, dropping each time the condition whose
   weight is least sure (smallest Wald statistic) and refitting: L1 alone spreads weight over
   overlapping conditions (a band and the one beside it, a count over 30 and over 90 days), and
   pruning a larger set keeps the better of them.
3. For each set, a lightly regularised logistic regression is refitted on those conditions alone
   and its weights are rounded to whole points on a fixed scale (:data:`POINTS_PER_DOUBLING` points
   double the odds of converting). The set whose rounded scorecard ranks a validation slice of the
   training leads best wins (fewer rules on a tie); it is refitted on all training leads.

Rounding to whole points is what keeps the file readable; a fixed scale keeps points comparable
from one calibration to the next.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.svm import l1_min_c

#: points that double the odds of converting
POINTS_PER_DOUBLING = 10
SCALE = POINTS_PER_DOUBLING / math.log(2)
#: the regularisation path walks this many decades from the first condition entering, in coarse steps
#: (four a decade), then again in fine steps where the sets grow from half ``max_rules`` to the largest
_PATH_SPAN = 3
_COARSE_STEPS = 4
_FINE_STEPS = 16
#: the path goes on until sets this many times ``max_rules``; at most this many sets get pruned
_PATH_REACH = 2.5
_PRUNED_SETS = 4
#: rows the path is walked and sets are pruned on; more adds time and changes little in which conditions enter
_PATH_ROWS = 25_000
_VALIDATION = 0.25
#: the refit is only lightly regularised: it keeps weights finite when two conditions overlap
_REFIT_C = 10.0
_INTERCEPT_SCALING = 10.0


@dataclass(frozen=True)
class Scorecard:
    """Whole points for a few conditions (columns of the condition matrix)."""

    columns: tuple[int, ...]
    points: tuple[int, ...]

    def score(self, matrix: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Each lead's total: the points of the conditions that hold for it."""
        if not self.columns:
            return np.zeros(matrix.shape[0], dtype=np.int64)
        return matrix[:, list(self.columns)].astype(np.int64) @ np.array(self.points, dtype=np.int64)


def _fit(x: NDArray[np.bool_], y: NDArray[np.bool_], columns: Sequence[int], seed: int) -> LogisticRegression:
    model = LogisticRegression(
        C=_REFIT_C, solver="liblinear", intercept_scaling=_INTERCEPT_SCALING, max_iter=1000, random_state=seed
    )
    return model.fit(x[:, list(columns)].astype(np.float64), y)


def _refit(x: NDArray[np.bool_], y: NDArray[np.bool_], columns: Sequence[int], seed: int) -> Scorecard:
    """Refitted weights, rounded to whole points; a condition worth no point is left out."""
    weights = _fit(x, y, columns, seed).coef_[0]
    kept = [(c, round(float(w) * SCALE)) for c, w in zip(columns, weights, strict=True)]
    kept = [(c, p) for c, p in kept if p != 0]
    return Scorecard(tuple(c for c, _ in kept), tuple(p for _, p in kept))


def _auc(card: Scorecard, x: NDArray[np.bool_], y: NDArray[np.bool_]) -> float:
    return float(roc_auc_score(y, card.score(x))) if card.columns else 0.5


def _path(x: NDArray[np.bool_], y: NDArray[np.bool_], max_rules: int, seed: int) -> list[tuple[int, ...]]:
    """Sets of conditions in the order L1 regularisation lets them in, up to ``_PATH_REACH`` x ``max_rules``."""
    dense = x.astype(np.float64)
    largest = math.ceil(max_rules * _PATH_REACH)
    model = LogisticRegression(l1_ratio=1.0, solver="liblinear", max_iter=1000, tol=1e-3, random_state=seed)
    found: dict[float, tuple[int, ...]] = {}

    def walk(strengths: Iterable[float]) -> float | None:
        """Fit at each C until a set grows past ``largest``; that C, or None."""
        for c in strengths:
            model.set_params(C=float(c))
            model.fit(dense, y)
            found[float(c)] = chosen = tuple(int(j) for j in np.flatnonzero(model.coef_[0]))
            if len(chosen) > largest:
                return float(c)
        return None

    start = float(l1_min_c(dense, y, loss="log"))
    beyond = walk(start * 10 ** (np.arange(_PATH_SPAN * _COARSE_STEPS + 1) / _COARSE_STEPS))
    growing = [c for c, chosen in sorted(found.items()) if len(chosen) >= max_rules // 2]
    low, high = (growing[0] if growing else start), (beyond or max(found))
    if high > low:
        walk(np.geomspace(low, high, _FINE_STEPS + 2)[1:-1])
    sets: list[tuple[int, ...]] = []
    for _, chosen in sorted(found.items()):
        if chosen and len(chosen) <= largest and chosen not in sets:
            sets.append(chosen)
    return sets


def _wald(model: LogisticRegression, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """|weight| / standard error of each weight, from the fitted model's information matrix."""
    p = model.predict_proba(x)[:, 1]
    weighted = np.hstack([np.ones((len(x), 1)), x]) * np.sqrt(p * (1 - p))[:, None]
    information = weighted.T @ weighted
    information += np.eye(len(information)) / _REFIT_C  # the refit's own penalty keeps it invertible
    errors = np.sqrt(np.diag(np.linalg.inv(information)))[1:]
    return np.asarray(np.abs(model.coef_[0]) / errors)


def _prune(
    x: NDArray[np.bool_], y: NDArray[np.bool_], columns: tuple[int, ...], size: int, seed: int
) -> tuple[int, ...]:
    """Drop the least sure conditions until ``size`` are left, a few at a time while far from it."""
    kept = list(columns)
    while len(kept) > size:
        model = _fit(x, y, kept, seed)
        weakest = np.argsort(_wald(model, x[:, kept].astype(np.float64)), kind="stable")
        drop = {kept[i] for i in weakest[: max(1, (len(kept) - size) // 3)]}
        kept = [c for c in kept if c not in drop]
    return tuple(kept)


def _candidate_sets(x: NDArray[np.bool_], y: NDArray[np.bool_], max_rules: int, seed: int) -> list[tuple[int, ...]]:
    """The path's sets within ``max_rules``, and a few larger ones pruned back to it."""
    if len(y) > _PATH_ROWS:
        x, _, y, _ = train_test_split(x, y, train_size=_PATH_ROWS, stratify=y, random_state=seed)
    path = _path(x, y, max_rules, seed)
    out = [s for s in path if len(s) <= max_rules]
    large = [s for s in path if len(s) > max_rules]
    if len(large) > _PRUNED_SETS:
        picks = np.linspace(0, len(large) - 1, _PRUNED_SETS).round().astype(int)
        large = [large[i] for i in sorted(set(picks))]
    for columns in large:
        pruned = _prune(x, y, columns, max_rules, seed)
        if pruned not in out:
            out.append(pruned)
    return out


def learn_scorecard(
    matrix: NDArray[np.bool_], converted: NDArray[np.bool_], max_rules: int, seed: int = 0
) -> Scorecard:
    """The best-ranking integer scorecard of at most ``max_rules`` conditions.

    ``matrix`` has one row per lead and one column per condition; ``converted`` the outcomes. Both
    outcomes must be present.
    """
    fit_x, val_x, fit_y, val_y = _split(matrix, converted, seed)
    best: tuple[float, int, tuple[int, ...]] | None = None
    for columns in _candidate_sets(fit_x, fit_y, max_rules, seed):
        card = _refit(fit_x, fit_y, columns, seed)
        key = (_auc(card, val_x, val_y), -len(card.columns), card.columns)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return Scorecard((), ())
    return _refit(matrix, converted, best[2], seed)


def _split(
    x: NDArray[np.bool_], y: NDArray[np.bool_], seed: int
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    parts: list[Any] = train_test_split(x, y, test_size=_VALIDATION, stratify=y, random_state=seed)
    return parts[0], parts[1], parts[2], parts[3]
