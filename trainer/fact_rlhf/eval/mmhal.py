"""MMHal-Bench files and scoring (FACT_RLHF.md §6).

A file is a JSON list of records (or JSON Lines, one record a line, for `.jsonl`) with the official
fields. The official scorer ignores `question_type` and assigns the type by index mod 8, so a file
whose order differs from the official one gets wrong per-type scores without any error:
`check_fixed_order` warns about that.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..errors import DataError

# The 8 question types in file order; record i has type QUESTION_TYPES[i % 8] for the official scorer.
# The ids are the official file's `question_type` strings.
QUESTION_TYPES: tuple[str, ...] = (
    "attribute",
    "adversarial",
    "comparison",
    "counting",
    "relation",
    "environment",
    "holistic",
    "other",
)
TYPE_NAMES: dict[str, str] = {
    "attribute": "attribute",
    "adversarial": "adversarial object",
    "comparison": "comparison",
    "counting": "counting",
    "relation": "spatial relation",
    "environment": "environment",
    "holistic": "holistic description",
    "other": "other",
}
# Spellings seen in the wild for the same types (lower case, `_`/`-` read as spaces).
_TYPE_ALIASES: dict[str, str] = {
    **{t: t for t in QUESTION_TYPES},
    **{name: t for t, name in TYPE_NAMES.items()},
    "adversarial objects": "adversarial",
    "spatial": "relation",
    "spatial relations": "relation",
    "relations": "relation",
    "holistic descriptions": "holistic",
}

MIN_RATING = 0
MAX_RATING = 6
HALLUCINATION_BELOW = 3  # ratings 0..2 mean "contains hallucination"

_STRING_FIELDS = ("question_type", "question_topic", "image_id", "image_src", "question", "gt_answer")
FIELDS = (*_STRING_FIELDS[:4], "image_content", *_STRING_FIELDS[4:], "model_answer")


class MMHalOrderWarning(UserWarning):
    """A file's `question_type` values disagree with the official index-mod-8 assignment."""


@dataclass
class MMHalRecord:
    question_type: str
    question_topic: str
    image_id: str
    image_src: str
    image_content: list[str]
    question: str
    gt_answer: str
    model_answer: str | None = None  # absent in a question file, filled in a response file
    extra: dict[str, Any] = field(default_factory=dict)  # unknown fields, kept on write

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question_type": self.question_type,
            "question_topic": self.question_topic,
            "image_id": self.image_id,
            "image_src": self.image_src,
            "image_content": list(self.image_content),
            "question": self.question,
            "gt_answer": self.gt_answer,
        }
        if self.model_answer is not None:
            out["model_answer"] = self.model_answer
        out.update(self.extra)
        return out


# --- types ------------------------------------------------------------------------------------
def canonical_type(name: str) -> str | None:
    """The type id for a `question_type` spelling ("spatial relation" → "relation"), else None."""
    key = " ".join(name.strip().lower().replace("_", " ").replace("-", " ").split())
    return _TYPE_ALIASES.get(key)


def official_type(index: int) -> str:
    """The type the official scorer gives record `index` (0-based)."""
    return QUESTION_TYPES[index % len(QUESTION_TYPES)]


def check_fixed_order(records: Sequence[MMHalRecord], source: str = "") -> list[str]:
    """One message per record whose `question_type` is not the official type for its index.

    Emits a single MMHalOrderWarning summarising them, so a reordered or filtered file does not
    silently mix up the per-type scores.
    """
    where = f"{source}: " if source else ""
    problems: list[str] = []
    for index, record in enumerate(records):
        expected = official_type(index)
        got = canonical_type(record.question_type)
        if got != expected:
            known = "" if got else " (not one of the 8 types)"
            problems.append(
                f"{where}record {index}: question_type {record.question_type!r}{known}, but the official "
                f"scorer counts index {index} (mod 8 = {index % 8}) as {expected!r}"
            )
    if records and len(records) % len(QUESTION_TYPES):
        problems.append(f"{where}{len(records)} records is not a multiple of 8: the last type group is partial")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        warnings.warn(f"MMHal fixed-order check: {problems[0]}{more}", MMHalOrderWarning, stacklevel=2)
    return problems


# --- reading and writing ----------------------------------------------------------------------
def read_mmhal(path: str | os.PathLike[str]) -> list[MMHalRecord]:
    """Reads an MMHal-Bench file; a malformed record raises DataError naming file, line and record."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(f"{path}: cannot read the MMHal-Bench file: {e.strerror or e}") from e
    located = _jsonl_items(text, path) if path.suffix == ".jsonl" else _json_list_items(text, path)
    return [_record(obj, path, line, index) for index, (line, obj) in enumerate(located)]


def write_mmhal(path: str | os.PathLike[str], records: Iterable[MMHalRecord]) -> Path:
    """Writes records as the official JSON list (atomically: readers never see half a file)."""
    path = Path(path)
    data = [r.to_json() for r in records]
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


def _json_list_items(text: str, path: Path) -> list[tuple[int, Any]]:
    """The items of a top-level JSON list, each with the line it starts on."""
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] != "[":
        line = text.count("\n", 0, pos) + 1
        raise DataError(f"{path}:{line}: an MMHal-Bench file must be a JSON list of records")
    items: list[tuple[int, Any]] = []
    pos = _skip_ws(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        return items
    while True:
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{e.lineno}: record {len(items)}: invalid JSON: {e.msg}") from e
        items.append((line, obj))
        pos = _skip_ws(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            if _skip_ws(text, pos + 1) != len(text):
                line = text.count("\n", 0, pos) + 1
                raise DataError(f"{path}:{line}: unexpected text after the closing ']'")
            return items
        line = text.count("\n", 0, pos) + 1
        raise DataError(f"{path}:{line}: record {len(items) - 1}: expected ',' or ']' after the record")


def _jsonl_items(text: str, path: Path) -> list[tuple[int, Any]]:
    items: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((number, json.loads(line)))
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{number}: record {len(items)}: invalid JSON: {e.msg}") from e
    return items


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _record(obj: Any, path: Path, line: int, index: int) -> MMHalRecord:
    where = f"{path}:{line}: record {index}"
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected an object, got {_kind(obj)}")
    values: dict[str, Any] = {}
    for name in _STRING_FIELDS:
        if name not in obj:
            raise DataError(f"{where}: missing field '{name}'")
        if not isinstance(obj[name], str):
            raise DataError(f"{where}: field '{name}': expected a string, got {_kind(obj[name])}")
        values[name] = obj[name]
    content = obj.get("image_content")
    if "image_content" not in obj:
        raise DataError(f"{where}: missing field 'image_content'")
    if not isinstance(content, list):
        raise DataError(f"{where}: field 'image_content': expected a list of labels, got {_kind(content)}")
    for k, label in enumerate(content):
        if not isinstance(label, str):
            raise DataError(f"{where}: field 'image_content[{k}]': expected a string, got {_kind(label)}")
    answer = obj.get("model_answer")
    if answer is not None and not isinstance(answer, str):
        raise DataError(f"{where}: field 'model_answer': expected a string, got {_kind(answer)}")
    extra = {k: v for k, v in obj.items() if k not in FIELDS}
    return MMHalRecord(image_content=list(content), model_answer=answer, extra=extra, **values)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


# --- ratings ----------------------------------------------------------------------------------
def find_ratings(text: str) -> list[int]:
    """The distinct ratings the official scorer sees: each N in 0..6 with "rating: N" in the text.

    As in the official scorer this is a case-insensitive substring test, so: "rating:3" (no
    space) and "Rating: 7" count as nothing; "Rating: 4 ... Rating: 4" is one rating; and
    "Rating: 60" reads as 6.
    """
    lowered = text.lower()
    return [n for n in range(MIN_RATING, MAX_RATING + 1) if f"rating: {n}" in lowered]


def parse_rating(text: str) -> int:
    """The judge's rating as the official scorer reads it: exactly one rating → it; zero or several → 0."""
    found = find_ratings(text)
    return found[0] if len(found) == 1 else 0


# --- summary ----------------------------------------------------------------------------------
def summarize(ratings: Sequence[int], types: Sequence[str] | None = None) -> dict[str, Any]:
    """Score (mean rating), hallucination rate (share of ratings < 3) and per-type mean scores.

    `types` gives each rating's question type (any spelling `canonical_type` knows); None uses the
    official index-mod-8 assignment. Types with no ratings get None.
    """
    if not ratings:
        raise ValueError("no ratings to summarise")
    for i, r in enumerate(ratings):
        if isinstance(r, bool) or not isinstance(r, int) or not MIN_RATING <= r <= MAX_RATING:
            raise ValueError(f"rating {i}: {r!r} is not an integer in {MIN_RATING}..{MAX_RATING}")
    if types is None:
        resolved = [official_type(i) for i in range(len(ratings))]
    else:
        if len(types) != len(ratings):
            raise ValueError(f"{len(ratings)} ratings but {len(types)} question types")
        resolved = []
        for i, name in enumerate(types):
            canon = canonical_type(name)
            if canon is None:
                raise ValueError(f"rating {i}: unknown question type {name!r}; expected one of {QUESTION_TYPES}")
            resolved.append(canon)
    by_type: dict[str, list[int]] = {t: [] for t in QUESTION_TYPES}
    for rating, qtype in zip(ratings, resolved):
        by_type[qtype].append(rating)
    return {
        "count": len(ratings),
        "score": sum(ratings) / len(ratings),
        "hallucination_rate": sum(1 for r in ratings if r < HALLUCINATION_BELOW) / len(ratings),
        "per_type": {t: (sum(v) / len(v) if v else None) for t, v in by_type.items()},
        "per_type_count": {t: len(v) for t, v in by_type.items()},
    }
