"""The run directory (DESIGN.md §3): run.json, events.jsonl, samples/, checkpoints/.

Every event, sample record and manifest is checked against the shared schemas before it is
written: a writer bug shows up here, not as a confused chart in the editor.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .config.annotations import run_folder_rule
from .config.schema import validator
from .errors import UsageError

try:
    import fcntl
except ImportError:  # Windows: msvcrt's byte-range lock plays the same part
    fcntl = None  # type: ignore[assignment]
    import msvcrt

if TYPE_CHECKING:
    from .config import ExperimentConfig

PROTOCOL_VERSION = 1
MANIFEST_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
SAMPLES_DIR = "samples"
CHECKPOINTS_DIR = "checkpoints"
LAUNCH_NONCE_ENV = "FACT_RLHF_LAUNCH_NONCE"
LOCK_FILE = ".lock"
LAUNCHER_PID_ENV = "FACT_RLHF_LAUNCHER_PID"  # distributed.py sets it for the workers of a re-launch
HEARTBEAT_ENV = "FACT_RLHF_HEARTBEAT_S"  # seconds between heartbeat events during a long save
HEARTBEAT_SECONDS = 5.0


def _folder_name(config: "ExperimentConfig", stage: str, timestamp: str) -> str:
    """The schema's `x-run-folder` format (the editor's src/runs/runNaming.ts reads the same rule)."""
    rule = run_folder_rule()
    name = re.sub(rule["unsafe"], rule["replacement"], config.data.get(rule["name"]) or config.stem)
    return str(rule["format"]).format(name=name, stage=stage, timestamp=timestamp)


def run_folder_prefix(config: "ExperimentConfig", stage: str) -> str:
    """The run folder's name up to its timestamp: <name or config stem>-<stage>."""
    marker = "\0"
    return _folder_name(config, stage, marker).split(marker)[0].rstrip(run_folder_rule()["replacement"])


def default_run_dir(config: "ExperimentConfig", stage: str) -> Path:
    """<output_dir>/<name>-<stage>-<YYYYmmdd-HHMMSS>[-N], as the editor names runs."""
    rule = run_folder_rule()
    base = Path(config.data[rule["parent"]]) / _folder_name(config, stage, time.strftime(rule["timestamp"]))
    candidate, n = base, int(rule["collision_start"])
    while candidate.exists():
        candidate, n = Path(str(rule["collision"]).format(folder=base, n=n)), n + 1
    return candidate


def finite(value: Any) -> Any:
    """JSON has no NaN/Infinity: non-finite floats become null (the schema allows null metrics)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def _check(schema: str, value: dict[str, Any]) -> None:
    errors = sorted(validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
        raise ValueError(f"internal error: invalid {schema} record at {where}: {errors[0].message}")


def process_start_time(pid: int) -> int | None:
    """Linux: when the process started, in clock ticks since boot (/proc/<pid>/stat field 22).
    With host and pid it tells this launch from a later process that reused the pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()  # the command name may hold spaces and parentheses
    return int(fields[19]) if len(fields) > 19 else None


def git_revision(folder: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class EventLog:
    """Appends schema-valid events to events.jsonl, one whole line per write, flushed.

    Before each write it checks that the path still names the file it has open: a log someone
    deleted or renamed would swallow every later event (`finished` too) without a trace. It
    then opens a new events.jsonl at the path and says so in its first line."""

    def __init__(self, path: Path, redact: "Callable[[Any], Any] | None" = None) -> None:
        self.path = path
        self.redact = redact or (lambda value: value)
        self._lock = threading.Lock()
        self._written = 0  # events written to the open file
        self._file = self._open()

    def _open(self) -> Any:
        file = open(self.path, "a", encoding="utf-8")
        if file.tell() > 0 and not _ends_with_newline(self.path):
            # A writer killed mid-line (kill -9) left a torn last line: end it, so readers skip
            # it as one corrupt line instead of merging it with the next event.
            file.write("\n")
            file.flush()
        return file

    def _replaced(self) -> bool:
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return True
        mine = os.fstat(self._file.fileno())
        return (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino)

    def _line(self, type_: str, fields: dict[str, Any]) -> tuple[dict[str, Any], str]:
        event = finite({"v": PROTOCOL_VERSION, "t": time.time(), "type": type_, **self.redact(fields)})
        _check("run-event.schema.json", event)
        return event, json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"

    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        event, line = self._line(type_, fields)
        with self._lock:
            if self._replaced():
                before = self._written
                self._file.close()
                self._file = self._open()
                self._written = 0
                _, note = self._line(
                    "log",
                    {
                        "level": "error",
                        "message": (
                            f"{EVENTS_FILE} was deleted or replaced while the run wrote it: {before} earlier events of this "
                            "launch are not in this file (they went to the file that was moved away)"
                        ),
                    },
                )
                self._file.write(note)
                self._written += 1
            self._file.write(line)
            self._file.flush()
            self._written += 1
        return event

    def close(self) -> None:
        with self._lock:
            self._file.close()


def _holder_text(run: Path, lock: dict[str, Any]) -> str:
    """Who holds a run's lock, from the lock file and run.json (its latest launch, if listed)."""
    try:
        manifest = json.loads((run / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    launches = manifest.get("launches") if isinstance(manifest, dict) else None
    launch = launches[-1] if isinstance(launches, list) and launches and isinstance(launches[-1], dict) else {}
    host = lock.get("host") or launch.get("host") or manifest.get("host", "?")
    pid = lock.get("pid") or launch.get("pid") or "?"
    started = lock.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if isinstance(started, (int, float)) else "?"
    start_time = launch.get("start_time") if launch.get("pid") == pid else None
    return f"host {host}, pid {pid}, started {when}" + (f" (process start time {start_time})" if start_time else "")


def _lock_run(path: Path) -> Any:
    """Takes the run's exclusive lock for the life of this process (the OS drops it when the
    process ends, kill -9 included); records who holds it. Raises UsageError naming the holder."""
    file = open(path / LOCK_FILE, "a+", encoding="utf-8")
    try:
        if fcntl is not None:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
    except OSError:
        file.seek(0)
        try:
            holder = json.loads(file.read() or "{}")
        except ValueError:
            holder = {}
        file.close()
        launcher = os.environ.get(LAUNCHER_PID_ENV)
        if launcher and str(holder.get("pid")) == launcher:
            return None  # a worker of a torchrun re-launch: its launcher holds the lock for the run
        raise UsageError(
            f"run directory {path} is in use by another trainer ({_holder_text(path, holder)}); "
            "wait for it to end or stop it, or choose another --run-dir"
        ) from None
    file.seek(0)
    file.truncate()
    file.write(json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}) + "\n")
    file.flush()
    return file


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


class _NoEvents:
    """The event log of a process that must not write (ranks other than 0)."""

    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        return {"v": PROTOCOL_VERSION, "t": time.time(), "type": type_, **fields}

    def close(self) -> None:
        return None


class RunDirectory:
    """One run's folder; creates it and owns its manifest and event log.

    With `writer=False` (every rank but 0 of a multi-process run) nothing is written: events and
    the manifest are dropped, and files the process generates go to `work_dir`, a private
    scratch folder, while `path` still points at the run (its checkpoints are read on resume).
    """

    def __init__(self, path: Path, stage: str, writer: bool = True) -> None:
        self.path = path.resolve()
        self.stage = stage
        self.writer = writer
        self._scratch: Path | None = None
        self._lock_file: Any = None
        self.redact: Callable[[Any], Any] = lambda value: value  # set once the config is known
        if writer:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock_file = _lock_run(self.path)  # before anything is written
        self.events: EventLog | _NoEvents = EventLog(self.path / EVENTS_FILE, lambda v: self.redact(v)) if writer else _NoEvents()
        self.manifest: dict[str, Any] = {}
        # On --resume run.json is rewritten only once the checkpoint has loaded (see write_manifest).
        self._manifest_deferred = False

    @property
    def work_dir(self) -> Path:
        """Where this process writes what it generates (data, tokenizer, base weights)."""
        if self.writer:
            return self.path
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix=f"fact-rlhf-{self.run_id}-"))
        return self._scratch

    @property
    def run_id(self) -> str:
        return self.path.name

    # --- manifest ---------------------------------------------------------------------------
    def write_manifest(
        self,
        config: dict[str, Any],
        config_hash: str,
        config_path: Path | None,
        device: str | None,
        resume: bool = False,
        world_size: int = 1,
        pids: list[int] | None = None,
        given_paths: dict[str, str] | None = None,
    ) -> None:
        """Writes run.json; on resume keeps `started` and appends this launch's `pids` (this
        process by default; the launcher and every rank in a multi-process run). On resume the
        file is written only by `commit_manifest`, once the checkpoint has loaded: a resume that
        fails before leaves the run's record as it was. A changed config keeps the earlier ones
        in `config_history`. `given_paths`: path keys as written (with `${VAR}`)."""
        previous = self.read_manifest() if resume else None
        leader = (pids or [os.getpid()])[0]  # the process the editor signals to stop this launch
        launch = {
            "host": socket.gethostname(),
            "pid": leader,
            "start_time": process_start_time(leader),
            "nonce": os.environ.get(LAUNCH_NONCE_ENV),
        }
        manifest: dict[str, Any] = {
            "id": self.run_id,
            "stage": self.stage,
            "config": config,
            "config_path": str(config_path) if config_path else None,
            "config_hash": config_hash,
            "git_revision": git_revision(config_path.parent if config_path else self.path),
            "host": socket.gethostname(),
            "pids": ([*previous.get("pids", [])] if previous else []) + (pids or [os.getpid()]),
            "launches": ([*previous.get("launches", [])] if previous else []) + [launch],
            "world_size": world_size,
            "started": previous.get("started", time.time()) if previous else time.time(),
            "ended": None,
            "status": "starting",
            "protocol_version": PROTOCOL_VERSION,
        }
        if device:
            manifest["device"] = device
        if given_paths:
            manifest["config_given_paths"] = dict(given_paths)
        history = list(previous.get("config_history", [])) if previous else []
        if previous and previous.get("config_hash") != config_hash:
            history.append({"config_hash": previous.get("config_hash", ""), "config": previous.get("config", {}), "replaced": time.time()})
        if history:
            manifest["config_history"] = history
        self.manifest = manifest
        self._manifest_deferred = resume
        self._save_manifest()

    def keep_manifest(self) -> None:
        """This launch leaves run.json as it is (a resume that never began): statuses go to the
        events only."""
        self._manifest_deferred = True

    def commit_manifest(self) -> None:
        """Writes a resumed run's manifest (with its current status) now that its checkpoint has
        loaded; nothing to do otherwise."""
        if self._manifest_deferred:
            self._manifest_deferred = False
            self._save_manifest()

    def read_manifest(self) -> dict[str, Any] | None:
        try:
            with open(self.path / MANIFEST_FILE, encoding="utf-8") as f:
                data: dict[str, Any] = json.load(f)
            return data
        except (OSError, ValueError):
            return None

    def _save_manifest(self) -> None:
        if not self.writer or self._manifest_deferred:
            return
        manifest = finite(self.redact(self.manifest))
        _check("run-manifest.schema.json", manifest)
        tmp = self.path / (MANIFEST_FILE + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, self.path / MANIFEST_FILE)  # readers never see a half-written manifest

    # --- events -----------------------------------------------------------------------------
    def status(self, status: str, error: str | None = None) -> None:
        fields: dict[str, Any] = {"status": status}
        if error is not None:
            fields["error"] = error
        self.events.emit("status", **fields)
        if self.manifest:
            self.manifest["status"] = status
            if status in ("finished", "failed", "stopped"):
                self.manifest["ended"] = time.time()
            self._save_manifest()

    def log(self, message: str, level: str = "info") -> None:
        self.events.emit("log", level=level, message=message)

    @contextlib.contextmanager
    def heartbeat(self, what: str, every: float | None = None) -> Iterator[None]:
        """While the body runs (a checkpoint of a large model can take minutes), a `log` event
        every `every` seconds (FACT_RLHF_HEARTBEAT_S, default 5): the editor sees the trainer
        alive and busy, not hung, and does not give up on a graceful stop too early."""
        interval = every if every is not None else float(os.environ.get(HEARTBEAT_ENV) or HEARTBEAT_SECONDS)
        done = threading.Event()
        start = time.monotonic()

        def beat() -> None:
            while not done.wait(interval):
                self.log(f"{what}: still working ({time.monotonic() - start:.0f}s)")

        thread = threading.Thread(target=beat, name="fact-rlhf-heartbeat", daemon=True)
        if self.writer:
            thread.start()
        try:
            yield
        finally:
            done.set()
            if thread.is_alive():
                thread.join()

    def metric(self, step: int, values: dict[str, float | None]) -> None:
        self.events.emit("metric", step=step, values=values)

    def progress(self, step: int, total: int, eta: float | None) -> None:
        self.events.emit("progress", step=step, total=total, eta=eta)

    def phase(self, name: str, step: int = 0, total: int = 0, eta: float | None = None) -> None:
        """A `progress` event of a phase before the main steps (schema: ProgressEvent.phase), so
        the editor shows what a run does from its first second (data, the reward warm-up...)."""
        self.events.emit("progress", step=step, total=total, eta=eta, phase=name)

    def checkpoint(self, step: int, path: Path) -> None:
        self.events.emit("checkpoint", step=step, path=self.relative(path))

    def samples(self, step: int, records: Iterable[dict[str, Any]]) -> Path:
        """Writes samples/step-NNNNNN.jsonl (one SampleRecord per line) and its `sample` event."""
        folder = self.path / SAMPLES_DIR
        if not self.writer:
            return folder
        folder.mkdir(exist_ok=True)
        path = folder / f"step-{step:06d}.jsonl"
        lines = []
        for record in records:
            record = finite(record)
            _check("sample-record.schema.json", record)
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(lines))
        self.events.emit("sample", step=step, path=self.relative(path), count=len(lines))
        return path

    def relative(self, path: Path) -> str:
        """A path inside the run as the contract wants it: relative, with forward slashes."""
        try:
            return Path(os.path.relpath(Path(path).resolve(), self.path)).as_posix()
        except ValueError:
            return str(path)

    def close(self) -> None:
        self.events.close()
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock; the file stays (removing it would race a new holder)
            self._lock_file = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
