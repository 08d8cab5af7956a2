"""The policy an `eval` run answers with, and greedy answers to image questions.

`eval.checkpoint` (else `model.policy`) may name:
- `builtin:tiny-llava`: a fresh random tiny model, written into the eval run (a smoke test);
- a `ppo` run directory or one of its checkpoints: the run's base (for the built-in model the
  `model/` and `tokenizer.json` it saved, read with the same tokenizer PPO used) plus the
  checkpoint's `policy/` LoRA;
- anything the other stages accept as `model.policy` (stages/sources.py): a Hugging Face LLaVA
  folder, an `sft` run (LoRA SFT merged in), an `rl_init` run (with its policy LoRA), an `rm` run.
Prompts use the Vicuna-v1 template every stage trains with (algo/rm_prompt.policy_prompt).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import torch
from peft import PeftModel, get_peft_model
from transformers.generation import GenerationMixin

from ..algo.rm_prompt import policy_prompt
from ..errors import UsageError
from ..models.codec import Codec, TinyCodec
from ..models.pretrained import DTYPES
from ..models.stack import SeqBatch, left_pad
from ..models.tiny import image_token_count, load_base
from ..models.tokenizer import load_word_tokenizer
from ..stages.checkpoints import load_adapter
from ..stages.loading import adapter_config, load_source, stage_source
from ..stages.sources import MANIFEST, POLICY_ADAPTER, SourceError, resolve_policy
from .sources import BASE_DIR, TOKENIZER_FILE, ppo_checkpoint, run_config


@dataclass
class EvalModel:
    model: torch.nn.Module  # a LLaVA model, or a peft model with its policy adapter active
    codec: Codec
    description: str
    image_size: int  # the side the model was trained on (the built-in world is drawn at it)


@dataclass(frozen=True)
class EvalPrompt:
    id: str
    image: Path
    question: str


@dataclass(frozen=True)
class Answer:
    text: str
    tokens: int  # generated tokens, EOS excluded
    ended: bool  # stopped at EOS (not at max_new_tokens)


def _with_policy(base: torch.nn.Module, adapter: Path) -> PeftModel:
    model = get_peft_model(base, adapter_config(adapter), adapter_name=POLICY_ADAPTER)
    load_adapter(model, POLICY_ADAPTER, adapter)
    return model


def _load_ppo(run: Path, checkpoint: Path, device: str) -> EvalModel:
    config = run_config(run)
    model_cfg = config["model"]
    tiny = model_cfg["tiny"]
    if str(model_cfg["policy"]).startswith("builtin:"):
        size, patch = int(tiny["image_size"]), int(tiny["patch_size"])
        codec: Codec = TinyCodec(load_word_tokenizer(run / TOKENIZER_FILE), image_token_count(size, patch), size)
        base = load_base(run / BASE_DIR).to(DTYPES[model_cfg["dtype"]])  # type: ignore[arg-type]  # transformers types PreTrainedModel.to through functools.wraps of an unbound method
    else:
        base, codec = load_source(resolve_policy(Path(model_cfg["policy"])).base, model_cfg["dtype"])
    model = _with_policy(base, checkpoint / POLICY_ADAPTER)
    return EvalModel(model.to(torch.device(device)).eval(), codec, f"ppo checkpoint {checkpoint}", int(tiny["image_size"]))


def load_eval_model(config: dict[str, Any], run_dir: Path, device: str, corpus: Iterable[str]) -> EvalModel:
    """The model `eval.checkpoint` (else `model.policy`) names; `corpus` builds a fresh built-in
    model's tokenizer. Raises UsageError for a path it cannot use."""
    target = str(config["eval"].get("checkpoint") or config["model"]["policy"])
    size = int(config["model"]["tiny"]["image_size"])
    try:
        if target.startswith("builtin:"):
            source = stage_source(config, corpus, run_dir, resume=False)
            base, codec = load_source(source, config["model"]["dtype"])
            return EvalModel(base.to(torch.device(device)).eval(), codec, f"{target} (random initialisation)", size)  # type: ignore[arg-type]  # transformers types PreTrainedModel.to through functools.wraps of an unbound method
        ppo = ppo_checkpoint(Path(target))
        if ppo is not None:
            return _load_ppo(*ppo, device)
        source = resolve_policy(Path(target))
    except SourceError as exc:
        raise UsageError(f"eval.checkpoint: {exc}") from exc
    base, codec = load_source(source, config["model"]["dtype"])
    model: torch.nn.Module = base if source.policy_adapter is None else _with_policy(base, source.policy_adapter)
    if source.folder.name == BASE_DIR and (source.folder.parent / MANIFEST).is_file():
        size = int(run_config(source.folder.parent)["model"]["tiny"]["image_size"])  # a run's built-in base
    return EvalModel(model.to(torch.device(device)).eval(), codec, str(source.given or target), size)


def _cut(tokens: list[int], eos_id: int) -> tuple[list[int], bool]:
    return (tokens[: tokens.index(eos_id)], True) if eos_id in tokens else (tokens, False)


@torch.no_grad()
def generate_answers(
    model: EvalModel,
    prompts: Sequence[EvalPrompt],
    max_new_tokens: int,
    batch_size: int,
    progress: Callable[[int], bool],
) -> list[Answer] | None:
    """Greedy answers, in prompt order; `progress(done)` after each batch returns False to stop
    (then None is returned)."""
    codec, net = model.codec, model.model
    assert isinstance(net, (GenerationMixin, PeftModel)), f"cannot generate with {type(net).__name__}"
    device = next(net.parameters()).device
    dtype = next(net.parameters()).dtype
    encoded = [codec.encode(policy_prompt([{"from": "human", "value": f"<image>\n{p.question}"}])) for p in prompts]
    answers: list[Answer] = []
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start : start + batch_size]
        ids, mask = left_pad(encoded[start : start + batch_size], codec.pad_id)
        batch = SeqBatch(ids, mask, torch.stack([codec.pixel_values(p.image) for p in chunk]))
        out = net.generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            position_ids=batch.position_ids.to(device),
            pixel_values=batch.pixel_values.to(device, dtype=dtype),
            do_sample=False,
            max_new_tokens=max_new_tokens,
            eos_token_id=codec.eos_id,
            pad_token_id=codec.pad_id,
            suppress_tokens=codec.suppress_ids,
            use_cache=True,
        )
        for row in out[:, ids.shape[1] :].tolist():
            tokens, ended = _cut(row, codec.eos_id)
            answers.append(Answer(codec.decode(tokens), len(tokens), ended))
        if not progress(len(answers)):
            return None
    return answers
