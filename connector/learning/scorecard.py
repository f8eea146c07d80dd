"""A sparse, integer scorecard learned from yes/no conditions and outcomes.

1. An L1-regularised logistic regression, walked from strong to weak regularisation, proposes
   nested sets of conditions (the strongest penalty keeps one, weaker ones keep more).
2. For each set of at most ``max_rules`` conditions, a lightly regularised logistic regression is
   refitted on those conditions alone and its weights are rounded to whole points on a fixed scale
   (:data:`POINTS_PER_DOUBLING` points double the odds of converting).
3. The set whose rounded scorecard ranks a validation slice of the training leads best wins (fewer
   rules on a tie); it is refitted on all training leads and rounded again.

Rounding to whole points is what keeps the file readable; a fixed scale keeps points comparable
from one calibration to the next.
"""

from __future__ import annotations

import math
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
#: the regularisation path walks this far from the first condition entering
_PATH_SPAN = 3.0
_PATH_STEPS = 24
#: rows the path is walked on; more adds time and changes little in which conditions enter
_PATH_ROWS = 40_000
_VALIDATION = 0.25
#: the refit is only lightly regularised: it keeps weights finite when two conditions overlap
_REFIT_C = 10.0


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


def _refit(x: NDArray[np.bool_], y: NDArray[np.bool_], columns: tuple[int, ...], seed: int) -> Scorecard:
    model = LogisticRegression(C=_REFIT_C, max_iter=1000, random_state=seed)
    model.fit(x[:, list(columns)].astype(np.float64), y)
    points = [round(float(w) * SCALE) for w in model.coef_[0]]
    kept = [(c, p) for c, p in zip(columns, points, strict=True) if p != 0]
    return Scorecard(tuple(c for c, _ in kept), tuple(p for _, p in kept))


def _auc(card: Scorecard, x: NDArray[np.bool_], y: NDArray[np.bool_]) -> float:
    return float(roc_auc_score(y, card.score(x))) if card.columns else 0.5


def _path(x: NDArray[np.bool_], y: NDArray[np.bool_], max_rules: int, seed: int) -> list[tuple[int, ...]]:
    """Sets of at most ``max_rules`` conditions, in the order L1 regularisation lets them in."""
    dense = x.astype(np.float64)
    start = l1_min_c(dense, y, loss="log")
    seen: list[tuple[int, ...]] = []
    model = LogisticRegression(C=start, l1_ratio=1.0, solver="liblinear", max_iter=1000, random_state=seed)
    for c in start * np.logspace(0, _PATH_SPAN, _PATH_STEPS):
        model.set_params(C=float(c))
        model.fit(dense, y)
        chosen = tuple(int(j) for j in np.flatnonzero(model.coef_[0]))
        if len(chosen) > max_rules:
            break
        if chosen and chosen not in seen:
            seen.append(chosen)
    return seen


def learn_scorecard(
    matrix: NDArray[np.bool_], converted: NDArray[np.bool_], max_rules: int, seed: int = 0
) -> Scorecard:
    """The best-ranking integer scorecard of at most ``max_rules`` conditions.

    ``matrix`` has one row per lead and one column per condition; ``converted`` the outcomes. Both
    outcomes must be present.
    """
    fit_x, val_x, fit_y, val_y = _split(matrix, converted, seed)
    path_x, path_y = fit_x, fit_y
    if len(path_y) > _PATH_ROWS:
        path_x, _, path_y, _ = train_test_split(fit_x, fit_y, train_size=_PATH_ROWS, stratify=fit_y, random_state=seed)
    best: tuple[float, int, tuple[int, ...]] | None = None
    for columns in _path(path_x, path_y, max_rules, seed):
        card = _refit(fit_x, fit_y, columns, seed)
        key = (_auc(card, val_x, val_y), -len(card.columns), columns)
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
