"""The pairwise reward-model step and evaluation (FACT_RLHF.md §3), shared by the `rm` stage and
the PPO stage's reward-model warm-up."""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch
from torch import Tensor

from ..algo.rm_loss import pairwise_loss
from ..data.records import PreferencePair
from ..models.codec import Codec
from ..models.stack import ModelStack
from .scoring import rm_text, score


@dataclass
class PairStats:
    loss: float
    accuracy: float
    mean_score: float


def pair_scores(stack: ModelStack, codec: Codec, pairs: list[PreferencePair], augment: bool, rng: random.Random, micro: int) -> tuple[Tensor, Tensor]:
    """RM scores of output_1 and output_2 of each pair; `rng` shuffles each example's facts."""
    texts = [rm_text(p.conversations, p.output_1, p.facts, augment, rng) for p in pairs]
    texts += [rm_text(p.conversations, p.output_2, p.facts, augment, rng) for p in pairs]
    images = [p.image for p in pairs] * 2
    scores = score(stack, codec, texts, images, 2 * micro)
    return scores[: len(pairs)], scores[len(pairs) :]


def _prefers_2(pairs: list[PreferencePair], device: torch.device) -> Tensor:
    return torch.tensor([p.preference == 2 for p in pairs], device=device)


def backward_pairs(stack: ModelStack, codec: Codec, batch: list[PreferencePair], augment: bool, rng: random.Random, micro: int, centering_coef: float) -> PairStats:
    """Gradients of the batch's pairwise loss, accumulated over micro-batches of `micro` pairs
    (each weighted by its share of the batch); the caller clips and steps."""
    loss_sum = acc_sum = mean_sum = 0.0
    for m in range(0, len(batch), micro):
        chunk = batch[m : m + micro]
        r1, r2 = pair_scores(stack, codec, chunk, augment, rng, micro)
        loss, stats = pairwise_loss(r1, r2, _prefers_2(chunk, r1.device), centering_coef)
        weight = len(chunk) / len(batch)
        (loss * weight).backward()
        loss_sum += loss.item() * weight
        acc_sum += stats["accuracy"] * weight
        mean_sum += stats["mean_score"] * weight
    return PairStats(loss_sum, acc_sum, mean_sum)


@torch.no_grad()
def evaluate_pairs(stack: ModelStack, codec: Codec, pairs: list[PreferencePair], augment: bool, seed: int, micro: int) -> PairStats:
    """Held-out pairwise accuracy, mean score and BCE loss (no centring term); the facts are
    shuffled from `seed`, so every evaluation of one model gives the same figures."""
    if not pairs:
        nan = float("nan")
        return PairStats(nan, nan, nan)
    r1, r2 = pair_scores(stack, codec, pairs, augment, random.Random(seed), micro)
    loss, stats = pairwise_loss(r1, r2, _prefers_2(pairs, r1.device), 0.0)
    return PairStats(float(loss), stats["accuracy"], stats["mean_score"])
