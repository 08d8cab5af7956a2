"""Shared pieces of the multi-process tests: one small PPO config, the single-process reference
run (made once per test session, in this process), and comparisons of two runs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from fact_rlhf.cli import main
from run_helpers import TRAINER, merge, read_events, trainer_env, write_config

TIMING = ("time/", "perf/")
# 3 iterations of 16 prompts; 2 processes split every batch evenly.
PPO_RUN: dict[str, Any] = {
    "data": {"num_images": 8},
    "ppo": {"max_iterations": 3, "rollout_per_device_batch_size": 8, "save_every": 2, "reward_warmup_steps": 1},
}

_REFERENCE: dict[str, Path] = {}


def reference_ppo_run(factory: pytest.TempPathFactory) -> Path:
    """The 1-process PPO run every multi-process PPO test compares with (made once)."""
    if "ppo" not in _REFERENCE:
        folder = factory.mktemp("ppo-reference")
        config = write_config(folder, "one.rlhf.yaml", PPO_RUN)
        assert main(["ppo", "--config", str(config), "--run-dir", str(folder / "one")]) == 0
        _REFERENCE["ppo"] = folder / "one"
    return _REFERENCE["ppo"]


def ppo_config(folder: Path, name: str, launch: dict[str, Any]) -> Path:
    return write_config(folder, name, merge(PPO_RUN, {"launch": {"threads": 1, **launch}}))


def metrics_by_step(run: Path) -> dict[int, dict[str, Any]]:
    steps: dict[int, dict[str, Any]] = {}
    for e in read_events(run):
        if e["type"] == "metric":
            assert e["step"] not in steps, f"step {e['step']} written twice (a second rank wrote?)"
            steps[e["step"]] = e["values"]
    return steps


def compare_metrics(one: Path, other: Path, rel: float = 0.0) -> int:
    """Every non-timing metric of every step equal (rel 0: to the last bit); returns how many."""
    a, b = metrics_by_step(one), metrics_by_step(other)
    assert sorted(a) == sorted(b)
    compared = 0
    for step in a:
        assert set(a[step]) == set(b[step]), f"step {step}"
        for key, value in a[step].items():
            if key.startswith(TIMING) or key.endswith("tokens_per_s"):
                continue
            if rel == 0.0:
                assert b[step][key] == value, f"step {step} {key}: {value} vs {b[step][key]}"
            else:
                assert b[step][key] == pytest.approx(value, rel=rel, abs=1e-9), f"step {step} {key}"
            compared += 1
    return compared


def compare_tensor_files(one: Path, other: Path, names: list[str], rtol: float = 0.0) -> int:
    """The safetensors files under both folders hold the same tensors (RNG states excepted)."""
    compared = 0
    for rel in names:
        x, y = load_file(str(one / rel)), load_file(str(other / rel))
        assert set(x) == set(y), rel
        for key in x:
            if key.startswith("rng."):
                continue
            if rtol == 0.0:
                assert torch.equal(x[key], y[key]), f"{rel} {key}"
            else:
                torch.testing.assert_close(y[key], x[key], rtol=rtol, atol=1e-7, msg=f"{rel} {key}")
            compared += 1
    return compared


def run_files(run: Path) -> list[str]:
    return sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_env() -> dict[str, str]:
    """Environment of a torchrun child: this package importable, one thread per process."""
    return trainer_env(OMP_NUM_THREADS="1")


def torchrun(args: list[str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`python -m torch.distributed.run ARGS` (an argument array), output captured."""
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", *args],
        env=worker_env(),
        cwd=TRAINER,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def manifest(run: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run / "run.json").read_text())
    return data
