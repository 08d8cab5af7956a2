"""The trainer's faults from the audit (issue 16), each shown by the run directory a real trainer
leaves: one writer per run, stops honoured inside an iteration and a heartbeat while saving,
a resume that neither forgets nor silently changes its config, checkpoints that survive a kill
between two renames or a torn file, a warm-up that is redone, a diverged run that fails, an
events file that cannot swallow events, and configs that cannot hang, crash or leak."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

from fact_rlhf.cli import main
from fact_rlhf.config import load_config
from fact_rlhf.errors import ConfigError, UsageError
from fact_rlhf.rundir import EventLog, RunDirectory
from fact_rlhf.stages.checkpoints import write_checkpoint
from fact_rlhf.stages.loop import Loop
from run_helpers import (
    TINY_PPO,
    assert_events_valid,
    read_events,
    schema_validator,
    start_trainer,
    statuses,
    trainer_env,
    valid_events,
    wait_for_event,
    write_config,
)
from test_loop import Counting, single

RUN = {"data": {"num_images": 8}, "ppo": {"max_iterations": 4, "save_every": 2, "reward_warmup_steps": 2}}


def metric_values(events: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """PPO iterations' metrics by step (the last one written for a step wins, as readers do)."""
    return {e["step"]: e["values"] for e in events if e["type"] == "metric" and e["step"] > 0}


def same_metrics(a: dict[str, Any], b: dict[str, Any]) -> bool:
    skip = ("time/", "perf/")  # wall-clock figures differ between any two runs
    keys = [k for k in a if not k.startswith(skip)]
    return all(a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-6) if a[k] is not None else b[k] is None for k in keys)


def logs(events: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in events if e["type"] == "log"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 4-iteration PPO run with checkpoints at steps 2 and 4."""
    folder = tmp_path_factory.mktemp("finished")
    assert main(["ppo", "--config", str(write_config(folder, overrides=RUN)), "--run-dir", str(folder / "run")]) == 0
    return folder / "run"


def copy_run(finished: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the finished run in `tmp_path`, and the run's own config file (a config in
    another folder resolves its paths elsewhere: that is a changed config)."""
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    (run / ".lock").unlink(missing_ok=True)
    return run, finished.parent / "exp.rlhf.yaml"


# --- High 6: one trainer per run directory --------------------------------------------------------
HOLDER = """
import sys, time
from pathlib import Path
from fact_rlhf.rundir import RunDirectory
run = RunDirectory(Path(sys.argv[1]), "ppo")
run.write_manifest({}, "h", None, "cpu")
print("holding", flush=True)
time.sleep(120)
"""


def test_a_second_trainer_on_a_run_directory_is_refused_naming_the_holder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run)], env=trainer_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        events_before = (run / "events.jsonl").read_bytes()
        manifest_before = (run / "run.json").read_bytes()
        config = write_config(tmp_path)
        assert main(["ppo", "--config", str(config), "--run-dir", str(run), "--resume"]) == 2
        err = capsys.readouterr().err
        assert "in use by another trainer" in err and f"pid {holder.pid}" in err and "host " in err and "started " in err, err
        assert (run / "events.jsonl").read_bytes() == events_before  # the refused one wrote nothing
        assert (run / "run.json").read_bytes() == manifest_before
        with pytest.raises(UsageError, match=f"pid {holder.pid}"):
            RunDirectory(run, "ppo")
    finally:
        holder.send_signal(signal.SIGKILL)  # the OS drops the lock with the process
        holder.wait(timeout=30)
    RunDirectory(run, "ppo").close()  # free again after kill -9


# --- High 5: a heartbeat while saving, a stop inside an iteration --------------------------------
class SlowSave(Counting):
    def save(self) -> Path | None:
        time.sleep(1.0)  # a large model's checkpoint
        return super().save()


def test_a_long_checkpoint_save_sends_heartbeats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACT_RLHF_HEARTBEAT_S", "0.2")
    run = RunDirectory(tmp_path / "run", "sft")
    loop = Loop(run, single(), 2, 2, lambda: False)
    stage = SlowSave(run)
    stage.loop = loop
    loop.train(stage, saved=False)
    run.close()
    events = read_events(run.path)
    last_progress = max(i for i, e in enumerate(events) if e["type"] == "progress")
    checkpoint = next(i for i, e in enumerate(events) if e["type"] == "checkpoint")
    beats = [e for e in events[last_progress:checkpoint] if e["type"] == "log" and "still working" in e["message"]]
    assert len(beats) >= 3, events
    assert "saving the checkpoint of step 2" in beats[0]["message"]


def test_a_stop_during_a_rollout_ends_the_iteration_before_its_update_and_resumes_exactly(
    finished: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fact_rlhf.ppo.trainer as ppo_trainer

    real_collect, calls = ppo_trainer.collect, {"n": 0}

    def collect_then_sigterm(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # SIGTERM arrives while iteration 2 is generating
            os.kill(os.getpid(), signal.SIGTERM)
        return real_collect(*args, **kwargs)

    monkeypatch.setattr(ppo_trainer, "collect", collect_then_sigterm)
    config = write_config(tmp_path, overrides=RUN)
    run = tmp_path / "run"
    assert main(["ppo", "--config", str(config), "--run-dir", str(run)]) == 0
    events = valid_events(run)
    assert statuses(events)[-1] == "stopped"
    assert sorted(metric_values(events)) == [1]  # iteration 2 never reached its update
    assert any("stop requested during step 2 (before scoring)" in m for m in logs(events)), logs(events)
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-1"

    monkeypatch.setattr(ppo_trainer, "collect", real_collect)
    assert main(["ppo", "--config", str(config), "--run-dir", str(run), "--resume"]) == 0
    resumed, reference = metric_values(valid_events(run)), metric_values(read_events(finished))
    assert sorted(resumed) == [1, 2, 3, 4]
    assert all(same_metrics(reference[s], resumed[s]) for s in (2, 3, 4))


# --- Medium 7: a resume with another config -------------------------------------------------------
def test_a_resume_with_a_changed_config_is_refused_unless_allowed_and_keeps_the_history(
    finished: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, _ = copy_run(finished, tmp_path)
    manifest_before = (run / "run.json").read_bytes()
    changed = write_config(tmp_path, "changed.rlhf.yaml", overrides={**RUN, "seed": 7, "ppo": {**RUN["ppo"], "learning_rate": 0.5}})
    assert main(["ppo", "--config", str(changed), "--run-dir", str(run), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "seed: 0 → 7" in err and "ppo.learning_rate: 0.01 → 0.5" in err and "--allow-config-change" in err, err
    assert (run / "run.json").read_bytes() == manifest_before  # the finished run still reads finished
    assert statuses(valid_events(run))[-1] == "failed"  # the refused launch's own status, in the events only

    # Allowed, but the checkpoint cannot load (another LoRA rank): run.json is still untouched.
    rank = write_config(tmp_path, "rank.rlhf.yaml", overrides={**RUN, "model": {"lora": {"r": 4, "alpha": 16}}})
    assert main(["ppo", "--config", str(rank), "--run-dir", str(run), "--resume", "--allow-config-change"]) == 1
    assert (run / "run.json").read_bytes() == manifest_before

    more = write_config(tmp_path, "more.rlhf.yaml", overrides={**RUN, "seed": 7, "ppo": {**RUN["ppo"], "max_iterations": 5}})
    assert main(["ppo", "--config", str(more), "--run-dir", str(run), "--resume", "--allow-config-change"]) == 0
    manifest = json.loads((run / "run.json").read_text())
    assert not list(schema_validator("run-manifest.schema.json").iter_errors(manifest))
    original = json.loads(manifest_before)
    assert manifest["status"] == "finished" and manifest["config"]["seed"] == 7
    assert [h["config_hash"] for h in manifest["config_history"]] == [original["config_hash"]]
    assert manifest["config_history"][0]["config"] == original["config"]
    assert 5 in metric_values(valid_events(run))


# --- Medium 8: checkpoints that survive a kill and a torn file -------------------------------------
def test_resume_falls_back_when_latest_names_a_missing_folder(finished: Path, tmp_path: Path) -> None:
    run, config = copy_run(finished, tmp_path)
    shutil.rmtree(run / "checkpoints" / "step-4")  # killed between moving step-4 away and renaming the new one in
    assert main(["ppo", "--config", str(config), "--run-dir", str(run), "--resume"]) == 0
    events = valid_events(run)
    assert any("checkpoint step-4 is missing; resuming from step-2" in m for m in logs(events)), logs(events)
    resumed = events[max(i for i, e in enumerate(events) if e["type"] == "status" and e["status"] == "starting") :]
    reference = metric_values(read_events(finished))
    assert sorted(metric_values(resumed)) == [3, 4]
    assert all(same_metrics(reference[s], metric_values(resumed)[s]) for s in (3, 4))
    assert (run / "checkpoints" / "latest").read_text().strip() == "step-4"


def test_resume_falls_back_past_a_zero_length_weights_file(finished: Path, tmp_path: Path) -> None:
    run, config = copy_run(finished, tmp_path)
    (run / "checkpoints" / "step-4" / "policy" / "adapter_model.safetensors").write_bytes(b"")
    assert main(["ppo", "--config", str(config), "--run-dir", str(run), "--resume"]) == 0
    events = valid_events(run)
    assert any("policy/adapter_model.safetensors: empty file; resuming from step-2" in m for m in logs(events)), logs(events)
    assert statuses(events)[-1] == "finished"


def test_a_kill_between_the_renames_of_a_re_save_leaves_a_resumable_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoints = tmp_path / "checkpoints"

    def fill(value: float) -> Any:
        def write(folder: Path) -> None:
            save_file({"w": torch.full((2,), value)}, str(folder / "weights.safetensors"))
            (folder / "trainer_state.json").write_text(json.dumps({"step": 3}))

        return write

    write_checkpoint(checkpoints, "step-3", fill(1.0), make_latest=True)
    import fact_rlhf.checkpoint as checkpoint_module

    real_replace, seen = os.replace, []

    def replace_then_die(src: Any, dst: Any) -> None:
        seen.append(Path(dst).name)
        if Path(dst).name == "step-3" and Path(src).name.startswith(".tmp-"):
            raise KeyboardInterrupt("killed between the renames")  # what kill -9 would leave
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        write_checkpoint(checkpoints, "step-3", fill(2.0), make_latest=True)
    monkeypatch.setattr(os, "replace", real_replace)
    folder = checkpoint_module.latest_checkpoint(checkpoints)
    assert folder is not None and load_file(str(folder / "weights.safetensors"))["w"].tolist() == [1.0, 1.0]
    notes: list[str] = []
    checkpoint_module.latest_checkpoint(checkpoints, report=notes.append)  # and a resume says so
    assert notes and "step-3 is missing" in notes[0]


# --- Medium 9: a stop during the reward-model warm-up ----------------------------------------------
def test_a_stop_during_the_reward_warm_up_redoes_it_on_resume(tmp_path: Path) -> None:
    over = {**RUN, "ppo": {**RUN["ppo"], "reward_warmup_steps": 400, "max_iterations": 1}}
    config, run = write_config(tmp_path, overrides=over), tmp_path / "run"
    proc = start_trainer("ppo", config, run, subprocess.DEVNULL)
    try:
        wait_for_event(
            proc, run, lambda e: e["type"] == "log" and e["message"].startswith("reward model warm-up: 400 steps"), timeout=150, poll=0.02
        )
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    first = read_events(run)
    warm = [e["values"]["rm/steps"] for e in first if e["type"] == "metric" and "rm/steps" in e["values"]]
    assert statuses(first)[-1] == "stopped" and warm and warm[0] < 400, (statuses(first), warm)

    assert main(["ppo", "--config", str(config), "--run-dir", str(run), "--resume"]) == 0
    events = valid_events(run)
    second = events[len(first) :]
    assert any("warm-up was stopped at step" in m and "redoing it" in m for m in logs(second)), logs(second)
    assert [e["values"]["rm/steps"] for e in second if e["type"] == "metric" and "rm/steps" in e["values"]] == [400.0]
    assert sorted(metric_values(second)) == [1] and statuses(second)[-1] == "finished"


# --- second pass: a diverged run ------------------------------------------------------------------
def test_a_diverged_run_fails_and_latest_never_names_non_finite_weights(tmp_path: Path) -> None:
    over = {**RUN, "ppo": {**RUN["ppo"], "learning_rate": 1e6, "max_iterations": 4, "save_every": 1}}
    config, run = write_config(tmp_path, overrides=over), tmp_path / "run"
    assert main(["ppo", "--config", str(config), "--run-dir", str(run)]) == 1
    events = valid_events(run)
    assert statuses(events)[-1] == "failed" and "diverged" in events[-1]["error"], events[-1]
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    latest = run / "checkpoints" / "latest"
    if latest.is_file():
        folder = run / "checkpoints" / latest.read_text().strip()
        for path in folder.rglob("*.safetensors"):
            assert all(bool(torch.isfinite(t).all()) for t in load_file(str(path)).values() if t.is_floating_point()), path


# --- second pass: a deleted or renamed events.jsonl -----------------------------------------------
def test_an_events_file_moved_away_is_noticed_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.emit("log", level="info", message="one")
    os.replace(path, tmp_path / "moved.jsonl")  # renamed while the trainer writes it
    log.emit("status", status="finished")
    assert [e.get("message") for e in read_events_file(tmp_path / "moved.jsonl")] == ["one"]
    events = assert_events_valid(read_events(tmp_path))
    assert [e["type"] for e in events] == ["log", "status"] and events[1]["status"] == "finished"
    assert events[0]["level"] == "error" and "deleted or replaced" in events[0]["message"] and "1 earlier events" in events[0]["message"]
    path.unlink()  # deleted
    log.emit("log", level="info", message="after delete")
    log.close()
    events = assert_events_valid(read_events(tmp_path))
    assert [e["level"] for e in events] == ["error", "info"] and "2 earlier events" in events[0]["message"]


def read_events_file(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# --- configs that hang, crash or leak -------------------------------------------------------------
def alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "version: 1\n" + "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_at_once_naming_file_and_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.rlhf.yaml"
    bomb.write_text(alias_bomb(8), encoding="utf-8")
    assert len(bomb.read_bytes()) < 2600
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_config(bomb)
    assert time.perf_counter() - start < 2.0
    assert "bomb.rlhf.yaml:5: YAML: aliases expand beyond 100 references" in str(info.value)


def test_a_10000_level_config_is_a_config_error_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.rlhf.yaml"
    deep.write_text("version: 1\nx: " + "[" * 10000 + "]" * 10000 + "\n", encoding="utf-8")
    assert main(["ppo", "--config", str(deep), "--run-dir", str(tmp_path / "run")]) == 2
    assert "deep.rlhf.yaml:2: YAML: nested deeper than 64 levels" in capsys.readouterr().err


def test_an_environment_value_in_a_path_never_reaches_errors_events_or_run_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-live-0123456789abcdef"
    monkeypatch.setenv("FACT_SECRET_TOKEN", secret)
    config = write_config(tmp_path, base={**TINY_PPO, "data": {"ppo_prompts": "${FACT_SECRET_TOKEN}/prompts.json"}})
    run = tmp_path / "run"
    assert main(["ppo", "--config", str(config), "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert secret not in err and "${FACT_SECRET_TOKEN}/prompts.json" in err, err
    assert secret not in (run / "events.jsonl").read_text() and secret not in (run / "run.json").read_text()
    manifest = json.loads((run / "run.json").read_text())
    assert not list(schema_validator("run-manifest.schema.json").iter_errors(manifest))
    assert manifest["config_given_paths"] == {"data.ppo_prompts": "${FACT_SECRET_TOKEN}/prompts.json"}
    assert manifest["config"]["data"]["ppo_prompts"].endswith("${FACT_SECRET_TOKEN}/prompts.json")


def test_a_run_directory_name_that_is_not_utf8_is_refused_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    run = os.fsdecode(os.fsencode(tmp_path) + b"/run-\xff\xfe")
    assert main(["ppo", "--config", str(config), "--run-dir", run]) == 2
    err = capsys.readouterr().err
    assert "--run-dir" in err and "is not valid UTF-8" in err, err
    assert not os.path.exists(run)


def test_a_checkpoint_is_fsynced_before_it_is_renamed_in_and_before_latest_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Medium 8: write, fsync (files, then folders), rename, fsync the parent, then point `latest`."""
    from fact_rlhf import checkpoint as ckpt

    log: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        log.append("fsync " + os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: "str | os.PathLike[str]", dst: "str | os.PathLike[str]") -> None:
        log.append(f"replace {os.path.basename(src)} -> {os.path.basename(dst)}")
        real_replace(src, dst)

    monkeypatch.setattr(ckpt.os, "fsync", fsync)
    monkeypatch.setattr(ckpt.os, "replace", replace)
    checkpoints = tmp_path / "checkpoints"

    def fill(folder: Path) -> None:
        (folder / "weights.safetensors").write_bytes(b"x" * 16)

    final = ckpt.commit_folder(checkpoints, "step-3", fill)
    ckpt.point_latest(checkpoints, final)
    rename = log.index("replace .tmp-step-3 -> step-3")
    assert log.index("fsync weights.safetensors") < rename, log
    assert log.index("fsync .tmp-step-3") < rename, log
    assert log.index("fsync checkpoints") > rename, log  # the rename itself is on disk
    pointer = log.index("replace latest.tmp -> latest")
    assert log.index("fsync latest.tmp") < pointer, log
    assert pointer > rename and log[-1] == "fsync checkpoints", log
    assert (checkpoints / "latest").read_text().strip() == "step-3"
