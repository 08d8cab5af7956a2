"""The `ppo` stage: data → models → (reward-model warm-up) → PPO loop, in a run directory."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from ..config.metrics import headline
from ..checkpoint import latest_checkpoint, load_adapters
from ..data import load_ppo_data
from ..data.records import PromptRecord
from ..distributed import group
from ..errors import DataError
from ..models.build import build_stack
from ..models.codec import Codec
from ..models.stack import REWARD
from ..rm.hyper import RewardHyper
from ..rm.warmup import copy_reward_to_value, train_reward_model
from ..rundir import CHECKPOINTS_DIR, RunDirectory
from ..signals import StopRequest
from .hyper import PPOHyper
from .rollout import PromptEncoder
from .trainer import PPOTrainer


def slope(values: list[float]) -> float:
    """Least-squares slope of values against their index."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    num = sum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    return num / sum((i - mean_x) ** 2 for i in range(n))


def say(run: RunDirectory, message: str, level: str = "info") -> None:
    """A notable event: a `log` event for the editor and a line for a terminal (rank 0 only)."""
    run.log(message, level)
    if run.writer:
        print(f"[fact-rlhf] {message}", file=sys.stderr, flush=True)


def _fit_query_len(prompts: list[PromptRecord], codec: Codec, query_len: int, run: RunDirectory) -> list[PromptRecord]:
    """Drops prompts longer than ppo.query_len tokens (as the reference code filters them)."""
    encoder = PromptEncoder(codec)
    kept = [p for p in prompts if len(encoder(p)) <= query_len]
    if not kept:
        longest = max(len(encoder(p)) for p in prompts)
        raise DataError(
            f"ppo.query_len {query_len} is shorter than every prompt (the shortest needs "
            f"{min(len(encoder(p)) for p in prompts)} tokens, the longest {longest})"
        )
    if len(kept) < len(prompts):
        say(run, f"dropped {len(prompts) - len(kept)} of {len(prompts)} prompts longer than ppo.query_len={query_len} tokens", "warning")
    return kept


def _warmup_state(checkpoint: Path) -> dict[str, Any]:
    """How far the checkpoint's reward-model warm-up got (complete when not recorded: older
    checkpoints; a state file that does not parse is reported when the checkpoint loads)."""
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"complete": True}
    warmup = state.get("reward_warmup") if isinstance(state, dict) else None
    return warmup if isinstance(warmup, dict) else {"complete": True}


def run_ppo(config: dict[str, Any], run: RunDirectory, device: str, resume: bool, stop: StopRequest) -> str:
    """Returns the final status, `finished` or `stopped`."""
    ppo, rm = PPOHyper.from_config(config["ppo"]), RewardHyper.from_config(config["reward_model"])
    torch.manual_seed(int(config["seed"]))
    if config["launch"].get("threads"):
        torch.set_num_threads(int(config["launch"]["threads"]))
    checkpoint = latest_checkpoint(run.path / CHECKPOINTS_DIR, report=lambda m: say(run, m, "warning")) if resume else None
    if checkpoint is not None:
        warmup = _warmup_state(checkpoint)
        if not warmup.get("complete", True):
            # The run stopped during the warm-up, before any PPO iteration: its checkpoint holds a
            # half-trained reward model, which PPO must never use. Start over as a new run would.
            say(
                run,
                f"the reward-model warm-up was stopped at step {warmup.get('steps', '?')}/{warmup.get('total', '?')} "
                f"before PPO began; redoing it from the start ({run.relative(checkpoint)} is not used)",
                "warning",
            )
            checkpoint = None
    train_rm = checkpoint is None and not config["model"].get("reward_model")
    # Generated files (the built-in world, the tiny model) go to the run on rank 0 and to a
    # private folder on the other ranks, which generate the same files from the same seed.
    run.phase("data")
    dataset = load_ppo_data(config, run.work_dir, need_pairs=train_rm)
    say(run, f"data: {len(dataset.prompts)} PPO prompts, {len(dataset.pairs)} preference pairs ({dataset.source})")

    # On resume every rank reads the tokenizer and base rank 0 saved (nothing is written then).
    run.phase("model")
    stack, codec = build_stack(config, dataset, run.path if checkpoint is not None else run.work_dir, device, resume=checkpoint is not None)
    prompts = _fit_query_len(dataset.prompts, codec, ppo.query_len, run)
    trainer = PPOTrainer(stack, codec, prompts, ppo, int(config["seed"]), rm.fact_augmentation, run, stop.check())
    run.status("running")

    if checkpoint is not None:
        trainer.resume(checkpoint)
        # After a kill -9 the events may run past this checkpoint: the steps from here on replace them.
        say(
            run,
            f"resumed from step {trainer.iteration} ({run.relative(checkpoint)}); "
            f"continuing at iteration {trainer.iteration + 1}/{trainer.total}",
        )
    elif config["model"].get("reward_model"):
        from ..stages.sources import resolve_reward  # an rm run names its best checkpoint

        reward_folder = resolve_reward(Path(config["model"]["reward_model"]))
        load_adapters(stack, reward_folder, names=("reward",))
        say(run, f"reward model loaded from {reward_folder}")
    if train_rm and ppo.reward_warmup_steps > 0:
        if not dataset.pairs:
            raise DataError("the reward-model warm-up needs preference pairs (data.preference)")
        steps = ppo.reward_warmup_steps
        say(
            run,
            f"reward model warm-up: {steps} steps on {len(dataset.pairs)} pairs "
            f"(fact augmentation {'on' if rm.fact_augmentation else 'off'})",
        )
        run.phase("reward_warmup", 0, steps)
        started = time.perf_counter()

        def warmup_step(done: int) -> None:
            elapsed = time.perf_counter() - started
            run.phase("reward_warmup", done, steps, elapsed / done * (steps - done))

        result = train_reward_model(
            stack, codec, dataset.pairs, rm, steps, int(config["seed"]), lambda m: say(run, m), stop.check(), warmup_step
        )
        if result.stopped:  # the checkpoint the loop writes at the stop says so; a resume redoes it
            trainer.reward_warmup = {"complete": False, "steps": result.steps, "total": steps}
        # Every rank trained the same warm-up; rank 0's weights are the ones (GPU kernels need
        # not be bitwise reproducible across devices).
        group().broadcast(stack.adapter_params(REWARD) + list(stack.reward_head.parameters()))
        accuracy = result.eval_accuracy if result.eval_accuracy is not None else result.train_accuracy
        run.metric(
            0,
            {
                "rm/accuracy": accuracy,
                "rm/train_accuracy": result.train_accuracy,
                "rm/loss": result.train_loss,
                "rm/mean_score": result.mean_score,
                "rm/steps": float(result.steps),
                "time/reward_warmup": result.seconds,
            },
        )
        say(
            run,
            f"reward model warm-up done in {result.seconds:.1f}s: pairwise accuracy {accuracy:.2f} "
            f"(train {result.train_accuracy:.2f}, loss {result.train_loss:.3f}); reward model frozen",
        )
    if checkpoint is None and ppo.init_value_from_reward_model:
        copy_reward_to_value(stack)

    say(run, f"PPO: {trainer.total} iterations of {ppo.rollout_batch_size} prompts on {device}")
    status, history = trainer.train()
    if history:
        top = headline("ppo")  # the stage's headline figure, named in schema/metrics.json
        rewards = [float(h[top.key] or 0.0) for h in history]
        k = max(1, len(rewards) // 5)
        say(
            run,
            f"PPO {status} at iteration {trainer.iteration}/{trainer.total}: {top.name} "
            f"{sum(rewards[:k]) / k:+.3f} (first {k}) → {sum(rewards[-k:]) / k:+.3f} (last {k}), "
            f"trend {slope(rewards):+.4f} per iteration",
        )
    if status == "stopped":
        say(run, f"stopped on {stop.signal_name}: checkpoint at iteration {trainer.iteration}; continue with --resume")
    return status
