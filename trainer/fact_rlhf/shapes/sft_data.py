"""SFT conversations about the built-in shapes world's images, in LLaVA JSON.

The world writes one single-turn record per question (describe, a multiple choice, yes/no, each
with its faithful answer). Here each image also gets one multi-turn conversation that asks its
questions in turn (order rotated per image), so training sees later human turns too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..data.records import IMAGE_MARKER

SFT_FILE = "sft_conversations.json"


def _plain(value: str) -> str:
    return value.replace(f"{IMAGE_MARKER}\n", "").replace(IMAGE_MARKER, "")


def shapes_conversations(world_sft: Path, out: Path) -> Path:
    """Reads the world's `sft.json`, writes single- and multi-turn records to `out`."""
    single: list[dict[str, Any]] = json.loads(world_sft.read_text(encoding="utf-8"))
    by_image: dict[str, list[dict[str, Any]]] = {}
    for record in single:
        by_image.setdefault(str(record["image"]), []).append(record)
    records = list(single)
    for n, (image, items) in enumerate(by_image.items()):
        shift = n % len(items)
        items = items[shift:] + items[:shift]
        turns: list[dict[str, str]] = []
        for k, item in enumerate(items):
            question, answer = item["conversations"][0]["value"], item["conversations"][1]["value"]
            turns.append({"from": "human", "value": f"{IMAGE_MARKER}\n{_plain(question)}" if k == 0 else _plain(question)})
            turns.append({"from": "gpt", "value": answer})
        records.append({"id": f"{Path(image).stem}-dialogue", "image": image, "conversations": turns})
    out.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    return out
