"""Checkpoints: `checkpoints/step-N/` in safetensors (never pickle), plus a `latest` pointer.

Layout of one checkpoint:
  policy/ value/ reward/      adapter_model.safetensors + adapter_config.json (peft format)
  heads.safetensors           value_head.* and reward_head.*
  optimizer.safetensors       AdamW moments per parameter index, and the torch RNG state
  trainer_state.json          iteration, KL coefficient, scheduler position, parameter names
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from peft import get_peft_model_state_dict, set_peft_model_state_dict
from safetensors.torch import load_file, save_file

from .models.checkpoint_check import HEADS_FILE
from .models.stack import ADAPTERS, ModelStack

LATEST = "latest"


def step_dir(checkpoints: Path, step: int) -> Path:
    return checkpoints / f"step-{step}"


def save_adapters(stack: ModelStack, folder: Path) -> None:
    for name in ADAPTERS:
        sub = folder / name
        sub.mkdir(parents=True, exist_ok=True)
        state = get_peft_model_state_dict(stack.model, adapter_name=name)
        save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(sub / "adapter_model.safetensors"))
        stack.model.peft_config[name].save_pretrained(str(sub))
    heads = {f"value_head.{k}": v for k, v in stack.value_head.state_dict().items()}
    heads.update({f"reward_head.{k}": v for k, v in stack.reward_head.state_dict().items()})
    save_file({k: v.detach().cpu().contiguous() for k, v in heads.items()}, str(folder / HEADS_FILE))


def load_adapters(stack: ModelStack, folder: Path, names: tuple[str, ...] = ADAPTERS) -> None:
    device = stack.device
    for name in names:
        state = load_file(str(folder / name / "adapter_model.safetensors"), device=str(device))
        result = set_peft_model_state_dict(stack.model, state, adapter_name=name)
        unexpected = getattr(result, "unexpected_keys", [])
        if unexpected:
            raise ValueError(f"{folder / name}: adapter does not fit this model (unexpected {unexpected[:3]})")
    heads = load_file(str(folder / HEADS_FILE), device=str(device))
    if "value" in names:
        stack.value_head.load_state_dict({k.split(".", 1)[1]: v for k, v in heads.items() if k.startswith("value_head.")})
    if "reward" in names:
        stack.reward_head.load_state_dict({k.split(".", 1)[1]: v for k, v in heads.items() if k.startswith("reward_head.")})


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            t = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            tensors[f"state.{index}.{key}"] = t.detach().cpu().contiguous()
    tensors["rng.torch"] = torch.random.get_rng_state()
    return tensors


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    current = optimizer.state_dict()
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    current["state"] = state
    optimizer.load_state_dict(current)


def save_checkpoint(
    checkpoints: Path,
    step: int,
    stack: ModelStack,
    optimizer: torch.optim.Optimizer | None,
    trainer_state: dict[str, Any],
) -> Path:
    """Writes step-N/ into a temporary folder, renames it in place, then updates `latest`."""
    final = step_dir(checkpoints, step)
    tmp = checkpoints / f".tmp-step-{step}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_adapters(stack, tmp)
    if optimizer is not None:
        save_file(_optimizer_tensors(optimizer), str(tmp / "optimizer.safetensors"))
    (tmp / "trainer_state.json").write_text(json.dumps(trainer_state, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    pointer = checkpoints / (LATEST + ".tmp")
    pointer.write_text(final.name + "\n", encoding="utf-8")
    os.replace(pointer, checkpoints / LATEST)
    return final


def latest_checkpoint(checkpoints: Path) -> Path | None:
    pointer = checkpoints / LATEST
    if not pointer.is_file():
        return None
    folder = checkpoints / pointer.read_text(encoding="utf-8").strip()
    return folder if folder.is_dir() else None


def load_checkpoint(folder: Path, stack: ModelStack, optimizer: torch.optim.Optimizer | None) -> dict[str, Any]:
    """Restores adapters, heads, optimizer and RNG; returns trainer_state.json."""
    load_adapters(stack, folder)
    if optimizer is not None and (folder / "optimizer.safetensors").is_file():
        tensors = load_file(str(folder / "optimizer.safetensors"))
        _restore_optimizer(optimizer, tensors)
        if "rng.torch" in tensors:
            torch.random.set_rng_state(tensors["rng.torch"])
    state: dict[str, Any] = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    return state
