"""The `ppo` section as the PPO stage, its loop and its rollouts read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

from ..config.sections import typed_section


@dataclass(frozen=True)
class PPOHyper:
    # batches
    rollout_batch_size: int
    rollout_per_device_batch_size: int
    step_batch_size: int
    step_per_device_batch_size: int
    ppo_epochs: int
    total_epochs: float
    max_iterations: int | None
    # optimiser
    learning_rate: float
    warmup_iterations: int
    lr_schedule: Literal["cosine", "constant", "linear"]
    grad_clip: float
    # KL
    kl_coef: float
    kl_estimator: Literal["k1", "k3"]
    kl_controller: Literal["fixed", "adaptive"]
    target_kl: float
    # losses and advantages
    clip_range: float
    value_clip_range: float
    value_loss_coef: float
    gamma: float
    lam: float
    reward_scale: float
    whiten: bool
    whiten_rewards: bool
    # sampling and reward terms
    temperature: float
    top_p: float
    query_len: int
    response_len: int
    no_eos_penalty: float
    length_penalty: float
    correct_choice_bonus: float
    truncate_at: str | None
    # the stage around the loop
    init_value_from_reward_model: bool
    save_every: int
    samples_per_step: int
    reward_warmup_steps: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> "PPOHyper":
        """From the loaded config's `ppo` section (its defaults are the schema's)."""
        return typed_section(cls, section, "ppo")
