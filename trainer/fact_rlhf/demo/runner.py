"""Runs the demo's tasks: every seed's stage graph on a pool of worker processes.

Each task is `fact_rlhf.runner.run_stage(stage, FILE, DIR)` — what `python -m fact_rlhf <stage>
--config FILE --run-dir DIR` runs once its command line is parsed — called inside a long-lived worker, so torch is imported
once per worker rather than once per stage. A task's terminal output goes to
`<out>/<seed>/logs/<task>.log`; the parent prints one line per finished task.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..runner import run_stage
from .plan import PRIORITY, Task, run_dir, seed_tasks, write_task_config


@dataclass(frozen=True)
class TaskResult:
    task: Task
    code: int  # the CLI's exit code; -1: not run (a task it needs failed)
    wall_s: float
    cpu_s: float  # this process's CPU time over the task, all threads


def _run_stage(stage: str, config: str, run: str, log: str) -> tuple[int, float, float]:
    """In a worker: the stage's run, its stderr into `log`; (exit code, wall s, CPU s)."""

    start_wall, start_cpu = time.perf_counter(), time.process_time()
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log, "w", encoding="utf-8") as f:
        os.dup2(f.fileno(), 2)
        try:
            code = run_stage(stage, config, run)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
    return code, time.perf_counter() - start_wall, time.process_time() - start_cpu


def _context() -> mp.context.BaseContext:
    # spawn: a worker never inherits a parent's torch threads (the parent may be a test process
    # that imported torch); each worker imports torch once anyway.
    return mp.get_context("spawn")


def run_tasks(
    out: Path, configs: Path, seeds: list[int], quick: bool, workers: int, report: Callable[[TaskResult], None]
) -> list[TaskResult]:
    """Runs every seed's tasks, `workers` at a time, respecting each task's `needs`. A failed
    task's dependants are not run (code -1). Returns the results in completion order."""
    pending = [t for s in seeds for t in seed_tasks(s)]
    for task in pending:
        write_task_config(out, configs, task, quick)
        (out / str(task.seed) / "logs").mkdir(parents=True, exist_ok=True)
    done: dict[str, int] = {}
    results: list[TaskResult] = []
    running: dict[Future[tuple[int, float, float]], Task] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        while pending or running:
            for task in list(pending):  # dependants of a failure are dropped
                if any(done.get(f"{task.seed}/{n}", 0) != 0 for n in task.needs):
                    pending.remove(task)
                    done[task.key] = -1
                    result = TaskResult(task, -1, 0.0, 0.0)
                    results.append(result)
                    report(result)
            ready = sorted(
                (t for t in pending if all(done.get(f"{t.seed}/{n}") == 0 for n in t.needs)), key=lambda t: (PRIORITY[t.name], t.seed)
            )
            for task in ready[: max(0, workers - len(running))]:
                pending.remove(task)
                config = str(out / str(task.seed) / "configs" / f"{task.name}.rlhf.yaml")
                log = str(out / str(task.seed) / "logs" / f"{task.name}.log")
                running[pool.submit(_run_stage, task.stage, config, str(run_dir(out, task)), log)] = task
            if not running:
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                task = running.pop(future)
                try:
                    code, wall, cpu = future.result()
                except Exception as exc:  # a worker died (e.g. killed): the task failed
                    print(f"[demo] seed {task.seed} {task.name}: worker failed: {exc}", file=sys.stderr, flush=True)
                    code, wall, cpu = 1, 0.0, 0.0
                done[task.key] = code
                result = TaskResult(task, code, wall, cpu)
                results.append(result)
                report(result)
    return results
