"""`python -m fact_rlhf demo [--seeds 0,1,2] [--out DIR] [--quick] [--configs DIR] [--workers N]`.

The README's main job: the whole Fact-RLHF pipeline on the built-in shapes world with the built-in
tiny model, for several seeds, then one results table (stdout, `<out>/demo-results.md` and
`<out>/demo-results.json`). Exit code 0 when every stage finished, 1 when one failed, 2 for a bad
command line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from .runner import TaskResult

COMMAND = "demo"
# examples/demo/ of the source tree this package lives in.
DEFAULT_CONFIGS = Path(__file__).resolve().parents[3] / "examples" / "demo"
STAGE_FILES = ("sft.rlhf.yaml", "rm-plain.rlhf.yaml", "rm-fact.rlhf.yaml", "ppo-plain.rlhf.yaml", "ppo-fact.rlhf.yaml", "eval.rlhf.yaml")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--out", help="demo folder, must not hold a demo yet (default runs/demo-<time>)")
    p.add_argument("--quick", action="store_true", help="minimal sizes: checks the pipeline, not the effect")
    p.add_argument("--configs", default=str(DEFAULT_CONFIGS), help=f"stage configs (default {DEFAULT_CONFIGS})")
    p.add_argument("--workers", type=int, default=0, help="stages run at once (default: CPU cores, at most 2 per seed)")


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UsageError(f"--seeds: expected comma-separated integers, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise UsageError(f"--seeds: expected distinct non-negative integers, got {text!r}")
    return seeds


def _check(args: argparse.Namespace) -> tuple[list[int], Path, Path, int]:
    seeds = _seeds(args.seeds)
    configs = Path(args.configs).resolve()
    missing = [name for name in STAGE_FILES if not (configs / name).is_file()]
    if missing:
        raise UsageError(f"--configs {configs}: missing {', '.join(missing)} (the demo's stage configs, examples/demo/ in the repository)")
    out = Path(args.out or f"runs/demo-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    taken = [str(out / str(s)) for s in seeds if (out / str(s)).exists()]
    if taken:
        raise UsageError(f"--out {out}: already holds {', '.join(taken)}; choose a new folder")
    cores = os.cpu_count() or 1
    workers = args.workers or max(1, min(cores, 2 * len(seeds)))
    if workers < 1:
        raise UsageError(f"--workers: expected a positive number, got {args.workers}")
    return seeds, configs, out, workers


def _report(result: "TaskResult") -> None:
    t = result.task
    if result.code == -1:
        what = "skipped (a stage it needs failed)"
    else:
        what = ("done" if result.code == 0 else f"FAILED (exit {result.code})") + f" in {result.wall_s:.0f} s, CPU {result.cpu_s:.0f} s"
    print(f"[demo] seed {t.seed} {t.name}: {what}", file=sys.stderr, flush=True)


def run_demo(args: argparse.Namespace) -> int:
    from .collect import seed_figures  # loaded here: building the CLI parser stays cheap
    from .runner import run_tasks
    from .table import render, summarise, write

    try:
        seeds, configs, out, workers = _check(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"[demo] seeds {seeds}, {workers} worker(s), stage configs {configs}, output {out}" + (" (--quick sizes)" if args.quick else ""),
        file=sys.stderr,
        flush=True,
    )
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    results = run_tasks(out, configs, seeds, args.quick, workers, _report)
    wall = time.perf_counter() - start
    failed = [f"seed {r.task.seed} {r.task.name}" for r in results if r.code != 0]
    timing = {
        "wall_s": wall,
        "cpu_s": sum(r.cpu_s for r in results),
        "workers": workers,
        "cpu_count": os.cpu_count() or 1,
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
        "quick": bool(args.quick),
        "failed_tasks": failed,
        "stages": [{"seed": r.task.seed, "task": r.task.name, "exit_code": r.code, "wall_s": r.wall_s, "cpu_s": r.cpu_s} for r in results],
    }
    summary = summarise({s: seed_figures(out, s) for s in seeds}, timing)
    text = render(summary)
    json_path, md_path = write(out, summary, text)
    print(text, end="", flush=True)
    print(f"[demo] wrote {md_path} and {json_path}", file=sys.stderr, flush=True)
    return 0 if not failed else 1
