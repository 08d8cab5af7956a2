"""POPE metrics on a hand-made confusion matrix, and POPE's own answer normalisation."""

import json
from pathlib import Path

import pytest

from fact_rlhf.errors import DataError
from fact_rlhf.eval.pope import normalize_answer, pope_metrics, read_pope_records


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Yes, there is a dog in the image.", "yes"),
        ("No, there is no dog.", "no"),
        ("No", "no"),
        ("no.", "no"),  # the period ends the first sentence
        ("No, it is a cat.", "no"),  # the comma is dropped before splitting
        ("There is not a dog in the image.", "no"),
        ("Yes. There is no cat next to it.", "yes"),  # only the first sentence counts
        ("NO", "yes"),  # case-sensitive, as in POPE
        ("Not really", "yes"),  # "Not" is not "not"
        ("No!", "yes"),  # punctuation other than , and . sticks to the word
        ("There isn't a dog.", "yes"),  # contractions do not count
        ("I cannot see one", "yes"),
        ("no\nthere is none", "yes"),  # words are split on spaces only
        ("", "yes"),
    ],
)
def test_normalisation_follows_pope(answer: str, expected: str) -> None:
    assert normalize_answer(answer) == expected


def _records(split: str, pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"split": split, "label": label, "answer": answer} for label, answer in pairs]


YES, NO = "Yes, there is.", "No, there is not."
# random: TP 4, FN 2, FP 1, TN 3. popular: TP 2, FP 2 (always yes). adversarial: FN 2 (always no).
RECORDS = (
    _records("random", [("yes", YES)] * 4 + [("yes", NO)] * 2 + [("no", YES)] + [("no", NO)] * 3)
    + _records("popular", [("yes", YES), ("yes", YES), ("no", YES), ("NO", YES)])
    + _records("adversarial", [("yes", NO), ("Yes", NO)])
)


def test_metrics_on_hand_made_confusion_matrix() -> None:
    m = pope_metrics(RECORDS)
    rnd = m["random"]
    assert (rnd["tp"], rnd["fn"], rnd["fp"], rnd["tn"]) == (4, 2, 1, 3)
    assert rnd["accuracy"] == pytest.approx(0.7)
    assert rnd["precision"] == pytest.approx(0.8)
    assert rnd["recall"] == pytest.approx(4 / 6)
    assert rnd["f1"] == pytest.approx(8 / 11)
    assert rnd["yes_ratio"] == pytest.approx(0.5)

    pop = m["popular"]
    assert (pop["accuracy"], pop["precision"], pop["recall"], pop["yes_ratio"]) == (0.5, 0.5, 1.0, 1.0)
    assert pop["f1"] == pytest.approx(2 / 3)

    adv = m["adversarial"]  # no predicted yes: undefined precision is 0, not an error
    assert (adv["accuracy"], adv["precision"], adv["recall"], adv["f1"], adv["yes_ratio"]) == (0, 0, 0, 0, 0)

    # Pooled over all 16: TP 6, FP 3, TN 3, FN 4.
    assert (m["tp"], m["fp"], m["tn"], m["fn"], m["count"]) == (6, 3, 3, 4, 16)
    assert m["accuracy"] == pytest.approx(9 / 16)
    assert m["precision"] == pytest.approx(6 / 9)
    assert m["recall"] == pytest.approx(0.6)
    assert m["f1"] == pytest.approx(12 / 19)
    assert m["yes_ratio"] == pytest.approx(9 / 16)


def test_splits_absent_from_the_input_are_absent_from_the_output() -> None:
    m = pope_metrics(_records("Random", [("yes", YES)]))
    assert "random" in m and "popular" not in m and m["f1"] == 1.0


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"split": "random", "label": "yes"}, "record 0: missing field 'answer'"),
        ({"split": "easy", "label": "yes", "answer": "Yes"}, "field 'split': 'easy' is not one of random, popular, adversarial"),
        ({"split": "random", "label": "maybe", "answer": "Yes"}, "field 'label': 'maybe' is not 'yes' or 'no'"),
        ({"split": "random", "label": 1, "answer": "Yes"}, "field 'label': expected a string"),
    ],
)
def test_bad_records_are_named(record: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        pope_metrics([record], source="pope.jsonl")


def test_empty_input_is_an_error() -> None:
    with pytest.raises(DataError, match="no POPE records"):
        pope_metrics([])


def test_reads_json_lines_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "pope.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS[:3]) + "\n\n")
    assert len(read_pope_records(path)) == 3
    path.write_text(json.dumps(RECORDS[0]) + "\n" + json.dumps({"split": "random", "answer": "x"}) + "\n")
    with pytest.raises(DataError, match=r"pope\.jsonl:2: missing field 'label'"):
        read_pope_records(path)
    path.write_text("{not json\n")
    with pytest.raises(DataError, match=r"pope\.jsonl:1: invalid JSON"):
        read_pope_records(path)
