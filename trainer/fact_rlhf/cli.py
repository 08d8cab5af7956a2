"""`python -m fact_rlhf STAGE --config FILE [--run-dir DIR] [--resume]`, and
`python -m fact_rlhf export-rm-onnx --run-dir RUN [--checkpoint DIR] --out DIR` (export/command.py).

Exit codes: 0 finished or stopped, 1 failed while running, 2 bad command line, config, data or
environment (found before any model is loaded). stdout stays free; humans read stderr and
programs read the run directory.

The CLI sits on top: it parses the command line and hands a stage to runner.py (nothing in the
package imports this module).
"""

from __future__ import annotations

import argparse
import os
from typing import Sequence

from . import runner
from .demo.command import COMMAND as DEMO_COMMAND, add_arguments as add_demo_arguments, run_demo
from .export.command import COMMAND as EXPORT_COMMAND, add_arguments as add_export_arguments, run_export


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fact_rlhf", description="Fact-RLHF trainer (FACT_RLHF.md).")
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for stage in runner.STAGES:
        p = sub.add_parser(stage, help=f"run the {stage} stage" + ("" if stage in runner.AVAILABLE else " (not available yet)"))
        p.add_argument("--config", required=True, help="experiment file (*.rlhf.yaml)")
        p.add_argument("--run-dir", help="run directory (default: <config dir>/<output_dir>/<name>-<stage>-<time>)")
        p.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its latest checkpoint")
        if stage == "eval":
            p.add_argument(
                "--checkpoint",
                help="model to evaluate (overrides eval.checkpoint; default: the newest finished "
                "ppo, else rl_init, else sft run under output_dir)",
            )
            p.add_argument(
                "--allow-random",
                action="store_true",
                help="allow a randomly initialised builtin: model when nothing trained is found (eval.allow_random)",
            )
        p.add_argument(
            "--allow-config-change",
            action="store_true",
            help="with --resume: continue although the config differs from the run's (the earlier one is kept in run.json)",
        )
    add_export_arguments(sub.add_parser(EXPORT_COMMAND, help="export a run's reward model to ONNX (model.onnx, tokenizer.json, rm.json)"))
    add_demo_arguments(sub.add_parser(DEMO_COMMAND, help="the whole pipeline on the built-in world over several seeds, one results table"))
    from .score.command import COMMAND as SCORE_COMMAND, add_arguments as add_score_arguments

    add_score_arguments(sub.add_parser(SCORE_COMMAND, help="score sample records with a reward model, with and without their facts"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
    if args.stage == DEMO_COMMAND:
        return run_demo(args)
    if args.stage == "score":
        from .score.command import run_score

        return run_score(args)
    if args.stage not in runner.STAGES:
        return run_export(args)
    if args.stage == "eval":
        return runner.run_stage(
            args.stage,
            args.config,
            args.run_dir,
            args.resume,
            args.checkpoint,
            args.allow_random,
            allow_config_change=args.allow_config_change,
        )
    return runner.run_stage(args.stage, args.config, args.run_dir, args.resume, allow_config_change=args.allow_config_change)
