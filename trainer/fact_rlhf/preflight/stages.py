"""Checks of the sft / rl_init / rm configs before any model is loaded (the PPO stage's are in
ppo.py, the model-path checks all stages share in models.py)."""

from __future__ import annotations

from typing import Any

from ..config import ExperimentConfig
from .common import check_data_paths, check_launch, check_quantization, check_tiny
from .models import policy_problem
from .problems import Collector

# Data file each stage reads when data.builtin is not `shapes`.
STAGE_DATA = {"sft": "sft", "rl_init": "sft", "rm": "preference"}
PAIRS_PER_IMAGE = 3  # the built-in world asks three questions per image


def _common(c: Collector, cfg: dict[str, Any], stage: str) -> None:
    data, model, launch = cfg["data"], cfg["model"], cfg["launch"]
    section = cfg["reward_model" if stage == "rm" else stage]
    if section["batch_size"] % min(section["per_device_batch_size"], section["batch_size"]):
        c.error(
            (("reward_model" if stage == "rm" else stage), "batch_size"),
            f"must be a multiple of per_device_batch_size ({section['per_device_batch_size']}), got {section['batch_size']}",
            "batch-divisibility",
        )
    builtin = data["builtin"] == "shapes"
    key = STAGE_DATA[stage]
    if builtin:
        for other in ("sft", "preference", "facts", "image_folder"):
            if data.get(other):
                c.warn(("data", other), "ignored: data.builtin is shapes, the run generates its own data", "inert-key")
    else:
        if not data.get(key):
            what = "conversations (LLaVA JSON)" if key == "sft" else "preference pairs (LLaVA JSON)"
            c.error(("data",), f"the {stage} stage needs {what}: set data.{key} or data.builtin: shapes", "missing-data")
        check_data_paths(c, data)
    error, warning = policy_problem(model["policy"], stage)
    if error:
        c.error(("model", "policy"), error, "model-folder")
    if warning:
        c.warn(("model", "policy"), warning, "model-folder")
    if model["policy"].startswith("builtin:"):
        check_tiny(c, model["tiny"])
    check_launch(c, launch, stage)  # several processes through torchrun, as for PPO


def stage_problems(config: ExperimentConfig, stage: str) -> Collector:
    """Every problem of an sft / rl_init / rm config."""
    cfg = config.data
    c = Collector(config)
    _common(c, cfg, stage)
    check_quantization(c, config, stage)
    if stage == "rm" and cfg["data"]["builtin"] == "shapes":
        pairs = PAIRS_PER_IMAGE * int(cfg["data"]["num_images"])
        if cfg["reward_model"]["held_out"] >= pairs:
            c.error(
                ("reward_model", "held_out"),
                f"must be below the built-in world's {pairs} pairs "
                f"({PAIRS_PER_IMAGE} per image × data.num_images), got {cfg['reward_model']['held_out']}",
                "out-of-range",
            )
    return c


def check_stage_config(config: ExperimentConfig, stage: str) -> list[str]:
    """Raises ConfigError for anything that would fail later; returns warnings."""
    return stage_problems(config, stage).raise_errors()
