"""The sweep runs the garbage collector less often, and only while it sweeps."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from connector.sync.cycle import SWEEP_COLLECT_AFTER, fewer_collections


@pytest.fixture
def threshold() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_collector_waits_for_more_new_objects_during_a_sweep_and_as_before_after(threshold) -> None:
    gc.set_threshold(700, 10, 10)
    with fewer_collections():
        assert gc.get_threshold() == (SWEEP_COLLECT_AFTER, 10, 10)
    assert gc.get_threshold() == (700, 10, 10)


def test_a_failed_sweep_leaves_the_collector_as_it_was(threshold) -> None:
    gc.set_threshold(700, 10, 10)
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("store gone")
    assert gc.get_threshold() == (700, 10, 10)


def test_collection_turned_off_stays_off(threshold) -> None:
    gc.set_threshold(0, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] == 0
