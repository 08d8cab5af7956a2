"""The reward model in PyTorch (eager, CPU), loaded from its checkpoint's safetensors: the reference
the onnxruntime scorers are held to. `--rm` may name the rm run or an export of it (rm.json names
the checkpoint it came from)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import Tensor

from ..algo.rm_prompt import rm_input
from ..errors import UsageError
from ..export.rm_spec import QUESTION_PREFIX, checkpoint_fingerprint
from ..export.rm_onnx import RewardScorer
from ..export.source import RewardSource, find_reward_source, load_base_fp32, load_codec, load_reward_head
from ..models.stack import left_pad
from .samples import ScoreRecord


@dataclass
class ReferenceModel:
    source: RewardSource
    scorer: RewardScorer
    codec: Any
    max_length: int


def _source(rm: Path) -> RewardSource:
    spec = rm / "rm.json"
    if (rm / "run.json").is_file():
        return find_reward_source(rm, None)
    if not spec.is_file():
        raise UsageError(f"--rm {rm}: neither a run folder (run.json) nor a reward-model export (rm.json)")
    try:
        data = json.loads(spec.read_text(encoding="utf-8"))
        run_dir, checkpoint = Path(data["source"]["run_dir"]), Path(data["source"]["checkpoint"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{spec}: cannot read the checkpoint it was exported from: {exc}") from exc
    source = find_reward_source(run_dir, checkpoint)
    recorded = data["source"].get("fingerprint", {}).get("sha256")
    if recorded and recorded != checkpoint_fingerprint(source.checkpoint)["sha256"]:
        print(f"warning: {checkpoint} changed since {spec} was exported; scoring the checkpoint as it is now", file=sys.stderr)
    return source


def load_reference(rm: Path) -> ReferenceModel:
    from peft import PeftModel

    source = _source(rm.resolve())
    base = load_base_fp32(source)
    codec = load_codec(source, base)
    text_config: Any = base.config.text_config
    head = load_reward_head(source, int(text_config.hidden_size))
    with torch.no_grad():
        merged = PeftModel.from_pretrained(base, str(source.checkpoint / "reward")).merge_and_unload()
    return ReferenceModel(source, RewardScorer(merged, head).eval(), codec, int(text_config.max_position_embeddings))


def rm_text(record: ScoreRecord, with_facts: bool) -> str:
    conversation = [{"from": "human", "value": QUESTION_PREFIX + record.prompt}]
    # Facts in the record's order (rng=None): scoring is deterministic, unlike training.
    return rm_input(conversation, record.response, record.facts if with_facts else None)


def encode(model: ReferenceModel, record: ScoreRecord, text: str) -> list[int]:
    ids: list[int] = model.codec.encode(text)
    if len(ids) > model.max_length:
        raise UsageError(
            f"record {record.index} ({record.prompt_id}): the RM input is {len(ids)} tokens, "
            f"longer than the model's max_length {model.max_length}"
        )
    return ids


def pixels(model: ReferenceModel, record: ScoreRecord) -> Tensor:
    try:
        return model.codec.pixel_values(record.image).float()
    except (OSError, ValueError) as exc:
        raise UsageError(f"{record.image}: cannot read the image: {exc}") from exc


def score_ids(model: ReferenceModel, ids: Sequence[list[int]], images: Sequence[Tensor]) -> Tensor:
    input_ids, mask = left_pad(list(ids), model.codec.pad_id)
    with torch.no_grad():
        return model.scorer(input_ids, mask, torch.stack(list(images)))


def score_records(model: ReferenceModel, records: Sequence[ScoreRecord], batch_size: int) -> list[tuple[float, float]]:
    """(with_facts, without_facts) per record."""
    rows = [(r, with_facts) for r in records for with_facts in (True, False)]
    ids = [encode(model, r, rm_text(r, f)) for r, f in rows]
    images = [pixels(model, r) for r, _ in rows]
    scores: list[float] = []
    for start in range(0, len(rows), batch_size):
        scores.extend(float(s) for s in score_ids(model, ids[start : start + batch_size], images[start : start + batch_size]))
    return [(scores[2 * i], scores[2 * i + 1]) for i in range(len(records))]
