"""One PPO rollout batch (FACT_RLHF.md §4 steps 1–2): sample responses, score them, and record
the policy, reference and value outputs the update needs."""

from __future__ import annotations

import random
import time
from typing import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..algo.losses import entropy_from_logits
from ..algo.rewards import ScoreConfig, ScoreTerms, score_terms
from ..algo.rm_prompt import policy_prompt
from ..data.records import PromptRecord
from ..distributed import Group
from ..models.codec import Codec
from ..models.stack import ModelStack, SeqBatch, left_pad, logprobs_of
from ..rm.scoring import rm_text, score
from ..stages.batches import micro_batch_starts
from .hyper import PPOHyper
from .sampling import sample


@dataclass
class Rollout:
    prompts: list[PromptRecord]
    batch: SeqBatch  # prompt (left-padded) + response (right-padded), [B, P + T]
    responses: Tensor  # [B, T] sampled ids; padding after the end
    mask: Tensor  # [B, T] float, 1 on response tokens (EOS included)
    has_eos: list[bool]
    texts: list[str]
    logprobs: Tensor  # [B, T] policy at sampling time
    ref_logprobs: Tensor  # [B, T]
    values: Tensor  # [B, T]
    rm_scores: Tensor  # [B]
    terms: list[ScoreTerms]
    entropy: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def scores(self) -> Tensor:
        """rm + eos_penalty + length + symbolic, per sequence."""
        extra = torch.tensor([t.total for t in self.terms], dtype=self.rm_scores.dtype)
        return self.rm_scores + extra

    @property
    def lengths(self) -> Tensor:
        return self.mask.sum(-1)


class PromptEncoder:
    """Policy prompt ids per record (Vicuna-v1 template), cached: prompts repeat every epoch."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self._cache: dict[str, list[int]] = {}

    def __call__(self, record: PromptRecord) -> list[int]:
        if record.id not in self._cache:
            self._cache[record.id] = self.codec.encode(policy_prompt(record.conversations))
        return self._cache[record.id]


def _cut(tokens: list[int], eos_id: int, stop_id: int | None) -> tuple[list[int], bool]:
    """Keeps tokens up to and including the first EOS; `stop_id` (ppo.truncate_at) also cuts,
    but the response then counts as unfinished, as in the reference code."""
    for i, t in enumerate(tokens):
        if t == eos_id:
            return tokens[: i + 1], True
        if stop_id is not None and t == stop_id:
            return tokens[: i + 1], False
    return tokens, False


def _widen_left(ids: Tensor, mask: Tensor, width: int, pad_id: int) -> tuple[Tensor, Tensor]:
    extra = width - ids.shape[1]
    if extra <= 0:
        return ids, mask
    return (
        torch.cat([torch.full((ids.shape[0], extra), pad_id, dtype=ids.dtype), ids], 1),
        torch.cat([torch.zeros((mask.shape[0], extra), dtype=mask.dtype), mask], 1),
    )


def collect(
    stack: ModelStack,
    codec: Codec,
    encoder: PromptEncoder,
    prompts: list[PromptRecord],
    ppo: PPOHyper,
    fact_augmentation: bool,
    stop_id: int | None,
    keys: list[int],
    fact_rngs: list[random.Random],
    group: Group,
    phase: Callable[[str], None] | None = None,
) -> Rollout:
    """This rank's share of the rollout batch. `keys` seed each sample's tokens and `fact_rngs`
    shuffle each sample's facts, so a sample does not depend on the batch it is generated in.
    Padded widths are the maxima over all ranks: every rank then runs the same shapes a single
    process would, and per-token tensors can be gathered for the iteration's metrics."""
    micro = min(ppo.rollout_per_device_batch_size, len(prompts))
    t0 = time.perf_counter()
    prompt_ids = [encoder(p) for p in prompts]
    pixels = torch.stack([codec.pixel_values(p.image) for p in prompts])
    key_tensor = torch.tensor(keys, dtype=torch.int64)
    responses: list[list[int]] = []
    has_eos: list[bool] = []
    stack.model.eval()
    for start in micro_batch_starts(len(prompts), micro):
        ids, mask = left_pad(prompt_ids[start : start + micro], codec.pad_id)
        new = sample(
            stack,
            SeqBatch(ids, mask, pixels[start : start + micro]),
            key_tensor[start : start + micro],
            ppo.response_len,
            ppo.top_p,
            codec.eos_id,
            codec.pad_id,
        )
        for row in new.tolist():
            cut, ended = _cut(row, codec.eos_id, stop_id)
            responses.append(cut if cut else [codec.eos_id])
            has_eos.append(ended if cut else True)
    t1 = time.perf_counter()
    if phase is not None:
        phase("scoring")  # a stop requested during generation ends the iteration here

    # Full sequences: prompts left-padded to one width, responses right-padded to another.
    p_ids, p_mask = left_pad(prompt_ids, codec.pad_id)
    p_ids, p_mask = _widen_left(p_ids, p_mask, group.max_int(p_ids.shape[1]), codec.pad_id)
    width = group.max_int(max(len(r) for r in responses))
    r_ids = torch.full((len(prompts), width), codec.pad_id, dtype=torch.long)
    r_mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, r in enumerate(responses):
        r_ids[i, : len(r)] = torch.tensor(r)
        r_mask[i, : len(r)] = 1
    batch = SeqBatch(torch.cat([p_ids, r_ids], 1), torch.cat([p_mask, r_mask], 1), pixels)
    # Padding positions are scored as EOS (finite log-probs); the mask drops them anyway.
    targets = r_ids.masked_fill(r_mask == 0, codec.eos_id)
    texts = [codec.decode(r) for r in responses]

    logprobs, ref_logprobs, values = [], [], []
    entropy_sum, token_count = 0.0, 0.0
    with torch.no_grad():
        for start in micro_batch_starts(len(prompts), micro):
            sl = slice(start, start + micro)
            sub, tgt, m = batch.select(sl), targets[sl].to(stack.device), r_mask[sl].to(stack.device)
            logits = stack.response_logits(sub, width)
            logprobs.append(logprobs_of(logits, tgt).cpu())
            n = float(m.sum())
            entropy_sum += float(entropy_from_logits(logits, m)) * n
            token_count += n
            ref_logprobs.append(logprobs_of(stack.response_logits(sub, width, reference=True), tgt).cpu())
            values.append(stack.values(sub, width).cpu())
        rm_inputs = [rm_text(p.conversations, t, p.facts, fact_augmentation, r) for p, t, r in zip(prompts, texts, fact_rngs)]
        rm_scores = score(stack, codec, rm_inputs, [p.image for p in prompts], micro).cpu()
    score_cfg = ScoreConfig(
        no_eos_penalty=ppo.no_eos_penalty,
        length_penalty=ppo.length_penalty,
        response_len=ppo.response_len,
        correct_choice_bonus=ppo.correct_choice_bonus,
    )
    terms = [
        score_terms(text, len(r), eos, p.caption_type, p.length_bonus, score_cfg)
        for text, r, eos, p in zip(texts, responses, has_eos, prompts)
    ]
    t2 = time.perf_counter()
    return Rollout(
        prompts=prompts,
        batch=batch,
        responses=r_ids,
        mask=r_mask.float(),
        has_eos=has_eos,
        texts=texts,
        logprobs=torch.cat(logprobs),
        ref_logprobs=torch.cat(ref_logprobs),
        values=torch.cat(values),
        rm_scores=rm_scores,
        terms=terms,
        entropy=entropy_sum / max(token_count, 1.0),
        timings={"generation": t1 - t0, "scoring": t2 - t1},
    )
