"""Sentences about a shapes scene: captions (the facts), true details and false details.

True sentences are true by construction and false ones false by construction (each checks the
scene, not the judge), so the judge's agreement with them is a real test of both.
"""

from __future__ import annotations

import random

from .scene import CELLS, COLOURS, COLUMN_WORDS, ENVIRONMENTS, ROW_WORDS, SHAPES, Scene, Shape
from .vocab import ENVIRONMENT_PHRASES, SHAPE_SYNONYMS


def plural(noun: str) -> str:
    return noun + "es" if noun.endswith(("s", "x", "ch", "sh")) else noun + "s"


def counted(n: int, noun: str) -> str:
    """ "a red circle" or "2 red circles"."""
    return f"a {noun}" if n == 1 else f"{n} {plural(noun)}"


def join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def count_sentence(n: int, noun: str = "shape") -> str:
    return f"There is 1 {noun}." if n == 1 else f"There are {n} {plural(noun)}."


def inventory(scene: Scene, rng: random.Random | None = None, synonyms: bool = False) -> str:
    """Every kind with its count: "2 red circles and a blue square"."""
    parts = []
    for kind in scene.kinds():
        colour, shape = kind.split()
        if synonyms and rng is not None and SHAPE_SYNONYMS[shape] and rng.random() < 0.5:
            shape = rng.choice(SHAPE_SYNONYMS[shape])
        parts.append(counted(len(scene.matching(colour, kind.split()[1])), f"{colour} {shape}"))
    return join(parts)


def environment_phrase(scene: Scene) -> str:
    """ " on a beach" (with its leading space), or "" when the environment is unknown."""
    return f" {ENVIRONMENT_PHRASES[scene.environment]}" if scene.environment else ""


def cell_phrase(column: int, row: int) -> str:
    return f"in the {ROW_WORDS[row]} {COLUMN_WORDS[column]}"


def position_phrase(obj: Shape, rng: random.Random) -> str:
    """A true phrase for where the object is: "in the top left", "on the left", "at the top"."""
    return rng.choice(
        [
            cell_phrase(obj.column, obj.row),
            f"in the {ROW_WORDS[obj.row]} {COLUMN_WORDS[obj.column]} corner",
            f"on the {COLUMN_WORDS[obj.column]}",
            f"at the {ROW_WORDS[obj.row]}",
        ]
    )


def relations(scene: Scene) -> list[tuple[Shape, str, Shape]]:
    """Every true (a, relation, b) between objects of different kinds."""
    out = []
    for a in scene:
        for b in scene:
            if a.name == b.name:
                continue
            if a.column < b.column:
                out.append((a, "to the left of", b))
            if a.column > b.column:
                out.append((a, "to the right of", b))
            if a.row < b.row:
                out.append((a, "above", b))
            if a.row > b.row:
                out.append((a, "below", b))
    return out


def _holds(scene: Scene, a: str, relation: str, b: str) -> bool:
    return any((x.name == a and rel == relation and y.name == b) for x, rel, y in relations(scene))


def captions(scene: Scene, rng: random.Random) -> list[str]:
    """Five human-style captions, all true: what is there, where, how big, on what background."""
    env = environment_phrase(scene)
    n = len(scene)
    placed = join([f"a {o.size} {o.name} {position_phrase(o, rng)}" for o in scene])
    out = [
        capitalise(inventory(scene)) + env + ".",
        f"A drawing of {inventory(scene, rng, synonyms=True)}{env}.",
        count_sentence(n)[:-1] + env + ".",
        capitalise(placed) + ".",
    ]
    rels = relations(scene)
    if rels:
        a, rel, b = rng.choice(rels)
        out.append(f"The {a.name} is {rel} the {b.name}.")
    else:
        o = scene.objects[0]
        out.append(f"The {o.name} is {o.size} and sits {position_phrase(o, rng)}.")
    return out


def true_details(scene: Scene, rng: random.Random) -> list[str]:
    """Candidate true sentences, shuffled."""
    out = [f"There is a {o.name} {cell_phrase(o.column, o.row)}." for o in scene]
    out += [f"The {o.name} is {o.size}." for o in scene]
    out += [f"The {o.shape} is {o.colour}." for o in scene.unique_shapes()]
    out.append(count_sentence(len(scene)))
    if scene.environment:
        out.append(f"The shapes are{environment_phrase(scene)}.")
    out += [f"The {a.name} is {rel} the {b.name}." for a, rel, b in relations(scene)]
    out += [count_sentence(len(scene.matching(*k.split())), k) for k in scene.kinds() if len(scene.matching(*k.split())) > 1]
    out = list(dict.fromkeys(out))
    rng.shuffle(out)
    return out


def false_details(scene: Scene, rng: random.Random) -> list[str]:
    """Candidate false sentences (each contradicts the scene), shuffled. Each uses a template of
    `true_details`, so that only the image (or its facts) tells a false sentence from a true one."""
    c, r = rng.choice(CELLS)
    out = [f"There is a {rng.choice(scene.absent_kinds())} {cell_phrase(c, r)}."]
    obj = rng.choice(scene.objects)
    free = [(c, r) for c, r in CELLS if not any(o.column == c and o.row == r for o in scene.matching(obj.colour, obj.shape))]
    if free:  # (a kind may fill the whole grid)
        c, r = rng.choice(free)
        out.append(f"There is a {obj.name} {cell_phrase(c, r)}.")
    sizes = {o.size for o in scene.matching(obj.colour, obj.shape)}
    if len(sizes) == 1:
        out.append(f"The {obj.name} is {'small' if 'large' in sizes else 'large'}.")
    if scene.environment:
        other = rng.choice([e for e in ENVIRONMENTS if e != scene.environment])
        out.append(f"The shapes are {ENVIRONMENT_PHRASES[other]}.")
    n = len(scene)
    out.append(count_sentence(n + 1 if n == 1 or rng.random() < 0.5 else n - 1))
    for o in scene.unique_shapes():
        out.append(f"The {o.shape} is {rng.choice([c for c in COLOURS if c != o.colour])}.")
        break
    kinds = scene.kinds()
    if len(kinds) >= 2:
        a, b = rng.sample(kinds, 2)
        for rel in ("to the left of", "to the right of", "above", "below"):
            if not _holds(scene, a, rel, b):
                out.append(f"The {a} is {rel} the {b}.")
                break
    rng.shuffle(out)
    return out


def absent_shapes(scene: Scene) -> list[str]:
    present = {o.shape for o in scene}
    return [s for s in SHAPES if s not in present]
