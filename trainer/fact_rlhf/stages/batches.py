"""The batch at a given step, from epoch-wise seeded shuffles: known without any state, so a resumed
run (and every rank of a distributed one) picks exactly the items an uninterrupted run would; and
how a rank's share of a batch is cut into micro-batches (gradient accumulation)."""

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


def micro_batch_starts(size: int, micro: int) -> list[int]:
    """Where each micro-batch of `micro` items starts in a rank's share of `size` (the last one
    may be short; a per-device size above the share just means one micro-batch)."""
    return list(range(0, size, max(1, min(micro, size))))


def accumulation_steps(global_batch: int, per_device: int, world_size: int) -> int:
    """Micro-batches each rank runs per global batch: its share, `per_device` at a time."""
    return len(micro_batch_starts(global_batch // world_size, per_device))
