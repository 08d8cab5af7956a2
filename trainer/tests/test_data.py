"""The built-in shapes world and the LLaVA-format JSON readers."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from PIL import Image

from fact_rlhf.algo.rewards import symbolic_correctness
from fact_rlhf.data.llava_json import load_facts, load_preferences, load_prompts
from fact_rlhf.shapes.world import COLOURS, Shape, generate_world, judge, random_scene, render
from fact_rlhf.errors import DataError


def test_world_is_deterministic_and_covers_every_caption_type(tmp_path: Path) -> None:
    a = generate_world(tmp_path / "a", 24, 32, seed=3)
    b = generate_world(tmp_path / "b", 24, 32, seed=3)
    generate_world(tmp_path / "c", 24, 32, seed=4)  # another seed: other files
    for name in ("ppo_prompts.json", "preference.json", "facts.json", "sft.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "facts.json").read_bytes() != (tmp_path / "c" / "facts.json").read_bytes()
    assert (a.image_folder / "shapes-00005.png").read_bytes() == (b.image_folder / "shapes-00005.png").read_bytes()
    prompts = load_prompts(a.ppo_prompts, a.image_folder, load_facts(a.facts))
    assert len(prompts) == 72
    assert {p.caption_type for p in prompts} == set(range(1, 8))
    assert all(p.facts and p.length_bonus == 1.0 for p in prompts)
    with Image.open(prompts[0].image) as img:
        assert img.size == (32, 32)


def test_reference_answers_earn_the_symbolic_reward_and_win_the_pairs(tmp_path: Path) -> None:
    files = generate_world(tmp_path, 30, 32, seed=0)
    facts = load_facts(files.facts)
    for p in load_prompts(files.ppo_prompts, files.image_folder, facts):
        answer = p.meta["answer"]
        if 2 <= p.caption_type <= 5:
            assert symbolic_correctness(answer, p.caption_type) == 1.0, (p.question, answer)
            letter = "ABCD"[p.caption_type - 2]
            assert re.search(rf"^{letter}\. (.+)$", p.question, re.M)
        if p.caption_type == 6:
            assert symbolic_correctness(answer, 6) == 0.5
    for pair in load_preferences(files.preference, files.image_folder, facts):
        good = pair.output_1 if pair.preference == 1 else pair.output_2
        bad = pair.output_2 if pair.preference == 1 else pair.output_1
        scene = json.loads(files.ppo_prompts.read_text())
        record = next(r for r in scene if r["id"] == pair.id)
        from fact_rlhf.shapes.world import scene_from_json

        objects = scene_from_json(record["meta"]["scene"])
        assert judge(good, objects) == [], good
        if record["caption_type"] in (1, 6, 7):  # the hallucinated answer names a wrong object
            assert judge(bad, objects), bad


def test_judge_marks_objects_colours_and_counts() -> None:
    scene = [Shape("circle", "red", 0, 0), Shape("square", "blue", 1, 0)]
    text = (
        "There is a red circle and a green triangle. The square is yellow. There are 3 shapes. "
        "No, there is no blue circle. There is no blue square."
    )
    spans = judge(text, scene)
    assert [(text[s:e], label) for s, e, label in spans] == [
        ("green triangle", "object"),
        ("yellow", "attribute"),
        ("3", "count"),
        ("blue square", "absence"),
    ]


def test_render_draws_the_scene_colours() -> None:
    scene = random_scene(random.Random(1))
    img = render(scene, 64).convert("RGB")
    colours = {rgb for _, rgb in img.getcolors(maxcolors=64 * 64) or []}
    for obj in scene:
        assert COLOURS[obj.colour] in colours


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def test_loader_errors_name_file_and_record(tmp_path: Path) -> None:
    Image.new("RGB", (8, 8)).save(tmp_path / "x.png")
    ok = {"id": "ok", "image": "x.png", "conversations": [{"from": "human", "value": "<image>\nHi"}]}
    cases = [
        ([ok, {**ok, "id": "t", "caption_type": 9}], "record 1 (id 't'): caption_type: expected an integer 1..7, got 9"),
        ([ok, ok, {**ok, "id": 5, "image": "missing.png"}], "record 2 (id 5): image: image file not found"),
        (
            [{**ok, "conversations": [{"from": "gpt", "value": "x"}]}],
            "record 0 (id 'ok'): conversations[0].from: the first turn must be from 'human'",
        ),
        ([ok, "text"], "record 1: expected an object, got str"),
        ({"not": "a list"}, "expected a JSON list of PPO prompt records, got dict"),
    ]
    for data, message in cases:
        path = _write(tmp_path / "p.json", data)
        with pytest.raises(DataError) as err:
            load_prompts(path, tmp_path, {})
        assert message in str(err.value)
        assert "p.json" in str(err.value)
    (tmp_path / "bad.json").write_text('[\n {"id": 1,\n  oops}\n]', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.json:3: invalid JSON"):
        load_prompts(tmp_path / "bad.json", tmp_path, {})
    pair = {**ok, "output_1": {"value": "a"}, "output_2": {"value": "b"}, "preference": 3}
    with pytest.raises(DataError, match=r"record 0 \(id 'ok'\): preference: expected 1 or 2, got 3"):
        load_preferences(_write(tmp_path / "pairs.json", [pair]), tmp_path, {})
