"""Reward-model warm-up before PPO: trains the `reward` adapter + head on preference pairs
(pairwise loss with score centring, FACT_RLHF.md §3), then freezes it."""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Callable

import torch
from peft import get_peft_model_state_dict, set_peft_model_state_dict

from ..data.records import PreferencePair
from ..models.codec import Codec
from ..models.stack import POLICY, REWARD, VALUE, ModelStack
from ..sharding import clip_grad_norm
from .hyper import RewardHyper
from .pairwise import backward_pairs, evaluate_pairs


@dataclass
class WarmupResult:
    steps: int
    train_loss: float
    train_accuracy: float
    eval_accuracy: float | None
    mean_score: float
    seconds: float
    stopped: bool


def pairwise_accuracy(stack: ModelStack, codec: Codec, pairs: list[PreferencePair], augment: bool, seed: int, micro: int) -> float:
    return evaluate_pairs(stack, codec, pairs, augment, seed, micro).accuracy


def copy_reward_to_value(stack: ModelStack) -> None:
    """Value model initialised from the reward model's adapter (its head stays zero)."""
    state = get_peft_model_state_dict(stack.model, adapter_name=REWARD)
    set_peft_model_state_dict(stack.model, state, adapter_name=VALUE)


def train_reward_model(
    stack: ModelStack,
    codec: Codec,
    pairs: list[PreferencePair],
    hyper: RewardHyper,
    steps: int,
    seed: int,
    log: Callable[[str], None],
    should_stop: Callable[[], bool],
    on_step: Callable[[int], None] | None = None,
) -> WarmupResult:
    """`on_step(done)` after each optimiser step (the run's warm-up progress)."""
    start = time.perf_counter()
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    held = min(hyper.held_out, len(pairs) // 5)
    eval_pairs = [pairs[i] for i in order[:held]]
    train_pairs = [pairs[i] for i in order[held:]]
    augment = hyper.fact_augmentation
    micro = hyper.per_device_batch_size
    per_step = min(hyper.batch_size, len(train_pairs))
    warmup = max(1, math.ceil(steps * hyper.warmup_ratio))

    stack.set_trainable({REWARD})
    params = stack.adapter_params(REWARD) + list(stack.reward_head.parameters())
    optimizer = torch.optim.AdamW(params, lr=hyper.learning_rate, weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))  # then constant
    rng = random.Random(seed + 1)
    cursor, losses, accs, means = 0, [], [], []
    done, stopped = 0, False
    for step in range(1, steps + 1):
        if should_stop():
            stopped = True
            break
        batch = []
        for _ in range(per_step):
            if cursor % len(train_pairs) == 0:
                rng.shuffle(train_pairs)
            batch.append(train_pairs[cursor % len(train_pairs)])
            cursor += 1
        optimizer.zero_grad(set_to_none=True)
        stats = backward_pairs(stack, codec, batch, augment, rng, micro, hyper.centering_coef)
        step_loss, step_acc, step_mean = stats.loss, stats.accuracy, stats.mean_score
        clip_grad_norm(params, hyper.grad_clip)  # exact under FSDP too (sharding.py)
        optimizer.step()
        schedule.step()
        losses.append(step_loss)
        accs.append(step_acc)
        means.append(step_mean)
        done = step
        if on_step is not None:
            on_step(step)
        if step % hyper.eval_every == 0 and eval_pairs and step < steps:
            acc = pairwise_accuracy(stack, codec, eval_pairs, augment, seed, micro)
            log(f"reward model warm-up step {step}/{steps}: loss {step_loss:.3f}, held-out accuracy {acc:.2f}")
    stack.set_trainable({POLICY, VALUE})
    tail = max(1, min(10, len(losses)))
    eval_acc = pairwise_accuracy(stack, codec, eval_pairs, augment, seed, micro) if eval_pairs else None
    return WarmupResult(
        steps=done,
        train_loss=sum(losses[-tail:]) / tail if losses else float("nan"),
        train_accuracy=sum(accs[-tail:]) / tail if accs else float("nan"),
        eval_accuracy=eval_acc,
        mean_score=sum(means[-tail:]) / tail if means else float("nan"),
        seconds=time.perf_counter() - start,
        stopped=stopped,
    )
