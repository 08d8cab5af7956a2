"""Reads the claims a response makes about a shapes-world scene, and decides each one exactly.

A small deterministic parser over the world's closed vocabulary (shapes/vocab.py):

- The text is cut into clauses at punctuation and at "and"/"but"/"while"; object mentions are
  found with CHAIR's ObjectVocabulary ("two large red circles" → kind "red circle").
- Words just before a mention modify it: a size ("large"), a count ("two", "3", "single"), "all",
  or a negation ("no", "not a", "without") that turns it into a denial.
- Words after a mention may predicate on it: "is red", "is a circle", "is small", "is in the top
  left", "is to the left of / above / below / next to <mention>", "is bigger than <mention>",
  each optionally negated with "not". A clause that starts with a verb or preposition ("... and
  sits on the left") continues the previous clause's subject.
- Environment words ("beach", "snowy", "at night") anywhere claim the background.

Mentions are existential: "the red circle is on the left" is true when some red circle is on the
left. Pronouns ("it") and anything outside the vocabulary are not read: they claim nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .scene import COLOURS, Scene, Shape, as_scene
from .vocab import (
    BIGGER_WORDS,
    ENVIRONMENT_WORDS,
    NEGATORS,
    SIZE_WORDS,
    SMALLER_WORDS,
    judge_vocabulary,
    number_value,
    split_canonical,
)

_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+|[.,;:!?\n]")
_CLAUSE_WORDS = frozenset({"and", "but", "while", "whereas", "although"})
# Words that may sit between a modifier and the mention it modifies.
_DETERMINERS = frozenset({"a", "an", "the", "any", "some", "only", "also", "just", "exactly", "another", "other"})
_UNIVERSAL = frozenset({"all", "every", "each"})
# Words between a subject and its predicate that do not change what is claimed.
_VERBS = frozenset(
    {
        "is",
        "are",
        "sits",
        "sit",
        "lies",
        "lie",
        "stands",
        "stand",
        "located",
        "placed",
        "positioned",
        "drawn",
        "shown",
        "seen",
        "appears",
        "appear",
        "can",
        "be",
        "also",
        "clearly",
        "definitely",
        "certainly",
        "both",
    }
)
_PREPOSITIONS = frozenset({"to", "on", "in", "at", "towards", "the"})
_HORIZONTAL = {"left": 0, "right": 1}
_VERTICAL = {"top": 0, "upper": 0, "bottom": 1, "lower": 1}
_NOWHERE = frozenset({"middle", "center", "centre"})  # a 2×2 grid has no middle cell
_AREA = frozenset({"corner", "side", "half", "part"})
_ABOVE = frozenset({"above", "over"})
_BELOW = frozenset({"below", "under", "beneath", "underneath"})


@dataclass(frozen=True)
class Token:
    text: str  # lower case
    start: int
    end: int


@dataclass(frozen=True)
class Claim:
    """One decidable statement; [start, end) are the words to mark when it is false."""

    kind: str  # object|absence|size|count|attribute|comparison|position|relation|environment
    start: int
    end: int
    true: bool
    fact: tuple[str, ...]  # what it states, canonically (distinct facts count as detail)
    subject: str | None  # the canonical object it is about; None for the scene as a whole


# Builds a predicate's claim: (kind, end offset, true?, fact).
ClaimMaker = Callable[[str, int, bool, tuple[str, ...]], Claim]


@dataclass
class Mention:
    canon: str
    colour: str | None
    shape: str | None
    first: int  # token indices in the clause
    last: int
    start: int  # character offsets in the text
    end: int
    size: str | None = None
    size_token: Token | None = None
    count: int | None = None
    count_token: Token | None = None
    negated: bool = False
    universal: bool = False
    consumed: bool = False  # read as another mention's predicate ("is a circle")


def tokenize(text: str) -> list[Token]:
    return [Token(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _clauses(tokens: list[Token]) -> list[tuple[list[Token], bool]]:
    """Clauses, each with whether it follows a conjunction (so it may continue a subject)."""
    out: list[tuple[list[Token], bool]] = []
    current: list[Token] = []
    after_and = False
    for tok in tokens:
        boundary = not tok.text[0].isalnum() or tok.text in _CLAUSE_WORDS
        if boundary:
            if current:
                out.append((current, after_and))
            current, after_and = [], tok.text in _CLAUSE_WORDS
        else:
            current.append(tok)
    if current:
        out.append((current, after_and))
    return out


def _mentions(text: str, clause: list[Token]) -> list[Mention]:
    start, end = clause[0].start, clause[-1].end
    by_start = {t.start: i for i, t in enumerate(clause)}
    by_end = {t.end: i for i, t in enumerate(clause)}
    found: list[Mention] = []
    for m in judge_vocabulary().mentions(text[start:end]):
        first, last = by_start.get(start + m.start), by_end.get(start + m.end)
        if first is None or last is None:
            continue  # the vocabulary split a word our tokenizer keeps whole (e.g. hyphens)
        colour, shape = split_canonical(m.obj)
        mention = Mention(m.obj, colour, shape, first, last, start + m.start, start + m.end)
        _modifiers(clause, mention, found[-1] if found else None)
        found.append(mention)
    return found


def _modifiers(clause: list[Token], m: Mention, previous: Mention | None) -> None:
    """Reads size, count, "all" and negation from the words just before the mention."""
    i = m.first - 1
    while i >= 0:
        tok = clause[i]
        value = number_value(tok.text)
        if tok.text in SIZE_WORDS and m.size is None and m.count is None:
            m.size, m.size_token = SIZE_WORDS[tok.text], tok
        elif value is not None and m.count is None:
            m.count, m.count_token = value, tok
        elif tok.text == "single" and m.count is None:
            m.count, m.count_token = 1, tok
        elif tok.text in _UNIVERSAL:
            m.universal = True
        elif tok.text in NEGATORS:
            m.negated = True
            return
        elif tok.text == "or":  # "no red circle or blue square" denies both
            m.negated = previous is not None and previous.negated
            return
        elif tok.text not in _DETERMINERS:
            return
        i -= 1


def _objects(scene: Scene, m: Mention, with_size: bool = True) -> list[Shape]:
    return scene.matching(m.colour, m.shape, m.size if with_size else None)


def _mention_claims(scene: Scene, m: Mention) -> list[Claim]:
    """What a mention claims by itself: the object exists (or not), its size, how many."""
    exists = bool(_objects(scene, m, with_size=False))
    if m.negated or m.count == 0:
        return [Claim("absence", m.start, m.end, not _objects(scene, m), ("absence", m.canon), m.canon)]
    claims: list[Claim] = []
    generic = m.colour is None and m.shape is None
    if not generic:
        claims.append(Claim("object", m.start, m.end, exists, ("object", m.canon), m.canon))
    if exists and m.size_token is not None and m.size is not None:
        ok = bool(_objects(scene, m))
        claims.append(Claim("size", m.size_token.start, m.size_token.end, ok, ("size", m.canon, m.size), m.canon))
    if (exists or generic) and m.count_token is not None and m.count is not None and not m.universal:
        ok = len(_objects(scene, m)) == m.count
        fact = ("count", m.canon, m.size or "", str(m.count))
        claims.append(Claim("count", m.count_token.start, m.count_token.end, ok, fact, m.canon))
    return claims


def _mention_at(mentions: list[Mention], index: int) -> Mention | None:
    return next((m for m in mentions if m.first == index), None)


def _skip(clause: list[Token], i: int, words: frozenset[str]) -> int:
    while i < len(clause) and clause[i].text in words:
        i += 1
    return i


def _holds(subject: list[Shape], universal: bool, test: Callable[[Shape], bool]) -> bool:
    return all(test(o) for o in subject) if universal else any(test(o) for o in subject)


def _predicate(scene: Scene, clause: list[Token], i: int, m: Mention, mentions: list[Mention]) -> Claim | None:
    """The claim made by the words from clause[i] on about mention `m`, if they form one."""
    subject = _objects(scene, m)
    if m.negated or not subject:
        return None  # nothing to predicate on (a missing object is already marked)
    i = _skip(clause, i, _VERBS)
    negated = i < len(clause) and clause[i].text == "not"
    if negated:
        i = _skip(clause, i + 1, _VERBS)
    if i >= len(clause):
        return None
    first = clause[i - 1] if negated else clause[i]
    word = clause[i].text

    def claim(kind: str, end: int, ok: bool, fact: tuple[str, ...]) -> Claim:
        if negated:
            ok, fact = not ok, ("not", *fact)
        return Claim(kind, first.start, end, ok, fact, m.canon)

    other = _mention_at(mentions, i + 1) if word in ("a", "an") else _mention_at(mentions, i)
    if other is not None and other is not m:  # "the red shape is a circle"
        other.consumed = True
        colour, shape = other.colour or m.colour, other.shape or m.shape
        ok = _holds(subject, m.universal, lambda o: (colour is None or o.colour == colour) and (shape is None or o.shape == shape))
        made = claim("attribute", other.end, ok, ("attribute", m.canon, other.canon))
        return made if negated else Claim(made.kind, other.start, other.end, made.true, made.fact, made.subject)
    if word in COLOURS:
        return claim("attribute", clause[i].end, _holds(subject, m.universal, lambda o: o.colour == word), ("attribute", m.canon, word))
    if word in SIZE_WORDS:
        size = SIZE_WORDS[word]
        return claim("size", clause[i].end, _holds(subject, m.universal, lambda o: o.size == size), ("size", m.canon, size))
    if (word in BIGGER_WORDS or word in SMALLER_WORDS) and i + 1 < len(clause) and clause[i + 1].text == "than":
        target = _mention_at(mentions, _skip(clause, i + 2, _DETERMINERS))
        if target is None or not _objects(scene, target):
            return None
        big, small = ("large", "small") if word in BIGGER_WORDS else ("small", "large")
        ok = any(a.size == big and b.size == small for a in subject for b in _objects(scene, target))
        return claim("comparison", clause[i + 1].end, ok, ("comparison", m.canon, word, target.canon))
    return _place(scene, clause, _skip(clause, i, _PREPOSITIONS), mentions, subject, claim)


def _place(scene: Scene, clause: list[Token], i: int, mentions: list[Mention], subject: list[Shape], claim: ClaimMaker) -> Claim | None:
    """Relations ("left of the X", "above the X", "next to the X") and positions ("top left")."""
    if i >= len(clause):
        return None
    word = clause[i].text
    relation: tuple[str, int, Callable[[Shape, Shape], bool]] | None = None
    if word in _HORIZONTAL and i + 1 < len(clause) and clause[i + 1].text == "of":
        left = word == "left"
        relation = (f"{word} of", i + 1, (lambda a, b: a.column < b.column) if left else (lambda a, b: a.column > b.column))
    elif word in _ABOVE:
        relation = ("above", i, lambda a, b: a.row < b.row)
    elif word in _BELOW:
        relation = ("below", i, lambda a, b: a.row > b.row)
    elif (word == "next" and i + 1 < len(clause) and clause[i + 1].text == "to") or word == "beside":
        relation = ("next to", i + (word == "next"), lambda a, b: abs(a.column - b.column) + abs(a.row - b.row) == 1)
    if relation is not None:
        name, last, test = relation
        target = _mention_at(mentions, _skip(clause, last + 1, _DETERMINERS))
        if target is None or not _objects(scene, target):
            return None
        ok = any(test(a, b) for a in subject for b in _objects(scene, target) if a is not b)
        return claim("relation", clause[last].end, ok, ("relation", name, target.canon))
    column: int | None = None
    row: int | None = None
    nowhere = False
    j = i
    while j < len(clause) and (clause[j].text in _HORIZONTAL or clause[j].text in _VERTICAL or clause[j].text in _NOWHERE):
        column = _HORIZONTAL.get(clause[j].text, column)
        row = _VERTICAL.get(clause[j].text, row)
        nowhere = nowhere or clause[j].text in _NOWHERE
        j += 1
    if j == i:
        return None
    end = clause[j].end if j < len(clause) and clause[j].text in _AREA else clause[j - 1].end
    ok = not nowhere and any((column is None or o.column == column) and (row is None or o.row == row) for o in subject)
    words = tuple(t.text for t in clause[i:j])
    return claim("position", end, ok, ("position", *words))


def _environment_claims(scene: Scene, clause: list[Token]) -> list[Claim]:
    if scene.environment is None:
        return []
    claims = []
    for i, tok in enumerate(clause):
        env = ENVIRONMENT_WORDS.get(tok.text)
        if env is None:
            continue
        denied = any(t.text in NEGATORS for t in clause[max(0, i - 2) : i])
        ok = (scene.environment != env) if denied else (scene.environment == env)
        claims.append(Claim("environment", tok.start, tok.end, ok, ("no-environment" if denied else "environment", env), None))
    return claims


def _continues(clause: list[Token]) -> bool:
    """A clause that starts like a predicate ("sits on the left") continues the last subject."""
    return clause[0].text in _VERBS or clause[0].text in _PREPOSITIONS or clause[0].text == "not"


def parse_claims(text: str, scene: Scene | Sequence[Shape]) -> list[Claim]:
    """Every claim the text makes about the scene, in text order, each decided true or false."""
    scene = as_scene(scene)
    claims: list[Claim] = []
    carried: Mention | None = None
    for clause, after_conjunction in _clauses(tokenize(text)):
        mentions = _mentions(text, clause)
        if carried is not None and after_conjunction and _continues(clause) and (not mentions or mentions[0].first > 0):
            found = _predicate(scene, clause, 0, carried, mentions)
            if found is not None:
                claims.append(found)
        for m in mentions:
            if not m.consumed:
                found = _predicate(scene, clause, m.last + 1, m, mentions)
                if found is not None:
                    claims.append(found)
        claims += [c for m in mentions if not m.consumed for c in _mention_claims(scene, m)]
        claims += _environment_claims(scene, clause)
        subjects = [m for m in mentions if not m.negated and not m.consumed]
        carried = subjects[0] if subjects else (carried if after_conjunction else None)
    return sorted(claims, key=lambda c: (c.start, c.end))
