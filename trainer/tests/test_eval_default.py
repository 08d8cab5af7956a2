"""Which model `eval` evaluates when no checkpoint is named: the newest finished policy run under
the config's output folder (ppo, else rl_init, else sft), never a random model unless asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fact_rlhf.cli import main
from fact_rlhf.config import load_config
from fact_rlhf.errors import UsageError
from fact_rlhf.eval.sources import choose_eval_target, latest_policy_run
from run_helpers import read_events, write_config


def fake_run(folder: Path, stage: str, started: float, status: str = "finished", checkpoint: bool = True) -> Path:
    """A run folder as the trainer leaves it: run.json, and checkpoints/latest naming step-1."""
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"stage": stage, "status": status, "started": started, "config": {}}))
    if checkpoint:
        (folder / "checkpoints" / "step-1").mkdir(parents=True)
        (folder / "checkpoints" / "latest").write_text("step-1")
    return folder


def test_the_newest_finished_run_of_the_first_stage_wins(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert latest_policy_run(runs) is None  # no output folder yet
    sft = fake_run(runs / "a-sft-1", "sft", 100)
    assert latest_policy_run(runs) == sft
    rl_init = fake_run(runs / "a-rl_init-1", "rl_init", 50)
    assert latest_policy_run(runs) == rl_init  # rl_init before sft, however old
    old_ppo = fake_run(runs / "a-ppo-1", "ppo", 10)
    new_ppo = fake_run(runs / "a-ppo-2", "ppo", 20)
    fake_run(runs / "a-ppo-3", "ppo", 30, status="failed")
    fake_run(runs / "a-ppo-4", "ppo", 40, status="running")
    fake_run(runs / "a-ppo-5", "ppo", 50, checkpoint=False)
    fake_run(runs / "a-rm-1", "rm", 60)
    fake_run(runs / "a-eval-1", "eval", 70, checkpoint=False)
    assert latest_policy_run(runs) == new_ppo != old_ppo


def test_choice_order_and_the_random_model_refusal(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "x.rlhf.yaml", {"output_dir": "runs"})).data
    with pytest.raises(UsageError, match=r"nothing trained to evaluate: .*eval\.allow_random: true \(fact-rlhf eval --allow-random\)"):
        choose_eval_target(config)
    random = choose_eval_target(config, allow_random=True)
    assert random.random and random.target == "builtin:tiny-llava" and "random initialisation" in random.note
    ppo = fake_run(tmp_path / "runs" / "x-ppo-1", "ppo", 1)
    chosen = choose_eval_target(config)
    assert (chosen.target, chosen.random) == (str(ppo), False)
    assert "the newest finished ppo run under" in chosen.note
    named = choose_eval_target({**config, "eval": {**config["eval"], "checkpoint": "/some/model"}})
    assert named.target == "/some/model" and "(eval.checkpoint)" in named.note


def test_eval_with_nothing_trained_is_refused_before_a_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "x.rlhf.yaml", {"output_dir": "runs"})
    assert main(["eval", "--config", str(config), "--run-dir", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err
    assert "eval.checkpoint: nothing trained to evaluate" in err and "x.rlhf.yaml:" in err, err
    assert [e.get("status") for e in read_events(tmp_path / "e") if e["type"] == "status"][-1] == "failed"


def test_allow_random_flag_evaluates_and_says_so(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "x.rlhf.yaml",
        {
            "output_dir": "runs",
            "data": {"eval_questions": 8, "pope_images": 1},
            "eval": {"benchmarks": ["shapes"], "max_new_tokens": 2, "batch_size": 8},
        },
    )
    assert main(["eval", "--config", str(config), "--run-dir", str(tmp_path / "e"), "--allow-random"]) == 0
    logs = [e["message"] for e in read_events(tmp_path / "e") if e["type"] == "log"]
    assert any("builtin:tiny-llava at random initialisation (eval.allow_random)" in m for m in logs), logs


def test_phases_are_reported_from_the_start(tmp_path: Path) -> None:
    """Before its first answer the run says what it is doing: setup right after `starting`, then
    the model and the benchmarks (schema: ProgressEvent.phase)."""
    config = write_config(
        tmp_path,
        "x.rlhf.yaml",
        {
            "output_dir": "runs",
            "data": {"eval_questions": 8, "pope_images": 1},
            "eval": {"benchmarks": ["shapes"], "max_new_tokens": 2, "batch_size": 8, "allow_random": True},
        },
    )
    assert main(["eval", "--config", str(config), "--run-dir", str(tmp_path / "e")]) == 0
    events = read_events(tmp_path / "e")
    kinds = [(e["type"], e.get("status") or e.get("phase")) for e in events if e["type"] in ("status", "progress")]
    assert kinds[:5] == [
        ("status", "starting"),
        ("progress", "setup"),
        ("progress", "model"),
        ("progress", "benchmarks"),
        ("status", "running"),
    ], kinds
    assert events[1]["t"] - events[0]["t"] < 1.0  # setup follows `starting` at once
