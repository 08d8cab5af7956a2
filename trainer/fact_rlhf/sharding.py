"""FSDP for models that do not fit one device, on PyTorch's own `fully_shard` (FSDP2).

`launch.strategy: fsdp` with several processes shards every parameter of the model (the frozen
base included: that is what lets a model larger than one device train) over the ranks, one
sharding unit per transformer block, so a forward holds one whole block at a time:

- each decoder layer of the language model and each encoder layer of the vision tower;
- the rest of the multimodal model (token embeddings, final norm, projector, vision embeddings)
  as one unit on `LlavaModel`, the module every forward of the stack goes through;
- the LM head, and the value / reward heads, each as its own unit.

The vision tower itself is not made a unit: Transformers finds the hidden states it records by
the model's class, which `fully_shard` replaces with a subclass. LoRA adapters live inside the
blocks they adapt, so they shard with them; gradients of sharded parameters are reduce-scattered
(averaged over ranks, as DDP averages), and every forward is a collective — ranks run the same
number of forwards (see `Group.lockstep`).

Checkpoints stay whole: sharded tensors are gathered into full CPU tensors before they are
written, and whole tensors are cut to this rank's shard when read, so a checkpoint written under
FSDP resumes under DDP or in one process and the other way round.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.distributed.tensor import DTensor

from .errors import UsageError

if TYPE_CHECKING:
    from torch.distributed.device_mesh import DeviceMesh
    from transformers.modeling_layers import GradientCheckpointingLayer

    from .distributed import Group


def strategy(config: Mapping[str, object]) -> str:
    """`launch.strategy` of a resolved config (ddp when absent)."""
    launch = config.get("launch")
    value = launch.get("strategy", "ddp") if isinstance(launch, dict) else "ddp"
    return str(value or "ddp")


def wants_sharding(config: Mapping[str, object], ranks: "Group") -> bool:
    """FSDP shards only over several processes; with one there is nothing to shard."""
    return strategy(config) == "fsdp" and ranks.world_size > 1


def transformer_blocks(model: nn.Module) -> list["GradientCheckpointingLayer"]:
    """The model's transformer blocks: the layers Transformers itself checkpoints one by one."""
    from transformers.modeling_layers import GradientCheckpointingLayer

    return [m for m in model.modules() if isinstance(m, GradientCheckpointingLayer)]


def _mesh(ranks: "Group") -> "DeviceMesh":
    from torch.distributed.device_mesh import init_device_mesh

    return init_device_mesh(ranks.device.type, (ranks.world_size,))


def shard_llava(lm: nn.Module, ranks: "Group", heads: Sequence[nn.Module] = ()) -> int:
    """Shards a LLaVA model (LoRA adapters already injected) and `heads` over the ranks, in place.
    Returns the number of transformer blocks sharded. Parameter objects are replaced: collect
    parameter lists (optimizer, clipping) after this call."""
    from torch.distributed.fsdp import fully_shard

    text_config = lm.config.get_text_config()  # type: ignore[union-attr, operator]
    if getattr(text_config, "tie_word_embeddings", False):
        # The head and the embeddings would share one parameter across two units.
        raise UsageError(
            "launch.strategy: fsdp cannot shard a model whose LM head is tied to its token embeddings; use launch.strategy: ddp"
        )
    if any(getattr(p, "quant_state", None) is not None or p.dtype in (torch.int8, torch.uint8) for p in lm.parameters()):
        raise UsageError("launch.strategy: fsdp cannot shard a 4-bit/8-bit base; use launch.strategy: ddp or model.quantization: none")
    mesh = _mesh(ranks)
    blocks = transformer_blocks(lm)
    # Roots reshard after their forward too: a rollout holds no whole unit between forwards.
    for block in blocks:
        fully_shard(block, mesh=mesh, reshard_after_forward=True)
    fully_shard(lm.get_submodule("model"), mesh=mesh, reshard_after_forward=True)
    fully_shard(lm.get_submodule("lm_head"), mesh=mesh, reshard_after_forward=True)
    for head in heads:
        fully_shard(head, mesh=mesh, reshard_after_forward=True)
    ranks.lockstep = True
    return len(blocks)


def is_sharded(t: Tensor) -> bool:
    return isinstance(t, DTensor)


def local_numel(params: Iterable[Tensor]) -> int:
    """Elements this rank holds (its shards)."""
    return sum((p.to_local() if isinstance(p, DTensor) else p).numel() for p in params)


def placement_note(ranks: "Group", params: Iterable[Tensor]) -> str:
    """How the model is spread over the processes, for the run's log ("" for one process)."""
    if ranks.lockstep:
        params = list(params)
        total = sum(p.numel() for p in params)
        return (
            f"fsdp over {ranks.world_size} processes: rank {ranks.rank} holds {local_numel(params):,} of the model's {total:,} parameters"
        )
    return f"ddp over {ranks.world_size} processes" if ranks.enabled else ""


# --- whole tensors for checkpoints -----------------------------------------------------------------
def full_tensor(t: Tensor) -> Tensor:
    """A whole detached tensor; a sharded one is all-gathered (every rank must call)."""
    t = t.detach()
    return t.full_tensor() if isinstance(t, DTensor) else t


def full_cpu(tensors: Mapping[str, Tensor], keep: bool = True) -> dict[str, Tensor]:
    """Whole contiguous CPU copies, gathered one tensor at a time (every rank calls, in the same
    order); with `keep` False the copies are dropped as they come (ranks that do not write)."""
    out: dict[str, Tensor] = {}
    for name, t in tensors.items():
        whole = full_tensor(t)
        if keep:
            out[name] = whole.cpu().contiguous()
    return out


def shard_like(whole: Tensor, like: Tensor) -> Tensor:
    """`whole` as `like` is laid out: this rank's shard of it when `like` is sharded (every rank
    holds the whole tensor, read from the same file, so no communication is needed)."""
    if not isinstance(like, DTensor):
        return whole
    from torch.distributed.tensor import distribute_tensor

    return distribute_tensor(whole.to(like.device), like.device_mesh, like.placements, src_data_rank=None)


@contextlib.contextmanager
def loading_whole_tensors(*modules: nn.Module) -> Iterator[None]:
    """Lets `load_state_dict` on `modules` (or any call that ends in it, such as peft's) take
    whole tensors into sharded parameters: each incoming tensor is first cut to this rank's shard,
    in the parameter's own layout (uneven shards included). A no-op for plain modules."""
    handles = []
    for module in modules:
        for sub in module.modules():
            if any(isinstance(p, DTensor) for p in sub.parameters(recurse=False)):
                handles.append(sub.register_load_state_dict_pre_hook(_cut_to_shards))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _cut_to_shards(module: nn.Module, state_dict: dict[str, Tensor], prefix: str, *_: object) -> None:
    for name, param in module.named_parameters(recurse=False):
        key = prefix + name
        value = state_dict.get(key)
        if isinstance(param, DTensor) and value is not None and not isinstance(value, DTensor):
            state_dict[key] = shard_like(value.to(param.dtype), param)


# --- gradients --------------------------------------------------------------------------------------
def clip_grad_norm(params: Sequence[Tensor], max_norm: float) -> float:
    """torch's clip_grad_norm_; returns the total norm as a float.

    With sharded gradients the norm is computed from each whole gradient (gathered one at a time)
    by the same torch functions a single process uses, so it is the same number to the last bit
    and a sharded run takes the same steps; the clip then scales each rank's shards."""
    grads = [p.grad for p in params if p.grad is not None]
    if not any(isinstance(g, DTensor) for g in grads):
        return float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    # get_total_norm of one tensor is that tensor's norm exactly (sqrt(x²) == |x| in IEEE floats).
    norms = [torch.nn.utils.get_total_norm([full_tensor(g)]) for g in grads]
    total = torch.nn.utils.get_total_norm(norms)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)  # as clip_grads_with_norm_ scales
    for g in grads:
        local = g.to_local() if isinstance(g, DTensor) else g
        local.mul_(coef.to(local.device))
    return float(total)
