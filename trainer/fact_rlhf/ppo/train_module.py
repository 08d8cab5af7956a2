"""The trainable part of PPO as one module, so DDP sees one forward and one backward per
micro-batch: policy logits over the response and the value of every response state. Under FSDP
(launch.strategy: fsdp) the stack's model and heads are already sharded and this module runs as is."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..distributed import Group, wrap_ddp
from ..models.stack import ModelStack, SeqBatch


class PolicyValue(nn.Module):
    """Wraps the stack's model and value head (the modules holding the trainable parameters:
    the policy and value adapters and the value head; the rest is frozen)."""

    def __init__(self, stack: ModelStack) -> None:
        super().__init__()
        self.model = stack.model
        self.value_head = stack.value_head
        self._stack = stack  # not a submodule: the same parameters, reached through its methods

    def forward(self, input_ids: Tensor, attention_mask: Tensor, pixel_values: Tensor, width: int) -> tuple[Tensor, Tensor]:
        batch = SeqBatch(input_ids, attention_mask, pixel_values)
        return self._stack.response_logits(batch, width), self._stack.values(batch, width)


def wrap_for_ranks(module: PolicyValue, device: torch.device, ranks: Group) -> nn.Module:
    """DDP over the process group when there is more than one rank and the model is replicated;
    the module itself otherwise (one process, or a model sharded by FSDP, whose parameters reduce
    their own gradients: sharding.py).

    Every trainable parameter takes part in each forward (the vision tower and the reward
    adapter are frozen), so DDP needs no unused-parameter search."""
    return wrap_ddp(module, device, ranks, find_unused=False)
