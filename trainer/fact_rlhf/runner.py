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
# Config keys a resume may change without --allow-config-change (`key:` / `key.` prefixes of
# config_changes lines): the launch settings and the output folder, not what is trained.
RESUME_FREE_KEYS = ("launch.", "output_dir:")


def run_stage(
    stage: str,
    config_path: str,
    run_dir: str | None = None,
    resume: bool = False,
    checkpoint: str | None = None,
    allow_random: bool = False,
    allow_config_change: bool = False,
) -> int:
    """Runs `stage` on the config file; returns the exit code. For `eval`, `checkpoint` and
    `allow_random` override `eval.checkpoint` and `eval.allow_random` (the CLI's flags).
    `allow_config_change`: a resume may continue with a config that differs from the run's (refused otherwise)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
    # Signals are caught from the start: a stop during setup ends the run at its first check.
    with StopRequest() as stop:
        return _run(stage, config_path, run_dir, resume, stop, checkpoint, allow_random, allow_config_change)


def _apply_eval_flags(config: "ExperimentConfig", checkpoint: str | None, allow_random: bool) -> None:
    """The CLI's `--checkpoint` and `--allow-random` over `eval.checkpoint` and `eval.allow_random`."""
    if checkpoint:
        config.data["eval"]["checkpoint"] = os.path.abspath(
            os.path.expanduser(checkpoint)
        )  # no symlink resolution: the path the caller named
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


def _require_utf8(what: str, path: str | os.PathLike[str]) -> None:
    """run.json, events and the editor all carry paths as UTF-8 text: a name that is not (a
    folder named in another encoding arrives as surrogate escapes) is refused up front."""
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{what} {ascii(os.fspath(path))} is not valid UTF-8; the run directory contract (run.json, "
            "events.jsonl) holds paths as UTF-8 text: rename it or choose another"
        ) from None


def config_changes(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """`key: old → new` for each leaf that differs (nested mappings compared key by key)."""
    out: list[str] = []
    for key in sorted(set(old) | set(new), key=str):
        a, b, name = old.get(key, "(unset)"), new.get(key, "(unset)"), f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(config_changes(a, b, name + "."))
        elif a != b:
            out.append(f"{name}: {a!r} → {b!r}")
    return out


def _run(
    stage: str,
    config_path: str,
    run_dir: str | None,
    resume: bool,
    stop: StopRequest,
    checkpoint: str | None = None,
    allow_random: bool = False,
    allow_config_change: bool = False,
) -> int:
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

            _require_utf8("the config file", config_path)
            if run_dir:
                _require_utf8("--run-dir", run_dir)
                if main_rank and not resume and (Path(run_dir) / MANIFEST_FILE).exists():
                    # Never mix two runs in one events.jsonl (nor mark the old one failed).
                    raise UsageError(
                        f"--run-dir {run_dir} already holds a run ({MANIFEST_FILE}); pass --resume to continue it, or choose a new folder"
                    )
                run = RunDirectory(Path(run_dir), stage, writer=main_rank)
            if stage not in AVAILABLE:
                raise UsageError(f"stage {stage} is not available yet (available: {', '.join(AVAILABLE)})")
            if resume and not run_dir:
                raise UsageError("--resume needs --run-dir (the run to continue)")
            config = load_config(config_path)
            eval_note = None
            if stage == "eval":
                _apply_eval_flags(config, checkpoint, allow_random)
            if run is not None:
                run.redact = config.redact  # environment values never reach events or run.json
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
                previous = run.read_manifest() or {}
                if previous.get("config_hash") not in (None, config.hash()):
                    everything = config_changes(previous.get("config") or {}, config.redact(config.data))
                    # Where and how it runs may change (a checkpoint resumes under ddp, fsdp or in one
                    # process; --run-dir names the folder): what it trains may not.
                    changes = [c for c in everything if not c.startswith(RESUME_FREE_KEYS)]
                    if not changes:
                        warnings.append(f"--resume with other launch settings: {'; '.join(everything)}")
                    elif not allow_config_change:
                        shown = "; ".join(changes[:5]) + (f"; and {len(changes) - 5} more" if len(changes) > 5 else "")
                        raise UsageError(
                            f"--resume: the config differs from the one this run started with ({shown or 'config hash'}); "
                            "resume with the run's config, or pass --allow-config-change to continue with this one "
                            "(the earlier config stays in run.json's config_history)"
                        )
                    else:
                        warnings.append(f"--resume with a changed config (--allow-config-change): {'; '.join(everything)}")
            from .distributed import init_group, manifest_pids, needs_relaunch, planned_world_size, relaunch

            if needs_relaunch(config, stage):  # launch.backend: torchrun, started as one plain process
                run = run or RunDirectory(default_run_dir(config, stage), stage)
                check_world_size(config, planned_world_size(config.data["launch"], device), stage)
                run.redact = config.redact
                code = relaunch(config, stage, run, device, resume, allow_config_change)
                return code
            ranks, device = init_group(device)
            check_world_size(config, ranks.world_size, stage)
            if run is None:  # rank 0 names the run for everyone
                folder = ranks.broadcast_text(str(default_run_dir(config, stage)))
                _require_utf8("the run directory", folder)
                run = RunDirectory(Path(folder), stage, writer=main_rank)
                run.redact = config.redact
            pids = manifest_pids(ranks)
            run.write_manifest(
                config.data,
                config.hash(),
                config.path,
                device,
                resume=resume,
                world_size=ranks.world_size,
                pids=pids,
                given_paths=config.given_paths,
            )
            run.status("starting")
            run.phase("setup")  # the stage's imports (torch, transformers) take seconds: say so at once
            if eval_note:
                run.log(f"eval: {eval_note}")
                if main_rank:
                    print(f"[fact-rlhf] {eval_note}", file=sys.stderr, flush=True)
            if main_rank:
                print(
                    config.redact(f"[fact-rlhf] {stage} run {run.path} on {device}")
                    + (f" × {ranks.world_size} processes" if ranks.enabled else ""),
                    file=sys.stderr,
                    flush=True,
                )
            for warning in warnings:
                run.log(warning, "warning")
                if main_rank:
                    print(config.redact(f"warning: {warning}"), file=sys.stderr)
        except UsageError as exc:
            if run is not None and resume and not run.manifest:
                run.keep_manifest()  # a resume refused before it began leaves run.json as it was
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
        print(config.redact(traceback.format_exc()), file=sys.stderr, end="")
        return EXIT_FAILED
    run.commit_manifest()  # a stage without a checkpoint to load (eval) records its resume now
    run.status(status)  # after the last metric event
    return EXIT_OK
