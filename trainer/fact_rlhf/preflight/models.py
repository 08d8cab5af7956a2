"""Whether `model.policy` and `model.reward_model` can serve a stage: built-in models, model
folders, sft / rl_init runs and their checkpoints, reward-model runs and the base they fit."""

from __future__ import annotations

from pathlib import Path

from ..stages.sources import BASE_FILE, SourceError, base_of, resolve_policy, resolve_reward, reward_base_signature, signature

BUILTIN_POLICIES = ("builtin:tiny-llava",)


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
        return (
            f"{folder} was trained on the base model {trained_on}; with model.policy {policy} the run builds a new "
            f"random model the reward adapter does not fit: set model.policy to {trained_on} (or an sft / rl_init run on it)"
        )
    try:
        actual = signature(resolve_policy(Path(policy)).base)
    except SourceError:
        return None  # model.policy reports its own problem
    if actual != expected:
        return (
            f"{folder} was trained on the base model {trained_on}, not on the base of model.policy ({policy}); "
            f"a reward adapter only works on its own base ({BASE_FILE} fingerprints differ)"
        )
    return None
