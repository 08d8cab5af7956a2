"""The exact judge of the shapes world: hallucinated spans and the MMHal 0–6 rating.

Spans. Every false claim (shapes/claims.py) is marked [start, end, label] with the label of
its kind: object (not in the image), absence (denies an object that is there), attribute, size,
count, comparison, position, relation, environment. Given the question's answer key, a wrong
direct answer ("Yes." when there is none, "3" when there are 2, the wrong option letter) is marked
too, with the label `answer`.

Rating (the official rubric of FACT_RLHF.md §6; how informativeness is counted is ours):
- the answer is checked against the key: right, wrong, or not given (for "describe the image":
  right = every object kind named, partly = some named);
- details = distinct true facts beyond the answer itself (a position, a size, the background, a
  count, a relation, another object), not counting facts that only restate the question's subject;
- no hallucination (no false claim, answer not wrong):
    6 = answered + ≥ 2 details, 5 = answered + 1 detail, 4 = answered (or partly, for descriptions),
    3 = not answered (refusal, "I cannot tell", unrelated text);
- hallucination:
    2 = answered all the same, 1 = not answered (or partly) but ≥ 1 true fact,
    0 = wrong answer, or nothing true at all.
So hallucination ⇔ rating < 3, as MMHal's hallucination rate counts it.

Answer keys are JSON objects (stored with the world's prompts and evaluation records):
  {"type": "yesno", "value": "yes"|"no"}            {"type": "letter", "value": "B"}
  {"type": "value", "slot": "colour"|"size"|"number"|"environment", "value": ...}
  {"type": "position", "column": 0|1, "row": 0|1}   {"type": "choice", "options": [a, b], "value": a}
  {"type": "absent"}                                  {"type": "describe"}
each with an optional "subjects" list of the canonical objects the question names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .scene import COLOURS, Scene, Shape, as_scene, scene_from_json
from .vocab import (
    BIGGER_WORDS,
    ENVIRONMENT_WORDS,
    NEGATORS,
    NO_WORDS,
    SIZE_WORDS,
    SMALLER_WORDS,
    YES_WORDS,
    judge_vocabulary,
    number_value,
    split_canonical,
)
from .claims import Claim, Token, parse_claims, tokenize

JUDGE_SOURCE = "shapes-judge"
Span = tuple[int, int, str]
_LETTER = re.compile(r"^\s*([A-D])\.|correct option is ([A-D])\.")
_HORIZONTAL = {"left": 0, "right": 1}
_VERTICAL = {"top": 0, "upper": 0, "bottom": 1, "lower": 1}
_NOWHERE = frozenset({"middle", "center", "centre"})


@dataclass
class Judgement:
    claims: list[Claim]
    answer: str | None  # "right" | "wrong" | "partly" | None (not answered / no key)
    answer_span: tuple[int, int] | None
    spans: list[Span]
    details: int
    rating: int

    @property
    def hallucinated(self) -> bool:
        return self.rating < 3


@dataclass(frozen=True)
class _Check:
    status: str | None
    span: tuple[int, int] | None = None


def _first(tokens: list[Token], words: Mapping[str, Any] | frozenset[str]) -> Token | None:
    return next((t for t in tokens if t.text in words), None)


def _other_objects(text: str, subjects: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of mentions of other shapes than the question's subjects ("green" in "next to a
    green triangle" does not answer "what colour is the circle?")."""
    shapes = {split_canonical(s)[1] for s in subjects}
    return [(m.start, m.end) for m in judge_vocabulary().mentions(text) if split_canonical(m.obj)[1] not in shapes | {None}]


def _value_check(text: str, tokens: list[Token], key: Mapping[str, Any]) -> _Check:
    slot, value = str(key["slot"]), key["value"]
    if slot == "colour" and key.get("subjects"):
        others = _other_objects(text, key["subjects"])
        tokens = [t for t in tokens if not any(s <= t.start and t.end <= e for s, e in others)]
    found: int | str | None
    if slot == "number":
        tok = next((t for t in tokens if number_value(t.text) is not None), None)
        found = number_value(tok.text) if tok else None
    else:
        words: Mapping[str, str] = {
            "colour": {c: c for c in COLOURS},
            "size": SIZE_WORDS,
            "environment": ENVIRONMENT_WORDS,
        }[slot]
        tok = _first(tokens, words)
        found = words[tok.text] if tok else None
    if tok is None:
        return _Check(None)
    return _Check("right" if found == value else "wrong", (tok.start, tok.end))


def _position_check(tokens: list[Token], column: int, row: int) -> _Check:
    given: list[tuple[Token, bool]] = []
    for i, tok in enumerate(tokens):
        followed_by_of = i + 1 < len(tokens) and tokens[i + 1].text == "of"
        if tok.text in _HORIZONTAL and not followed_by_of and not any(g[0].text in _HORIZONTAL for g in given):
            given.append((tok, _HORIZONTAL[tok.text] == column))
        elif tok.text in _VERTICAL and not any(g[0].text in _VERTICAL for g in given):
            given.append((tok, _VERTICAL[tok.text] == row))
        elif tok.text in _NOWHERE and not given:
            given.append((tok, False))
    if not given:
        return _Check(None)
    span = (min(t.start for t, _ in given), max(t.end for t, _ in given))
    return _Check("right" if all(ok for _, ok in given) else "wrong", span)


def _choice_check(text: str, tokens: list[Token], options: Sequence[str], value: str) -> _Check:
    named = next((m for m in judge_vocabulary().mentions(text) if m.obj in options), None)
    if named is None:
        return _Check(None)
    comparative = next((t.text for t in tokens if t.text in BIGGER_WORDS or t.text in SMALLER_WORDS), None)
    claimed = named.obj
    if comparative in SMALLER_WORDS:  # "the blue square is smaller than the red circle"
        claimed = next((o for o in options if o != named.obj), named.obj)
    return _Check("right" if claimed == value else "wrong", (named.start, named.end))


def _absent_check(tokens: list[Token]) -> _Check:
    """The question asks about an object that is not there: a denial answers it; describing the
    object (a colour, size or place for it) is the hallucination MMHal's adversarial type probes."""
    tok = _first(tokens, NEGATORS)
    if tok is not None:
        return _Check("right", (tok.start, tok.end))
    described = _first(tokens, {**{c: c for c in COLOURS}, **SIZE_WORDS, **_HORIZONTAL, **_VERTICAL})
    if described is not None:
        return _Check("wrong", (described.start, described.end))
    return _Check(None)


def _describe_check(scene: Scene, claims: list[Claim]) -> _Check:
    named = {c.subject for c in claims if c.kind == "object" and c.true}
    covered = [k for k in scene.kinds() if k in named]
    if not covered:
        return _Check(None)
    return _Check("right" if len(covered) == len(scene.kinds()) else "partly")


def check_answer(text: str, scene: Scene, key: Mapping[str, Any], claims: list[Claim]) -> _Check:
    tokens = tokenize(text)
    kind = key.get("type")
    if kind == "yesno":
        tok = _first(tokens, YES_WORDS | NO_WORDS)
        if tok is None:
            return _Check(None)
        said = "yes" if tok.text in YES_WORDS else "no"
        return _Check("right" if said == key["value"] else "wrong", (tok.start, tok.end))
    if kind == "letter":
        m = _LETTER.search(text)
        if m is None:
            return _Check(None)
        group = 1 if m.group(1) else 2
        return _Check("right" if m.group(group) == key["value"] else "wrong", (m.start(group), m.end(group)))
    if kind == "value":
        return _value_check(text, tokens, key)
    if kind == "position":
        return _position_check(tokens, int(key["column"]), int(key["row"]))
    if kind == "choice":
        return _choice_check(text, tokens, list(key["options"]), str(key["value"]))
    if kind == "absent":
        return _absent_check(tokens)
    if kind == "describe":
        return _describe_check(scene, claims)
    raise ValueError(f"unknown answer key type {kind!r}")


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


# Claim kinds that restate the answer when they are about the question's subject (or the whole
# scene): "The circle is red." answers "What colour is the circle?"; it adds no detail.
_RESTATES: dict[str, frozenset[str]] = {
    "colour": frozenset({"attribute"}),
    "size": frozenset({"size"}),
    "number": frozenset({"count"}),
    "environment": frozenset({"environment"}),
    "position": frozenset({"position"}),
    "choice": frozenset({"comparison"}),
    "yesno": frozenset({"relation", "attribute", "size"}),
}


def count_details(claims: list[Claim], key: Mapping[str, Any] | None, answer_span: tuple[int, int] | None) -> int:
    """Distinct true facts that are not the answer itself nor a restatement of the question."""
    key = key or {}
    subjects = set(key.get("subjects", []))
    describing = key.get("type") == "describe"
    asked = _RESTATES.get(str(key.get("slot") if key.get("type") == "value" else key.get("type")), frozenset())
    facts = set()
    for c in claims:
        if not c.true or (answer_span is not None and _overlaps((c.start, c.end), answer_span)):
            continue
        about_subject = c.subject is None or c.subject in subjects
        if c.kind in ("object", "absence") and (describing or c.subject in subjects):
            continue
        if c.kind in asked and about_subject:
            continue
        facts.add(c.fact)
    return len(facts)


def rate(hallucinated: bool, answer: str | None, details: int, any_true: bool) -> int:
    """The 0–6 rating from the module docstring's rule."""
    if not hallucinated:
        if answer == "right":
            return 4 + min(details, 2)
        return 4 if answer == "partly" else 3
    if answer == "right":
        return 2
    if answer == "wrong":
        return 0
    return 1 if any_true else 0


def judge_response(text: str, scene: Scene | Sequence[Shape], key: Mapping[str, Any] | None = None) -> Judgement:
    """Claims, hallucinated spans, answer check and rating of one response. Without a key the
    rating treats the response as not answering (3 when clean)."""
    scene = as_scene(scene)
    claims = parse_claims(text, scene)
    check = check_answer(text, scene, key, claims) if key else _Check(None)
    spans: list[Span] = [(c.start, c.end, c.kind) for c in claims if not c.true]
    if check.status == "wrong" and check.span is not None and not any(_overlaps(check.span, (s, e)) for s, e, _ in spans):
        spans.append((check.span[0], check.span[1], "answer"))
    spans = sorted(set(spans))
    details = count_details(claims, key, check.span)
    hallucinated = bool(spans) or check.status == "wrong"
    rating = rate(hallucinated, check.status, details, any(c.true for c in claims))
    return Judgement(claims, check.status, check.span, spans, details, rating)


def judge_spans(text: str, scene: Scene | Sequence[Shape], key: Mapping[str, Any] | None = None) -> list[Span]:
    """Hallucinated spans [start, end, label] of a response (SampleRecord.hallucination.spans)."""
    return judge_response(text, scene, key).spans


def sample_hallucination(text: str, scene_json: Any, key: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The SampleRecord `hallucination` field for a response about a stored scene."""
    spans = judge_spans(text, scene_from_json(scene_json), key)
    return {"spans": [list(s) for s in spans], "source": JUDGE_SOURCE}
