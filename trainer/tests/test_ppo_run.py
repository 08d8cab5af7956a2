"""End to end: a tiny PPO run on the built-in world writes a run directory the editor can trust
(every line schema-valid), the reward rises, and SIGTERM stops it cleanly at a checkpoint from
which --resume continues."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fact_rlhf.cli import main
from run_helpers import (
    read_events,
    schema_validator,
    slope,
    start_trainer,
    statuses,
    uncatalogued,
    valid_events,
    wait_for_event,
    write_config,
    is_step_progress,
)

REQUIRED_METRICS = {
    "ppo/reward_total",
    "ppo/kl_sum",
    "ppo/kl_mean",
    "ppo/kl_coef",
    "ppo/score_rm",
    "ppo/score_eos_penalty",
    "ppo/score_length",
    "ppo/score_symbolic",
    "ppo/entropy",
    "ppo/approx_kl",
    "ppo/clipfrac",
    "ppo/vf_clipfrac",
    "ppo/policy_loss",
    "ppo/value_loss",
    "ppo/response_length",
    "ppo/eos_rate",
    "ppo/learning_rate",
    "time/generation",
    "time/scoring",
    "time/optimization",
    "perf/tokens_per_s",
}


def assert_valid_run(run: Path) -> list[dict[str, Any]]:
    """Every event line, sample record and the manifest validate against the shared schemas."""
    sample_schema = schema_validator("sample-record.schema.json")
    events = valid_events(run)
    for e in events:
        if e["type"] == "sample":
            lines = (run / e["path"]).read_text(encoding="utf-8").splitlines()
            assert len(lines) == e["count"] > 0
            for line in lines:
                record = json.loads(line)
                assert not list(sample_schema.iter_errors(record)), record
                assert record["step"] == e["step"]
                assert (run / record["image"]).is_file()
                r = record["reward"]
                assert r["total"] == pytest.approx(r["rm"] + r["eos_penalty"] + r["length"] + r["symbolic"] + r["kl"])
                assert "<image>" not in record["response"]
    manifest = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert not list(schema_validator("run-manifest.schema.json").iter_errors(manifest))
    return events


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ppo")
    config = write_config(folder)
    assert main(["ppo", "--config", str(config), "--run-dir", str(folder / "run")]) == 0
    return folder / "run"


def test_run_directory_is_schema_valid_and_complete(finished_run: Path) -> None:
    events = assert_valid_run(finished_run)
    assert statuses(events) == ["starting", "running", "finished"]
    metrics = [e for e in events if e["type"] == "metric" and e["step"] > 0]
    assert [m["step"] for m in metrics] == list(range(1, 13))
    for m in metrics:
        assert REQUIRED_METRICS <= set(m["values"]), REQUIRED_METRICS - set(m["values"])
        v = m["values"]
        parts = v["ppo/score_rm"] + v["ppo/score_eos_penalty"] + v["ppo/score_length"] + v["ppo/score_symbolic"]
        assert v["ppo/reward_total"] == pytest.approx(parts, abs=1e-5)
    # The last metric comes before the final status.
    last_metric = max(i for i, e in enumerate(events) if e["type"] == "metric")
    assert last_metric < len(events) - 1 and events[-1]["status"] == "finished"
    rm = next(e for e in events if e["type"] == "metric" and e["step"] == 0)["values"]
    assert 0.0 <= rm["rm/accuracy"] <= 1.0
    assert [e["step"] for e in events if is_step_progress(e)] == list(range(1, 13))
    assert all(e["total"] == 12 for e in events if is_step_progress(e))
    checkpoints = [(e["step"], e["path"]) for e in events if e["type"] == "checkpoint"]
    assert checkpoints == [(5, "checkpoints/step-5"), (10, "checkpoints/step-10"), (12, "checkpoints/step-12")]
    assert (finished_run / "checkpoints" / "latest").read_text().strip() == "step-12"
    assert (finished_run / "checkpoints" / "step-12" / "policy" / "adapter_model.safetensors").is_file()


def test_phases_before_the_first_iteration(finished_run: Path) -> None:
    """From its first second the run says what it does: setup, data, model, then the reward-model
    warm-up counted step by step, all before the first PPO iteration's progress."""
    events = read_events(finished_run)
    first_step = next(i for i, e in enumerate(events) if is_step_progress(e))
    phases = [(e["phase"], e["step"], e["total"]) for e in events[:first_step] if e["type"] == "progress"]
    assert [p for p, _, _ in phases][:3] == ["setup", "data", "model"], phases
    warmup = [(s, t) for p, s, t in phases if p == "reward_warmup"]
    steps = warmup[-1][1]
    assert warmup == [(i, steps) for i in range(steps + 1)] and steps > 0, warmup
    assert not any("phase" in e for e in events[first_step:] if e["type"] == "progress")
    assert events[1]["type"] == "progress" and events[1]["phase"] == "setup"  # right after `starting`
    assert (finished_run / "tokenizer.json").is_file()
    manifest = json.loads((finished_run / "run.json").read_text())
    assert manifest["status"] == "finished" and manifest["ended"] >= manifest["started"]
    assert manifest["config"]["ppo"]["gamma"] == 1.0  # resolved config, defaults included


def test_reward_rises(finished_run: Path) -> None:
    metrics = [e["values"] for e in read_events(finished_run) if e["type"] == "metric" and e["step"] > 0]
    rewards = [m["ppo/reward_total"] for m in metrics]
    assert slope(rewards) > 0.1, rewards
    assert sum(rewards[-3:]) / 3 > sum(rewards[:3]) / 3 + 2.0, rewards
    # What moved: the policy learnt to end its answers.
    assert metrics[-1]["ppo/eos_rate"] > metrics[0]["ppo/eos_rate"]


def test_sigterm_stops_at_a_checkpoint_and_resume_reproduces_the_run(finished_run: Path, tmp_path: Path) -> None:
    """The same config as `finished_run`, stopped by SIGTERM after its first iteration and resumed:
    every iteration's metrics equal the uninterrupted run's (seeded, deterministic on CPU)."""
    config = write_config(tmp_path)
    run = tmp_path / "run"
    proc = start_trainer("ppo", config, run, subprocess.PIPE)
    try:
        wait_for_event(proc, run, lambda e: is_step_progress(e), timeout=120, poll=0.05)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert stdout == ""  # stdout stays free
    events = assert_valid_run(run)
    assert statuses(events) == ["starting", "running", "stopped"]
    stopped_at = max(e["step"] for e in events if is_step_progress(e))
    assert 1 <= stopped_at < 5  # stopped long before the end, and before the first periodic checkpoint
    assert [e["step"] for e in events if e["type"] == "checkpoint"] == [stopped_at]
    latest = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    assert latest.name == f"step-{stopped_at}"
    assert {p.name for p in latest.iterdir()} >= {
        "policy",
        "value",
        "reward",
        "heads.safetensors",
        "optimizer.safetensors",
        "trainer_state.json",
    }

    assert main(["ppo", "--config", str(config), "--run-dir", str(run), "--resume"]) == 0
    events = assert_valid_run(run)
    assert statuses(events) == ["starting", "running", "stopped", "starting", "running", "finished"]
    assert [e["step"] for e in events if is_step_progress(e)] == list(range(1, 13))
    manifest = json.loads((run / "run.json").read_text())
    assert len(manifest["pids"]) == 2 and manifest["status"] == "finished"

    def by_step(folder: Path) -> dict[int, dict[str, Any]]:
        return {e["step"]: e["values"] for e in read_events(folder) if e["type"] == "metric" and e["step"] > 0}

    resumed, reference = by_step(run), by_step(finished_run)
    assert sorted(resumed) == sorted(reference) == list(range(1, 13))
    for step in reference:
        for key in ("ppo/reward_total", "ppo/kl_sum", "ppo/policy_loss", "ppo/learning_rate"):
            assert resumed[step][key] == pytest.approx(reference[step][key], rel=1e-5, abs=1e-6), (step, key)


def test_a_failure_while_running_is_reported_with_its_error(finished_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "checkpoints" / "step-12" / "trainer_state.json").write_text("{ torn", encoding="utf-8")
    config = Path(json.loads((run / "run.json").read_text())["config_path"])
    assert main(["ppo", "--config", str(config), "--run-dir", str(run), "--resume"]) == 1
    events = assert_valid_run(run)
    assert statuses(events)[-3:] == ["starting", "running", "failed"]
    assert events[-1]["error"].startswith("JSONDecodeError: ")
    assert "in load_checkpoint" in events[-1]["error"]


def test_every_metric_key_is_in_the_metrics_catalogue(finished_run: Path) -> None:
    """schema/metrics.json gives the editor its titles and units: a key the trainer writes
    without an entry there would show untitled."""
    assert not uncatalogued(read_events(finished_run)), "add these keys to schema/metrics.json"
