"""Data for the stages: LLaVA-format JSON files, or the built-in synthetic world."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .llava_json import load_facts, load_preferences, load_prompts
from .records import Dataset, PreferencePair, PromptRecord
from ..shapes.world import generate_world_for

WORLD_DIR = "world"


def load_ppo_data(config: dict[str, Any], run_dir: Path, need_pairs: bool) -> Dataset:
    """PPO prompts (+ preference pairs when the RM must be trained first).

    The built-in world is written into `<run>/world/` in LLaVA format and read back through the
    same loaders as user files, so both paths stay exercised.
    """
    data = config["data"]
    if data["builtin"] == "shapes":
        folder = run_dir / WORLD_DIR
        files = generate_world_for(config, folder)  # data.* world options too: the world the other stages see
        facts = load_facts(files.facts)
        return Dataset(
            prompts=load_prompts(files.ppo_prompts, files.image_folder, facts),
            pairs=load_preferences(files.preference, files.image_folder, facts) if need_pairs else [],
            image_folder=files.image_folder,
            source="builtin:shapes",
        )
    image_folder = Path(data["image_folder"]) if data.get("image_folder") else None
    facts = load_facts(Path(data["facts"])) if data.get("facts") else {}
    pairs: list[PreferencePair] = []
    if need_pairs and data.get("preference"):
        pairs = load_preferences(Path(data["preference"]), image_folder, facts)
    prompts: list[PromptRecord] = load_prompts(Path(data["ppo_prompts"]), image_folder, facts)
    return Dataset(prompts=prompts, pairs=pairs, image_folder=image_folder, source=str(data["ppo_prompts"]))


__all__ = ["Dataset", "PreferencePair", "PromptRecord", "load_ppo_data"]
