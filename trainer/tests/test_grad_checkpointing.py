"""Gradient checkpointing (model.gradient_checkpointing) takes effect in the ppo, rm and sft stages:
each transformer block of the language model runs again during the backward, the activations kept
for the backward shrink, and the gradients are those of the model without it.

Why it had no effect before: Transformers checkpoints a block only in training mode, and the
reward model and PPO keep their model in eval mode (no dropout; PPO ratios start at exactly 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import torch
from torch import nn

from fact_rlhf.config import load_config
from fact_rlhf.models.checkpointing import enable_gradient_checkpointing, is_checkpointed
from fact_rlhf.models.stack import ModelStack, SeqBatch, left_pad
from fact_rlhf.models.tiny import build_tiny_llava, image_token_count
from fact_rlhf.ppo.train_module import PolicyValue
from fact_rlhf.sharding import transformer_blocks
from run_helpers import write_config

VOCAB = {w: i for i, w in enumerate(["<pad>", "<s>", "</s>", "<unk>", "<image>", *(f"w{i}" for i in range(40))])}
TINY = {"hidden_size": 32, "num_layers": 3, "num_heads": 2, "vision_hidden_size": 16, "image_size": 16, "patch_size": 8}
LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj", "down_proj"]}


def batch() -> SeqBatch:
    g = torch.Generator().manual_seed(1)
    prompts = [[1] + [4] * image_token_count(16, 8) + torch.randint(5, 45, (k,), generator=g).tolist() for k in (9, 14, 11)]
    ids, mask = left_pad(prompts, 0)
    return SeqBatch(ids, mask, torch.randn(3, 3, 16, 16, generator=g))


def stack(checkpointing: bool) -> ModelStack:
    torch.manual_seed(0)
    base = build_tiny_llava(TINY, VOCAB, 128, 0)
    if checkpointing:
        enable_gradient_checkpointing(base)
    s = ModelStack(base, LORA, [4, 0, 1], 1.0)  # in eval mode, as PPO and the reward model run
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():  # non-zero adapters, so both adapters' weights get gradients
        for p in s.adapter_params("policy") + s.adapter_params("value"):
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    return s


class Probe:
    """Counts attention forwards of the language model and bytes kept for the backward."""

    def __init__(self, model: nn.Module) -> None:
        self.calls = 0
        self.saved_bytes = 0
        for block in model.model.language_model.layers:
            block.self_attn.register_forward_hook(self._count)

    def _count(self, *_: Any) -> None:
        self.calls += 1

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        self.saved_bytes += t.numel() * t.element_size()
        return t

    def run(self, loss_fn: Callable[[], torch.Tensor]) -> tuple[int, int, int]:
        """(forward calls, calls again during the backward, bytes saved for the backward)."""
        self.calls, self.saved_bytes = 0, 0
        with torch.autograd.graph.saved_tensors_hooks(self._pack, lambda t: t):
            loss = loss_fn()
        forward = self.calls
        loss.backward()
        return forward, self.calls - forward, self.saved_bytes


def ppo_loss(s: ModelStack) -> Callable[[], torch.Tensor]:
    module = PolicyValue(s)  # PPO's training forward: policy logits, then the value adapter's values

    def loss() -> torch.Tensor:
        logits, values = module(*(lambda b: (b.input_ids, b.attention_mask, b.pixel_values))(batch()), 5)
        return logits.logsumexp(-1).mean() + values.square().mean()

    return loss


def test_the_ppo_forward_recomputes_every_block_with_the_same_gradients() -> None:
    plain, checkpointed = stack(False), stack(True)
    assert not plain.model.training and not checkpointed.model.training  # eval mode throughout
    results = {}
    for name, s in (("plain", plain), ("checkpointed", checkpointed)):
        s.set_trainable({"policy", "value"})
        results[name] = Probe(s.lm).run(ppo_loss(s))
    (f0, again0, bytes0), (f1, again1, bytes1) = results["plain"], results["checkpointed"]
    assert f0 == f1 == 2 * 3  # 3 layers, a policy forward and a value forward
    assert again0 == 0 and again1 == 2 * 3  # every block ran again in the backward...
    assert bytes1 < 0.6 * bytes0, (bytes0, bytes1)  # ...instead of keeping its activations
    # The recompute runs each block under the adapter its forward used (policy, then value).
    params0 = plain.adapter_params("policy") + plain.adapter_params("value") + list(plain.value_head.parameters())
    params1 = checkpointed.adapter_params("policy") + checkpointed.adapter_params("value") + list(checkpointed.value_head.parameters())
    assert all(p.grad is not None for p in params0)
    for a, b in zip(params0, params1):
        assert torch.equal(a.grad, b.grad)


def test_transformers_own_switch_does_nothing_in_eval_mode() -> None:
    """The cause of the old 'no effect': kept as a guard that the explanation still holds."""
    torch.manual_seed(0)
    base = build_tiny_llava(TINY, VOCAB, 128, 0)
    base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    s = ModelStack(base, LORA, [4, 0, 1], 1.0)
    s.set_trainable({"policy", "value"})
    _, again, _ = Probe(s.lm).run(ppo_loss(s))
    assert again == 0


@pytest.fixture(scope="module")
def world_config(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("gc")
    path = write_config(folder, overrides={"data": {"num_images": 8}, "model": {"gradient_checkpointing": True}})
    return folder, load_config(str(path)).data


def checkpointed_language_model(model: nn.Module) -> bool:
    blocks = [b for b in transformer_blocks(model) if type(b).__name__ == "LlamaDecoderLayer"]
    return len(blocks) == 2 and all(is_checkpointed(b) for b in blocks)


def test_the_ppo_stage_model_is_checkpointed(world_config: tuple[Path, dict[str, Any]]) -> None:
    from fact_rlhf.data import load_ppo_data
    from fact_rlhf.models.build import build_stack
    from fact_rlhf.models.stack import REWARD
    from fact_rlhf.rm.scoring import encode_batch

    folder, config = world_config
    dataset = load_ppo_data(config, folder / "ppo", need_pairs=False)
    s, codec = build_stack(config, dataset, folder / "ppo", "cpu", resume=False)
    assert checkpointed_language_model(s.lm)
    s.set_trainable({"policy", "value"})
    prompt = dataset.prompts[0]
    b = encode_batch(codec, [prompt.conversations[0]["value"]], [prompt.image])
    probe = Probe(s.lm)
    _, again, _ = probe.run(lambda: s.values(b, 3).sum() + s.response_logits(b, 3).logsumexp(-1).sum())
    assert again == 2 * 2
    s.set_trainable({REWARD})  # the reward warm-up, also in eval mode
    _, again, _ = probe.run(lambda: s.rewards(b).sum())
    assert again == 2


def test_the_rm_and_sft_stage_models_are_checkpointed(world_config: tuple[Path, dict[str, Any]]) -> None:
    from fact_rlhf.models.stack import REWARD
    from fact_rlhf.rm.scoring import encode_batch
    from fact_rlhf.rm.train import reward_stack
    from fact_rlhf.sft.stage import supervised_model
    from fact_rlhf.stages.data import load_stage_data
    from fact_rlhf.stages.loading import load_source, stage_source

    folder, config = world_config
    data = load_stage_data(config, folder / "stage", need="pairs")
    source = stage_source(config, data.corpus(), folder / "stage", resume=False)
    pair = data.pairs[0]

    s, codec = reward_stack(config, source, "cpu")
    assert checkpointed_language_model(s.lm) and not s.model.training
    s.set_trainable({REWARD})
    b = encode_batch(codec, [pair.conversations[0]["value"]], [pair.image])  # the question, with its image
    _, again, _ = Probe(s.lm).run(lambda: s.rewards(b).sum())
    assert again == 2

    base, codec = load_source(source, "fp32")
    built = supervised_model(config, base, "sft", "cpu", {"path": "x"}, codec.processor)
    assert checkpointed_language_model(base)
    built.forward.train()
    ids = torch.tensor([codec.encode(pair.output_1)])
    _, again, _ = Probe(base).run(lambda: built.forward(input_ids=ids, use_cache=False).logits.logsumexp(-1).sum())
    assert again == 2
    assert all(p.grad is not None for p in built.params)
