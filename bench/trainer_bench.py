"""Trainer CPU benchmark: seconds per PPO iteration of the tiny model on the built-in world at
rollout batch 64, and where the time goes (generation / scoring / optimisation / the rest).

Runs the real trainer (`python -m fact_rlhf ppo`) on examples/tiny-ppo.rlhf.yaml with the batch
raised to 64 (2 minibatches of 32 × 2 epochs = 4 optimiser steps, the reference recipe's shape),
once per thread count, and reads the figures back from the run's events (the `time/*` metrics
and the progress events' clock). The first iteration is reported apart (lazy initialisation).

    .venv/bin/python bench/trainer_bench.py [--iterations 6] [--threads 1] [--batch 64] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "tiny-ppo.rlhf.yaml"
PHASES = ("time/generation", "time/scoring", "time/optimization")


def bench_config(folder: Path, batch: int, iterations: int, threads: int) -> Path:
    config = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    config["output_dir"] = str(folder)
    config["data"]["num_images"] = max(32, batch)  # 3 prompts per image: an epoch covers several batches
    config["ppo"].update(
        {
            "rollout_batch_size": batch,
            "rollout_per_device_batch_size": batch,
            "step_batch_size": batch // 2,
            "step_per_device_batch_size": batch // 2,
            "max_iterations": iterations,
            "reward_warmup_steps": 10,
            "save_every": 1000,
        }
    )
    config["launch"]["threads"] = threads
    path = folder / f"bench-{threads}.rlhf.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def run_once(batch: int, iterations: int, threads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="trainer-bench-") as tmp:
        folder = Path(tmp)
        config = bench_config(folder, batch, iterations, threads)
        run = folder / "run"
        env = {**os.environ, "PYTHONPATH": str(REPO / "trainer")}
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "fact_rlhf", "ppo", "--config", str(config), "--run-dir", str(run)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"trainer failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        events = [json.loads(line) for line in (run / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    start = next(e["t"] for e in events if e["type"] == "log" and e["message"].startswith("PPO: "))
    clock = [start] + [e["t"] for e in events if e["type"] == "progress"]
    metrics = [e["values"] for e in events if e["type"] == "metric" and e["step"] > 0]
    rows = []
    for i, m in enumerate(metrics):
        seconds = clock[i + 1] - clock[i]
        phases = {p: float(m[p]) for p in PHASES}
        rows.append(
            {
                "iteration": seconds,
                **phases,
                "other": seconds - sum(phases.values()),
                "tokens_per_s": float(m["perf/tokens_per_s"]),
                "response_length": float(m["ppo/response_length"]),
            }
        )
    return {"threads": threads, "batch": batch, "process_wall_s": wall, "first": rows[0], "steady": rows[1:]}


def mean(rows: list[dict[str, float]], key: str) -> float:
    return statistics.fmean(r[key] for r in rows)


def print_table(result: dict[str, Any]) -> None:
    steady = result["steady"]
    total = mean(steady, "iteration")
    print(
        f"\nrollout batch {result['batch']}, {result['threads']} thread(s): {total:.2f} s per PPO iteration "
        f"(mean of {len(steady)} after the first; first {result['first']['iteration']:.2f} s; "
        f"whole process {result['process_wall_s']:.1f} s incl. imports, data, RM warm-up)"
    )
    print("| phase | s / iteration | share |\n|---|---|---|")
    for key, label in (
        (PHASES[0], "generation (sampling, KV cache)"),
        (PHASES[1], "scoring (policy/ref/value/RM forwards)"),
        (PHASES[2], "optimisation (4 PPO steps)"),
        ("other", "advantages, metrics, samples, events"),
    ):
        value = mean(steady, key)
        print(f"| {label} | {value:.3f} | {100 * value / total:.0f}% |")
    print(f"| **total** | **{total:.3f}** | 100% |")
    print(
        f"rollout throughput {mean(steady, 'tokens_per_s'):.0f} response tokens/s of generation; "
        f"mean response length {mean(steady, 'response_length'):.1f} tokens"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--threads", default="1", help="comma-separated torch thread counts (2 threads on 2 shared cores oversubscribe)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--json", help="also write the raw figures here")
    args = parser.parse_args()
    if args.iterations < 2:
        parser.error("--iterations must be at least 2 (the first is reported apart)")
    print(f"trainer bench: tiny LLaVA ({EXAMPLE.name}), {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.2f} at start")
    results = [run_once(args.batch, args.iterations, int(t)) for t in args.threads.split(",")]
    for result in results:
        print_table(result)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
