"""Text and image encoding for a model: prompt text with `<image>` → token ids, images → pixels.

Two implementations share one interface: `TinyCodec` (the built-in word tokenizer, image tokens
expanded here) and `ProcessorCodec` (a real checkpoint's Hugging Face processor).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import torch
from PIL import Image
from tokenizers import Tokenizer

from .tokenizer import BOS, EOS, IMAGE, PAD

# CLIP's normalisation, which LLaVA's vision tower was trained with.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class Codec(Protocol):
    pad_id: int
    eos_id: int
    image_id: int
    # Ids generation must never emit: the image placeholder (the next forward would fail),
    # padding and BOS.
    suppress_ids: list[int]

    def encode(self, text: str) -> list[int]: ...

    def pixel_values(self, image: Path) -> torch.Tensor: ...

    def decode(self, ids: list[int]) -> str: ...

    def token_id(self, text: str) -> int | None: ...


class TinyCodec:
    """The built-in tokenizer; each `<image>` becomes `image_tokens` placeholder ids."""

    def __init__(self, tokenizer: Tokenizer, image_tokens: int, image_size: int) -> None:
        self.tokenizer = tokenizer
        self.image_tokens = image_tokens
        self.image_size = image_size

        def special(name: str) -> int:
            token = tokenizer.token_to_id(name)
            if token is None:
                raise ValueError(f"tokenizer has no {name} token")
            return token

        self.pad_id, self.bos_id, self.eos_id, self.image_id = special(PAD), special(BOS), special(EOS), special(IMAGE)
        self.suppress_ids = [self.image_id, self.pad_id, self.bos_id]
        self._pixels: dict[Path, torch.Tensor] = {}

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size())

    def encode(self, text: str) -> list[int]:
        ids = [self.bos_id]
        for token in self.tokenizer.encode(text, add_special_tokens=False).ids:
            ids.extend([token] * self.image_tokens if token == self.image_id else [token])
        return ids

    def pixel_values(self, image: Path) -> torch.Tensor:
        if image not in self._pixels:  # every image is used many times per run
            with Image.open(image) as img:
                rgb = img.convert("RGB").resize((self.image_size, self.image_size), Image.Resampling.BICUBIC)
                data = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8)
            x = data.view(self.image_size, self.image_size, 3).permute(2, 0, 1).float() / 255.0
            mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
            std = torch.tensor(CLIP_STD).view(3, 1, 1)
            self._pixels[image] = (x - mean) / std
        return self._pixels[image]

    def decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=True)).strip()

    def token_id(self, text: str) -> int | None:
        ids = self.tokenizer.encode(text, add_special_tokens=False).ids
        return ids[0] if len(ids) == 1 else None


class ProcessorCodec:
    """A real checkpoint's processor (tokenizer + image processor, which expands `<image>`)."""

    def __init__(self, processor: Any, image_token_id: int) -> None:
        self.processor = processor
        tok = processor.tokenizer
        self.tokenizer = tok
        self.image_id = image_token_id
        self.eos_id = int(tok.eos_token_id)
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.unk_token_id
        self.pad_id = int(pad if pad is not None else self.eos_id)
        self.bos_id = tok.bos_token_id
        self.suppress_ids = sorted({i for i in (self.image_id, self.pad_id, self.bos_id) if i is not None and i != self.eos_id})
        self._pixels: dict[Path, torch.Tensor] = {}
        self._blank = Image.new("RGB", (32, 32))

    def encode(self, text: str) -> list[int]:
        # The processor expands `<image>` to the vision tower's number of patches; the image
        # itself does not change the token count, so a blank one stands in.
        out = self.processor(text=[text], images=[self._blank] if "<image>" in text else None, return_tensors="pt")
        return [int(i) for i in out["input_ids"][0]]

    def pixel_values(self, image: Path) -> torch.Tensor:
        if image not in self._pixels:
            with Image.open(image) as img:
                out = self.processor.image_processor(images=[img.convert("RGB")], return_tensors="pt")
            self._pixels[image] = out["pixel_values"][0]
        return self._pixels[image]

    def decode(self, ids: list[int]) -> str:
        return str(self.tokenizer.decode(ids, skip_special_tokens=True)).strip()

    def token_id(self, text: str) -> int | None:
        ids = self.tokenizer.encode(text, add_special_tokens=False)
        return int(ids[0]) if len(ids) == 1 else None
