"""The built-in synthetic "shapes" world, written as files every stage reads.

From one seed `generate_world` draws PNG images of coloured shapes (colour, size, grid position,
count; a background "environment") with an exact scene graph each, and writes, in LLaVA JSON
conventions (FACT_RLHF.md §2):

- facts.json        image file → 5 human-style captions; "mc-…" record id → 3 rationales of a
                    multiple-choice item (the separate key prefix; `facts_for` finds them by id)
- sft.json          conversations (4 per image); a share `hallucination_rate` of the answers
                    hallucinate, and those tend to be longer and surer of themselves, as in
                    machine-written instruction data: the SFT model learns to hallucinate
- preference.json   pairs labelled by the exact judge: fewer hallucinated spans wins, ties go to the
                    more helpful answer (higher rating); with probability `length_bias` the
                    hallucinated answer is the longer, confident one, which a reward model without
                    facts can mistake for quality
- ppo_prompts.json  3 prompts per image: an open question (rotating over the 8 MMHal types), a
                    4-option question (caption types 2–5) and a yes/no one (6/7), with length_bonus;
                    `meta` holds the scene, the reference answer and the judge's answer key
- eval_mmhal.json   held-out MMHal-Bench-format questions (shapes/bench.py)
- pope.json, chair.json, chair_vocabulary.json, scenes.json (image → scene graph)

The same arguments always give byte-identical files.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..eval.mmhal import write_mmhal
from .bench import chair_items, draw_images, draw_scene, mmhal_records, pope_questions
from .judge import judge_response, judge_spans
from .questions import FAMILIES, QA, choice, family_item, respond, yes_no
from .scene import COLOURS, SHAPES, Scene, Shape, as_scene, random_scene, render, scene_from_json, scene_to_json
from .text import captions
from .vocab import chair_synonyms

JUDGE_SOURCE = "shapes-judge"
MC_PREFIX = "mc-"  # record ids (and facts keys) of multiple-choice items
# The open question of image i is of type GENERAL_ROTATION[i % 8].
GENERAL_ROTATION = ("holistic", "attribute", "adversarial", "comparison", "counting", "relation", "environment", "other")

__all__ = [
    "COLOURS",
    "SHAPES",
    "JUDGE_SOURCE",
    "Scene",
    "Shape",
    "WorldFiles",
    "WorldOptions",
    "generate_world",
    "generate_world_for",
    "judge",
    "random_scene",
    "render",
    "scene_from_json",
    "vocabulary_text",
]


@dataclass(frozen=True)
class WorldOptions:
    hallucination_rate: float = 0.3  # share of SFT answers that hallucinate
    length_bias: float = 0.8  # P(the hallucinated answer of a pair is the longer, confident one)
    tie_rate: float = 0.0  # share of pairs with two faithful answers (helpfulness decides)
    eval_questions: int = 96  # MMHal-style questions (8 types × 12, as MMHal-Bench)
    pope_images: int = 24  # images probed by POPE and described for CHAIR
    sft_per_image: int = 4  # conversations per image (the 3 PPO questions + open ones)
    length_bonus: float = 1.0  # every PPO prompt's length-term multiplier
    pairs_per_image: int = 3  # preference pairs per image: the 3 PPO questions, then open ones
    checks_per_image: int = 0  # SFT conversations that check a quoted answer against the facts

    @classmethod
    def from_config(cls, data: dict[str, Any]) -> "WorldOptions":
        """From the config's `data` section (keys absent there keep these defaults)."""
        names = ("hallucination_rate", "length_bias", "tie_rate", "eval_questions", "pope_images", "pairs_per_image", "checks_per_image")
        return cls(**{k: data[k] for k in names if data.get(k) is not None})


@dataclass
class WorldFiles:
    image_folder: Path
    facts: Path
    ppo_prompts: Path
    preference: Path
    sft: Path
    scenes: Path
    eval_mmhal: Path
    pope: Path
    chair: Path
    chair_vocabulary: Path


def world_files(folder: Path) -> WorldFiles:
    return WorldFiles(
        folder / "images",
        folder / "facts.json",
        folder / "ppo_prompts.json",
        folder / "preference.json",
        folder / "sft.json",
        folder / "scenes.json",
        folder / "eval_mmhal.json",
        folder / "pope.json",
        folder / "chair.json",
        folder / "chair_vocabulary.json",
    )


def judge(text: str, scene: Scene | Sequence[Shape]) -> list[tuple[int, int, str]]:
    """Hallucinated spans [start, end, label] of `text` against the exact scene (no answer key)."""
    return judge_spans(text, as_scene(scene))


def _human(question: str) -> dict[str, str]:
    return {"from": "human", "value": f"<image>\n{question}"}


def _pair(qa: QA, scene: Scene, rng: random.Random, options: WorldOptions) -> dict[str, Any]:
    """Two answers labelled by the exact judge: fewer hallucinated spans wins; ties go to the more
    helpful one (higher rating, then more true details), then to the shorter. The longer answer
    is the confident one, whichever is hallucinated: at length_bias 0.5 neither length nor
    confidence says which answer wins."""
    if rng.random() < options.tie_rate:
        answers = [respond(qa, scene, rng, detail=0), respond(qa, scene, rng, detail=2, confident=rng.random() < 0.5)]
    else:
        long_lie = rng.random() < options.length_bias
        answers = [
            respond(qa, scene, rng, detail=0 if long_lie else 2, confident=not long_lie),
            respond(qa, scene, rng, hallucinate=True, detail=2 if long_lie else 0, confident=long_lie),
        ]
    rng.shuffle(answers)
    verdicts = [judge_response(a, scene, qa.key) for a in answers]
    rank = [(len(v.spans), -v.rating, -v.details, len(a.split())) for v, a in zip(verdicts, answers)]
    return {
        "output_1": {"value": answers[0]},
        "output_2": {"value": answers[1]},
        "preference": 1 if rank[0] <= rank[1] else 2,
        "hallucination": any(v.hallucinated for v in verdicts),
    }


def _extra_pairs(i: int, name: str, scene: Scene, seed: int, options: WorldOptions) -> list[dict[str, Any]]:
    """Pairs past the first 3 of an image: open questions of random types. Several pairs per image
    (the same facts, different winners) keep a fact-augmented RM from using the facts as a key to
    memorise its pairs. Their own random stream: the other files do not change with the count."""
    rng = random.Random(f"shapes-pairs-{seed}-{i}")
    out = []
    for j in range(3, options.pairs_per_image):
        qa = family_item(rng.choice(list(FAMILIES)), scene, rng)
        out.append(
            {
                "id": f"shapes-{i:05d}-p{j}",
                "image": name,
                "conversations": [_human(qa.question)],
                "caption_type": qa.caption_type,
                **_pair(qa, scene, rng, options),
            }
        )
    return out


CHECK_INTRO = "Here is an answer to the question"
CHECK_FACTS = "Facts about the image:"
CHECK_QUESTION = "Is every part of the answer supported by the facts?"
CHECK_YES, CHECK_NO = "Yes, the facts support every part of it.", "No, part of it is not supported by the facts."


def fact_check_prompt(question: str, answer: str, facts: Sequence[str]) -> str:
    """A quoted answer, then the facts, then the question whether they support it: the order of
    the fact-augmented reward model's input (response first, facts in the critique after it)."""
    bullets = "\n".join(f"- {f}" for f in facts)
    return f'{CHECK_INTRO} "{question}": "{answer}"\n{CHECK_FACTS}\n{bullets}\n{CHECK_QUESTION}'


def _fact_checks(i: int, name: str, scene: Scene, captions_: list[str], seed: int, options: WorldOptions) -> list[dict[str, Any]]:
    """Reading practice for the SFT model: is a quoted answer (faithful or hallucinated, half each)
    supported by the image's captions? A pre-trained LLM brings this skill to LLaVA-RLHF's reward
    model; the tiny model learns it here, from text whose labels hold by construction. Their own
    random stream: the other files do not change with the count."""
    rng = random.Random(f"shapes-checks-{seed}-{i}")
    out = []
    for j in range(options.checks_per_image):
        qa = family_item(rng.choice(list(FAMILIES)), scene, rng)
        hallucinated = rng.random() < 0.5
        answer = respond(qa, scene, rng, hallucinate=hallucinated, detail=rng.choice((0, 1, 2)))
        shown = rng.sample(captions_, len(captions_))
        out.append(
            {
                "id": f"shapes-{i:05d}-c{j}",
                "image": name,
                "conversations": [
                    _human(fact_check_prompt(qa.question, answer, shown)),
                    {"from": "gpt", "value": CHECK_NO if hallucinated else CHECK_YES},
                ],
                "meta": {"hallucinated": False, "fact_check": True},
            }
        )
    return out


def _sft_answer(qa: QA, scene: Scene, rng: random.Random, options: WorldOptions) -> tuple[str, bool]:
    if rng.random() < options.hallucination_rate:  # machine-written data: long, sure, wrong
        return respond(qa, scene, rng, hallucinate=True, detail=rng.choice((1, 2)), confident=rng.random() < 0.7), True
    return respond(qa, scene, rng, detail=rng.choice((0, 1, 2)), confident=rng.random() < 0.2), False


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def generate_world(folder: Path, num_images: int, image_size: int = 32, seed: int = 0, options: WorldOptions | None = None) -> WorldFiles:
    """Writes the world under `folder` and returns the paths of its files."""
    options = options or WorldOptions()
    files = world_files(Path(folder))
    files.image_folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"shapes-world-{seed}")
    facts: dict[str, list[str]] = {}
    scenes: dict[str, Any] = {}
    prompts: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    sft: list[dict[str, Any]] = []
    for i in range(num_images):
        scene = random_scene(rng)
        name = f"shapes-{i:05d}.png"
        render(scene, image_size).save(files.image_folder / name)
        facts[name] = captions(scene, rng)
        scenes[name] = scene_to_json(scene)
        items = [family_item(GENERAL_ROTATION[i % len(GENERAL_ROTATION)], scene, rng), choice(scene, i % 3, rng), yes_no(scene, rng)]
        items += [family_item(rng.choice(list(FAMILIES)), scene, rng) for _ in range(options.sft_per_image - len(items))]
        for j, qa in enumerate(items):
            rid = f"{MC_PREFIX if qa.rationales else ''}shapes-{i:05d}-{j}"
            if qa.rationales:
                facts[rid] = qa.rationales
            answer, hallucinated = _sft_answer(qa, scene, rng, options)
            sft.append(
                {
                    "id": rid,
                    "image": name,
                    "conversations": [_human(qa.question), {"from": "gpt", "value": answer}],
                    "meta": {"hallucinated": hallucinated},
                }
            )
            if j >= 3:
                continue  # SFT-only question
            prompts.append(
                {
                    "id": rid,
                    "image": name,
                    "conversations": [_human(qa.question)],
                    "caption_type": qa.caption_type,
                    "length_bonus": options.length_bonus,
                    "meta": {"scene": scenes[name], "answer": qa.answer, "key": qa.key, "question_type": qa.qtype},
                }
            )
            pairs.append(
                {
                    "id": rid,
                    "image": name,
                    "conversations": [_human(qa.question)],
                    "caption_type": qa.caption_type,
                    **_pair(qa, scene, rng, options),
                }
            )
        pairs += _extra_pairs(i, name, scene, seed, options)
        sft += _fact_checks(i, name, scene, facts[name], seed, options)
    for path, data in ((files.facts, facts), (files.ppo_prompts, prompts), (files.preference, pairs), (files.sft, sft)):
        _write_json(path, data)
    generate_benchmarks(files, image_size, seed, options, scenes)
    return files


def generate_benchmarks(files: WorldFiles, image_size: int, seed: int, options: WorldOptions, scenes: dict[str, Any] | None = None) -> None:
    """The held-out evaluation files (their own random streams: they do not depend on
    num_images). `scenes` (image → scene) is completed and written to scenes.json."""
    files.image_folder.mkdir(parents=True, exist_ok=True)
    scenes = dict(scenes or {})
    records = mmhal_records(files.image_folder, options.eval_questions, image_size, random.Random(f"shapes-eval-{seed}"))
    write_mmhal(files.eval_mmhal, records)
    for r in records:
        scenes[f"{r.image_id}.png"] = r.extra["shapes_scene"]
    drawn = draw_images(files.image_folder, "pope", options.pope_images, image_size, random.Random(f"shapes-pope-{seed}"))
    scenes.update({d.name: scene_to_json(d.scene) for d in drawn})
    _write_json(files.pope, pope_questions(drawn, random.Random(f"shapes-pope-probes-{seed}")))
    _write_json(files.chair, chair_items(drawn))
    _write_json(files.chair_vocabulary, chair_synonyms())
    _write_json(files.scenes, scenes)


def generate_world_for(config: dict[str, Any], folder: Path) -> WorldFiles:
    """The world a resolved experiment config describes (data.*, model.tiny.image_size, seed)."""
    data = config["data"]
    return generate_world(
        folder, int(data["num_images"]), int(config["model"]["tiny"]["image_size"]), int(config["seed"]), WorldOptions.from_config(data)
    )


def vocabulary_text(samples: int = 400) -> str:
    """Every word the world's texts use, for a tokenizer built before the data it will read
    (e.g. the evaluation questions of a later `eval` run): texts of `samples` random scenes
    through every question family, answer variant and caption."""
    rng = random.Random("shapes-vocabulary")
    texts: list[str] = ["I am sure of it. I am certain of this.", fact_check_prompt("?", "", []), CHECK_YES, CHECK_NO]
    for i in range(samples):
        scene = draw_scene(rng)
        texts += captions(scene, rng)
        qas = [family_item(t, scene, rng) for t in FAMILIES] + [choice(scene, i % 3, rng), yes_no(scene, rng)]
        for qa in qas:
            texts += [qa.question, qa.answer, qa.wrong, *qa.rationales]
            texts.append(respond(qa, scene, rng, hallucinate=True, detail=2))
            texts.append(respond(qa, scene, rng, detail=2))
    texts += [f"Is there a {c} {s} in the image?" for c in COLOURS for s in SHAPES]
    return "\n".join(texts)
