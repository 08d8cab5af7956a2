"""The synthetic shapes world: its files, their consistency with the exact judge, and the controls
(hallucination rate, length bias, ties) that make it a hallucination lab."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from fact_rlhf.data.llava_json import load_facts, load_preferences, load_prompts
from fact_rlhf.shapes.world import (
    CHECK_FACTS,
    CHECK_NO,
    CHECK_QUESTION,
    CHECK_YES,
    GENERAL_ROTATION,
    MC_PREFIX,
    WorldOptions,
    fact_check_prompt,
    generate_world,
    vocabulary_text,
)
from fact_rlhf.shapes.questions import FAMILIES
from fact_rlhf.shapes.scene import COLOURS, COLUMN_WORDS, ENVIRONMENTS, ROW_WORDS, SHAPES, SIZES, random_scene, scene_from_json
from fact_rlhf.shapes.text import false_details, true_details
from fact_rlhf.shapes.vocab import ENVIRONMENT_PHRASES
from fact_rlhf.eval.mmhal import QUESTION_TYPES, read_mmhal
from fact_rlhf.shapes.judge import judge_response

SMALL = WorldOptions(eval_questions=16, pope_images=6)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate_world(tmp_path_factory.mktemp("world"), 40, 32, seed=1, options=SMALL)


def test_every_file_is_written_and_deterministic(world: Any, tmp_path: Path) -> None:
    again = generate_world(tmp_path, 40, 32, seed=1, options=SMALL)
    for name in ("facts", "ppo_prompts", "preference", "sft", "scenes", "eval_mmhal", "pope", "chair", "chair_vocabulary"):
        assert getattr(world, name).read_bytes() == getattr(again, name).read_bytes(), name
    scenes = load(world.scenes)
    assert len(scenes) == 40 + 16 + 6
    for name, scene in scenes.items():
        assert (world.image_folder / name).is_file()
    with Image.open(world.image_folder / "eval-00003.png") as img:
        background = img.convert("RGB").getpixel((0, 0))
    assert background == ENVIRONMENTS[scenes["eval-00003.png"]["environment"]]


def test_facts_are_true_captions_and_rationales(world: Any) -> None:
    facts, scenes = load(world.facts), load(world.scenes)
    captions = {k: v for k, v in facts.items() if k.endswith(".png")}
    rationales = {k: v for k, v in facts.items() if k.startswith(MC_PREFIX)}
    assert len(captions) == 40 and len(rationales) == 40 and len(facts) == 80
    for image, texts in captions.items():
        scene = scene_from_json(scenes[image])
        assert len(texts) == 5 and len(set(texts)) == 5
        for text in texts:
            assert judge_response(text, scene).spans == [], text
        named = {c.subject for t in texts for c in judge_response(t, scene).claims if c.kind == "object"}
        assert set(scene.kinds()) <= named  # the captions mention every object
    prompts = load_prompts(world.ppo_prompts, world.image_folder, load_facts(world.facts))
    for p in prompts:
        if 2 <= p.caption_type <= 5:  # multiple choice reads its rationales, under the prefix
            assert p.id.startswith(MC_PREFIX) and p.facts == rationales[p.id] and len(p.facts) == 3
            assert all(judge_response(f, scene_from_json(p.meta["scene"])).spans == [] for f in p.facts)
        else:
            assert p.facts == captions[p.image.name]
    pairs = load_preferences(world.preference, world.image_folder, load_facts(world.facts))
    assert [(q.id, q.facts) for q in pairs] == [(p.id, p.facts) for p in prompts]  # the RM reads the same facts


def test_ppo_prompts_cover_every_caption_type_and_question_type(world: Any) -> None:
    prompts = load(world.ppo_prompts)
    assert len(prompts) == 3 * 40
    assert {p["caption_type"] for p in prompts} == set(range(1, 8))
    general = [p for p in prompts if p["caption_type"] == 1]
    # Image i's open question is of type GENERAL_ROTATION[i % 8], or holistic where its scene
    # cannot carry that type (no big/small pair for a comparison, say).
    for p in general:
        i = int(p["image"].split("-")[1].split(".")[0])
        wanted = GENERAL_ROTATION[i % len(GENERAL_ROTATION)]
        supported = FAMILIES[wanted](scene_from_json(p["meta"]["scene"]), random.Random(0)) is not None
        assert p["meta"]["question_type"] == (wanted if supported else "holistic"), p
    assert len({p["meta"]["question_type"] for p in general}) >= 6
    for p in prompts:
        assert p["length_bonus"] == 1.0 and p["conversations"][0]["value"].startswith("<image>\n")
        verdict = judge_response(p["meta"]["answer"], scene_from_json(p["meta"]["scene"]), p["meta"]["key"])
        assert verdict.answer == "right" and verdict.spans == [] and verdict.rating >= 4, p
    bonus = generate_world(
        world.facts.parent.parent / "bonus", 3, 32, seed=1, options=WorldOptions(length_bonus=0.5, eval_questions=8, pope_images=1)
    )
    assert {p["length_bonus"] for p in load(bonus.ppo_prompts)} == {0.5}


def _sft_verdicts(folder: Path, rate: float) -> list[tuple[bool, bool, int]]:
    files = generate_world(folder, 60, 32, seed=2, options=WorldOptions(hallucination_rate=rate, eval_questions=8, pope_images=1))
    scenes = load(files.scenes)
    prompts = {p["id"]: p["meta"]["key"] for p in load(files.ppo_prompts)}
    out = []
    for record in load(files.sft):
        answer = record["conversations"][1]["value"]
        scene = scene_from_json(scenes[record["image"]])
        verdict = judge_response(answer, scene, prompts.get(record["id"]))
        out.append((record["meta"]["hallucinated"], bool(verdict.spans), len(answer.split())))
    return out


def test_sft_hallucination_rate_is_controlled(tmp_path: Path) -> None:
    for rate in (0.0, 0.3, 1.0):
        verdicts = _sft_verdicts(tmp_path / str(rate), rate)
        assert len(verdicts) == 4 * 60
        assert all(flag == marked for flag, marked, _ in verdicts)  # the judge agrees with the label
        share = sum(flag for flag, _, _ in verdicts) / len(verdicts)
        assert share == pytest.approx(rate, abs=0.07), (rate, share)
        if rate == 0.3:  # hallucinated answers are the longer ones
            mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
            assert mean([n for f, _, n in verdicts if f]) > mean([n for f, _, n in verdicts if not f]) + 3


def test_pairs_are_labelled_by_the_judge_with_a_length_bias(world: Any, tmp_path: Path) -> None:
    scenes = load(world.scenes)
    keys = {p["id"]: p["meta"]["key"] for p in load(world.ppo_prompts)}
    longer_loses = 0
    for pair in load(world.preference):
        scene = scene_from_json(scenes[pair["image"]])
        texts = [pair["output_1"]["value"], pair["output_2"]["value"]]
        good, bad = (texts[0], texts[1]) if pair["preference"] == 1 else (texts[1], texts[0])
        v_good, v_bad = judge_response(good, scene, keys[pair["id"]]), judge_response(bad, scene, keys[pair["id"]])
        assert v_good.spans == [] and v_bad.spans and pair["hallucination"] is True
        longer_loses += len(bad.split()) > len(good.split())
    assert 0.7 < longer_loses / 120 < 0.9  # length_bias 0.8: the hallucinated answer is usually longer

    unbiased = generate_world(
        tmp_path / "u", 40, 32, seed=1, options=WorldOptions(length_bias=0.0, tie_rate=0.5, eval_questions=8, pope_images=1)
    )
    scenes = load(unbiased.scenes)
    keys_u = {p["id"]: p["meta"]["key"] for p in load(unbiased.ppo_prompts)}
    kinds: Counter[str] = Counter()
    facts = load_facts(unbiased.facts)
    for pair in load_preferences(unbiased.preference, unbiased.image_folder, facts):
        scene = scene_from_json(scenes[pair.image.name])
        texts = [pair.output_1, pair.output_2]
        good, bad = (texts[0], texts[1]) if pair.preference == 1 else (texts[1], texts[0])
        v_good, v_bad = judge_response(good, scene), judge_response(bad, scene)
        if not v_bad.spans and not v_good.spans:
            kinds["tie"] += 1
            key = keys_u[pair.id]  # ties go to the more helpful answer (rating, then details)
            h_good, h_bad = judge_response(good, scene, key), judge_response(bad, scene, key)
            assert (h_good.rating, h_good.details) >= (h_bad.rating, h_bad.details)
        else:
            kinds["hallucination"] += 1
            assert len(good.split()) > len(bad.split())  # length_bias 0: the faithful one is longer
    assert 0.35 < kinds["tie"] / 120 < 0.65


def _template(sentence: str) -> str:
    """The sentence with every scene word masked: what is left is its wording."""
    words = set(COLOURS) | set(SHAPES) | set(SIZES) | set(COLUMN_WORDS) | set(ROW_WORDS) | {"disc", "rhombus"}
    words |= {w for phrase in ENVIRONMENT_PHRASES.values() for w in phrase.split()[-1:]}
    out = re.sub(r"\b\d+\b", "N", sentence)
    out = re.sub(r"\b(" + "|".join(sorted(words, key=len, reverse=True)) + r")(e?s)?\b", "W", out)
    return re.sub(r"\b(is|are|a|an|on|in|at)\b", "·", out)


def test_false_details_use_the_wording_of_true_ones() -> None:
    # A reward model without the image (or its facts) must not tell a false detail by its words.
    rng = random.Random(5)
    true_forms: set[str] = set()
    false_forms: list[str] = []
    for _ in range(300):
        scene = random_scene(rng)
        true_forms |= {_template(s) for s in true_details(scene, rng)}
        false_forms += [_template(s) for s in false_details(scene, rng)]
    assert len(false_forms) > 1000
    assert {f for f in false_forms if f not in true_forms} == set()


def test_extra_pairs_per_image_share_the_facts_and_leave_the_other_files_alone(world: Any, tmp_path: Path) -> None:
    options = WorldOptions(eval_questions=8, pope_images=1)
    three = generate_world(tmp_path / "three", 6, 32, seed=2, options=options)
    eight = generate_world(tmp_path / "eight", 6, 32, seed=2, options=WorldOptions(eval_questions=8, pope_images=1, pairs_per_image=8))
    for name in ("facts.json", "sft.json", "ppo_prompts.json"):
        assert (three.facts.parent / name).read_bytes() == (eight.facts.parent / name).read_bytes()
    pairs = load(eight.preference)
    assert len(pairs) == 6 * 8 and len({p["id"] for p in pairs}) == 6 * 8
    assert Counter(p["image"] for p in pairs) == {f"shapes-{i:05d}.png": 8 for i in range(6)}
    scenes = load(eight.scenes)
    extra = [p for p in pairs if "-p" in p["id"]]
    assert len(extra) == 6 * 5
    for pair in extra:  # labelled by the judge like the others: the winner has no hallucinated span
        good = pair["output_1" if pair["preference"] == 1 else "output_2"]["value"]
        assert judge_response(good, scene_from_json(scenes[pair["image"]])).spans == []


def test_fact_checks_quote_an_answer_then_the_captions_and_are_labelled_by_construction(tmp_path: Path) -> None:
    plain = generate_world(tmp_path / "plain", 6, 32, seed=4, options=WorldOptions(eval_questions=8, pope_images=1))
    world = generate_world(tmp_path / "checks", 6, 32, seed=4, options=WorldOptions(eval_questions=8, pope_images=1, checks_per_image=6))
    for name in ("facts.json", "preference.json", "ppo_prompts.json"):
        assert (plain.facts.parent / name).read_bytes() == (world.facts.parent / name).read_bytes()
    sft = load(world.sft)
    checks = [c for c in sft if c["meta"].get("fact_check")]
    assert [c for c in sft if not c["meta"].get("fact_check")] == load(plain.sft)  # appended, nothing else changed
    assert len(checks) == 6 * 6
    captions = load(world.facts)
    scenes = load(world.scenes)
    verdicts = Counter()
    for c in checks:
        prompt, reply = c["conversations"][0]["value"], c["conversations"][1]["value"]
        quoted = re.search(r'": "(.*)"\n' + re.escape(CHECK_FACTS), prompt)
        assert quoted is not None, prompt
        shown = prompt.split(CHECK_FACTS + "\n")[1].split("\n" + CHECK_QUESTION)[0].split("\n")
        assert sorted(s[2:] for s in shown) == sorted(captions[c["image"]])  # every caption, as bullets
        assert prompt.index(quoted.group(1)) < prompt.index(CHECK_FACTS) < prompt.index(CHECK_QUESTION)  # the RM's order
        spans = judge_response(quoted.group(1), scene_from_json(scenes[c["image"]])).spans
        assert reply == (CHECK_NO if spans else CHECK_YES), (quoted.group(1), spans)
        verdicts[reply] += 1
    assert min(verdicts.values()) >= 8  # both answers are common
    assert {w for w in re.findall(r"[A-Za-z]+", fact_check_prompt("", "", []) + CHECK_YES + CHECK_NO)} <= set(
        re.findall(r"[A-Za-z]+", vocabulary_text(5))
    )


def test_mmhal_set_has_the_eight_types_in_order_with_true_references(world: Any) -> None:
    records = read_mmhal(world.eval_mmhal)
    assert [r.question_type for r in records] == [QUESTION_TYPES[i % 8] for i in range(16)]
    for r in records:
        scene = scene_from_json(r.extra["shapes_scene"])
        assert (world.eval_mmhal.parent / r.image_src).is_file()
        assert set(scene.kinds()) <= set(r.image_content) and scene.environment in r.image_content
        verdict = judge_response(r.gt_answer, scene, r.extra["shapes_key"])
        assert verdict.answer == "right" and verdict.spans == [] and verdict.rating >= 5, (r.question, r.gt_answer)
        absent = scene.absent_kinds()[0]
        assert judge_response(f"There is also a {absent}.", scene).spans


def test_pope_probes_are_balanced_and_exact(world: Any) -> None:
    probes, scenes = load(world.pope), load(world.scenes)
    assert Counter(p["split"] for p in probes) == Counter({s: len(probes) // 3 for s in ("random", "popular", "adversarial")})
    assert Counter(p["label"] for p in probes)["yes"] == len(probes) // 2
    for p in probes:
        kind = re.fullmatch(r"Is there a (\w+ \w+) in the image\?", p["text"]).group(1)  # type: ignore[union-attr]
        present = scene_from_json(scenes[p["image"]]).kinds()
        assert (kind in present) == (p["label"] == "yes")
        if p["split"] == "adversarial" and p["label"] == "no":  # confusable: shares a colour or a shape
            assert any(kind.split()[0] == k.split()[0] or kind.split()[1] == k.split()[1] for k in present)
    chair = load(world.chair)
    assert len(chair) == 6 and load(world.chair_vocabulary)["red circle"] == ["red disc"]
    for item in chair:
        kinds = scene_from_json(scenes[item["image"]]).kinds()
        assert item["objects"] == sorted(set(kinds) | {k.split()[1] for k in kinds})


def _texts(world: Any) -> list[str]:
    """Every text of a world a model reads or writes."""
    out = [t for texts in load(world.facts).values() for t in texts]
    for p in load(world.ppo_prompts):
        out += [p["conversations"][0]["value"], p["meta"]["answer"]]
    for pair in load(world.preference):
        out += [pair["output_1"]["value"], pair["output_2"]["value"]]
    out += [turn["value"] for r in load(world.sft) for turn in r["conversations"]]
    out += [p["text"] for p in load(world.pope)] + [c["question"] for c in load(world.chair)]
    out += [t for r in read_mmhal(world.eval_mmhal) for t in (r.question, r.gt_answer)]
    return out


def test_vocabulary_text_covers_every_word_of_a_world(world: Any) -> None:
    """A tokenizer built from `vocabulary_text` knows every word of any world (e.g. the eval
    questions a PPO run never saw)."""

    def words(text: str) -> set[str]:
        return set(re.findall(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]", text.replace("<image>", "")))

    known = words(vocabulary_text())
    used = set().union(*(words(t) for t in _texts(world)))
    assert len(used) > 80 and used - known == set()
