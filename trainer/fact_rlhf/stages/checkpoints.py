"""Checkpoint folders of the sft / rl_init / rm stages: written whole then renamed in place,
the `latest` pointer updated after, older steps removed (a full-model checkpoint can weigh
tens of gigabytes). The layout matches the PPO checkpoints where they overlap."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from peft import PeftModel, get_peft_model_state_dict, set_peft_model_state_dict
from safetensors.torch import load_file, save_file

# One format for optimizer state and RNG across stages (checkpoint.py writes PPO's).
from ..checkpoint import RNG_FILE, _restore_optimizer, commit_folder, optimizer_tensors, point_latest, restore_rng, rng_tensors, step_dir
from ..sharding import full_cpu, loading_whole_tensors
from .sources import ADAPTER_WEIGHTS, BASE_FILE

OPTIMIZER_FILE = "optimizer.safetensors"
STATE_FILE = "trainer_state.json"


def write_checkpoint(checkpoints: Path, name: str, fill: Callable[[Path], None], make_latest: bool, keep: set[str] | None = None) -> Path:
    """Writes `checkpoints/<name>/` through `fill(tmp_folder)`; with `make_latest` points
    `latest` at it and removes the other `step-*` folders (except those named in `keep`)."""
    final = commit_folder(checkpoints, name, fill)  # fsynced, renamed in; see checkpoint.py
    if make_latest:
        point_latest(checkpoints, final)
        for other in checkpoints.glob("step-*"):
            if other.name != final.name and other.name not in (keep or set()):
                shutil.rmtree(other, ignore_errors=True)
    return final


def step_name(step: int) -> str:
    return step_dir(Path("."), step).name  # the PPO checkpoints' naming


def adapter_state(model: PeftModel, adapter: str, keep: bool = True) -> dict[str, torch.Tensor]:
    """One adapter's weights (peft format) as whole CPU tensors; with a sharded model every rank
    calls this (the shards are gathered) and only the writer keeps them."""
    return full_cpu(get_peft_model_state_dict(model, adapter_name=adapter), keep)


def write_adapter(model: PeftModel, adapter: str, folder: Path, state: dict[str, torch.Tensor]) -> None:
    """`folder/adapter_model.safetensors` + `adapter_config.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / ADAPTER_WEIGHTS))
    model.peft_config[adapter].save_pretrained(str(folder))


def save_adapter(model: PeftModel, adapter: str, folder: Path) -> None:
    """One peft adapter as `folder/adapter_model.safetensors` + `adapter_config.json`."""
    write_adapter(model, adapter, folder, adapter_state(model, adapter))


def load_adapter(model: PeftModel, adapter: str, folder: Path) -> None:
    device = next(model.parameters()).device
    state = load_file(str(folder / ADAPTER_WEIGHTS), device=str(device))
    with loading_whole_tensors(model):  # a sharded model keeps its shard of each tensor
        result = set_peft_model_state_dict(model, state, adapter_name=adapter)
    unexpected = getattr(result, "unexpected_keys", [])
    if unexpected:
        raise ValueError(f"{folder}: adapter does not fit this model (unexpected {unexpected[:3]})")


@dataclass
class TrainingTensors:
    """What a checkpoint holds besides the weights, gathered before it is written."""

    moments: dict[str, torch.Tensor]  # optimizer.safetensors
    rng: dict[str, torch.Tensor]  # rng.safetensors


def training_tensors(optimizer: torch.optim.Optimizer, keep: bool = True) -> TrainingTensors:
    """Optimizer moments (gathered when sharded: every rank calls) and the RNG states."""
    return TrainingTensors(optimizer_tensors(optimizer, keep), {k: v.contiguous() for k, v in rng_tensors().items()} if keep else {})


def write_training_state(folder: Path, tensors: TrainingTensors, state: dict[str, Any]) -> None:
    save_file(tensors.moments, str(folder / OPTIMIZER_FILE))
    save_file(tensors.rng, str(folder / RNG_FILE))
    (folder / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def save_training_state(folder: Path, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    write_training_state(folder, training_tensors(optimizer), state)


def load_training_state(folder: Path, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restores optimizer moments and the RNG states; returns trainer_state.json."""
    _restore_optimizer(optimizer, load_file(str(folder / OPTIMIZER_FILE)))
    if (folder / RNG_FILE).is_file():
        restore_rng(load_file(str(folder / RNG_FILE)))
    state: dict[str, Any] = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    return state


def write_base_record(folder: Path, record: dict[str, Any]) -> None:
    (folder / BASE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
