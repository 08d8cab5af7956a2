"""4-bit / 8-bit bases (model.quantization): the Hugging Face loading arguments a config gives, and
the clear errors where they cannot work. The quantised loading itself needs bitsandbytes and a
CUDA GPU, which these machines lack (bitsandbytes is not on the package mirror): untested here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from transformers import BitsAndBytesConfig

from fact_rlhf.config import load_config
from fact_rlhf.errors import ConfigError, EnvironmentProblem, UsageError
from fact_rlhf.models import pretrained
from fact_rlhf.models.pretrained import UNQUANTIZED_MODULES, quantization_kwargs
from fact_rlhf.preflight import check_ppo_config, check_stage_config, resolve_device
from fact_rlhf.stages.loading import load_source
from fact_rlhf.stages.sources import ModelSource
from run_helpers import write_config


@pytest.fixture
def with_bitsandbytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if bitsandbytes were installed (the checks read these two functions)."""
    monkeypatch.setattr(pretrained, "bitsandbytes_available", lambda: True)
    monkeypatch.setattr("fact_rlhf.preflight.common.missing_packages", lambda packages: [])


def test_four_bit_is_nf4_with_double_quantisation_on_this_ranks_gpu(with_bitsandbytes: None) -> None:
    kwargs = quantization_kwargs("4bit", "bf16", "cuda:1")
    config = kwargs["quantization_config"]
    assert isinstance(config, BitsAndBytesConfig) and kwargs["device_map"] == {"": 1}
    assert config.load_in_4bit and not config.load_in_8bit
    assert config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
    assert config.llm_int8_skip_modules == UNQUANTIZED_MODULES == ["vision_tower", "multi_modal_projector", "lm_head"]
    assert quantization_kwargs("4bit", "fp16", "cuda")["quantization_config"].bnb_4bit_compute_dtype == torch.float16
    assert quantization_kwargs("4bit", "fp16", "cuda")["device_map"] == {"": 0}


def test_eight_bit_and_none(with_bitsandbytes: None) -> None:
    config = quantization_kwargs("8bit", "bf16", "cuda:0")["quantization_config"]
    assert config.load_in_8bit and not config.load_in_4bit and config.llm_int8_skip_modules == UNQUANTIZED_MODULES
    assert quantization_kwargs("none", "bf16", "cpu") == {}
    with pytest.raises(UsageError, match="unknown value '2bit'"):
        quantization_kwargs("2bit", "bf16", "cuda")


def test_without_bitsandbytes_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pretrained, "bitsandbytes_available", lambda: False)
    with pytest.raises(
        EnvironmentProblem, match=r"model.quantization: 4bit needs the Python package 'bitsandbytes' .*pip install bitsandbytes"
    ):
        quantization_kwargs("4bit", "bf16", "cuda")


def test_a_cpu_device_is_refused_before_loading(with_bitsandbytes: None, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="4bit runs on a CUDA GPU only .* the run's device is cpu"):
        quantization_kwargs("4bit", "bf16", "cpu")
    # load_pretrained checks before reading a weight (this folder has none).
    with pytest.raises(UsageError, match="model.policy|CUDA GPU only"):
        pretrained.load_pretrained(tmp_path, "bf16", "8bit", "cpu")
    with pytest.raises(UsageError, match="cannot merge the LoRA SFT adapter .* into a quantised base"):
        load_source(ModelSource(tmp_path, merges=(tmp_path / "sft",)), "bf16", "4bit", "cuda")


def test_config_checks_name_the_file_line_and_key(with_bitsandbytes: None, tmp_path: Path) -> None:
    path = write_config(tmp_path, overrides={"model": {"quantization": "4bit"}, "launch": {"device": "cpu", "strategy": "fsdp"}})
    with pytest.raises(ConfigError) as caught:
        check_ppo_config(load_config(str(path)))
    text = str(caught.value)
    line = next(i for i, l in enumerate(path.read_text().splitlines(), 1) if "quantization:" in l)
    assert f"exp.rlhf.yaml:{line}: model.quantization: 4bit runs on a CUDA GPU only" in text
    assert "the PPO stage builds builtin:tiny-llava in memory in full precision" in text
    assert "4bit bases cannot be sharded by launch.strategy: fsdp; use ddp" in text
    # A full fine-tune cannot train a frozen quantised base.
    sft = write_config(tmp_path, "sft.rlhf.yaml", {"model": {"quantization": "8bit"}, "launch": {"device": "auto"}})
    with pytest.raises(ConfigError, match=r"sft.rlhf.yaml:\d+: model.quantization: 8bit bases are frozen: a full fine-tune"):
        check_stage_config(load_config(str(sft)), "sft")
    # device auto on a machine without a GPU: passes preflight, refused when the device is resolved.
    rm = load_config(str(write_config(tmp_path, "rm.rlhf.yaml", {"model": {"quantization": "4bit"}, "launch": {"device": "auto"}})))
    check_stage_config(rm, "rm")
    monkeypatch_cuda = pytest.MonkeyPatch()
    monkeypatch_cuda.setattr(torch.cuda, "is_available", lambda: False)
    try:
        with pytest.raises(
            ConfigError, match=re.escape("model.quantization: 4bit runs on a CUDA GPU only (bitsandbytes), but the run's device is cpu")
        ):
            resolve_device(rm)
    finally:
        monkeypatch_cuda.undo()
