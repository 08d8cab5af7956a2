"""`python -m fact_rlhf export-rm-onnx --run-dir RUN [--checkpoint DIR] --out DIR`.

Writes `model.onnx` (one self-contained file), `tokenizer.json` and `rm.json` (inputs, outputs,
encoding, image preprocessing, the RM template constants, worked examples with their scores), and
checks onnxruntime against PyTorch on the examples and on a second batch of another shape.
Exit codes: 0 exported and verified, 1 verification failed (max abs diff > 1e-4) or the export
broke, 2 bad arguments or run directory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..packages import CORE_PACKAGES, TRAINER_PACKAGES, require_packages

COMMAND = "export-rm-onnx"
TOLERANCE = 1e-4
MODEL_FILE, TOKENIZER_FILE, RM_FILE = "model.onnx", "tokenizer.json", "rm.json"
EXPORT_PACKAGES = {"onnx": "onnx", "onnxruntime": "onnxruntime"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run-dir", required=True, help="an rm or ppo run directory (run.json + checkpoints/)")
    p.add_argument(
        "--checkpoint",
        help="checkpoint folder with reward/ + heads.safetensors (default: the run's best for an rm run, else checkpoints/latest)",
    )
    p.add_argument("--out", required=True, help="output folder (model.onnx, tokenizer.json, rm.json)")


def run_export(args: argparse.Namespace) -> int:
    try:
        require_packages({**CORE_PACKAGES, **TRAINER_PACKAGES, **EXPORT_PACKAGES})
        report = export_reward_model(Path(args.run_dir), Path(args.checkpoint) if args.checkpoint else None, Path(args.out))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except VerificationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the exporter's own failures: show them whole
        traceback.print_exc(file=sys.stderr)
        print(f"error: export failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    v = report["verification"]
    print(
        f"[fact-rlhf] exported {report['source']['checkpoint']} → {Path(args.out) / MODEL_FILE} "
        f"(onnxruntime vs PyTorch: max abs diff {v['max_abs_diff']:.2e} on {v['inputs']} inputs)",
        file=sys.stderr,
    )
    return 0


class VerificationError(Exception):
    """onnxruntime disagrees with PyTorch beyond the tolerance."""


def _examples(source: Any, codec: Any) -> list[tuple[str, Path, list[str]]]:
    """(RM text, image, facts) for verification: the run's own sample records when it has any,
    with and without facts; otherwise a plain question over a generated image."""
    from ..algo.rm_prompt import rm_input

    records: list[dict[str, Any]] = []
    for path in sorted((source.run_dir / "samples").glob("step-*.jsonl"))[:2]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    out = []
    for i, r in enumerate(records[:3]):
        image = source.run_dir / r["image"]
        if not image.is_file():
            continue
        conversation = [{"from": "human", "value": f"<image>\n{r['prompt']}"}]
        facts = list(r.get("facts") or []) if i % 2 == 0 else []
        out.append((rm_input(conversation, r["response"], facts or None), image, facts))
    if not out:
        from PIL import Image

        image = Path(tempfile.mkdtemp(prefix="fact-rlhf-export-")) / "probe.png"
        Image.linear_gradient("L").convert("RGB").save(image)
        conversation = [{"from": "human", "value": "<image>\nWhat is in the image?"}]
        out = [
            (rm_input(conversation, "A picture.", None), image, []),
            (rm_input(conversation, "It shows a gradient from dark to light.", ["A gradient."]), image, ["A gradient."]),
        ]
    return out


def export_reward_model(run_dir: Path, checkpoint: Path | None, out: Path) -> dict[str, Any]:
    import torch

    from ..rm.scoring import encode_batch
    from .rm_onnx import OPSET, RewardScorer, export, onnx_scores
    from .source import find_reward_source, load_base_fp32, load_codec, load_reward_head

    from peft import PeftModel

    started = time.perf_counter()
    source = find_reward_source(run_dir, checkpoint)
    base = load_base_fp32(source)
    codec = load_codec(source, base)
    head = load_reward_head(source, int(base.config.get_text_config().hidden_size))
    examples = _examples(source, codec)
    batch = encode_batch(codec, [t for t, _, _ in examples], [i for _, i, _ in examples])
    inputs = (batch.input_ids, batch.attention_mask, batch.pixel_values.float())

    with torch.no_grad():
        attached = PeftModel.from_pretrained(base, str(source.checkpoint / "reward")).eval()
        unmerged = RewardScorer(attached, head)(*inputs)
        scorer = RewardScorer(attached.merge_and_unload(), head).eval()
        merged = scorer(*inputs)
        # A second shape (one row, its own length) checks that batch and sequence axes are dynamic.
        single = encode_batch(codec, [examples[-1][0]], [examples[-1][1]])
        single_inputs = (single.input_ids, single.attention_mask, single.pixel_values.float())
        merged_single = scorer(*single_inputs)

    out.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILE
    export(scorer, inputs, model_path)
    ort = onnx_scores(model_path, inputs)
    ort_single = onnx_scores(model_path, single_inputs)
    diff = max(float((ort - merged).abs().max()), float((ort_single - merged_single).abs().max()))
    merge_diff = float((merged - unmerged).abs().max())
    print(
        f"[fact-rlhf] verification: onnxruntime vs PyTorch max abs diff {diff:.3e}; merged vs attached adapter {merge_diff:.3e}",
        file=sys.stderr,
    )
    if not diff <= TOLERANCE or not merge_diff <= TOLERANCE:
        raise VerificationError(
            f"the exported model disagrees with PyTorch: max abs diff {diff:.3e} "
            f"(merge {merge_diff:.3e}) > {TOLERANCE:g}; {model_path} is not usable"
        )
    shutil.copyfile(source.tokenizer_file, out / TOKENIZER_FILE)
    images = out / "examples"
    images.mkdir(exist_ok=True)
    for k, (_, image, _) in enumerate(examples):  # the examples travel with the model (scorer tests)
        shutil.copyfile(image, images / f"{k}{image.suffix}")
    report = describe(source, codec, base, examples, batch, merged, diff, merge_diff, OPSET, time.perf_counter() - started)
    (out / RM_FILE).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def describe(
    source: Any,
    codec: Any,
    base: Any,
    examples: list[tuple[str, Path, list[str]]],
    batch: Any,
    scores: Any,
    diff: float,
    merge_diff: float,
    opset: int,
    seconds: float,
) -> dict[str, Any]:
    """rm.json: everything a scorer outside Python needs to feed the model as the trainer did."""
    from tokenizers import Tokenizer

    from ..algo import rm_prompt as t
    from .image_spec import image_spec
    from .rm_spec import FORMAT, VERSION, checkpoint_fingerprint, template_pieces

    image_size = int(batch.pixel_values.shape[-1])
    shipped = Tokenizer.from_file(str(source.tokenizer_file))  # the tokenizer.json the scorer reads
    specials = {"pad": codec.pad_id, "bos": getattr(codec, "bos_id", None), "eos": codec.eos_id, "image": codec.image_id}
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": MODEL_FILE,
        "tokenizer": TOKENIZER_FILE,
        "inputs": [
            {"name": "input_ids", "dtype": "int64", "shape": ["batch", "sequence"]},
            {"name": "attention_mask", "dtype": "int64", "shape": ["batch", "sequence"], "note": "1 on tokens, 0 on padding"},
            {"name": "pixel_values", "dtype": "float32", "shape": ["batch", 3, image_size, image_size]},
        ],
        "outputs": [{"name": "score", "dtype": "float32", "shape": ["batch"], "note": "read at the last position: pad on the LEFT"}],
        "encoding": {
            "tokenizer": "builtin-word" if source.tiny else "huggingface",
            "padding_side": "left",
            "pad_id": codec.pad_id,
            "eos_id": codec.eos_id,
            "bos_id": getattr(codec, "bos_id", None),
            "prepend_bos": source.tiny,
            # The built-in codec encodes without the tokenizer's own specials and prepends BOS; a
            # Hugging Face processor lets the tokenizer add them.
            "add_special_tokens": not source.tiny,
            "vocab_size": int(shipped.get_vocab_size(with_added_tokens=True)),
            "special_tokens": {k: {"id": int(v), "token": shipped.id_to_token(int(v))} for k, v in specials.items() if v is not None},
            "image_token_id": codec.image_id,
            "image_token": "<image>",
            # Each `<image>` in the text stands for this many image-token ids.
            "image_tokens": int(getattr(codec, "image_tokens", base.config.image_seq_length)),
            # The trainer never truncates an RM input; a scorer rejects one the model cannot place.
            "max_length": int(base.config.text_config.max_position_embeddings),
            "truncation": "none: an input longer than max_length is an error",
        },
        # The RM input as data (export/rm_spec.py cuts it out of algo/rm_prompt.rm_input).
        "rm_input": template_pieces(),
        "image": image_spec(codec, image_size),
        "template": {
            "system_prompt": t.SYSTEM_PROMPT,
            "role_user": t.ROLE_USER,
            "role_assistant": t.ROLE_ASSISTANT,
            "sep": t.SEP,
            "sep2": t.SEP2,
            "critique_intro": t.RM_CRITIQUE_INTRO,
            "accurate": t.RM_ACCURATE,
            "facts_sentence": t.RM_FACTS_SENTENCE,
            "fact_bullet": t.FACT_BULLET,
            "other_criteria": t.RM_OTHER_CRITERIA,
            "score_suffix_end": t.RM_SCORE_SUFFIX_END,
            "layout": "SYSTEM + SEP + 'USER: ' + question + SEP + 'ASSISTANT: ' + response + SEP2 + 'USER: ' + "
            "critique_intro + accurate [+ facts_sentence + ('\\n' + fact_bullet + fact)*] + other_criteria + SEP + score_suffix_end",
        },
        "fact_augmentation": bool(source.config.get("reward_model", {}).get("fact_augmentation", True)),
        "examples": [
            {
                "text": text,
                "image": f"examples/{k}{image.suffix}",
                "facts": facts,
                "input_ids": [int(i) for i, m in zip(batch.input_ids[k].tolist(), batch.attention_mask[k].tolist()) if m],
                "score": float(scores[k]),
            }
            for k, (text, image, facts) in enumerate(examples)
        ],
        "source": {
            "run_dir": str(source.run_dir),
            "stage": source.manifest.get("stage"),
            "checkpoint": str(source.checkpoint),
            "base": str(source.base_folder),
            "fingerprint": checkpoint_fingerprint(source.checkpoint),
        },
        "verification": {
            "max_abs_diff": diff,
            "merge_max_abs_diff": merge_diff,
            "tolerance": TOLERANCE,
            "inputs": len(examples) + 1,
            "runtime": "onnxruntime (CPU)",
            "opset": opset,
            "seconds": round(seconds, 2),
        },
    }
