"""Small helpers every stage uses."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch

from ..rundir import RunDirectory


def say(run: RunDirectory, message: str, level: str = "info") -> None:
    """A notable event: a `log` event for the editor and a line for a terminal (rank 0 only)."""
    run.log(message, level)
    if run.writer:
        print(f"[fact-rlhf] {message}", file=sys.stderr, flush=True)


def stage_folders(run: RunDirectory, resuming: bool) -> tuple[Path, Path]:
    """(where the stage generates its data, where it writes or finds the built-in model). Rank 0
    writes into the run; the other ranks generate the same files from the same seed into their
    scratch folder, and on resume every rank reads the model rank 0 saved."""
    return run.work_dir, run.path if resuming else run.work_dir


def seed_and_threads(config: dict[str, Any]) -> None:
    torch.manual_seed(int(config["seed"]))
    if config["launch"].get("threads"):
        torch.set_num_threads(int(config["launch"]["threads"]))
