"""SFT conversations (LLaVA JSON) → token ids with labels on the assistant turns only.

The text is the Vicuna-v1 rendering the policy prompt and the reward model use (algo/rm_prompt):
    SYSTEM " " ("USER: " human " " "ASSISTANT:" " " gpt "</s>")*
Labels are -100 everywhere except the tokens of each gpt message and its closing "</s>" (so the
model learns to stop); the system sentence, the human turns and the "ASSISTANT:" tags are masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..algo.rm_prompt import GPT, HUMAN, ROLE_ASSISTANT, ROLE_USER, SEP, SEP2, SYSTEM_PROMPT
from ..config import display_path
from ..data.llava_json import _Record, _records  # the shared record checks (file + index errors)
from ..data.records import IMAGE_MARKER, Conversation
from ..errors import DataError
from ..models.codec import Codec

IGNORE = -100


@dataclass
class SftRecord:
    id: str
    image: Path | None
    conversations: Conversation


@dataclass
class Example:
    id: str
    image: Path | None
    input_ids: list[int]
    labels: list[int]

    @property
    def supervised(self) -> int:
        return sum(1 for t in self.labels if t != IGNORE)


def load_conversations(path: Path, image_folder: Path | None) -> list[SftRecord]:
    """Reads LLaVA conversation records; turns must alternate human/gpt, human first, with at
    least one gpt turn. An image record's first turn gets the `<image>` marker if it lacks one."""
    shown = display_path(path)
    out: list[SftRecord] = []
    for i, raw in enumerate(_records(path, "SFT conversation")):
        rec = _Record(shown, i, raw)
        rid = rec.string("id", default=str(i))
        turns = rec.conversations()
        for j, turn in enumerate(turns):
            expected = HUMAN if j % 2 == 0 else GPT
            if turn["from"] != expected:
                raise rec.error(f"conversations[{j}].from", f"expected {expected!r} (turns alternate, human first)")
        if len(turns) < 2:
            raise rec.error("conversations", "no gpt turn to learn from")
        image = rec.image(image_folder) if rec.raw.get("image") is not None else None
        markers = sum(t["value"].count(IMAGE_MARKER) for t in turns)
        if image is None and markers:
            raise rec.error("conversations", f"contains {IMAGE_MARKER} but the record has no image")
        if image is not None and markers > 1:
            raise rec.error("conversations", f"{IMAGE_MARKER} appears {markers} times; one image per record")
        if image is not None and not markers:
            turns[0] = {"from": HUMAN, "value": f"{IMAGE_MARKER}\n{turns[0]['value']}"}
        out.append(SftRecord(rid, image, turns))
    if not out:
        raise DataError(f"{shown}: no SFT conversation records")
    return out


def segments(conversations: Conversation) -> list[tuple[str, bool]]:
    """The rendered text in pieces, each marked supervised or not. Every boundary sits where a
    tokenizer does not merge across it: after "ASSISTANT:" (the answer's leading space belongs
    to its first token) and after "</s>" (a special token)."""
    parts: list[tuple[str, bool]] = [(SYSTEM_PROMPT + SEP, False)]
    for turn in conversations:
        if turn["from"] == HUMAN:
            parts.append((f"{ROLE_USER}: {turn['value']}{SEP}", False))
        else:
            parts.append((f"{ROLE_ASSISTANT}:", False))
            parts.append((f" {turn['value']}{SEP2}", True))
    return parts


def render(conversations: Conversation) -> str:
    return "".join(text for text, _ in segments(conversations))


def encode_example(codec: Codec, record: SftRecord) -> Example:
    """Ids of the whole rendered text; labels copied on the supervised pieces. Each boundary's
    position is the length of the encoded prefix, checked to be a prefix of the whole encoding."""
    pieces = segments(record.conversations)
    text = "".join(t for t, _ in pieces)
    ids = codec.encode(text)
    labels = [IGNORE] * len(ids)
    prefix, start = "", 0
    for k, (piece, supervised) in enumerate(pieces):
        prefix += piece
        if k + 1 < len(pieces) and pieces[k + 1][1] == supervised:
            continue  # boundaries matter only where supervision switches on or off
        head = codec.encode(prefix)
        end = len(head)
        if head != ids[:end]:
            raise DataError(
                f"SFT record {record.id!r}: the tokenizer merges tokens across a turn boundary "
                f"(after {piece[-20:]!r}); cannot place the assistant-only labels"
            )
        if supervised:
            labels[start:end] = ids[start:end]
        start = end
    return Example(record.id, record.image, ids, labels)


def truncate(example: Example, max_length: int, image_id: int) -> Example | None:
    """Cut to `max_length` tokens; None when nothing supervised is left or the image tokens
    would be cut (the model cannot run on part of an image)."""
    if len(example.input_ids) <= max_length:
        return example
    ids, labels = example.input_ids[:max_length], example.labels[:max_length]
    if ids.count(image_id) != example.input_ids.count(image_id) or all(t == IGNORE for t in labels):
        return None
    return Example(example.id, example.image, ids, labels)
