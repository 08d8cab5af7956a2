"""The shapes world's benchmarks: an MMHal-Bench-format question set, POPE probes, a CHAIR set.

- MMHal: one image per question, the 8 types in the official file order (index mod 8), a
  reference answer (`gt_answer`), `image_content` labels (object kinds and the background), and
  two extra fields the exact judge reads: `shapes_scene` and `shapes_key`.
- POPE: per image, up to 2 present kinds ("yes") and as many absent ones ("no") per split —
  random: absent kinds drawn uniformly; popular: the absent kinds most frequent over the probed
  images; adversarial: absent kinds that share a colour or a shape with a present one, those that
  co-occur most often with the present kinds first (the confusable ones).
- CHAIR: a description prompt per POPE image, with the image's objects (kinds and bare shapes).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..eval.mmhal import QUESTION_TYPES, MMHalRecord
from .questions import FAMILIES, respond
from .scene import Scene, random_scene, render, scene_to_json
from .vocab import chair_truth

POPE_SPLITS = ("random", "popular", "adversarial")
POPE_PROBES = 2  # "yes" probes per image (and as many "no" per split)
CHAIR_PROMPT = "Describe the image in detail."
_MAX_TRIES = 200


@dataclass
class Drawn:
    name: str  # image file name
    scene: Scene


def draw_scene(rng: random.Random, accept: Callable[[Scene], bool] | None = None) -> Scene:
    """A random scene that satisfies `accept` (e.g. a comparison question needs two sizes)."""
    for _ in range(_MAX_TRIES):
        scene = random_scene(rng)
        if accept is None or accept(scene):
            return scene
    raise RuntimeError(f"no acceptable scene after {_MAX_TRIES} tries")


def draw_images(folder: Path, prefix: str, count: int, image_size: int, rng: random.Random) -> list[Drawn]:
    """`count` random scenes rendered to <folder>/<prefix>-NNNNN.png."""
    out = []
    for i in range(count):
        drawn = Drawn(f"{prefix}-{i:05d}.png", draw_scene(rng))
        render(drawn.scene, image_size).save(folder / drawn.name)
        out.append(drawn)
    return out


def _supports(qtype: str) -> Callable[[Scene], bool]:
    # A family returns None only for scenes it cannot ask about; that does not depend on the rng.
    return lambda scene: FAMILIES[qtype](scene, random.Random(0)) is not None


def mmhal_records(images: Path, count: int, image_size: int, rng: random.Random) -> list[MMHalRecord]:
    """`count` questions, type i mod 8, each on its own image <images>/eval-NNNNN.png; the
    reference answer is faithful with one or two details."""
    records: list[MMHalRecord] = []
    for i in range(count):
        qtype = QUESTION_TYPES[i % len(QUESTION_TYPES)]
        scene = draw_scene(rng, _supports(qtype))
        name = f"eval-{i:05d}.png"
        render(scene, image_size).save(images / name)
        qa = FAMILIES[qtype](scene, rng)
        assert qa is not None  # the scene was drawn to support this type
        records.append(
            MMHalRecord(
                question_type=qtype,
                question_topic=scene.environment or "shapes",
                image_id=name.rsplit(".", 1)[0],
                image_src=f"images/{name}",
                image_content=[*scene.kinds(), *([scene.environment] if scene.environment else [])],
                question=qa.question,
                gt_answer=respond(qa, scene, rng, detail=rng.choice((1, 2))),
                extra={"shapes_scene": scene_to_json(scene), "shapes_key": qa.key},
            )
        )
    return records


def _adversarial_order(scene: Scene, absent: list[str], cooccur: Counter[tuple[str, str]]) -> list[str]:
    present = scene.kinds()
    colours = {k.split()[0] for k in present}
    shapes = {k.split()[1] for k in present}
    similar = [k for k in absent if k.split()[0] in colours or k.split()[1] in shapes]
    rest = [k for k in absent if k not in similar]

    def score(k: str) -> tuple[int, str]:
        return (-sum(cooccur[(p, k)] for p in present), k)

    return sorted(similar, key=score) + sorted(rest, key=score)


def pope_questions(drawn: list[Drawn], rng: random.Random) -> list[dict[str, Any]]:
    """POPE-format probes: {question_id, image, text, label, split}."""
    frequency: Counter[str] = Counter(k for d in drawn for k in d.scene.kinds())
    cooccur: Counter[tuple[str, str]] = Counter((a, b) for d in drawn for a in d.scene.kinds() for b in d.scene.kinds() if a != b)
    out: list[dict[str, Any]] = []
    for d in drawn:
        present = d.scene.kinds()
        yes = rng.sample(present, min(POPE_PROBES, len(present)))
        absent = d.scene.absent_kinds()
        negatives = {
            "random": rng.sample(absent, len(yes)),
            "popular": sorted(absent, key=lambda k: (-frequency[k], k))[: len(yes)],
            "adversarial": _adversarial_order(d.scene, absent, cooccur)[: len(yes)],
        }
        for split in POPE_SPLITS:
            probes = [(k, "yes") for k in yes] + [(k, "no") for k in negatives[split]]
            for kind, label in probes:
                out.append(
                    {"question_id": len(out), "image": d.name, "text": f"Is there a {kind} in the image?", "label": label, "split": split}
                )
    return out


def chair_items(drawn: list[Drawn]) -> list[dict[str, Any]]:
    return [{"image": d.name, "question": CHAIR_PROMPT, "objects": chair_truth(d.scene.kinds())} for d in drawn]
