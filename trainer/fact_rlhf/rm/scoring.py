"""Reward-model inputs (fact-augmented critique template) and batched scoring."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor

from ..algo.rm_prompt import rm_input
from ..data.records import Conversation
from ..models.codec import Codec
from ..models.stack import ModelStack, SeqBatch, left_pad


def rm_text(conversations: Conversation, response: str, facts: Sequence[str], augment: bool, rng: random.Random) -> str:
    """The RM input; with `augment` the image's facts (shuffled) go into the critique suffix."""
    return rm_input(conversations, response, list(facts) if augment and facts else None, rng)


def encode_batch(codec: Codec, texts: Sequence[str], images: Sequence[Path]) -> SeqBatch:
    ids, mask = left_pad([codec.encode(t) for t in texts], codec.pad_id)
    pixels = torch.stack([codec.pixel_values(i) for i in images])
    return SeqBatch(ids, mask, pixels)


def score(stack: ModelStack, codec: Codec, texts: Sequence[str], images: Sequence[Path], micro: int) -> Tensor:
    """RM scores [N] for texts (call under no_grad for inference; differentiable otherwise)."""
    parts = []
    for start in range(0, len(texts), micro):
        batch = encode_batch(codec, texts[start : start + micro], images[start : start + micro])
        parts.append(stack.rewards(batch))
    return torch.cat(parts)
