"""In-memory records the stages train on (read from LLaVA-format JSON or generated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Conversation = list[dict[str, str]]
IMAGE_MARKER = "<image>"  # where a LLaVA conversation places the image


@dataclass
class PromptRecord:
    """A PPO prompt: the first human turn is what the policy answers."""

    id: str
    image: Path
    conversations: Conversation
    caption_type: int = 1
    length_bonus: float = 1.0
    facts: list[str] = field(default_factory=list)
    # Extra per-record data a built-in world may carry (e.g. the exact scene for its judge).
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def question(self) -> str:
        """The first human turn without the `<image>` marker, for people to read."""
        first = next(t["value"] for t in self.conversations if t.get("from") == "human")
        return first.replace("<image>\n", "").replace("<image>", "").strip()


@dataclass
class PreferencePair:
    """Two answers to the same conversation; `preference` (1 or 2) names the better one."""

    id: str
    image: Path
    conversations: Conversation
    output_1: str
    output_2: str
    preference: int
    hallucination: bool = False
    facts: list[str] = field(default_factory=list)
    caption_type: int = 1  # as for prompts; multiple-choice items (2–5) read rationales as facts


@dataclass
class Dataset:
    """What a stage needs: prompts and/or preference pairs, with their image folder."""

    prompts: list[PromptRecord] = field(default_factory=list)
    pairs: list[PreferencePair] = field(default_factory=list)
    image_folder: Path | None = None
    source: str = ""
