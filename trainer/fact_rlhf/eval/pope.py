"""POPE: yes/no probing of object presence (accuracy, precision, recall, F1, yes-ratio per split).

"yes" is the positive class. Free-text answers are reduced to yes/no exactly as POPE's own
evaluation script does (see `normalize_answer`), so our figures match published ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import DataError

SPLITS: tuple[str, ...] = ("random", "popular", "adversarial")
_NO_WORDS = frozenset({"No", "no", "not"})


def normalize_answer(text: str) -> str:
    """POPE's reduction of a response to "yes" or "no".

    Keep the text before the first "." (the first sentence), drop commas, split on single spaces;
    the answer is "no" if one of the words is exactly "No", "no" or "not", else "yes". Faithful to
    the reference, quirks included: the match is case-sensitive ("NO", "Not" → yes), other
    punctuation sticks to the word ("No!" and "no;" → yes), contractions do not count ("isn't",
    "cannot" → yes), and an empty or unrelated answer counts as "yes".
    """
    first = text.split(".", 1)[0]
    words = first.replace(",", "").split(" ")
    return "no" if any(w in _NO_WORDS for w in words) else "yes"


@dataclass(frozen=True)
class Confusion:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def add(self, label: str, predicted: str) -> Confusion:
        if label == "yes":
            return Confusion(self.tp + (predicted == "yes"), self.fp, self.tn, self.fn + (predicted == "no"))
        return Confusion(self.tp, self.fp + (predicted == "yes"), self.tn + (predicted == "no"), self.fn)

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    def metrics(self) -> dict[str, float | int]:
        """Undefined ratios (no predicted or no true "yes") are 0, as scikit-learn's zero_division=0."""
        precision = _ratio(self.tp, self.tp + self.fp)
        recall = _ratio(self.tp, self.tp + self.fn)
        f1 = _ratio(2 * precision * recall, precision + recall)
        return {
            "accuracy": _ratio(self.tp + self.tn, self.total),
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "yes_ratio": _ratio(self.tp + self.fp, self.total),
            "count": self.total,
            "tp": self.tp,
            "fp": self.fp,
            "tn": self.tn,
            "fn": self.fn,
        }


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def pope_metrics(records: Iterable[Mapping[str, Any]], source: str = "records") -> dict[str, Any]:
    """Metrics over all records pooled, plus one nested dict per split present.

    E.g. {"f1": …, "accuracy": …, "random": {"f1": …}, "adversarial": {…}}, so results flatten to
    `pope/f1` (pooled) and `pope/random/f1`.

    Each record is `{split, label, answer}`: label "yes"/"no" (any case), answer the model's text.
    """
    per_split: dict[str, Confusion] = {}
    pooled = Confusion()
    for index, record in enumerate(records):
        split, label, answer = _fields(record, f"{source}: record {index}")
        predicted = normalize_answer(answer)
        per_split[split] = per_split.get(split, Confusion()).add(label, predicted)
        pooled = pooled.add(label, predicted)
    if pooled.total == 0:
        raise DataError(f"{source}: no POPE records")
    out: dict[str, Any] = dict(pooled.metrics())
    out.update({split: per_split[split].metrics() for split in SPLITS if split in per_split})
    return out


def _fields(record: Mapping[str, Any], where: str) -> tuple[str, str, str]:
    if not isinstance(record, Mapping):
        raise DataError(f"{where}: expected an object with split, label and answer")
    for name in ("split", "label", "answer"):
        if name not in record:
            raise DataError(f"{where}: missing field '{name}'")
        if not isinstance(record[name], str):
            raise DataError(f"{where}: field '{name}': expected a string")
    split = record["split"].strip().lower()
    if split not in SPLITS:
        raise DataError(f"{where}: field 'split': {record['split']!r} is not one of {', '.join(SPLITS)}")
    label = record["label"].strip().lower()
    if label not in ("yes", "no"):
        raise DataError(f"{where}: field 'label': {record['label']!r} is not 'yes' or 'no'")
    return split, label, record["answer"]


def read_pope_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """A JSON Lines file of `{split, label, answer}` records; errors name the file and line."""
    path = Path(path)
    records: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise DataError(f"{path}: cannot read the POPE file: {e.strerror or e}") from e
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{number}: invalid JSON: {e.msg}") from e
        _fields(record, f"{path}:{number}")
        records.append(record)
    return records
