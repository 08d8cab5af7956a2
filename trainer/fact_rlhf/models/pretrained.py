"""Real LLaVA-family checkpoints from a local folder (never downloads: local_files_only), in
full precision or, with `model.quantization`, 4-bit NF4 / 8-bit through bitsandbytes (QLoRA, as
the reference recipe keeps its shared base)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch
from transformers import AutoProcessor, LlavaForConditionalGeneration

from ..errors import EnvironmentProblem, UsageError
from .checkpoint_check import policy_folder_problem
from .codec import ProcessorCodec

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
QUANTIZATIONS = ("4bit", "8bit")
# Kept in full precision: the frozen vision tower and projector (small, and the image features
# they give are what the reward model must ground on) and the LM head (as QLoRA keeps it).
UNQUANTIZED_MODULES = ["vision_tower", "multi_modal_projector", "lm_head"]
BITSANDBYTES = "bitsandbytes"


def bitsandbytes_available() -> bool:
    return importlib.util.find_spec(BITSANDBYTES) is not None


def quantization_problem(quantization: str, device: str) -> str | None:
    """Why `model.quantization` cannot be used here, or None."""
    if quantization == "none":
        return None
    if not bitsandbytes_available():
        return (
            f"{quantization} needs the Python package '{BITSANDBYTES}' (and a CUDA GPU): "
            f"pip install {BITSANDBYTES}; or set model.quantization: none"
        )
    if not device.startswith("cuda"):
        return f"{quantization} runs on a CUDA GPU only (bitsandbytes), but the run's device is {device}; use model.quantization: none"
    return None


def quantization_kwargs(quantization: str, dtype: str, device: str) -> dict[str, Any]:
    """`from_pretrained` keyword arguments for `model.quantization` (none: no arguments): 4bit is
    NF4 with double quantisation and `model.dtype` compute (the reference: bf16), 8bit is
    LLM.int8(); the whole model on this rank's GPU. Raises EnvironmentProblem / UsageError."""
    if quantization == "none":
        return {}
    if quantization not in QUANTIZATIONS:
        raise UsageError(f"model.quantization: unknown value {quantization!r} (none, 4bit or 8bit)")
    problem = quantization_problem(quantization, device)
    if problem:
        raise (UsageError if bitsandbytes_available() else EnvironmentProblem)(f"model.quantization: {problem}")
    from transformers import BitsAndBytesConfig

    if quantization == "4bit":
        config = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=DTYPES[dtype],
            llm_int8_skip_modules=list(UNQUANTIZED_MODULES),
        )
    else:
        config = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=list(UNQUANTIZED_MODULES))
    index = torch.device(device).index
    return {"quantization_config": config, "device_map": {"": index if index is not None else 0}}


def is_quantized(model: torch.nn.Module) -> bool:
    return bool(getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False))


def load_pretrained(
    folder: Path, dtype: str, quantization: str = "none", device: str = "cpu"
) -> tuple[LlavaForConditionalGeneration, ProcessorCodec]:
    problem = policy_folder_problem(folder)
    if problem:
        raise UsageError(f"model.policy: {problem}")
    extra = quantization_kwargs(quantization, dtype, device)  # before any weight is read
    try:
        processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise UsageError(f"model.policy: cannot load the processor (tokenizer + image processor) from {folder}: {exc}") from exc
    model: LlavaForConditionalGeneration = LlavaForConditionalGeneration.from_pretrained(
        folder, local_files_only=True, dtype=DTYPES[dtype], **extra
    )
    if extra:
        from peft import prepare_model_for_kbit_training

        # Frozen quantised base, full-precision norms; checkpointing is ours (models/checkpointing).
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model, ProcessorCodec(processor, int(model.config.image_token_id))
