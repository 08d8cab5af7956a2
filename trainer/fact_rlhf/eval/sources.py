"""Which model an `eval` run evaluates, checked without loading anything (torch-free, for preflight)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..stages.sources import (
    ADAPTER_WEIGHTS, BASE_FILE, CHECKPOINTS, MANIFEST, POLICY_ADAPTER, SourceError, resolve_policy, run_checkpoint,
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
