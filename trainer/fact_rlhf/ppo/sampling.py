"""Rollout sampling with a per-sample random stream (FACT_RLHF.md §4 step 1).

Hugging Face `generate` draws every row's token from one global generator, so a sample depends on
which rows share its batch. Here each row owns a 32-bit key and the noise for (row, step, token)
is a counter-based hash of the three: a row samples the same tokens whether it is generated alone,
in a micro-batch, or on another rank. That is what lets a 2-process run equal a 1-process run and
a resumed run equal an uninterrupted one, with no generator state to checkpoint.

Sampling is exact: argmax(logits / T + Gumbel noise) over the allowed tokens is a draw from
softmax(logits / T) restricted to them (the Gumbel-max trick); top-p keeps the smallest set of
tokens whose probability reaches p, as `generate` does.
"""

from __future__ import annotations

import random

import torch
from torch import Tensor

from ..distributed import group
from ..models.stack import POLICY, ModelStack, SeqBatch

MASK32 = 0xFFFFFFFF
GOLDEN32 = 0x9E3779B1  # odd constant: spreads consecutive counters over the 32-bit range


def sample_key(seed: int, iteration: int, index: int) -> int:
    """The 32-bit key of sample `index` (its position in the global rollout batch) of `iteration`."""
    return random.Random(f"{seed}-sample-{iteration}-{index}").getrandbits(32)


def _mul32(x: Tensor, c: int) -> Tensor:
    """(x * c) mod 2**32 for int64 x < 2**32, in 16-bit halves so no intermediate overflows."""
    low = x * (c & 0xFFFF)
    high = ((x * (c >> 16)) & 0xFFFF) << 16
    return (low + high) & MASK32


def mix32(x: Tensor) -> Tensor:
    """murmur3's 32-bit finaliser (a bijection with good avalanche) on int64 values < 2**32."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x85EBCA6B)
    x = x ^ (x >> 13)
    x = _mul32(x, 0xC2B2AE35)
    return x ^ (x >> 16)


def uniform_noise(keys: Tensor, step: int, vocab: int) -> Tensor:
    """U(0, 1) float32 [B, vocab], a pure function of (key, step, token id)."""
    row = mix32(keys.to(torch.int64) ^ ((step * GOLDEN32) & MASK32))
    tokens = torch.arange(vocab, device=keys.device, dtype=torch.int64)
    bits = mix32(mix32(row.unsqueeze(1) ^ tokens.unsqueeze(0)) ^ (row.unsqueeze(1) >> 7))
    # 24 bits fit float32 exactly; the half-step offset keeps u strictly inside (0, 1).
    return ((bits >> 8).to(torch.float32) + 0.5) / float(1 << 24)


def top_p_filter(logits: Tensor, top_p: float) -> Tensor:
    """Logits with the tokens outside the top-p nucleus set to -inf (the top token always stays)."""
    if top_p >= 1.0:
        return logits
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(sorted_logits, dim=-1)
    before = torch.cumsum(probs, dim=-1) - probs  # mass of the tokens ranked above each one
    drop_sorted = before >= top_p
    drop_sorted[..., 0] = False
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def choose(logits: Tensor, keys: Tensor, step: int, temperature: float, top_p: float, suppress_ids: list[int]) -> Tensor:
    """One sampled token id per row from raw next-token logits [B, V]."""
    logits = logits.float() / temperature
    if suppress_ids:
        logits[:, suppress_ids] = float("-inf")
    logits = top_p_filter(logits, top_p)
    gumbel = -torch.log(-torch.log(uniform_noise(keys, step, logits.shape[-1])))
    return torch.argmax(logits + gumbel, dim=-1)


@torch.no_grad()
def sample(stack: ModelStack, batch: SeqBatch, keys: Tensor, max_new_tokens: int, top_p: float, eos_id: int, pad_id: int) -> Tensor:
    """Policy continuations [B, T'] (T' <= max_new_tokens) of left-padded prompts, with a KV cache.

    Rows that have ended keep receiving `pad_id` (their later tokens are cut by the caller);
    generation stops when every row has ended or the length is reached.
    """
    stack.use_adapter(POLICY)
    model, device = stack.model, stack.device
    mask = batch.attention_mask.to(device)
    position = batch.position_ids.to(device)
    out = model(
        input_ids=batch.input_ids.to(device),
        attention_mask=mask,
        position_ids=position,
        pixel_values=batch.pixel_values.to(device, dtype=stack.value_head.weight.dtype),
        use_cache=True,
        logits_to_keep=1,
    )
    keys = keys.to(device)
    done = torch.zeros(len(batch), dtype=torch.bool, device=device)
    next_position = position[:, -1:] + 1
    tokens: list[Tensor] = []
    for step in range(max_new_tokens):
        token = choose(out.logits[:, -1], keys, step, stack.temperature, top_p, stack.suppress_ids)
        token = token.masked_fill(done, pad_id)
        tokens.append(token)
        done = done | (token == eos_id)
        # A sharded model (FSDP) runs a collective in every forward: ranks stop together.
        if group().agree_done(bool(done.all())) or step + 1 == max_new_tokens:
            break
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        out = model(
            input_ids=token.unsqueeze(1),
            attention_mask=mask,
            position_ids=next_position,
            past_key_values=out.past_key_values,
            use_cache=True,
            logits_to_keep=1,
        )
        next_position = next_position + 1
    return torch.stack(tokens, dim=1).cpu()
