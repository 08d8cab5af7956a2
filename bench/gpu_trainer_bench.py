"""GPU trainer benchmark: our PPO loop against plain Hugging Face `generate` + a straightforward
PPO step, on a ~1B-parameter LLaVA-architecture model built from config (random weights), bf16.

Measures, at the same batch and lengths:
- rollout tokens/s: our per-sample-seeded sampler (fact_rlhf.ppo.sampling.sample, a KV-cache loop)
  vs `model.generate(do_sample=True, top_k=0)`; both generate exactly `--response-len` tokens per row;
- optimiser step time: our PPOTrainer.update (policy + value LoRA, one backward per micro-batch,
  clipped losses, per-model grad clipping, AdamW) vs a straightforward step (full-sequence logits,
  log-softmax, clipped surrogate + clipped value loss, one backward, AdamW);
- the GPU memory high-water mark of each phase (torch.cuda.max_memory_allocated).

    python bench/gpu_trainer_bench.py               # on a GPU: ~1.06B model, bf16 (one short call)
    python bench/gpu_trainer_bench.py --smoke       # tiny sizes, fp32, runs on CPU (checks the script)
    [--batch 64] [--response-len 128] [--repeats 3] [--json FILE]

Without a GPU and without --smoke it runs the smoke mode and says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "trainer"))

import torch  # noqa: E402
from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration  # noqa: E402

from fact_rlhf.algo.rewards import ScoreTerms  # noqa: E402
from fact_rlhf.config import load_config  # noqa: E402
from fact_rlhf.data.records import PromptRecord  # noqa: E402
from fact_rlhf.models.codec import TinyCodec  # noqa: E402
from fact_rlhf.models.stack import POLICY, VALUE, ModelStack, SeqBatch  # noqa: E402
from fact_rlhf.models.tokenizer import SPECIAL_TOKENS, build_word_tokenizer  # noqa: E402
from fact_rlhf.ppo.report import Advantages  # noqa: E402
from fact_rlhf.ppo.rollout import Rollout  # noqa: E402
from fact_rlhf.ppo.sampling import sample, sample_key  # noqa: E402
from fact_rlhf.ppo.trainer import PPOTrainer  # noqa: E402
from fact_rlhf.rundir import RunDirectory  # noqa: E402

PAD, BOS, EOS, UNK, IMAGE = range(5)  # the built-in tokenizer's special ids


@dataclass
class Size:
    name: str
    vocab: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vision_hidden: int
    vision_layers: int
    vision_heads: int
    image: int
    patch: int
    text_len: int  # prompt text tokens after the image tokens
    dtype: torch.dtype
    lora_r: int


# ~1.06B: a 16-layer 2048-wide Llama (0.97B with its embeddings) + a ViT-B/16 tower at 224 px.
ONE_B = Size("llava-1b", 32000, 2048, 16, 16, 5632, 768, 12, 12, 224, 16, 64, torch.bfloat16, 64)
SMOKE = Size("smoke", 256, 64, 2, 4, 128, 32, 2, 2, 32, 8, 12, torch.float32, 8)


def build(size: Size, device: torch.device) -> LlavaForConditionalGeneration:
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=size.vision_hidden,
            intermediate_size=4 * size.vision_hidden,
            num_hidden_layers=size.vision_layers,
            num_attention_heads=size.vision_heads,
            image_size=size.image,
            patch_size=size.patch,
        ),
        text_config=LlamaConfig(
            vocab_size=size.vocab,
            hidden_size=size.hidden,
            intermediate_size=size.intermediate,
            num_hidden_layers=size.layers,
            num_attention_heads=size.heads,
            num_key_value_heads=size.heads,
            max_position_embeddings=4096,
            pad_token_id=PAD,
            bos_token_id=BOS,
            eos_token_id=EOS,
            tie_word_embeddings=False,
        ),
        image_token_index=IMAGE,
        image_seq_length=(size.image // size.patch) ** 2,
        pad_token_id=PAD,
    )
    previous = torch.get_default_dtype()
    torch.set_default_dtype(size.dtype)
    try:
        with device:  # initialised where it runs: no 4 GB copy from the CPU
            model = LlavaForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(previous)
    return model.eval()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def peak_memory(device: torch.device, into: dict[str, float], key: str) -> Iterator[None]:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    yield
    if device.type == "cuda":
        into[key] = torch.cuda.max_memory_allocated(device) / 2**30


def timed(fn: Callable[[], Any], device: torch.device, repeats: int) -> tuple[float, Any]:
    """Median seconds of `repeats` calls after one warm-up call."""
    result = fn()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        result = fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def prompts(size: Size, batch: int, device: torch.device) -> SeqBatch:
    """Left-padded prompts: BOS, the image tokens, then 1/2..1 × text_len random words."""
    g = torch.Generator().manual_seed(0)
    image_tokens = (size.image // size.patch) ** 2
    rows = []
    for i in range(batch):
        n = size.text_len // 2 + i % (size.text_len // 2 + 1)
        rows.append([BOS] + [IMAGE] * image_tokens + torch.randint(len(SPECIAL_TOKENS), size.vocab, (n,), generator=g).tolist())
    width = max(len(r) for r in rows)
    ids = torch.full((batch, width), PAD, dtype=torch.long)
    mask = torch.zeros((batch, width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r) :] = torch.tensor(r)
        mask[i, width - len(r) :] = 1
    pixels = torch.randn(batch, 3, size.image, size.image, generator=g).to(size.dtype)
    return SeqBatch(ids, mask, pixels)


def hf_generate(stack: ModelStack, batch: SeqBatch, new_tokens: int) -> torch.Tensor:
    """Plain `generate`: the same sampling settings, no EOS so every row runs to the length."""
    stack.use_adapter(POLICY)
    dev = stack.device
    with torch.no_grad():
        out = stack.model.generate(
            input_ids=batch.input_ids.to(dev),
            attention_mask=batch.attention_mask.to(dev),
            pixel_values=batch.pixel_values.to(dev),
            do_sample=True,
            temperature=1.0,
            top_p=1.0,
            top_k=0,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            pad_token_id=PAD,
            eos_token_id=None,
            suppress_tokens=stack.suppress_ids,
            use_cache=True,
        )
    return out[:, batch.input_ids.shape[1] :]


def synthetic_rollout(stack: ModelStack, batch: SeqBatch, responses: torch.Tensor) -> tuple[Rollout, Advantages]:
    """A rollout of the generated responses with the old log-probs and values of the models
    (what PPO's update consumes); rewards and advantages are random (their values do not change
    the cost)."""
    n, width = responses.shape
    full = SeqBatch(
        torch.cat([batch.input_ids, responses.cpu()], 1),
        torch.cat([batch.attention_mask, torch.ones_like(responses.cpu())], 1),
        batch.pixel_values,
    )
    with torch.no_grad():
        logits = stack.response_logits(full, width)
        logprobs = torch.log_softmax(logits, -1).gather(-1, responses.to(stack.device).unsqueeze(-1)).squeeze(-1).cpu()
        values = stack.values(full, width).cpu()
    del logits
    mask = torch.ones(n, width)
    g = torch.Generator().manual_seed(1)
    advantages, returns = torch.randn(n, width, generator=g), torch.randn(n, width, generator=g)
    records = [
        PromptRecord(id=str(i), image=Path("synthetic.png"), conversations=[{"from": "human", "value": "<image>\n?"}]) for i in range(n)
    ]
    ro = Rollout(
        prompts=records,
        batch=full,
        responses=responses.cpu(),
        mask=mask,
        has_eos=[False] * n,
        texts=[""] * n,
        logprobs=logprobs,
        ref_logprobs=logprobs.clone(),
        values=values,
        rm_scores=torch.zeros(n),
        terms=[ScoreTerms(0.0, 0.0, 0.0)] * n,
        entropy=0.0,
    )
    return ro, Advantages(torch.zeros(n, width), torch.zeros(n, width), advantages, returns)


def plain_ppo_step(stack: ModelStack, optimizer: torch.optim.Optimizer, ro: Rollout, adv: Advantages, micro: int) -> None:
    """A straightforward PPO step over the batch: full-sequence logits, log-softmax, clipped
    surrogate and clipped value loss, one backward per micro-batch, clip, AdamW."""
    dev, width = stack.device, ro.responses.shape[1]
    optimizer.zero_grad(set_to_none=True)
    for start in range(0, len(ro.prompts), micro):
        sl = slice(start, start + micro)
        ids, mask = ro.batch.input_ids[sl].to(dev), ro.batch.attention_mask[sl].to(dev)
        pixels = ro.batch.pixel_values[sl].to(dev)
        stack.use_adapter(POLICY)
        logits = stack.model(input_ids=ids, attention_mask=mask, pixel_values=pixels).logits
        logp = torch.log_softmax(logits[:, -width - 1 : -1].float(), -1).gather(-1, ro.responses[sl].to(dev).unsqueeze(-1)).squeeze(-1)
        ratio = torch.exp(logp - ro.logprobs[sl].to(dev))
        a = adv.advantages[sl].to(dev)
        pg = torch.maximum(-a * ratio, -a * ratio.clamp(0.8, 1.2)).mean()
        stack.use_adapter(VALUE)
        hidden = stack.lm.model(input_ids=ids, attention_mask=mask, pixel_values=pixels).last_hidden_state
        v = stack.value_head(hidden[:, -width - 1 : -1]).squeeze(-1).float()
        old, ret = ro.values[sl].to(dev), adv.returns[sl].to(dev)
        vf = 0.5 * torch.maximum((v - ret) ** 2, (old + (v - old).clamp(-0.2, 0.2) - ret) ** 2).mean()
        ((pg + 0.1 * vf) * len(ro.prompts[sl]) / len(ro.prompts)).backward()
    torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], 1.0)
    optimizer.step()


def trainer_for(stack: ModelStack, codec: TinyCodec, batch: int, micro: int, run_dir: Path) -> PPOTrainer:
    """Our PPOTrainer on the real config defaults, set to one optimiser step per update."""
    config = load_config(REPO / "examples" / "tiny-ppo.rlhf.yaml").data
    config["ppo"].update(
        {"rollout_batch_size": batch, "step_batch_size": batch, "step_per_device_batch_size": micro, "ppo_epochs": 1, "learning_rate": 1e-5}
    )
    records = [
        PromptRecord(id=str(i), image=Path("synthetic.png"), conversations=[{"from": "human", "value": "<image>\n?"}]) for i in range(batch)
    ]
    return PPOTrainer(stack, codec, records, config, RunDirectory(run_dir, "ppo"), lambda: False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CPU is fine): checks that the script works")
    parser.add_argument("--batch", type=int, help="rollout batch (default 64 on GPU, 4 in smoke mode)")
    parser.add_argument("--micro", type=int, help="per-device micro-batch of the PPO step (default 16 / 2)")
    parser.add_argument("--response-len", type=int, help="new tokens per row (default 128 / 8)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    if not cuda and not args.smoke:
        print("no CUDA GPU: running the CPU smoke mode (--smoke); its figures are not GPU figures", file=sys.stderr)
        args.smoke = True
    size = SMOKE if args.smoke else ONE_B
    device = torch.device("cuda" if cuda and not args.smoke else "cpu")
    batch_size = args.batch or (4 if args.smoke else 64)
    micro = args.micro or (2 if args.smoke else 16)
    new_tokens = args.response_len or (8 if args.smoke else 128)
    torch.manual_seed(0)
    random.seed(0)
    if device.type == "cpu":
        torch.set_num_threads(1)  # tiny tensors: one thread beats two contended ones

    t0 = time.perf_counter()
    base = build(size, device)
    n_params = sum(p.numel() for p in base.parameters())
    lora = {
        "r": size.lora_r,
        "alpha": 16,
        "dropout": 0.0,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    }
    stack = ModelStack(base, lora, [IMAGE, PAD, BOS], 1.0).to(device)
    words = [f"w{i}" for i in range(size.vocab - len(SPECIAL_TOKENS))]
    codec = TinyCodec(build_word_tokenizer([" ".join(words)]), (size.image // size.patch) ** 2, size.image)
    assert codec.vocab_size == size.vocab
    build_s = time.perf_counter() - t0
    batch = prompts(size, batch_size, device)
    keys = torch.tensor([sample_key(0, 0, i) for i in range(batch_size)])
    memory: dict[str, float] = {}
    if device.type == "cuda":
        memory["weights"] = torch.cuda.memory_allocated(device) / 2**30

    with peak_memory(device, memory, "rollout_ours"):
        ours_s, responses = timed(lambda: sample(stack, batch, keys, new_tokens, 1.0, -1, PAD), device, args.repeats)
    with peak_memory(device, memory, "rollout_hf_generate"):
        hf_s, hf_out = timed(lambda: hf_generate(stack, batch, new_tokens), device, args.repeats)
    assert responses.shape == (batch_size, new_tokens) and hf_out.shape == (batch_size, new_tokens)
    tokens = batch_size * new_tokens

    ro, adv = synthetic_rollout(stack, batch, responses)
    with tempfile.TemporaryDirectory(prefix="gpu-bench-") as tmp:
        trainer = trainer_for(stack, codec, batch_size, micro, Path(tmp))
        with peak_memory(device, memory, "ppo_step_ours"):
            ours_step_s, _ = timed(lambda: trainer.update(ro, adv), device, args.repeats)
        trainer.run.close()
    params = stack.adapter_params(POLICY) + stack.adapter_params(VALUE) + list(stack.value_head.parameters())
    plain_opt = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.0)
    with peak_memory(device, memory, "ppo_step_plain"):
        plain_step_s, _ = timed(lambda: plain_ppo_step(stack, plain_opt, ro, adv, micro), device, args.repeats)

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({os.cpu_count()} cores)"
    prompt_len = batch.input_ids.shape[1]
    print(f"\n{size.name}: {n_params / 1e6:,.1f}M parameters, {size.dtype}, {name}; built in {build_s:.1f} s")
    print(
        f"batch {batch_size}, prompt {prompt_len} tokens (left-padded), {new_tokens} new tokens per row, "
        f"PPO micro-batch {micro}, median of {args.repeats}\n"
    )
    print("| measure | ours | plain HF | ours / plain |\n|---|---|---|---|")
    print(f"| rollout tokens/s | {tokens / ours_s:,.0f} | {tokens / hf_s:,.0f} | {hf_s / ours_s:.2f}× |")
    print(f"| rollout seconds | {ours_s:.3f} | {hf_s:.3f} | |")
    print(f"| PPO optimiser step (s) | {ours_step_s:.3f} | {plain_step_s:.3f} | {plain_step_s / ours_step_s:.2f}× faster |")
    if memory:
        print(f"| peak memory rollout (GiB) | {memory['rollout_ours']:.2f} | {memory['rollout_hf_generate']:.2f} | |")
        print(f"| peak memory PPO step (GiB) | {memory['ppo_step_ours']:.2f} | {memory['ppo_step_plain']:.2f} | |")
        print(f"weights + adapters resident: {memory['weights']:.2f} GiB")
    figures = {
        "model": size.name,
        "parameters": n_params,
        "dtype": str(size.dtype),
        "device": name,
        "batch": batch_size,
        "prompt_len": prompt_len,
        "new_tokens": new_tokens,
        "micro": micro,
        "rollout_tokens_per_s": {"ours": tokens / ours_s, "hf_generate": tokens / hf_s},
        "ppo_step_s": {"ours": ours_step_s, "plain": plain_step_s},
        "peak_memory_gib": memory,
    }
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
