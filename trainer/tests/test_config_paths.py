"""Path keys come from the schema's `x-path` annotations and resolve against the file that set them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fact_rlhf.config import load_config


def test_paths_resolve_against_the_setting_file_and_expand_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base_dir = tmp_path / "base"
    base_dir.mkdir()
    (base_dir / "base.rlhf.yaml").write_text("eval:\n  mmhal_file: bench/mmhal.json\ndata:\n  facts: ${FACTS_ROOT}/facts.json\n")
    child = tmp_path / "child.rlhf.yaml"
    child.write_text("extends: base/base.rlhf.yaml\ndata:\n  ppo_prompts: prompts.json\n")
    monkeypatch.setenv("FACTS_ROOT", str(tmp_path / "shared"))
    config = load_config(child)
    assert config.data["eval"]["mmhal_file"] == str(base_dir / "bench" / "mmhal.json")
    assert config.data["data"]["ppo_prompts"] == str(tmp_path / "prompts.json")
    assert config.data["data"]["facts"] == str(tmp_path / "shared" / "facts.json")
