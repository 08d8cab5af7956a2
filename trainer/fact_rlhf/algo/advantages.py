"""Generalised advantage estimation and batch whitening (FACT_RLHF.md §4 step 5)."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def compute_gae(rewards: Tensor, values: Tensor, mask: Tensor, gamma: float, lam: float) -> tuple[Tensor, Tensor]:
    """GAE over [B, T] response tokens; returns (advantages, returns = advantages + values).

    The episode ends after each row's last real token: values at padding positions are treated
    as 0, so they never leak into real tokens, and both outputs are 0 on padding. Rewards are
    used as given: shaped_rewards leaves padding at 0 except the "last_slot" score, which is
    carried back through the padding (discounted by gamma*lam per slot, as in the reference).
    """
    if not (rewards.shape == values.shape == mask.shape) or rewards.dim() != 2:
        raise ValueError(
            f"compute_gae: rewards {tuple(rewards.shape)}, values {tuple(values.shape)} and mask "
            f"{tuple(mask.shape)} must all be the same [B, T]"
        )
    m = mask.to(values.dtype)
    values = values * m
    advantages = torch.zeros_like(values)
    running = torch.zeros_like(values[:, 0])
    for t in reversed(range(values.shape[1])):
        next_value = values[:, t + 1] if t + 1 < values.shape[1] else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running
        advantages[:, t] = running
    advantages = advantages * m
    returns = (advantages + values) * m
    return advantages, returns


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _global_sum(stats: Tensor) -> Tensor:
    """Sum a small stats vector over all ranks (no-op in a single process)."""
    if _distributed():
        dist.all_reduce(stats, op=dist.ReduceOp.SUM)
    return stats


def whiten(x: Tensor, mask: Tensor, shift_mean: bool = True, eps: float = 1e-8) -> Tensor:
    """Normalise x to mean 0 / variance 1 over the masked entries of the whole batch.

    Statistics cover every rank when torch.distributed is initialised (sums and counts are
    all-reduced), so each rank's slice is whitened exactly as the concatenated batch would be.
    Variance is the population (biased) one. With shift_mean=False the mean is added back.
    Padding positions come out as 0.
    """
    if x.shape != mask.shape:
        raise ValueError(f"whiten: x {tuple(x.shape)} and mask {tuple(mask.shape)} differ in shape")
    m = mask.to(torch.float64)
    xd = x.to(torch.float64)
    # Two passes (mean, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
    sum_count = _global_sum(torch.stack([(xd * m).sum(), m.sum()]))
    count = sum_count[1]
    if float(count) == 0.0:
        raise ValueError("whiten: mask selects no entries (on any rank)")
    mean = sum_count[0] / count
    var = _global_sum(((xd - mean) ** 2 * m).sum().reshape(1))[0] / count
    out = (xd - mean) * torch.rsqrt(var + eps)
    if not shift_mean:
        out = out + mean
    return (out * m).to(x.dtype)
