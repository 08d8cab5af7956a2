"""`python -m fact_rlhf score --rm RM_RUN_OR_EXPORT --samples FILE [--json] [--batch-size N]`:
per sample record the reward with the record's facts and without them, and their difference —
the PyTorch reference of `fact-rlhf score` (same arguments, same output).
Exit codes: 0 scored, 1 the scorer broke, 2 bad arguments, model, samples or image."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from ..errors import UsageError
from ..packages import CORE_PACKAGES, TRAINER_PACKAGES, require_packages

COMMAND = "score"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rm", required=True, help="an rm run folder, or a reward-model export (export-rm-onnx --out)")
    p.add_argument("--samples", required=True, help="a samples/*.jsonl file of sample records")
    p.add_argument("--json", action="store_true", help="one JSON object per record")
    p.add_argument("--batch-size", type=int, default=16, help="rows per forward pass (default 16)")


def run_score(args: argparse.Namespace) -> int:
    try:
        require_packages({**CORE_PACKAGES, **TRAINER_PACKAGES})
        from .reference import load_reference, score_records
        from .samples import format_result, read_records

        if args.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        records = read_records(Path(args.samples))
        started = time.perf_counter()
        model = load_reference(Path(args.rm))
        loaded = time.perf_counter()
        results = score_records(model, records, args.batch_size)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        print(f"error: scoring failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for record, (with_facts, without_facts) in zip(records, results):
        print(format_result(record, with_facts, without_facts, args.json))
    print(
        f"[fact-rlhf] scored {len(records)} records with and without facts: PyTorch eager (CPU), "
        f"checkpoint {model.source.checkpoint}; load {loaded - started:.2f} s, score {time.perf_counter() - loaded:.2f} s",
        file=sys.stderr,
    )
    return 0
