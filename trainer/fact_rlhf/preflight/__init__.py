"""Every check that runs before any model is loaded, in one package: cross-field config rules,
data files, model paths, launch settings, quantization, the device, and batches over processes.

Each problem has a machine code (the language server's diagnostic code where both check the same
rule), the key path and the `file:line: key: message` text users read. `config_problems` returns
them all; the stage entry points (`check_*_config`, `resolve_device`, `check_world_size`) raise
ConfigError / EnvironmentProblem with every error, as the CLI has always reported them.
"""

from __future__ import annotations

from ..config import ExperimentConfig
from .device import device_checks, resolve_device
from .eval import check_eval_config, eval_problems
from .models import BUILTIN_POLICIES, policy_problem, reward_model_problem
from .ppo import check_ppo_config, ppo_problems
from .problems import Collector, Problem
from .stages import check_stage_config, stage_problems
from .world import BATCH_KEYS, batch_problem, check_world_size, world_checks


def stage_checks(config: ExperimentConfig, stage: str) -> Collector:
    """The config checks of `stage` (ppo, sft, rl_init, rm, eval), as the CLI runs them first."""
    if stage == "ppo":
        return ppo_problems(config)
    if stage == "eval":
        return eval_problems(config)
    return stage_problems(config, stage)


def config_problems(
    config: ExperimentConfig, stage: str, world_size: int | None = None, cuda_available: bool | None = None
) -> list[Problem]:
    """Every problem the trainer finds in `config` for `stage` before spending GPU time, in the
    order the CLI meets them: the stage's config checks, the device (with `cuda_available`, else
    what PyTorch sees) and, given a world size, the batch splits over it."""
    c = stage_checks(config, stage)
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available()
    device_checks(c, cuda_available)
    if world_size is not None:
        world_checks(c, world_size, stage)
    return c.problems


__all__ = [
    "BATCH_KEYS",
    "BUILTIN_POLICIES",
    "Collector",
    "Problem",
    "batch_problem",
    "check_eval_config",
    "check_ppo_config",
    "check_stage_config",
    "check_world_size",
    "config_problems",
    "policy_problem",
    "resolve_device",
    "reward_model_problem",
    "stage_checks",
]
