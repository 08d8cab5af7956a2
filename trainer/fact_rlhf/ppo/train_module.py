"""The trainable part of PPO as one module, so DDP sees one forward and one backward per
micro-batch: policy logits over the response and the value of every response state."""
from __future__ import annotations

import torch
from torch import Tensor, nn

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


def wrap_for_ranks(module: PolicyValue, device: torch.device, world_size: int) -> nn.Module:
    """DDP over the process group when there is more than one rank; the module itself otherwise.

    Every trainable parameter takes part in each forward (the vision tower and the reward
    adapter are frozen), so DDP needs no unused-parameter search; the buffers (rotary tables)
    are constants and are not re-broadcast every forward."""
    if world_size <= 1:
        return module
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(
        module,
        device_ids=[device.index] if device.type == "cuda" else None,
        forward_sync_buffers=False,
        find_unused_parameters=False,
    )
