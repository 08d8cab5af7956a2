"""The run directory (DESIGN.md §3): run.json, events.jsonl, samples/, checkpoints/.

Every event, sample record and manifest is checked against the shared schemas before it is
written: a writer bug shows up here, not as a confused chart in the editor.
"""
from __future__ import annotations

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
from typing import TYPE_CHECKING, Any, Iterable

from .config.annotations import run_folder_rule
from .config.schema import validator

if TYPE_CHECKING:
    from .config import ExperimentConfig

PROTOCOL_VERSION = 1
MANIFEST_FILE = "run.json"
EVENTS_FILE = "events.jsonl"
SAMPLES_DIR = "samples"
CHECKPOINTS_DIR = "checkpoints"
LAUNCH_NONCE_ENV = "FACT_RLHF_LAUNCH_NONCE"


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
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


class EventLog:
    """Appends schema-valid events to events.jsonl, one whole line per write, flushed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")
        if self._file.tell() > 0 and not _ends_with_newline(path):
            # A writer killed mid-line (kill -9) left a torn last line: end it, so readers skip
            # it as one corrupt line instead of merging it with the next event.
            self._file.write("\n")
            self._file.flush()

    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        event = finite({"v": PROTOCOL_VERSION, "t": time.time(), "type": type_, **fields})
        _check("run-event.schema.json", event)
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()
        return event

    def close(self) -> None:
        with self._lock:
            self._file.close()


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
        if writer:
            self.path.mkdir(parents=True, exist_ok=True)
        self.events: EventLog | _NoEvents = EventLog(self.path / EVENTS_FILE) if writer else _NoEvents()
        self.manifest: dict[str, Any] = {}

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
    ) -> None:
        """Writes run.json; on resume keeps `started` and appends this launch's `pids` (this
        process by default; the launcher and every rank in a multi-process run)."""
        previous = self.read_manifest() if resume else None
        leader = (pids or [os.getpid()])[0]  # the process the editor signals to stop this launch
        launch = {"host": socket.gethostname(), "pid": leader, "start_time": process_start_time(leader),
                  "nonce": os.environ.get(LAUNCH_NONCE_ENV)}
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
        self.manifest = manifest
        self._save_manifest()

    def read_manifest(self) -> dict[str, Any] | None:
        try:
            with open(self.path / MANIFEST_FILE, encoding="utf-8") as f:
                data: dict[str, Any] = json.load(f)
            return data
        except (OSError, ValueError):
            return None

    def _save_manifest(self) -> None:
        if not self.writer:
            return
        manifest = finite(self.manifest)
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
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
