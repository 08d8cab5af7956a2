"""Pairwise reward-model loss with the score-centring term (FACT_RLHF.md §3)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def pairwise_loss(r_a: Tensor, r_b: Tensor, b_preferred: Tensor, centering_coef: float = 1e-3) -> tuple[Tensor, dict[str, float]]:
    """BCEWithLogits(r_b - r_a, b_preferred) + centering_coef * |mean(r_a + r_b)|.

    b_preferred is 1 where response b is the preferred one, 0 where a is (bool or float [B]).
    Stats: "accuracy" = share of pairs whose preferred response scores strictly higher;
    "mean_score" = mean over all 2B scores.
    """
    if not (r_a.shape == r_b.shape == b_preferred.shape) or r_a.dim() != 1:
        raise ValueError(
            f"pairwise_loss: r_a {tuple(r_a.shape)}, r_b {tuple(r_b.shape)} and b_preferred "
            f"{tuple(b_preferred.shape)} must all be the same [B]"
        )
    target = b_preferred.to(r_a.dtype)
    if bool(((target != 0) & (target != 1)).any()):
        raise ValueError("pairwise_loss: b_preferred must contain only 0/1 (or bool) labels")
    bce = F.binary_cross_entropy_with_logits(r_b - r_a, target)
    loss = bce + centering_coef * torch.abs((r_a + r_b).mean())
    with torch.no_grad():
        prefers_b = target > 0.5
        correct = torch.where(prefers_b, r_b > r_a, r_a > r_b)
        stats = {
            "accuracy": float(correct.float().mean()),
            "mean_score": float(torch.cat([r_a, r_b]).float().mean()),
        }
    return loss, stats
