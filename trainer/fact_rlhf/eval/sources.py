"""Which model an `eval` run evaluates, checked without loading anything (torch-free, for preflight)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.annotations import eval_default_rule
from ..errors import UsageError
from ..stages.sources import (
    ADAPTER_WEIGHTS,
    BASE_FILE,
    CHECKPOINTS,
    MANIFEST,
    POLICY_ADAPTER,
    SourceError,
    resolve_policy,
    run_checkpoint,
)

# What a built-in PPO run saves of its model (models/build.py; not imported: it loads torch).
TOKENIZER_FILE = "tokenizer.json"
BASE_DIR = "model"


def ppo_checkpoint(path: Path) -> tuple[Path, Path] | None:
    """(run directory, checkpoint) when `path` is a ppo run or one of its checkpoints."""
    if (path / MANIFEST).is_file():
        run, checkpoint = path, None
    elif (path.parent.parent / MANIFEST).is_file() and path.parent.name == CHECKPOINTS:
        run, checkpoint = path.parent.parent, path
    else:
        return None
    try:
        manifest = json.loads((run / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{run / MANIFEST}: cannot read: {exc}") from exc
    if manifest.get("stage") != "ppo":
        return None
    try:
        checkpoint = checkpoint or run_checkpoint(run)
    except SourceError as exc:
        raise UsageError(str(exc)) from exc
    assert checkpoint is not None
    if not (checkpoint / POLICY_ADAPTER / ADAPTER_WEIGHTS).is_file() or (checkpoint / BASE_FILE).is_file():
        raise UsageError(f"{checkpoint} is not a ppo checkpoint (no {POLICY_ADAPTER}/{ADAPTER_WEIGHTS})")
    return run, checkpoint


def model_problem(target: str) -> str | None:
    """Why `target` cannot be evaluated, found without loading anything (None: it can)."""
    if target.startswith("builtin:"):
        return None
    path = Path(target)
    try:
        ppo = ppo_checkpoint(path)
        if ppo is None:
            resolve_policy(path)
        elif not is_builtin(ppo[0]):
            resolve_policy(Path(run_config(ppo[0])["model"]["policy"]))
        elif not (ppo[0] / TOKENIZER_FILE).is_file() or not (ppo[0] / BASE_DIR / "config.json").is_file():
            return f"{ppo[0]} has no {TOKENIZER_FILE} and {BASE_DIR}/ (the built-in model it trained)"
    except UsageError as exc:  # SourceError is one
        return str(exc)
    return None


def run_config(run: Path) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((run / MANIFEST).read_text(encoding="utf-8"))["config"]
    return config


def is_builtin(run: Path) -> bool:
    return str(run_config(run)["model"]["policy"]).startswith("builtin:")


def mmhal_path(config: dict[str, Any], config_dir: Path | None) -> Path | None:
    """`eval.mmhal_file` (relative to the config when not absolute), else `data.eval`."""
    value = config["eval"].get("mmhal_file") or config["data"].get("eval")
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() or config_dir is None else (config_dir / path).resolve()


@dataclass(frozen=True)
class EvalTarget:
    """What an eval run evaluates and one line saying why that (for the log and the CLI)."""

    target: str
    note: str
    random: bool  # a fresh `builtin:` model: allowed only with eval.allow_random


def _manifest_or_none(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not a run, or one we cannot read: not a candidate
    return data if isinstance(data, dict) else None


def latest_policy_run(output_dir: Path) -> Path | None:
    """The newest run under `output_dir` of the first stage in `x-eval-default` (ppo, rl_init, sft)
    that has one with the required status and a checkpoint."""
    rule = eval_default_rule()
    try:
        folders = [f for f in output_dir.iterdir() if f.is_dir()]
    except OSError:
        return None  # no output folder yet: no runs
    found: dict[str, list[tuple[float, str, Path]]] = {}
    for folder in folders:
        manifest = _manifest_or_none(folder)
        if manifest is None or manifest.get("status") != rule["status"] or manifest.get("stage") not in rule["stages"]:
            continue
        try:
            if run_checkpoint(folder) is None:
                continue
        except SourceError:
            continue  # finished without a checkpoint (or a dangling pointer)
        found.setdefault(str(manifest["stage"]), []).append((float(manifest.get("started") or 0), folder.name, folder))
    for stage in rule["stages"]:
        if found.get(stage):
            return max(found[stage])[2]
    return None


def choose_eval_target(config: dict[str, Any], allow_random: bool | None = None) -> EvalTarget:
    """`eval.checkpoint` when set; else the newest finished policy run under the config's output
    folder; else `model.policy` unless that is a random built-in model, which needs
    `eval.allow_random` (or `allow_random`). Raises UsageError when nothing may be evaluated."""
    ev = config["eval"]
    allowed = bool(ev.get("allow_random")) if allow_random is None else allow_random
    named = ev.get("checkpoint")
    if named:
        return EvalTarget(str(named), f"evaluating {named} (eval.checkpoint)", str(named).startswith("builtin:"))
    output_dir = Path(config[eval_default_rule()["parent"]])
    run = latest_policy_run(output_dir)
    if run is not None:
        stage = (_manifest_or_none(run) or {}).get("stage")
        return EvalTarget(
            str(run),
            f"evaluating {run}: the newest finished {stage} run under {output_dir} (eval.checkpoint is unset; set it to choose another)",
            False,
        )
    policy = str(config["model"]["policy"])
    if not policy.startswith("builtin:"):
        return EvalTarget(policy, f"evaluating {policy} (model.policy; no finished ppo, rl_init or sft run under {output_dir})", False)
    if not allowed:
        stages = ", ".join(eval_default_rule()["stages"])
        raise UsageError(
            f"nothing trained to evaluate: eval.checkpoint is unset, no finished policy run ({stages}) with a checkpoint is under "
            f"{output_dir}, and model.policy is {policy}, a randomly initialised model. Train one first (fact-rlhf ppo/sft CONFIG), "
            "set eval.checkpoint to a run folder or checkpoint, or set eval.allow_random: true (fact-rlhf eval --allow-random) "
            "to score a random model as a smoke test"
        )
    return EvalTarget(policy, f"evaluating {policy} at random initialisation (eval.allow_random): a smoke test, not a result", True)
