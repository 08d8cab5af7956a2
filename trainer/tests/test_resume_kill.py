"""Resume after `kill -9`: the run dies with no warning several iterations past its last
checkpoint (events.jsonl has lines after it, the last one torn); `--resume` continues from the
checkpoint and every later iteration equals an uninterrupted run's."""

from __future__ import annotations

import json
import random
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from fact_rlhf.checkpoint import restore_rng, rng_tensors
from fact_rlhf.cli import main
from run_helpers import (
    assert_events_valid,
    events_with_corrupt,
    read_events,
    start_trainer,
    statuses,
    wait_for_event,
    write_config,
    is_step_progress,
)

# Adaptive KL: the controller's coefficient is state the checkpoint must carry.
RUN = {
    "data": {"num_images": 8},
    "ppo": {"max_iterations": 6, "save_every": 2, "reward_warmup_steps": 2, "kl_controller": "adaptive", "target_kl": 0.5},
}
TORN = '{"v":1,"t":17000,"type":"metr'  # what a writer killed mid-line leaves behind


def metrics(events: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    return [(e["step"], e["values"]) for e in events if e["type"] == "metric" and e["step"] > 0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reference")
    assert main(["ppo", "--config", str(write_config(folder, overrides=RUN)), "--run-dir", str(folder / "run")]) == 0
    return folder / "run"


def test_resume_after_kill_9_reproduces_the_uninterrupted_run(reference: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path, overrides=RUN)
    run = tmp_path / "run"
    proc = start_trainer("ppo", config, run, subprocess.DEVNULL)
    try:
        # Kill as soon as iteration 3 is reported: the last checkpoint (step 2) is behind it.
        wait_for_event(proc, run, lambda e: is_step_progress(e) and e["step"] >= 3, timeout=150, poll=0.02)
        proc.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, stderr
    with open(run / "events.jsonl", "a", encoding="utf-8") as f:
        f.write(TORN)

    events, corrupt = events_with_corrupt(run)
    killed_at = max(e["step"] for e in events if is_step_progress(e))
    latest = int((run / "checkpoints" / "latest").read_text().strip().split("-")[1])
    assert statuses(events) == ["starting", "running"]  # no goodbye: it was killed
    assert 2 <= latest < killed_at < 6, (latest, killed_at)
    assert [s for s, _ in metrics(events)] == list(range(1, killed_at + 1))  # lines past the checkpoint
    checkpoint = run / "checkpoints" / f"step-{latest}"
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    assert state["iteration"] == state["scheduler_position"] == latest
    assert state["data_position"] == latest * 16
    assert {"rng.safetensors", "optimizer.safetensors", "heads.safetensors", "policy", "value", "reward"} <= {
        p.name for p in checkpoint.iterdir()
    }
    assert {"python.words", "torch.cpu"} <= set(load_file(str(checkpoint / "rng.safetensors")))

    assert main(["ppo", "--config", str(config), "--run-dir", str(run), "--resume"]) == 0

    events, corrupt = events_with_corrupt(run)
    assert corrupt == [TORN]  # ended by a newline, not glued to the next event
    assert_events_valid(events)
    assert statuses(events) == ["starting", "running", "starting", "running", "finished"]
    resumed = next(i for i, e in enumerate(events) if e["type"] == "log" and e["message"].startswith(f"resumed from step {latest} "))
    before, after = metrics(events[:resumed]), metrics(events[resumed:])
    assert [s for s, _ in before] == list(range(1, killed_at + 1))
    assert [s for s, _ in after] == list(range(latest + 1, 7))  # continues right after the checkpoint
    assert [e["step"] for e in events[resumed:] if is_step_progress(e)] == list(range(latest + 1, 7))

    expected = dict(metrics(read_events(reference)))
    assert len(expected) == 6
    kl_coefs = [expected[s]["ppo/kl_coef"] for s in range(1, 7)]
    assert len(set(kl_coefs)) == 6  # the adaptive coefficient moved every iteration
    for step, values in [*before, *after]:  # the killed iterations and the resumed ones
        for key, value in expected[step].items():
            if key.startswith(("time/", "perf/")) or value is None:
                continue
            assert values[key] == pytest.approx(value, rel=1e-5, abs=1e-7), (step, key)
    for rel in ("policy/adapter_model.safetensors", "value/adapter_model.safetensors", "heads.safetensors"):
        x, y = load_file(str(reference / "checkpoints/step-6" / rel)), load_file(str(run / "checkpoints/step-6" / rel))
        for key in x:
            torch.testing.assert_close(y[key], x[key], rtol=1e-5, atol=1e-7, msg=f"{rel} {key}")


def test_rng_states_round_trip() -> None:
    import numpy as np

    random.seed(3)
    np.random.seed(4)
    torch.manual_seed(5)
    saved = rng_tensors()
    assert {"python.words", "python.meta", "torch.cpu", "numpy.keys", "numpy.meta"} <= set(saved)
    first = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    random.seed(99)
    np.random.seed(99)
    torch.manual_seed(99)
    restore_rng(saved)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == first
