"""The supervised loop shared by `sft` and `rl_init`: token-weighted cross-entropy on the labelled
(assistant) tokens of a global batch built by gradient accumulation, AdamW, cosine schedule with
linear warm-up, gradient clipping, metrics, progress and resumable checkpoints.

With several processes each rank runs its contiguous share of the global batch through the DDP
(or FSDP-sharded) model; the loss stays normalised by the labelled tokens of the whole batch, so
the averaged gradient is the single-process one. Rank 0 alone writes."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..checkpoint import latest_checkpoint
from ..config.sections import typed_section
from ..distributed import Group
from ..distributed import group as process_group
from ..errors import DataError
from ..models.codec import Codec
from ..stages.schedule import resumable_scheduler
from ..rundir import CHECKPOINTS_DIR, RunDirectory
from ..sharding import clip_grad_norm
from ..stages.checkpoints import TrainingTensors, load_training_state, step_name, training_tensors, write_checkpoint, write_training_state
from ..stages.batches import seeded_batch
from ..stages.loop import Loop, Stage, Values, rank0_save
from .data import IGNORE, Example


@dataclass(frozen=True)
class Hyper:
    epochs: float
    learning_rate: float
    batch_size: int
    per_device_batch_size: int
    warmup_ratio: float
    grad_clip: float
    save_every: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any], name: str = "sft") -> "Hyper":
        """From the loaded config's `sft` or `rl_init` section (`name`; its defaults are the schema's)."""
        return typed_section(cls, section, name)


class WeightsIO(Protocol):
    """How the trained weights go into a checkpoint folder and come back (full model or adapter).
    `gather` runs on every rank of a sharded model (keep: whether this rank writes)."""

    def gather(self, keep: bool) -> dict[str, Tensor]: ...

    def write(self, folder: Path, tensors: dict[str, Tensor]) -> None: ...

    def load(self, folder: Path) -> None: ...


@dataclass
class Batch:
    input_ids: Tensor
    attention_mask: Tensor
    labels: Tensor
    pixel_values: Tensor | None


def collate(examples: list[Example], codec: Codec, device: torch.device, dtype: torch.dtype) -> Batch:
    """Right-padded ids (pad id), labels (-100) and mask; pixels of the examples with an image,
    in order (the model fills the image tokens from them one image after another)."""
    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), codec.pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        labels[i, :n] = torch.tensor(e.labels)
        mask[i, :n] = 1
    images = [codec.pixel_values(e.image) for e in examples if e.image is not None]
    pixels = torch.stack(images).to(device, dtype=dtype) if images else None
    return Batch(ids.to(device), mask.to(device), labels.to(device), pixels)


def label_loss_sum(model: nn.Module, batch: Batch) -> Tensor:
    """Summed next-token cross-entropy over the labelled positions."""
    inputs: dict[str, Tensor] = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask}
    if batch.pixel_values is not None:
        inputs["pixel_values"] = batch.pixel_values
    logits = model(**inputs, use_cache=False).logits[:, :-1]
    targets = batch.labels[:, 1:]
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE, reduction="sum")


class SupervisedTrainer(Stage):
    def __init__(
        self,
        model: nn.Module,
        params: list[nn.Parameter],
        examples: list[Example],
        hyper: Hyper,
        codec: Codec,
        run: RunDirectory,
        group: str,
        seed: int,
        weights: WeightsIO,
        should_stop: Callable[[], bool],
        ranks: Group | None = None,
    ) -> None:
        """`model` is what the forward runs through (DDP-wrapped under several processes);
        `group` names the metrics (sft or rl_init); `ranks` is the process group."""
        self.model, self.params, self.examples, self.hyper = model, params, examples, hyper
        self.codec, self.run, self.group, self.seed = codec, run, group, seed
        self.weights, self.should_stop = weights, should_stop
        self.ranks = ranks or process_group()
        self.device = next(model.parameters()).device
        self.dtype = next(model.parameters()).dtype
        n = len(examples)
        self.global_batch = min(hyper.batch_size, n)
        if self.global_batch % self.ranks.world_size:
            raise DataError(
                f"{n} examples, fewer than {group}.batch_size: the batch of {self.global_batch} "
                f"does not split over {self.ranks.world_size} processes"
            )
        self.total = max(1, math.ceil(hyper.epochs * n / self.global_batch))
        self.warmup = math.ceil(self.total * hyper.warmup_ratio)
        self.loop = Loop(run, self.ranks, self.total, hyper.save_every, should_stop)
        self.optimizer = torch.optim.AdamW(params, lr=hyper.learning_rate, weight_decay=0.0)
        self.scheduler = self._make_scheduler()
        self.checkpoints = run.path / CHECKPOINTS_DIR

    @property
    def step(self) -> int:
        """Completed optimiser steps."""
        return self.loop.position

    def _make_scheduler(self) -> torch.optim.lr_scheduler.LambdaLR:
        return resumable_scheduler(self.optimizer, self.step, self.warmup, self.total, "cosine")

    def batch_for(self, step: int) -> list[Example]:
        """Epoch-wise shuffles from the seed: batch `step` is known without state."""
        return seeded_batch(self.examples, step, self.global_batch, f"{self.seed}-{self.group}")

    def train_step(self, position: int) -> Values:
        start = time.perf_counter()
        batch = self.batch_for(position)
        labelled = sum(max(0, e.supervised) for e in batch)
        tokens = sum(len(e.input_ids) for e in batch)
        lr = self.optimizer.param_groups[0]["lr"]
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum = 0.0
        micro = self.hyper.per_device_batch_size
        world = self.ranks.world_size
        local = batch[self.ranks.share(len(batch))]
        no_sync = getattr(self.model, "no_sync", None)  # DDP: reduce once, at the last micro-batch
        starts = list(range(0, len(local), micro))
        for k, m in enumerate(starts):
            chunk = collate(local[m : m + micro], self.codec, self.device, self.dtype)
            with contextlib.nullcontext() if k == len(starts) - 1 or no_sync is None else no_sync():
                loss = label_loss_sum(self.model, chunk)
                # Token-weighted over the whole global batch; scaled by the world size because
                # the ranks' gradients are averaged.
                (loss / labelled * world if world > 1 else loss / labelled).backward()
            loss_sum += float(loss.detach())
        loss_sum = self.ranks.sum([loss_sum])[0]
        grad_norm = clip_grad_norm(self.params, self.hyper.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        seconds = self.ranks.max([time.perf_counter() - start])[0]
        g = self.group
        values: Values = {
            f"{g}/loss": loss_sum / labelled,
            f"{g}/learning_rate": lr,
            f"{g}/grad_norm": grad_norm,
            f"{g}/epoch": (position + 1) * self.global_batch / len(self.examples),
            f"{g}/tokens_per_s": tokens / seconds,
            f"{g}/labelled_tokens": float(labelled),
            f"time/{g}_step": seconds,
        }
        if self.device.type == "cuda":
            values["perf/gpu_memory_gb"] = torch.cuda.max_memory_allocated(self.device) / 2**30
        return values

    def line(self, values: Values, seconds: float) -> str:
        g = self.group
        return (
            f"[{g}] {self.step:>5}/{self.total} loss {values[f'{g}/loss']:.4f} lr {values[f'{g}/learning_rate']:.2e} "
            f"{values[f'{g}/tokens_per_s']:,.0f} tok/s"
        )

    def save(self) -> Path | None:
        """Rank 0 writes; with a sharded model every rank first takes part in gathering."""
        state = {"step": self.step, "total_steps": self.total, "stage": self.group, "world_size": self.ranks.world_size}

        def gather(keep: bool) -> tuple[dict[str, Tensor], TrainingTensors]:
            return self.weights.gather(keep=keep), training_tensors(self.optimizer, keep=keep)

        def write(parts: tuple[dict[str, Tensor], TrainingTensors]) -> Path:
            def fill(folder: Path) -> None:
                self.weights.write(folder, parts[0])
                write_training_state(folder, parts[1], state)

            return write_checkpoint(self.checkpoints, step_name(self.step), fill, make_latest=True)

        return rank0_save(self.ranks, gather, write)

    def resume(self) -> Path | None:
        folder = latest_checkpoint(self.checkpoints, report=lambda message: self.run.log(message, "warning"))
        if folder is None:
            return None
        self.weights.load(folder)
        state = load_training_state(folder, self.optimizer)
        self.loop.position = int(state["step"])
        self.scheduler = self._make_scheduler()
        return folder

    def train(self) -> tuple[str, list[float]]:
        """Runs to the end or a stop request; returns (`finished`|`stopped`, losses)."""
        status, history = self.loop.train(self, saved=latest_checkpoint(self.checkpoints) is not None)
        return status, [float(values[f"{self.group}/loss"] or 0.0) for values in history]
