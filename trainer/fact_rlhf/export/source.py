"""Finds and loads what a run's reward model is made of: base model, reward adapter, head, codec.

A reward checkpoint folder holds `reward/` (a peft LoRA adapter) and `heads.safetensors`
(`reward_head.weight`, `reward_head.bias`), whichever stage wrote it (`rm`, or `ppo` with its
warm-up). The base is the model the run trained on: the tiny model a built-in run saved in
`<run>/model`, or the folder `model.policy` names (resolved like the stages resolve it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import nn
from transformers import AutoProcessor, LlavaForConditionalGeneration

from ..errors import UsageError
from ..models.codec import Codec, ProcessorCodec, TinyCodec
from ..models.tiny import image_token_count, load_base
from ..models.tokenizer import load_word_tokenizer
from ..stages.sources import (
    ADAPTER_CONFIG,
    ADAPTER_WEIGHTS,
    BASE_FILE,
    HEADS_FILE,
    REWARD_ADAPTER,
    SourceError,
    resolve_policy,
    run_checkpoint,
)

TOKENIZER_FILE = "tokenizer.json"
TINY_BASE_DIR = "model"


@dataclass
class RewardSource:
    run_dir: Path
    manifest: dict[str, Any]
    checkpoint: Path
    base_folder: Path
    merges: tuple[Path, ...]  # LoRA SFT adapters merged into the base, in order
    tiny: bool  # the built-in word tokenizer (TinyCodec) rather than a Hugging Face processor
    tokenizer_file: Path

    @property
    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = self.manifest.get("config", {})
        return config


def _manifest(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run.json"
    if not path.is_file():
        raise UsageError(f"--run-dir {run_dir}: not a run directory (no run.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise UsageError(f"{path}: no resolved `config` in the manifest")
    return data


def find_reward_source(run_dir: Path, checkpoint: Path | None) -> RewardSource:
    """Raises UsageError naming what is missing."""
    run_dir = run_dir.resolve()
    manifest = _manifest(run_dir)
    try:
        folder = checkpoint.resolve() if checkpoint else run_checkpoint(run_dir)
    except SourceError as exc:
        raise UsageError(str(exc)) from exc
    if folder is None or not folder.is_dir():
        raise UsageError(f"checkpoint folder not found: {folder or run_dir / 'checkpoints'}")
    for needed in (Path(REWARD_ADAPTER) / ADAPTER_WEIGHTS, Path(REWARD_ADAPTER) / ADAPTER_CONFIG, Path(HEADS_FILE)):
        if not (folder / needed).is_file():
            raise UsageError(f"{folder} holds no reward model (no {needed.as_posix()})")
    policy = str(manifest["config"].get("model", {}).get("policy", ""))
    tiny = policy.startswith("builtin:")
    try:
        if (folder / BASE_FILE).is_file():
            source = resolve_policy(folder)
            base, merges = source.folder, source.merges
        elif tiny:
            base, merges = run_dir / TINY_BASE_DIR, ()
        else:
            source = resolve_policy(Path(policy))
            base, merges = source.folder, source.merges
    except SourceError as exc:
        raise UsageError(f"the reward model's base: {exc}") from exc
    if not (base / "config.json").is_file():
        raise UsageError(f"the reward model's base {base} has no config.json")
    candidates = [run_dir / TOKENIZER_FILE, base / TOKENIZER_FILE, base.parent / TOKENIZER_FILE]
    tokenizer = next((c for c in candidates if c.is_file()), None)
    if tokenizer is None:
        raise UsageError(f"no {TOKENIZER_FILE} found for the reward model (looked in {', '.join(str(c.parent) for c in candidates)})")
    return RewardSource(run_dir, manifest, folder, base, merges, tiny, tokenizer)


def load_base_fp32(source: RewardSource) -> LlavaForConditionalGeneration:
    """The base with SFT adapters merged, fp32, eager attention (plain ops that export well)."""
    from peft import PeftModel

    if source.tiny and not (source.base_folder / BASE_FILE).is_file() and not source.merges:
        model = load_base(source.base_folder)
    else:
        model = LlavaForConditionalGeneration.from_pretrained(source.base_folder, local_files_only=True, dtype=torch.float32)
    model = model.to(torch.float32)  # type: ignore[arg-type]  # transformers types PreTrainedModel.to through functools.wraps of an unbound method
    model.set_attn_implementation("eager")
    for adapter in source.merges:
        model = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    model.eval()
    return model


def load_codec(source: RewardSource, model: LlavaForConditionalGeneration) -> Codec:
    if source.tiny:
        tiny = source.config["model"]["tiny"]
        size, patch = int(tiny["image_size"]), int(tiny["patch_size"])
        return TinyCodec(load_word_tokenizer(source.tokenizer_file), image_token_count(size, patch), size)
    processor = AutoProcessor.from_pretrained(source.base_folder, local_files_only=True)
    return ProcessorCodec(processor, int(model.config.image_token_id))


def load_reward_head(source: RewardSource, hidden: int) -> nn.Linear:
    heads = load_file(str(source.checkpoint / HEADS_FILE))
    head = nn.Linear(hidden, 1)
    head.load_state_dict({"weight": heads["reward_head.weight"].float(), "bias": heads["reward_head.bias"].float()})
    return head.eval()
