"""`python -m fact_rlhf demo`: a 1-seed `--quick` run of the whole pipeline through the real CLI
(SFT → plain and fact-augmented RMs → two PPO runs → three evals) whose table carries every figure,
read back from the runs it made; plus the seed-by-seed claim check on hand-made figures."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fact_rlhf.demo.collect import POLICY_FIGURES, held_out_accuracy
from fact_rlhf.demo.plan import MODELS, REWARD_MODELS
from fact_rlhf.demo.table import FACTS_PROBE, mean_sd, render, summarise
from run_helpers import REPO

TRAINER = REPO / "trainer"


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fact_rlhf", "demo", *args], cwd=TRAINER, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("demo") / "out"
    return out, _demo("--seeds", "0", "--quick", "--out", str(out))


def test_quick_demo_table_has_every_figure(quick: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = quick
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "demo-results.json").read_text(encoding="utf-8"))
    assert summary["seeds"] == [0]
    for label, _ in MODELS:
        for column, _, _ in POLICY_FIGURES:
            stats = summary["policies"][label][column]
            assert stats["n"] == 1 and isinstance(stats["mean"], float) and math.isfinite(stats["mean"]), (label, column)
            assert stats["sd"] == 0.0
    for label, _ in REWARD_MODELS:
        acc = summary["reward_models"][label]["mean"]
        assert acc is not None and 0.0 <= acc <= 1.0
    timing = summary["timing"]
    assert sorted(s["task"] for s in timing["stages"]) == sorted(
        ["sft", "rm_plain", "rm_fact", "ppo_plain", "ppo_fact", "eval_sft", "eval_plain", "eval_fact"]
    )
    assert all(s["exit_code"] == 0 for s in timing["stages"]) and timing["failed_tasks"] == []
    assert timing["wall_s"] > 0 and timing["cpu_s"] > 0
    assert len(summary["claims"]) == 3 and all(c["seeds"] == 1 for c in summary["claims"])
    # The printed table is the written one, with a row per model and per reward model, no gaps.
    table = (out / "demo-results.md").read_text(encoding="utf-8")
    assert proc.stdout == table
    # The facts probe: the fact RM's last held-out accuracy with another image's facts.
    probe = summary["facts_probe"]["mean"]
    assert probe is not None and 0.0 <= probe <= 1.0
    assert probe == held_out_accuracy(out / "0" / "rm_fact", "rm/eval_accuracy_other_facts")
    for label in [m for m, _ in MODELS] + [r for r, _ in REWARD_MODELS] + [FACTS_PROBE]:
        row = next(line for line in table.splitlines() if line.startswith(f"| {label} |"))
        assert "n/a" not in row and row.count("±") >= 1
    assert "Wall time" in table and "CPU time" in table


def test_quick_demo_figures_come_from_its_runs(quick: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, proc = quick
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "demo-results.json").read_text(encoding="utf-8"))
    seed = out / "0"
    for label, task in MODELS:
        results = json.loads((seed / task / "results.json").read_text(encoding="utf-8"))
        figures = summary["per_seed"]["0"]["policies"][label]
        assert figures["hallucination rate ↓"] == results["shapes"]["hallucination_rate"]
        assert figures["POPE F1 ↑"] == results["pope"]["f1"]
        assert figures["CHAIR-i ↓"] == results["chair"]["chair_i"]
    # Each PPO run used its own reward model and scored with / without facts accordingly.
    for task, rm, facts in (("ppo_plain", "rm_plain", False), ("ppo_fact", "rm_fact", True)):
        config = json.loads((seed / task / "run.json").read_text(encoding="utf-8"))["config"]
        assert config["model"]["reward_model"] == str((seed / rm).resolve())
        assert config["model"]["policy"] == str((seed / "sft").resolve())
        assert config["reward_model"]["fact_augmentation"] is facts
        rm_config = json.loads((seed / rm / "run.json").read_text(encoding="utf-8"))["config"]
        assert rm_config["reward_model"]["fact_augmentation"] is facts
    # The generated configs extend the demo's stage configs; every stage saw the same world.
    generated = yaml.safe_load((seed / "configs" / "ppo_fact.rlhf.yaml").read_text(encoding="utf-8"))
    assert generated["extends"] == str(REPO / "examples" / "demo" / "ppo-fact.rlhf.yaml")
    facts = {(seed / t / "world" / "facts.json").read_bytes() for t in ("sft", "rm_fact", "ppo_fact")}
    assert len(facts) == 1


def test_demo_rejects_bad_seeds_and_a_used_folder(quick: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    out, _ = quick
    bad = _demo("--seeds", "0,x", "--out", str(out.parent / "other"))
    assert bad.returncode == 2 and "--seeds" in bad.stderr
    used = _demo("--seeds", "0", "--out", str(out))
    assert used.returncode == 2 and "already holds" in used.stderr


def _figures(halluc: float, acc_plain: float, acc_fact: float) -> dict[str, Any]:
    policies = {label: {c: 1.0 for c, _, _ in POLICY_FIGURES} for label, _ in MODELS}
    policies["SFT"]["hallucination rate ↓"] = 0.5
    policies["plain RLHF"]["hallucination rate ↓"] = 0.6
    policies["Fact-RLHF"]["hallucination rate ↓"] = halluc
    (plain, _), (fact, _) = REWARD_MODELS
    return {"policies": policies, "reward_models": {plain: acc_plain, fact: acc_fact}}


TIMING = {"wall_s": 60.0, "cpu_s": 100.0, "workers": 2, "cpu_count": 2, "load_start": 1.0, "load_end": 1.0, "failed_tasks": []}


def test_claims_are_checked_seed_by_seed() -> None:
    summary = summarise({0: _figures(0.3, 0.7, 0.9), 1: _figures(0.4, 0.7, 0.8), 2: _figures(0.55, 0.75, 0.7)}, TIMING)
    by_text = {c["claim"]: c for c in summary["claims"]}
    below_sft = by_text["Fact-RLHF hallucination rate below SFT's"]
    assert (below_sft["holds_in_seeds"], below_sft["seeds"], below_sft["holds"]) == (2, 3, False)
    assert by_text["Fact-RLHF hallucination rate below plain RLHF's"]["holds"] is True
    rm = by_text["fact-augmented RM held-out accuracy above the plain RM's"]
    assert (rm["holds_in_seeds"], rm["holds"]) == (2, False)
    assert summary["reproduced"] is False
    stats = summary["policies"]["Fact-RLHF"]["hallucination rate ↓"]
    assert stats["mean"] == pytest.approx(0.41666667) and stats["sd"] == pytest.approx(0.12583057)
    text = render(summary)
    assert "| Fact-RLHF | 1.00 ± 0.00 | 0.417 ± 0.126 |" in text
    assert "NOT reproduced" in text and "in 2 of 3 seeds" in text
    good = summarise({0: _figures(0.3, 0.7, 0.9), 1: _figures(0.4, 0.7, 0.8)}, TIMING)
    assert good["reproduced"] is True and "reproduced in every seed" in render(good)


def test_missing_figures_show_as_failed() -> None:
    failed = _figures(0.3, 0.7, 0.9)
    failed["policies"]["plain RLHF"] = {c: None for c, _, _ in POLICY_FIGURES}
    summary = summarise({0: _figures(0.3, 0.7, 0.9), 1: failed}, TIMING)
    assert summary["policies"]["plain RLHF"]["POPE F1 ↑"]["n"] == 1
    assert "(1 of 2 seeds)" in render(summary)
    assert mean_sd([None, None])["mean"] is None
