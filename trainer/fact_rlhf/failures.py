"""How a run that could not go on is reported: on stderr for humans and, when there is a run
directory, as its `failed` status (with a manifest first if the run never wrote one).

Both the stage runner and the torchrun launcher (distributed.py) report through here, so a run
that failed reads the same whoever noticed.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import ExperimentConfig
    from .rundir import RunDirectory


def error_text(exc: BaseException) -> str:
    """The exception and the innermost frames: enough to find the bug, short enough to show."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = "".join(f"\n  at {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames)
    return f"{type(exc).__name__}: {exc}{where}"


def record_failure(run: "RunDirectory | None", stage: str, message: str, config: "ExperimentConfig | None") -> None:
    if config is not None:
        message = config.redact(message)  # a path from `${VAR}` shows the variable, not its value
    print(f"error: {message}", file=sys.stderr, flush=True)
    if run is None:
        return
    try:
        if not run.manifest:
            existing = run.read_manifest()
            if existing:
                run.manifest = existing
            else:
                run.write_manifest(
                    config.data if config else {},
                    config.hash() if config else "",
                    config.path if config else None,
                    None,
                    given_paths=config.given_paths if config else None,
                )
        run.status("failed", error=message)
    except Exception as exc:  # the error being reported matters more than this one
        print(f"error: could not record the failure in {run.path}: {exc}", file=sys.stderr)
