"""The tiny LLaVA stack: tokenizer, image tokens, suppressed ids, padding invariance, adapters,
heads and checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from fact_rlhf.algo.rm_prompt import policy_prompt
from fact_rlhf.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from fact_rlhf.config import load_config
from fact_rlhf.data import Dataset, load_ppo_data
from fact_rlhf.models.build import build_stack
from fact_rlhf.models.codec import TinyCodec
from fact_rlhf.models.stack import POLICY, ModelStack, SeqBatch, left_pad, logprobs_of
from fact_rlhf.rm.scoring import encode_batch
from run_helpers import write_config


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Dataset, Path]:
    folder = tmp_path_factory.mktemp("models")
    config = load_config(write_config(folder)).data
    run = folder / "run"
    run.mkdir()
    return config, load_ppo_data(config, run, need_pairs=True), run


def fresh(world: tuple[dict[str, Any], Dataset, Path], resume: bool = False) -> tuple[ModelStack, TinyCodec]:
    config, dataset, run = world
    torch.manual_seed(0)
    stack, codec = build_stack(config, dataset, run, "cpu", resume=resume)
    assert isinstance(codec, TinyCodec)
    return stack, codec


def test_tokenizer_round_trip_and_image_tokens(world: Any) -> None:
    stack, codec = fresh(world)
    text = "B. The circle is blue."
    ids = codec.encode(text)
    assert ids[0] == codec.bos_id and codec.tokenizer.token_to_id("<unk>") not in ids
    assert codec.decode(ids) == text
    prompt = world[1].prompts[0]
    prompt_ids = codec.encode(policy_prompt(prompt.conversations))
    assert prompt_ids.count(codec.image_id) == 16  # (32 px / 8 px patches)²
    assert (world[2] / "tokenizer.json").is_file() and (world[2] / "model" / "model.safetensors").is_file()


def _prompt_batch(codec: TinyCodec, dataset: Dataset, n: int) -> SeqBatch:
    prompts = (dataset.prompts * 8)[:n]
    return encode_batch(codec, [policy_prompt(p.conversations) for p in prompts], [p.image for p in prompts])


def test_generation_never_emits_image_pad_or_bos(world: Any) -> None:
    stack, codec = fresh(world)
    torch.manual_seed(1)
    # ~1000 sampled tokens over a 120-word vocabulary: unsuppressed, each id would show up ~8 times.
    out = stack.generate(_prompt_batch(codec, world[1], 64), 16, 1.0, eos_id=-1, pad_id=codec.pad_id)
    assert out.numel() == 64 * 16
    for banned in (codec.image_id, codec.pad_id, codec.bos_id):
        assert int((out == banned).sum()) == 0
    # The same ids are removed from the distribution PPO scores with.
    with torch.no_grad():
        logits = stack.response_logits(_prompt_batch(codec, world[1], 2), 3)
    assert float(torch.softmax(logits, -1)[..., [codec.image_id, codec.pad_id, codec.bos_id]].sum()) == 0.0


def test_left_padding_does_not_change_scores_logprobs_or_values(world: Any) -> None:
    stack, codec = fresh(world)
    with torch.no_grad():
        for p in stack.adapter_params(POLICY) + stack.adapter_params("reward") + stack.adapter_params("value"):
            p.normal_(std=0.2)  # non-trivial adapters, so every path is exercised
        stack.value_head.weight.normal_()
    prompts = world[1].prompts[:2]
    short, long = (codec.encode(policy_prompt(p.conversations)) + codec.encode("B. The circle")[1:] for p in prompts)
    if len(short) > len(long):
        short, long = long, short
    assert len(short) < len(long)
    ids, mask = left_pad([short, long], codec.pad_id)
    pixels = torch.stack([codec.pixel_values(p.image) for p in prompts])
    batch = SeqBatch(ids, mask, pixels)
    alone = SeqBatch(torch.tensor([short]), torch.ones(1, len(short), dtype=torch.long), pixels[:1])
    with torch.no_grad():
        assert torch.allclose(stack.rewards(batch)[0], stack.rewards(alone)[0], atol=1e-4)
        assert torch.allclose(stack.values(batch, 3)[0], stack.values(alone, 3)[0], atol=1e-4)
        tokens = torch.tensor([short[-3:]])
        lp_batch = logprobs_of(stack.response_logits(batch, 3)[:1], tokens)
        lp_alone = logprobs_of(stack.response_logits(alone, 3), tokens)
        assert torch.allclose(lp_batch, lp_alone, atol=1e-4)
        # The score depends on the text it reads.
        other = SeqBatch(torch.tensor([short[:-1] + [codec.eos_id]]), alone.attention_mask, pixels[:1])
        assert abs(float(stack.rewards(other)[0] - stack.rewards(alone)[0])) > 1e-4


def test_fresh_adapters_match_the_reference_and_the_value_head_starts_at_zero(world: Any) -> None:
    stack, codec = fresh(world)
    batch = _prompt_batch(codec, world[1], 3)
    with torch.no_grad():
        policy = stack.response_logits(batch, 4)
        reference = stack.response_logits(batch, 4, reference=True)
        assert torch.equal(policy, reference)
        assert torch.count_nonzero(stack.values(batch, 4)) == 0
        for p in stack.adapter_params(POLICY):
            p.add_(0.05)
        assert not torch.allclose(stack.response_logits(batch, 4), reference)
        assert torch.equal(stack.response_logits(batch, 4, reference=True), reference)  # frozen reference


def test_checkpoint_round_trip(world: Any, tmp_path: Path) -> None:
    stack, codec = fresh(world)
    with torch.no_grad():
        for p in stack.adapter_params(POLICY):
            p.normal_(std=0.1)
        stack.reward_head.bias.fill_(0.5)
    optimizer = torch.optim.AdamW(stack.adapter_params(POLICY), lr=0.1)
    batch = _prompt_batch(codec, world[1], 2)
    stack.response_logits(batch, 2).sum().backward()
    optimizer.step()
    expected = stack.response_logits(batch, 2).detach()
    save_checkpoint(tmp_path, 7, stack, optimizer, {"iteration": 7})
    folder = latest_checkpoint(tmp_path)
    assert folder == tmp_path / "step-7"
    for name in ("policy", "value", "reward"):
        assert (folder / name / "adapter_model.safetensors").is_file() and (folder / name / "adapter_config.json").is_file()

    restored, _ = fresh(world, resume=True)
    optimizer2 = torch.optim.AdamW(restored.adapter_params(POLICY), lr=0.1)
    state = load_checkpoint(folder, restored, optimizer2)
    assert state == {"iteration": 7}
    assert torch.allclose(restored.response_logits(batch, 2), expected)
    assert float(restored.reward_head.bias) == 0.5
    a = optimizer.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(optimizer2.state_dict()["state"][0]["exp_avg"], a)


def test_the_run_model_folder_loads_as_a_real_checkpoint(world: Any) -> None:
    """`<run>/model` is a complete Hugging Face LLaVA folder: the real-checkpoint path reads it."""
    from fact_rlhf.models.pretrained import load_pretrained

    _, codec = fresh(world)
    base, hf_codec = load_pretrained(world[2] / "model", "fp32")
    prompt = policy_prompt(world[1].prompts[0].conversations)
    ids = hf_codec.encode(prompt)
    assert ids.count(hf_codec.image_id) == 16
    assert ids == codec.encode(prompt)[1:]  # same tokens; the processor adds no BOS
    assert hf_codec.decode(ids[-5:]) == codec.decode(codec.encode(prompt)[-5:])
    image = world[1].prompts[0].image
    assert torch.allclose(hf_codec.pixel_values(image), codec.pixel_values(image), atol=1e-5)
    stack = ModelStack(base, world[0]["model"]["lora"], hf_codec.suppress_ids, 1.0)
    batch = encode_batch(hf_codec, [prompt], [image])
    out = stack.generate(batch, 4, 1.0, hf_codec.eos_id, hf_codec.pad_id)
    assert out.shape[0] == 1 and hf_codec.image_id not in out.tolist()[0]


def test_a_policy_folder_without_config_is_a_config_error(tmp_path: Path) -> None:
    from fact_rlhf.errors import ConfigError
    from fact_rlhf.preflight import check_ppo_config

    (tmp_path / "ckpt").mkdir()
    path = write_config(tmp_path, overrides={"model": {"policy": "ckpt"}})
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "policy: ckpt" in text)
    with pytest.raises(ConfigError) as err:
        check_ppo_config(load_config(path))
    assert f"exp.rlhf.yaml:{line}: model.policy: {tmp_path / 'ckpt'} has no config.json" in str(err.value)
