"""Per-token KL penalty between the policy and the frozen reference (FACT_RLHF.md §4 step 3)."""

from __future__ import annotations

import torch
from torch import Tensor

KL_ESTIMATORS = ("k1", "k3")


def per_token_kl(logprobs: Tensor, ref_logprobs: Tensor, estimator: str = "k1", clamp: bool = True) -> Tensor:
    """KL estimate for each sampled token, same shape as the inputs.

    k1 = logp - ref_logp (unbiased but can be negative per token; the reference code clamps it at 0).
    k3 = (r - 1) - log r with r = exp(ref_logp - logp): never negative, lower variance (Schulman).
    `clamp` only affects k1, since k3 is non-negative by construction.
    """
    if logprobs.shape != ref_logprobs.shape:
        raise ValueError(f"per_token_kl: logprobs shape {tuple(logprobs.shape)} != ref_logprobs shape {tuple(ref_logprobs.shape)}")
    if estimator == "k1":
        kl = logprobs - ref_logprobs
        return kl.clamp(min=0.0) if clamp else kl
    if estimator == "k3":
        log_ratio = ref_logprobs - logprobs
        # expm1 keeps (r - 1) accurate when the two policies are close.
        return torch.expm1(log_ratio) - log_ratio
    raise ValueError(f"per_token_kl: unknown estimator {estimator!r}; expected one of {KL_ESTIMATORS}")
