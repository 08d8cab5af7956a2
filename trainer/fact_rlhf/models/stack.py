"""The four PPO models on one shared frozen base (as the reference code keeps them):

- policy    = base + `policy` LoRA adapter (trainable)
- reference = base with adapters disabled (frozen); or, when the policy starts from an rl_init
              LoRA, a frozen `reference` copy of that adapter
- value     = base + `value` LoRA adapter + zero-initialised linear head (trainable)
- reward    = base + `reward` LoRA adapter + linear head with bias 0, read at the last token

Adapters sit on the language model's projections only; the vision tower and projector stay frozen.
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass
from typing import Any, Iterator, cast

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from torch import Tensor, nn
from transformers import LlavaForConditionalGeneration

POLICY, VALUE, REWARD = "policy", "value", "reward"
ADAPTERS = (POLICY, VALUE, REWARD)
# Only when the policy starts from a trained adapter (an rl_init run): the frozen reference is
# that adapter, not the bare base. Never trained, never checkpointed (reloaded from its run).
REFERENCE = "reference"
SUPPRESSED_LOGIT = -1e9


@dataclass
class SeqBatch:
    """Token sequences (left-padded) with their images."""

    input_ids: Tensor  # [B, L]
    attention_mask: Tensor  # [B, L]
    pixel_values: Tensor  # [B, 3, H, W]

    @property
    def position_ids(self) -> Tensor:
        # The same positions `generate` uses for left-padded prompts.
        return (self.attention_mask.long().cumsum(-1) - 1).clamp(min=0)

    def select(self, index: Tensor | slice) -> "SeqBatch":
        return SeqBatch(self.input_ids[index], self.attention_mask[index], self.pixel_values[index])

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])


def left_pad(seqs: list[list[int]], pad_id: int) -> tuple[Tensor, Tensor]:
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, width - len(s) :] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s) :] = 1
    return ids, mask


def lora_config(lora: dict[str, Any]) -> LoraConfig:
    names = "|".join(re.escape(m) for m in lora["target_modules"])
    return LoraConfig(
        r=int(lora["r"]),
        lora_alpha=float(lora["alpha"]),  # type: ignore[arg-type]  # peft types it int; the schema allows a fractional alpha and peft scales by it as is
        lora_dropout=float(lora["dropout"]),
        # Language model only: the CLIP tower has q/k/v projections of the same names.
        target_modules=rf".*language_model.*\.({names})$",
        bias="none",
    )


class ModelStack:
    """Policy, reference, value and reward model as adapters on one base model."""

    def __init__(
        self,
        base: LlavaForConditionalGeneration,
        lora: dict[str, Any],
        suppress_ids: list[int],
        temperature: float,
        adapter_configs: dict[str, LoraConfig] | None = None,
        reference_adapter: bool = False,
    ) -> None:
        """`adapter_configs` overrides `lora` per adapter (a loaded reward model or rl_init policy
        keeps the shape it was trained with); `reference_adapter` adds the REFERENCE adapter."""
        config = lora_config(lora)
        configs = {name: (adapter_configs or {}).get(name, config) for name in ADAPTERS}
        for p in base.parameters():
            p.requires_grad_(False)
        self.model: PeftModel = get_peft_model(base, configs[POLICY], adapter_name=POLICY)
        self.model.add_adapter(VALUE, configs[VALUE])
        self.model.add_adapter(REWARD, configs[REWARD])
        self.has_reference_adapter = reference_adapter
        if reference_adapter:
            self.model.add_adapter(REFERENCE, configs[POLICY])
        self.model.eval()  # no dropout anywhere: PPO ratios start at exactly 1
        hidden = int(base.config.get_text_config().hidden_size)
        dtype = next(base.parameters()).dtype
        self.value_head = nn.Linear(hidden, 1).to(dtype)
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)
        self.reward_head = nn.Linear(hidden, 1).to(dtype)
        nn.init.normal_(self.reward_head.weight, std=1.0 / math.sqrt(hidden + 1))
        nn.init.zeros_(self.reward_head.bias)
        self.suppress_ids = suppress_ids
        self.temperature = temperature
        self._trainable: set[str] = {POLICY, VALUE}
        self._select(POLICY)

    # --- parameters ---------------------------------------------------------------------------
    def adapter_params(self, adapter: str) -> list[nn.Parameter]:
        tag = f".{adapter}."
        return [p for n, p in self.model.named_parameters() if "lora_" in n and tag in n]

    def set_trainable(self, adapters: set[str]) -> None:
        """Which adapters (and their heads) receive gradients; the others are frozen."""
        self._trainable = set(adapters)
        self._apply_trainable()

    def _apply_trainable(self) -> None:
        for adapter in ADAPTERS:
            for p in self.adapter_params(adapter):
                p.requires_grad_(adapter in self._trainable)
        for p in self.adapter_params(REFERENCE):
            p.requires_grad_(False)
        self.value_head.requires_grad_(VALUE in self._trainable)
        self.reward_head.requires_grad_(REWARD in self._trainable)

    def to(self, device: torch.device) -> "ModelStack":
        self.model.to(device)
        self.value_head.to(device)
        self.reward_head.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return self.value_head.weight.device

    def _select(self, adapter: str) -> None:
        self.model.set_adapter(adapter)
        self._apply_trainable()  # peft's set_adapter would freeze the other adapters

    def use_adapter(self, adapter: str) -> None:
        """Activates `adapter` for direct `self.model` calls (e.g. a custom sampling loop)."""
        self._select(adapter)

    @contextlib.contextmanager
    def reference(self) -> Iterator[None]:
        if self.has_reference_adapter:
            self._select(REFERENCE)  # every forward selects its own adapter first
            yield
            return
        with self.model.disable_adapter():
            yield

    @property
    def lm(self) -> LlavaForConditionalGeneration:
        # peft's LoraModel holds the wrapped model as `.model` (typed as any submodule).
        return cast(LlavaForConditionalGeneration, self.model.base_model.model)

    # --- forwards -----------------------------------------------------------------------------
    def _inputs(self, batch: SeqBatch) -> dict[str, Tensor]:
        dev = self.device
        return {
            "input_ids": batch.input_ids.to(dev),
            "attention_mask": batch.attention_mask.to(dev),
            "position_ids": batch.position_ids.to(dev),
            "pixel_values": batch.pixel_values.to(dev, dtype=self.value_head.weight.dtype),
        }

    def shape_logits(self, logits: Tensor) -> Tensor:
        """The sampling distribution: temperature, and suppressed ids removed (as in generation).
        A large finite negative instead of -inf keeps entropies and padded log-probs finite."""
        logits = logits.float() / self.temperature
        if self.suppress_ids:
            logits[..., self.suppress_ids] = SUPPRESSED_LOGIT
        return logits

    def response_logits(self, batch: SeqBatch, n: int, reference: bool = False) -> Tensor:
        """Logits [B, n, V] that predict the last `n` tokens of each sequence (the response)."""
        if not reference:
            self._select(POLICY)
        ctx = self.reference() if reference else contextlib.nullcontext()
        with ctx:
            out = self.model(**self._inputs(batch), logits_to_keep=n + 1, use_cache=False)
        return self.shape_logits(out.logits[:, :-1])

    def hidden(self, batch: SeqBatch, adapter: str) -> Tensor:
        """Final (normed) hidden states [B, L, H] of the language model under `adapter`."""
        self._select(adapter)
        out = self.lm.model(**self._inputs(batch), use_cache=False)
        hidden: Tensor = out.last_hidden_state
        return hidden

    def values(self, batch: SeqBatch, n: int) -> Tensor:
        """V(s_t) for the last `n` tokens: read at the state before each response token."""
        h = self.hidden(batch, VALUE)[:, -n - 1 : -1]
        return self.value_head(h).squeeze(-1).float()

    def rewards(self, batch: SeqBatch) -> Tensor:
        """Scalar RM score per sequence, read at the last token (sequences are left-padded)."""
        h = self.hidden(batch, REWARD)[:, -1]
        return self.reward_head(h).squeeze(-1).float()

    @torch.no_grad()
    def generate(self, batch: SeqBatch, max_new_tokens: int, top_p: float, eos_id: int, pad_id: int) -> Tensor:
        """Sampled continuations [B, T'] (T' ≤ max_new_tokens); suppressed ids never appear."""
        self._select(POLICY)
        out = self.model.generate(
            **self._inputs(batch),
            do_sample=True,
            temperature=self.temperature,
            top_p=top_p,
            top_k=0,
            max_new_tokens=max_new_tokens,
            eos_token_id=eos_id,
            pad_token_id=pad_id,
            suppress_tokens=self.suppress_ids,
            use_cache=True,
        )
        new: Tensor = out[:, batch.input_ids.shape[1] :].cpu()
        return new


def logprobs_of(logits: Tensor, tokens: Tensor) -> Tensor:
    """log π(token) [B, T] from already shaped logits [B, T, V]."""
    return torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
