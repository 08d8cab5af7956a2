"""Multi-process PPO (torchrun, DDP over gloo on CPU): 2 processes equal 1 process at the same
global batch, because every random choice is per sample and the minibatches are world-size
invariant; only rank 0 writes the run directory."""

from __future__ import annotations

import glob
import json
import os
import tempfile
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from fact_rlhf.cli import main
from fact_rlhf.models.stack import ModelStack, SeqBatch, left_pad
from fact_rlhf.models.tiny import build_tiny_llava, image_token_count
from fact_rlhf.ppo.minibatches import minibatch_plan
from fact_rlhf.ppo.sampling import sample, sample_key
from dist_helpers import PPO_RUN, metrics_by_step, reference_ppo_run
from run_helpers import read_events, statuses, valid_events, write_config

TIMING = ("time/", "perf/")
RUN = PPO_RUN  # the 1-process reference run is shared with the FSDP and multi-node tests


def assert_close(a: float | None, b: float | None, what: str) -> None:
    assert (a is None) == (b is None), what
    if a is not None and b is not None:
        assert b == pytest.approx(a, rel=1e-5, abs=1e-7), what


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("dist")
    two = write_config(folder, "two.rlhf.yaml", {**RUN, "launch": {"backend": "torchrun", "processes": 2, "threads": 1}})
    # Started as one plain process: it re-launches itself through torch.distributed.run.
    assert main(["ppo", "--config", str(two), "--run-dir", str(folder / "two")]) == 0
    return reference_ppo_run(tmp_path_factory), folder / "two"


def test_two_processes_equal_one_process(runs: tuple[Path, Path]) -> None:
    one, two = runs
    manifest = json.loads((two / "run.json").read_text())
    assert manifest["world_size"] == 2 and manifest["status"] == "finished"
    launcher, *ranks = manifest["pids"]
    assert launcher == os.getpid() and len(ranks) == 2 and len(set(manifest["pids"])) == 3
    assert json.loads((one / "run.json").read_text())["world_size"] == 1

    events = valid_events(two)
    assert statuses(events) == ["starting", "running", "finished"]  # rank 1 wrote nothing
    a, b = metrics_by_step(one), metrics_by_step(two)
    assert sorted(a) == sorted(b) == [0, 1, 2, 3]
    compared = 0
    for step in a:
        assert set(a[step]) == set(b[step])
        for key, value in a[step].items():
            if not key.startswith(TIMING):
                assert_close(value, b[step][key], f"step {step} {key}")
                compared += 1
    assert compared > 60
    # The runs learnt something (the comparison is not between two idle runs).
    assert a[3]["ppo/kl_sum"] > 0.1 and a[1]["ppo/policy_loss"] != 0.0

    # The same samples, token for token: sampling is seeded per sample, not per batch.
    for step in (1, 2, 3):
        name = f"samples/step-{step:06d}.jsonl"
        assert (one / name).read_text() == (two / name).read_text()

    # Final weights: adapters, heads and optimizer moments.
    for rel in ("policy/adapter_model.safetensors", "value/adapter_model.safetensors", "heads.safetensors", "optimizer.safetensors"):
        x, y = load_file(str(one / "checkpoints/step-3" / rel)), load_file(str(two / "checkpoints/step-3" / rel))
        assert set(x) == set(y), rel
        for key in x:
            if key.startswith("rng."):
                continue
            torch.testing.assert_close(y[key], x[key], rtol=1e-5, atol=1e-7, msg=f"{rel} {key}")
    assert [e["step"] for e in events if e["type"] == "checkpoint"] == [2, 3]
    assert json.loads((two / "checkpoints/step-3/trainer_state.json").read_text())["world_size"] == 2
    # Rank 1 kept its generated files in a scratch folder, removed at exit.
    assert not glob.glob(os.path.join(tempfile.gettempdir(), f"fact-rlhf-{two.name}-*"))


def test_batch_that_does_not_split_is_a_config_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, overrides={"launch": {"backend": "torchrun", "processes": 3}})
    assert main(["ppo", "--config", str(config), "--run-dir", str(tmp_path / "run")]) == 2
    error = read_events(tmp_path / "run")[-1]["error"]
    assert "exp.rlhf.yaml:" in error and "ppo.rollout_batch_size: 16 does not split over 3 processes" in error


def test_minibatches_do_not_depend_on_the_world_size() -> None:
    def global_plan(world: int) -> list[list[list[int]]]:
        per_rank = [minibatch_plan(32, 16, 4, world, r, "s-0-0") for r in range(world)]
        share = 32 // world
        return [sum(([[i + r * share for i in m] for m in per_rank[r][j]] for r in range(world)), []) for j in range(len(per_rank[0]))]

    single = global_plan(1)
    assert global_plan(2) == single and global_plan(4) == single
    flat = sorted(i for minibatch in single for micro in minibatch for i in micro)
    assert flat == list(range(32))  # each sample once per epoch
    assert single != [[list(range(j * 16 + k * 4, j * 16 + k * 4 + 4)) for k in range(4)] for j in range(2)]  # shuffled
    assert minibatch_plan(32, 16, 4, 1, 0, "s-0-1") != minibatch_plan(32, 16, 4, 1, 0, "s-0-0")


def test_a_sample_does_not_depend_on_its_batch() -> None:
    vocab = {w: i for i, w in enumerate(["<pad>", "<s>", "</s>", "<unk>", "<image>", *(f"w{i}" for i in range(40))])}
    tiny = {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "vision_hidden_size": 16, "image_size": 16, "patch_size": 8}
    lora = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}
    stack = ModelStack(build_tiny_llava(tiny, vocab, 128, 0), lora, [4, 0, 1], 1.0)
    g = torch.Generator().manual_seed(1)
    prompts = [[1] + [4] * image_token_count(16, 8) + torch.randint(5, 45, (n,), generator=g).tolist() for n in (2, 6, 4)]
    pixels = torch.randn(3, 3, 16, 16, generator=g)
    keys = torch.tensor([sample_key(0, 5, i) for i in range(3)])
    ids, mask = left_pad(prompts, 0)
    together = sample(stack, SeqBatch(ids, mask, pixels), keys, 10, 1.0, 2, 0)
    for i in range(3):
        ids1, mask1 = left_pad([prompts[i]], 0)
        alone = sample(stack, SeqBatch(ids1, mask1, pixels[i : i + 1]), keys[i : i + 1], 10, 1.0, 2, 0)
        assert alone[0].tolist() == together[i, : alone.shape[1]].tolist()
    assert not set(together.flatten().tolist()) & {4, 1}  # image and BOS ids are never sampled
    other = sample(stack, SeqBatch(ids, mask, pixels), keys + 1, 10, 1.0, 2, 0)
    assert other.tolist() != together.tolist()
