"""FSDP (launch.strategy: fsdp, PyTorch's fully_shard) on CPU with gloo:

- the wrapping function really shards the model, the frozen base included, and a sharded model
  computes the gradients and steps of an unsharded one (2 processes started by torchrun, running
  this file as the worker: see `_worker`);
- checkpoints are whole: a sharded run's files equal a single process's, and load either way;
- a 2-process fsdp PPO run equals the 1-process run at the same global batch, to the last bit,
  and a 1-process run resumes it.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from dist_helpers import (
    compare_metrics,
    compare_tensor_files,
    manifest,
    metrics_by_step,
    ppo_config,
    reference_ppo_run,
    run_files,
    torchrun,
)
from run_helpers import read_events, statuses

from fact_rlhf.cli import main


# --- the worker (2 processes under torchrun) ---------------------------------------------------------
def _worker(out: Path) -> None:
    import torch.distributed as dist
    from torch.distributed.tensor import DTensor, Shard

    from fact_rlhf.checkpoint import load_checkpoint, save_checkpoint
    from fact_rlhf.distributed import init_group
    from fact_rlhf.models.checkpointing import enable_gradient_checkpointing
    from fact_rlhf.models.stack import ModelStack, SeqBatch, left_pad
    from fact_rlhf.models.tiny import build_tiny_llava, image_token_count
    from fact_rlhf.sharding import clip_grad_norm, full_tensor, local_numel, shard_llava

    ranks, _ = init_group("cpu")
    rank = ranks.rank
    torch.set_num_threads(1)
    vocab = {w: i for i, w in enumerate(["<pad>", "<s>", "</s>", "<unk>", "<image>", *(f"w{i}" for i in range(40))])}
    tiny = {"hidden_size": 32, "num_layers": 2, "num_heads": 2, "vision_hidden_size": 16, "image_size": 16, "patch_size": 8}
    lora = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj", "down_proj"]}

    def build() -> ModelStack:
        torch.manual_seed(0)  # the same adapter and head initialisation in every copy
        stack = ModelStack(build_tiny_llava(tiny, vocab, 128, 0), lora, [4, 0, 1], 1.0)
        g = torch.Generator().manual_seed(7)  # non-zero adapters: every LoRA weight gets a gradient
        with torch.no_grad():
            for p in stack.adapter_params("policy") + stack.adapter_params("value"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
        return stack

    def shard(stack: ModelStack) -> int:
        return shard_llava(stack.lm, ranks, heads=(stack.value_head, stack.reward_head))

    def trained(stack: ModelStack) -> list[torch.nn.Parameter]:
        stack.set_trainable({"policy", "value"})
        return stack.adapter_params("policy") + stack.adapter_params("value") + list(stack.value_head.parameters())

    single, sharded = build(), build()
    enable_gradient_checkpointing(sharded.lm)  # checkpointing inside sharded blocks
    result: dict[str, Any] = {"blocks": shard(sharded), "lockstep": ranks.lockstep}
    q_single = single.lm.model.language_model.layers[0].self_attn.q_proj.base_layer.weight
    q = sharded.lm.model.language_model.layers[0].self_attn.q_proj.base_layer.weight
    fc1 = sharded.lm.model.vision_tower.encoder.layers[0].mlp.fc1.weight
    assert isinstance(q, DTensor) and isinstance(fc1, DTensor)
    result.update(
        {
            "q_global": list(q.shape),
            "q_local": list(q.to_local().shape),
            "q_placements": [str(p) for p in q.placements],
            "q_is_my_rows": torch.equal(q.to_local(), q_single.detach().chunk(2)[rank]),
            "q_frozen": not q.requires_grad,
            "fc1_global": list(fc1.shape),
            "fc1_local": list(fc1.to_local().shape),
            "embed_local": list(sharded.lm.model.language_model.embed_tokens.weight.to_local().shape),
            "held": local_numel(sharded.model.parameters()),
            "total": sum(p.numel() for p in sharded.model.parameters()),
            "shard0": q.placements == (Shard(0),),
        }
    )

    # The same batch: 4 prompts, 2 per rank; the single model sees both halves.
    g = torch.Generator().manual_seed(1)
    n_image = image_token_count(16, 8)
    prompts = [[1] + [4] * n_image + torch.randint(5, 45, (k,), generator=g).tolist() for k in (5, 9, 7, 6)]
    ids, mask = left_pad(prompts, 0)
    batch = SeqBatch(ids, mask, torch.randn(4, 3, 16, 16, generator=g))
    halves = [batch.select(slice(0, 2)), batch.select(slice(2, 4))]

    def loss(stack: ModelStack, part: SeqBatch) -> torch.Tensor:
        return stack.response_logits(part, 4).logsumexp(-1).mean() + stack.values(part, 4).square().mean()

    attention_calls = [0]
    for layer in sharded.lm.model.language_model.layers:
        layer.self_attn.register_forward_hook(lambda *_: attention_calls.__setitem__(0, attention_calls[0] + 1))
    p_single, p_sharded = trained(single), trained(sharded)
    for part in halves:
        (loss(single, part) * 0.5).backward()  # the average of the two halves' gradients
    value = loss(sharded, halves[rank])
    forward_calls = attention_calls[0]
    value.backward()  # FSDP averages over the ranks
    result["recomputed_attention_calls"] = attention_calls[0] - forward_calls
    result["forward_attention_calls"] = forward_calls
    result["grads_equal"] = all(torch.equal(full_tensor(b.grad), a.grad) for a, b in zip(p_single, p_sharded))
    result["grad_local_shape"] = list(p_sharded[0].grad.to_local().shape)
    with torch.no_grad():
        result["logits_equal"] = torch.equal(single.response_logits(batch, 4), sharded.response_logits(batch, 4))
    opt_single = torch.optim.AdamW(p_single, lr=1e-2, weight_decay=0.0)
    opt_sharded = torch.optim.AdamW(p_sharded, lr=1e-2, weight_decay=0.0)
    norm_single = float(torch.nn.utils.clip_grad_norm_(p_single, 0.5))
    result["norms_equal"] = clip_grad_norm(p_sharded, 0.5) == norm_single
    opt_single.step()
    opt_sharded.step()
    result["params_equal_after_step"] = all(torch.equal(full_tensor(b), a.detach()) for a, b in zip(p_single, p_sharded))

    # Checkpoints: the sharded one is gathered and written by rank 0 alone; rank 0 writes the
    # single model's next to it, with the same optimizer state.
    written = save_checkpoint(out / "sharded", 1, sharded, opt_sharded, {"iteration": 1}, write=rank == 0)
    result["wrote_sharded"] = written is not None
    if rank == 0:
        save_checkpoint(out / "single", 1, single, opt_single, {"iteration": 1})
    ranks.barrier()
    # A fresh sharded model + optimizer resumes from the single-process checkpoint.
    fresh = build()
    shard(fresh)
    p_fresh = trained(fresh)
    opt_fresh = torch.optim.AdamW(p_fresh, lr=1e-2, weight_decay=0.0)
    opt_fresh.load_state_dict(opt_fresh.state_dict())
    load_checkpoint(out / "single" / "step-1", fresh, opt_fresh)
    result["resumed_params_equal"] = all(torch.equal(full_tensor(b), a.detach()) for a, b in zip(p_single, p_fresh))
    moments = [(opt_single.state[a][k], opt_fresh.state[b][k]) for a, b in zip(p_single, p_fresh) for k in ("exp_avg", "exp_avg_sq")]
    result["resumed_moments_equal"] = all(torch.equal(full_tensor(y), x) for x, y in moments)
    result["resumed_moments_sharded"] = all(isinstance(y, DTensor) for _, y in moments)
    (out / f"rank{rank}.json").write_text(json.dumps(result))
    ranks.barrier()
    dist.destroy_process_group()


# --- the tests -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("fsdp-worker")
    done = torchrun(["--standalone", "--nproc_per_node=2", __file__, "--worker", str(out)])
    assert done.returncode == 0, done.stderr[-3000:]
    return out, [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_the_wrapping_function_shards_every_weight_the_frozen_base_included(worker: tuple[Path, list[dict[str, Any]]]) -> None:
    _, results = worker
    for rank, r in enumerate(results):
        assert r["lockstep"] and r["blocks"] == 4  # 2 decoder layers + 2 vision encoder layers
        # A frozen base weight of a decoder layer: 32 × 32 in all, 16 rows here — this rank's rows.
        assert r["q_global"] == [32, 32] and r["q_local"] == [16, 32] and r["shard0"], r
        assert r["q_is_my_rows"] and r["q_frozen"]
        assert r["fc1_global"] == [32, 16] and r["fc1_local"] == [16, 16]  # the frozen vision tower too
        assert r["embed_local"] == [23 if rank == 0 else 22, 32]  # 45 token rows, split unevenly
        assert r["total"] > 30_000 and abs(r["held"] - r["total"] / 2) < r["total"] * 0.01, r
        assert r["grad_local_shape"] == [2, 32]  # a LoRA A gradient (4 × 32) is sharded as well


def test_a_sharded_model_computes_the_gradients_and_steps_of_a_whole_one(worker: tuple[Path, list[dict[str, Any]]]) -> None:
    _, results = worker
    for r in results:
        assert r["logits_equal"] and r["grads_equal"] and r["norms_equal"] and r["params_equal_after_step"], r
        # Gradient checkpointing inside sharded blocks: each decoder layer of both forwards (policy
        # adapter, then value adapter) ran again in the backward, under its own adapter.
        assert r["forward_attention_calls"] == 4 and r["recomputed_attention_calls"] == 4, r


def test_checkpoints_are_whole_and_load_across_strategies(worker: tuple[Path, list[dict[str, Any]]]) -> None:
    out, results = worker
    assert [r["wrote_sharded"] for r in results] == [True, False]  # rank 0 alone wrote
    names = [
        "policy/adapter_model.safetensors",
        "value/adapter_model.safetensors",
        "reward/adapter_model.safetensors",
        "heads.safetensors",
        "optimizer.safetensors",
    ]
    # Gathered by FSDP and written whole: the very tensors a single process writes.
    assert compare_tensor_files(out / "single/step-1", out / "sharded/step-1", names) > 50
    for r in results:
        assert r["resumed_params_equal"] and r["resumed_moments_equal"] and r["resumed_moments_sharded"], r


def metrics_moved(run: Path) -> bool:
    """The run learnt something: the comparison is not between two idle runs."""
    m = metrics_by_step(run)
    return bool(m[3]["ppo/kl_sum"] > 0.1 and m[1]["ppo/policy_loss"] != 0.0)


@pytest.fixture(scope="module")
def fsdp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fsdp-ppo")
    config = ppo_config(folder, "fsdp.rlhf.yaml", {"backend": "torchrun", "processes": 2, "strategy": "fsdp"})
    assert main(["ppo", "--config", str(config), "--run-dir", str(folder / "fsdp")]) == 0
    return folder / "fsdp"


def test_two_fsdp_processes_equal_one_process_to_the_last_bit(fsdp_run: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    one = reference_ppo_run(tmp_path_factory)
    m = manifest(fsdp_run)
    assert m["world_size"] == 2 and m["status"] == "finished" and m["config"]["launch"]["strategy"] == "fsdp"
    logs = [e["message"] for e in read_events(fsdp_run) if e["type"] == "log"]
    placement = next(msg for msg in logs if msg.startswith("model placement: "))
    held, total = (int(x.replace(",", "")) for x in re.findall(r"rank 0 holds ([\d,]+) of the model's ([\d,]+)", placement)[0])
    assert "fsdp over 2 processes" in placement and abs(held - total / 2) < total * 0.01, placement
    assert statuses(read_events(fsdp_run)) == ["starting", "running", "finished"]
    assert run_files(fsdp_run) == run_files(one)  # rank 1 wrote nothing into the run

    # FSDP gathers the whole weights for each block and reduce-scatters averaged gradients; the
    # clip norm is computed from whole gradients. Nothing differs from one process, not one bit.
    assert compare_metrics(one, fsdp_run, rel=0.0) > 60
    assert metrics_moved(one)
    for step in (1, 2, 3):
        name = f"samples/step-{step:06d}.jsonl"
        assert (one / name).read_text() == (fsdp_run / name).read_text()
    names = [
        "policy/adapter_model.safetensors",
        "value/adapter_model.safetensors",
        "reward/adapter_model.safetensors",
        "heads.safetensors",
        "optimizer.safetensors",
    ]
    assert compare_tensor_files(one / "checkpoints/step-3", fsdp_run / "checkpoints/step-3", names) > 100


def test_one_process_resumes_an_fsdp_checkpoint_with_the_same_metrics(
    fsdp_run: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    one = reference_ppo_run(tmp_path_factory)
    run = tmp_path / "resumed"
    shutil.copytree(fsdp_run, run)
    shutil.rmtree(run / "checkpoints/step-3")
    (run / "checkpoints/latest").write_text("step-2\n")
    config = ppo_config(tmp_path, "one.rlhf.yaml", {})  # backend local, strategy ddp: one process
    assert main(["ppo", "--config", str(config), "--run-dir", str(run), "--resume"]) == 0
    events = read_events(run)
    assert any("resumed from step 2" in e.get("message", "") for e in events if e["type"] == "log")
    last = [e["values"] for e in events if e["type"] == "metric" and e["step"] == 3][-1]
    expected = [e["values"] for e in read_events(one) if e["type"] == "metric" and e["step"] == 3][0]
    compared = [k for k in expected if not k.startswith(("time/", "perf/"))]
    assert len(compared) > 20 and all(last[k] == expected[k] for k in compared), {
        k: (last[k], expected[k]) for k in compared if last[k] != expected[k]
    }


def test_fsdp_refuses_a_tied_embedding_model_clearly() -> None:
    from fact_rlhf.distributed import Group, Placement
    from fact_rlhf.errors import UsageError
    from fact_rlhf.models.tiny import build_tiny_llava
    from fact_rlhf.sharding import shard_llava

    vocab = {w: i for i, w in enumerate(["<pad>", "<s>", "</s>", "<unk>", "<image>", "w"])}
    tiny = {"hidden_size": 16, "num_layers": 1, "num_heads": 2, "vision_hidden_size": 16, "image_size": 16, "patch_size": 8}
    model = build_tiny_llava(tiny, vocab, 32, 0)
    model.config.text_config.tie_word_embeddings = True
    with pytest.raises(UsageError, match="tied to its token embeddings; use launch.strategy: ddp"):
        shard_llava(model, Group(Placement(0, 2, 0), torch.device("cpu")))


if __name__ == "__main__" and "--worker" in sys.argv:
    _worker(Path(sys.argv[sys.argv.index("--worker") + 1]))
