"""Reads a seed's figures back from its run directories: the eval runs' results.json and the rm
runs' held-out accuracy (their `metric` events). Torch-free."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..eval.results import RESULTS_FILE
from ..rundir import EVENTS_FILE
from .plan import MODELS, REWARD_MODELS, Task, run_dir

# Per-policy figures: (column, results.json path, digits shown).
POLICY_FIGURES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("MMHal-style score (0-6) ↑", ("shapes", "score"), 2),
    ("hallucination rate ↓", ("shapes", "hallucination_rate"), 3),
    ("POPE F1 ↑", ("pope", "f1"), 3),
    ("CHAIR-i ↓", ("chair", "chair_i"), 3),
    ("mean response length (words)", ("shapes", "mean_response_length"), 1),
)


def _dig(tree: Any, path: tuple[str, ...]) -> float | None:
    for part in path:
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return float(tree) if isinstance(tree, (int, float)) and not isinstance(tree, bool) else None


def policy_figures(folder: Path) -> dict[str, float | None]:
    """An eval run's figures by column; all None when it left no results."""
    path = folder / RESULTS_FILE
    results = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return {column: _dig(results, where) for column, where, _ in POLICY_FIGURES}


RM_ACCURACY = "rm/eval_accuracy"
RM_ACCURACY_OTHER_FACTS = "rm/eval_accuracy_other_facts"  # the facts probe (rm/facts_probe.py)


def last_metrics(folder: Path, keys: tuple[str, ...]) -> dict[str, float | None]:
    """The last value of each key an rm run reported, from one read of its events (None when it
    never reported the key)."""
    found: dict[str, float | None] = {key: None for key in keys}
    path = folder / EVENTS_FILE
    if not path.is_file():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a torn line: the run was killed while writing
        if event.get("type") == "metric":
            values = event.get("values") or {}
            for key in keys:
                if isinstance(values.get(key), (int, float)):
                    found[key] = float(values[key])
    return found


def held_out_accuracy(folder: Path, key: str = RM_ACCURACY) -> float | None:
    """The last `key` (by default the held-out accuracy) an rm run reported."""
    return last_metrics(folder, (key,))[key]


def seed_figures(out: Path, seed: int) -> dict[str, Any]:
    """{"policies": {model: {column: value}}, "reward_models": {label: accuracy}, "facts_probe": accuracy}
    of one seed."""

    def folder(name: str) -> Path:
        return run_dir(out, Task(seed, name, "", ""))

    rms = {task: last_metrics(folder(task), (RM_ACCURACY, RM_ACCURACY_OTHER_FACTS)) for _, task in REWARD_MODELS}
    return {
        "policies": {label: policy_figures(folder(task)) for label, task in MODELS},
        "reward_models": {label: rms[task][RM_ACCURACY] for label, task in REWARD_MODELS},
        # The fact RM on the same pairs with another image's facts: no drop = it ignores the facts.
        "facts_probe": rms[REWARD_MODELS[1][1]][RM_ACCURACY_OTHER_FACTS],
    }
