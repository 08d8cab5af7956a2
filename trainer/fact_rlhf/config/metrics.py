"""The metrics catalogue (schema/metrics.json): what each `group/name` key means, its title and unit,
and each stage's headline figure. The CLI summary, the trace panel and these trainer reports read the
same file, so a metric is named once."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from .schema import schema_dir


@dataclass(frozen=True)
class MetricInfo:
    key: str
    title: str
    unit: str
    stage: str
    label: str

    @property
    def name(self) -> str:
        """The key's last segment (`ppo/reward_total` → `reward_total`), as report lines show it."""
        return self.key.rsplit("/", 1)[-1]


@functools.lru_cache(maxsize=1)
def _catalogue() -> tuple[MetricInfo, ...]:
    with open(schema_dir() / "metrics.json", encoding="utf-8") as f:
        entries = json.load(f)["metrics"]
    return tuple(
        MetricInfo(e["key"], e["title"], e.get("unit", ""), e["stage"], e.get("label", e["title"])) for e in entries if e.get("headline")
    )


def headline(stage: str) -> MetricInfo:
    """The stage's one headline figure (the catalogue marks exactly one per stage)."""
    found = [m for m in _catalogue() if m.stage == stage]
    if len(found) != 1:
        raise ValueError(f"schema/metrics.json: stage {stage!r} has {len(found)} headline metrics, expected 1")
    return found[0]
