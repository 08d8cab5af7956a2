"""Checks of an `eval` config before any model is loaded; each problem names file, line and key."""

from __future__ import annotations

from ..config import ExperimentConfig
from ..errors import UsageError
from ..eval.judge_openai import JudgeConfig
from ..eval.sources import choose_eval_target, mmhal_path, model_problem
from .common import check_tiny
from .models import BUILTIN_POLICIES
from .problems import Collector


def eval_problems(config: ExperimentConfig) -> Collector:
    """Every problem of an eval config."""
    cfg = config.data
    ev, model, launch = cfg["eval"], cfg["model"], cfg["launch"]
    c = Collector(config)
    if not ev["benchmarks"]:
        c.error(("eval", "benchmarks"), "no benchmark to run; choose from shapes, pope, chair, mmhal", "missing-data")
    if "mmhal" in ev["benchmarks"]:
        path = mmhal_path(cfg, config.path.parent)
        if path is None:
            c.error(
                ("eval", "mmhal_file"),
                "the mmhal benchmark needs an MMHal-Bench-format file (eval.mmhal_file or data.eval)",
                "missing-data",
            )
        elif not path.is_file():
            c.error(("eval", "mmhal_file") if ev.get("mmhal_file") else ("data", "eval"), f"file not found: {path}", "path-not-found")
        try:
            JudgeConfig.resolve(ev.get("judge") or {})
        except UsageError as exc:
            c.error(("eval", "judge"), str(exc), "judge-config")
    try:
        choice = choose_eval_target(cfg)
    except UsageError as exc:  # nothing trained to evaluate and a random model not allowed
        c.error(("eval", "checkpoint"), str(exc), "untrained-model")
        choice = None
    target = choice.target if choice else ""
    # A problem with the default (model.policy) points at model.policy; one with a run at eval.checkpoint.
    key = ("model", "policy") if choice and not ev.get("checkpoint") and target == model["policy"] else ("eval", "checkpoint")
    if choice is None:
        if model["policy"] not in BUILTIN_POLICIES:
            c.error(
                ("model", "policy"), f"unknown built-in model {model['policy']!r}; available: {', '.join(BUILTIN_POLICIES)}", "model-folder"
            )
    elif target.startswith("builtin:") and target not in BUILTIN_POLICIES:
        c.error(key, f"unknown built-in model {target!r}; available: {', '.join(BUILTIN_POLICIES)}", "model-folder")
    else:
        problem = model_problem(target)
        if problem:
            c.error(key, problem, "model-folder")
        elif choice.random:
            c.warn(
                key,
                "evaluating a randomly initialised model (eval.allow_random): set eval.checkpoint to a trained run (ppo, sft, rl_init) or checkpoint for a result",
                "untrained-model",
            )
    if model["policy"].startswith("builtin:"):
        check_tiny(c, model["tiny"])
    if launch["backend"] != "local" or launch["nodes"] > 1:
        c.error(
            ("launch", "backend") if launch["backend"] != "local" else ("launch", "nodes"),
            "the eval stage runs in one process; use backend: local, nodes: 1",
            "incompatible",
        )
    return c


def check_eval_config(config: ExperimentConfig) -> list[str]:
    """Raises ConfigError for anything that would fail later; returns warnings."""
    return eval_problems(config).raise_errors()
