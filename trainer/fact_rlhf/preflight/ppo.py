"""Checks of a PPO config before any model is loaded: batch sizes that split into whole
minibatches, the length budget, data, reward model, launch, model paths and quantization."""

from __future__ import annotations

from typing import Any

from ..config import ExperimentConfig
from .common import check_data_paths, check_launch, check_model_paths, check_quantization, check_tiny
from .problems import Collector


def _divides(c: Collector, ppo: dict[str, Any], small: str, big: str) -> None:
    # A per-device size above the batch it splits just means one chunk.
    if ppo[big] % min(ppo[small], ppo[big]):
        c.error(("ppo", big), f"must be a multiple of ppo.{small} ({ppo[small]}), got {ppo[big]}", "batch-divisibility")


def ppo_problems(config: ExperimentConfig) -> Collector:
    """Every problem of a PPO config (a missing package for a quantized base raises EnvironmentProblem)."""
    cfg = config.data
    ppo, data, model, launch = cfg["ppo"], cfg["data"], cfg["model"], cfg["launch"]
    c = Collector(config)
    _divides(c, ppo, "step_per_device_batch_size", "step_batch_size")
    _divides(c, ppo, "step_batch_size", "rollout_batch_size")
    _divides(c, ppo, "rollout_per_device_batch_size", "rollout_batch_size")
    if ppo["query_len"] + ppo["response_len"] > model["max_length"]:
        c.error(
            ("model", "max_length"),
            f"must hold ppo.query_len + ppo.response_len = {ppo['query_len'] + ppo['response_len']}, got {model['max_length']}",
            "length-budget",
        )
    builtin = data["builtin"] == "shapes"
    if not builtin and not data.get("ppo_prompts"):
        c.error(("data",), "PPO needs prompts: set data.ppo_prompts (LLaVA JSON) or data.builtin: shapes", "missing-data")
    if builtin:
        for key in ("ppo_prompts", "preference", "facts", "image_folder"):
            if data.get(key):
                c.warn(("data", key), "ignored: data.builtin is shapes, the run generates its own data", "inert-key")
    if not model.get("reward_model") and not builtin and not data.get("preference"):
        c.error(
            ("model", "reward_model"),
            "PPO needs a reward model: set model.reward_model, or data.preference "
            "(trained for ppo.reward_warmup_steps steps), or data.builtin: shapes",
            "missing-reward-model",
        )
    if not model.get("reward_model") and ppo["reward_warmup_steps"] == 0:
        c.warn(
            ("ppo", "reward_warmup_steps"),
            "0 with no model.reward_model: PPO runs against an untrained reward model",
            "untrained-reward-model",
        )
    check_launch(c, launch)
    if not builtin:
        check_data_paths(c, data)
    check_model_paths(c, model)
    if model["policy"].startswith("builtin:"):
        check_tiny(c, model["tiny"])
    check_quantization(c, config, "ppo")
    return c


def check_ppo_config(config: ExperimentConfig) -> list[str]:
    """Raises ConfigError/EnvironmentProblem for anything that would fail later; returns warnings."""
    return ppo_problems(config).raise_errors()
