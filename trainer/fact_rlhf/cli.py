"""`python -m fact_rlhf STAGE --config FILE [--run-dir DIR] [--resume]`, and
`python -m fact_rlhf export-rm-onnx --run-dir RUN [--checkpoint DIR] --out DIR` (export/command.py).

Exit codes: 0 finished or stopped, 1 failed while running, 2 bad command line, config, data or
environment (found before any model is loaded). stdout stays free; humans read stderr and
programs read the run directory.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .errors import UsageError
from .packages import CORE_PACKAGES, TRAINER_PACKAGES, require_packages
from .signals import StopRequest

if TYPE_CHECKING:
    from .config import ExperimentConfig
    from .rundir import RunDirectory

STAGES = ("ppo", "sft", "rm", "rl_init", "eval")
AVAILABLE = ("ppo", "sft", "rm", "rl_init", "eval")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fact_rlhf", description="Fact-RLHF trainer (FACT_RLHF.md).")
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for stage in STAGES:
        p = sub.add_parser(stage, help=f"run the {stage} stage" + ("" if stage in AVAILABLE else " (not available yet)"))
        p.add_argument("--config", required=True, help="experiment file (*.rlhf.yaml)")
        p.add_argument("--run-dir", help="run directory (default: <config dir>/<output_dir>/<name>-<stage>-<time>)")
        p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
    from .export.command import COMMAND as EXPORT_COMMAND, add_arguments as add_export_arguments

    add_export_arguments(sub.add_parser(EXPORT_COMMAND, help="export a run's reward model to ONNX (model.onnx, tokenizer.json, rm.json)"))
    from .demo.command import COMMAND as DEMO_COMMAND, add_arguments as add_demo_arguments

    add_demo_arguments(sub.add_parser(DEMO_COMMAND, help="the whole pipeline on the built-in world over several seeds, one results table"))
    from .score.command import COMMAND as SCORE_COMMAND, add_arguments as add_score_arguments

    add_score_arguments(sub.add_parser(SCORE_COMMAND, help="score sample records with a reward model, with and without their facts"))
    return parser


def default_run_dir(config: "ExperimentConfig", stage: str) -> Path:
    """<output_dir>/<name or config stem>-<stage>-<YYYYmmdd-HHMMSS>[-N], as the editor names runs."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", config.data.get("name") or config.stem)
    base = Path(config.data["output_dir"]) / f"{name}-{stage}-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, n = base, 2
    while candidate.exists():
        candidate, n = Path(f"{base}-{n}"), n + 1
    return candidate


def _error_text(exc: BaseException) -> str:
    """The exception and the innermost frames: enough to find the bug, short enough to show."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = "".join(f"\n  at {Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames)
    return f"{type(exc).__name__}: {exc}{where}"


def _fail(run: "RunDirectory | None", stage: str, message: str, config: "ExperimentConfig | None") -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    if run is None:
        return
    try:
        if not run.manifest:
            existing = run.read_manifest()
            if existing:
                run.manifest = existing
            else:
                run.write_manifest(config.data if config else {}, config.hash() if config else "", config.path if config else None, None)
        run.status("failed", error=message)
    except Exception as exc:  # the error being reported matters more than this one
        print(f"error: could not record the failure in {run.path}: {exc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
    if args.stage == "demo":
        from .demo.command import run_demo

        return run_demo(args)
    if args.stage == "score":
        from .score.command import run_score

        return run_score(args)
    if args.stage not in STAGES:
        from .export.command import run_export

        return run_export(args)
    # Signals are caught from the start: a stop during setup ends the run at its first check.
    with StopRequest() as stop:
        return _run(args, stop)


def _run(args: argparse.Namespace, stop: StopRequest) -> int:
    stage: str = args.stage
    run: RunDirectory | None = None
    config: ExperimentConfig | None = None
    code: int | None = None
    from .distributed import placement, shutdown

    main_rank = placement().is_main  # under torchrun only rank 0 writes the run directory
    try:
        try:
            require_packages(CORE_PACKAGES)
            from .config import load_config
            from .preflight import check_ppo_config, resolve_device
            from .rundir import MANIFEST_FILE, RunDirectory

            if args.run_dir:
                if main_rank and not args.resume and (Path(args.run_dir) / MANIFEST_FILE).exists():
                    # Never mix two runs in one events.jsonl (nor mark the old one failed).
                    raise UsageError(f"--run-dir {args.run_dir} already holds a run ({MANIFEST_FILE}); "
                                     "pass --resume to continue it, or choose a new folder")
                run = RunDirectory(Path(args.run_dir), stage, writer=main_rank)
            if stage not in AVAILABLE:
                raise UsageError(f"stage {stage} is not available yet (available: {', '.join(AVAILABLE)})")
            if args.resume and not args.run_dir:
                raise UsageError("--resume needs --run-dir (the run to continue)")
            config = load_config(args.config)
            if stage == "ppo":
                warnings = check_ppo_config(config)
            elif stage == "eval":
                from .eval.checks import check_eval_config

                warnings = check_eval_config(config)
            else:
                from .stages.preflight import check_stage_config

                warnings = check_stage_config(config, stage)
            require_packages(TRAINER_PACKAGES)
            device = resolve_device(config)
            if args.resume:
                from .checkpoint import latest_checkpoint
                from .rundir import CHECKPOINTS_DIR

                assert run is not None
                if latest_checkpoint(run.path / CHECKPOINTS_DIR) is None:
                    raise UsageError(f"--resume: {run.path} has no checkpoint (checkpoints/latest) to continue from")
            from .distributed import check_world_size, init_group, manifest_pids, needs_relaunch, relaunch

            if needs_relaunch(config, stage):  # launch.backend: torchrun, started as one plain process
                run = run or RunDirectory(default_run_dir(config, stage), stage)
                code = relaunch(config, stage, run, device, args.resume)
                return code
            ranks, device = init_group(device)
            check_world_size(config, ranks.world_size, stage)
            if run is None:  # rank 0 names the run for everyone
                run = RunDirectory(Path(ranks.broadcast_text(str(default_run_dir(config, stage)))), stage, writer=main_rank)
            previous = run.read_manifest() if args.resume else None
            if previous and previous.get("config_hash") != config.hash():
                warnings.append("--resume: the config differs from the one this run started with; continuing with the new one")
            pids = manifest_pids(ranks)
            run.write_manifest(config.data, config.hash(), config.path, device, resume=args.resume, world_size=ranks.world_size, pids=pids)
            run.status("starting")
            if main_rank:
                print(f"[fact-rlhf] {stage} run {run.path} on {device}" + (f" × {ranks.world_size} processes" if ranks.enabled else ""), file=sys.stderr, flush=True)
            for warning in warnings:
                run.log(warning, "warning")
                if main_rank:
                    print(f"warning: {warning}", file=sys.stderr)
        except UsageError as exc:
            _fail(run, stage, str(exc), config)
            return EXIT_USAGE
        code = _train(run, stage, config, device, args.resume, stop)
        return code
    finally:
        if run is not None:
            run.close()
        shutdown(clean=code == EXIT_OK)


def _stage_runner(stage: str) -> "Callable[[dict[str, Any], RunDirectory, str, bool, StopRequest], str]":
    """The stage's entry point (imported late: torch loads only for a valid command)."""
    if stage == "sft":
        from .sft.stage import run_sft

        return run_sft
    if stage == "rl_init":
        from .sft.stage import run_rl_init

        return run_rl_init
    if stage == "rm":
        from .rm.train import run_rm

        return run_rm
    if stage == "eval":
        from .eval.stage import run_eval

        return run_eval
    from .ppo.stage import run_ppo

    return run_ppo


def _train(run: "RunDirectory", stage: str, config: "ExperimentConfig", device: str, resume: bool, stop: StopRequest) -> int:
    try:
        status = _stage_runner(stage)(config.data, run, device, resume, stop)
    except UsageError as exc:  # bad data found while loading it
        _fail(run, stage, str(exc), config)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        run.log(f"interrupted again ({exc or 'KeyboardInterrupt'}): stopped without a final checkpoint", "warning")
        run.status("stopped")
        return EXIT_OK
    except Exception as exc:
        _fail(run, stage, _error_text(exc), config)
        traceback.print_exc(file=sys.stderr)
        return EXIT_FAILED
    run.status(status)  # after the last metric event
    return EXIT_OK
