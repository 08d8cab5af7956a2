"""CHAIR: how many of the objects a response mentions are not in the image.

CHAIR-i = hallucinated object mentions / all object mentions (every occurrence counts, as in the
original metric); CHAIR-s = responses with at least one hallucinated mention / all responses.

Mentions are found with a vocabulary: canonical object names, each with synonyms (multi-word
allowed). Plurals are generated from the vocabulary (regular rules plus a few irregular nouns), so
"two puppies" finds "dog" when "puppy" is a synonym. Longest phrase wins ("hot dog" is not a
"dog"). Like the original CHAIR there is no negation handling: "there is no cat" mentions a cat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

_IRREGULAR_PLURALS: dict[str, tuple[str, ...]] = {
    "person": ("people", "persons"),
    "man": ("men",),
    "woman": ("women",),
    "child": ("children",),
    "mouse": ("mice",),
    "goose": ("geese",),
    "foot": ("feet",),
    "tooth": ("teeth",),
    "sheep": ("sheep",),
    "deer": ("deer",),
    "fish": ("fish", "fishes"),
}
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*", re.IGNORECASE)


def plurals(word: str) -> tuple[str, ...]:
    """Plural forms of one singular noun (regular English rules, plus the irregular table)."""
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return (word + "es",)
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return (word[:-1] + "ies",)
    if word.endswith("fe"):
        return (word[:-2] + "ves", word + "s")
    if word.endswith("f"):
        return (word[:-1] + "ves", word + "s")
    return (word + "s",)


@dataclass(frozen=True)
class Mention:
    obj: str  # canonical object name
    start: int  # character offsets into the response
    end: int
    text: str


class ObjectVocabulary:
    def __init__(self, synonyms: Mapping[str, Iterable[str]]) -> None:
        """`synonyms`: canonical name → other words for it; the canonical name is always one."""
        self._phrases: dict[tuple[str, ...], str] = {}
        entries: list[tuple[tuple[str, ...], str]] = []
        for canonical, others in synonyms.items():
            name = _normal(canonical)
            if not name:
                raise ValueError("empty object name in the CHAIR vocabulary")
            entries += [(tuple(p.split()), name) for p in (name, *(_normal(s) for s in others)) if p]
        for words, name in entries:  # written entries first: they win over generated plurals
            known = self._phrases.setdefault(words, name)
            if known != name:
                raise ValueError(f"CHAIR vocabulary: {' '.join(words)!r} names both {known!r} and {name!r}")
        for words, name in entries:
            for plural in plurals(words[-1]):
                self._phrases.setdefault((*words[:-1], plural), name)
        self._longest = max((len(p) for p in self._phrases), default=0)

    @property
    def objects(self) -> set[str]:
        return set(self._phrases.values())

    def canonical(self, label: str) -> str | None:
        """The canonical object for a label or synonym (singular or plural), else None."""
        return self._phrases.get(tuple(_normal(label).split()))

    def mentions(self, text: str) -> list[Mention]:
        """Object mentions in order; at each word the longest vocabulary phrase wins."""
        # Match on the original text so offsets stay right; compare lower-cased words.
        tokens = [(m.group(0).lower(), m.start(), m.end()) for m in _WORD.finditer(text)]
        found: list[Mention] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self._longest, len(tokens) - i), 0, -1):
                key = tuple(t[0] for t in tokens[i : i + size])
                obj = self._phrases.get(key)
                if obj is not None:
                    start, end = tokens[i][1], tokens[i + size - 1][2]
                    found.append(Mention(obj, start, end, text[start:end]))
                    i += size
                    break
            else:
                i += 1
        return found

    def extract(self, text: str) -> list[str]:
        """Canonical names of the objects mentioned, one per mention."""
        return [m.obj for m in self.mentions(text)]


def _normal(label: str) -> str:
    return " ".join(_WORD.findall(label.lower()))


def chair_scores(
    mentioned: Sequence[Sequence[str]],
    ground_truth: Sequence[Iterable[str]],
    vocabulary: ObjectVocabulary | None = None,
) -> dict[str, Any]:
    """CHAIR-i and CHAIR-s from each response's mentioned objects and its image's true objects.

    With a vocabulary, ground-truth labels are mapped to canonical names first ("puppies" → "dog").
    With no mentions at all CHAIR-i is 0 (nothing was hallucinated).
    """
    if len(mentioned) != len(ground_truth):
        raise ValueError(f"{len(mentioned)} responses but {len(ground_truth)} ground-truth object sets")
    if not mentioned:
        raise ValueError("no responses to score")
    total = bad = bad_responses = 0
    per_response: list[list[str]] = []
    for objects, truth in zip(mentioned, ground_truth):
        present = {_truth_name(t, vocabulary) for t in truth}
        wrong = [o for o in objects if _truth_name(o, vocabulary) not in present]
        total += len(objects)
        bad += len(wrong)
        bad_responses += bool(wrong)
        per_response.append(wrong)
    return {
        "chair_i": bad / total if total else 0.0,
        "chair_s": bad_responses / len(mentioned),
        "mentions": total,
        "hallucinated_mentions": bad,
        "responses": len(mentioned),
        "hallucinated_responses": bad_responses,
        "hallucinated": per_response,
    }


def _truth_name(label: str, vocabulary: ObjectVocabulary | None) -> str:
    if vocabulary is not None:
        canonical = vocabulary.canonical(label)
        if canonical is not None:
            return canonical
    return _normal(label)


def chair_from_texts(vocabulary: ObjectVocabulary, responses: Sequence[str], ground_truth: Sequence[Iterable[str]]) -> dict[str, Any]:
    """CHAIR over free-text responses, mentions found with `vocabulary`."""
    return chair_scores([vocabulary.extract(r) for r in responses], ground_truth, vocabulary)
