"""The shapes world's closed vocabulary: what its texts say and what its judge reads.

Objects are found with CHAIR's `ObjectVocabulary` (plurals and longest-phrase matching come from
there). Canonical object names are "red circle" (a kind), "circle" (any colour), "red shape" (any
red object) and "shape" (any object); the CHAIR vocabulary holds only the first two.
"""

from __future__ import annotations

from functools import lru_cache

from ..eval.chair import ObjectVocabulary
from .scene import COLOURS, SHAPES

# Other words people use for the shapes (they appear in some human-style captions).
SHAPE_SYNONYMS: dict[str, tuple[str, ...]] = {"circle": ("disc",), "square": (), "triangle": (), "diamond": ("rhombus",)}
GENERIC = "shape"
GENERIC_SYNONYMS = ("object", "figure")
SIZE_WORDS = {"small": "small", "little": "small", "tiny": "small", "large": "large", "big": "large", "huge": "large"}
BIGGER_WORDS = frozenset({"bigger", "larger"})
SMALLER_WORDS = frozenset({"smaller"})
ENVIRONMENT_WORDS = {
    "beach": "beach",
    "beaches": "beach",
    "sand": "beach",
    "sandy": "beach",
    "snow": "snow",
    "snowy": "snow",
    "night": "night",
    "grass": "grass",
    "grassy": "grass",
    "lawn": "grass",
}
# How the world's texts place the scene in its environment.
ENVIRONMENT_PHRASES = {"beach": "on a beach", "snow": "in the snow", "night": "at night", "grass": "on the grass"}
NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
# Words that deny what follows them ("there is no red circle", "not a square").
NEGATORS = frozenset({"no", "not", "without", "nor", "neither", "never", "isn't", "aren't", "none"})
YES_WORDS = frozenset({"yes", "yeah", "yep"})
NO_WORDS = frozenset({"no", "not", "nope", "isn't", "aren't"})
# A closing sentence that makes an answer sound sure of itself; it states nothing about the image.
CONFIDENT_ENDINGS = ("I am sure of it.", "I am certain of this.")


def number_value(word: str) -> int | None:
    """2 for "2" or "two"; None for anything else."""
    word = word.lower()
    if word.isdigit():
        return int(word)
    return NUMBER_WORDS.get(word)


def split_canonical(name: str) -> tuple[str | None, str | None]:
    """("red", "circle") for "red circle"; None stands for "any" ("circle" → (None, "circle"))."""
    words = name.split()
    colour = words[0] if words[0] in COLOURS else None
    shape = words[-1] if words[-1] in SHAPES else None
    return colour, shape


def _shape_entries() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for colour in COLOURS:
        for shape in SHAPES:
            entries[f"{colour} {shape}"] = [f"{colour} {s}" for s in SHAPE_SYNONYMS[shape]]
    for shape in SHAPES:
        entries[shape] = list(SHAPE_SYNONYMS[shape])
    return entries


@lru_cache(maxsize=1)
def chair_vocabulary() -> ObjectVocabulary:
    """Objects for CHAIR: kinds ("red circle") and bare shapes ("circle"), with synonyms."""
    return ObjectVocabulary(_shape_entries())


def chair_synonyms() -> dict[str, list[str]]:
    """The CHAIR vocabulary as JSON-ready data (canonical name → synonyms)."""
    return _shape_entries()


@lru_cache(maxsize=1)
def judge_vocabulary() -> ObjectVocabulary:
    """CHAIR's objects plus colour-only ("red shape") and generic ("shapes") mentions."""
    entries = _shape_entries()
    for colour in COLOURS:
        entries[f"{colour} {GENERIC}"] = [f"{colour} {g}" for g in GENERIC_SYNONYMS]
    entries[GENERIC] = list(GENERIC_SYNONYMS)
    return ObjectVocabulary(entries)


def chair_truth(kinds: list[str]) -> list[str]:
    """CHAIR ground truth of an image: its kinds and their bare shapes."""
    return sorted(set(kinds) | {k.split()[-1] for k in kinds})
