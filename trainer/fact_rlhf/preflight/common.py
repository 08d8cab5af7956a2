"""Checks every stage shares: data files, the built-in model's shape, the launch settings,
quantized bases and model paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import ExperimentConfig
from ..distributed import under_torchrun
from ..errors import EnvironmentProblem
from ..packages import missing_packages
from .models import BUILTIN_POLICIES, policy_problem, reward_model_problem
from .problems import Collector


def check_data_paths(c: Collector, data: dict[str, Any]) -> None:
    for key in ("facts", "sft", "preference", "ppo_prompts", "eval"):
        value = data.get(key)
        if value and not Path(value).is_file():
            c.error(("data", key), f"file not found: {value}", "path-not-found")
    folder = data.get("image_folder")
    if folder and not Path(folder).is_dir():
        c.error(("data", "image_folder"), f"folder not found: {folder}", "path-not-found")


def check_tiny(c: Collector, tiny: dict[str, Any]) -> None:
    if tiny["hidden_size"] % tiny["num_heads"]:
        c.error(
            ("model", "tiny", "hidden_size"),
            f"must be a multiple of model.tiny.num_heads ({tiny['num_heads']}), got {tiny['hidden_size']}",
            "model-shape",
        )
    if tiny["image_size"] % tiny["patch_size"]:
        c.error(
            ("model", "tiny", "image_size"),
            f"must be a multiple of model.tiny.patch_size ({tiny['patch_size']}), got {tiny['image_size']}",
            "model-shape",
        )


def check_model_paths(c: Collector, model: dict[str, Any]) -> None:
    policy = model["policy"]
    if policy.startswith("builtin:"):
        if policy not in BUILTIN_POLICIES:
            c.error(("model", "policy"), f"unknown built-in model {policy!r}; available: {', '.join(BUILTIN_POLICIES)}", "model-folder")
    else:
        problem, _ = policy_problem(policy, "ppo")
        if problem:
            c.error(("model", "policy"), problem, "model-folder")
    reward_model = model.get("reward_model")
    if reward_model:
        problem = reward_model_problem(policy, reward_model)
        if problem:
            c.error(("model", "reward_model"), problem, "model-folder")


def check_launch(c: Collector, launch: dict[str, Any], stage: str = "ppo") -> None:
    backend = launch["backend"]
    if backend in ("slurm", "ray"):
        c.error(
            ("launch", "backend"),
            f"{backend} is not available yet in this trainer; use local or torchrun (under Slurm, start torchrun from the job script)",
            "unavailable",
        )
    elif backend == "local" and launch["nodes"] > 1:
        c.error(("launch", "nodes"), "several nodes need backend: torchrun", "incompatible")
    elif backend == "torchrun" and launch["nodes"] > 1 and not under_torchrun():
        c.error(
            ("launch", "nodes"),
            "several nodes: start `torchrun --nnodes=N --nproc_per_node=G --rdzv-backend=c10d "
            f"--rdzv-endpoint=HOST:PORT -m fact_rlhf {stage} --config FILE --run-dir DIR` on every node "
            "(the self-launch covers one node)",
            "multi-node-start",
        )
    elif backend == "local" and launch["gpus"] > 1 and not under_torchrun():
        c.warn(
            ("launch", "gpus"),
            "backend local uses one device; set launch.backend: torchrun to train on all of them",
            "single-process-backend",
        )
    if backend != "torchrun" and launch.get("processes", 0) > 1 and not under_torchrun():
        c.warn(("launch", "processes"), "ignored: launch.processes applies to backend torchrun", "inert-key")
    if launch.get("strategy", "ddp") == "fsdp" and backend != "torchrun" and not under_torchrun():
        c.warn(
            ("launch", "strategy"),
            "fsdp shards the model over several processes (backend torchrun); this run has one process and keeps the whole model",
            "inert-key",
        )


def check_quantization(c: Collector, config: ExperimentConfig, stage: str) -> None:
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
        c.error(where, f"{quantization} runs on a CUDA GPU only (bitsandbytes), but launch.device is cpu; use none", "device-mismatch")
    if stage == "ppo" and model["policy"].startswith("builtin:"):
        c.error(
            where,
            f"{quantization} applies to a model folder or an sft / rl_init run; the PPO stage builds "
            f"{model['policy']} in memory in full precision: use none",
            "incompatible",
        )
    if stage == "sft" and not cfg["sft"]["use_lora"]:
        c.error(
            where,
            f"{quantization} bases are frozen: a full fine-tune cannot train them; set sft.use_lora: true or use none",
            "incompatible",
        )
    if launch.get("strategy", "ddp") == "fsdp":
        c.error(where, f"{quantization} bases cannot be sharded by launch.strategy: fsdp; use ddp", "incompatible")
