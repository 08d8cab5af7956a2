"""The batch at a given step, from epoch-wise seeded shuffles: known without any state, so a resumed
run (and every rank of a distributed one) picks exactly the items an uninterrupted run would."""
from __future__ import annotations

import random
from typing import Sequence, TypeVar

T = TypeVar("T")


def seeded_batch(items: Sequence[T], step: int, size: int, seed_prefix: str) -> list[T]:
    """Items `step*size ... step*size+size-1` of the endless sequence of epochs, each epoch a
    shuffle seeded by `f"{seed_prefix}-epoch-{epoch}"`; a batch may span an epoch boundary."""
    n = len(items)
    if n == 0:
        raise ValueError("cannot draw a batch from an empty data set")
    out: list[T] = []
    position = step * size
    while len(out) < size:
        epoch, offset = divmod(position, n)
        order = list(range(n))
        random.Random(f"{seed_prefix}-epoch-{epoch}").shuffle(order)
        take = order[offset : offset + size - len(out)]
        out.extend(items[i] for i in take)
        position += len(take)
    return out
