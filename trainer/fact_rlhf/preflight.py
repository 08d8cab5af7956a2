"""Checks that run before any model is loaded: packages, cross-field config rules, files, device.

All problems are collected and reported together, each naming file, line and key.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import ExperimentConfig
from .config.yaml_source import JsonPath
from .errors import ConfigError, EnvironmentProblem
from .packages import missing_packages

BUILTIN_POLICIES = ("builtin:tiny-llava",)


class _Collector:
    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, path: JsonPath, message: str) -> None:
        self.errors.append(self.config.problem(path, message))

    def warn(self, path: JsonPath, message: str) -> None:
        self.warnings.append(self.config.problem(path, message))


def _divides(c: _Collector, ppo: dict[str, Any], small: str, big: str) -> None:
    # A per-device size above the batch it splits just means one chunk.
    if ppo[big] % min(ppo[small], ppo[big]):
        c.error(("ppo", big), f"must be a multiple of ppo.{small} ({ppo[small]}), got {ppo[big]}")


def _check_data_paths(c: _Collector, data: dict[str, Any]) -> None:
    for key in ("facts", "sft", "preference", "ppo_prompts", "eval"):
        value = data.get(key)
        if value and not Path(value).is_file():
            c.error(("data", key), f"file not found: {value}")
    folder = data.get("image_folder")
    if folder and not Path(folder).is_dir():
        c.error(("data", "image_folder"), f"folder not found: {folder}")


def _check_tiny(c: _Collector, tiny: dict[str, Any]) -> None:
    if tiny["hidden_size"] % tiny["num_heads"]:
        c.error(("model", "tiny", "hidden_size"), f"must be a multiple of model.tiny.num_heads ({tiny['num_heads']}), got {tiny['hidden_size']}")
    if tiny["image_size"] % tiny["patch_size"]:
        c.error(("model", "tiny", "image_size"), f"must be a multiple of model.tiny.patch_size ({tiny['patch_size']}), got {tiny['image_size']}")


def _check_model_paths(c: _Collector, model: dict[str, Any]) -> None:
    policy = model["policy"]
    if policy.startswith("builtin:"):
        if policy not in BUILTIN_POLICIES:
            c.error(("model", "policy"), f"unknown built-in model {policy!r}; available: {', '.join(BUILTIN_POLICIES)}")
    else:
        from .stages.preflight import policy_problem  # model folders, sft / rl_init runs and checkpoints

        problem, _ = policy_problem(policy, "ppo")
        if problem:
            c.error(("model", "policy"), problem)
    reward_model = model.get("reward_model")
    if reward_model:
        from .stages.preflight import reward_model_problem  # rm runs; the base must be the policy's

        problem = reward_model_problem(policy, reward_model)
        if problem:
            c.error(("model", "reward_model"), problem)


def _check_launch(c: _Collector, launch: dict[str, Any], stage: str = "ppo") -> None:
    from .distributed import under_torchrun

    backend = launch["backend"]
    if backend in ("slurm", "ray"):
        c.error(("launch", "backend"), f"{backend} is not available yet in this trainer; use local or torchrun "
                "(under Slurm, start torchrun from the job script)")
    elif backend == "local" and launch["nodes"] > 1:
        c.error(("launch", "nodes"), "several nodes need backend: torchrun")
    elif backend == "torchrun" and launch["nodes"] > 1 and not under_torchrun():
        c.error(("launch", "nodes"), "several nodes: start `torchrun --nnodes=N --nproc_per_node=G --rdzv-backend=c10d "
                f"--rdzv-endpoint=HOST:PORT -m fact_rlhf {stage} --config FILE --run-dir DIR` on every node "
                "(the self-launch covers one node)")
    elif backend == "local" and launch["gpus"] > 1 and not under_torchrun():
        c.warn(("launch", "gpus"), "backend local uses one device; set launch.backend: torchrun to train on all of them")
    if backend != "torchrun" and launch.get("processes", 0) > 1 and not under_torchrun():
        c.warn(("launch", "processes"), "ignored: launch.processes applies to backend torchrun")
    if launch.get("strategy", "ddp") == "fsdp" and backend != "torchrun" and not under_torchrun():
        c.warn(("launch", "strategy"), "fsdp shards the model over several processes (backend torchrun); "
               "this run has one process and keeps the whole model")


def _check_quantization(c: _Collector, config: ExperimentConfig, stage: str) -> None:
    """4-bit/8-bit bases: bitsandbytes installed (else what to install), a CUDA device, a model
    folder (the built-in model is built in memory by PPO), adapters only, and no FSDP."""
    cfg = config.data
    model, launch = cfg["model"], cfg["launch"]
    quantization = model["quantization"]
    if quantization == "none":
        return
    missing = missing_packages({"bitsandbytes": "bitsandbytes"})
    if missing:
        raise EnvironmentProblem(config.problem(("model", "quantization"), missing[0]))
    where = ("model", "quantization")
    if launch["device"] == "cpu":
        c.error(where, f"{quantization} runs on a CUDA GPU only (bitsandbytes), but launch.device is cpu; use none")
    if stage == "ppo" and model["policy"].startswith("builtin:"):
        c.error(where, f"{quantization} applies to a model folder or an sft / rl_init run; the PPO stage builds "
                f"{model['policy']} in memory in full precision: use none")
    if stage == "sft" and not cfg["sft"]["use_lora"]:
        c.error(where, f"{quantization} bases are frozen: a full fine-tune cannot train them; set sft.use_lora: true or use none")
    if launch.get("strategy", "ddp") == "fsdp":
        c.error(where, f"{quantization} bases cannot be sharded by launch.strategy: fsdp; use ddp")


def check_ppo_config(config: ExperimentConfig) -> list[str]:
    """Raises ConfigError/EnvironmentProblem for anything that would fail later; returns warnings."""
    cfg = config.data
    ppo, data, model, launch = cfg["ppo"], cfg["data"], cfg["model"], cfg["launch"]
    c = _Collector(config)
    _divides(c, ppo, "step_per_device_batch_size", "step_batch_size")
    _divides(c, ppo, "step_batch_size", "rollout_batch_size")
    _divides(c, ppo, "rollout_per_device_batch_size", "rollout_batch_size")
    if ppo["query_len"] + ppo["response_len"] > model["max_length"]:
        c.error(("model", "max_length"), f"must hold ppo.query_len + ppo.response_len = {ppo['query_len'] + ppo['response_len']}, got {model['max_length']}")
    builtin = data["builtin"] == "shapes"
    if not builtin and not data.get("ppo_prompts"):
        c.error(("data",), "PPO needs prompts: set data.ppo_prompts (LLaVA JSON) or data.builtin: shapes")
    if builtin:
        for key in ("ppo_prompts", "preference", "facts", "image_folder"):
            if data.get(key):
                c.warn(("data", key), "ignored: data.builtin is shapes, the run generates its own data")
    if not model.get("reward_model") and not builtin and not data.get("preference"):
        c.error(("model", "reward_model"), "PPO needs a reward model: set model.reward_model, or data.preference "
                "(trained for ppo.reward_warmup_steps steps), or data.builtin: shapes")
    if not model.get("reward_model") and ppo["reward_warmup_steps"] == 0:
        c.warn(("ppo", "reward_warmup_steps"), "0 with no model.reward_model: PPO runs against an untrained reward model")
    _check_launch(c, launch)
    if not builtin:
        _check_data_paths(c, data)
    _check_model_paths(c, model)
    if model["policy"].startswith("builtin:"):
        _check_tiny(c, model["tiny"])
    _check_quantization(c, config, "ppo")
    if c.errors:
        raise ConfigError(c.errors)
    return c.warnings


def resolve_device(config: ExperimentConfig) -> str:
    """`cpu` or `cuda`; `launch.device: cuda` without a visible GPU is an error."""
    import torch

    wanted = config.data["launch"]["device"]
    available = torch.cuda.is_available()
    if wanted == "cuda" and not available:
        build = torch.version.cuda or "none (CPU-only build)"
        raise EnvironmentProblem(
            config.problem(("launch", "device"), f"cuda requested but PyTorch sees no CUDA GPU "
                           f"(torch {torch.__version__}, CUDA build: {build}); use auto or cpu")
        )
    if config.data["model"]["dtype"] == "fp16" and not (wanted != "cpu" and available):
        raise ConfigError([config.problem(("model", "dtype"), "fp16 needs a GPU; use fp32 or bf16 on CPU")])
    device = "cuda" if wanted in ("cuda", "auto") and available else "cpu"
    if config.data["model"]["quantization"] != "none":
        from .models.pretrained import quantization_problem

        problem = quantization_problem(config.data["model"]["quantization"], device)
        if problem:
            raise ConfigError([config.problem(("model", "quantization"), problem)])
    return device
