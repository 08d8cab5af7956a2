"""The `eval` stage end to end: a tiny PPO run's checkpoint evaluated on the built-in world's
MMHal-style set (exact judge), POPE and CHAIR, and on an MMHal-format file rated by an
OpenAI-compatible judge served locally; the run directory is schema-valid and its figures agree
with the per-response records."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from fact_rlhf.cli import main
from fact_rlhf.config import load_config
from fact_rlhf.shapes.scene import Scene, Shape, render, scene_from_json
from fact_rlhf.eval.mmhal import QUESTION_TYPES, MMHalRecord, read_mmhal, write_mmhal
from fact_rlhf.eval.pope import pope_metrics
from fact_rlhf.shapes.judge import judge_response
from fact_rlhf.eval.stage import run_eval
from fact_rlhf.rundir import RunDirectory
from fact_rlhf.signals import StopRequest
from run_helpers import read_events, schema_validator, statuses, uncatalogued, valid_events, write_config, is_step_progress

PPO = {
    "data": {"num_images": 8},
    "ppo": {
        "max_iterations": 1,
        "reward_warmup_steps": 2,
        "rollout_batch_size": 8,
        "rollout_per_device_batch_size": 8,
        "step_batch_size": 8,
        "step_per_device_batch_size": 8,
        "samples_per_step": 4,
    },
}
# The judge's scripted replies, one per MMHal record: a clean rating, or a malformed reply (score 0).
REPLIES = ["Fine. Rating: 6", "Rating: 1", "Rating: 5", "no verdict", "Rating: 4", "Rating: 2 or Rating: 3", "Rating: 3", "Rating: 6"]


class Judge:
    """A local OpenAI-compatible chat endpoint answering from REPLIES in order."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                judge.requests.append(body)
                content = REPLIES[(len(judge.requests) - 1) % len(REPLIES)]
                reply = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()


@pytest.fixture(scope="module")
def judge() -> Iterator[Judge]:
    server = Judge()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def mmhal_file(folder: Path) -> Path:
    """8 records, one per type in the official order, with images next to the file."""
    (folder / "img").mkdir()
    records = []
    for i, qtype in enumerate(QUESTION_TYPES):
        render(Scene((Shape("circle", "red", i % 2, 0),), "snow"), 32).save(folder / "img" / f"q{i}.png")
        records.append(
            MMHalRecord(qtype, "shapes", f"q{i}", f"img/q{i}.png", ["red circle"], f"Question {i} about the circle?", "A red circle.")
        )
    return write_mmhal(folder / "mmhal.json", records)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory, judge: Judge) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("eval")
    ppo_config = write_config(folder, "ppo.rlhf.yaml", PPO)
    assert main(["ppo", "--config", str(ppo_config), "--run-dir", str(folder / "ppo")]) == 0
    mmhal_file(folder)
    config = write_config(
        folder,
        "eval.rlhf.yaml",
        {
            **PPO,
            "data": {"num_images": 8, "eval_questions": 16, "pope_images": 4},
            "eval": {
                "benchmarks": ["shapes", "pope", "chair", "mmhal"],
                "checkpoint": "ppo",
                "max_new_tokens": 8,
                "batch_size": 8,
                "mmhal_file": "mmhal.json",
                "judge": {"base_url": judge.url, "model": "local-judge", "max_tries": 1},
            },
        },
    )
    assert main(["eval", "--config", str(config), "--run-dir", str(folder / "eval")]) == 0
    return folder / "ppo", folder / "eval"


def test_eval_run_directory_is_schema_valid(evaluated: tuple[Path, Path]) -> None:
    _, run = evaluated
    events = valid_events(run)
    manifest = json.loads((run / "run.json").read_text())
    assert not list(schema_validator("run-manifest.schema.json").iter_errors(manifest))
    assert manifest["stage"] == "eval" and manifest["status"] == "finished"
    assert statuses(events) == ["starting", "running", "finished"]
    progress = [(e["step"], e["total"]) for e in events if is_step_progress(e)]
    total = 16 + 4 * 2 * 2 * 3 + 4 + 8  # shapes + POPE (≤2 yes + as many no, 3 splits) + CHAIR + MMHal
    assert progress[-1] == (total, total) and [s for s, _ in progress] == sorted(s for s, _ in progress)


def test_results_hold_every_figure(evaluated: tuple[Path, Path]) -> None:
    _, run = evaluated
    results = json.loads((run / "results.json").read_text())
    metric = next(e for e in read_events(run) if e["type"] == "metric")
    values = metric["values"]
    assert metric["step"] == 0
    expected = {
        "shapes/score",
        "shapes/hallucination_rate",
        "shapes/mean_response_length",
        "pope/accuracy",
        "pope/precision",
        "pope/recall",
        "pope/f1",
        "pope/yes_ratio",
        "chair/chair_i",
        "chair/chair_s",
        "mmhal/score",
        "mmhal/hallucination_rate",
        "mmhal/judge_errors",
    }
    expected |= {f"{b}/per_type/{t}" for b in ("shapes", "mmhal") for t in QUESTION_TYPES}
    expected |= {f"pope/{s}/{m}" for s in ("random", "popular", "adversarial") for m in ("accuracy", "f1", "yes_ratio")}
    assert expected <= set(values), expected - set(values)
    assert values["shapes/score"] == results["shapes"]["score"] and values["pope/f1"] == results["pope"]["f1"]
    for name in ("shapes", "pope", "chair", "mmhal"):
        assert values[f"{name}/mean_response_length"] == results[name]["mean_response_length"] >= 0


def test_shapes_figures_agree_with_the_exact_judge(evaluated: tuple[Path, Path]) -> None:
    _, run = evaluated
    details = [json.loads(line) for line in (run / "responses" / "shapes.jsonl").read_text().splitlines()]
    records = read_mmhal(run / "world" / "eval_mmhal.json")
    answered = read_mmhal(run / "shapes_responses.json")
    assert len(details) == len(records) == len(answered) == 16
    ratings = []
    for d, r, a in zip(details, records, answered):
        assert a.model_answer == d["response"]
        verdict = judge_response(d["response"], scene_from_json(r.extra["shapes_scene"]), r.extra["shapes_key"])
        assert verdict.rating == d["rating"] and [list(s) for s in verdict.spans] == d["spans"]
        ratings.append(verdict.rating)
    shapes = json.loads((run / "results.json").read_text())["shapes"]
    assert shapes["score"] == pytest.approx(sum(ratings) / 16)
    assert shapes["hallucination_rate"] == pytest.approx(sum(r < 3 for r in ratings) / 16)
    words = [len(d["response"].split()) for d in details]
    assert shapes["mean_response_length"] == pytest.approx(sum(words) / 16)

    pope = [json.loads(line) for line in (run / "responses" / "pope.jsonl").read_text().splitlines()]
    again = pope_metrics([{"split": p["split"], "label": p["label"], "answer": p["response"]} for p in pope])
    results = json.loads((run / "results.json").read_text())
    assert results["pope"]["f1"] == again["f1"] and results["pope"]["adversarial"]["accuracy"] == again["adversarial"]["accuracy"]
    assert 0.0 <= results["chair"]["chair_i"] <= 1.0 and results["chair"]["responses"] == 4


def test_mmhal_file_is_rated_by_the_judge(evaluated: tuple[Path, Path], judge: Judge) -> None:
    _, run = evaluated
    mmhal = json.loads((run / "results.json").read_text())["mmhal"]
    scored = [6, 1, 5, 0, 4, 0, 3, 6]  # the malformed replies score 0, as the official scorer does
    assert mmhal["score"] == pytest.approx(sum(scored) / 8)
    assert mmhal["hallucination_rate"] == pytest.approx(3 / 8)  # the ratings 1, 0 and 0
    assert mmhal["per_type"] == dict(zip(QUESTION_TYPES, [float(s) for s in scored]))
    assert mmhal["judge_errors"] == 2
    answered = read_mmhal(run / "mmhal_responses.json")
    assert len(judge.requests) == 8 and judge.requests[0]["model"] == "local-judge"
    for request, record in zip(judge.requests, answered):
        assert record.question in json.dumps(request) and record.model_answer is not None


def test_ppo_samples_carry_the_judges_spans(evaluated: tuple[Path, Path]) -> None:
    ppo, _ = evaluated
    prompts = {p["id"]: p for p in json.loads((ppo / "world" / "ppo_prompts.json").read_text())}
    records = [json.loads(line) for f in sorted((ppo / "samples").iterdir()) for line in f.read_text().splitlines()]
    assert records
    for r in records:
        meta = prompts[r["prompt_id"]]["meta"]
        spans = judge_response(r["response"], scene_from_json(meta["scene"]), meta["key"]).spans
        assert r["hallucination"] == {"spans": [list(s) for s in spans], "source": "shapes-judge"}


def test_bad_eval_configs_fail_before_loading_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        ({"eval": {"benchmarks": ["mmhal"], "judge": {"model": "j"}, "mmhal_file": "missing.json"}}, "eval.mmhal_file: file not found"),
        ({"eval": {"benchmarks": ["shapes"], "checkpoint": "nowhere"}}, "eval.checkpoint: folder not found"),
        ({"eval": {"benchmarks": []}}, "eval.benchmarks: no benchmark to run"),
    ]
    for i, (overrides, message) in enumerate(cases):
        config = write_config(tmp_path, f"bad{i}.rlhf.yaml", overrides)
        assert main(["eval", "--config", str(config), "--run-dir", str(tmp_path / f"run{i}")]) == 2
        err = capsys.readouterr().err
        assert message in err and f"bad{i}.rlhf.yaml:" in err, err
        assert statuses(read_events(tmp_path / f"run{i}"))[-1] == "failed"


def test_a_stop_leaves_no_results(tmp_path: Path) -> None:
    """A fresh built-in model (no checkpoint) on the MMHal-style set, stopped after its first batch."""
    config = load_config(
        write_config(
            tmp_path,
            "stop.rlhf.yaml",
            {"data": {"eval_questions": 8, "pope_images": 1}, "eval": {"benchmarks": ["shapes"], "max_new_tokens": 4, "batch_size": 4}},
        )
    )
    run = RunDirectory(tmp_path / "run", "eval")
    run.write_manifest(config.data, config.hash(), config.path, "cpu")
    stop = StopRequest()
    stop.request("test")
    assert run_eval(config.data, run, "cpu", False, stop) == "stopped"
    run.close()
    assert not (run.path / "results.json").exists()
    assert [e["step"] for e in read_events(run.path) if is_step_progress(e)] == [4]
    assert (run.path / "model" / "config.json").is_file()  # the random model was written into the run


def test_every_metric_key_is_in_the_metrics_catalogue(evaluated: tuple[Path, Path]) -> None:
    """schema/metrics.json gives the editor its titles and units: a key the trainer writes
    without an entry there would show untitled."""
    assert not uncatalogued(read_events(evaluated[0]) + read_events(evaluated[1])), "add these keys to schema/metrics.json"


def test_no_checkpoint_named_evaluates_the_newest_finished_ppo_run(evaluated: tuple[Path, Path]) -> None:
    """The ppo run sits in the eval config's output folder: with eval.checkpoint unset it is the one
    evaluated, run.json records it, and the log says which and why."""
    ppo, first = evaluated
    config = write_config(
        first.parent,
        "default.rlhf.yaml",
        {
            **PPO,
            "output_dir": ".",
            "data": {"num_images": 8, "eval_questions": 8},
            "eval": {"benchmarks": ["shapes"], "max_new_tokens": 4, "batch_size": 8},
        },
    )
    run = first.parent / "eval-default"
    assert main(["eval", "--config", str(config), "--run-dir", str(run)]) == 0
    manifest = json.loads((run / "run.json").read_text())
    assert manifest["config"]["eval"]["checkpoint"] == str(ppo)
    logs = [e["message"] for e in read_events(run) if e["type"] == "log"]
    assert any(f"evaluating {ppo}: the newest finished ppo run" in m for m in logs), logs
    assert any(f"ppo checkpoint {ppo}/checkpoints/" in m for m in logs), logs
