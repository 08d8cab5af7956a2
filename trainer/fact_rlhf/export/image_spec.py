"""How images become `pixel_values` for a codec, in words a scorer outside Python can follow."""

from __future__ import annotations

from typing import Any

from ..models.codec import CLIP_MEAN, CLIP_STD, TinyCodec


def image_spec(codec: Any, size: int) -> dict[str, Any]:
    if isinstance(codec, TinyCodec):
        return {
            "mode": "RGB",
            "resize": [size, size],
            "resample": "bicubic",
            "crop": None,
            "rescale": 1 / 255,
            "mean": list(CLIP_MEAN),
            "std": list(CLIP_STD),
            "layout": "CHW",
        }
    processor = codec.processor.image_processor
    crop = getattr(processor, "crop_size", None)
    return {
        "mode": "RGB",
        "resize": getattr(processor, "size", None),
        "resample": str(getattr(processor, "resample", "bicubic")),
        "crop": dict(crop) if crop else None,
        "rescale": float(getattr(processor, "rescale_factor", 1 / 255)),
        "mean": list(getattr(processor, "image_mean", CLIP_MEAN)),
        "std": list(getattr(processor, "image_std", CLIP_STD)),
        "layout": "CHW",
        "processor": type(processor).__name__,
    }
