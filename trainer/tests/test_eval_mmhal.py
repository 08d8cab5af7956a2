"""MMHal-Bench files, the official rating parse, the summary figures and the fixed-order check."""

import json
from pathlib import Path

import pytest

from fact_rlhf.errors import DataError
from fact_rlhf.eval.mmhal import (
    QUESTION_TYPES,
    MMHalOrderWarning,
    MMHalRecord,
    canonical_type,
    check_fixed_order,
    find_ratings,
    official_type,
    parse_rating,
    read_mmhal,
    summarize,
    write_mmhal,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The response is accurate.\nRating: 5", 5),
        ("rating: 0", 0),
        ("RATING: 6", 6),  # case-insensitive
        ("Analysis: fine.", 0),  # no rating at all
        ("", 0),
        ("Rating: 2 at first, but on reflection Rating: 4", 0),  # two different ratings
        ("Rating: 3. To repeat, Rating: 3", 3),  # the same rating twice is one rating, as officially
        ("Rating: 7", 0),  # out of range: not a rating
        ("rating:3", 0),  # no space: the official scorer does not see it
        ("Rating:  3", 0),  # two spaces: neither
        ("My rating: 4/6", 4),
        ("Rating: 60", 6),  # substring test, as in the official scorer
        ("Rating: 1 and rating: 10", 1),  # "rating: 10" reads as "rating: 1" again
    ],
)
def test_parse_rating_matches_official_scorer(text: str, expected: int) -> None:
    assert parse_rating(text) == expected


def test_find_ratings_lists_distinct_values() -> None:
    assert find_ratings("Rating: 5 ... rating: 2 ... RATING: 5") == [2, 5]
    assert find_ratings("rating:5") == []


def test_type_order_and_aliases() -> None:
    assert QUESTION_TYPES == (
        "attribute",
        "adversarial",
        "comparison",
        "counting",
        "relation",
        "environment",
        "holistic",
        "other",
    )
    assert [official_type(i) for i in (0, 1, 7, 8, 12, 95)] == [
        "attribute",
        "adversarial",
        "other",
        "attribute",
        "relation",
        "other",
    ]
    assert canonical_type("Adversarial Object") == "adversarial"
    assert canonical_type("spatial_relation") == "relation"
    assert canonical_type("holistic description") == "holistic"
    assert canonical_type("colour") is None


# Ratings of a hand-made 16-record set (two rounds of the 8 types). By type:
# attribute 6,4 → 5; adversarial 5,1 → 3; comparison 4,2 → 3; counting 3,3 → 3; relation 2,6 → 4;
# environment 1,5 → 3; holistic 0,0 → 0; other 6,2 → 4. Sum 50 → score 50/16 = 3.125.
# Below 3: 2,1,0 and 1,2,0,2 → 7 of 16 = 0.4375.
RATINGS16 = [6, 5, 4, 3, 2, 1, 0, 6, 4, 1, 2, 3, 6, 5, 0, 2]


def _record(i: int, qtype: str) -> MMHalRecord:
    return MMHalRecord(
        question_type=qtype,
        question_topic="animal" if i % 2 else "food",
        image_id=f"img{i:03d}",
        image_src=f"https://example.invalid/{i}.jpg",
        image_content=["Dog", "Ball"] if i % 2 else ["Plate"],
        question=f"question {i}?",
        gt_answer=f"answer {i}",
        model_answer=f"response {i}",
    )


def test_summary_of_sixteen_records(tmp_path: Path) -> None:
    records = [_record(i, official_type(i)) for i in range(16)]
    path = write_mmhal(tmp_path / "mmhal.json", records)
    loaded = read_mmhal(path)
    assert loaded == records

    summary = summarize(RATINGS16)  # official index-mod-8 assignment
    assert summary["count"] == 16
    assert summary["score"] == pytest.approx(3.125)
    assert summary["hallucination_rate"] == pytest.approx(0.4375)
    assert summary["per_type"] == {
        "attribute": 5.0,
        "adversarial": 3.0,
        "comparison": 3.0,
        "counting": 3.0,
        "relation": 4.0,
        "environment": 3.0,
        "holistic": 0.0,
        "other": 4.0,
    }
    assert set(summary["per_type_count"].values()) == {2}
    # The file's own types agree with the official order here, so both give the same figures.
    assert summarize(RATINGS16, [r.question_type for r in loaded]) == summary


def test_summary_with_explicit_types_and_missing_type() -> None:
    summary = summarize([6, 0, 3], ["counting", "Counting", "spatial relation"])
    assert summary["per_type"]["counting"] == 3.0
    assert summary["per_type"]["relation"] == 3.0
    assert summary["per_type"]["attribute"] is None
    assert summary["hallucination_rate"] == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("ratings", "types", "message"),
    [
        ([], None, "no ratings"),
        ([7], None, "rating 0: 7"),
        ([3, -1], None, "rating 1: -1"),
        ([3, 2.5], None, "rating 1: 2.5"),
        ([3, 4], ["attribute"], "2 ratings but 1 question types"),
        ([3], ["colour"], "unknown question type 'colour'"),
    ],
)
def test_summary_rejects_bad_input(ratings: list, types: list | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        summarize(ratings, types)


def test_fixed_order_check_passes_on_official_order() -> None:
    records = [_record(i, official_type(i)) for i in range(16)]
    assert check_fixed_order(records, "ok.json") == []


def test_fixed_order_check_warns_on_swapped_types() -> None:
    records = [_record(i, official_type(i)) for i in range(16)]
    records[3], records[4] = records[4], records[3]  # counting and relation swapped
    records[10].question_type = "colour"
    with pytest.warns(MMHalOrderWarning, match=r"bad\.json: record 3: question_type 'relation'.*\(and 2 more\)"):
        problems = check_fixed_order(records, "bad.json")
    assert len(problems) == 3
    assert "index 4 (mod 8 = 4) as 'relation'" in problems[1]
    assert "'colour' (not one of the 8 types)" in problems[2]


def test_fixed_order_check_warns_on_partial_group() -> None:
    records = [_record(i, official_type(i)) for i in range(10)]
    with pytest.warns(MMHalOrderWarning, match="10 records is not a multiple of 8"):
        assert len(check_fixed_order(records)) == 1


def test_read_keeps_unknown_fields_and_accepts_missing_answer(tmp_path: Path) -> None:
    data = [_record(0, "attribute").to_json()]
    del data[0]["model_answer"]
    data[0]["note"] = {"kept": True}
    path = tmp_path / "q.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    (record,) = read_mmhal(path)
    assert record.model_answer is None
    assert record.extra == {"note": {"kept": True}}
    write_mmhal(path, [record])
    assert json.loads(path.read_text(encoding="utf-8")) == data


def test_reads_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(json.dumps(_record(i, official_type(i)).to_json()) for i in range(3)) + "\n")
    assert [r.image_id for r in read_mmhal(path)] == ["img000", "img001", "img002"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.pop("question"), r"record 1: missing field 'question'"),
        (lambda r: r.update(gt_answer=3), r"record 1: field 'gt_answer': expected a string, got a number"),
        (lambda r: r.update(image_content="Dog"), r"record 1: field 'image_content': expected a list"),
        (lambda r: r.update(image_content=["Dog", None]), r"record 1: field 'image_content\[1\]': expected a string, got null"),
        (lambda r: r.update(model_answer=["x"]), r"record 1: field 'model_answer': expected a string, got a list"),
    ],
)
def test_malformed_record_names_file_line_and_index(tmp_path: Path, mutate, message: str) -> None:
    data = [_record(i, official_type(i)).to_json() for i in range(3)]
    mutate(data[1])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    first_line_of_record_1 = 2 + len(json.dumps(data[0], indent=2).splitlines())
    with pytest.raises(DataError, match=rf"bad\.json:{first_line_of_record_1}: {message}"):
        read_mmhal(path)


def test_structural_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"question": "not a list"}')
    with pytest.raises(DataError, match=r"x\.json:1: an MMHal-Bench file must be a JSON list"):
        read_mmhal(path)
    path.write_text('[\n  "just text"\n]')
    with pytest.raises(DataError, match=r"x\.json:2: record 0: expected an object, got a string"):
        read_mmhal(path)
    path.write_text('[\n {"a": 1},\n {"a": ]\n')
    with pytest.raises(DataError, match=r"x\.json:3: record 1: invalid JSON"):
        read_mmhal(path)
    with pytest.raises(DataError, match=r"missing\.json: cannot read"):
        read_mmhal(tmp_path / "missing.json")
