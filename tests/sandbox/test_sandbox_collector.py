"""A sandbox keeps the garbage collector off the data it seeded: frozen, and collections rarer."""

from __future__ import annotations

import gc

from connector.sandbox.collector import YOUNG_OBJECTS_PER_COLLECTION, seeding_for_life


def test_seeded_data_is_frozen_and_collections_wait_for_more_new_objects() -> None:
    before = gc.get_freeze_count()
    with seeding_for_life():
        assert not gc.isenabled()  # seeding makes no garbage cycles: no collection walks it
        seeded = [[n] for n in range(1000)]  # lists are tracked by the collector
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + len(seeded)
    assert gc.get_threshold()[0] == YOUNG_OBJECTS_PER_COLLECTION


def test_a_full_collection_freezes_what_survived_it() -> None:
    with seeding_for_life():
        pass
    frozen = gc.get_freeze_count()
    survivors = [[n] for n in range(1000)]  # lists are tracked by the collector
    gc.collect()
    assert gc.get_freeze_count() >= frozen + len(survivors)
