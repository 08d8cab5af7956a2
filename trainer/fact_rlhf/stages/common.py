"""Small helpers every stage uses."""
from __future__ import annotations

import sys
from typing import Any

import torch

from ..rundir import RunDirectory


def say(run: RunDirectory, message: str, level: str = "info") -> None:
    """A notable event: a `log` event for the editor and a line for a terminal."""
    run.log(message, level)
    print(f"[fact-rlhf] {message}", file=sys.stderr, flush=True)


def seed_and_threads(config: dict[str, Any]) -> None:
    torch.manual_seed(int(config["seed"]))
    if config["launch"].get("threads"):
        torch.set_num_threads(int(config["launch"]["threads"]))
