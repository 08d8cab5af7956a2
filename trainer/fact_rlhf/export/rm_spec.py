"""The parts of rm.json a scorer outside Python needs to rebuild the reward model's input and to
tell whether an export still matches its checkpoint.

The template pieces are not a second copy of the template: they are cut out of `rm_input` (the
one definition, algo/rm_prompt.py) by rendering it around sentinel strings, so they change when it
changes. A scorer assembles

    prefix + question_prefix + prompt + before_response + response.strip()
           + (without_facts | facts.head + (facts.fact_prefix + fact)* + facts.tail)

with the facts cleaned as `clean_facts` says and kept in the order given (training shuffles them
per example; scoring is deterministic and uses the record's order in Python and Node alike).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

from ..algo.rm_prompt import rm_input

FORMAT = "fact-rlhf-reward-model"
VERSION = 2  # 2: template pieces, tokenizer checks, max length, checkpoint fingerprint
# The first human turn of a sample record: the image marker, then the record's `prompt`
# (PromptRecord.question strips exactly this).
QUESTION_PREFIX = "<image>\n"

_Q, _R, _F1, _F2 = "\x00question\x00", "\x00response\x00", "\x00fact1\x00", "\x00fact2\x00"


def _cut(text: str, sentinel: str) -> tuple[str, str]:
    before, sep, after = text.partition(sentinel)
    if not sep or sentinel in after:
        raise AssertionError(f"rm_input no longer renders {sentinel!r} exactly once")
    return before, after


def template_pieces() -> dict[str, Any]:
    conversation = [{"from": "human", "value": _Q}]
    prefix, rest = _cut(rm_input(conversation, _R, [_F1, _F2]), _Q)
    before_response, rest = _cut(rest, _R)
    to_first, rest = _cut(rest, _F1)
    fact_prefix, tail = _cut(rest, _F2)
    if not to_first.endswith(fact_prefix):
        raise AssertionError("rm_input no longer puts the same text before every fact")
    _, without = _cut(rm_input(conversation, _R, None), _R)
    return {
        "prefix": prefix,
        "question_prefix": QUESTION_PREFIX,
        "before_response": before_response,
        "without_facts": without,
        "facts": {"head": to_first[: len(to_first) - len(fact_prefix)], "fact_prefix": fact_prefix, "tail": tail},
        "strip_response": True,
        "clean_facts": "collapse every run of whitespace to one space and trim; drop facts left empty; "
        "no fact left means the text without facts",
        "fact_order": "as given",
    }


def assemble(pieces: dict[str, Any], prompt: str, response: str, facts: Sequence[str] | None) -> str:
    """The RM text from the pieces, as a scorer outside Python does it (tests compare it with rm_input)."""
    cleaned = [" ".join(f.split()) for f in facts or []]
    cleaned = [f for f in cleaned if f]
    text = pieces["prefix"] + pieces["question_prefix"] + prompt + pieces["before_response"] + response.strip()
    if not cleaned:
        return str(text + pieces["without_facts"])
    f = pieces["facts"]
    return str(text + f["head"] + "".join(f["fact_prefix"] + fact for fact in cleaned) + f["tail"])


def checkpoint_files(checkpoint: Path) -> list[Path]:
    from ..stages.sources import ADAPTER_WEIGHTS, HEADS_FILE, REWARD_ADAPTER

    return [checkpoint / REWARD_ADAPTER / ADAPTER_WEIGHTS, checkpoint / HEADS_FILE]


def checkpoint_fingerprint(checkpoint: Path) -> dict[str, Any]:
    """Step, newest weight-file mtime and a content hash: a scorer re-exports when they move."""
    files = checkpoint_files(checkpoint)
    digest = hashlib.sha256()
    for path in files:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    state_file = checkpoint / "trainer_state.json"
    step = None
    if state_file.is_file():
        try:
            step = json.loads(state_file.read_text(encoding="utf-8")).get("step")
        except ValueError:
            step = None
    return {
        "path": str(checkpoint),
        "step": step,
        "files": [p.relative_to(checkpoint).as_posix() for p in files],
        "mtime": max(p.stat().st_mtime for p in files),
        "sha256": digest.hexdigest(),
    }
