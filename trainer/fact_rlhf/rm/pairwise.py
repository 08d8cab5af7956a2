"""The pairwise reward-model step and evaluation (FACT_RLHF.md §3), shared by the `rm` stage and
the PPO stage's reward-model warm-up.

With several processes (`ranks`) the step takes this rank's contiguous share of the global batch
and the evaluation spreads the scoring chunks over the ranks. Either way the texts are rendered
for the whole batch in the order one process renders them (so each example's fact shuffle does
not depend on the number of processes) and each forward sees the micro-batch one process would
run: 2 processes give the figures of 1 when the per-device batch divides each rank's share.
"""

from __future__ import annotations

import contextlib
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Sequence

import torch
from torch import Tensor, nn

from ..algo.rm_loss import pairwise_loss
from ..data.records import PreferencePair
from ..distributed import Group
from ..models.codec import Codec
from ..models.stack import ModelStack, SeqBatch
from ..stages.batches import micro_batch_starts
from .scoring import encode_batch, rm_text


@dataclass
class PairStats:
    loss: float
    accuracy: float
    mean_score: float


class RewardScorer(nn.Module):
    """The reward model's forward as one module: DDP reduces the gradients of the forwards it
    runs itself. Holds the stack's model and reward head (the same parameters)."""

    def __init__(self, stack: ModelStack) -> None:
        super().__init__()
        self.model = stack.model
        self.reward_head = stack.reward_head
        self._stack = stack  # not a submodule: reached through its methods

    def forward(self, input_ids: Tensor, attention_mask: Tensor, pixel_values: Tensor) -> Tensor:
        return self._stack.rewards(SeqBatch(input_ids, attention_mask, pixel_values))


Scorer = Callable[[SeqBatch], Tensor]


def module_scorer(module: nn.Module) -> Scorer:
    return lambda batch: module(batch.input_ids, batch.attention_mask, batch.pixel_values)


def render_pairs(pairs: Sequence[PreferencePair], augment: bool, rng: random.Random, micro: int) -> tuple[list[str], list[str]]:
    """RM inputs of output_1 and output_2 of each pair, drawn chunk by chunk of `micro` pairs
    (a chunk's output_1 texts, then its output_2 texts): the order the training step has always
    consumed `rng` in, whoever scores which pair."""
    first: list[str] = []
    second: list[str] = []
    for m in range(0, len(pairs), micro):
        chunk = pairs[m : m + micro]
        first += [rm_text(p.conversations, p.output_1, p.facts, augment, rng) for p in chunk]
        second += [rm_text(p.conversations, p.output_2, p.facts, augment, rng) for p in chunk]
    return first, second


def _score(scorer: Scorer, codec: Codec, texts: Sequence[str], images: Sequence[Path]) -> Tensor:
    return scorer(encode_batch(codec, texts, images))


def _prefers_2(pairs: Sequence[PreferencePair], device: torch.device) -> Tensor:
    return torch.tensor([p.preference == 2 for p in pairs], device=device)


def backward_pairs(
    stack: ModelStack,
    codec: Codec,
    batch: list[PreferencePair],
    augment: bool,
    rng: random.Random,
    micro: int,
    centering_coef: float,
    ranks: Group | None = None,
    scorer: nn.Module | None = None,
) -> PairStats:
    """Gradients of the batch's pairwise loss, accumulated over micro-batches of `micro` pairs
    (each weighted by its share of the batch); the caller clips and steps. With `ranks`, this
    rank runs its share of the batch through `scorer` (DDP, or the sharded model), whose
    average over ranks is then the whole batch's gradient; the stats cover the whole batch."""
    first, second = render_pairs(batch, augment, rng, micro)
    world = ranks.world_size if ranks is not None else 1
    share = ranks.share(len(batch)) if ranks is not None else slice(0, len(batch))
    local = range(len(batch))[share]
    score = module_scorer(scorer) if scorer is not None else stack.rewards
    no_sync: Callable[[], ContextManager[None]] | None = getattr(scorer, "no_sync", None)
    starts = [local.start + m for m in micro_batch_starts(len(local), micro)]
    loss_sum = acc_sum = mean_sum = 0.0
    for k, m in enumerate(starts):
        idx = range(m, min(m + micro, local.stop))
        chunk = [batch[i] for i in idx]
        last = k == len(starts) - 1
        with contextlib.nullcontext() if last or no_sync is None else no_sync():
            scores = _score(score, codec, [first[i] for i in idx] + [second[i] for i in idx], [p.image for p in chunk] * 2)
            r1, r2 = scores[: len(chunk)], scores[len(chunk) :]
            loss, stats = pairwise_loss(r1, r2, _prefers_2(chunk, r1.device), centering_coef)
            weight = len(chunk) / len(batch)
            # The ranks' gradients are averaged: scaled by the world size, they sum to the batch's.
            (loss * (weight * world) if world > 1 else loss * weight).backward()
        loss_sum += loss.item() * weight
        acc_sum += stats["accuracy"] * weight
        mean_sum += stats["mean_score"] * weight
    if ranks is not None and ranks.enabled:
        loss_sum, acc_sum, mean_sum = ranks.sum([loss_sum, acc_sum, mean_sum])
    return PairStats(loss_sum, acc_sum, mean_sum)


def spread_scores(scorer: Scorer, codec: Codec, texts: Sequence[str], images: Sequence[Path], chunk: int, ranks: Group | None) -> Tensor:
    """Scores [N] of `texts`, forwarded in chunks of `chunk` as one process would; with `ranks`
    the chunks are spread over the ranks and the scores gathered (on every rank). With a sharded
    model a rank short of chunks runs a spare forward, so that every rank runs as many."""
    starts = list(range(0, len(texts), chunk))
    if ranks is None or not ranks.enabled:
        return torch.cat([_score(scorer, codec, texts[s : s + chunk], images[s : s + chunk]) for s in starts])
    per_rank = math.ceil(len(starts) / ranks.world_size)
    mine = starts[ranks.rank * per_rank : (ranks.rank + 1) * per_rank]
    rows = torch.zeros(per_rank, chunk, dtype=torch.float32)
    for j in range(per_rank):
        if j >= len(mine) and not ranks.lockstep:
            break
        s = mine[j] if j < len(mine) else starts[0]
        scores = _score(scorer, codec, texts[s : s + chunk], images[s : s + chunk]).float().cpu()
        if j < len(mine):
            rows[j, : len(scores)] = scores
    every = ranks.gather_rows(rows)  # row i holds the chunk starting at starts[i]
    return torch.cat([every[i, : min(chunk, len(texts) - s)] for i, s in enumerate(starts)])


@torch.no_grad()
def evaluate_pairs(
    stack: ModelStack, codec: Codec, pairs: list[PreferencePair], augment: bool, seed: int, micro: int, ranks: Group | None = None
) -> PairStats:
    """Held-out pairwise accuracy, mean score and BCE loss (no centring term); the facts are
    shuffled from `seed`, so every evaluation of one model gives the same figures. With `ranks`
    the pairs are scored over all ranks and every rank gets the figures of all pairs."""
    if not pairs:
        nan = float("nan")
        return PairStats(nan, nan, nan)
    first, second = render_pairs(pairs, augment, random.Random(seed), len(pairs))
    scores = spread_scores(stack.rewards, codec, first + second, [p.image for p in pairs] * 2, 2 * micro, ranks)
    r1, r2 = scores[: len(pairs)], scores[len(pairs) :]
    loss, stats = pairwise_loss(r1, r2, _prefers_2(pairs, r1.device), 0.0)
    return PairStats(float(loss), stats["accuracy"], stats["mean_score"])
