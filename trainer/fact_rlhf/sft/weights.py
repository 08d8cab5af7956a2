"""What an SFT / rl_init checkpoint holds besides optimizer state:

- full fine-tune: a complete Hugging Face LLaVA folder (config.json, model.safetensors, processor
  files with tokenizer.json), which any stage, or `from_pretrained`, loads from its path;
- LoRA: the adapter (`sft/` merged into the base by later stages, `policy/` for rl_init) with
  `base.json` naming the model it was trained on, plus the processor files.

Saving is two steps: `gather` (every rank takes part when the model is sharded: the whole
tensors are collected on the writer) then `write` (the writer only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from peft import PeftModel
from safetensors.torch import load_file, save_file
from torch import Tensor
from transformers import LlavaForConditionalGeneration

from ..sharding import is_sharded, loading_whole_tensors
from ..stages.checkpoints import adapter_state, load_adapter, write_adapter, write_base_record

FULL_WEIGHTS = "model.safetensors"


def _unique_state(model: LlavaForConditionalGeneration) -> dict[str, Any]:
    """The state dict without second names for shared storage (tied embeddings): safetensors
    refuses aliases, and from_pretrained re-ties them."""
    seen: set[int] = set()
    out = {}
    for name, tensor in model.state_dict().items():
        key = tensor.untyped_storage().data_ptr()
        if key in seen and tensor.numel() > 0:
            continue
        seen.add(key)
        out[name] = tensor.detach().cpu().contiguous()
    return out


class FullWeights:
    def __init__(self, model: LlavaForConditionalGeneration, processor: Any) -> None:
        self.model, self.processor = model, processor

    def gather(self, keep: bool) -> dict[str, Tensor]:
        if not any(is_sharded(p) for p in self.model.parameters()):
            return _unique_state(self.model) if keep else {}
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        # Whole tensors on rank 0's CPU, one parameter at a time; the other ranks get none.
        state = get_model_state_dict(self.model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        # A model's state dict holds tensors only (the type covers optimizer states too).
        return {k: cast(Tensor, v).contiguous() for k, v in state.items()} if keep else {}

    def write(self, folder: Path, tensors: dict[str, Tensor]) -> None:
        self.model.config.to_json_file(str(folder / "config.json"))
        save_file(tensors, str(folder / FULL_WEIGHTS), metadata={"format": "pt"})
        self.processor.save_pretrained(str(folder))

    def save(self, folder: Path) -> None:
        self.write(folder, self.gather(keep=True))

    def load(self, folder: Path) -> None:
        state = load_file(str(folder / FULL_WEIGHTS), device=str(next(self.model.parameters()).device))
        with loading_whole_tensors(self.model):  # a sharded model keeps its shard of each tensor
            missing, unexpected = self.model.load_state_dict(state, strict=False)
        tied = {k for k in missing if k.endswith("lm_head.weight")} if self.model.config.get_text_config().tie_word_embeddings else set()
        if unexpected or set(missing) - tied:
            raise ValueError(
                f"{folder / FULL_WEIGHTS} does not fit this model (missing {sorted(set(missing) - tied)[:3]}, unexpected {unexpected[:3]})"
            )


class AdapterWeights:
    def __init__(self, model: PeftModel, adapter: str, base_record: dict[str, Any], processor: Any) -> None:
        self.model, self.adapter, self.base_record, self.processor = model, adapter, base_record, processor

    def gather(self, keep: bool) -> dict[str, Tensor]:
        return adapter_state(self.model, self.adapter, keep)

    def write(self, folder: Path, tensors: dict[str, Tensor]) -> None:
        write_adapter(self.model, self.adapter, folder / self.adapter, tensors)
        write_base_record(folder, self.base_record)
        self.processor.save_pretrained(str(folder))  # tokenizer.json for tools that read the folder

    def save(self, folder: Path) -> None:
        self.write(folder, self.gather(keep=True))

    def load(self, folder: Path) -> None:
        load_adapter(self.model, self.adapter, folder / self.adapter)
