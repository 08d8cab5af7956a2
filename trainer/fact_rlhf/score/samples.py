"""Sample records to score (schema/sample-record.schema.json), read the same way by `fact-rlhf score`
in Node: one record per non-empty line, image paths relative to the run folder the file belongs to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError


@dataclass
class ScoreRecord:
    index: int  # 0-based position among the file's records
    prompt_id: str
    step: int | None
    prompt: str
    response: str
    facts: list[str]
    image: Path


def run_folder(samples_file: Path) -> Path:
    """The nearest folder above the file with a run.json; else `samples/`'s parent; else its own folder."""
    here = samples_file.resolve()
    for parent in here.parents:
        if (parent / "run.json").is_file():
            return parent
    return here.parent.parent if here.parent.name == "samples" else here.parent


def _field(record: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = record.get(name)
    if not isinstance(value, kind):
        raise UsageError(f"{where}: `{name}` must be a {kind.__name__}")
    return value


def read_records(samples_file: Path) -> list[ScoreRecord]:
    if not samples_file.is_file():
        raise UsageError(f"--samples {samples_file}: file not found")
    base = run_folder(samples_file)
    out: list[ScoreRecord] = []
    for number, line in enumerate(samples_file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{samples_file}:{number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{where}: not JSON: {exc}") from exc
        if not isinstance(record, dict):
            raise UsageError(f"{where}: a sample record must be an object")
        facts = record.get("facts")
        if not isinstance(facts, list) or not all(isinstance(f, str) for f in facts):
            raise UsageError(f"{where}: `facts` must be a list of strings")
        image = record.get("image")
        if not isinstance(image, str) or not image:
            raise UsageError(f"{where}: the record has no image (the reward model needs one)")
        step = record.get("step")
        out.append(
            ScoreRecord(
                index=len(out),
                prompt_id=str(record.get("prompt_id", "")),
                step=step if isinstance(step, int) else None,
                prompt=_field(record, "prompt", str, where),
                response=_field(record, "response", str, where),
                facts=list(facts),
                image=(base / image) if not Path(image).is_absolute() else Path(image),
            )
        )
    if not out:
        raise UsageError(f"--samples {samples_file}: no sample records")
    return out


def format_result(record: ScoreRecord, with_facts: float, without_facts: float, as_json: bool) -> str:
    """One output line; `fact-rlhf score` (src/cli/score.ts) prints the same."""
    difference = with_facts - without_facts
    if as_json:
        return json.dumps(
            {
                "index": record.index,
                "prompt_id": record.prompt_id,
                "step": record.step,
                "with_facts": with_facts,
                "without_facts": without_facts,
                "difference": difference,
            }
        )
    return (
        f"{record.index:>4}  {record.prompt_id}  with_facts {with_facts:+.6f}  "
        f"without_facts {without_facts:+.6f}  difference {difference:+.6f}"
    )
