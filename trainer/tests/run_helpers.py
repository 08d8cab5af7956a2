"""Shared helpers for the trainer's run-directory tests (schemas, tiny configs, event files)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Callable

import jsonschema
import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "schema"
TRAINER = REPO / "trainer"


@lru_cache(maxsize=None)
def schema_validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


# A small, quick PPO run on the built-in world (a few seconds of CPU).
TINY_PPO: dict[str, Any] = {
    "version": 1,
    "name": "test-tiny",
    "seed": 0,
    "model": {
        "policy": "builtin:tiny-llava",
        "max_length": 512,
        "lora": {"r": 8, "alpha": 16},
        "tiny": {"hidden_size": 64, "num_layers": 2, "num_heads": 4, "vision_hidden_size": 32, "image_size": 32, "patch_size": 8},
    },
    "data": {"builtin": "shapes", "num_images": 16},
    "reward_model": {"learning_rate": 1e-3, "batch_size": 8, "per_device_batch_size": 8, "held_out": 8, "centering_coef": 0.1},
    "ppo": {
        "reward_warmup_steps": 4,
        "rollout_batch_size": 16,
        "rollout_per_device_batch_size": 16,
        "step_batch_size": 8,
        "step_per_device_batch_size": 4,
        "ppo_epochs": 2,
        "total_epochs": 100,
        "max_iterations": 12,
        "learning_rate": 1e-2,
        "warmup_iterations": 1,
        "kl_coef": 0.05,
        "query_len": 96,
        "response_len": 12,
        "save_every": 5,
        "samples_per_step": 4,
    },
    "launch": {"device": "cpu", "threads": 1},
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def write_config(
    folder: Path, name: str = "exp.rlhf.yaml", overrides: dict[str, Any] | None = None, base: dict[str, Any] | None = None
) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(merge(base if base is not None else TINY_PPO, overrides or {}), sort_keys=False), encoding="utf-8")
    return path


def is_step_progress(event: dict[str, Any]) -> bool:
    """A `progress` event of the stage's main steps (not of a phase before them: data, warm-up...)."""
    return event["type"] == "progress" and "phase" not in event


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines() if line]


def events_with_corrupt(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(events, lines that are not JSON): a live or killed writer may leave a torn last line."""
    good, bad = [], []
    for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines():
        try:
            good.append(json.loads(line))
        except ValueError:
            bad.append(line)
    return good, bad


def assert_events_valid(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every event validates against schema/run-event.schema.json (the failing one is shown)."""
    validator = schema_validator("run-event.schema.json")
    for e in events:
        assert not list(validator.iter_errors(e)), e
    return events


def valid_events(run_dir: Path) -> list[dict[str, Any]]:
    """The run's events, each checked against the event schema."""
    return assert_events_valid(read_events(run_dir))


def trainer_env(**extra: str) -> dict[str, str]:
    """Environment of a trainer child process: this package first on PYTHONPATH."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": str(TRAINER) + (os.pathsep + path if path else ""), **extra}


def start_trainer(stage: str, config: Path, run_dir: Path, stdout: int | IO[Any] | None) -> "subprocess.Popen[str]":
    """`python -m fact_rlhf <stage>` as the editor starts it; stderr is piped, text mode."""
    return subprocess.Popen(
        [sys.executable, "-m", "fact_rlhf", stage, "--config", str(config), "--run-dir", str(run_dir)],
        env=trainer_env(),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_event(
    proc: "subprocess.Popen[str]", run_dir: Path, seen: Callable[[dict[str, Any]], bool], timeout: float, poll: float
) -> None:
    """Polls the run's events until one satisfies `seen`, the process exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if (run_dir / "events.jsonl").is_file() and any(seen(e) for e in events_with_corrupt(run_dir)[0]):
            return
        time.sleep(poll)


def statuses(events: list[dict[str, Any]]) -> list[str]:
    return [e["status"] for e in events if e["type"] == "status"]


def slope(values: list[float]) -> float:
    """Least-squares slope against the index (written here independently of the trainer's)."""
    n = len(values)
    xs = list(range(n))
    mx, my = sum(xs) / n, sum(values) / n
    return sum((x - mx) * (y - my) for x, y in zip(xs, values)) / sum((x - mx) ** 2 for x in xs)


@lru_cache(maxsize=None)
def _catalogue_patterns() -> tuple[str, ...]:
    """The metric keys of schema/metrics.json (the catalogue the editor's titles come from);
    a `*` stands for one key segment."""
    entries = json.loads((SCHEMA_DIR / "metrics.json").read_text(encoding="utf-8"))["metrics"]
    return tuple(str(e["key"]) for e in entries)


def uncatalogued(events: list[dict[str, Any]]) -> set[str]:
    """Metric keys the run wrote that schema/metrics.json has no entry for."""

    def known(key: str) -> bool:
        parts = key.split("/")
        return any(
            len(pat.split("/")) == len(parts) and all(a in ("*", b) for a, b in zip(pat.split("/"), parts)) for pat in _catalogue_patterns()
        )

    keys = {k for e in events if e.get("type") == "metric" for k in e["values"]}
    return {k for k in keys if not known(k)}
