"""The learner keeps the few conditions that matter, with whole points on a fixed scale."""

from __future__ import annotations

import math

import numpy as np

from connector.learning.scorecard import POINTS_PER_DOUBLING, learn_scorecard


def planted(n: int = 4000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """20 yes/no conditions; only the first three matter: log-odds +1.4, -1.0, +0.7."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 20)) < 0.3
    logit = -1.0 + 1.4 * x[:, 0] - 1.0 * x[:, 1] + 0.7 * x[:, 2]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return x, y


def test_the_conditions_that_matter_are_kept_with_their_sign_and_size():
    x, y = planted()
    card = learn_scorecard(x, y, max_rules=15)
    points = dict(zip(card.columns, card.points, strict=True))
    assert {0, 1, 2} <= set(points)
    scale = POINTS_PER_DOUBLING / math.log(2)
    assert abs(points[0] - 1.4 * scale) <= 4
    assert abs(points[1] + 1.0 * scale) <= 4
    assert abs(points[2] - 0.7 * scale) <= 4
    # noise conditions, if any got in, carry little
    assert all(abs(p) <= 3 for c, p in points.items() if c > 2)


def test_points_are_whole_numbers_and_the_rule_count_is_capped():
    x, y = planted()
    card = learn_scorecard(x, y, max_rules=2)
    assert len(card.columns) <= 2
    assert set(card.columns) <= {0, 1, 2}
    assert all(isinstance(p, int) and p != 0 for p in card.points)


def test_the_score_is_the_sum_of_the_points_that_hold():
    x, y = planted(2000)
    card = learn_scorecard(x, y, max_rules=3)
    expected = [sum(p for c, p in zip(card.columns, card.points, strict=True) if row[c]) for row in x]
    assert card.score(x).tolist() == expected


def test_the_same_data_and_seed_give_the_same_scorecard():
    x, y = planted(2000)
    assert learn_scorecard(x, y, 15, seed=4) == learn_scorecard(x, y, 15, seed=4)
