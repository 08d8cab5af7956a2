"""The built-in synthetic "shapes" world: images of coloured shapes with exact scene graphs.

From one seed it draws the images and writes, in LLaVA JSON conventions (FACT_RLHF.md §2):
facts (captions per image), PPO prompts of every caption type (1 describe, 2–5 four-option
questions whose right answer is A–D, 6/7 yes/no questions whose answer is No/Yes) and preference
pairs (a faithful answer against a hallucinated one). Because every scene is exact, `judge` can
mark hallucinated spans in any response.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 200, 40),
}
SHAPES = ("circle", "square", "triangle", "diamond")
LETTERS = "ABCD"
CELLS = ((0, 0), (1, 0), (0, 1), (1, 1))  # (column, row) of a 2×2 grid
JUDGE_SOURCE = "shapes-judge"


@dataclass(frozen=True)
class Shape:
    shape: str
    colour: str
    column: int
    row: int

    @property
    def name(self) -> str:
        return f"{self.colour} {self.shape}"


Scene = list[Shape]


def random_scene(rng: random.Random) -> Scene:
    """1–3 shapes, each of a different shape and colour, in different grid cells."""
    n = rng.randint(1, 3)
    shapes = rng.sample(SHAPES, n)
    colours = rng.sample(list(COLOURS), n)
    cells = rng.sample(CELLS, n)
    return [Shape(s, c, col, row) for s, c, (col, row) in zip(shapes, colours, cells)]


def render(scene: Scene, size: int) -> Image.Image:
    """Draws the scene on white; each shape fills most of its grid cell."""
    img = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    cell = size / 2
    pad = max(1.0, cell * 0.12)
    for obj in scene:
        x0, y0 = obj.column * cell + pad, obj.row * cell + pad
        x1, y1 = (obj.column + 1) * cell - pad, (obj.row + 1) * cell - pad
        fill = COLOURS[obj.colour]
        if obj.shape == "circle":
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        elif obj.shape == "square":
            draw.rectangle((x0, y0, x1, y1), fill=fill)
        elif obj.shape == "triangle":
            draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)
        else:  # diamond
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            draw.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=fill)
    return img


def _with_article(words: list[str]) -> str:
    items = [f"a {w}" for w in words]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe(scene: Scene) -> str:
    return f"There is {_with_article([o.name for o in scene])}."


def count_sentence(n: int) -> str:
    return "There is 1 shape." if n == 1 else f"There are {n} shapes."


def facts(scene: Scene) -> list[str]:
    """Captions that are all true of the scene (the fact-augmented RM reads these)."""
    out = [describe(scene), count_sentence(len(scene))]
    out += [f"The {o.shape} is {o.colour}." for o in scene]
    for a in scene:
        for b in scene:
            if a.column < b.column:
                out.append(f"The {a.name} is left of the {b.name}.")
    return out


@dataclass
class Item:
    """One question about a scene with a faithful and a hallucinated answer."""

    question: str
    caption_type: int
    answer: str
    hallucinated: str


def _describe_item(scene: Scene, rng: random.Random) -> Item:
    present = {o.name for o in scene}
    absent = [f"{c} {s}" for c in COLOURS for s in SHAPES if f"{c} {s}" not in present]
    names = [o.name for o in scene]
    if rng.random() < 0.5:
        names[rng.randrange(len(names))] = rng.choice(absent)  # a wrong object
    else:
        names.append(rng.choice(absent))  # an extra object
    return Item("Describe the image.", 1, describe(scene), f"There is {_with_article(names)}.")


def _choice_item(question: str, options: list[str], right: str, answer: str, wrong_answer: str, rng: random.Random) -> Item:
    letter = LETTERS[options.index(right)]
    wrong = rng.choice([o for o in options if o != right])
    lines = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))
    return Item(
        f"{question}\n{lines}",
        2 + LETTERS.index(letter),
        f"{letter}. {answer}",
        f"{LETTERS[options.index(wrong)]}. {wrong_answer.format(wrong)}",
    )


def _multiple_choice_item(scene: Scene, kind: int, rng: random.Random) -> Item:
    obj = rng.choice(scene)
    if kind == 0:  # colour of a shape
        options = rng.sample(list(COLOURS), 4)
        return _choice_item(
            f"What colour is the {obj.shape}?", options, obj.colour,
            f"The {obj.shape} is {obj.colour}.", f"The {obj.shape} is {{}}.", rng,
        )
    if kind == 1:  # shape of a colour
        options = rng.sample(list(SHAPES), 4)
        return _choice_item(
            f"What shape is {obj.colour}?", options, obj.shape,
            f"The {obj.colour} shape is a {obj.shape}.", f"The {obj.colour} shape is a {{}}.", rng,
        )
    n = len(scene)
    options = ["1", "2", "3", "4"]
    wrong = rng.choice([o for o in options if o != str(n)])
    item = _choice_item("How many shapes are there?", options, str(n), count_sentence(n), "", rng)
    item.hallucinated = f"{LETTERS[options.index(wrong)]}. {count_sentence(int(wrong))}"
    return item


def _yes_no_item(scene: Scene, rng: random.Random) -> Item:
    present = {o.name for o in scene}
    if rng.random() < 0.5:
        name = rng.choice(sorted(present))
        return Item(f"Is there a {name}?", 7, f"Yes, there is a {name}.", f"No, there is no {name}.")
    name = rng.choice([f"{c} {s}" for c in COLOURS for s in SHAPES if f"{c} {s}" not in present])
    return Item(f"Is there a {name}?", 6, f"No, there is no {name}.", f"Yes, there is a {name}.")


def items_for(scene: Scene, index: int, rng: random.Random) -> list[Item]:
    """Three questions per image: describe, a multiple choice (kind rotates), yes/no."""
    return [_describe_item(scene, rng), _multiple_choice_item(scene, index % 3, rng), _yes_no_item(scene, rng)]


_CLAIM = re.compile(r"\b(?P<neg>no\s+)?(?:a\s+)?(?P<colour>" + "|".join(COLOURS) + r")\s+(?P<shape>" + "|".join(SHAPES) + r")\b", re.I)
_ATTRIBUTE = re.compile(r"\bThe\s+(?P<shape>" + "|".join(SHAPES) + r")\s+is\s+(?P<colour>" + "|".join(COLOURS) + r")\b", re.I)
_COUNT = re.compile(r"\bThere (?:is|are) (?P<n>\d+) shapes?\b", re.I)


def judge(text: str, scene: Scene) -> list[tuple[int, int, str]]:
    """Hallucinated spans [start, end, label] in `text` against the exact scene: objects that
    are not there, present objects denied, wrong colours of present shapes, wrong counts."""
    present = {o.name for o in scene}
    colour_of = {o.shape: o.colour for o in scene}
    spans: list[tuple[int, int, str]] = []
    for m in _CLAIM.finditer(text):
        there = f"{m.group('colour').lower()} {m.group('shape').lower()}" in present
        if not m.group("neg") and not there:
            spans.append((m.start("colour"), m.end("shape"), "object"))
        elif m.group("neg") and there:  # "there is no red circle" when there is one
            spans.append((m.start("colour"), m.end("shape"), "absence"))
    for m in _ATTRIBUTE.finditer(text):
        shape = m.group("shape").lower()
        if shape in colour_of and colour_of[shape] != m.group("colour").lower():
            spans.append((m.start("colour"), m.end("colour"), "attribute"))
    for m in _COUNT.finditer(text):
        if int(m.group("n")) != len(scene):
            spans.append((m.start("n"), m.end("n"), "count"))
    return sorted(spans)


def scene_from_json(items: list[dict[str, Any]]) -> Scene:
    return [Shape(str(i["shape"]), str(i["colour"]), int(i["column"]), int(i["row"])) for i in items]


@dataclass
class WorldFiles:
    image_folder: Path
    facts: Path
    ppo_prompts: Path
    preference: Path
    sft: Path


def generate_world(folder: Path, num_images: int, image_size: int, seed: int) -> WorldFiles:
    """Writes the world under `folder` (images/, facts.json, ppo_prompts.json, preference.json,
    sft.json); the same arguments always give the same files."""
    rng = random.Random(f"shapes-world-{seed}")
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    all_facts: dict[str, list[str]] = {}
    prompts: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    sft: list[dict[str, Any]] = []
    for i in range(num_images):
        scene = random_scene(rng)
        name = f"shapes-{i:05d}.png"
        render(scene, image_size).save(images / name)
        all_facts[name] = facts(scene)
        scene_json = [asdict(o) for o in scene]
        for j, item in enumerate(items_for(scene, i, rng)):
            rid = f"shapes-{i:05d}-{j}"
            human = {"from": "human", "value": f"<image>\n{item.question}"}
            prompts.append({
                "id": rid, "image": name, "conversations": [human], "caption_type": item.caption_type,
                "length_bonus": 1.0, "meta": {"scene": scene_json, "answer": item.answer},
            })
            sft.append({"id": rid, "image": name, "conversations": [human, {"from": "gpt", "value": item.answer}]})
            faithful_first = rng.random() < 0.5
            a, b = (item.answer, item.hallucinated) if faithful_first else (item.hallucinated, item.answer)
            pairs.append({
                "id": rid, "image": name, "conversations": [human],
                "output_1": {"value": a}, "output_2": {"value": b},
                "preference": 1 if faithful_first else 2, "hallucination": True,
            })
    files = WorldFiles(images, folder / "facts.json", folder / "ppo_prompts.json", folder / "preference.json", folder / "sft.json")
    for path, data in ((files.facts, all_facts), (files.ppo_prompts, prompts), (files.preference, pairs), (files.sft, sft)):
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return files
