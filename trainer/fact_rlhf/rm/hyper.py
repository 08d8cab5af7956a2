"""The `reward_model` section as the rm stage and the PPO reward warm-up read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..config.sections import typed_section


@dataclass(frozen=True)
class RewardHyper:
    fact_augmentation: bool
    epochs: float
    learning_rate: float
    batch_size: int
    per_device_batch_size: int
    warmup_ratio: float
    grad_clip: float
    eval_every: int
    held_out: int
    centering_coef: float

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "RewardHyper":
        """From the loaded config's `reward_model` section (its defaults are the schema's)."""
        return typed_section(cls, section, "reward_model")
