"""The demo's results: per-seed figures → mean ± spread over seeds, the paper's three claims checked
seed by seed, rendered as one Markdown table (printed, and written with the JSON)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .collect import POLICY_FIGURES
from .plan import MODELS, REWARD_MODELS

HALLUCINATION = "hallucination rate ↓"
# The fact RM scored with another image's facts: as accurate as with its own = it ignores them.
FACTS_PROBE = "fact-augmented RM given another image's facts (does it read them?)"
RESULTS_JSON, RESULTS_MD = "demo-results.json", "demo-results.md"


def mean_sd(values: list[float | None]) -> dict[str, Any]:
    """Mean and sample standard deviation (n − 1) of the values present, with min, max and n."""
    xs = [v for v in values if v is not None]
    if not xs:
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0, "values": values}
    mean = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return {"mean": mean, "sd": sd, "min": min(xs), "max": max(xs), "n": len(xs), "values": values}


@dataclass(frozen=True)
class Claim:
    text: str
    wins: int  # seeds where it holds
    seeds: int  # seeds with both figures
    lower: float | None  # mean of the side that should be lower
    higher: float | None
    sides: tuple[str, str]  # (lower side, higher side) as shown

    @property
    def holds(self) -> bool:
        """In every seed (and so in the mean)."""
        return self.seeds > 0 and self.wins == self.seeds


def _claim(text: str, sides: tuple[str, str], lower: list[float | None], higher: list[float | None]) -> Claim:
    both = [(a, b) for a, b in zip(lower, higher) if a is not None and b is not None]
    return Claim(text, sum(1 for a, b in both if a < b), len(both), mean_sd(lower)["mean"], mean_sd(higher)["mean"], sides)


def summarise(per_seed: dict[int, dict[str, Any]], timing: dict[str, Any]) -> dict[str, Any]:
    seeds = sorted(per_seed)
    policies = {
        label: {column: mean_sd([per_seed[s]["policies"][label][column] for s in seeds]) for column, _, _ in POLICY_FIGURES}
        for label, _ in MODELS
    }
    rms = {label: mean_sd([per_seed[s]["reward_models"][label] for s in seeds]) for label, _ in REWARD_MODELS}
    probe = mean_sd([per_seed[s].get("facts_probe") for s in seeds])

    def rate(model: str) -> list[float | None]:
        return [per_seed[s]["policies"][model][HALLUCINATION] for s in seeds]

    (plain_rm, _), (fact_rm, _) = REWARD_MODELS
    claims = [
        _claim("Fact-RLHF hallucination rate below SFT's", ("Fact-RLHF", "SFT"), rate("Fact-RLHF"), rate("SFT")),
        _claim("Fact-RLHF hallucination rate below plain RLHF's", ("Fact-RLHF", "plain RLHF"), rate("Fact-RLHF"), rate("plain RLHF")),
        _claim(
            "fact-augmented RM held-out accuracy above the plain RM's",
            ("plain RM", "fact-augmented RM"),
            [per_seed[s]["reward_models"][plain_rm] for s in seeds],
            [per_seed[s]["reward_models"][fact_rm] for s in seeds],
        ),
    ]
    return {
        "seeds": seeds,
        "per_seed": {str(s): per_seed[s] for s in seeds},
        "policies": policies,
        "reward_models": rms,
        "facts_probe": probe,
        "claims": [
            {
                "claim": c.text,
                "holds_in_seeds": c.wins,
                "seeds": c.seeds,
                "holds": c.holds,
                "lower_side": c.sides[0],
                "higher_side": c.sides[1],
                "mean_lower_side": c.lower,
                "mean_higher_side": c.higher,
            }
            for c in claims
        ],
        "reproduced": all(c.holds for c in claims),
        "timing": timing,
    }


def _cell(stats: dict[str, Any], digits: int) -> str:
    if stats["mean"] is None:
        return "n/a (failed)"
    text = f"{stats['mean']:.{digits}f} ± {stats['sd']:.{digits}f}"
    return text if stats["n"] == len(stats["values"]) else f"{text} ({stats['n']} of {len(stats['values'])} seeds)"


def render(summary: dict[str, Any]) -> str:
    n = len(summary["seeds"])
    spread = f"mean ± sd over {n} seed{'s' if n != 1 else ''} ({', '.join(map(str, summary['seeds']))})"
    lines = [f"## Fact-RLHF demo: built-in shapes world, builtin:tiny-llava on CPU — {spread}", ""]
    header = ["model"] + [c for c, _, _ in POLICY_FIGURES]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, _ in MODELS:
        cells = [_cell(summary["policies"][label][c], d) for c, _, d in POLICY_FIGURES]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "| reward model | held-out pairwise accuracy ↑ |", "|---|---|"]
    for label, _ in REWARD_MODELS:
        lines.append(f"| {label} | {_cell(summary['reward_models'][label], 3)} |")
    probe = summary.get("facts_probe")
    if probe and probe["n"]:
        lines.append(f"| {FACTS_PROBE} | {_cell(probe, 3)} |")
    lines += ["", "Per seed — hallucination rate of " + ", ".join(m for m, _ in MODELS) + "; RM held-out accuracy plain / fact:"]
    for seed in summary["seeds"]:
        figures = summary["per_seed"][str(seed)]
        rates = " / ".join(_fmt(figures["policies"][m][HALLUCINATION]) for m, _ in MODELS)
        accs = " / ".join(_fmt(figures["reward_models"][r]) for r, _ in REWARD_MODELS)
        lines.append(f"- seed {seed}: {rates}; {accs}")
    t = summary["timing"]
    lines += [
        "",
        f"Wall time {t['wall_s']:.0f} s ({t['wall_s'] / 60:.1f} min) with {t['workers']} worker process(es); "
        f"CPU time {t['cpu_s']:.0f} s over all stages; {t['cpu_count']} CPU core(s) visible, "
        f"load average {t['load_start']:.1f} at start, {t['load_end']:.1f} at the end.",
        "",
    ]
    lines.append("Claims of the paper, checked seed by seed:")
    for c in summary["claims"]:
        verdict = "yes" if c["holds"] else "NO"
        lines.append(
            f"- {c['claim']}: {verdict} — in {c['holds_in_seeds']} of {c['seeds']} seeds "
            f"(means: {c['lower_side']} {_fmt(c['mean_lower_side'])}, {c['higher_side']} {_fmt(c['mean_higher_side'])})"
        )
    lines.append("")
    if summary["reproduced"]:
        lines.append("Result: the effect the paper reports is reproduced in every seed.")
    else:
        lines.append(
            "Result: the effect the paper reports is NOT reproduced in every seed (see the claims marked NO); "
            "bench/RESULTS.md records what was tried."
        )
    failed = t.get("failed_tasks") or []
    if failed:
        lines.append(f"Failed or skipped stages: {', '.join(failed)} (their logs are under <out>/<seed>/logs/).")
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def write(out: Path, summary: dict[str, Any], text: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = out / RESULTS_JSON, out / RESULTS_MD
    for path, body in zip(paths, (json.dumps(summary, indent=2, ensure_ascii=False) + "\n", text)):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)
    return paths
