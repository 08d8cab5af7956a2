"""Sequence score terms and per-token shaped rewards (FACT_RLHF.md §4 steps 2-4, §8)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

# caption_type 2..5 means the right answer of a 4-option question is A..D.
_OPTION_LETTERS = {2: "A", 3: "B", 4: "C", 5: "D"}
CAPTION_GENERAL = 1
CAPTION_ANSWER_NO = 6
CAPTION_ANSWER_YES = 7
SCORE_AT_MODES = ("last_token", "last_slot")


@dataclass
class ScoreConfig:
    no_eos_penalty: float = -8.0
    length_penalty: float = -10.0
    response_len: int = 896
    correct_choice_bonus: float = 2.0


@dataclass
class ScoreTerms:
    """The non-RM parts of a sequence score; the RM scalar is added by the caller."""

    eos_penalty: float
    length: float
    symbolic: float

    @property
    def total(self) -> float:
        return self.eos_penalty + self.length + self.symbolic


def symbolic_correctness(response: str, caption_type: int) -> float:
    """Rule-based correctness `c` of FACT_RLHF.md §4 (case-sensitive, as in the reference).

    Wrong options are not penalised and ground-truth-"Yes" items are never rewarded (the reference
    only checks "No" items, whose answer the policy is biased against).
    """
    if caption_type == CAPTION_GENERAL or caption_type == CAPTION_ANSWER_YES:
        return 0.0
    text = response.strip()
    if caption_type in _OPTION_LETTERS:
        letter = _OPTION_LETTERS[caption_type]
        if text.startswith(f"{letter}.") or f"correct option is {letter}." in text:
            return 1.0
        return 0.0
    if caption_type == CAPTION_ANSWER_NO:
        if text.startswith("No"):
            return 0.5
        if text.startswith("Yes"):
            return -0.5
        return 0.0
    raise ValueError(f"symbolic_correctness: caption_type must be an integer 1..7, got {caption_type!r}")


def score_terms(
    response: str,
    response_tokens: int,
    has_eos: bool,
    caption_type: int,
    length_bonus: float,
    cfg: ScoreConfig,
) -> ScoreTerms:
    """EOS penalty, length term and symbolic bonus for one sampled response."""
    if cfg.response_len <= 0:
        raise ValueError(f"score_terms: cfg.response_len must be > 0, got {cfg.response_len}")
    return ScoreTerms(
        eos_penalty=0.0 if has_eos else float(cfg.no_eos_penalty),
        length=float(cfg.length_penalty) * float(length_bonus) * response_tokens / cfg.response_len,
        symbolic=float(cfg.correct_choice_bonus) * symbolic_correctness(response, caption_type),
    )


def last_real_index(mask: Tensor) -> Tensor:
    """Index of the last position with mask != 0 in each row ([B] long); -1 for an empty row."""
    positions = torch.arange(mask.shape[-1], device=mask.device).expand_as(mask)
    return torch.where(mask != 0, positions, torch.full_like(positions, -1)).max(dim=-1).values


def shaped_rewards(
    scores: Tensor,
    kl: Tensor,
    mask: Tensor,
    kl_coef: float,
    reward_scale: float = 1.0,
    score_at: str = "last_token",
) -> Tensor:
    """Per-token rewards: -kl_coef * kl on real tokens, plus the sequence score at one position.

    score_at="last_token" puts the score on each row's last real token (our default);
    "last_slot" puts it on slot T-1 even when that is padding (the reference code's placement;
    compute_gae carries it back, so advantages match when gamma = lam = 1).
    Everything is multiplied by reward_scale (10 in the reference when rewards are not whitened).
    """
    if kl.dim() != 2 or kl.shape != mask.shape:
        raise ValueError(f"shaped_rewards: kl {tuple(kl.shape)} and mask {tuple(mask.shape)} must both be [B, T]")
    if scores.shape != kl.shape[:1]:
        raise ValueError(f"shaped_rewards: scores shape {tuple(scores.shape)} must be [B={kl.shape[0]}]")
    if score_at not in SCORE_AT_MODES:
        raise ValueError(f"shaped_rewards: unknown score_at {score_at!r}; expected one of {SCORE_AT_MODES}")
    rewards = -kl_coef * kl * mask.to(kl.dtype)
    if score_at == "last_token":
        index = last_real_index(mask)
        if bool((index < 0).any()):
            empty = (index < 0).nonzero().flatten().tolist()
            raise ValueError(f"shaped_rewards: rows {empty} have no real tokens to carry the score")
    else:
        index = torch.full((kl.shape[0],), kl.shape[1] - 1, dtype=torch.long, device=kl.device)
    rewards = rewards.scatter_add(1, index.unsqueeze(1), scores.to(rewards.dtype).unsqueeze(1))
    return rewards * reward_scale
