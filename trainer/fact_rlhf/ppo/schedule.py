"""Learning-rate factor per PPO iteration: linear warm-up, then cosine / linear decay or constant."""
from __future__ import annotations

import math


def lr_factor(iteration: int, warmup: int, total: int, kind: str) -> float:
    """Multiplier of the peak learning rate for 0-based `iteration` of `total`."""
    if iteration < warmup:
        return (iteration + 1) / (warmup + 1)
    if kind == "constant":
        return 1.0
    span = max(1, total - warmup)
    progress = min(1.0, (iteration - warmup) / span)
    if kind == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))
