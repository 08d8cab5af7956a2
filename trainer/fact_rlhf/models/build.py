"""Builds the model stack a stage trains: base (tiny or checkpoint) + codec + adapters + heads."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import torch

from ..algo.rm_prompt import policy_prompt, rm_critique_suffix, rm_input
from ..data.records import Dataset
from .checkpointing import enable_gradient_checkpointing
from .codec import Codec, TinyCodec
from .pretrained import DTYPES
from .stack import ModelStack
from .tiny import build_tiny_llava, image_token_count, load_base, save_base, save_processor
from .tokenizer import build_word_tokenizer, load_word_tokenizer

TOKENIZER_FILE = "tokenizer.json"
BASE_DIR = "model"


def world_corpus(dataset: Dataset) -> Iterable[str]:
    """Every text the tiny model will read: prompts, RM inputs with and without facts, answers."""
    yield rm_critique_suffix(None)
    for p in dataset.prompts:
        yield policy_prompt(p.conversations)
        yield rm_input(p.conversations, str(p.meta.get("answer", "")), p.facts or None)
    for pair in dataset.pairs:
        yield rm_input(pair.conversations, pair.output_1, pair.facts or None)
        yield pair.output_2


def build_stack(config: dict[str, Any], dataset: Dataset, run_dir: Path, device: str, resume: bool) -> tuple[ModelStack, Codec]:
    """The tiny model's tokenizer and base weights are saved in the run (`tokenizer.json`,
    `model/`) so a resume, an export or the editor's scorer read exactly what was trained."""
    model_cfg = config["model"]
    policy_adapter: Path | None = None  # an rl_init run's policy LoRA
    if model_cfg["policy"].startswith("builtin:"):
        tiny = model_cfg["tiny"]
        tok_path, base_dir = run_dir / TOKENIZER_FILE, run_dir / BASE_DIR
        if resume and tok_path.is_file() and (base_dir / "config.json").is_file():
            tokenizer = load_word_tokenizer(tok_path)
            base = load_base(base_dir)
        else:
            tokenizer = build_word_tokenizer(world_corpus(dataset))
            tokenizer.save(str(tok_path))
            base = build_tiny_llava(tiny, tokenizer.get_vocab(with_added_tokens=True), int(model_cfg["max_length"]), int(config["seed"]))
            save_base(base, base_dir)
            save_processor(tokenizer, base_dir, int(tiny["image_size"]), int(tiny["patch_size"]))
        codec: Codec = TinyCodec(tokenizer, image_token_count(int(tiny["image_size"]), int(tiny["patch_size"])), int(tiny["image_size"]))
        base = base.to(DTYPES[model_cfg["dtype"]])  # type: ignore[arg-type]  # transformers types PreTrainedModel.to through functools.wraps of an unbound method
    else:
        # A model folder, or an sft / rl_init run or checkpoint (stages/sources.py).
        from ..stages.loading import ppo_base

        base, codec, policy_adapter = ppo_base(config, device)
    if model_cfg["gradient_checkpointing"]:
        enable_gradient_checkpointing(base)
    from ..stages.loading import ppo_adapter_configs, start_policy

    stack = ModelStack(
        base,
        model_cfg["lora"],
        codec.suppress_ids,
        float(config["ppo"]["temperature"]),
        ppo_adapter_configs(config, policy_adapter),
        reference_adapter=policy_adapter is not None,
    )
    if policy_adapter is not None:
        start_policy(stack, policy_adapter)  # an rl_init run: policy and reference start from it
    stack.to(torch.device(device))
    shard_stack(config, stack)
    return stack, codec


def shard_stack(config: dict[str, Any], stack: ModelStack) -> int:
    """With launch.strategy fsdp over several processes: the stack's base, adapters and heads
    sharded over the ranks (sharding.py). Returns the number of blocks sharded (0: not sharded)."""
    from ..distributed import group
    from ..sharding import shard_llava, wants_sharding

    ranks = group()
    if not wants_sharding(config, ranks):
        return 0
    return shard_llava(stack.lm, ranks, heads=(stack.value_head, stack.reward_head))
