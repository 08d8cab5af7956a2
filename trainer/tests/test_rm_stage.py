"""The `rm` stage: pairwise training with held-out evaluation, best + latest checkpoints (the best
reproduces its logged accuracy), fact augmentation on/off with captions or rationales, resume,
and bad input."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from fact_rlhf.algo.rm_prompt import RM_FACTS_SENTENCE, rm_input
from fact_rlhf.checkpoint import load_adapters
from fact_rlhf.cli import main
from fact_rlhf.config import load_config
from fact_rlhf.data.llava_json import facts_for, load_facts, load_preferences
from fact_rlhf.models.stack import ModelStack
from fact_rlhf.rm.pairwise import evaluate_pairs
from fact_rlhf.rm.scoring import rm_text
from fact_rlhf.rm.train import facts_coverage, run_rm, split_pairs
from fact_rlhf.stages.loading import load_source
from fact_rlhf.stages.sources import resolve_policy, resolve_reward
from run_helpers import read_events, statuses, uncatalogued, valid_events
from stage_helpers import cached_run, metrics, run_stopped, stage_config


@pytest.fixture(scope="module")
def rm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_run(tmp_path_factory, "rm", "rm")


def test_metrics_held_out_evaluation_and_checkpoints(rm_run: Path) -> None:
    events = valid_events(rm_run)
    assert statuses(events) == ["starting", "running", "finished"]
    steps = metrics(rm_run)
    assert sorted(steps) == list(range(1, 7))  # 3 epochs × 16 training pairs / 8 per step
    data_line = next(e["message"] for e in events if e["type"] == "log" and e["message"].startswith("data: "))
    assert data_line.startswith("data: 15 training pairs, 9 held out (builtin:shapes); facts for 24 of 24 pairs; model: ")
    assert not [e for e in events if e["type"] == "log" and e["level"] == "warning"]
    for s, values in steps.items():
        assert {"rm/loss", "rm/accuracy", "rm/learning_rate", "rm/mean_score"} <= set(values)
        assert ("rm/eval_accuracy" in values) == (s in (2, 4, 6)), s
        assert ("rm/eval_accuracy_other_facts" in values) == (s in (2, 4, 6)), s  # fact augmentation is on
    assert [steps[s]["rm/learning_rate"] for s in (1, 2, 6)] == pytest.approx([1e-3, 2e-3, 2e-3])  # warm-up, constant
    evals = {s: steps[s]["rm/eval_accuracy"] for s in (2, 4, 6)}
    assert all(0.0 <= a <= 1.0 for a in evals.values()) and all("rm/eval_mean_score" in steps[s] for s in evals)
    best_step = next(s for s in sorted(evals) if evals[s] == max(evals.values()))  # ties keep the earlier

    checkpoints = rm_run / "checkpoints"
    assert {p.name for p in checkpoints.iterdir()} == {"best", "latest", "step-6"}
    assert [e["step"] for e in events if e["type"] == "checkpoint"] == [2, 4, 6]
    best = checkpoints / "best"
    state = json.loads((best / "trainer_state.json").read_text())
    assert state["best_step"] == best_step and state["best_accuracy"] == evals[best_step]
    assert {"reward", "heads.safetensors", "base.json", "tokenizer.json"} <= {p.name for p in best.iterdir()}
    assert json.loads((best / "base.json").read_text())["path"] == str((rm_run / "model").resolve())
    assert resolve_reward(rm_run) == best  # an rm run hands PPO its best checkpoint

    # The best checkpoint reproduces the held-out accuracy logged for it.
    config = json.loads((rm_run / "run.json").read_text())["config"]
    pairs = load_preferences(rm_run / "world" / "preference.json", rm_run / "world" / "images", load_facts(rm_run / "world" / "facts.json"))
    _, held_out = split_pairs(pairs, 8, 0)
    base, codec = load_source(resolve_policy(rm_run / "model"), "fp32")
    stack = ModelStack(base, config["model"]["lora"], codec.suppress_ids, 1.0)
    load_adapters(stack, best, names=("reward",))
    stats = evaluate_pairs(stack, codec, held_out, True, 0, 8)
    assert stats.accuracy == pytest.approx(evals[best_step])
    assert stats.mean_score == pytest.approx(steps[best_step]["rm/eval_mean_score"], abs=1e-5)


def test_fact_augmentation_puts_shuffled_captions_or_rationales_in_the_suffix(rm_run: Path) -> None:
    world = rm_run / "world"
    facts = load_facts(world / "facts.json")
    pairs = load_preferences(world / "preference.json", world / "images", facts)
    general = next(p for p in pairs if not p.id.startswith("mc-"))
    choice = next(p for p in pairs if p.id.startswith("mc-"))
    assert general.facts == facts[general.image.name]  # captions of the image
    assert choice.facts == facts[choice.id] != facts[choice.image.name]  # rationales of the question
    for pair in (general, choice):
        with_facts = rm_text(pair.conversations, pair.output_1, pair.facts, True, random.Random(1))
        assert RM_FACTS_SENTENCE in with_facts and all(f"\n  - {f}" in with_facts for f in pair.facts)
        plain = rm_text(pair.conversations, pair.output_1, pair.facts, False, random.Random(1))
        assert plain == rm_input(pair.conversations, pair.output_1, None) and RM_FACTS_SENTENCE not in plain
    # Shuffled per example: the bullet order follows the rng.
    orders = {
        tuple(
            line
            for line in rm_text(general.conversations, general.output_1, general.facts, True, random.Random(s)).splitlines()
            if line.startswith("  - ")
        )
        for s in range(6)
    }
    assert len(orders) > 1

    # The reference code's key for A-OKVQA rationales, `aok_<image>`, is read for items of types 2–5.
    image = general.image
    facts_map = {image.name: ["a caption"], "aok_" + image.name: ["a rationale"]}
    assert facts_for(facts_map, "q1", image, caption_type=3) == ["a rationale"]
    assert facts_for(facts_map, "q1", image, caption_type=1) == ["a caption"]
    assert facts_for(facts_map, "q1", image, caption_type=6) == ["a caption"]
    assert facts_for({image.name: ["a caption"]}, "q1", image, caption_type=2) == ["a caption"]  # no rationale: captions


def test_pairs_without_facts_are_counted_and_warned_about_when_fact_augmentation_is_on(rm_run: Path) -> None:
    world = rm_run / "world"
    pairs = load_preferences(world / "preference.json", world / "images", load_facts(world / "facts.json"))[:4]
    assert facts_coverage(pairs, True) == ("; facts for 4 of 4 pairs", None)
    pairs[1].facts = []
    note, warning = facts_coverage(pairs, True)
    assert note == "; facts for 3 of 4 pairs"
    assert warning is not None and "fact_augmentation is on but 1 of 4 preference pairs have no facts" in warning
    assert facts_coverage(pairs, False) == ("", None)  # the plain baseline reads no facts


def test_a_stopped_run_resumes_with_the_same_metrics(rm_run: Path, tmp_path: Path) -> None:
    config = stage_config(tmp_path)
    run = tmp_path / "run"
    assert run_stopped("rm", run_rm, config, run, stop_after=3) == "stopped"
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-3"
    assert main(["rm", "--config", str(config), "--run-dir", str(run), "--resume"]) == 0
    assert statuses(read_events(run)) == ["starting", "running", "stopped", "starting", "running", "finished"]
    resumed, reference = metrics(run), metrics(rm_run)
    assert sorted(resumed) == sorted(reference)
    for step, values in reference.items():
        for key, value in values.items():
            if key.startswith("rm/"):
                assert resumed[step][key] == pytest.approx(value, rel=1e-5, abs=1e-6), (step, key)
    best = json.loads((run / "checkpoints" / "best" / "trainer_state.json").read_text())
    assert best["best_step"] == json.loads((rm_run / "checkpoints" / "best" / "trainer_state.json").read_text())["best_step"]


def test_bad_input_is_reported_before_training(tmp_path: Path) -> None:
    config = stage_config(tmp_path, {"reward_model": {"held_out": 24}})
    assert main(["rm", "--config", str(config), "--run-dir", str(tmp_path / "a")]) == 2
    error = read_events(tmp_path / "a")[-1]["error"]
    assert "reward_model.held_out: must be below the built-in world's 24 pairs" in error
    assert load_config(config).where(("reward_model", "held_out")) in error

    from PIL import Image

    Image.new("RGB", (32, 32)).save(tmp_path / "a.png")
    ok = {
        "id": "p0",
        "image": "a.png",
        "conversations": [{"from": "human", "value": "<image>\nHi"}],
        "output_1": {"value": "A."},
        "output_2": {"value": "B."},
        "preference": 1,
    }
    (tmp_path / "pairs.json").write_text(json.dumps([ok, {**ok, "id": "p1", "preference": 3}]), encoding="utf-8")
    config = stage_config(
        tmp_path,
        {"data": {"builtin": "none", "preference": "pairs.json", "image_folder": "."}, "reward_model": {"held_out": 1}},
        name="files.rlhf.yaml",
    )
    assert main(["rm", "--config", str(config), "--run-dir", str(tmp_path / "b")]) == 2
    events = read_events(tmp_path / "b")
    assert statuses(events)[-1] == "failed"
    assert "pairs.json: record 1 (id 'p1'): preference: expected 1 or 2, got 3" in events[-1]["error"]
    assert not (tmp_path / "b" / "model").exists()  # failed before any model was built


def test_a_trained_reward_model_is_frozen_in_the_vision_tower(rm_run: Path) -> None:
    """The vision tower and projector are never trained: only `reward` LoRA tensors (language
    model projections) and the head are in the checkpoint."""
    from safetensors.torch import load_file

    adapter = load_file(str(rm_run / "checkpoints" / "best" / "reward" / "adapter_model.safetensors"))
    assert adapter and all("language_model" in k and "lora_" in k for k in adapter)
    heads = load_file(str(rm_run / "checkpoints" / "best" / "heads.safetensors"))
    assert set(heads) == {"reward_head.weight", "reward_head.bias"}
    assert torch.count_nonzero(heads["reward_head.bias"]) == 1  # trained away from its zero init


def test_every_metric_key_is_in_the_metrics_catalogue(rm_run: Path) -> None:
    """schema/metrics.json gives the editor its titles and units: a key the trainer writes
    without an entry there would show untitled."""
    assert not uncatalogued(read_events(rm_run)), "add these keys to schema/metrics.json"
