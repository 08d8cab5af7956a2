"""The learning-rate schedule of the sft, rm and ppo stages: linear warm-up, then cosine / linear
decay or constant, as a function of the absolute step, so a resumed run continues where it stopped."""

from __future__ import annotations

import math

import torch


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


def resumable_scheduler(
    optimizer: torch.optim.Optimizer, start: int, warmup: int, total: int, kind: str
) -> torch.optim.lr_scheduler.LambdaLR:
    """A scheduler stepped once per step (or PPO iteration) whose factor depends on the absolute
    step only: built at `start` (the steps done before this process), it continues a resumed run."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: lr_factor(i + start, warmup, total, kind))
