"""Multi-process training on PyTorch's own stack: torchrun launches, DDP trains.

- Under `torchrun` (its RANK / WORLD_SIZE / LOCAL_RANK variables) every process initialises the
  default process group from the environment: nccl on GPU, gloo on CPU. Several nodes come through
  torchrun's rendezvous (`--nnodes=N --rdzv-backend=c10d --rdzv-endpoint=HOST:PORT` on every
  node); this module adds nothing of its own there.
- `launch.strategy`: ddp (replicated model, DistributedDataParallel) or fsdp (sharded model,
  sharding.py) for the ppo, sft, rl_init and rm stages.
- With `launch.backend: torchrun` and a plain `python -m fact_rlhf ...` start, the process
  re-launches itself through `python -m torch.distributed.run --standalone` with an argument
  array, forwards stop signals to the workers and reports their failure if they could not.
- Batch sizes in the config are global; each rank takes a contiguous share (preflight/world.py
  checks they split).
- Only rank 0 writes the run directory; the others keep their generated files in a private
  scratch folder (see RunDirectory.work_dir).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Sequence

from .failures import record_failure

if TYPE_CHECKING:
    import torch

    from .config import ExperimentConfig
    from .rundir import RunDirectory

LAUNCHER_PID_ENV = "FACT_RLHF_LAUNCHER_PID"  # set for the workers of a re-launch
TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class Placement:
    """This process's place in the job, read from torchrun's variables (1 process otherwise)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def under_torchrun() -> bool:
    return all(name in os.environ for name in TORCHRUN_ENV)


def placement() -> Placement:
    if not under_torchrun():
        return Placement()
    return Placement(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"]))


def processes_per_node(launch: dict[str, Any], device: str) -> int:
    """launch.processes, or one per GPU on GPU and 1 on CPU."""
    wanted = int(launch.get("processes") or 0)
    if wanted:
        return wanted
    return max(1, int(launch["gpus"])) if device.startswith("cuda") else 1


def planned_world_size(launch: dict[str, Any], device: str) -> int:
    """The processes a launch of this config trains on: with backend torchrun, processes_per_node
    on each of launch.nodes nodes (the self-launch covers one node; several are started by
    torchrun on every node); one process otherwise."""
    if launch["backend"] != "torchrun":
        return 1
    return processes_per_node(launch, device) * int(launch.get("nodes") or 1)


# --- the process group --------------------------------------------------------------------------
class Group:
    """The collectives the trainer needs; each is a no-op (or identity) in a single process."""

    def __init__(self, where: Placement, device: "torch.device") -> None:
        self.where = where
        self.device = device  # where collective tensors live (CPU for gloo, the GPU for nccl)
        # Set once the model is sharded (FSDP): every forward is then a collective, so loops
        # whose length a rank could decide alone (sampling until all rows end) decide together.
        self.lockstep = False

    @property
    def rank(self) -> int:
        return self.where.rank

    @property
    def world_size(self) -> int:
        return self.where.world_size

    @property
    def enabled(self) -> bool:
        return self.where.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.where.is_main

    def share(self, n: int) -> slice:
        """This rank's contiguous share of a global batch of n (n divisible by the world size)."""
        size = n // self.world_size
        return slice(self.rank * size, (self.rank + 1) * size)

    def _reduce(self, values: Sequence[float], op: str) -> list[float]:
        if not self.enabled:
            return list(values)
        import torch
        import torch.distributed as dist

        t = torch.tensor(list(values), dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM)
        return [float(v) for v in t.cpu()]

    def sum(self, values: Sequence[float]) -> list[float]:
        return self._reduce(values, "sum")

    def max(self, values: Sequence[float]) -> list[float]:
        return self._reduce(values, "max")

    def max_int(self, value: int) -> int:
        return int(self._reduce([value], "max")[0])

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on one (e.g. a stop request seen by one rank)."""
        return self._reduce([1.0 if flag else 0.0], "max")[0] > 0

    def every(self, flag: bool) -> bool:
        """True on every rank when it is true on all of them."""
        return not self.any(not flag)

    def agree_done(self, done: bool) -> bool:
        """Whether a loop that runs forwards may end: this rank's answer, or with a sharded
        model (lockstep) the answer of all ranks together."""
        return self.every(done) if self.lockstep and self.enabled else done

    def gather_rows(self, t: "torch.Tensor") -> "torch.Tensor":
        """Concatenation over ranks along dim 0, in rank order (equal shapes on every rank)."""
        if not self.enabled:
            return t
        import torch
        import torch.distributed as dist

        local = t.to(self.device).contiguous()
        parts = [torch.empty_like(local) for _ in range(self.world_size)]
        dist.all_gather(parts, local)
        return torch.cat(parts).to(t.device)

    def gather_ints(self, value: int) -> list[int]:
        if not self.enabled:
            return [value]
        import torch

        return [int(v) for v in self.gather_rows(torch.tensor([value], dtype=torch.int64))]

    def broadcast(self, tensors: Sequence["torch.Tensor"]) -> None:
        """Rank 0's values into every rank's tensors, in place. Sharded tensors (FSDP) are left
        alone: each rank holds a different part, and there is only one copy of each part."""
        if not self.enabled:
            return
        import torch.distributed as dist
        from torch.distributed.tensor import DTensor

        for t in tensors:
            if isinstance(t, DTensor):
                continue
            buffer = t.data.to(self.device)
            dist.broadcast(buffer, src=0)
            if buffer.data_ptr() != t.data.data_ptr():
                t.data.copy_(buffer)

    def broadcast_text(self, text: str) -> str:
        """Rank 0's string (e.g. the run directory it chose), as UTF-8 bytes over a tensor."""
        if not self.enabled:
            return text
        import torch
        import torch.distributed as dist

        data = text.encode("utf-8") if self.is_main else b""
        size = torch.tensor([len(data)], dtype=torch.int64, device=self.device)
        dist.broadcast(size, src=0)
        buffer = torch.zeros(int(size.item()), dtype=torch.uint8, device=self.device)
        if self.is_main:
            buffer.copy_(torch.frombuffer(bytearray(data), dtype=torch.uint8))
        dist.broadcast(buffer, src=0)
        return bytes(buffer.cpu().tolist()).decode("utf-8")

    def barrier(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()


_group: Group | None = None


def init_group(device: str) -> tuple[Group, str]:
    """Joins torchrun's job (when there is one) and returns the group and this rank's device:
    `cuda` becomes `cuda:<local rank>`."""
    global _group
    import torch

    where = placement()
    if where.world_size > 1:
        import torch.distributed as dist

        if device.startswith("cuda"):
            torch.cuda.set_device(where.local_rank)
            device = f"cuda:{where.local_rank}"
        if not dist.is_initialized():
            dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    comm = torch.device(device if device.startswith("cuda") else "cpu")
    _group = Group(where, comm)
    return _group, device


def group() -> Group:
    """The group of this process (a single-process group before init_group)."""
    global _group
    if _group is None:
        import torch

        _group = Group(Placement(), torch.device("cpu"))
    return _group


def shutdown(clean: bool) -> None:
    """Leaves the process group. After a clean run all ranks meet at a barrier first: without it
    a rank can tear down its connections while another still talks, and abort at exit."""
    global _group
    try:
        import torch.distributed as dist
    except ImportError:
        # No torch: nothing was joined, and a second traceback would bury the first error.
        _group = None
        return

    if dist.is_available() and dist.is_initialized():
        if clean:
            dist.barrier()
        dist.destroy_process_group()
    _group = None


# --- self re-launch through torchrun ------------------------------------------------------------
# Stages whose training loop shards its batch over ranks (the others would only repeat the work).
DISTRIBUTED_STAGES = ("ppo", "sft", "rl_init", "rm")


def wrap_ddp(module: "torch.nn.Module", device: "torch.device", ranks: Group, find_unused: bool = False) -> "torch.nn.Module":
    """DistributedDataParallel over the group when there are several ranks and the model is not
    sharded (a sharded model reduces its own gradients); the module itself otherwise. Buffers
    (rotary tables) are constants and are not re-broadcast every forward."""
    if not ranks.enabled or ranks.lockstep:
        return module
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(
        module,
        device_ids=[device.index] if device.type == "cuda" else None,
        forward_sync_buffers=False,
        find_unused_parameters=find_unused,
    )


def needs_relaunch(config: "ExperimentConfig", stage: str) -> bool:
    return stage in DISTRIBUTED_STAGES and config.data["launch"]["backend"] == "torchrun" and not under_torchrun()


def torchrun_argv(nproc: int, stage: str, config_path: Path, run_dir: Path, resume: bool, allow_config_change: bool = False) -> list[str]:
    """The workers' command line (an argument array, never a shell string)."""
    argv = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={nproc}",
        "-m",
        "fact_rlhf",
        stage,
        "--config",
        str(config_path),
        "--run-dir",
        str(run_dir),
    ]
    return argv + (["--resume"] if resume else []) + (["--allow-config-change"] if allow_config_change else [])


def _worker_pids(run: "RunDirectory", launcher: int) -> list[int]:
    """The pids rank 0 recorded after this launcher's in run.json (empty before it has)."""
    manifest = run.read_manifest() or {}
    pids = [int(p) for p in manifest.get("pids", [])]
    return pids[pids.index(launcher) + 1 :] if launcher in pids else []


def _last_status(run: "RunDirectory") -> str | None:
    from .rundir import EVENTS_FILE

    status = None
    try:
        lines = (run.path / EVENTS_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a torn line from a killed writer
        if isinstance(event, dict) and event.get("type") == "status":
            status = event.get("status")
    return status


def relaunch(
    config: "ExperimentConfig", stage: str, run: "RunDirectory", device: str, resume: bool, allow_config_change: bool = False
) -> int:
    """Runs the stage as `torch.distributed.run --standalone` workers and waits for them.

    Stop signals go to the workers themselves (their pids are in run.json), so each finishes its
    iteration and rank 0 checkpoints; torchrun gets the signal only before the pids are known (it
    then stops the workers with its own grace period). Returns the exit code to report.
    """
    nproc = processes_per_node(config.data["launch"], device)  # the caller checked the batches split over nproc
    if device.startswith("cuda"):
        import torch

        from .errors import ConfigError

        available = torch.cuda.device_count()
        if nproc > available:
            key = ("launch", "processes") if config.data["launch"].get("processes") else ("launch", "gpus")
            raise ConfigError([config.problem(key, f"{nproc} processes, one per GPU, but this node has {available} GPU(s)")])
    argv = torchrun_argv(nproc, stage, config.path, run.path, resume, allow_config_change)
    env = {**os.environ, LAUNCHER_PID_ENV: str(os.getpid()), "PYTHONPATH": _pythonpath()}
    print(f"[fact-rlhf] launching {nproc} processes: {' '.join(argv[1:6])}", file=sys.stderr, flush=True)
    pending: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        # Its own session: a signal to the launcher's process group (the editor's stop) does
        # not reach torchrun, which would otherwise kill the workers after its 30 s grace.
        proc = subprocess.Popen(argv, env=env, start_new_session=True)
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            while pending:
                pending.pop()
                targets = _worker_pids(run, os.getpid()) or [proc.pid]
                for pid in targets:
                    try:
                        os.kill(pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code != 0 and _last_status(run) not in ("failed", "stopped", "finished"):
        message = f"the torchrun workers exited with code {code} before reporting (see the trainer's stderr)"
        record_failure(run, stage, message, config)  # as the stage runner records one: manifest if missing, then the status
    return 0 if code == 0 else 1


def _pythonpath() -> str:
    """The workers import this package from where this process found it."""
    here = str(Path(__file__).resolve().parents[1])
    current = os.environ.get("PYTHONPATH", "")
    return here if not current else here + os.pathsep + current


def manifest_pids(where: Group) -> list[int]:
    """This launch's processes for run.json: the re-launching parent (if any), then every rank."""
    launcher = os.environ.get(LAUNCHER_PID_ENV)
    ranks = where.gather_ints(os.getpid())
    return ([int(launcher)] if launcher else []) + ranks
