"""Tiny configs and cached runs for the sft / rm / rl_init stage tests (one process runs each
tiny stage once; the test modules share the runs through this module's cache)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fact_rlhf.cli import main
from fact_rlhf.rundir import RunDirectory
from fact_rlhf.signals import StopRequest
from run_helpers import TINY_PPO, merge, read_events, write_config

TINY_STAGES: dict[str, Any] = merge(
    TINY_PPO,
    {
        "name": "test-stages",
        "data": {"builtin": "shapes", "num_images": 8},
        "sft": {
            "epochs": 8,
            "learning_rate": 3e-3,
            "batch_size": 8,
            "per_device_batch_size": 4,
            "max_length": 512,
            "warmup_ratio": 0.1,
            "save_every": 1000,
        },
        "reward_model": {
            "epochs": 3,
            "learning_rate": 2e-3,
            "batch_size": 8,
            "per_device_batch_size": 8,
            "held_out": 8,
            "eval_every": 2,
            "grad_clip": 1.0,
            "centering_coef": 0.01,
        },
        "rl_init": {"epochs": 1, "learning_rate": 1e-2, "batch_size": 8, "per_device_batch_size": 8, "save_every": 1000},
        "ppo": {
            "max_iterations": 2,
            "rollout_batch_size": 8,
            "rollout_per_device_batch_size": 8,
            "step_batch_size": 8,
            "step_per_device_batch_size": 8,
            "samples_per_step": 2,
            "save_every": 10,
        },
    },
)

_RUNS: dict[str, Path] = {}


def stage_config(folder: Path, overrides: dict[str, Any] | None = None, name: str = "exp.rlhf.yaml") -> Path:
    return write_config(folder, name=name, overrides=overrides, base=TINY_STAGES)


def cached_run(factory: pytest.TempPathFactory, key: str, stage: str, overrides: dict[str, Any] | None = None) -> Path:
    """Runs `stage` once per test session under `key`; later calls return the same run."""
    if key not in _RUNS:
        folder = factory.mktemp(key)
        config = stage_config(folder, overrides)
        assert main([stage, "--config", str(config), "--run-dir", str(folder / "run")]) == 0
        _RUNS[key] = folder / "run"
    return _RUNS[key]


def metrics(run: Path) -> dict[int, dict[str, Any]]:
    return {e["step"]: e["values"] for e in read_events(run) if e["type"] == "metric"}


class StopAfter(StopRequest):
    """Asks the stage to stop once its loop has checked `n` times (as SIGTERM would, in-process)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n, self.calls = n, 0

    def check(self):  # type: ignore[no-untyped-def]
        def should_stop() -> bool:
            self.calls += 1
            if self.calls > self.n:
                self.request("test-stop")
            return bool(self)

        return should_stop


def run_stopped(stage: str, runner: Any, config_path: Path, run_dir: Path, stop_after: int) -> str:
    """The stage's runner in a run directory as the CLI would set it up, stopped early."""
    from fact_rlhf.config import load_config

    config = load_config(config_path)
    run = RunDirectory(run_dir, stage)
    run.write_manifest(config.data, config.hash(), config.path, "cpu")
    run.status("starting")
    status: str = runner(config.data, run, "cpu", False, StopAfter(stop_after))
    run.status(status)
    run.close()
    return status
