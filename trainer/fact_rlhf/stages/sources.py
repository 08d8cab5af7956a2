"""Where a stage's model comes from: `model.policy` and `model.reward_model` resolved to folders.

Torch-free, so preflight can check every path before a model is loaded. A path may name:
- a Hugging Face LLaVA folder (config.json + weights + processor);
- a run directory (run.json): its `checkpoints/best` for an `rm` run when there is one, else its
  `checkpoints/latest`;
- a stage checkpoint with `base.json` (the model it was trained on) and one adapter folder:
  `sft/` (LoRA SFT: merged into the base when loaded), `policy/` (rl_init: PPO's policy and frozen
  reference start from it) or `reward/` + `heads.safetensors` (a reward model).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..models.checkpoint_check import model_config_problem

MANIFEST = "run.json"
CHECKPOINTS = "checkpoints"
LATEST = "latest"
BEST = "best"
BASE_FILE = "base.json"
SFT_ADAPTER = "sft"
POLICY_ADAPTER = "policy"
REWARD_ADAPTER = "reward"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
HEADS_FILE = "heads.safetensors"
_SAMPLES, _SAMPLE_BYTES = 16, 1 << 16


class SourceError(UsageError):
    """A model path that cannot be used; the message says why (callers add the config key)."""


@dataclass(frozen=True)
class ModelSource:
    """A base model to load: full weights in `folder`, then LoRA SFT adapters merged in order.
    `policy_adapter` is an rl_init policy LoRA kept apart from the base."""

    folder: Path
    merges: tuple[Path, ...] = ()
    policy_adapter: Path | None = None
    given: Path | None = field(default=None, compare=False)

    @property
    def base(self) -> "ModelSource":
        """The shared base alone (without the policy adapter)."""
        return ModelSource(self.folder, self.merges, None, self.given)


def read_json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from exc


def run_checkpoint(folder: Path) -> Path | None:
    """The checkpoint a run directory stands for, or None when `folder` is not a run."""
    if not (folder / MANIFEST).is_file():
        return None
    stage = read_json_file(folder / MANIFEST).get("stage")
    checkpoints = folder / CHECKPOINTS
    if stage == "rm" and (checkpoints / BEST).is_dir():
        return checkpoints / BEST
    pointer = checkpoints / LATEST
    if not pointer.is_file():
        raise SourceError(f"{folder} is a {stage} run without a checkpoint yet (no {CHECKPOINTS}/{LATEST})")
    target = checkpoints / pointer.read_text(encoding="utf-8").strip()
    if not target.is_dir():
        raise SourceError(f"{pointer} names {target.name}, which does not exist")
    return target


def _checkpoint_folder(path: Path) -> Path:
    if not path.is_dir():
        raise SourceError(f"folder not found: {path}")
    return run_checkpoint(path) or path


def _full_model_problem(folder: Path) -> str | None:
    return model_config_problem(
        folder, f"expected a Hugging Face LLaVA checkpoint folder, a run directory or a stage checkpoint with {BASE_FILE}"
    )


def _adapter(folder: Path, name: str) -> Path | None:
    sub = folder / name
    if (sub / ADAPTER_WEIGHTS).is_file() and (sub / ADAPTER_CONFIG).is_file():
        return sub
    return None


def base_of(checkpoint: Path) -> Path:
    """The model a stage checkpoint was trained on (its base.json)."""
    data = read_json_file(checkpoint / BASE_FILE)
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        raise SourceError(f'{checkpoint / BASE_FILE}: expected {{"path": string, ...}}')
    return Path(data["path"])


def resolve_policy(path: Path, _depth: int = 0) -> ModelSource:
    """The model `model.policy: path` names; raises SourceError."""
    if _depth > 8:
        raise SourceError(f"{path}: {BASE_FILE} chain too deep (a cycle?)")
    folder = _checkpoint_folder(path)
    if not (folder / BASE_FILE).is_file():
        problem = _full_model_problem(folder)
        if problem:
            raise SourceError(problem)
        return ModelSource(folder, given=path)
    base = resolve_policy(base_of(folder), _depth + 1)
    if base.policy_adapter is not None:
        raise SourceError(
            f"{folder} was trained on an rl_init policy ({base.policy_adapter}); stages train on an SFT model or a full model folder"
        )
    sft = _adapter(folder, SFT_ADAPTER)
    if sft is not None:
        return ModelSource(base.folder, base.merges + (sft,), given=path)
    policy = _adapter(folder, POLICY_ADAPTER)
    if policy is not None:
        return ModelSource(base.folder, base.merges, policy, given=path)
    if _adapter(folder, REWARD_ADAPTER) is not None:
        # A reward model's policy part is the model it was trained on.
        return ModelSource(base.folder, base.merges, given=path)
    raise SourceError(f"{folder} has {BASE_FILE} but no {SFT_ADAPTER}/, {POLICY_ADAPTER}/ or {REWARD_ADAPTER}/ adapter")


def resolve_reward(path: Path) -> Path:
    """The reward-model checkpoint folder `model.reward_model: path` names; raises SourceError."""
    folder = _checkpoint_folder(path)
    for needed in (Path(REWARD_ADAPTER) / ADAPTER_WEIGHTS, Path(HEADS_FILE)):
        if not (folder / needed).is_file():
            raise SourceError(f"{folder} is not a reward model checkpoint (no {needed.as_posix()})")
    return folder


# --- identity of a base model ---------------------------------------------------------------------
def _file_digest(h: "hashlib._Hash", path: Path, whole: bool) -> None:
    """Small files whole; big weight files by size and evenly spaced samples (a fingerprint that
    tells fine-tunes of one architecture apart without reading gigabytes)."""
    size = path.stat().st_size
    h.update(f"{path.name}:{size}:".encode())
    with open(path, "rb") as f:
        if whole or size <= _SAMPLES * _SAMPLE_BYTES:
            h.update(f.read())
            return
        for i in range(_SAMPLES):
            f.seek(i * (size - _SAMPLE_BYTES) // (_SAMPLES - 1))
            h.update(f.read(_SAMPLE_BYTES))


def signature(source: ModelSource) -> str:
    """Fingerprint of the shared base (full weights + merged adapters, not the policy adapter)."""
    h = hashlib.sha256()
    for name in ("config.json", "tokenizer.json", "tokenizer.model"):
        if (source.folder / name).is_file():
            _file_digest(h, source.folder / name, whole=True)
    weights = sorted(p for p in source.folder.iterdir() if p.suffix in (".safetensors", ".bin"))
    for p in weights:
        _file_digest(h, p, whole=False)
    for adapter in source.merges:
        _file_digest(h, adapter / ADAPTER_WEIGHTS, whole=True)
    return h.hexdigest()


def base_record(source: ModelSource) -> dict[str, Any]:
    """What a stage checkpoint's base.json holds: the concrete checkpoint trained on (not a run,
    whose latest checkpoint may move) and its fingerprint."""
    given = source.given or source.folder
    concrete = _checkpoint_folder(given) if given.is_dir() else given
    return {"path": str(concrete.resolve()), "signature": signature(source)}


def reward_base_signature(reward_folder: Path) -> str | None:
    """The fingerprint of the base a reward checkpoint was trained on (None: not recorded)."""
    if not (reward_folder / BASE_FILE).is_file():
        return None
    data = read_json_file(reward_folder / BASE_FILE)
    value = data.get("signature") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
