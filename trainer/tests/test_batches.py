"""Seeded batches: deterministic, epoch-complete, spanning epoch boundaries."""

from __future__ import annotations

import pytest

from fact_rlhf.stages.batches import seeded_batch


def test_each_epoch_is_a_permutation_and_batches_cross_epoch_boundaries() -> None:
    items = list(range(10))
    batches = [seeded_batch(items, step, 4, "7-x") for step in range(5)]  # 20 items = 2 epochs
    flat = [i for b in batches for i in b]
    assert sorted(flat[:10]) == items and sorted(flat[10:]) == items
    assert flat[:10] != items, "shuffled, not in order"
    assert batches[2] == flat[8:12], "batch 2 spans the end of epoch 0 and the start of epoch 1"
    assert seeded_batch(items, 3, 4, "7-x") == batches[3], "known without state"
    assert seeded_batch(items, 0, 4, "8-x") != batches[0], "the seed prefix matters"


def test_empty_data_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        seeded_batch([], 0, 4, "s")
