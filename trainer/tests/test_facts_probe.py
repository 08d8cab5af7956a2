"""The facts probe hands each held-out pair the facts of another image of the same kind."""

from __future__ import annotations

from pathlib import Path

from fact_rlhf.data.records import PreferencePair
from fact_rlhf.rm.facts_probe import with_other_images_facts


def _pair(pid: str, image: str, facts: list[str], caption_type: int = 1) -> PreferencePair:
    return PreferencePair(pid, Path(image), [], "a", "b", 1, facts=facts, caption_type=caption_type)


def test_facts_come_from_the_next_pair_on_another_image_of_the_same_kind() -> None:
    pairs = [
        _pair("0", "x.png", ["x caption"]),
        _pair("1", "x.png", ["x caption"]),
        _pair("2", "y.png", ["y rationale"], caption_type=3),
        _pair("3", "z.png", ["z caption"]),
        _pair("4", "w.png", ["w rationale"], caption_type=4),
    ]
    probed = with_other_images_facts(pairs)
    assert [p.facts for p in probed] == [["z caption"], ["z caption"], ["w rationale"], ["x caption"], ["y rationale"]]
    assert [(p.id, p.image, p.output_1, p.preference) for p in probed] == [(p.id, p.image, p.output_1, p.preference) for p in pairs]
    assert pairs[0].facts == ["x caption"]  # the originals are untouched


def test_a_pair_without_a_partner_keeps_its_facts() -> None:
    pairs = [_pair("0", "x.png", ["x"]), _pair("1", "x.png", ["x"]), _pair("2", "y.png", ["y"], caption_type=2)]
    assert [p.facts for p in with_other_images_facts(pairs)] == [["x"], ["x"], ["y"]]
