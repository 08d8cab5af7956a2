"""Checkpoints: `checkpoints/step-N/` in safetensors (never pickle), plus a `latest` pointer.

Layout of one checkpoint:
  policy/ value/ reward/      adapter_model.safetensors + adapter_config.json (peft format)
  heads.safetensors           value_head.* and reward_head.*
  optimizer.safetensors       AdamW moments per parameter index, and the torch RNG state
  rng.safetensors             RNG states: python `random`, numpy (when loaded), torch CPU, CUDA
  trainer_state.json          iteration, KL coefficient, scheduler position, data position

Tensors are whole whatever the strategy (a sharded model's are gathered before writing and cut
to each rank's shard when read), so a checkpoint resumes under ddp, fsdp or in one process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import torch
from peft import get_peft_model_state_dict, set_peft_model_state_dict
from safetensors.torch import load_file, save_file

from .models.checkpoint_check import HEADS_FILE
from .models.stack import ADAPTERS, ModelStack
from .sharding import full_cpu, is_sharded, loading_whole_tensors, shard_like

LATEST = "latest"
RNG_FILE = "rng.safetensors"
STATE_FILE = "trainer_state.json"


class Diverged(RuntimeError):
    """Training produced non-finite losses, gradients or weights: the run fails, and no
    checkpoint of such weights becomes `latest`."""


# --- committing a checkpoint folder -------------------------------------------------------------
def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Every file's data, then every folder's entries, on disk (deepest first)."""
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                os.fsync(f.fileno())
        _fsync_dir(Path(root))


def commit_folder(checkpoints: Path, name: str, fill: "Callable[[Path], None]") -> Path:
    """`checkpoints/<name>/` as a trusted checkpointer writes it: filled in a temporary folder,
    fsynced, renamed into place (an existing folder of that name is moved aside first, never
    deleted before the new one is in: a kill in between leaves `.old-<name>`, which
    `latest_checkpoint` finds), then the parent fsynced. Point `latest` at it afterwards."""
    checkpoints.mkdir(parents=True, exist_ok=True)
    final, tmp, old = checkpoints / name, checkpoints / f".tmp-{name}", checkpoints / f".old-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    fill(tmp)
    _fsync_tree(tmp)
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    _fsync_dir(checkpoints)
    shutil.rmtree(old, ignore_errors=True)
    return final


def point_latest(checkpoints: Path, folder: Path) -> None:
    """Atomically replaces the `latest` pointer (written, fsynced, renamed, parent fsynced)."""
    pointer = checkpoints / (LATEST + ".tmp")
    with open(pointer, "w", encoding="utf-8") as f:
        f.write(folder.name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(pointer, checkpoints / LATEST)
    _fsync_dir(checkpoints)


def _safetensors_problem(path: Path) -> str | None:
    """Why a safetensors file would not load (read from its header, not its tensors)."""
    size = path.stat().st_size
    if size < 8:
        return "empty file" if size == 0 else "truncated file"
    with open(path, "rb") as f:
        length = int.from_bytes(f.read(8), "little")
        if length <= 0 or 8 + length > size:
            return "truncated header"
        try:
            header = json.loads(f.read(length))
        except ValueError:
            return "unreadable header"
    ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v]
    if 8 + length + max(ends, default=0) > size:
        return "truncated tensor data"
    return None


def checkpoint_problem(folder: Path) -> str | None:
    """None when the checkpoint folder is complete (its state file is there and every weights
    file is whole: header and tensor data as long as the header says), else what is wrong."""
    if not folder.is_dir():
        return "is missing"
    # The state file must be there; a state file that does not parse is an error the resume
    # reports (with its traceback), not a reason to pass over the checkpoint silently.
    if not (folder / STATE_FILE).is_file():
        return f"has no {STATE_FILE}"
    weights = sorted(folder.rglob("*.safetensors"))
    if not weights:
        return "holds no weights"
    for path in weights:
        problem = _safetensors_problem(path)
        if problem:
            return f"{path.relative_to(folder).as_posix()}: {problem}"
        if path.name == "adapter_model.safetensors" and not (path.parent / "adapter_config.json").is_file():
            return f"{path.parent.relative_to(folder).as_posix()}: adapter_config.json is missing"
    return None


def _step_of(folder: Path) -> int:
    try:
        return int(folder.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def latest_checkpoint(checkpoints: Path, report: "Callable[[str], None] | None" = None) -> Path | None:
    """The folder `latest` names when it is complete; otherwise the newest complete `step-N`
    (`report` is told which and why: a kill between two renames or a torn file)."""
    pointer = checkpoints / LATEST
    named = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else ""
    if named and checkpoint_problem(checkpoints / named) is None:
        return checkpoints / named
    if not checkpoints.is_dir():
        return None
    candidates = [p for p in checkpoints.iterdir() if p.is_dir() and (p.name.startswith("step-") or p.name == f".old-{named}")]
    for folder in sorted(candidates, key=lambda p: (_step_of(p), p.name.startswith("step-")), reverse=True):
        if checkpoint_problem(folder) is None:
            if report is not None:
                why = f"checkpoint {named} {checkpoint_problem(checkpoints / named)}" if named else "no `latest` pointer"
                report(f"{why}; resuming from {folder.name}, the newest complete checkpoint")
            return folder
    return None


def step_dir(checkpoints: Path, step: int) -> Path:
    return checkpoints / f"step-{step}"


def adapter_tensors(stack: ModelStack) -> dict[str, dict[str, torch.Tensor]]:
    """Each adapter's weights (peft format) and the heads as whole CPU tensors. Every rank calls
    this when the model is sharded (the shards are gathered)."""
    out = {name: full_cpu(get_peft_model_state_dict(stack.model, adapter_name=name)) for name in ADAPTERS}
    heads = {f"value_head.{k}": v for k, v in stack.value_head.state_dict().items()}
    heads.update({f"reward_head.{k}": v for k, v in stack.reward_head.state_dict().items()})
    out[HEADS_FILE] = full_cpu(heads)
    return out


def write_adapters(stack: ModelStack, folder: Path, tensors: dict[str, dict[str, torch.Tensor]]) -> None:
    for name in ADAPTERS:
        sub = folder / name
        sub.mkdir(parents=True, exist_ok=True)
        save_file(tensors[name], str(sub / "adapter_model.safetensors"))
        stack.model.peft_config[name].save_pretrained(str(sub))
    save_file(tensors[HEADS_FILE], str(folder / HEADS_FILE))


def save_adapters(stack: ModelStack, folder: Path) -> None:
    write_adapters(stack, folder, adapter_tensors(stack))


def load_adapters(stack: ModelStack, folder: Path, names: tuple[str, ...] = ADAPTERS) -> None:
    """Whole tensors from the files; a sharded model keeps its shard of each."""
    device = stack.device
    with loading_whole_tensors(stack.model, stack.value_head, stack.reward_head):
        for name in names:
            state = load_file(str(folder / name / "adapter_model.safetensors"), device=str(device))
            result = set_peft_model_state_dict(stack.model, state, adapter_name=name)
            unexpected = getattr(result, "unexpected_keys", [])
            if unexpected:
                raise ValueError(f"{folder / name}: adapter does not fit this model (unexpected {unexpected[:3]})")
        heads = load_file(str(folder / HEADS_FILE), device=str(device))
        if "value" in names:
            stack.value_head.load_state_dict({k.split(".", 1)[1]: v for k, v in heads.items() if k.startswith("value_head.")})
        if "reward" in names:
            stack.reward_head.load_state_dict({k.split(".", 1)[1]: v for k, v in heads.items() if k.startswith("reward_head.")})


def optimizer_tensors(optimizer: torch.optim.Optimizer, keep: bool = True) -> dict[str, torch.Tensor]:
    """AdamW moments per parameter index as whole CPU tensors (sharded moments are gathered:
    every rank calls), and the torch RNG state. With `keep` False nothing is kept."""
    moments: dict[str, torch.Tensor] = {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            moments[f"state.{index}.{key}"] = value if isinstance(value, torch.Tensor) else torch.tensor(value)
    tensors = full_cpu(moments, keep)
    if keep:
        tensors["rng.torch"] = torch.random.get_rng_state()
    return tensors


def rng_tensors() -> dict[str, torch.Tensor]:
    """Every RNG state of this process as tensors (safetensors holds no Python objects)."""
    version, words, gauss = random.getstate()
    tensors = {
        "python.words": torch.tensor(words, dtype=torch.int64),
        "python.meta": torch.tensor([version, 0 if gauss is None else 1, gauss or 0.0], dtype=torch.float64),
        "torch.cpu": torch.random.get_rng_state(),
    }
    if "numpy" in sys.modules:  # only when something loaded it: it is never imported for this
        _, keys, pos, has_gauss, cached = sys.modules["numpy"].random.get_state()
        tensors["numpy.keys"] = torch.tensor(keys.astype("int64"))
        tensors["numpy.meta"] = torch.tensor([pos, has_gauss, cached], dtype=torch.float64)
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{i}"] = state
    return tensors


def restore_rng(tensors: dict[str, torch.Tensor]) -> None:
    if "python.words" in tensors:
        version, has_gauss, gauss = tensors["python.meta"].tolist()
        words = tuple(int(w) for w in tensors["python.words"].tolist())
        random.setstate((int(version), words, gauss if has_gauss else None))
    if "torch.cpu" in tensors:
        torch.random.set_rng_state(tensors["torch.cpu"])
    if "numpy.keys" in tensors and "numpy" in sys.modules:
        np = sys.modules["numpy"]
        pos, has_gauss, cached = tensors["numpy.meta"].tolist()
        keys = np.asarray(tensors["numpy.keys"].numpy(), dtype=np.uint32)
        np.random.set_state(("MT19937", keys, int(pos), int(has_gauss), float(cached)))
    cuda = sorted((int(k.split(".")[1]), v) for k, v in tensors.items() if k.startswith("cuda."))
    if cuda and torch.cuda.is_available():
        for i, state in cuda[: torch.cuda.device_count()]:
            torch.cuda.set_rng_state(state, i)


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    """Whole moments from the file; those of a sharded parameter become this rank's shard."""
    current = optimizer.state_dict()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("state."):
            _, index, name = key.split(".", 2)
            param = params[int(index)]
            if is_sharded(param) and value.dim() and value.shape == param.shape:
                value = shard_like(value.to(param.dtype), param)
            state.setdefault(int(index), {})[name] = value
    current["state"] = state
    optimizer.load_state_dict(current)


def save_checkpoint(
    checkpoints: Path,
    step: int,
    stack: ModelStack,
    optimizer: torch.optim.Optimizer | None,
    trainer_state: dict[str, Any],
    write: bool = True,
) -> Path | None:
    """Writes step-N/ into a temporary folder, renames it in place, then updates `latest`.
    With a sharded model every rank calls this (the shards are gathered first) and only the
    rank with `write` writes; returns the folder written, or None."""
    adapters = adapter_tensors(stack)
    moments = optimizer_tensors(optimizer, keep=write) if optimizer is not None else None
    if not write:
        return None
    bad = [
        f"{group}/{key}"
        for group, tensors in adapters.items()
        for key, t in tensors.items()
        if t.is_floating_point() and not bool(torch.isfinite(t).all())
    ]
    if bad:
        raise Diverged(
            f"non-finite weights at step {step} ({', '.join(bad[:3])}{' …' if len(bad) > 3 else ''}): "
            "checkpoint not written, `latest` stays on the last finite one"
        )

    def fill(tmp: Path) -> None:
        write_adapters(stack, tmp, adapters)
        if moments is not None:
            save_file(moments, str(tmp / "optimizer.safetensors"))
        save_file({k: v.contiguous() for k, v in rng_tensors().items()}, str(tmp / RNG_FILE))
        (tmp / STATE_FILE).write_text(json.dumps(trainer_state, indent=2) + "\n", encoding="utf-8")

    final = commit_folder(checkpoints, step_dir(checkpoints, step).name, fill)
    point_latest(checkpoints, final)
    return final


def load_checkpoint(folder: Path, stack: ModelStack, optimizer: torch.optim.Optimizer | None) -> dict[str, Any]:
    """Restores adapters, heads, optimizer and RNG states; returns trainer_state.json."""
    load_adapters(stack, folder)
    if optimizer is not None and (folder / "optimizer.safetensors").is_file():
        tensors = load_file(str(folder / "optimizer.safetensors"))
        _restore_optimizer(optimizer, tensors)
        if "rng.torch" in tensors:
            torch.random.set_rng_state(tensors["rng.torch"])
    if (folder / RNG_FILE).is_file():
        restore_rng(load_file(str(folder / RNG_FILE)))
    state: dict[str, Any] = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    return state
