"""The shapes world's scene graph: coloured shapes of two sizes in a 2×2 grid on a background.

A scene is exact: every statement about it (which objects, how many, where, how big, on what
background) is decidable, which is what lets the exact judge mark hallucinations.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Iterator, Sequence

from PIL import Image, ImageDraw

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 200, 40),
}
SHAPES = ("circle", "square", "triangle", "diamond")
SIZES = ("small", "large")
# Backgrounds ("environment"), chosen far from every shape colour.
ENVIRONMENTS: dict[str, tuple[int, int, int]] = {
    "beach": (226, 206, 160),
    "snow": (244, 246, 250),
    "night": (22, 26, 64),
    "grass": (168, 212, 140),
}
CELLS = ((0, 0), (1, 0), (0, 1), (1, 1))  # (column, row) of a 2×2 grid
COLUMN_WORDS = ("left", "right")  # by column index
ROW_WORDS = ("top", "bottom")  # by row index
# Fraction of its cell a shape leaves free on each side, by size.
_PADDING = {"large": 0.1, "small": 0.3}
MAX_OBJECTS = len(CELLS)


@dataclass(frozen=True)
class Shape:
    shape: str
    colour: str
    column: int
    row: int
    size: str = "large"

    @property
    def name(self) -> str:
        """The object's kind, e.g. "red circle" (two objects may share a kind)."""
        return f"{self.colour} {self.shape}"


@dataclass(frozen=True)
class Scene:
    objects: tuple[Shape, ...]
    environment: str | None = None  # None: unknown (the judge then makes no environment claims)

    def __iter__(self) -> Iterator[Shape]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)

    def kinds(self) -> list[str]:
        """Distinct object kinds ("red circle"), in order of first appearance."""
        return list(dict.fromkeys(o.name for o in self.objects))

    def matching(self, colour: str | None = None, shape: str | None = None, size: str | None = None) -> list[Shape]:
        """Objects with the given colour, shape and size (None matches anything)."""
        return [
            o
            for o in self.objects
            if (colour is None or o.colour == colour) and (shape is None or o.shape == shape) and (size is None or o.size == size)
        ]

    def unique_kinds(self) -> list[Shape]:
        """One object per kind that occurs exactly once ("the red circle" names one object)."""
        return [o for o in self.objects if len(self.matching(o.colour, o.shape)) == 1]

    def unique_shapes(self) -> list[Shape]:
        """Objects whose shape occurs once ("the circle" names one object)."""
        return [o for o in self.objects if len(self.matching(shape=o.shape)) == 1]

    def absent_kinds(self) -> list[str]:
        present = set(self.kinds())
        return [f"{c} {s}" for c in COLOURS for s in SHAPES if f"{c} {s}" not in present]


def as_scene(scene: Scene | Sequence[Shape]) -> Scene:
    """A Scene from a Scene or a plain list of shapes (environment unknown)."""
    return scene if isinstance(scene, Scene) else Scene(tuple(scene), None)


def random_scene(rng: random.Random, duplicate_rate: float = 0.25) -> Scene:
    """1–4 objects in distinct cells on a random background. With `duplicate_rate` an object
    repeats the kind of an earlier one (so counting questions have something to count)."""
    n = rng.choices((1, 2, 3, 4), weights=(0.2, 0.35, 0.3, 0.15))[0]
    cells = rng.sample(CELLS, n)
    kinds: list[tuple[str, str]] = []
    for _ in range(n):
        if kinds and rng.random() < duplicate_rate:
            kinds.append(rng.choice(kinds))
        else:
            kinds.append(rng.choice([(c, s) for c in COLOURS for s in SHAPES if (c, s) not in kinds]))
    objects = tuple(Shape(s, c, col, row, rng.choice(SIZES)) for (c, s), (col, row) in zip(kinds, cells))
    return Scene(objects, rng.choice(list(ENVIRONMENTS)))


def render(scene: Scene | Sequence[Shape], size: int) -> Image.Image:
    """Draws the scene: the background colour of its environment (white when unknown), each
    shape inside its grid cell, large ones filling most of it."""
    scene = as_scene(scene)
    background = ENVIRONMENTS[scene.environment] if scene.environment else (255, 255, 255)
    img = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(img)
    cell = size / 2
    for obj in scene:
        pad = max(1.0, cell * _PADDING[obj.size])
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


def scene_to_json(scene: Scene) -> dict[str, Any]:
    return {"environment": scene.environment, "objects": [asdict(o) for o in scene]}


def scene_from_json(data: dict[str, Any] | list[dict[str, Any]]) -> Scene:
    """Reads `scene_to_json` output, or the older plain list of objects (no environment)."""
    items = data if isinstance(data, list) else data["objects"]
    environment = None if isinstance(data, list) else data.get("environment")
    objects = tuple(Shape(str(i["shape"]), str(i["colour"]), int(i["column"]), int(i["row"]), str(i.get("size", "large"))) for i in items)
    return Scene(objects, environment)
