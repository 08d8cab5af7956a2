"""Readers for LLaVA-format JSON data (FACT_RLHF.md §2). Every problem names file and record index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import display_path
from ..errors import DataError
from .records import Conversation, PreferencePair, PromptRecord

FactsMap = dict[str, list[str]]


def read_json(path: Path, what: str) -> Any:
    shown = display_path(path)
    if not path.is_file():
        raise DataError(f"{shown}: {what} file not found")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise DataError(f"{shown}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{shown}: cannot read {what} file: {exc}") from exc


class _Record:
    """Field access on one record that raises DataError naming file, index and field."""

    def __init__(self, shown: str, index: int, raw: Any) -> None:
        self.shown, self.index = shown, index
        if not isinstance(raw, dict):
            raise self.error(None, f"expected an object, got {type(raw).__name__}")
        self.raw: dict[str, Any] = raw

    def error(self, key: str | None, message: str) -> DataError:
        rid = self.raw.get("id") if isinstance(getattr(self, "raw", None), dict) else None
        label = f"record {self.index}" + (f" (id {rid!r})" if rid is not None else "")
        return DataError(f"{self.shown}: {label}: {key + ': ' if key else ''}{message}")

    def string(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if value is None:
            raise self.error(key, "missing field")
        if isinstance(value, int) and not isinstance(value, bool) and key == "id":
            value = str(value)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {type(value).__name__}")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"expected a number, got {type(value).__name__}")
        return float(value)

    def conversations(self, need_human_last: bool = False) -> Conversation:
        turns = self.raw.get("conversations")
        if turns is None:
            raise self.error("conversations", "missing field")
        if not isinstance(turns, list) or not turns:
            raise self.error("conversations", "expected a non-empty list of {from, value} turns")
        for j, turn in enumerate(turns):
            if not isinstance(turn, dict) or turn.get("from") not in ("human", "gpt") or not isinstance(turn.get("value"), str):
                raise self.error(f"conversations[{j}]", 'expected {"from": "human"|"gpt", "value": string}')
        if turns[0]["from"] != "human":
            raise self.error("conversations[0].from", "the first turn must be from 'human'")
        return [{"from": t["from"], "value": t["value"]} for t in turns]

    def image(self, folder: Path | None) -> Path:
        name = self.string("image")
        path = (folder / name) if folder is not None else Path(name)
        if not path.is_file():
            raise self.error("image", f"image file not found: {path}")
        return path.resolve()


def _records(path: Path, what: str) -> list[Any]:
    data = read_json(path, what)
    if not isinstance(data, list):
        raise DataError(f"{display_path(path)}: expected a JSON list of {what} records, got {type(data).__name__}")
    return data


def load_facts(path: Path) -> FactsMap:
    """image key → list of fact strings."""
    data = read_json(path, "facts")
    shown = display_path(path)
    if not isinstance(data, dict):
        raise DataError(f"{shown}: expected a JSON object mapping image keys to lists of facts")
    for key, facts in data.items():
        if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
            raise DataError(f"{shown}: key {key!r}: expected a list of strings")
    return data


# A-OKVQA rationales sit in the facts map under this prefix (the reference code's `aok_<image>`).
RATIONALE_PREFIX = "aok_"
MULTIPLE_CHOICE_TYPES = (2, 3, 4, 5)


def facts_for(facts: FactsMap, record_id: str, image: Path | None, caption_type: int = 1) -> list[str]:
    """Facts by record id, then image file name, then image stem (FACT_RLHF.md §2): rationales
    (`aok_<key>`) for multiple-choice items when the map has them, captions otherwise."""
    keys = [k for k in (record_id, image.name if image else None, image.stem if image else None) if k is not None]
    if caption_type in MULTIPLE_CHOICE_TYPES:
        keys = [RATIONALE_PREFIX + k for k in keys] + keys
    for key in keys:
        if key in facts:
            return list(facts[key])
    return []


def _caption_type(rec: "_Record") -> int:
    caption_type = rec.raw.get("caption_type", 1)
    if isinstance(caption_type, bool) or not isinstance(caption_type, int) or not 1 <= caption_type <= 7:
        raise rec.error("caption_type", f"expected an integer 1..7, got {caption_type!r}")
    return caption_type


def load_prompts(path: Path, image_folder: Path | None, facts: FactsMap) -> list[PromptRecord]:
    shown = display_path(path)
    prompts: list[PromptRecord] = []
    for i, raw in enumerate(_records(path, "PPO prompt")):
        rec = _Record(shown, i, raw)
        rid = rec.string("id")
        caption_type = _caption_type(rec)
        image = rec.image(image_folder)
        prompts.append(
            PromptRecord(
                id=rid,
                image=image,
                conversations=rec.conversations(),
                caption_type=caption_type,
                length_bonus=rec.number("length_bonus", 1.0),
                facts=facts_for(facts, rid, image, caption_type),
                meta=dict(rec.raw.get("meta") or {}),
            )
        )
    if not prompts:
        raise DataError(f"{shown}: no PPO prompt records")
    return prompts


def _output(rec: _Record, key: str) -> str:
    value = rec.raw.get(key)
    if isinstance(value, dict) and isinstance(value.get("value"), str):
        return str(value["value"])
    raise rec.error(key, 'expected {"value": string}')


def load_preferences(path: Path, image_folder: Path | None, facts: FactsMap) -> list[PreferencePair]:
    shown = display_path(path)
    pairs: list[PreferencePair] = []
    for i, raw in enumerate(_records(path, "preference")):
        rec = _Record(shown, i, raw)
        rid = rec.string("id", default=str(i))
        preference = rec.raw.get("preference")
        if preference not in (1, 2) or isinstance(preference, bool):
            raise rec.error("preference", f"expected 1 or 2, got {preference!r}")
        caption_type = _caption_type(rec)  # optional: picks rationales for multiple-choice items
        image = rec.image(image_folder)
        pairs.append(
            PreferencePair(
                id=rid,
                image=image,
                conversations=rec.conversations(),
                output_1=_output(rec, "output_1"),
                output_2=_output(rec, "output_2"),
                preference=int(preference),
                hallucination=bool(rec.raw.get("hallucination", False)),
                facts=facts_for(facts, rid, image, caption_type),
                caption_type=caption_type,
            )
        )
    if not pairs:
        raise DataError(f"{shown}: no preference records")
    return pairs
