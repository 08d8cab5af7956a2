"""One stage from a config file to a finished run, as `python -m fact_rlhf STAGE` runs it: the
up-front checks, the run directory, the torchrun re-launch, the training and its exit code.

The CLI (cli.py) parses the command line and calls `run_stage`; the demo calls it too, in its
worker processes, so both take the same path. Exit codes: 0 finished or stopped, 1 failed while
running, 2 bad command line, config, data or environment (found before any model is loaded).
"""
from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .errors import UsageError
from .failures import error_text, record_failure
from .packages import CORE_PACKAGES, TRAINER_PACKAGES, require_packages
from .signals import StopRequest

if TYPE_CHECKING:
    from .config import ExperimentConfig
    from .rundir import RunDirectory

STAGES = ("ppo", "sft", "rm", "rl_init", "eval")
AVAILABLE = ("ppo", "sft", "rm", "rl_init", "eval")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def run_stage(stage: str, config_path: str, run_dir: str | None = None, resume: bool = False,
              checkpoint: str | None = None, allow_random: bool = False) -> int:
    """Runs `stage` on the config file; returns the exit code. For `eval`, `checkpoint` and
    `allow_random` override `eval.checkpoint` and `eval.allow_random` (the CLI's flags)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
    # Signals are caught from the start: a stop during setup ends the run at its first check.
    with StopRequest() as stop:
        return _run(stage, config_path, run_dir, resume, stop, checkpoint, allow_random)


def _apply_eval_flags(config: "ExperimentConfig", checkpoint: str | None, allow_random: bool) -> None:
    """The CLI's `--checkpoint` and `--allow-random` over `eval.checkpoint` and `eval.allow_random`."""
    if checkpoint:
        config.data["eval"]["checkpoint"] = os.path.abspath(os.path.expanduser(checkpoint))  # no symlink resolution: the path the caller named
    if allow_random:
        config.data["eval"]["allow_random"] = True


def _choose_eval_model(config: "ExperimentConfig", flagged: bool) -> str:
    """Writes the model the run evaluates into `eval.checkpoint` (so run.json says what was
    evaluated); returns the line that says which and why (`flagged`: named by --checkpoint, as the
    editor and `fact-rlhf eval` do once they have chosen). The preflight has refused what cannot be."""
    from .eval.sources import choose_eval_target

    choice = choose_eval_target(config.data)
    if not choice.random:
        config.data["eval"]["checkpoint"] = choice.target
    return f"evaluating {choice.target} (--checkpoint)" if flagged else choice.note


def _run(stage: str, config_path: str, run_dir: str | None, resume: bool, stop: StopRequest,
         checkpoint: str | None = None, allow_random: bool = False) -> int:
    run: RunDirectory | None = None
    config: ExperimentConfig | None = None
    code: int | None = None
    from .distributed import placement, shutdown

    main_rank = placement().is_main  # under torchrun only rank 0 writes the run directory
    try:
        try:
            require_packages(CORE_PACKAGES)
            from .config import load_config
            from .preflight import check_world_size, resolve_device, stage_checks
            from .rundir import MANIFEST_FILE, RunDirectory, default_run_dir

            if run_dir:
                if main_rank and not resume and (Path(run_dir) / MANIFEST_FILE).exists():
                    # Never mix two runs in one events.jsonl (nor mark the old one failed).
                    raise UsageError(f"--run-dir {run_dir} already holds a run ({MANIFEST_FILE}); "
                                     "pass --resume to continue it, or choose a new folder")
                run = RunDirectory(Path(run_dir), stage, writer=main_rank)
            if stage not in AVAILABLE:
                raise UsageError(f"stage {stage} is not available yet (available: {', '.join(AVAILABLE)})")
            if resume and not run_dir:
                raise UsageError("--resume needs --run-dir (the run to continue)")
            config = load_config(config_path)
            eval_note = None
            if stage == "eval":
                _apply_eval_flags(config, checkpoint, allow_random)
            warnings = stage_checks(config, stage).raise_errors()
            if stage == "eval":
                eval_note = _choose_eval_model(config, bool(checkpoint))
            require_packages(TRAINER_PACKAGES)
            device = resolve_device(config)
            if resume:
                from .checkpoint import latest_checkpoint
                from .rundir import CHECKPOINTS_DIR

                assert run is not None
                if latest_checkpoint(run.path / CHECKPOINTS_DIR) is None:
                    raise UsageError(f"--resume: {run.path} has no checkpoint (checkpoints/latest) to continue from")
            from .distributed import init_group, manifest_pids, needs_relaunch, planned_world_size, relaunch

            if needs_relaunch(config, stage):  # launch.backend: torchrun, started as one plain process
                run = run or RunDirectory(default_run_dir(config, stage), stage)
                check_world_size(config, planned_world_size(config.data["launch"], device), stage)
                code = relaunch(config, stage, run, device, resume)
                return code
            ranks, device = init_group(device)
            check_world_size(config, ranks.world_size, stage)
            if run is None:  # rank 0 names the run for everyone
                run = RunDirectory(Path(ranks.broadcast_text(str(default_run_dir(config, stage)))), stage, writer=main_rank)
            previous = run.read_manifest() if resume else None
            if previous and previous.get("config_hash") != config.hash():
                warnings.append("--resume: the config differs from the one this run started with; continuing with the new one")
            pids = manifest_pids(ranks)
            run.write_manifest(config.data, config.hash(), config.path, device, resume=resume, world_size=ranks.world_size, pids=pids)
            run.status("starting")
            run.phase("setup")  # the stage's imports (torch, transformers) take seconds: say so at once
            if eval_note:
                run.log(f"eval: {eval_note}")
                if main_rank:
                    print(f"[fact-rlhf] {eval_note}", file=sys.stderr, flush=True)
            if main_rank:
                print(f"[fact-rlhf] {stage} run {run.path} on {device}" + (f" × {ranks.world_size} processes" if ranks.enabled else ""), file=sys.stderr, flush=True)
            for warning in warnings:
                run.log(warning, "warning")
                if main_rank:
                    print(f"warning: {warning}", file=sys.stderr)
        except UsageError as exc:
            record_failure(run, stage, str(exc), config)
            return EXIT_USAGE
        code = _train(run, stage, config, device, resume, stop)
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
        record_failure(run, stage, str(exc), config)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        run.log(f"interrupted again ({exc or 'KeyboardInterrupt'}): stopped without a final checkpoint", "warning")
        run.status("stopped")
        return EXIT_OK
    except Exception as exc:
        record_failure(run, stage, error_text(exc), config)
        traceback.print_exc(file=sys.stderr)
        return EXIT_FAILED
    run.status(status)  # after the last metric event
    return EXIT_OK
