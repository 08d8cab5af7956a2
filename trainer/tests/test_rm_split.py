"""The reward model's held-out split keeps every image on one side."""

from __future__ import annotations

from pathlib import Path

import pytest

from fact_rlhf.data.records import PreferencePair
from fact_rlhf.errors import DataError
from fact_rlhf.rm.train import split_pairs


def _pairs(per_image: list[int]) -> list[PreferencePair]:
    out = []
    for i, n in enumerate(per_image):
        for j in range(n):
            out.append(PreferencePair(f"{i}-{j}", Path(f"img-{i}.png"), [], "a", "b", 1))
    return out


def test_whole_images_are_held_out_until_the_count_is_reached() -> None:
    pairs = _pairs([3, 1, 4, 2, 5, 3, 2, 3])
    train, held = split_pairs(pairs, 6, seed=0)
    assert {p.image for p in train}.isdisjoint({p.image for p in held})
    assert sorted(p.id for p in train + held) == sorted(p.id for p in pairs)
    # Images are added whole until 6 pairs are held out: the last one added overshoots by less than its size.
    sizes = {p.image: sum(q.image == p.image for q in pairs) for p in held}
    assert 6 <= len(held) < 6 + max(sizes.values())
    assert any(len(held) - n < 6 for n in sizes.values())
    assert split_pairs(pairs, 6, seed=0) == (train, held)  # seeded
    assert split_pairs(pairs, 6, seed=1) != (train, held)


def test_one_pair_per_image_holds_out_exactly_the_count() -> None:
    pairs = _pairs([1] * 20)
    train, held = split_pairs(pairs, 5, seed=3)
    assert len(held) == 5 and len(train) == 15


def test_holding_out_everything_is_refused_with_the_key() -> None:
    with pytest.raises(DataError, match="reward_model.held_out"):
        split_pairs(_pairs([2, 2]), 4, seed=0)
    with pytest.raises(DataError, match="whole images"):
        split_pairs(_pairs([5]), 1, seed=0)  # one image: holding out one pair takes all five
