"""The `eval` stage: `python -m fact_rlhf eval --config FILE [--run-dir DIR]`.

Loads the policy `eval.checkpoint` names (else `model.policy`; see eval/policy.py), answers every
prompt of `eval.benchmarks` greedily (`eval.max_new_tokens`, `eval.batch_size` at a time) with
`progress` events, scores them (eval/benchmarks.py) and writes, in the run directory:
- results.json + one `metric` event (step 0) of every number in it (eval/results.py): per
  benchmark e.g. `shapes/score`, `shapes/hallucination_rate`, `shapes/per_type/counting`,
  `pope/f1`, `pope/adversarial/f1`, `chair/chair_i`, `*/mean_response_length`;
- responses/<benchmark>.jsonl: every prompt's response with its rating, spans or judge analysis;
- <benchmark>_responses.json for MMHal-format benchmarks: the records with `model_answer` filled,
  in the official format (so the official scorer or another judge can read them).
The built-in world's benchmark files are generated into `world/` (seed `seed`, sizes `data.*`),
drawn at the image size the evaluated model was trained on.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

from ..shapes.world import WorldOptions, generate_benchmarks, vocabulary_text, world_files
from ..rundir import RunDirectory
from ..signals import StopRequest
from ..stages.common import say, seed_and_threads
from .benchmarks import Benchmark, chair_benchmark, mmhal_benchmark, pope_benchmark, shapes_benchmark
from .mmhal import MMHalOrderWarning, write_mmhal
from .policy import Answer, EvalModel, generate_answers, load_eval_model
from .results import write_results
from .sources import mmhal_path

WORLD_DIR = "world"
RESPONSES_DIR = "responses"
WORLD_BENCHMARKS = ("shapes", "pope", "chair")


def _benchmarks(config: dict[str, Any], run: RunDirectory, model: EvalModel, config_dir: Path | None) -> list[Benchmark]:
    names = list(dict.fromkeys(config["eval"]["benchmarks"]))
    out: list[Benchmark] = []
    if any(n in WORLD_BENCHMARKS for n in names):
        files = world_files(run.path / WORLD_DIR)
        generate_benchmarks(files, model.image_size, int(config["seed"]), WorldOptions.from_config(config["data"]))
        makers = {"shapes": shapes_benchmark, "pope": pope_benchmark, "chair": chair_benchmark}
        out += [makers[n](files) for n in names if n in makers]
    if "mmhal" in names:
        path = mmhal_path(config, config_dir)
        image_folder = Path(config["data"]["image_folder"]) if config["data"].get("image_folder") else None
        assert path is not None  # the preflight requires it
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MMHalOrderWarning)  # logged as run events instead
            out.append(mmhal_benchmark(path, image_folder, config["eval"].get("judge") or {}, lambda m: say(run, m, "warning")))
    order = {n: i for i, n in enumerate(names)}
    return sorted(out, key=lambda b: order[b.name])


def _write_details(run: RunDirectory, name: str, details: list[dict[str, Any]]) -> None:
    folder = run.path / RESPONSES_DIR
    folder.mkdir(exist_ok=True)
    lines = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in details)
    (folder / f"{name}.jsonl").write_text(lines, encoding="utf-8")


def _answer_all(
    run: RunDirectory, model: EvalModel, benchmarks: list[Benchmark], config: dict[str, Any], stop: StopRequest
) -> list[list[Answer]] | None:
    total = sum(len(b.prompts) for b in benchmarks)
    done, started = 0, time.perf_counter()
    out: list[list[Answer]] = []
    for b in benchmarks:
        offset = done

        def progress(n: int, offset: int = offset) -> bool:
            finished = offset + n
            elapsed = time.perf_counter() - started
            run.progress(finished, total, elapsed / finished * (total - finished) if finished else None)
            return not stop

        answers = generate_answers(model, b.prompts, int(config["eval"]["max_new_tokens"]), int(config["eval"]["batch_size"]), progress)
        if answers is None:
            return None
        done += len(b.prompts)
        out.append(answers)
    return out


def run_eval(config: dict[str, Any], run: RunDirectory, device: str, resume: bool, stop: StopRequest) -> str:
    """Returns the final status, `finished` or `stopped` (a stop leaves no results). `resume`
    has nothing to continue: an eval run is short and starts over."""
    seed_and_threads(config)
    config_path = run.manifest.get("config_path")
    config_dir = Path(config_path).parent if config_path else None
    run.phase("model")
    model = load_eval_model(config, run.path, device, [vocabulary_text()])
    run.phase("benchmarks")
    benchmarks = _benchmarks(config, run, model, config_dir)
    say(run, f"eval: {model.description} on {device}; " + ", ".join(f"{b.name} ({len(b.prompts)} prompts)" for b in benchmarks))
    run.status("running")
    answers = _answer_all(run, model, benchmarks, config, stop)
    if answers is None:
        say(run, f"stopped on {stop.signal_name} before every prompt was answered: no results written")
        return "stopped"
    results: dict[str, Any] = {}
    for b, answered in zip(benchmarks, answers):
        metrics, details = b.score(answered)
        results[b.name] = metrics
        _write_details(run, b.name, details)
        if b.records is not None:
            for record, a in zip(b.records, answered):
                record.model_answer = a.text
            write_mmhal(run.path / f"{b.name}_responses.json", b.records)
    write_results(run.path, results, writer=run, step=0)
    say(run, "eval results: " + "; ".join(_headline(name, m) for name, m in results.items()))
    return "finished"


def _headline(name: str, m: dict[str, Any]) -> str:
    if name in ("shapes", "mmhal"):
        return f"{name} score {m['score']:.2f}, hallucination rate {m['hallucination_rate']:.2f}"
    if name == "pope":
        return f"pope F1 {m['f1']:.3f}, accuracy {m['accuracy']:.3f}, yes-ratio {m['yes_ratio']:.2f}"
    return f"chair CHAIR-i {m['chair_i']:.3f}, CHAIR-s {m['chair_s']:.3f}"
