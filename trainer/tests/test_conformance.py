"""The conformance corpus (schema/conformance/, README there) seen from the trainer: each case's
config loaded by the trainer's own loader (extends chains included), its preflight run, and the
figures computed by the trainer's own functions, against the case's expected file. The language
server's test (test/unit/conformance.test.ts) checks the same files, so a rule both sides hold
cannot drift on one of them alone."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fact_rlhf.config import ExperimentConfig, load_config
from fact_rlhf.data import load_ppo_data
from fact_rlhf.distributed import planned_world_size
from fact_rlhf.ppo.minibatches import iteration_shape
from fact_rlhf.ppo.hyper import PPOHyper
from fact_rlhf.ppo.trainer import total_iterations
from fact_rlhf.preflight import BATCH_KEYS, Collector, Problem, config_problems
from fact_rlhf.preflight.device import device_checks
from fact_rlhf.rundir import run_folder_prefix
from fact_rlhf.stages.batches import accumulation_steps
from run_helpers import REPO

CORPUS = REPO / "schema" / "conformance"
CASES = sorted(CORPUS.glob("[0-9]*.rlhf.yaml"))
DERIVED = {"world_size", "ppo_optimiser_steps_per_iteration", "ppo_iterations", "grad_accumulation", "run_folder_prefix"}


def expected_of(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(case.with_name(case.name.replace(".rlhf.yaml", ".expected.json")).read_text(encoding="utf-8"))
    return data


def batch_pairs() -> dict[str, tuple[str, str, str]]:
    """The corpus's batch-pair names (`ppo.rollout`, `sft`, `reward_model`...) → the trainer's
    (section, global key, per-device key), from the trainer's own batch-key table."""
    pairs = {}
    for keys in BATCH_KEYS.values():
        for section, key, per_device in keys:
            pairs[f"ppo.{key.removesuffix('_batch_size')}" if section == "ppo" else section] = (section, key, per_device)
    return pairs


def launch_device(config: ExperimentConfig) -> str:
    """The device the run would take on a machine with the GPUs the config asks for, so that the
    outcome does not depend on the machine the tests run on."""
    return device_checks(Collector(config), cuda_available=True)


def world_size(config: ExperimentConfig) -> int:
    return planned_world_size(config.data["launch"], launch_device(config))


def trainer_problems(config: ExperimentConfig, stage: str, monkeypatch: pytest.MonkeyPatch) -> list[Problem]:
    world = world_size(config)
    if config.data["launch"]["nodes"] > 1:
        # Several nodes start only under torchrun on every node (the trainer says so to a plain
        # start): check the config as each of those workers does.
        for name, value in (("RANK", "0"), ("WORLD_SIZE", str(world)), ("LOCAL_RANK", "0")):
            monkeypatch.setenv(name, value)
    return config_problems(config, stage, world, cuda_available=True)


def test_the_corpus_has_the_cases_the_issue_asks_for() -> None:
    assert len(CASES) >= 10
    iterations = [expected_of(c)["derived"].get("ppo_iterations") for c in CASES if "fewer-prompts" in c.name]
    assert iterations == [1]  # the drifted rule: 2 prompts, rollout 4, 1 epoch run 1 iteration


@pytest.mark.parametrize("case", CASES, ids=[c.name.removesuffix(".rlhf.yaml") for c in CASES])
def test_trainer_diagnostics_match_the_corpus(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(case)
    wanted = [d for d in expected_of(case)["diagnostics"] if d.get("trainer")]
    for stage in sorted({"ppo"} | {d.get("trainer_stage", "ppo") for d in wanted}):
        problems = trainer_problems(config, stage, monkeypatch)
        expected = [d for d in wanted if d.get("trainer_stage", "ppo") == stage]
        got = Counter((p.code, p.key) for p in problems)
        assert got == Counter((d["code"], d.get("trainer_path", d["path"])) for d in expected), f"{stage} stage: " + "; ".join(
            p.text for p in problems
        )


@pytest.mark.parametrize("case", CASES, ids=[c.name.removesuffix(".rlhf.yaml") for c in CASES])
def test_trainer_figures_match_the_corpus(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without data.image_folder the trainer finds a record's image from the working directory.
    monkeypatch.chdir(CORPUS / "data")
    config = load_config(case)
    derived = expected_of(case)["derived"]
    assert set(derived) <= DERIVED, f"unknown derived figures {set(derived) - DERIVED}"
    world = world_size(config)
    ppo = config.data["ppo"]
    got: dict[str, Any] = {}
    if "world_size" in derived:
        got["world_size"] = world
    if "ppo_optimiser_steps_per_iteration" in derived:
        got["ppo_optimiser_steps_per_iteration"] = iteration_shape(
            int(ppo["rollout_batch_size"]),
            int(ppo["step_batch_size"]),
            int(ppo["step_per_device_batch_size"]),
            world,
            int(ppo["ppo_epochs"]),
        )[0]
    if "ppo_iterations" in derived:
        prompts = load_ppo_data(config.data, tmp_path, need_pairs=False).prompts  # as the PPO stage loads them
        got["ppo_iterations"] = total_iterations(PPOHyper.from_config(ppo), len(prompts))
    if "grad_accumulation" in derived:
        pairs = batch_pairs()
        got["grad_accumulation"] = {}
        for name in derived["grad_accumulation"]:
            section, key, per_device = pairs[name]
            values = config.data[section]
            if name == "ppo.step":  # PPO's minibatches follow the stratified plan (minibatches.py)
                steps = iteration_shape(
                    int(ppo["rollout_batch_size"]), int(ppo["step_batch_size"]), int(ppo["step_per_device_batch_size"]), world, 1
                )[1]
            else:
                steps = accumulation_steps(int(values[key]), int(values[per_device]), world)
            got["grad_accumulation"][name] = steps
    if "run_folder_prefix" in derived:
        got["run_folder_prefix"] = run_folder_prefix(config, "ppo")
    assert got == derived


def test_problems_keep_the_text_users_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Code and path come beside the file:line: key: message text, which stays as it was; the
    line is the one in the extends chain that set the key."""
    problems = trainer_problems(load_config(CORPUS / "08-length-budget.rlhf.yaml"), "ppo", monkeypatch)
    line = next(
        i for i, text in enumerate((CORPUS / "_base.rlhf.yaml").read_text(encoding="utf-8").splitlines(), 1) if "max_length:" in text
    )
    assert [p.text.split(": ", 1)[1] for p in problems] == ["model.max_length: must hold ppo.query_len + ppo.response_len = 288, got 256"]
    assert problems[0].text.endswith(f"_base.rlhf.yaml:{line}: model.max_length: must hold ppo.query_len + ppo.response_len = 288, got 256")
    assert (problems[0].code, problems[0].path, problems[0].severity) == ("length-budget", ("model", "max_length"), "error")


def test_each_stage_headline_comes_from_the_metrics_catalogue() -> None:
    """The trainer's end-of-run lines name the figure schema/metrics.json marks as the stage's headline."""
    from fact_rlhf.config.metrics import headline

    assert headline("ppo").key == "ppo/reward_total" and headline("ppo").name == "reward_total"
    assert headline("rm").key == "rm/eval_accuracy"
    with pytest.raises(ValueError, match="headline"):
        headline("no-such-stage")
