"""What one PPO iteration reports: its metric values and its sample records (schema shapes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import Tensor

from ..algo.losses import masked_mean
from ..shapes.judge import sample_hallucination
from .rollout import Rollout


@dataclass
class Advantages:
    kl: Tensor  # [B, T] per-token KL estimate
    rewards: Tensor  # [B, T] shaped
    advantages: Tensor  # [B, T] (whitened when ppo.whiten)
    returns: Tensor  # [B, T]


def iteration_metrics(
    ro: Rollout, adv: Advantages, stats: dict[str, float], beta: float, lr: float, t_opt: float, device: torch.device
) -> dict[str, float | None]:
    """The `metric` event values; `ppo/reward_total` is the mean score rm + eos + length + symbolic."""
    mask = ro.mask
    kl_sum = (adv.kl * mask).sum(-1)
    n = len(ro.terms)
    values: dict[str, float | None] = {
        "ppo/reward_total": float(ro.scores.mean()),
        "ppo/kl_sum": float(kl_sum.mean()),
        "ppo/kl_mean": float(masked_mean(adv.kl, mask)),
        "ppo/kl_coef": beta,
        "ppo/kl_penalty": float(-beta * kl_sum.mean()),
        "ppo/score_rm": float(ro.rm_scores.mean()),
        "ppo/score_eos_penalty": sum(t.eos_penalty for t in ro.terms) / n,
        "ppo/score_length": sum(t.length for t in ro.terms) / n,
        "ppo/score_symbolic": sum(t.symbolic for t in ro.terms) / n,
        "ppo/entropy": ro.entropy,
        "ppo/approx_kl": stats.get("approx_kl"),
        "ppo/clipfrac": stats.get("clipfrac"),
        "ppo/vf_clipfrac": stats.get("vf_clipfrac"),
        "ppo/policy_loss": stats.get("policy_loss"),
        "ppo/value_loss": stats.get("value_loss"),
        "ppo/grad_norm": stats.get("grad_norm"),
        "ppo/value_grad_norm": stats.get("value_grad_norm"),
        "ppo/value_mean": float(masked_mean(ro.values, mask)),
        "ppo/return_mean": float(masked_mean(adv.returns, mask)),
        "ppo/response_length": float(ro.lengths.mean()),
        "ppo/eos_rate": sum(ro.has_eos) / n,
        "ppo/learning_rate": lr,
        "time/generation": ro.timings["generation"],
        "time/scoring": ro.timings["scoring"],
        "time/optimization": t_opt,
        # Rollout throughput: sampled response tokens per second of generation.
        "perf/tokens_per_s": float(mask.sum()) / max(ro.timings["generation"], 1e-9),
    }
    if device.type == "cuda":
        values["gpu/memory_allocated_gb"] = torch.cuda.memory_allocated(device) / 2**30
    return values


def sample_records(
    step: int, ro: Rollout, adv: Advantages, beta: float, count: int, relative: Callable[[Path], str]
) -> list[dict[str, Any]]:
    """The first `count` responses of the batch as SampleRecords; `reward.kl` = −β·Σ kl_t and
    `reward.total` sums all five terms. Built-in-world prompts get hallucination spans."""
    records = []
    for i in range(min(count, len(ro.prompts))):
        p, text, term = ro.prompts[i], ro.texts[i], ro.terms[i]
        kl = -beta * float((adv.kl[i] * ro.mask[i]).sum())
        rm = float(ro.rm_scores[i])
        scene = p.meta.get("scene")  # built-in world prompts carry their exact scene and answer key
        records.append(
            {
                "step": step,
                "prompt_id": p.id,
                "image": relative(p.image),
                "prompt": p.question,
                "response": text,
                "facts": list(p.facts),
                "reward": {
                    "rm": rm,
                    "eos_penalty": term.eos_penalty,
                    "length": term.length,
                    "symbolic": term.symbolic,
                    "kl": kl,
                    "total": rm + term.total + kl,
                },
                "advantage": float(masked_mean(adv.advantages[i], ro.mask[i])),
                "hallucination": sample_hallucination(text, scene, p.meta.get("key")) if scene else None,
                "caption_type": p.caption_type,
            }
        )
    return records
