"""The `eval` stage's benchmarks: each is a list of prompts and a scorer of the answers.

- shapes: the built-in world's MMHal-style set, rated 0–6 by the exact judge (shapes/judge.py);
- pope:   yes/no object probes → accuracy, precision, recall, F1, yes-ratio (pooled and per split);
- chair:  image descriptions → CHAIR-i, CHAIR-s over the world's object vocabulary;
- mmhal:  an MMHal-Bench-format file rated by the OpenAI-compatible judge (judge_openai.py).
Every scorer returns (metrics for results.json, one detail record per response).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..shapes.world import WorldFiles
from ..shapes.scene import scene_from_json
from ..errors import DataError
from .chair import ObjectVocabulary, chair_from_texts
from .judge_openai import JudgeConfig, OpenAIJudge
from .mmhal import MMHalRecord, check_fixed_order, read_mmhal, summarize
from .policy import Answer, EvalPrompt
from .pope import pope_metrics
from ..shapes.judge import judge_response

Scored = tuple[dict[str, Any], list[dict[str, Any]]]
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class Benchmark:
    name: str
    prompts: list[EvalPrompt]
    score: Callable[[list[Answer]], Scored]
    records: list[MMHalRecord] | None = None  # MMHal-format benchmarks: written back with answers


def length_stats(answers: Sequence[Answer]) -> dict[str, float]:
    """Mean response length in words (comparable across tokenizers) and in tokens, EOS share."""
    n = max(len(answers), 1)
    return {
        "mean_response_length": sum(len(a.text.split()) for a in answers) / n,
        "mean_response_tokens": sum(a.tokens for a in answers) / n,
        "eos_rate": sum(a.ended for a in answers) / n,
    }


def _read_list(path: Path, what: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the {what} file: {exc}") from exc
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of {what} items")
    return data


def shapes_benchmark(files: WorldFiles) -> Benchmark:
    records = read_mmhal(files.eval_mmhal)
    base = files.eval_mmhal.parent
    prompts = [EvalPrompt(r.image_id, base / r.image_src, r.question) for r in records]

    def score(answers: list[Answer]) -> Scored:
        details, ratings = [], []
        for r, a in zip(records, answers):
            verdict = judge_response(a.text, scene_from_json(r.extra["shapes_scene"]), r.extra["shapes_key"])
            ratings.append(verdict.rating)
            details.append(
                {
                    "id": r.image_id,
                    "question_type": r.question_type,
                    "question": r.question,
                    "response": a.text,
                    "rating": verdict.rating,
                    "answer": verdict.answer,
                    "spans": [list(s) for s in verdict.spans],
                    "gt_answer": r.gt_answer,
                }
            )
        metrics = summarize(ratings, [r.question_type for r in records])
        return {**metrics, **length_stats(answers)}, details

    return Benchmark("shapes", prompts, score, records)


def pope_benchmark(files: WorldFiles) -> Benchmark:
    items = _read_list(files.pope, "POPE")
    prompts = [EvalPrompt(str(q["question_id"]), files.image_folder / q["image"], q["text"]) for q in items]

    def score(answers: list[Answer]) -> Scored:
        records = [{"split": q["split"], "label": q["label"], "answer": a.text} for q, a in zip(items, answers)]
        details = [{**q, "response": a.text} for q, a in zip(items, answers)]
        return {**pope_metrics(records, str(files.pope)), **length_stats(answers)}, details

    return Benchmark("pope", prompts, score)


def chair_benchmark(files: WorldFiles) -> Benchmark:
    items = _read_list(files.chair, "CHAIR")
    vocabulary = ObjectVocabulary(json.loads(files.chair_vocabulary.read_text(encoding="utf-8")))
    prompts = [EvalPrompt(f"chair-{i}", files.image_folder / q["image"], q["question"]) for i, q in enumerate(items)]

    def score(answers: list[Answer]) -> Scored:
        texts = [a.text for a in answers]
        metrics = chair_from_texts(vocabulary, texts, [q["objects"] for q in items])
        wrong = metrics.pop("hallucinated")
        details = [{"image": q["image"], "response": t, "objects": q["objects"], "hallucinated": w} for q, t, w in zip(items, texts, wrong)]
        return {**metrics, **length_stats(answers)}, details

    return Benchmark("chair", prompts, score)


def mmhal_image(record: MMHalRecord, index: int, file: Path, image_folder: Path | None) -> Path:
    """The local image of a record: `image_src` as a path next to the file, else the file name of
    `image_src` or `image_id` (+ .jpg/.jpeg/.png) in `data.image_folder`."""
    candidates: list[Path] = []
    src = record.image_src
    if src and "://" not in src:
        candidates.append(file.parent / src)
    if image_folder is not None:
        if src:
            candidates.append(image_folder / src.rsplit("/", 1)[-1])
        candidates += [image_folder / (record.image_id + s) for s in ("", *_IMAGE_SUFFIXES)]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        looked = ", ".join(str(c) for c in candidates) or "nowhere: set data.image_folder"
        raise DataError(f"{file}: record {index} (image_id {record.image_id!r}): image not found (looked at {looked})")
    return found


def mmhal_benchmark(path: Path, image_folder: Path | None, judge_settings: Mapping[str, Any], log: Callable[[str], None]) -> Benchmark:
    records = read_mmhal(path)
    if not records:
        raise DataError(f"{path}: no MMHal-Bench records")
    for problem in check_fixed_order(records, str(path))[:3]:
        log(problem)
    prompts = [EvalPrompt(r.image_id, mmhal_image(r, i, path, image_folder), r.question) for i, r in enumerate(records)]
    judge_config = JudgeConfig.resolve(judge_settings)

    def score(answers: list[Answer]) -> Scored:
        verdicts = OpenAIJudge(judge_config, log=log).judge_all(records, [a.text for a in answers])
        ratings = [v.rating for v in verdicts]
        details = [
            {
                "id": r.image_id,
                "question_type": r.question_type,
                "question": r.question,
                "response": a.text,
                "rating": v.rating,
                "analysis": v.analysis,
                "error": v.error,
            }
            for r, a, v in zip(records, answers, verdicts)
        ]
        # Types by index mod 8, as the official scorer counts them (the order check warned above).
        metrics = {**summarize(ratings), **length_stats(answers), "judge_errors": sum(v.error is not None for v in verdicts)}
        return metrics, details

    return Benchmark("mmhal", prompts, score, records)
