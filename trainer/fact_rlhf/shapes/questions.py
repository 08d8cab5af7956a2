"""Questions about a shapes scene, with an answer key, a faithful and a hallucinated answer.

The eight MMHal-Bench question types (attribute, adversarial object, comparison, counting, spatial
relation, environment, holistic, other) are open questions; the training formats add 4-option
multiple choice (caption types 2–5) and yes/no (6 = "No", 7 = "Yes"). `respond` composes whole
responses: the direct answer (right or wrong), true or false details, and a confident ending.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from .scene import CELLS, COLOURS, ENVIRONMENTS, SHAPES, Scene, Shape
from .text import (
    absent_shapes,
    capitalise,
    cell_phrase,
    count_sentence,
    counted,
    environment_phrase,
    false_details,
    inventory,
    join,
    plural,
    position_phrase,
    true_details,
)
from .vocab import CONFIDENT_ENDINGS, ENVIRONMENT_PHRASES

LETTERS = "ABCD"
CAPTION_GENERAL, CAPTION_NO, CAPTION_YES = 1, 6, 7


@dataclass
class QA:
    qtype: str  # an MMHal type id (eval/mmhal.py QUESTION_TYPES), or "choice" / "yesno"
    question: str
    key: dict[str, Any]  # the judge's answer key (shapes/judge.py)
    answer: str  # the faithful direct answer
    wrong: str  # a hallucinated direct answer (states something false)
    caption_type: int = CAPTION_GENERAL
    rationales: list[str] = field(default_factory=list)  # multiple choice only


def _other(options: list[str] | tuple[str, ...], value: str, rng: random.Random) -> str:
    return rng.choice([o for o in options if o != value])


def _flip(size: str) -> str:
    return "small" if size == "large" else "large"


def _bound(make: Callable[[Shape], QA], o: Shape) -> Callable[[], QA]:
    """`make` for one shape, called later (a typed stand-in for `lambda o=o: ...`)."""
    return lambda: make(o)


# --- the eight MMHal question types ----------------------------------------------------------
def attribute(scene: Scene, rng: random.Random) -> QA | None:
    makers: list[Callable[[], QA]] = []
    for o in scene.unique_shapes():
        makers.append(
            _bound(
                lambda o: QA(
                    "attribute",
                    f"What colour is the {o.shape}?",
                    {"type": "value", "slot": "colour", "value": o.colour, "subjects": [o.shape]},
                    f"The {o.shape} is {o.colour}.",
                    f"The {o.shape} is {_other(list(COLOURS), o.colour, rng)}.",
                ),
                o,
            )
        )
    for o in scene.unique_kinds():
        makers.append(
            _bound(
                lambda o: QA(
                    "attribute",
                    f"Is the {o.name} small or large?",
                    {"type": "value", "slot": "size", "value": o.size, "subjects": [o.name]},
                    f"The {o.name} is {o.size}.",
                    f"The {o.name} is {_flip(o.size)}.",
                ),
                o,
            )
        )
    return rng.choice(makers)() if makers else None


def adversarial(scene: Scene, rng: random.Random) -> QA:
    """About an object that is not there (a shape missing entirely, or a missing kind)."""
    shapes = absent_shapes(scene)
    if shapes and rng.random() < 0.6:
        shape = rng.choice(shapes)
        return QA(
            "adversarial",
            f"What colour is the {shape}?",
            {"type": "absent", "subjects": [shape]},
            f"There is no {shape} in the image.",
            f"The {shape} is {rng.choice(list(COLOURS))}.",
        )
    kind = rng.choice(scene.absent_kinds())
    column, row = rng.choice(CELLS)
    return QA(
        "adversarial",
        f"Where is the {kind}?",
        {"type": "absent", "subjects": [kind]},
        f"There is no {kind} in the image.",
        f"The {kind} is {cell_phrase(column, row)}.",
    )


def comparison(scene: Scene, rng: random.Random) -> QA | None:
    objs = scene.unique_kinds()
    pairs = [(a, b) for a in objs for b in objs if a.size == "large" and b.size == "small"]
    if not pairs:
        return None
    big, small = rng.choice(pairs)
    first, second = (big, small) if rng.random() < 0.5 else (small, big)
    return QA(
        "comparison",
        f"Which is bigger, the {first.name} or the {second.name}?",
        {"type": "choice", "options": [first.name, second.name], "value": big.name, "subjects": [first.name, second.name]},
        f"The {big.name} is bigger than the {small.name}.",
        f"The {small.name} is bigger than the {big.name}.",
    )


def counting(scene: Scene, rng: random.Random) -> QA:
    targets = [("shape", len(scene))]
    targets += [(s, len(scene.matching(shape=s))) for s in dict.fromkeys(o.shape for o in scene)]
    targets += [(k, len(scene.matching(*k.split()))) for k in scene.kinds()]
    noun, n = rng.choice(targets)
    wrong = n + 1 if n == 1 or rng.random() < 0.5 else n - 1
    return QA(
        "counting",
        f"How many {plural(noun)} are there?",
        {"type": "value", "slot": "number", "value": n, "subjects": [noun]},
        count_sentence(n, noun),
        count_sentence(wrong, noun),
    )


def _where(o: Shape, rng: random.Random) -> QA:
    column, row = rng.choice([c for c in CELLS if c != (o.column, o.row)])
    return QA(
        "relation",
        f"Where is the {o.name}?",
        {"type": "position", "column": o.column, "row": o.row, "subjects": [o.name]},
        f"The {o.name} is {cell_phrase(o.column, o.row)}.",
        f"The {o.name} is {cell_phrase(column, row)}.",
    )


_OPPOSITE = {"to the left of": "to the right of", "to the right of": "to the left of", "above": "below", "below": "above"}


def _relation_question(a: Shape, b: Shape, rng: random.Random) -> QA:
    axes = []
    if a.column != b.column:
        axes.append("to the left of" if a.column < b.column else "to the right of")
    if a.row != b.row:
        axes.append("above" if a.row < b.row else "below")
    true_rel = rng.choice(axes)
    asked = true_rel if rng.random() < 0.5 else _OPPOSITE[true_rel]
    yes = asked == true_rel
    key = {"type": "yesno", "value": "yes" if yes else "no", "subjects": [a.name, b.name]}
    right = f"Yes, the {a.name} is {asked} the {b.name}." if yes else f"No, the {a.name} is {true_rel} the {b.name}."
    wrong = f"No, the {a.name} is {_OPPOSITE[asked]} the {b.name}." if yes else f"Yes, the {a.name} is {asked} the {b.name}."
    return QA("relation", f"Is the {a.name} {asked} the {b.name}?", key, right, wrong)


def relation(scene: Scene, rng: random.Random) -> QA | None:
    objs = scene.unique_kinds()
    if not objs:
        return None
    if len(objs) >= 2 and rng.random() < 0.5:
        a, b = rng.sample(objs, 2)
        return _relation_question(a, b, rng)
    return _where(rng.choice(objs), rng)


def environment(scene: Scene, rng: random.Random) -> QA | None:
    if scene.environment is None:
        return None
    other = _other(list(ENVIRONMENTS), scene.environment, rng)
    return QA(
        "environment",
        rng.choice(["What is the background of the image?", "What place does the image show?"]),
        {"type": "value", "slot": "environment", "value": scene.environment},
        f"The shapes are {ENVIRONMENT_PHRASES[scene.environment]}.",
        f"The shapes are {ENVIRONMENT_PHRASES[other]}.",
    )


def _there(scene: Scene, listing: str) -> str:
    first = scene.kinds()[0]
    verb = "is" if len(scene.matching(*first.split())) == 1 else "are"
    return f"There {verb} {listing}{environment_phrase(scene)}."


def holistic(scene: Scene, rng: random.Random) -> QA:
    """Describe the image; the hallucinated version swaps in, or adds, an absent object."""
    # The false listing is an inventory too (counts, "There is/are"), one kind swapped or added.
    parts = [counted(len(scene.matching(*k.split())), k) for k in scene.kinds()]
    absent = f"a {rng.choice(scene.absent_kinds())}"
    if rng.random() < 0.5:
        parts[rng.randrange(len(parts))] = absent
    else:
        parts.insert(rng.randrange(len(parts) + 1), absent)
    verb = "is" if parts[0].startswith("a ") else "are"
    wrong = f"There {verb} {join(parts)}{environment_phrase(scene)}."
    return QA(
        "holistic",
        rng.choice(["Describe the image in detail.", "What do you see in the image?"]),
        {"type": "describe"},
        _there(scene, inventory(scene)),
        wrong,
    )


def other(scene: Scene, rng: random.Random) -> QA | None:
    """Are all the shapes the same colour / size?"""
    if len(scene) < 2:
        return None
    key: dict[str, Any] = {"type": "yesno", "subjects": ["shape"]}
    if rng.random() < 0.5:
        colours = sorted({o.colour for o in scene})
        question = "Are all the shapes the same colour?"
        if len(colours) == 1:
            extra = rng.choice([k for k in scene.absent_kinds() if not k.startswith(colours[0])])
            a = rng.choice(scene.objects)
            return QA(
                "other",
                question,
                {**key, "value": "yes"},
                f"Yes, all the shapes are {colours[0]}.",
                f"No, there is a {a.name} and a {extra}.",
            )
        a = rng.choice(scene.objects)
        b = rng.choice([o for o in scene if o.colour != a.colour])
        return QA(
            "other",
            question,
            {**key, "value": "no"},
            f"No, there is a {a.name} and a {b.name}.",
            f"Yes, all the shapes are {rng.choice(colours)}.",
        )
    sizes = sorted({o.size for o in scene})
    question = "Are all the shapes the same size?"
    if len(sizes) == 1:
        # The false "No" reads like a true one: one shape large and another small.
        a, b = rng.sample(scene.objects, 2)
        return QA(
            "other",
            question,
            {**key, "value": "yes"},
            f"Yes, all the shapes are {sizes[0]}.",
            f"No, the {a.name} is large and the {b.name} is small.",
        )
    big = rng.choice(scene.matching(size="large"))
    small = rng.choice(scene.matching(size="small"))
    return QA(
        "other",
        question,
        {**key, "value": "no"},
        f"No, the {big.name} is large and the {small.name} is small.",
        f"Yes, all the shapes are {rng.choice(sizes)}.",
    )


# In MMHal-Bench's file order (eval/mmhal.py QUESTION_TYPES).
FAMILIES: dict[str, Callable[[Scene, random.Random], QA | None]] = {
    "attribute": attribute,
    "adversarial": adversarial,
    "comparison": comparison,
    "counting": counting,
    "relation": relation,
    "environment": environment,
    "holistic": holistic,
    "other": other,
}


# --- training formats ---------------------------------------------------------------------------
def _lettered(
    question: str, options: list[str], right: str, answer: str, wrong_option: str, wrong_answer: str
) -> tuple[str, int, str, str, dict[str, Any]]:
    lines = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))
    letter = LETTERS[options.index(right)]
    bad = LETTERS[options.index(wrong_option)]
    return (
        f"{question}\n{lines}",
        2 + LETTERS.index(letter),
        f"{letter}. {answer}",
        f"{bad}. {wrong_answer}",
        {"type": "letter", "value": letter},
    )


def choice(scene: Scene, kind: int, rng: random.Random) -> QA:
    """A 4-option question (kind 0: colour of a shape, 1: shape of a colour, 2: how many shapes);
    its caption type 2–5 says which letter is right. Rationales explain the answer."""
    by_colour = [o for o in scene if len(scene.matching(colour=o.colour)) == 1]
    if kind == 0 and scene.unique_shapes():
        o = rng.choice(scene.unique_shapes())
        options = rng.sample(list(COLOURS), 4)
        wrong = _other(options, o.colour, rng)
        made = _lettered(
            f"What colour is the {o.shape}?", options, o.colour, f"The {o.shape} is {o.colour}.", wrong, f"The {o.shape} is {wrong}."
        )
        why = [
            f"There is only one {o.shape}, and it is {o.colour}.",
            f"The {o.name} is {position_phrase(o, rng)}.",
            f"The {o.name} is {o.size}.",
        ]
    elif kind == 1 and by_colour:
        o = rng.choice(by_colour)
        options = rng.sample(list(SHAPES), 4)
        wrong = _other(options, o.shape, rng)
        made = _lettered(
            f"What shape is {o.colour}?",
            options,
            o.shape,
            f"The {o.colour} shape is a {o.shape}.",
            wrong,
            f"The {o.colour} shape is a {wrong}.",
        )
        why = [
            f"There is only one {o.colour} shape, and it is a {o.shape}.",
            f"The {o.name} is {position_phrase(o, rng)}.",
            f"The {o.name} is {o.size}.",
        ]
    else:
        n = len(scene)
        options = ["1", "2", "3", "4"]
        wrong = _other(options, str(n), rng)
        made = _lettered("How many shapes are there?", options, str(n), count_sentence(n), wrong, count_sentence(int(wrong)))
        placed = [f"a {o.name} {position_phrase(o, rng)}" for o in scene]
        why = [
            capitalise(inventory(scene)) + " can be seen.",
            capitalise(", ".join(placed[:-1]) + " and " + placed[-1] if len(placed) > 1 else placed[0]) + ".",
            count_sentence(n),
        ]
    question, caption_type, answer, bad, key = made
    return QA("choice", question, key, answer, bad, caption_type, why)


def yes_no(scene: Scene, rng: random.Random) -> QA:
    """ "Is there a <kind>?" — half about a present kind (answer Yes), half about an absent one."""
    suffix = " in the image" if rng.random() < 0.5 else ""
    if rng.random() < 0.5:
        name = rng.choice(sorted(scene.kinds()))
        key = {"type": "yesno", "value": "yes", "subjects": [name]}
        return QA("yesno", f"Is there a {name}{suffix}?", key, f"Yes, there is a {name}.", f"No, there is no {name}.", CAPTION_YES)
    name = rng.choice(scene.absent_kinds())
    key = {"type": "yesno", "value": "no", "subjects": [name]}
    return QA("yesno", f"Is there a {name}{suffix}?", key, f"No, there is no {name}.", f"Yes, there is a {name}.", CAPTION_NO)


def family_item(qtype: str, scene: Scene, rng: random.Random) -> QA:
    """A question of the given MMHal type; types the scene cannot support fall back to holistic."""
    made = FAMILIES[qtype](scene, rng)
    return made if made is not None else holistic(scene, rng)


# --- responses ------------------------------------------------------------------------------------
def respond(qa: QA, scene: Scene, rng: random.Random, hallucinate: bool = False, detail: int = 0, confident: bool = False) -> str:
    """A response: the direct answer, `detail` extra sentences and, when `confident`, a sure-of-
    itself ending. A hallucinated response either answers wrongly or adds one false detail."""
    extra = [s for s in true_details(scene, rng) if s != qa.answer]
    if not hallucinate:
        parts = [qa.answer, *extra[:detail]]
    elif detail == 0 or qa.qtype == "choice" or rng.random() < 0.5:
        parts = [qa.wrong, *extra[:detail]]
    else:
        details = [false_details(scene, rng)[0], *extra[: detail - 1]]
        rng.shuffle(details)
        parts = [qa.answer, *details]
    if confident:
        parts.append(rng.choice(CONFIDENT_ENDINGS))
    return " ".join(parts)
