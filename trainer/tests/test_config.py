"""Config loading and the CLI's up-front checks: every problem names file, line and key, exits 2,
and (given a run directory) is recorded as a schema-valid `failed` status event."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from fact_rlhf.cli import main
from fact_rlhf.config import load_config
from fact_rlhf.errors import ConfigError
from fact_rlhf.packages import missing_packages
from run_helpers import read_events, schema_validator, statuses, valid_events, write_config


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, cwd: Path) -> int:
    monkeypatch.chdir(cwd)  # messages show paths relative to the working directory
    return main(args)


def assert_failed_event(run_dir: Path, expected_text: str) -> None:
    events = valid_events(run_dir)
    assert statuses(events) == ["failed"]
    assert expected_text in events[-1]["error"]
    manifest = json.loads((run_dir / "run.json").read_text())
    assert not list(schema_validator("run-manifest.schema.json").iter_errors(manifest))
    assert manifest["status"] == "failed" and manifest["ended"] is not None


def test_wrong_type_names_file_line_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, overrides={"ppo": {"kl_coef": "abc"}})
    code = run_cli(["ppo", "--config", cfg.name, "--run-dir", "run"], monkeypatch, tmp_path)
    expected = f'exp.rlhf.yaml:{line_of(cfg, "kl_coef:")}: ppo.kl_coef: expected number, got string "abc"'
    assert code == 2
    assert expected in capsys.readouterr().err
    assert_failed_event(tmp_path / "run", expected)


def test_unknown_key_suggests_the_right_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, overrides={"ppo": {"klcoef": 0.1}})
    code = run_cli(["ppo", "--config", cfg.name, "--run-dir", "run"], monkeypatch, tmp_path)
    expected = f"exp.rlhf.yaml:{line_of(cfg, 'klcoef:')}: ppo.klcoef: unknown key; did you mean 'kl_coef'?"
    assert code == 2
    assert expected in capsys.readouterr().err
    assert_failed_event(tmp_path / "run", expected)


def test_missing_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_cli(["ppo", "--config", "nope.rlhf.yaml", "--run-dir", "run"], monkeypatch, tmp_path)
    assert code == 2
    assert "nope.rlhf.yaml: config file not found" in capsys.readouterr().err
    assert_failed_event(tmp_path / "run", "nope.rlhf.yaml: config file not found")


def test_no_run_dir_is_created_for_a_bad_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_config(tmp_path, overrides={"ppo": {"kl_coef": "abc"}})
    assert run_cli(["ppo", "--config", cfg.name], monkeypatch, tmp_path) == 2
    assert not (tmp_path / "runs").exists()


def test_cross_field_rule_points_at_the_file_that_set_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = write_config(tmp_path, "base.rlhf.yaml", overrides={"ppo": {"step_batch_size": 6}})
    child = tmp_path / "child.rlhf.yaml"
    child.write_text("extends: base.rlhf.yaml\nname: child\n", encoding="utf-8")
    code = run_cli(["ppo", "--config", child.name, "--run-dir", "run"], monkeypatch, tmp_path)
    err = capsys.readouterr().err
    assert code == 2
    line = line_of(base, "step_batch_size:")
    assert f"base.rlhf.yaml:{line}: ppo.step_batch_size: must be a multiple of ppo.step_per_device_batch_size (4), got 6" in err
    assert (
        f"base.rlhf.yaml:{line_of(base, 'rollout_batch_size:')}: ppo.rollout_batch_size: must be a multiple of ppo.step_batch_size (6), got 16"
        in err
    )


def test_stage_not_available(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import fact_rlhf.runner as runner

    # Every stage the CLI lists may become available; take one out to exercise the refusal.
    monkeypatch.setattr(runner, "AVAILABLE", tuple(s for s in runner.AVAILABLE if s != "sft"))
    cfg = write_config(tmp_path)
    assert run_cli(["sft", "--config", cfg.name, "--run-dir", "run"], monkeypatch, tmp_path) == 2
    assert "stage sft is not available yet" in capsys.readouterr().err
    assert_failed_event(tmp_path / "run", "stage sft is not available yet")


def test_extends_merges_fills_defaults_and_resolves_paths(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "base.rlhf.yaml").write_text(
        "name: base\nppo:\n  kl_coef: 0.3\n  learning_rate: 1e-3\n  whiten: false\ndata:\n  ppo_prompts: prompts.json\n",
        encoding="utf-8",
    )
    child = tmp_path / "child.rlhf.yaml"
    child.write_text("extends: base/base.rlhf.yaml\nppo:\n  kl_coef: 0.2\n", encoding="utf-8")
    cfg = load_config(child)
    assert cfg.get("name") == "base"
    assert cfg.get("ppo.kl_coef") == 0.2  # the child wins
    assert cfg.get("ppo.learning_rate") == 1e-3  # YAML 1.2: `1e-3` is a number
    assert cfg.get("ppo.whiten") is False
    assert cfg.get("ppo.gamma") == 1.0 and cfg.get("model.lora.r") == 64  # schema defaults
    assert cfg.get("data.ppo_prompts") == str((tmp_path / "base" / "prompts.json").resolve())
    assert cfg.get("output_dir") == str((tmp_path / "runs").resolve())
    assert cfg.where(("ppo", "kl_coef")).endswith("child.rlhf.yaml:3")
    assert cfg.where(("ppo", "learning_rate")).endswith("base.rlhf.yaml:4")


def test_errors_in_an_extended_file_name_that_file(tmp_path: Path) -> None:
    (tmp_path / "base.rlhf.yaml").write_text("ppo:\n  whiten: yes\n", encoding="utf-8")
    (tmp_path / "child.rlhf.yaml").write_text("extends: base.rlhf.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "child.rlhf.yaml")
    assert 'base.rlhf.yaml:2: ppo.whiten: expected boolean, got string "yes"' in str(err.value)


def test_yaml_syntax_error_and_duplicate_key(tmp_path: Path) -> None:
    (tmp_path / "a.rlhf.yaml").write_text("ppo:\n  kl_coef: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"a\.rlhf\.yaml:3: YAML syntax error"):
        load_config(tmp_path / "a.rlhf.yaml")
    (tmp_path / "b.rlhf.yaml").write_text("ppo:\n  kl_coef: 0.1\n  kl_coef: 0.2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"b\.rlhf\.yaml:3: ppo\.kl_coef: duplicate key"):
        load_config(tmp_path / "b.rlhf.yaml")


def test_missing_package_message() -> None:
    assert missing_packages({"fact_rlhf_no_such_module": "no-such-dist"}) == [
        "missing Python package 'no-such-dist': run scripts/setup-python.sh or pip install no-such-dist"
    ]
    assert missing_packages({"yaml": "pyyaml"}) == []


@pytest.mark.skipif(importlib.util.find_spec("bitsandbytes") is not None, reason="bitsandbytes is installed here")
def test_missing_package_is_reported_with_the_key_that_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path, overrides={"model": {"quantization": "4bit"}})
    assert run_cli(["ppo", "--config", cfg.name, "--run-dir", "run"], monkeypatch, tmp_path) == 2
    expected = f"exp.rlhf.yaml:{line_of(cfg, 'quantization:')}: model.quantization: missing Python package 'bitsandbytes': run scripts/setup-python.sh or pip install bitsandbytes"
    assert expected in capsys.readouterr().err
    assert_failed_event(tmp_path / "run", expected)


def test_cuda_without_gpu_fails_before_loading_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    cfg = write_config(tmp_path, overrides={"launch": {"device": "cuda"}})
    assert run_cli(["ppo", "--config", cfg.name, "--run-dir", "run"], monkeypatch, tmp_path) == 2
    expected = f"exp.rlhf.yaml:{line_of(cfg, 'device: cuda')}: launch.device: cuda requested but PyTorch sees no CUDA GPU"
    assert expected in capsys.readouterr().err
    assert_failed_event(tmp_path / "run", expected)
    assert not (tmp_path / "run" / "model").exists()


def test_malformed_data_record_names_file_and_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    (tmp_path / "images").mkdir()
    Image.new("RGB", (32, 32), (255, 0, 0)).save(tmp_path / "images" / "a.png")
    turn = [{"from": "human", "value": "<image>\nIs there a red square?"}]
    (tmp_path / "prompts.json").write_text(
        json.dumps(
            [
                {"id": "a", "image": "a.png", "conversations": turn, "caption_type": 7},
                {"id": "b", "image": "a.png", "caption_type": 6},
            ]
        ),
        encoding="utf-8",
    )
    (tmp_path / "pairs.json").write_text(
        json.dumps(
            [
                {
                    "id": "a",
                    "image": "a.png",
                    "conversations": turn,
                    "output_1": {"value": "Yes."},
                    "output_2": {"value": "No."},
                    "preference": 1,
                },
            ]
        ),
        encoding="utf-8",
    )
    cfg = write_config(
        tmp_path,
        overrides={"data": {"builtin": "none", "ppo_prompts": "prompts.json", "preference": "pairs.json", "image_folder": "images"}},
    )
    assert run_cli(["ppo", "--config", cfg.name, "--run-dir", "run"], monkeypatch, tmp_path) == 2
    expected = "prompts.json: record 1 (id 'b'): conversations: missing field"
    assert expected in capsys.readouterr().err
    events = read_events(tmp_path / "run")
    assert statuses(events) == ["starting", "failed"]
    assert expected in events[-1]["error"]
    assert not (tmp_path / "run" / "model").exists()  # found before any model was built


def test_missing_trainer_package_is_reported_before_any_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "peft", None)  # how Python marks a module as not importable
    cfg = write_config(tmp_path)
    assert run_cli(["ppo", "--config", cfg.name, "--run-dir", "run"], monkeypatch, tmp_path) == 2
    expected = "missing Python package 'peft': run scripts/setup-python.sh or pip install peft"
    assert expected in capsys.readouterr().err
    assert_failed_event(tmp_path / "run", expected)


def test_default_run_directory_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from fact_rlhf import rundir

    cfg = load_config(write_config(tmp_path, "my exp.rlhf.yaml", base={"version": 1}))
    first = rundir.default_run_dir(cfg, "ppo")
    assert first.parent == tmp_path / "runs"
    assert re.fullmatch(r"my-exp-ppo-\d{8}-\d{6}", first.name)
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt: "20250101-120000")  # two starts in one second
    (tmp_path / "runs" / "my-exp-ppo-20250101-120000").mkdir(parents=True)
    assert rundir.default_run_dir(cfg, "ppo").name == "my-exp-ppo-20250101-120000-2"


def test_examples_validate_against_the_schema() -> None:
    from run_helpers import REPO

    examples = sorted((REPO / "examples").glob("*.rlhf.yaml"))
    assert any(p.name == "tiny-ppo.rlhf.yaml" for p in examples)
    for path in examples:
        load_config(path)  # raises ConfigError with file:line on any problem


def test_an_existing_run_is_never_overwritten_without_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = write_config(tmp_path, overrides={"ppo": {"kl_coef": "abc"}})
    assert run_cli(["ppo", "--config", cfg.name, "--run-dir", "run"], monkeypatch, tmp_path) == 2
    before = (tmp_path / "run" / "events.jsonl").read_bytes()
    assert run_cli(["ppo", "--config", cfg.name, "--run-dir", "run"], monkeypatch, tmp_path) == 2
    assert "--run-dir run already holds a run (run.json); pass --resume" in capsys.readouterr().err
    assert (tmp_path / "run" / "events.jsonl").read_bytes() == before


def test_missing_package_hint_names_the_launcher_set_up(monkeypatch):
    # The editor launches an installed copy of the trainer: it names its own set-up command.
    from fact_rlhf.packages import missing_packages

    monkeypatch.setenv("FACT_RLHF_SETUP_HINT", 'run "Fact-RLHF: Set Up Trainer Environment"')
    assert missing_packages({"no_such_module_xyz": "no-such-dist"}) == [
        "missing Python package 'no-such-dist': run \"Fact-RLHF: Set Up Trainer Environment\" or pip install no-such-dist"
    ]
