"""`export-rm-onnx`: the reward model of a tiny PPO run (its warm-up RM, saved in the checkpoint)
as one self-contained ONNX file; onnxruntime's scores equal the trainer's own PyTorch scoring
path (adapter attached, not merged) on inputs the export never saw."""

from __future__ import annotations

import json
import random
from pathlib import Path

import onnxruntime
import pytest
import torch

from fact_rlhf.algo.rm_prompt import rm_input
from fact_rlhf.checkpoint import load_adapters
from fact_rlhf.cli import main
from fact_rlhf.config import load_config
from fact_rlhf.data import load_ppo_data
from fact_rlhf.models.build import build_stack
from fact_rlhf.rm.scoring import encode_batch, score
from run_helpers import write_config

RUN = {"data": {"num_images": 8}, "ppo": {"max_iterations": 1, "reward_warmup_steps": 6, "samples_per_step": 3}}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("export")
    config = write_config(folder, overrides=RUN)
    assert main(["ppo", "--config", str(config), "--run-dir", str(folder / "run")]) == 0
    assert main(["export-rm-onnx", "--run-dir", str(folder / "run"), "--out", str(folder / "onnx")]) == 0
    return config, folder / "run", folder / "onnx"


def test_export_writes_one_self_contained_model(exported: tuple[Path, Path, Path]) -> None:
    _, run, out = exported
    assert sorted(p.name for p in out.iterdir()) == ["examples", "model.onnx", "rm.json", "tokenizer.json"]  # no .onnx.data
    rm = json.loads((out / "rm.json").read_text())
    assert [i["name"] for i in rm["inputs"]] == ["input_ids", "attention_mask", "pixel_values"]
    assert rm["outputs"] == [
        {"name": "score", "dtype": "float32", "shape": ["batch"], "note": "read at the last position: pad on the LEFT"}
    ]
    assert rm["source"]["checkpoint"] == str(run / "checkpoints" / "step-1")
    assert rm["verification"]["max_abs_diff"] <= 1e-4 and rm["encoding"]["image_tokens"] == 16
    assert rm["template"]["score_suffix_end"].endswith("the quality score of my last response is")
    assert (out / "tokenizer.json").read_bytes() == (run / "tokenizer.json").read_bytes()
    session = onnxruntime.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask", "pixel_values"]
    assert session.get_inputs()[0].shape == ["batch", "sequence"]


def test_onnxruntime_scores_equal_the_trainers_reward_model(exported: tuple[Path, Path, Path]) -> None:
    config_path, run, out = exported
    config = load_config(config_path).data
    dataset = load_ppo_data(config, run, need_pairs=False)
    stack, codec = build_stack(config, dataset, run, "cpu", resume=True)
    load_adapters(stack, run / "checkpoints" / "step-1", names=("reward",))
    stack.model.eval()

    # Fresh inputs: the world's reference answers, with and without facts, 4 rows and then 1 row.
    rng = random.Random(7)
    prompts = dataset.prompts[:4]
    texts = [rm_input(p.conversations, str(p.meta["answer"]), p.facts if i % 2 else None, rng) for i, p in enumerate(prompts)]
    images = [p.image for p in prompts]
    session = onnxruntime.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    for rows in (slice(0, 4), slice(1, 2)):
        batch = encode_batch(codec, texts[rows], images[rows])
        with torch.no_grad():
            expected = score(stack, codec, texts[rows], images[rows], 8)
        (got,) = session.run(
            ["score"],
            {
                "input_ids": batch.input_ids.numpy(),
                "attention_mask": batch.attention_mask.numpy(),
                "pixel_values": batch.pixel_values.float().numpy(),
            },
        )
        assert got.shape == (len(texts[rows]),)
        diff = float((torch.from_numpy(got) - expected).abs().max())
        print(f"onnxruntime vs trainer RM ({len(got)} rows): max abs diff {diff:.2e}")
        assert diff < 1e-4, (got, expected)
    assert float(expected.abs().max()) > 1e-3  # a real score, not a constant zero

    # rm.json's worked examples: the same token ids the trainer's codec gives, and their scores.
    rm = json.loads((out / "rm.json").read_text())
    assert len(rm["examples"]) >= 2
    for example in rm["examples"]:
        assert example["input_ids"] == codec.encode(example["text"])
        single = encode_batch(codec, [example["text"]], [out / example["image"]])
        with torch.no_grad():
            assert float(stack.rewards(single)) == pytest.approx(example["score"], abs=1e-4)


def test_export_errors_name_what_is_missing(exported: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, run, _ = exported
    assert main(["export-rm-onnx", "--run-dir", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "not a run directory (no run.json)" in capsys.readouterr().err
    assert main(["export-rm-onnx", "--run-dir", str(run), "--checkpoint", str(run / "world"), "--out", str(tmp_path / "o")]) == 2
    assert "holds no reward model (no reward/adapter_model.safetensors)" in capsys.readouterr().err
