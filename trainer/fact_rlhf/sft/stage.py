"""The `sft` and `rl_init` stages (FACT_RLHF.md §2).

- sft: the LLaVA model fine-tuned on conversations, loss on assistant turns only; full fine-tune
  of the language model and projector (vision tower frozen) or, with `sft.use_lora`, a LoRA on the
  language model that later stages merge into the base.
- rl_init: a fresh policy LoRA trained with the same loss on top of the SFT model (`model.policy`);
  a PPO run whose `model.policy` names it starts its policy and frozen reference from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from peft import get_peft_model
from transformers import LlavaForConditionalGeneration

from ..checkpoint import latest_checkpoint
from ..distributed import group, wrap_ddp
from ..errors import DataError, UsageError
from ..models.checkpointing import enable_gradient_checkpointing
from ..models.stack import lora_config
from ..rundir import CHECKPOINTS_DIR, RunDirectory
from ..sharding import placement_note, shard_llava, wants_sharding
from ..signals import StopRequest
from ..stages.common import say, seed_and_threads, stage_folders
from ..stages.data import load_stage_data
from ..stages.loading import load_source, stage_source
from ..stages.sources import POLICY_ADAPTER, SFT_ADAPTER, base_record
from .data import Example, encode_example, truncate
from .trainer import Hyper, SupervisedTrainer, WeightsIO
from .weights import AdapterWeights, FullWeights


def _examples(records: list[Any], codec: Any, max_length: int, run: RunDirectory) -> list[Example]:
    examples, dropped = [], 0
    for record in records:
        example = truncate(encode_example(codec, record), max_length, codec.image_id)
        if example is None:
            dropped += 1
        else:
            examples.append(example)
    if dropped:
        say(
            run,
            f"dropped {dropped} of {len(records)} conversations: over {max_length} tokens with no "
            "labelled token or part of the image left after truncation",
            "warning",
        )
    if not examples:
        raise DataError(f"no conversation fits in {max_length} tokens")
    return examples


def run_sft(config: dict[str, Any], run: RunDirectory, device: str, resume: bool, stop: StopRequest) -> str:
    adapter = SFT_ADAPTER if config["sft"]["use_lora"] else None
    return _run_supervised(config, run, device, resume, stop, "sft", adapter)


def run_rl_init(config: dict[str, Any], run: RunDirectory, device: str, resume: bool, stop: StopRequest) -> str:
    return _run_supervised(config, run, device, resume, stop, "rl_init", POLICY_ADAPTER)


def _run_supervised(
    config: dict[str, Any], run: RunDirectory, device: str, resume: bool, stop: StopRequest, stage: str, adapter: str | None
) -> str:
    section = config[stage]
    seed_and_threads(config)
    resuming = resume and latest_checkpoint(run.path / CHECKPOINTS_DIR) is not None
    data_dir, model_dir = stage_folders(run, resuming)
    run.phase("data")
    data = load_stage_data(config, data_dir, need="conversations")
    source = stage_source(config, data.corpus(), model_dir, resume=resuming)
    if source.policy_adapter is not None:
        raise UsageError(
            f"model.policy: {source.given} is an rl_init policy; {stage} trains on an SFT model "
            "(an sft run, a model folder or builtin:tiny-llava)"
        )
    say(run, f"data: {len(data.conversations)} conversations ({data.source}); model: {source.given}")
    model_cfg = config["model"]
    run.phase("model")
    base, codec = load_source(source, model_cfg["dtype"], model_cfg["quantization"], device)
    max_length = min(int(section["max_length"]), int(model_cfg["max_length"]))
    examples = _examples(data.conversations, codec, max_length, run)
    built = supervised_model(config, base, adapter, device, base_record(source), codec.processor)
    trainer = SupervisedTrainer(
        built.forward,
        built.params,
        examples,
        Hyper.from_config(section, stage),
        codec,
        run,
        stage,
        int(config["seed"]),
        built.weights,
        stop.check(),
    )
    run.status("running")
    if resuming:
        folder = trainer.resume()
        say(run, f"resumed from {run.relative(folder) if folder else '?'} at step {trainer.step}/{trainer.total}")
    n_params = sum(p.numel() for p in built.params)
    say(
        run,
        f"{stage}: {built.what}, {n_params:,} trainable parameters; {trainer.total} steps of "
        f"{trainer.global_batch} conversations ({len(examples)} examples) on {device}"
        + (f"; {built.placement}" if built.placement else ""),
    )
    status, losses = trainer.train()
    if losses:
        k = max(1, len(losses) // 5)
        say(
            run,
            f"{stage} {status} at step {trainer.step}/{trainer.total}: loss {sum(losses[:k]) / k:.4f} "
            f"(first {k}) → {sum(losses[-k:]) / k:.4f} (last {k})",
        )
    if status == "stopped":
        say(run, f"stopped on {stop.signal_name}: checkpoint at step {trainer.step}; continue with --resume")
    return status


@dataclass
class SupervisedModel:
    forward: torch.nn.Module  # what the loop calls: the model, or DDP over it
    params: list[torch.nn.Parameter]  # what the optimiser trains
    weights: WeightsIO
    what: str  # for the log
    placement: str  # "" or how the model is spread over processes, for the log


def supervised_model(
    config: dict[str, Any], base: LlavaForConditionalGeneration, adapter: str | None, device: str, base_info: dict[str, Any], processor: Any
) -> SupervisedModel:
    """The model an sft / rl_init run trains, on `device`: gradient checkpointing per block
    (model.gradient_checkpointing), then sharded (launch.strategy fsdp) or DDP-wrapped (ddp) when
    there are several processes. Parameter lists are taken after sharding (it replaces them)."""
    ranks = group()
    if config["model"]["gradient_checkpointing"]:
        enable_gradient_checkpointing(base)
    weights: WeightsIO
    model: torch.nn.Module
    if adapter is None:
        # Full fine-tune: language model, projector and LM head; the vision tower stays frozen.
        for p in base.model.vision_tower.parameters():
            p.requires_grad_(False)
        model = base.to(torch.device(device))  # type: ignore[arg-type]  # transformers types PreTrainedModel.to through functools.wraps of an unbound method
        weights = FullWeights(base, processor)
        what = "full fine-tune (vision tower frozen)"
    else:
        for p in base.parameters():
            p.requires_grad_(False)
        model = get_peft_model(base, lora_config(config["model"]["lora"]), adapter_name=adapter).to(torch.device(device))
        weights = AdapterWeights(model, adapter, base_info, processor)
        what = f"LoRA r={config['model']['lora']['r']} on the language model"
    if wants_sharding(config, ranks):
        shard_llava(base, ranks)
    params = [p for n, p in model.named_parameters() if p.requires_grad and (adapter is None or "lora_" in n)]
    # A full fine-tune may not use the projector in a micro-batch without images.
    forward = wrap_ddp(model, torch.device(device), ranks, find_unused=adapter is None)
    return SupervisedModel(forward, params, weights, what, placement_note(ranks, model.parameters()))
