"""Checks of the sft / rl_init / rm configs before any model is loaded (the PPO stage's are in
preflight.py), and the model-path checks the PPO stage shares: run directories and stage
checkpoints as `model.policy`, reward-model runs and their base model as `model.reward_model`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import ExperimentConfig
from ..errors import ConfigError
from ..preflight import BUILTIN_POLICIES, _check_data_paths, _check_launch, _check_quantization, _check_tiny, _Collector
from .sources import BASE_FILE, SourceError, base_of, resolve_policy, resolve_reward, reward_base_signature, signature

# Data file each stage reads when data.builtin is not `shapes`.
STAGE_DATA = {"sft": "sft", "rl_init": "sft", "rm": "preference"}
PAIRS_PER_IMAGE = 3  # the built-in world asks three questions per image


def policy_problem(policy: str, stage: str) -> tuple[str | None, str | None]:
    """(error, warning) about `model.policy` for `stage`."""
    if policy.startswith("builtin:"):
        if policy not in BUILTIN_POLICIES:
            return f"unknown built-in model {policy!r}; available: {', '.join(BUILTIN_POLICIES)}", None
        return None, None
    try:
        source = resolve_policy(Path(policy))
    except SourceError as exc:
        return str(exc), None
    if source.policy_adapter is not None and stage in ("sft", "rl_init"):
        return f"{policy} is an rl_init policy; {stage} trains on an SFT model (an sft run, a model folder or builtin:tiny-llava)", None
    if source.policy_adapter is not None and stage == "rm":
        return None, f"{policy} is an rl_init policy: the reward model is trained on its SFT base {source.folder}"
    return None, None


def reward_model_problem(policy: str, reward_model: str) -> str | None:
    """Why `model.reward_model` cannot serve a PPO run on `model.policy`, or None. A reward
    adapter only means something on the base it was trained on, so that base must match."""
    try:
        folder = resolve_reward(Path(reward_model))
    except SourceError as exc:
        return str(exc)
    expected = reward_base_signature(folder)
    if expected is None:
        return None  # trained elsewhere: nothing recorded to compare
    trained_on = base_of(folder)
    if policy.startswith("builtin:"):
        return (f"{folder} was trained on the base model {trained_on}; with model.policy {policy} the run builds a new "
                f"random model the reward adapter does not fit: set model.policy to {trained_on} (or an sft / rl_init run on it)")
    try:
        actual = signature(resolve_policy(Path(policy)).base)
    except SourceError:
        return None  # model.policy reports its own problem
    if actual != expected:
        return (f"{folder} was trained on the base model {trained_on}, not on the base of model.policy ({policy}); "
                f"a reward adapter only works on its own base ({BASE_FILE} fingerprints differ)")
    return None


def _common(c: _Collector, cfg: dict[str, Any], stage: str) -> None:
    data, model, launch = cfg["data"], cfg["model"], cfg["launch"]
    section = cfg["reward_model" if stage == "rm" else stage]
    if section["batch_size"] % min(section["per_device_batch_size"], section["batch_size"]):
        c.error((("reward_model" if stage == "rm" else stage), "batch_size"),
                f"must be a multiple of per_device_batch_size ({section['per_device_batch_size']}), got {section['batch_size']}")
    builtin = data["builtin"] == "shapes"
    key = STAGE_DATA[stage]
    if builtin:
        for other in ("sft", "preference", "facts", "image_folder"):
            if data.get(other):
                c.warn(("data", other), "ignored: data.builtin is shapes, the run generates its own data")
    else:
        if not data.get(key):
            what = "conversations (LLaVA JSON)" if key == "sft" else "preference pairs (LLaVA JSON)"
            c.error(("data",), f"the {stage} stage needs {what}: set data.{key} or data.builtin: shapes")
        _check_data_paths(c, data)
    error, warning = policy_problem(model["policy"], stage)
    if error:
        c.error(("model", "policy"), error)
    if warning:
        c.warn(("model", "policy"), warning)
    if model["policy"].startswith("builtin:"):
        _check_tiny(c, model["tiny"])
    _check_launch(c, launch, stage)  # several processes through torchrun, as for PPO


def check_stage_config(config: ExperimentConfig, stage: str) -> list[str]:
    """Raises ConfigError for anything that would fail later; returns warnings."""
    cfg = config.data
    c = _Collector(config)
    _common(c, cfg, stage)
    _check_quantization(c, config, stage)
    if stage == "rm" and cfg["data"]["builtin"] == "shapes":
        pairs = PAIRS_PER_IMAGE * int(cfg["data"]["num_images"])
        if cfg["reward_model"]["held_out"] >= pairs:
            c.error(("reward_model", "held_out"), f"must be below the built-in world's {pairs} pairs "
                    f"({PAIRS_PER_IMAGE} per image × data.num_images), got {cfg['reward_model']['held_out']}")
    if c.errors:
        raise ConfigError(c.errors)
    return c.warnings
