"""The `sft` stage: assistant-only labels (token-exact), the loss falls on a tiny run, checkpoints
load from a path (full model and LoRA), SIGTERM stops at a checkpoint and --resume continues with
the same losses, and malformed data names its file and record."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import torch

from fact_rlhf.algo.rm_prompt import SYSTEM_PROMPT, policy_prompt
from fact_rlhf.cli import main
from fact_rlhf.models.pretrained import load_pretrained
from fact_rlhf.sft.data import IGNORE, SftRecord, encode_example, load_conversations
from fact_rlhf.sft.trainer import collate
from fact_rlhf.stages.loading import load_source
from fact_rlhf.stages.sources import resolve_policy
from run_helpers import read_events, schema_validator, statuses, uncatalogued, valid_events, is_step_progress
from stage_helpers import cached_run, metrics, stage_config


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cached_run(tmp_path_factory, "sft", "sft")


def test_labels_cover_only_the_assistant_turns_token_exactly(sft_run: Path) -> None:
    _, codec = load_pretrained(sft_run / "model", "fp32")
    image = next((sft_run / "world" / "images").iterdir())
    turns = [
        {"from": "human", "value": "<image>\nWhat colour is the circle?"},
        {"from": "gpt", "value": "The circle is red."},
        {"from": "human", "value": "Is there a blue square?"},
        {"from": "gpt", "value": "No, there is no blue square."},
    ]
    example = encode_example(codec, SftRecord("x", image, turns))
    # The same text cut by hand at the role tags: prompt pieces masked, answers + "</s>" kept.
    pieces = [
        (f"{SYSTEM_PROMPT} USER: <image>\nWhat colour is the circle? ASSISTANT:", False),
        (" The circle is red.</s>", True),
        ("USER: Is there a blue square? ASSISTANT:", False),
        (" No, there is no blue square.</s>", True),
    ]
    expected_ids: list[int] = []
    expected_labels: list[int] = []
    for text, kept in pieces:
        ids = codec.encode(text)
        expected_ids += ids
        expected_labels += ids if kept else [IGNORE] * len(ids)
    assert example.input_ids == expected_ids
    assert example.labels == expected_labels
    # The masked head is exactly the PPO policy prompt; the labelled tokens are the answers.
    head = len(codec.encode(policy_prompt(turns[:1])))
    assert example.labels[:head] == [IGNORE] * head and example.labels[head] != IGNORE
    spans, current = [], []
    for token, label in zip(example.input_ids, example.labels):
        if label != IGNORE:
            current.append(token)
        elif current:
            spans.append(current)
            current = []
    spans.append(current)
    assert [codec.decode(s) for s in spans] == ["The circle is red.", "No, there is no blue square."]
    assert [s[-1] for s in spans] == [codec.eos_id, codec.eos_id]
    assert example.input_ids.count(codec.image_id) == 16

    # Padding: a shorter example in the same batch is padded with the pad id and label -100.
    short = encode_example(codec, SftRecord("y", image, turns[:2]))
    batch = collate([example, short], codec, torch.device("cpu"), torch.float32)
    n, width = len(short.input_ids), len(example.input_ids)
    assert batch.labels[1, :n].tolist() == short.labels
    assert batch.labels[1, n:].tolist() == [IGNORE] * (width - n)
    assert batch.input_ids[1, n:].tolist() == [codec.pad_id] * (width - n)
    assert batch.attention_mask[1].tolist() == [1] * n + [0] * (width - n)
    assert batch.pixel_values is not None and batch.pixel_values.shape[0] == 2


def test_the_loss_falls_and_the_run_directory_is_complete(sft_run: Path) -> None:
    events = valid_events(sft_run)
    assert statuses(events) == ["starting", "running", "finished"]
    steps = metrics(sft_run)
    total = max(steps)
    assert sorted(steps) == list(range(1, total + 1)) and total == 40  # 8 epochs × 40 conversations / 8
    losses = [steps[s]["sft/loss"] for s in sorted(steps)]
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    print(f"sft/loss first 5 {first:.3f} → last 5 {last:.3f}")
    assert last < 0.5 * first, losses
    lrs = [steps[s]["sft/learning_rate"] for s in sorted(steps)]
    peak = max(lrs)
    assert peak == pytest.approx(3e-3, rel=0.05) and lrs[0] < peak and lrs[-1] < 0.02 * peak  # warm-up, cosine
    assert all(steps[s]["sft/tokens_per_s"] > 0 for s in steps)
    assert [e["step"] for e in events if is_step_progress(e)] == list(range(1, total + 1))
    assert [(e["step"], e["path"]) for e in events if e["type"] == "checkpoint"] == [(total, f"checkpoints/step-{total}")]
    manifest = json.loads((sft_run / "run.json").read_text())
    assert manifest["stage"] == "sft" and manifest["status"] == "finished"
    assert not list(schema_validator("run-manifest.schema.json").iter_errors(manifest))


def test_the_full_checkpoint_loads_from_the_run_path(sft_run: Path) -> None:
    checkpoint = sft_run / "checkpoints" / f"step-{max(metrics(sft_run))}"
    assert {"config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors", "trainer_state.json"} <= {
        p.name for p in checkpoint.iterdir()
    }
    source = resolve_policy(sft_run)
    assert source.folder == checkpoint and source.merges == () and source.policy_adapter is None
    trained, _ = load_source(source, "fp32")
    initial, _ = load_pretrained(sft_run / "model", "fp32")
    assert not torch.equal(trained.lm_head.weight, initial.lm_head.weight)
    # The vision tower was frozen.
    for (name, a), b in zip(trained.model.vision_tower.named_parameters(), initial.model.vision_tower.parameters()):
        assert torch.equal(a, b), name


def test_lora_sft_saves_an_adapter_that_later_stages_merge(tmp_path: Path) -> None:
    config = stage_config(tmp_path, {"sft": {"use_lora": True, "epochs": 1, "learning_rate": 1e-2}})
    assert main(["sft", "--config", str(config), "--run-dir", str(tmp_path / "run")]) == 0
    run = tmp_path / "run"
    checkpoint = run / "checkpoints" / (run / "checkpoints" / "latest").read_text().strip()
    assert (checkpoint / "sft" / "adapter_model.safetensors").is_file() and (checkpoint / "tokenizer.json").is_file()
    assert json.loads((checkpoint / "base.json").read_text())["path"] == str((run / "model").resolve())
    source = resolve_policy(run)
    assert source.folder == (run / "model").resolve() and source.merges == (checkpoint / "sft",)
    merged, codec = load_source(source, "fp32")

    # The merged model computes what base + adapter computes.
    from peft import get_peft_model

    from fact_rlhf.stages.checkpoints import load_adapter
    from fact_rlhf.stages.loading import adapter_config

    base, _ = load_pretrained(run / "model", "fp32")
    with torch.no_grad():
        ids = torch.tensor([codec.encode("USER: Is there a red circle? ASSISTANT: No")])
        plain = base(input_ids=ids).logits
        peft_model = get_peft_model(base, adapter_config(checkpoint / "sft"), adapter_name="sft")
        load_adapter(peft_model, "sft", checkpoint / "sft")
        adapted = peft_model(input_ids=ids).logits
        assert not torch.allclose(adapted, plain, atol=1e-4)
        assert torch.allclose(merged(input_ids=ids).logits, adapted, atol=1e-4)


def test_sigterm_stops_at_a_checkpoint_and_resume_gives_the_same_losses(sft_run: Path, tmp_path: Path) -> None:
    """A real SIGTERM, sent to this process once the run has made progress (the PPO tests cover
    the same path in a child process)."""
    config = stage_config(tmp_path)
    run = tmp_path / "run"
    done = threading.Event()

    def terminate_after_first_step() -> None:
        while not done.is_set():
            if (run / "events.jsonl").is_file() and any(is_step_progress(e) for e in read_events(run)):
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.01)

    # A late signal (after the run restored this handler) must not end the test process.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    sender = threading.Thread(target=terminate_after_first_step, daemon=True)
    sender.start()
    try:
        assert main(["sft", "--config", str(config), "--run-dir", str(run)]) == 0
    finally:
        done.set()
        sender.join(timeout=10)
        signal.signal(signal.SIGTERM, previous)
    events = read_events(run)
    assert statuses(events) == ["starting", "running", "stopped"]
    stopped_at = max(e["step"] for e in events if is_step_progress(e))
    assert 1 <= stopped_at < 40
    assert [e["step"] for e in events if e["type"] == "checkpoint"] == [stopped_at]
    assert (run / "checkpoints" / "latest").read_text().strip() == f"step-{stopped_at}"
    assert any("stopped on SIGTERM" in e.get("message", "") for e in events)

    assert main(["sft", "--config", str(config), "--run-dir", str(run), "--resume"]) == 0
    assert statuses(read_events(run)) == ["starting", "running", "stopped", "starting", "running", "finished"]
    resumed, reference = metrics(run), metrics(sft_run)
    assert sorted(resumed) == sorted(reference)
    for step in reference:
        for key in ("sft/loss", "sft/learning_rate", "sft/grad_norm"):
            assert resumed[step][key] == pytest.approx(reference[step][key], rel=1e-5, abs=1e-7), (step, key)


def test_a_malformed_record_names_the_file_and_record(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    from PIL import Image

    Image.new("RGB", (32, 32), (255, 255, 255)).save(images / "a.png")
    good = {"id": "g", "image": "a.png", "conversations": [{"from": "human", "value": "<image>\nHi"}, {"from": "gpt", "value": "Hello."}]}
    bad = {"id": "b", "image": "a.png", "conversations": [{"from": "human", "value": "Hi"}, {"from": "human", "value": "Again"}]}
    (tmp_path / "sft.json").write_text(json.dumps([good, bad]), encoding="utf-8")
    with pytest.raises(Exception) as err:
        load_conversations(tmp_path / "sft.json", images)
    assert "sft.json: record 1 (id 'b'): conversations[1].from: expected 'gpt'" in str(err.value)

    config = stage_config(tmp_path, {"data": {"builtin": "none", "sft": "sft.json", "image_folder": "images"}})
    run = tmp_path / "run"
    assert main(["sft", "--config", str(config), "--run-dir", str(run)]) == 2
    events = read_events(run)
    assert statuses(events)[-1] == "failed"
    assert "sft.json: record 1 (id 'b'): conversations[1].from" in events[-1]["error"]

    # No SFT data at all: a config error before any model is loaded, naming the key.
    config = stage_config(tmp_path, {"data": {"builtin": "none"}}, name="nodata.rlhf.yaml")
    assert main(["sft", "--config", str(config), "--run-dir", str(tmp_path / "run2")]) == 2
    assert "data: the sft stage needs conversations" in read_events(tmp_path / "run2")[-1]["error"]


def test_every_metric_key_is_in_the_metrics_catalogue(sft_run: Path) -> None:
    """schema/metrics.json gives the editor its titles and units: a key the trainer writes
    without an entry there would show untitled."""
    assert not uncatalogued(read_events(sft_run)), "add these keys to schema/metrics.json"
