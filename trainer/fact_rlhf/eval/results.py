"""An `eval` run's results: `results.json` (benchmark → metrics) and matching `metric` events.

Metric keys follow the events contract `group/name`: nested dicts are joined with "/", e.g.
{"mmhal": {"score": 2.1, "per_type": {"counting": 1.5}}} → `mmhal/score`, `mmhal/per_type/counting`.
Only numbers become metrics; lists and strings (per-response details) stay in results.json only.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any, Mapping, Protocol

RESULTS_FILE = "results.json"


class MetricWriter(Protocol):
    """What we need of `fact_rlhf.rundir.RunDirectory`."""

    def metric(self, step: int, values: dict[str, float | None]) -> None: ...


def flatten_metrics(results: Mapping[str, Any]) -> dict[str, float | None]:
    """Numeric leaves of `results` keyed `benchmark/name[/sub...]`; NaN/inf become None."""
    out: dict[str, float | None] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}/{_key_part(str(key))}", inner)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[prefix] = float(value) if math.isfinite(value) else None
        elif value is None:
            out[prefix] = None  # a metric with no value (e.g. a question type with no records)

    for benchmark, metrics in results.items():
        if not isinstance(metrics, Mapping):
            raise ValueError(f"results[{benchmark!r}] must be a dict of metrics, got {type(metrics).__name__}")
        walk(_key_part(str(benchmark)), metrics)
    return out


def _key_part(key: str) -> str:
    """A key segment the events schema accepts: spaces and other characters become `_`."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", key.strip()).strip("_") or "_"


def _finite(value: Any) -> Any:
    """JSON has no NaN/Infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_results(
    run_dir: str | os.PathLike[str],
    results: dict[str, Any],
    writer: MetricWriter | None = None,
    step: int = 0,
) -> Path:
    """Writes `<run_dir>/results.json` atomically and, given a writer, one `metric` event of all
    numeric results. Returns the results file's path."""
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    metrics = flatten_metrics(results)  # validates the shape before anything is written
    path = folder / RESULTS_FILE
    tmp = folder / (RESULTS_FILE + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(_finite(results), f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)  # the editor never reads half a file
    if writer is not None and metrics:
        writer.metric(step, metrics)
    return path
