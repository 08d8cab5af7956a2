"""PPO losses and token statistics over masked [B, T] tensors (FACT_RLHF.md §4 step 6)."""

from __future__ import annotations

import torch
from torch import Tensor


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of x over positions where mask != 0 (mask broadcast to x)."""
    m = mask.to(x.dtype)
    count = m.expand_as(x).sum()
    if float(count) == 0.0:
        raise ValueError("masked_mean: mask selects no entries")
    return (x * m).sum() / count


def policy_loss(
    logprobs: Tensor, old_logprobs: Tensor, advantages: Tensor, mask: Tensor, clip_range: float
) -> tuple[Tensor, dict[str, float]]:
    """Clipped surrogate: mean(max(-A*ratio, -A*clip(ratio, 1-c, 1+c))).

    Stats: "clipfrac" = share of tokens where the clipped term is the active one;
    "approx_kl" = mean 0.5 * (logp - old_logp)^2 (drift between updates).
    """
    log_ratio = logprobs - old_logprobs
    ratio = torch.exp(log_ratio)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    with torch.no_grad():
        stats = {
            "clipfrac": float(masked_mean((clipped > unclipped).to(logprobs.dtype), mask)),
            "approx_kl": float(masked_mean(0.5 * log_ratio**2, mask)),
        }
    return loss, stats


def value_loss(values: Tensor, old_values: Tensor, returns: Tensor, mask: Tensor, clip_range: float) -> tuple[Tensor, dict[str, float]]:
    """Clipped value loss 0.5 * mean(max((v-R)^2, (clip(v, v_old-c, v_old+c) - R)^2)).

    Stats: "vf_clipfrac" = share of tokens where the clipped error is the larger one.
    """
    clipped_values = old_values + torch.clamp(values - old_values, -clip_range, clip_range)
    err = (values - returns) ** 2
    err_clipped = (clipped_values - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(err, err_clipped), mask)
    with torch.no_grad():
        stats = {"vf_clipfrac": float(masked_mean((err_clipped > err).to(values.dtype), mask))}
    return loss, stats


def entropy_from_logits(logits: Tensor, mask: Tensor) -> Tensor:
    """Masked mean over tokens of the entropy of softmax(logits) ([B, T, V] -> scalar)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    entropy = -(logp.exp() * logp).sum(dim=-1)
    return masked_mean(entropy, mask)
