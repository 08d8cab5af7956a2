"""Cheap checks of checkpoint folders (config and file names only, no torch), for preflight."""

from __future__ import annotations

import json
from pathlib import Path

SUPPORTED_MODEL_TYPES = ("llava",)
# What a reward model folder (an `rm` run's or a PPO run's checkpoint) holds.
REWARD_ADAPTER = Path("reward") / "adapter_model.safetensors"
HEADS_FILE = "heads.safetensors"


def policy_folder_problem(folder: Path) -> str | None:
    """Why `folder` cannot be a policy checkpoint, or None."""
    if not folder.is_dir():
        return f"checkpoint folder not found: {folder}"
    return model_config_problem(folder, "expected a Hugging Face LLaVA checkpoint folder")


def model_config_problem(folder: Path, expected: str) -> str | None:
    """Why `folder`'s config.json does not describe a supported model, or None; `expected` says
    what the folder should have been when it has no config.json."""
    config = folder / "config.json"
    if not config.is_file():
        return f"{folder} has no config.json ({expected})"
    try:
        model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError) as exc:
        return f"{config}: cannot read: {exc}"
    if model_type not in SUPPORTED_MODEL_TYPES:
        return f"{folder} holds a {model_type!r} model; supported: {', '.join(SUPPORTED_MODEL_TYPES)}"
    return None


def reward_folder_problem(folder: Path) -> str | None:
    """Why `folder` cannot be a reward model checkpoint, or None."""
    if not folder.is_dir():
        return f"reward model folder not found: {folder}"
    for needed in (REWARD_ADAPTER, Path(HEADS_FILE)):
        if not (folder / needed).is_file():
            return f"{folder} is not a reward model checkpoint (no {needed.as_posix()})"
    return None
