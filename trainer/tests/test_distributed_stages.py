"""The sft and rm stages under torchrun: each rank takes its share of every global batch, the
gradients are averaged (sft: DDP, rm: FSDP), the held-out evaluation is spread over the ranks,
rank 0 alone writes — and 2 processes give the 1-process run's losses, accuracies, weights and
optimizer state at the same global batch."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from dist_helpers import compare_metrics, compare_tensor_files, manifest, metrics_by_step, run_files
from run_helpers import read_events, statuses
from stage_helpers import stage_config

from fact_rlhf.cli import main

# Micro-batches of 4 in both runs: 1 process runs [0:4] and [4:8] of a batch of 8, each of 2
# ranks one of them — the same forwards, so the same numbers.
STAGES: dict[str, Any] = {
    "sft": {"epochs": 0.5, "per_device_batch_size": 4},
    "reward_model": {"epochs": 1, "per_device_batch_size": 4, "eval_every": 2},
}
TWO = {"backend": "torchrun", "processes": 2, "threads": 1}


def both_runs(factory: pytest.TempPathFactory, stage: str, strategy: str) -> tuple[Path, Path]:
    folder = factory.mktemp(f"{stage}-{strategy}")
    one = stage_config(folder, STAGES, "one.rlhf.yaml")
    two = stage_config(folder, {**STAGES, "launch": {**TWO, "strategy": strategy}}, "two.rlhf.yaml")
    # The 2-process run starts as one plain process and re-launches itself through torchrun.
    assert main([stage, "--config", str(two), "--run-dir", str(folder / "two")]) == 0
    assert main([stage, "--config", str(one), "--run-dir", str(folder / "one")]) == 0
    return folder / "one", folder / "two"


def placement_log(run: Path) -> str:
    return next(e["message"] for e in read_events(run) if e["type"] == "log" and "processes" in e["message"])


def assert_rank_zero_alone_wrote(one: Path, two: Path) -> None:
    assert manifest(two)["world_size"] == 2 and manifest(one)["world_size"] == 1
    assert statuses(read_events(two)) == ["starting", "running", "finished"]
    assert run_files(two) == run_files(one)
    metrics_by_step(two)  # each step once


def test_sft_with_ddp_over_two_processes_equals_one_process(tmp_path_factory: pytest.TempPathFactory) -> None:
    one, two = both_runs(tmp_path_factory, "sft", "ddp")
    assert_rank_zero_alone_wrote(one, two)
    assert "; ddp over 2 processes" in placement_log(two)
    assert compare_metrics(one, two, rel=0.0) >= 3 * 5
    losses = [m["sft/loss"] for _, m in sorted(metrics_by_step(one).items())]
    assert len(losses) == 3 and losses[-1] < losses[0]  # it trained
    assert (
        compare_tensor_files(one / "checkpoints/step-3", two / "checkpoints/step-3", ["model.safetensors", "optimizer.safetensors"]) > 100
    )


def test_rm_with_fsdp_over_two_processes_equals_one_process(tmp_path_factory: pytest.TempPathFactory) -> None:
    one, two = both_runs(tmp_path_factory, "rm", "fsdp")
    assert_rank_zero_alone_wrote(one, two)
    note = placement_log(two)
    held, total = (
        int(x.replace(",", "")) for x in re.findall(r"fsdp over 2 processes: rank 0 holds ([\d,]+) of the model's ([\d,]+)", note)[0]
    )
    assert abs(held - total / 2) < total * 0.01, note
    # Loss, training accuracy and the held-out evaluation (spread over the ranks) all equal.
    assert compare_metrics(one, two, rel=0.0) >= 6 + 10
    assert metrics_by_step(two)[2]["rm/eval_accuracy"] is not None
    names = ["reward/adapter_model.safetensors", "heads.safetensors"]
    assert compare_tensor_files(one / "checkpoints/step-2", two / "checkpoints/step-2", names + ["optimizer.safetensors"]) > 50
    assert compare_tensor_files(one / "checkpoints/best", two / "checkpoints/best", names) > 20


def test_a_batch_that_does_not_split_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    odd = stage_config(tmp_path, {"sft": {"batch_size": 9, "per_device_batch_size": 9}, "launch": TWO}, "odd.rlhf.yaml")
    assert main(["sft", "--config", str(odd), "--run-dir", str(tmp_path / "odd")]) == 2
    error = read_events(tmp_path / "odd")[-1]["error"]
    assert re.search(r"odd\.rlhf\.yaml:\d+: sft\.batch_size: 9 does not split over 2 processes", error), error
    # Shares of 6 do not hold whole micro-batches of 4.
    ragged = stage_config(tmp_path, {"reward_model": {"batch_size": 12, "per_device_batch_size": 4}, "launch": TWO}, "ragged.rlhf.yaml")
    assert main(["rm", "--config", str(ragged), "--run-dir", str(tmp_path / "ragged")]) == 2
    error = read_events(tmp_path / "ragged")[-1]["error"]
    assert (
        "reward_model.batch_size: 12 splits into shares of 6 per process, not a multiple of reward_model.per_device_batch_size (4)" in error
    ), error
