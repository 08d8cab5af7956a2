"""The loop the sft / rm / ppo trainers share (stages/loop.py): cadence of checkpoints, order of
events, the stop request, resume, and rank-0 saving; and the typed config sections the trainers
read (config/sections.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fact_rlhf.config import load_config
from fact_rlhf.config.schema import load_schema
from fact_rlhf.distributed import Group, Placement
from fact_rlhf.errors import UsageError
from fact_rlhf.ppo.hyper import PPOHyper
from fact_rlhf.ppo.trainer import total_iterations
from fact_rlhf.rm.hyper import RewardHyper
from fact_rlhf.rundir import RunDirectory
from fact_rlhf.sft.trainer import Hyper
from fact_rlhf.stages.loop import Loop, Stage, Values, rank0_save
from run_helpers import read_events, write_config


class Counting(Stage):
    """A stage whose step is a number and whose checkpoint is a file holding it."""

    def __init__(self, run: RunDirectory, evaluates: bool = False) -> None:
        self.run, self.evaluates = run, evaluates
        self.calls: list[str] = []
        self.loop: Loop | None = None

    def train_step(self, position: int) -> Values:
        self.calls.append(f"step {position}")
        return {"toy/value": float(position)}

    def evaluate(self) -> Values:
        self.calls.append("evaluate")
        return {"toy/eval": 1.0} if self.evaluates else {}

    def save(self) -> Path | None:
        assert self.loop is not None
        folder = self.run.path / "checkpoints" / f"step-{self.loop.position}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "value.txt").write_text(str(self.loop.position))
        self.calls.append(f"save {self.loop.position}")
        return folder

    def after_metric(self, values: Values) -> None:
        self.calls.append("after_metric")

    def line(self, values: Values, seconds: float) -> str:
        return f"[toy] {values['toy/value']}"


def single() -> Group:
    return Group(Placement(), torch.device("cpu"))


def loop_for(
    tmp_path: Path, total: int, every: int, stop_after: int | None = None, save_then_log: bool = False, evaluates: bool = False
) -> tuple[Loop, Counting, RunDirectory]:
    run = RunDirectory(tmp_path / "run", "sft")
    checks = {"n": 0}

    def should_stop() -> bool:
        checks["n"] += 1
        return stop_after is not None and checks["n"] > stop_after

    loop = Loop(run, single(), total, every, should_stop, save_then_log=save_then_log)
    stage = Counting(run, evaluates)
    stage.loop = loop
    return loop, stage, run


def kinds(run: RunDirectory) -> list[tuple[str, int]]:
    return [(e["type"], e["step"]) for e in read_events(run.path) if e["type"] in ("metric", "progress", "checkpoint")]


def test_checkpoints_every_n_steps_and_at_the_last_after_the_step_is_reported(tmp_path: Path) -> None:
    loop, stage, run = loop_for(tmp_path, total=5, every=2)
    status, history = loop.train(stage, saved=False)
    assert status == "finished" and loop.position == 5
    assert [h["toy/value"] for h in history] == [0.0, 1.0, 2.0, 3.0, 4.0]  # step k trains batch k-1
    assert [c for c in stage.calls if c.startswith("save")] == ["save 2", "save 4", "save 5"]
    assert kinds(run)[:7] == [
        ("metric", 1),
        ("progress", 1),
        ("metric", 2),
        ("progress", 2),
        ("checkpoint", 2),
        ("metric", 3),
        ("progress", 3),
    ]
    assert kinds(run)[-3:] == [("metric", 5), ("progress", 5), ("checkpoint", 5)]
    # The stage's hook runs after the metric event, the evaluation only at checkpoint points.
    assert stage.calls[:4] == ["step 0", "after_metric", "step 1", "evaluate"]
    run.close()


def test_save_then_log_writes_the_checkpoint_before_the_metric_that_reports_its_evaluation(tmp_path: Path) -> None:
    loop, stage, run = loop_for(tmp_path, total=3, every=2, save_then_log=True, evaluates=True)
    loop.train(stage, saved=False)
    events = [e for e in read_events(run.path) if e["type"] in ("metric", "checkpoint")]
    assert [(e["type"], e["step"]) for e in events] == [("metric", 1), ("checkpoint", 2), ("metric", 2), ("checkpoint", 3), ("metric", 3)]
    assert "toy/eval" not in events[0]["values"] and events[2]["values"]["toy/eval"] == 1.0
    run.close()


def test_a_stop_request_ends_the_loop_with_a_checkpoint_of_where_it_stopped(tmp_path: Path) -> None:
    loop, stage, run = loop_for(tmp_path, total=10, every=4, stop_after=3)
    status, history = loop.train(stage, saved=False)
    assert (status, loop.position, len(history)) == ("stopped", 3, 3)
    assert [c for c in stage.calls if c.startswith("save")] == ["save 3"]
    assert kinds(run)[-1] == ("checkpoint", 3)
    run.close()


def test_a_resumed_loop_continues_from_its_position_and_a_saved_position_is_not_saved_again(tmp_path: Path) -> None:
    loop, stage, run = loop_for(tmp_path, total=4, every=10, stop_after=0)
    loop.position = 2
    assert loop.train(stage, saved=True) == ("stopped", [])
    assert stage.calls == []  # stopped before a step: step-2 is already on disk
    run.close()  # one RunDirectory at a time holds a run's lock
    loop, stage, run = loop_for(tmp_path, total=4, every=10)
    loop.position = 2
    status, history = loop.train(stage, saved=True)
    assert status == "finished" and [h["toy/value"] for h in history] == [2.0, 3.0]
    assert stage.calls[-1] == "save 4"
    run.close()


def test_eta_is_the_recent_pace_times_the_steps_left(tmp_path: Path) -> None:
    loop, _, run = loop_for(tmp_path, total=20, every=5)
    loop.seconds = [100.0] + [1.0] * 10  # only the last 10 steps count
    loop.position = 12
    assert loop.eta() == pytest.approx(8.0)
    run.close()


def test_rank0_save_gathers_on_the_ranks_that_take_part_and_writes_on_rank_0() -> None:
    calls: list[str] = []

    def gather(keep: bool) -> str:
        calls.append(f"gather keep={keep}")
        return "tensors"

    def write(parts: str) -> Path:
        calls.append(f"write {parts}")
        return Path("step-1")

    assert rank0_save(single(), gather, write) == Path("step-1")
    assert calls == ["gather keep=True", "write tensors"]
    other = Group(Placement(rank=1, world_size=2), torch.device("cpu"))
    calls.clear()
    assert rank0_save(other, gather, write) is None and calls == []  # DDP: rank 0 holds everything
    other.lockstep = True  # sharded: gathering is collective, every rank takes part
    assert rank0_save(other, gather, write) is None and calls == ["gather keep=False"]


# --- typed config sections ----------------------------------------------------------------------
def test_the_typed_sections_carry_the_schema_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, overrides={"ppo": {"max_iterations": 3}})).data
    ppo, rm = PPOHyper.from_config(config["ppo"]), RewardHyper.from_config(config["reward_model"])
    defs = load_schema("experiment.schema.json")

    def default(section: str, key: str) -> object:
        node = defs["properties"][section]
        if "$ref" in node:
            node = defs["$defs"][node["$ref"].split("/")[-1]]
        return node["properties"][key].get("default")

    # Keys the tiny config does not set keep the schema's default, with the field's type.
    assert ppo.kl_estimator == default("ppo", "kl_estimator") and ppo.gamma == default("ppo", "gamma")
    assert isinstance(ppo.gamma, float) and isinstance(ppo.rollout_batch_size, int)
    assert rm.warmup_ratio == default("reward_model", "warmup_ratio")
    assert rm.learning_rate == config["reward_model"]["learning_rate"]  # and set keys their value
    assert ppo.max_iterations == 3 and ppo.truncate_at is None
    assert total_iterations(ppo, 1000) == 3
    assert Hyper.from_config(config["sft"]).save_every == default("sft", "save_every")


def test_the_typed_sections_say_which_key_is_wrong() -> None:
    good = {
        "fact_augmentation": True,
        "epochs": 1,
        "learning_rate": 1e-3,
        "batch_size": 8,
        "per_device_batch_size": 4,
        "warmup_ratio": 0.0,
        "grad_clip": 1.0,
        "eval_every": 2,
        "held_out": 4,
        "centering_coef": 0.0,
    }
    assert RewardHyper.from_config(good).epochs == 1.0
    assert RewardHyper.from_config({**good, "batch_size": 8.0}).batch_size == 8  # JSON Schema's integer
    with pytest.raises(UsageError, match=r"reward_model\.held_out is missing"):
        RewardHyper.from_config({k: v for k, v in good.items() if k != "held_out"})
    with pytest.raises(UsageError, match=r"reward_model\.batch_size must be an integer, got 8\.5"):
        RewardHyper.from_config({**good, "batch_size": 8.5})
    with pytest.raises(UsageError, match=r"reward_model\.epochs must be a number, got True"):
        RewardHyper.from_config({**good, "epochs": True})
    with pytest.raises(UsageError, match=r"reward_model\.fact_augmentation must be true or false, got 1"):
        RewardHyper.from_config({**good, "fact_augmentation": 1})
    with pytest.raises(UsageError, match=r"sft\.epochs must be a number, got '2'"):
        Hyper.from_config({"epochs": "2"}, "sft")


def test_a_literal_field_names_its_choices(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path)).data
    with pytest.raises(UsageError, match=r"ppo\.kl_estimator must be one of 'k1', 'k3', got 'k2'"):
        PPOHyper.from_config({**config["ppo"], "kl_estimator": "k2"})
