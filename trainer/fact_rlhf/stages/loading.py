"""Loads a resolved model source: the base's full weights, LoRA SFT adapters merged in, and the
built-in tiny model written into a run as a complete Hugging Face folder first."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from peft import LoraConfig, get_peft_model
from transformers import LlavaForConditionalGeneration
from transformers.utils import logging as hf_logging

from ..errors import UsageError
from ..models.codec import ProcessorCodec
from ..models.pretrained import load_pretrained
from ..models.stack import POLICY, REFERENCE, REWARD, VALUE, ModelStack
from ..models.tiny import build_tiny_llava, save_base, save_processor
from ..models.tokenizer import build_word_tokenizer
from .checkpoints import load_adapter
from .sources import ModelSource, resolve_policy, resolve_reward

TOKENIZER_FILE = "tokenizer.json"
BASE_DIR = "model"


def adapter_config(folder: Path) -> LoraConfig:
    """A saved adapter's LoRA config, ready to create a trainable adapter of the same shape."""
    config = LoraConfig.from_pretrained(str(folder))
    config.inference_mode = False
    return config


def merge_adapter(base: LlavaForConditionalGeneration, folder: Path) -> LlavaForConditionalGeneration:
    """base + the LoRA adapter in `folder`, folded into the weights."""
    peft_model = get_peft_model(base, adapter_config(folder), adapter_name="merge")
    load_adapter(peft_model, "merge", folder)
    merged = peft_model.merge_and_unload()
    assert isinstance(merged, LlavaForConditionalGeneration)  # the base, with the adapter folded in
    return merged


def load_source(
    source: ModelSource, dtype: str, quantization: str = "none", device: str = "cpu"
) -> tuple[LlavaForConditionalGeneration, ProcessorCodec]:
    """The base model of `source` (policy adapter not applied) and its processor codec; with
    `quantization` (4bit/8bit) loaded quantised onto `device` (a CUDA GPU)."""
    hf_logging.disable_progress_bar()  # stderr is the run's log; no progress bars in it
    if quantization != "none" and source.merges:
        raise UsageError(
            f"model.quantization: {quantization} cannot merge the LoRA SFT adapter {source.merges[-1]} into a "
            "quantised base; train the SFT stage without LoRA (sft.use_lora: false) or use model.quantization: none"
        )
    base, codec = load_pretrained(source.folder, dtype, quantization, device)
    for folder in source.merges:
        base = merge_adapter(base, folder)
    for p in base.parameters():
        if p.is_floating_point():  # quantised weights are integer storage and never train
            p.requires_grad_(quantization == "none")  # merging leaves the base frozen; each stage decides what trains
    return base, codec


def builtin_folder(config: dict[str, Any], corpus: Iterable[str], run_dir: Path, resume: bool) -> Path:
    """`builtin:tiny-llava` written into `<run>/model` (weights + processor) so it loads like any
    checkpoint and later stages can name it; a resumed run reuses the folder it wrote."""
    model_cfg, folder = config["model"], run_dir / BASE_DIR
    if resume and (folder / "config.json").is_file() and (folder / "model.safetensors").is_file():
        return folder
    tiny = model_cfg["tiny"]
    tokenizer = build_word_tokenizer(corpus)
    tokenizer.save(str(run_dir / TOKENIZER_FILE))
    vocab = tokenizer.get_vocab(with_added_tokens=True)
    base = build_tiny_llava(tiny, vocab, int(model_cfg["max_length"]), int(config["seed"]))
    save_base(base, folder)
    save_processor(tokenizer, folder, int(tiny["image_size"]), int(tiny["patch_size"]))
    return folder


def stage_source(config: dict[str, Any], corpus: Iterable[str], run_dir: Path, resume: bool) -> ModelSource:
    """The source `model.policy` names; the built-in model is first written into the run."""
    policy = str(config["model"]["policy"])
    if policy.startswith("builtin:"):
        folder = builtin_folder(config, corpus, run_dir, resume)
        return ModelSource(folder, given=folder)
    return resolve_policy(Path(policy))


# --- the PPO stage's model stack ----------------------------------------------------------------
def ppo_base(config: dict[str, Any], device: str = "cpu") -> tuple[LlavaForConditionalGeneration, ProcessorCodec, Path | None]:
    """The base of a PPO run whose `model.policy` is a path, and its rl_init policy adapter."""
    source = resolve_policy(Path(config["model"]["policy"]))
    base, codec = load_source(source, config["model"]["dtype"], config["model"]["quantization"], device)
    for p in base.parameters():
        p.requires_grad_(False)
    return base, codec, source.policy_adapter


def ppo_adapter_configs(config: dict[str, Any], policy_adapter: Path | None) -> dict[str, LoraConfig]:
    """LoRA shapes of loaded adapters: the reward model's (the value model copies it) and the
    rl_init policy's; the others follow `model.lora`."""
    configs: dict[str, LoraConfig] = {}
    if config["model"].get("reward_model"):
        reward = resolve_reward(Path(config["model"]["reward_model"])) / REWARD
        configs[REWARD] = configs[VALUE] = adapter_config(reward)
    if policy_adapter is not None:
        configs[POLICY] = adapter_config(policy_adapter)
    return configs


def start_policy(stack: ModelStack, policy_adapter: Path) -> None:
    """Policy and frozen reference both start from the rl_init adapter."""
    load_adapter(stack.model, POLICY, policy_adapter)
    load_adapter(stack.model, REFERENCE, policy_adapter)
