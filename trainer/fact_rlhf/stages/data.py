"""Data of the sft / rl_init / rm stages: user files, or the built-in world generated into the run.

Every stage on the built-in world generates the same world (seed, size) and builds the built-in
tokenizer from the same corpus, so their `builtin:tiny-llava` bases are the same model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from ..data import WORLD_DIR
from ..data.llava_json import FactsMap, load_facts, load_preferences, load_prompts
from ..data.records import Dataset, PreferencePair
from ..shapes.world import generate_world_for, vocabulary_text
from ..models.build import world_corpus
from ..sft.data import SftRecord, load_conversations, render
from ..shapes.sft_data import SFT_FILE, shapes_conversations


@dataclass
class StageData:
    conversations: list[SftRecord] = field(default_factory=list)
    pairs: list[PreferencePair] = field(default_factory=list)
    source: str = ""
    world: Dataset | None = None  # the built-in world, for the built-in tokenizer's corpus

    def corpus(self) -> Iterator[str]:
        """Every text a built-in model reads (the PPO stage's corpus plus the SFT texts)."""
        if self.world is not None:
            yield from _world_vocabulary()  # every word of the world, e.g. of a later run's eval questions
            yield from world_corpus(self.world)
        for record in self.conversations:
            yield render(record.conversations)


@lru_cache(maxsize=1)
def _world_vocabulary() -> tuple[str, ...]:
    """Its distinct lines: coverage is what counts, and one huge string tokenizes slowly.
    Deterministic and slow-ish (a second or more): once per process."""
    return tuple(sorted(set(vocabulary_text().split("\n"))))


def load_stage_data(config: dict[str, Any], run_dir: Path, need: str) -> StageData:
    """`need`: "conversations" (sft, rl_init) or "pairs" (rm)."""
    data = config["data"]
    if data["builtin"] == "shapes":
        files = generate_world_for(config, run_dir / WORLD_DIR)
        facts: FactsMap = load_facts(files.facts)
        world = Dataset(
            prompts=load_prompts(files.ppo_prompts, files.image_folder, facts),
            pairs=load_preferences(files.preference, files.image_folder, facts),
            image_folder=files.image_folder,
            source="builtin:shapes",
        )
        sft_path = shapes_conversations(files.sft, files.sft.parent / SFT_FILE)
        conversations = load_conversations(sft_path, files.image_folder)
        return StageData(conversations, world.pairs, "builtin:shapes", world)
    image_folder = Path(data["image_folder"]) if data.get("image_folder") else None
    if need == "pairs":
        facts = load_facts(Path(data["facts"])) if data.get("facts") else {}
        return StageData(pairs=load_preferences(Path(data["preference"]), image_folder, facts), source=str(data["preference"]))
    return StageData(conversations=load_conversations(Path(data["sft"]), image_folder), source=str(data["sft"]))
