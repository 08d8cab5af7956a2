"""Batches over processes: each stage's global batch must split into equal shares of whole
micro-batches on every rank, checked once the world size is known (the launcher's process count,
or torchrun's WORLD_SIZE)."""

from __future__ import annotations

from ..config import ExperimentConfig
from ..config.annotations import batch_keys
from .problems import Collector

# The global batch each stage splits over the processes, and the micro-batch each share is cut into:
# the schema's `x-batch-pair` annotations, which the language server reads too.
BATCH_KEYS = batch_keys()


def batch_problem(global_batch: int, per_device: int, world_size: int, per_device_key: str) -> str | None:
    """Why a global batch does not split into equal shares of whole micro-batches, or None.
    Equal shares matter beyond speed: under FSDP every forward is a collective."""
    if global_batch % world_size:
        return f"{global_batch} does not split over {world_size} processes (world size); use a multiple of {world_size}"
    share = global_batch // world_size
    micro = min(per_device, share)
    if share % micro:
        return (
            f"{global_batch} splits into shares of {share} per process, not a multiple of {per_device_key} ({per_device}); "
            f"use a multiple of {per_device} × {world_size} = {per_device * world_size}"
        )
    return None


def world_checks(c: Collector, world_size: int, stage: str = "ppo") -> None:
    """Adds a problem for each global batch of `stage` that does not split over `world_size`
    processes. PPO checks only the split over processes (its minibatch plan copes with ragged
    micro-batches)."""
    for section, key, per_device_key in BATCH_KEYS.get(stage, ()):
        values = c.config.data[section]
        per_device = 1 if stage == "ppo" else int(values[per_device_key])
        problem = batch_problem(int(values[key]), per_device, world_size, f"{section}.{per_device_key}")
        if problem:
            c.error((section, key), problem, "batch-divisibility")


def check_world_size(config: ExperimentConfig, world_size: int, stage: str = "ppo") -> None:
    """Global batch sizes must split evenly over the processes (ConfigError naming file and line)."""
    c = Collector(config)
    world_checks(c, world_size, stage)
    c.raise_errors()
