"""The one training loop of the sft / rl_init, rm and ppo trainers.

A stage says how to take one step, what to evaluate at a checkpoint and how to save; the loop
owns the rest, once for all of them: the count of completed steps (set by a resume), the stop
request agreed across ranks, the checkpoint cadence, the metric / progress / checkpoint events
with their ETA, and the terminal line. Every rank runs the loop in step (the collectives inside
a step and the stop agreement need it); only rank 0 writes (RunDirectory writes nowhere else,
`rank0_save` gathers on every rank that must take part and writes on rank 0)."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Callable, TypeVar

from ..checkpoint import Diverged
from ..distributed import Group
from ..rundir import RunDirectory

Values = dict[str, float | None]
Gathered = TypeVar("Gathered")


class StopInStep(Exception):
    """Raised by a stage's `train_step` at a phase boundary when a stop was requested (agreed
    across ranks) before the step changed any state: the step is abandoned and redone on resume."""

    def __init__(self, phase: str) -> None:
        self.phase = phase
        super().__init__(phase)


def check_finite(step: int, values: "Values") -> None:
    """Losses and gradient norms must be finite: a diverged run fails (its weights are garbage)
    instead of reporting `finished`, and its checkpoint is never written."""
    bad = [k for k, v in values.items() if ("loss" in k or "grad_norm" in k) and isinstance(v, float) and not math.isfinite(v)]
    if bad:
        raise Diverged(
            f"training diverged at step {step}: non-finite {', '.join(f'{k}={values[k]}' for k in bad[:4])}; "
            "lower the learning rate or the gradient clip (the last checkpoint holds the last finite weights)"
        )


class Stage:
    """What a trainer gives the loop. `train_step` and `save` are its own; the rest default to
    nothing."""

    def train_step(self, position: int) -> Values:
        """Trains step `position + 1` (the batch after `position` completed steps); returns its
        metrics, the same on every rank."""
        raise NotImplementedError

    def evaluate(self) -> Values:
        """At a checkpoint point, before the checkpoint: metrics merged into the step's (rm: the
        held-out pairs, which also choose the best checkpoint)."""
        return {}

    def save(self) -> Path | None:
        """Writes the checkpoint of the current position; every rank calls it (see `rank0_save`);
        returns the folder on the rank that wrote it."""
        raise NotImplementedError

    def after_metric(self, values: Values) -> None:
        """After the step's metric event (ppo: its sample records, the KL controller)."""

    def line(self, values: Values, seconds: float) -> str:
        """The step's terminal line (rank 0 prints it)."""
        raise NotImplementedError


class Loop:
    def __init__(
        self, run: RunDirectory, ranks: Group, total: int, every: int, should_stop: Callable[[], bool], save_then_log: bool = False
    ) -> None:
        """Checkpoints every `every` steps and at the last one (and at a stop). With
        `save_then_log` a checkpoint point writes the checkpoint before the step's metric event
        (rm: the metric reports the evaluation that chose the checkpoint); otherwise after the
        step's progress and line."""
        self.run, self.ranks, self.total, self.every = run, ranks, total, every
        self.should_stop, self.save_then_log = should_stop, save_then_log
        self.position = 0  # completed steps; a resume sets it
        self.seconds: list[float] = []  # per step, for the ETA

    def eta(self) -> float:
        """Seconds left at the mean pace of the last 10 steps."""
        recent = self.seconds[-10:]
        return sum(recent) / len(recent) * (self.total - self.position)

    def _save(self, stage: Stage) -> None:
        with self.run.heartbeat(f"saving the checkpoint of step {self.position}"):
            path = stage.save()
        if path is not None:
            self.run.checkpoint(self.position, path)

    def train(self, stage: Stage, saved: bool) -> tuple[str, list[Values]]:
        """Runs to the end or to a stop request; returns (`finished`|`stopped`, every step's
        metrics). `saved`: the current position is already a checkpoint (a resumed run), so a stop
        before the first step writes none."""
        history: list[Values] = []
        saved_at = self.position if saved else -1
        self.run.commit_manifest()  # a resume has loaded its checkpoint: run.json may now say so
        while self.position < self.total and not self.ranks.any(self.should_stop()):  # all ranks stop together
            start = time.perf_counter()
            try:
                values = stage.train_step(self.position)
            except StopInStep as stop:
                self.run.log(
                    f"stop requested during step {self.position + 1} (before {stop.phase}): the step is abandoned and redone on --resume"
                )
                break
            check_finite(self.position + 1, values)
            self.position += 1
            self.seconds.append(time.perf_counter() - start)
            due = self.position % self.every == 0 or self.position == self.total
            if due:
                values.update(stage.evaluate())
                if self.save_then_log:
                    self._save(stage)
                    saved_at = self.position
            self.run.metric(self.position, values)
            stage.after_metric(values)
            self.run.progress(self.position, self.total, self.eta())
            if self.ranks.is_main:
                print(stage.line(values, self.seconds[-1]), file=sys.stderr, flush=True)
            if due and saved_at != self.position:
                self._save(stage)
                saved_at = self.position
            history.append(values)
        if saved_at != self.position:
            self._save(stage)
        return ("finished" if self.position >= self.total else "stopped"), history


def rank0_save(ranks: Group, gather: Callable[[bool], Gathered], write: Callable[[Gathered], Path | None]) -> Path | None:
    """`gather(keep)` on each rank that takes part in a checkpoint: rank 0, and with a sharded
    model every rank (gathering the shards is collective; only rank 0 keeps the result); then
    `write` on rank 0. Returns the folder written, or None on the other ranks."""
    main = ranks.is_main
    if not main and not ranks.lockstep:
        return None
    gathered = gather(main)
    return write(gathered) if main else None
