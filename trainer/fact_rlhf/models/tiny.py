"""`builtin:tiny-llava`: a tiny randomly initialised LLaVA (CLIP vision tower + Llama LM)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer
from transformers import (
    CLIPImageProcessorPil,
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaProcessor,
    PreTrainedTokenizerFast,
)

from .tokenizer import BOS, EOS, IMAGE, PAD, UNK


def image_token_count(image_size: int, patch_size: int) -> int:
    """Patches per image; LLaVA's default feature strategy drops the CLS token."""
    return (image_size // patch_size) ** 2


def tiny_config(tiny: dict[str, Any], vocab: dict[str, int], max_length: int) -> LlavaConfig:
    hidden, heads = int(tiny["hidden_size"]), int(tiny["num_heads"])
    vision_hidden = int(tiny["vision_hidden_size"])
    vision_heads = 2 if vision_hidden % 2 == 0 else 1
    if hidden % heads:  # preflight reports this with file and line; this guards direct callers
        raise ValueError(f"model.tiny.hidden_size {hidden} must be a multiple of model.tiny.num_heads {heads}")
    image_size, patch = int(tiny["image_size"]), int(tiny["patch_size"])
    return LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=vision_hidden,
            intermediate_size=2 * vision_hidden,
            num_hidden_layers=2,
            num_attention_heads=vision_heads,
            image_size=image_size,
            patch_size=patch,
        ),
        text_config=LlamaConfig(
            vocab_size=len(vocab),
            hidden_size=hidden,
            intermediate_size=2 * hidden,
            num_hidden_layers=int(tiny["num_layers"]),
            num_attention_heads=heads,
            num_key_value_heads=heads,
            max_position_embeddings=max_length,
            pad_token_id=vocab[PAD],
            bos_token_id=vocab[BOS],
            eos_token_id=vocab[EOS],
            tie_word_embeddings=False,
        ),
        image_token_index=vocab[IMAGE],
        image_seq_length=image_token_count(image_size, patch),
        pad_token_id=vocab[PAD],  # type: ignore[call-arg]  # a PreTrainedConfig kwarg; transformers 5 types only LlavaConfig's own fields
    )


def build_tiny_llava(tiny: dict[str, Any], vocab: dict[str, int], max_length: int, seed: int) -> LlavaForConditionalGeneration:
    """Same arguments, same weights (the init draws from its own seeded generator state)."""
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = LlavaForConditionalGeneration(tiny_config(tiny, vocab, max_length))
        # Unit-scale logits. With the default init (std 0.02) a 64-wide model's logits stay
        # within ±0.2 whatever the hidden state is, so no adapter on the layers below could make
        # any token likely: the policy could not learn. A trained LM has a wide logit range too.
        hidden = model.config.get_text_config().hidden_size
        torch.nn.init.normal_(model.lm_head.weight, std=hidden**-0.5)
    finally:
        torch.random.set_rng_state(state)
    return model


def save_base(model: LlavaForConditionalGeneration, folder: Path) -> None:
    """config.json + model.safetensors, the layout `from_pretrained` reads (written directly:
    save_pretrained draws progress bars on stderr)."""
    folder.mkdir(parents=True, exist_ok=True)
    model.config.to_json_file(str(folder / "config.json"))
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})


def save_processor(tokenizer: Tokenizer, folder: Path, image_size: int, patch_size: int) -> None:
    """The matching LlavaProcessor (tokenizer + CLIP image processor), so the folder is a complete
    Hugging Face checkpoint that `model.policy: <run>/model` loads like any real one."""
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNK)
    images = CLIPImageProcessorPil(size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size})
    processor = LlavaProcessor(
        image_processor=images,
        tokenizer=fast,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        image_token=IMAGE,
        num_additional_image_tokens=1,
    )
    processor.save_pretrained(str(folder))


def load_base(folder: Path) -> LlavaForConditionalGeneration:
    config = LlavaConfig.from_json_file(str(folder / "config.json"))
    model = LlavaForConditionalGeneration(config)
    model.load_state_dict(load_file(str(folder / "model.safetensors")))
    return model
