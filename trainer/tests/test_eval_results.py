"""The eval run's results.json and the metric events it emits through the run directory."""

import json
import math
from pathlib import Path

import pytest

from fact_rlhf.eval.mmhal import summarize
from fact_rlhf.eval.results import RESULTS_FILE, flatten_metrics, write_results
from fact_rlhf.rundir import RunDirectory

RESULTS = {
    "mmhal": summarize([6, 2, 4, 0, 3, 5, 1, 6]),
    "pope": {"f1": 0.75, "accuracy": 0.8, "random": {"f1": 0.9}},
    "chair": {"chair_i": 0.25, "chair_s": math.nan, "hallucinated": [["cat"], []]},
    "shapes world": {"score": 3},
}


def test_flatten_metrics() -> None:
    flat = flatten_metrics(RESULTS)
    assert flat["mmhal/score"] == pytest.approx(27 / 8)
    assert flat["mmhal/hallucination_rate"] == pytest.approx(3 / 8)
    assert flat["mmhal/per_type/counting"] == 0.0
    assert flat["pope/f1"] == 0.75 and flat["pope/random/f1"] == 0.9
    assert flat["chair/chair_i"] == 0.25 and flat["chair/chair_s"] is None
    assert flat["shapes_world/score"] == 3.0
    assert not any(k.startswith("chair/hallucinated") for k in flat)  # lists stay out of metrics
    with pytest.raises(ValueError, match=r"results\['pope'\] must be a dict"):
        flatten_metrics({"pope": 0.5})


def test_write_results_and_metric_event(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "eval-1", stage="eval")
    try:
        path = write_results(run.path, RESULTS, writer=run, step=7)
    finally:
        run.close()
    assert path == run.path / RESULTS_FILE
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["pope"]["random"]["f1"] == 0.9
    assert saved["chair"]["chair_s"] is None  # NaN is not JSON
    assert saved["mmhal"]["per_type"]["attribute"] == 6.0  # one record per type: index 0
    (line,) = (run.path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    event = json.loads(line)
    assert (event["type"], event["step"]) == ("metric", 7)
    assert event["values"]["mmhal/score"] == pytest.approx(27 / 8)
    assert event["values"]["chair/chair_i"] == 0.25
    assert event["values"]["pope/f1"] == 0.75


def test_write_results_without_writer(tmp_path: Path) -> None:
    path = write_results(tmp_path / "new" / "run", {"pope": {"f1": 0.5}})
    assert json.loads(path.read_text()) == {"pope": {"f1": 0.5}}
    assert not (tmp_path / "new" / "run" / "events.jsonl").exists()
