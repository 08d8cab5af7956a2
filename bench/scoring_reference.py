"""The Python side of bench/scoring.bench.ts: PyTorch CPU eager (the reward model from its
safetensors checkpoint, adapter merged, as `python -m fact_rlhf score` runs it) and onnxruntime in
Python (the export's model.onnx) on the batches the Node bench wrote. Prints one JSON object.

Run by bench/scoring.bench.ts; by hand: python bench/scoring_reference.py --export DIR --batches FILE --threads N
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "trainer"))
from fact_rlhf.score.reference import load_reference  # noqa: E402


def timed(fn: Callable[[], object], min_seconds: float, min_runs: int) -> list[float]:
    for _ in range(3):
        fn()  # warm-up (allocator, kernels)
    runs: list[float] = []
    start = time.perf_counter()
    while len(runs) < min_runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1e3)
    return runs


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--export", required=True)
    p.add_argument("--batches", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=1.0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    export = Path(args.export)
    t0 = time.perf_counter()
    model = load_reference(export)
    load_s = time.perf_counter() - t0
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(export / "model.onnx"), options, providers=["CPUExecutionProvider"])
    out = {
        "threads": args.threads,
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "reference_load_s": load_s,
        "batches": {},
    }
    for batch in json.loads(Path(args.batches).read_text()):
        ids = np.array(batch["ids"], dtype=np.int64)
        mask = np.ones_like(ids)
        pixels = np.fromfile(batch["pixels"], dtype=np.float32).reshape(ids.shape[0], 3, batch["image"], batch["image"])
        tids, tmask, tpix = torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(pixels)

        def eager() -> torch.Tensor:
            with torch.inference_mode():
                return model.scorer(tids, tmask, tpix)

        def ort() -> np.ndarray:
            return session.run(["score"], {"input_ids": ids, "attention_mask": mask, "pixel_values": pixels})[0]

        eager_runs = timed(eager, args.seconds, 5)
        ort_runs = timed(ort, args.seconds, 5)
        out["batches"][batch["name"]] = {
            "pytorch_eager_ms": statistics.median(eager_runs),
            "onnxruntime_python_ms": statistics.median(ort_runs),
            "runs": [len(eager_runs), len(ort_runs)],
            "scores_eager": [float(s) for s in eager()],
            "scores_ort": [float(s) for s in ort()],
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
