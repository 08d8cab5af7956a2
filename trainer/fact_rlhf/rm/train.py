"""The `rm` stage (FACT_RLHF.md §3): reward model = the SFT model (`model.policy`) + a `reward`
LoRA + a linear head read at the last token of the (fact-augmented) critique suffix; pairwise loss
with score centring; `reward_model.held_out` pairs held out and evaluated every `eval_every`
steps; the best checkpoint by held-out accuracy kept as `checkpoints/best` beside the latest.

A checkpoint holds `reward/` (adapter), `heads.safetensors`, `base.json` (the model it was trained
on) and the processor files; `model.reward_model: <this run>` hands it to the PPO stage.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors.torch import save_file

from ..config.metrics import headline
from ..checkpoint import latest_checkpoint, load_adapters
from ..data.records import PreferencePair
from ..distributed import Group, group, wrap_ddp
from ..errors import DataError
from ..models.build import shard_stack
from ..models.checkpoint_check import HEADS_FILE
from ..models.checkpointing import enable_gradient_checkpointing
from ..models.codec import ProcessorCodec
from ..models.stack import REWARD, ModelStack
from ..stages.schedule import resumable_scheduler
from ..rundir import CHECKPOINTS_DIR, RunDirectory
from ..sharding import clip_grad_norm, full_cpu, placement_note
from ..signals import StopRequest
from ..stages.checkpoints import (
    TrainingTensors,
    adapter_state,
    load_training_state,
    step_name,
    training_tensors,
    write_adapter,
    write_base_record,
    write_checkpoint,
    write_training_state,
)
from ..stages.common import say, seed_and_threads, stage_folders
from ..stages.data import load_stage_data
from ..stages.loading import load_source, stage_source
from ..stages.sources import BEST, base_record
from ..stages.batches import seeded_batch
from ..stages.loop import Loop, Stage, Values, rank0_save
from .facts_probe import with_other_images_facts
from .hyper import RewardHyper
from .pairwise import RewardScorer, backward_pairs, evaluate_pairs


def split_pairs(pairs: list[PreferencePair], held_out: int, seed: int) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """(train, held-out): whole images are held out, in a seeded order, until `held_out` pairs are;
    the last image taken may give a few more. An image with several pairs (the same facts) never
    sits on both sides, so held-out accuracy measures what generalises to unseen images, not
    pairs remembered by their image or facts."""
    if held_out >= len(pairs):
        raise DataError(
            f"reward_model.held_out is {held_out} but there are only {len(pairs)} preference pairs; no pair would be left to train on"
        )
    per_image = Counter(p.image for p in pairs)
    images = list(per_image)
    random.Random(f"{seed}-rm-split").shuffle(images)
    taken: set[Path] = set()
    count = 0
    for image in images:
        if count >= held_out:
            break
        taken.add(image)
        count += per_image[image]
    train = [p for p in pairs if p.image not in taken]
    if not train:
        raise DataError(f"reward_model.held_out is {held_out}: holding out whole images leaves no pair to train on; use a smaller held_out")
    return train, [p for p in pairs if p.image in taken]


# A checkpoint's gathered tensors: the adapter, the head, the optimiser and RNG state (or none).
_Parts = tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], TrainingTensors | None]


class RewardTrainer(Stage):
    def __init__(
        self,
        stack: ModelStack,
        codec: ProcessorCodec,
        train_pairs: list[PreferencePair],
        eval_pairs: list[PreferencePair],
        hyper: RewardHyper,
        run: RunDirectory,
        seed: int,
        base: dict[str, Any],
        should_stop: Callable[[], bool],
        ranks: Group | None = None,
    ) -> None:
        """With several processes (`ranks`) each rank trains on its share of every batch and
        evaluates its share of the held-out pairs; rank 0 alone writes."""
        self.stack, self.codec, self.train_pairs, self.eval_pairs = stack, codec, train_pairs, eval_pairs
        self.hyper, self.run, self.seed, self.base, self.should_stop = hyper, run, seed, base, should_stop
        self.group = ranks or group()
        self.augment = hyper.fact_augmentation
        self.micro = hyper.per_device_batch_size
        self.batch_size = min(hyper.batch_size, len(train_pairs))
        if self.batch_size % self.group.world_size:
            raise DataError(
                f"{len(train_pairs)} training pairs, fewer than reward_model.batch_size: the batch of "
                f"{self.batch_size} does not split over {self.group.world_size} processes"
            )
        self.total = max(1, math.ceil(hyper.epochs * len(train_pairs) / self.batch_size))
        self.warmup = math.ceil(self.total * hyper.warmup_ratio)
        # Held-out evaluation and checkpoint together; the step's metric reports the evaluation.
        self.loop = Loop(run, self.group, self.total, hyper.eval_every, should_stop, save_then_log=True)
        stack.set_trainable({REWARD})
        self.params = stack.adapter_params(REWARD) + list(stack.reward_head.parameters())
        self.scorer = wrap_ddp(RewardScorer(stack), stack.device, self.group)  # after set_trainable: DDP reduces these
        self.optimizer = torch.optim.AdamW(self.params, lr=hyper.learning_rate, weight_decay=0.0)
        self.scheduler = self._make_scheduler()
        self.best_accuracy: float | None = None
        self.best_step: int | None = None
        self.checkpoints = run.path / CHECKPOINTS_DIR

    @property
    def step(self) -> int:
        """Completed optimiser steps."""
        return self.loop.position

    def _make_scheduler(self) -> torch.optim.lr_scheduler.LambdaLR:
        return resumable_scheduler(self.optimizer, self.step, self.warmup, self.total, "constant")

    def batch_for(self, step: int) -> list[PreferencePair]:
        """Epoch-wise shuffles from the seed: batch `step` is known without state."""
        return seeded_batch(self.train_pairs, step, self.batch_size, f"{self.seed}-rm")

    # --- one step -----------------------------------------------------------------------------
    def train_step(self, position: int) -> Values:
        start = time.perf_counter()
        batch = self.batch_for(position)
        lr = self.optimizer.param_groups[0]["lr"]
        rng = random.Random(f"{self.seed}-rm-facts-{position}")  # per-example fact shuffles
        self.optimizer.zero_grad(set_to_none=True)
        stats = backward_pairs(
            self.stack, self.codec, batch, self.augment, rng, self.micro, self.hyper.centering_coef, self.group, self.scorer
        )
        grad_norm = clip_grad_norm(self.params, self.hyper.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        seconds = self.group.max([time.perf_counter() - start])[0]
        return {
            "rm/loss": stats.loss,
            "rm/accuracy": stats.accuracy,
            "rm/mean_score": stats.mean_score,
            "rm/learning_rate": lr,
            "rm/grad_norm": grad_norm,
            "rm/epoch": (position + 1) * self.batch_size / len(self.train_pairs),
            "perf/pairs_per_s": len(batch) / seconds,
            "time/rm_step": seconds,
        }

    def line(self, values: Values, seconds: float) -> str:
        held = f" held-out acc {values['rm/eval_accuracy']:.3f}" if values.get("rm/eval_accuracy") is not None else ""
        return f"[rm] {self.step:>5}/{self.total} loss {values['rm/loss']:.4f} acc {values['rm/accuracy']:.2f}{held}"

    def evaluate(self) -> Values:
        """The held-out pairs (and the facts probe) at a checkpoint point; a new best accuracy
        writes `checkpoints/best` before the step's checkpoint."""
        out: Values = {}
        if not self.eval_pairs:
            return out
        stats = evaluate_pairs(self.stack, self.codec, self.eval_pairs, self.augment, self.seed, self.micro, self.group)
        out = {"rm/eval_accuracy": stats.accuracy, "rm/eval_mean_score": stats.mean_score, "rm/eval_loss": stats.loss}
        if self.augment:  # does it read the facts? the same pairs with another image's facts
            probe = evaluate_pairs(
                self.stack, self.codec, with_other_images_facts(self.eval_pairs), True, self.seed, self.micro, self.group
            )
            out["rm/eval_accuracy_other_facts"] = probe.accuracy
        if self.best_accuracy is None or stats.accuracy > self.best_accuracy:
            # Ties keep the earlier checkpoint: the reference recipe stops early.
            self.best_accuracy, self.best_step = stats.accuracy, self.step
            self.save_best()
        out["rm/best_eval_accuracy"] = self.best_accuracy
        return out

    # --- checkpoints --------------------------------------------------------------------------
    def _write(
        self, folder: Path, adapter: dict[str, torch.Tensor], heads: dict[str, torch.Tensor], training: TrainingTensors | None
    ) -> None:
        write_adapter(self.stack.model, REWARD, folder / REWARD, adapter)
        save_file(heads, str(folder / HEADS_FILE))
        write_base_record(folder, self.base)
        self.codec.processor.save_pretrained(str(folder))  # tokenizer.json for scorers and export
        state = {
            "step": self.step,
            "total_steps": self.total,
            "best_accuracy": self.best_accuracy,
            "best_step": self.best_step,
            "fact_augmentation": self.augment,
            "world_size": self.group.world_size,
        }
        if training is not None:
            write_training_state(folder, training, state)
        else:
            (folder / "trainer_state.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    def _checkpoint(self, name: str, with_state: bool, make_latest: bool) -> Path | None:
        """Rank 0 writes; with a sharded model every rank first takes part in gathering."""

        def gather(keep: bool) -> _Parts:
            adapter = adapter_state(self.stack.model, REWARD, keep=keep)
            heads = full_cpu({f"reward_head.{k}": v for k, v in self.stack.reward_head.state_dict().items()}, keep=keep)
            return adapter, heads, training_tensors(self.optimizer, keep=keep) if with_state else None

        def write(parts: _Parts) -> Path:
            return write_checkpoint(self.checkpoints, name, lambda f: self._write(f, *parts), make_latest=make_latest)

        return rank0_save(self.group, gather, write)

    def save(self) -> Path | None:
        return self._checkpoint(step_name(self.step), with_state=True, make_latest=True)

    def save_best(self) -> Path | None:
        return self._checkpoint(BEST, with_state=False, make_latest=False)

    def resume(self) -> Path | None:
        folder = latest_checkpoint(self.checkpoints, report=lambda message: self.run.log(message, "warning"))
        if folder is None:
            return None
        load_adapters(self.stack, folder, names=(REWARD,))
        state = load_training_state(folder, self.optimizer)
        self.loop.position = int(state["step"])
        self.best_accuracy, self.best_step = state.get("best_accuracy"), state.get("best_step")
        self.scheduler = self._make_scheduler()
        return folder

    # --- loop ---------------------------------------------------------------------------------
    def train(self) -> tuple[str, list[Values]]:
        return self.loop.train(self, saved=latest_checkpoint(self.checkpoints) is not None)


def facts_coverage(pairs: list[PreferencePair], augment: bool) -> tuple[str, str | None]:
    """How many pairs found facts, for the data line, and a warning when fact augmentation is on
    and some found none: facts_for falls back to no facts silently, so a data.facts keyed
    differently from the pairs would train a plain RM that claims to be fact-augmented."""
    if not augment:
        return "", None
    missing = sum(1 for p in pairs if not p.facts)
    note = f"; facts for {len(pairs) - missing} of {len(pairs)} pairs"
    if not missing:
        return note, None
    return note, (
        f"reward_model.fact_augmentation is on but {missing} of {len(pairs)} preference pairs have no facts "
        "(data.facts is looked up by record id, then image file name, then image stem): their critique lists none"
    )


def _note(text: str) -> str:
    return f"; {text}" if text else ""


def reward_stack(config: dict[str, Any], source: Any, device: str) -> tuple[ModelStack, ProcessorCodec]:
    """The model the rm stage trains: the source's base (quantised with model.quantization),
    gradient checkpointing, the adapters and heads, on `device`, sharded under FSDP."""
    model_cfg = config["model"]
    base, codec = load_source(source, model_cfg["dtype"], model_cfg["quantization"], device)
    if model_cfg["gradient_checkpointing"]:
        enable_gradient_checkpointing(base)
    stack = ModelStack(base, model_cfg["lora"], codec.suppress_ids, 1.0).to(torch.device(device))
    shard_stack(config, stack)
    return stack, codec


def run_rm(config: dict[str, Any], run: RunDirectory, device: str, resume: bool, stop: StopRequest) -> str:
    hyper, seed = RewardHyper.from_config(config["reward_model"]), int(config["seed"])
    seed_and_threads(config)
    resuming = resume and latest_checkpoint(run.path / CHECKPOINTS_DIR) is not None
    data_dir, model_dir = stage_folders(run, resuming)
    run.phase("data")
    data = load_stage_data(config, data_dir, need="pairs")
    train_pairs, eval_pairs = split_pairs(data.pairs, hyper.held_out, seed)
    source = stage_source(config, data.corpus(), model_dir, resume=resuming)
    if source.policy_adapter is not None:
        say(run, f"model.policy {source.given} is an rl_init policy: the reward model is trained on its SFT base", "warning")
        source = source.base
    facts_note, facts_warning = facts_coverage(data.pairs, hyper.fact_augmentation)
    say(run, f"data: {len(train_pairs)} training pairs, {len(eval_pairs)} held out ({data.source}){facts_note}; model: {source.given}")
    if facts_warning:
        say(run, facts_warning, "warning")
    run.phase("model")
    stack, codec = reward_stack(config, source, device)
    trainer = RewardTrainer(stack, codec, train_pairs, eval_pairs, hyper, run, seed, base_record(source), stop.check())
    run.status("running")
    if resuming:
        folder = trainer.resume()
        say(run, f"resumed from {run.relative(folder) if folder else '?'} at step {trainer.step}/{trainer.total}")
    say(
        run,
        f"reward model: LoRA r={config['model']['lora']['r']} + linear head, fact augmentation "
        f"{'on' if trainer.augment else 'off'}; {trainer.total} steps of {trainer.batch_size} pairs on {device}"
        + _note(
            placement_note(trainer.group, [*stack.model.parameters(), *stack.reward_head.parameters(), *stack.value_head.parameters()])
        ),
    )
    status, history = trainer.train()
    if trainer.best_accuracy is not None:
        top = headline("rm")  # the stage's headline figure, named in schema/metrics.json
        final = next((h[top.key] for h in reversed(history) if h.get(top.key) is not None), None)
        say(
            run,
            f"rm {status} at step {trainer.step}/{trainer.total}: best held-out accuracy "
            f"{trainer.best_accuracy:.3f} at step {trainer.best_step} (checkpoints/best)"
            + (f", last {final:.3f}" if final is not None else ""),
        )
    if status == "stopped":
        say(run, f"stopped on {stop.signal_name}: checkpoint at step {trainer.step}; continue with --resume")
    return status
