"""The pipeline on the built-in world: sft → rm (on the SFT model) → rl_init (a policy LoRA on the
SFT model) → ppo whose policy and frozen reference start from the rl_init run and whose reward
model is the rm run's best checkpoint; and the base-model check between them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from fact_rlhf.cli import main
from fact_rlhf.config import load_config
from fact_rlhf.data import load_ppo_data
from fact_rlhf.models.build import build_stack
from fact_rlhf.models.stack import POLICY, REFERENCE, REWARD, VALUE
from fact_rlhf.rm.scoring import encode_batch
from fact_rlhf.stages.sources import resolve_policy
from run_helpers import read_events, statuses
from stage_helpers import cached_run, metrics, stage_config


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    sft = cached_run(tmp_path_factory, "sft", "sft")
    rm = cached_run(tmp_path_factory, "rm-on-sft", "rm", {"model": {"policy": str(sft)}})
    rl_init = cached_run(tmp_path_factory, "rl-init", "rl_init", {"model": {"policy": str(sft)}})
    folder = tmp_path_factory.mktemp("ppo-chain")
    config = stage_config(folder, {"model": {"policy": str(rl_init), "reward_model": str(rm)}})
    assert main(["ppo", "--config", str(config), "--run-dir", str(folder / "run")]) == 0
    return {"sft": sft, "rm": rm, "rl_init": rl_init, "ppo": folder / "run", "ppo_config": config}


def _latest(run: Path) -> Path:
    return run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()


def test_rl_init_trains_a_policy_adapter_on_the_sft_model(chain: dict[str, Path]) -> None:
    run = chain["rl_init"]
    assert statuses(read_events(run)) == ["starting", "running", "finished"]
    steps = metrics(run)
    assert sorted(steps) == list(range(1, 6))  # 1 epoch of 40 conversations, 8 per step
    assert all({"rl_init/loss", "rl_init/learning_rate", "rl_init/tokens_per_s"} <= set(v) for v in steps.values())
    checkpoint = _latest(run)
    assert (checkpoint / "policy" / "adapter_model.safetensors").is_file()
    assert json.loads((checkpoint / "base.json").read_text())["path"] == str(_latest(chain["sft"]).resolve())
    source = resolve_policy(run)
    assert source.folder == _latest(chain["sft"]) and source.policy_adapter == checkpoint / "policy"
    assert json.loads((run / "run.json").read_text())["stage"] == "rl_init"


def test_ppo_starts_from_the_rl_init_policy_and_the_trained_reward_model(chain: dict[str, Path]) -> None:
    events = read_events(chain["ppo"])
    assert statuses(events) == ["starting", "running", "finished"]
    logs = [e["message"] for e in events if e["type"] == "log"]
    assert any(m == f"reward model loaded from {chain['rm'] / 'checkpoints' / 'best'}" for m in logs), logs
    assert not any("warm-up" in m for m in logs)
    steps = metrics(chain["ppo"])
    assert sorted(s for s in steps if s > 0) == [1, 2]
    # Policy and reference are the same rl_init adapter when the first rollout is sampled.
    assert steps[1]["ppo/kl_sum"] == 0.0

    # The stack the PPO stage builds: policy = reference = rl_init, reward = the rm run's best.
    config = load_config(chain["ppo_config"]).data
    scratch = chain["ppo"].parent / "scratch"
    scratch.mkdir(exist_ok=True)
    dataset = load_ppo_data(config, scratch, need_pairs=False)
    stack, codec = build_stack(config, dataset, scratch, "cpu", resume=False)
    rl_init = load_file(str(_latest(chain["rl_init"]) / "policy" / "adapter_model.safetensors"))
    for name in (POLICY, REFERENCE):
        params = dict((n, p) for n, p in stack.model.named_parameters() if "lora_" in n and f".{name}." in n)
        assert len(params) == len(rl_init)
        for key, value in rl_init.items():
            assert torch.equal(params[key.replace(".weight", f".{name}.weight")], value), (name, key)
    assert not any(p.requires_grad for p in stack.adapter_params(REFERENCE))
    prompt = dataset.prompts[0]
    from fact_rlhf.algo.rm_prompt import policy_prompt

    batch = encode_batch(codec, [policy_prompt(prompt.conversations) + " Yes"], [prompt.image])
    with torch.no_grad():
        policy = stack.response_logits(batch, 2)
        assert torch.equal(stack.response_logits(batch, 2, reference=True), policy)
        with stack.model.disable_adapter():
            sft = stack.shape_logits(stack.model(**stack._inputs(batch), use_cache=False).logits[:, -3:-1])
        assert not torch.allclose(sft, policy, atol=1e-4)  # rl_init moved the policy off the SFT model
    assert len(stack.adapter_params(VALUE)) == len(stack.adapter_params(REWARD))

    # The frozen reward model PPO ran with (saved in its checkpoint) is the rm run's best.
    best, ppo_checkpoint = chain["rm"] / "checkpoints" / "best", _latest(chain["ppo"])
    for name in (f"{REWARD}/adapter_model.safetensors", "heads.safetensors"):
        trained, used = load_file(str(best / name)), load_file(str(ppo_checkpoint / name))
        for key, value in trained.items():
            assert torch.equal(used[key], value), (name, key)


def test_a_reward_model_on_another_base_is_refused_before_loading(chain: dict[str, Path], tmp_path: Path) -> None:
    config = stage_config(tmp_path, {"model": {"reward_model": str(chain["rm"])}})  # builtin policy
    assert main(["ppo", "--config", str(config), "--run-dir", str(tmp_path / "a")]) == 2
    error = read_events(tmp_path / "a")[-1]["error"]
    assert "model.reward_model:" in error and f"was trained on the base model {_latest(chain['sft']).resolve()}" in error
    assert not (tmp_path / "a" / "model").exists()

    # rl_init on top of an rl_init policy is refused too (it trains on an SFT model).
    config = stage_config(tmp_path, {"model": {"policy": str(chain["rl_init"])}}, name="twice.rlhf.yaml")
    assert main(["rl_init", "--config", str(config), "--run-dir", str(tmp_path / "b")]) == 2
    assert "is an rl_init policy" in read_events(tmp_path / "b")[-1]["error"]
