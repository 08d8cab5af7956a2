"""Does a fact-augmented reward model read the facts? Its held-out pairs again, each with the facts
of another image: an RM that uses the facts loses accuracy, one that ignores them does not (the
figure is logged as `rm/eval_accuracy_other_facts` beside `rm/eval_accuracy`)."""

from __future__ import annotations

import dataclasses
from typing import Sequence

from ..data.records import PreferencePair


def _kind(pair: PreferencePair) -> bool:
    """Multiple-choice items read rationales, the others captions: swap like for like."""
    return 2 <= pair.caption_type <= 5


def with_other_images_facts(pairs: Sequence[PreferencePair]) -> list[PreferencePair]:
    """Each pair with the facts of the next pair (cyclically) of the same kind on another image;
    a pair with no such partner keeps its own facts."""
    out = []
    n = len(pairs)
    for i, pair in enumerate(pairs):
        donor = next(
            (
                pairs[(i + k) % n]
                for k in range(1, n)
                if pairs[(i + k) % n].image != pair.image and _kind(pairs[(i + k) % n]) == _kind(pair)
            ),
            pair,
        )
        out.append(dataclasses.replace(pair, facts=list(donor.facts)))
    return out
