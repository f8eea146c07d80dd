"""The figures a backtest reports: ranking, conversion at the top and by band, and a rule's lift."""

from __future__ import annotations

import numpy as np
import pytest

from connector.learning.metrics import auc, average_precision, rule_lift, score_bands, top_share_conversion


def arrays(scores: list[float], converted: list[int]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(scores, dtype=np.float64), np.array(converted, dtype=np.bool_)


def test_a_perfect_ranking_has_auc_one_and_a_reversed_one_zero():
    scores, converted = arrays([1, 2, 3, 4], [0, 0, 1, 1])
    assert auc(scores, converted) == 1.0
    assert auc(-scores, converted) == 0.0
    assert average_precision(scores, converted) == 1.0


def test_everyone_at_the_same_score_ranks_at_chance():
    scores, converted = arrays([5, 5, 5, 5], [0, 1, 0, 1])
    assert auc(scores, converted) == 0.5


def test_ranking_figures_need_both_outcomes():
    scores, converted = arrays([1, 2, 3], [1, 1, 1])
    assert auc(scores, converted) is None
    assert average_precision(scores, converted) is None


def test_the_top_decile_counts_tied_leads_in_proportion():
    # 20 leads all tied: the top two are a random two, so they convert at the base rate
    scores, converted = arrays([7] * 20, [1] * 5 + [0] * 15)
    assert top_share_conversion(scores, converted) == pytest.approx(0.25)
    # the two best leads converted: the top decile converts fully
    scores, converted = arrays(list(range(20)), [0] * 18 + [1, 1])
    assert top_share_conversion(scores, converted) == 1.0


def test_score_bands_cover_every_lead_and_keep_ties_together():
    scores, converted = arrays([0, 0, 0, 0, 0, 0, 10, 20, 30, 40], [0, 0, 0, 0, 0, 1, 0, 1, 1, 1])
    bands = score_bands(scores, converted)
    assert sum(b.leads for b in bands) == 10
    assert (bands[0].low, bands[0].high, bands[0].leads, bands[0].converted) == (0, 0, 6, 1)
    assert bands[-1].high == 40 and bands[-1].rate == 1.0


def test_lift_compares_conversion_when_the_rule_fired_with_when_it_did_not():
    fired = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=np.bool_)
    converted = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], dtype=np.bool_)
    lift = rule_lift("working_professional", "scorecard", fired, converted)
    assert (lift.fired, lift.fired_converted, lift.not_fired, lift.not_fired_converted) == (4, 2, 6, 1)
    assert lift.fired_rate == 0.5
    assert lift.lift == pytest.approx(3.0)


def test_lift_is_undefined_when_nobody_else_converted():
    fired = np.array([1, 0], dtype=np.bool_)
    converted = np.array([1, 0], dtype=np.bool_)
    assert rule_lift("r", "fit", fired, converted).lift is None


def test_auc_from_ranks_is_scikit_learns_number_ties_included():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(7)
    for size in (2, 9, 40, 300):
        for _ in range(25):
            scores = rng.integers(0, 12, size).astype(np.float64)  # few values: many ties
            converted = rng.random(size) < 0.3
            if converted.any() and not converted.all():
                assert auc(scores, converted) == pytest.approx(roc_auc_score(converted, scores), abs=1e-12)
