"""Real LLaVA-family checkpoints from a local folder (never downloads: local_files_only)."""
from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoProcessor, LlavaForConditionalGeneration

from ..errors import UsageError
from .checkpoint_check import policy_folder_problem
from .codec import ProcessorCodec

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def load_pretrained(folder: Path, dtype: str) -> tuple[LlavaForConditionalGeneration, ProcessorCodec]:
    problem = policy_folder_problem(folder)
    if problem:
        raise UsageError(f"model.policy: {problem}")
    try:
        processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UsageError(f"model.policy: cannot load the processor (tokenizer + image processor) from {folder}: {exc}") from exc
    model: LlavaForConditionalGeneration = LlavaForConditionalGeneration.from_pretrained(
        folder, local_files_only=True, dtype=DTYPES[dtype]
    )
    return model, ProcessorCodec(processor, int(model.config.image_token_id))
