"""Rules the trainer and the editor share, read from the schema's annotations (schema/experiment.schema.json)
so each lives once: `x-batch-pair` (which global batch splits into which per-device micro-batch, per stage),
`x-iterations` (how many PPO iterations a config runs), `x-run-folder` (how a run folder is named) and
`eval.checkpoint`'s `x-eval-default` (which run an eval with no checkpoint named evaluates).
The language server reads the same annotations (language-server/src/engine/schema.ts, src/runs/runNaming.ts)."""

from __future__ import annotations

import functools
from typing import Any

from .schema import load_schema

BatchKey = tuple[str, str, str]  # (section, global key, per-device key)


@functools.lru_cache(maxsize=1)
def batch_keys() -> dict[str, tuple[BatchKey, ...]]:
    """Stage → its global batches in schema order, from every property annotated `x-batch-pair`."""
    found: dict[str, list[BatchKey]] = {}
    for section, node in load_schema("experiment.schema.json")["properties"].items():
        for key, sub in node.get("properties", {}).items():
            pair = sub.get("x-batch-pair")
            if pair:
                found.setdefault(pair["stage"], []).append((section, key, pair["per_device"]))
    return {stage: tuple(keys) for stage, keys in found.items()}


@functools.lru_cache(maxsize=1)
def iteration_rule() -> dict[str, Any]:
    """`ppo.x-iterations`: iterations = max(minimum, floor(epochs × prompts / batch)), at most `cap` when set."""
    rule: dict[str, Any] = load_schema("experiment.schema.json")["properties"]["ppo"]["x-iterations"]
    if rule.get("rounding") != "floor":
        raise ValueError(f"x-iterations: rounding {rule.get('rounding')!r} is not supported (floor)")
    return rule


@functools.lru_cache(maxsize=1)
def run_folder_rule() -> dict[str, Any]:
    """`x-run-folder`: the run folder's name format, the unsafe-character rule, timestamp and collision suffix."""
    rule: dict[str, Any] = load_schema("experiment.schema.json")["x-run-folder"]
    return rule


@functools.lru_cache(maxsize=1)
def eval_default_rule() -> dict[str, Any]:
    """`eval.checkpoint.x-eval-default`: the run stages tried in order, the status a run must have,
    and the config key of the folder searched (src/runs/evalTarget.ts reads the same rule)."""
    rule: dict[str, Any] = load_schema("experiment.schema.json")["properties"]["eval"]["properties"]["checkpoint"]["x-eval-default"]
    return rule
