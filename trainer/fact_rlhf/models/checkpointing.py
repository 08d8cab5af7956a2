"""Gradient (activation) checkpointing per transformer block, in training and eval mode alike.

Transformers' own switch (`gradient_checkpointing_enable`) checkpoints a block only while the
module is in training mode. The reward model and PPO keep their model in eval mode on purpose (no
dropout: PPO's probability ratios start at exactly 1), so that switch did nothing there. Here each
block's forward runs under `torch.utils.checkpoint` (non-reentrant) whenever gradients are being
recorded, whatever the mode; generation (no grad, or a KV cache) runs the block as usual.

A block's activations are then dropped after its forward and recomputed during the backward: the
same gradients for about one extra forward of compute, and activation memory of one block instead
of all of them. The recompute runs the LoRA adapter the forward ran (see `_replay_adapters`).
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, ContextManager, Iterator

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

MARK = "_fact_rlhf_checkpointed"


def _adapter_layers(block: nn.Module) -> list[nn.Module]:
    from peft.tuners.tuners_utils import BaseTunerLayer

    return [m for m in block.modules() if isinstance(m, BaseTunerLayer)]


def _replay_adapters(layers: list[nn.Module]) -> tuple[ContextManager[None], ContextManager[None]]:
    """checkpoint's context_fn: the recompute must run the adapter the forward ran. The stack
    switches adapters between forwards (PPO's policy then value forward, then one backward), so
    by the time a block is recomputed another adapter may be active. peft's public switches also
    change requires_grad, hence its two attributes are set directly."""
    at_forward = [(m, m._active_adapter, m._disable_adapters) for m in layers]

    @contextlib.contextmanager
    def replay() -> Iterator[None]:
        now = [(m, m._active_adapter, m._disable_adapters) for m in layers]
        for m, active, disabled in at_forward:
            m._active_adapter, m._disable_adapters = active, disabled
        try:
            yield
        finally:
            for m, active, disabled in now:
                m._active_adapter, m._disable_adapters = active, disabled

    return contextlib.nullcontext(), replay()


def _checkpointed(block: nn.Module, forward: Callable[..., Any]) -> Callable[..., Any]:
    layers: list[nn.Module] | None = None  # found at the first forward: adapters may come later

    def run(*args: Any, **kwargs: Any) -> Any:
        nonlocal layers
        # A KV cache is written inside the block: replaying it in the backward would write twice.
        caching = bool(kwargs.get("use_cache")) or kwargs.get("past_key_values") is not None
        if not torch.is_grad_enabled() or caching:
            return forward(*args, **kwargs)
        if layers is None:
            layers = _adapter_layers(block)
        found = layers
        return checkpoint(forward, *args, use_reentrant=False, context_fn=lambda: _replay_adapters(found), **kwargs)

    return run


def enable_gradient_checkpointing(model: nn.Module) -> int:
    """Checkpoints every transformer block of `model` (the layers Transformers itself would).
    Idempotent; returns the number of blocks checkpointed."""
    from ..sharding import transformer_blocks

    blocks = transformer_blocks(model)
    for block in blocks:
        if getattr(block, MARK, False):
            continue
        block.gradient_checkpointing = False  # Transformers' own (train-mode only) path stays off
        block.forward = _checkpointed(block, block.forward)
        setattr(block, MARK, True)
    return len(blocks)


def is_checkpointed(block: nn.Module) -> bool:
    return bool(getattr(block, MARK, False))
