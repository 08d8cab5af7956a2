"""The exact judge on hand-written responses whose ratings and hallucinated spans are known.

The scene: on a beach, a large red circle (top left), a small blue square (top right) and a large
green triangle (bottom left); the bottom right is empty, and there is no diamond.
"""

from __future__ import annotations

from typing import Any

import pytest

from fact_rlhf.shapes.world import judge
from fact_rlhf.shapes.scene import Scene, Shape
from fact_rlhf.shapes.judge import judge_response, rate, sample_hallucination

SCENE = Scene(
    (
        Shape("circle", "red", 0, 0, "large"),
        Shape("square", "blue", 1, 0, "small"),
        Shape("triangle", "green", 0, 1, "large"),
    ),
    "beach",
)

COLOUR = {"type": "value", "slot": "colour", "value": "red", "subjects": ["circle"]}
ABSENT = {"type": "absent", "subjects": ["diamond"]}
BIGGER = {"type": "choice", "options": ["red circle", "blue square"], "value": "red circle", "subjects": ["red circle", "blue square"]}
HOW_MANY = {"type": "value", "slot": "number", "value": 3, "subjects": ["shape"]}
WHERE = {"type": "position", "column": 1, "row": 0, "subjects": ["blue square"]}
LEFT_OF = {"type": "yesno", "value": "yes", "subjects": ["red circle", "blue square"]}
BACKGROUND = {"type": "value", "slot": "environment", "value": "beach"}
DESCRIBE = {"type": "describe"}
SAME_COLOUR = {"type": "yesno", "value": "no", "subjects": ["shape"]}
IS_THERE = {"type": "yesno", "value": "no", "subjects": ["green circle"]}
OPTION = {"type": "letter", "value": "B"}

# (question type, key, response, rating, [(marked text, label)])
CASES: list[tuple[str, dict[str, Any], str, int, list[tuple[str, str]]]] = [
    # attribute — "What colour is the circle?"
    ("attribute", COLOUR, "The circle is red.", 4, []),
    ("attribute", COLOUR, "The circle is red. It sits on a beach next to a small blue square.", 6, []),
    ("attribute", COLOUR, "The circle is blue.", 0, [("blue", "attribute")]),
    ("attribute", COLOUR, "The circle is red, and a yellow diamond is below it.", 2, [("yellow diamond", "object")]),
    # adversarial object — "What colour is the diamond?" (there is none)
    ("adversarial", ABSENT, "There is no diamond in the image.", 4, []),
    ("adversarial", ABSENT, "The diamond is yellow.", 0, [("diamond", "object"), ("yellow", "answer")]),
    ("adversarial", ABSENT, "I cannot tell what colour it is.", 3, []),
    # comparison — "Which is bigger, the red circle or the blue square?"
    ("comparison", BIGGER, "The red circle is bigger than the blue square.", 4, []),
    ("comparison", BIGGER, "The blue square is smaller than the red circle, which is on a beach.", 5, []),
    ("comparison", BIGGER, "The blue square is bigger than the red circle.", 0, [("blue square", "answer"), ("bigger than", "comparison")]),
    # counting — "How many shapes are there?"
    ("counting", HOW_MANY, "There are 3 shapes.", 4, []),
    ("counting", HOW_MANY, "There are 3 shapes: a red circle, a blue square and a green triangle.", 6, []),
    ("counting", HOW_MANY, "There are 4 shapes.", 0, [("4", "count")]),
    # spatial relation — "Where is the blue square?" / "Is the red circle to the left of the blue square?"
    ("relation", WHERE, "The blue square is in the top right.", 4, []),
    ("relation", WHERE, "The blue square is in the bottom right corner.", 0, [("in the bottom right corner", "position")]),
    ("relation", LEFT_OF, "Yes, the red circle is to the left of the blue square.", 4, []),
    ("relation", LEFT_OF, "No.", 0, [("No", "answer")]),
    # environment — "What is the background of the image?"
    ("environment", BACKGROUND, "The shapes are on a beach.", 4, []),
    ("environment", BACKGROUND, "The shapes are in the snow at night.", 0, [("snow", "environment"), ("night", "environment")]),
    # holistic — "Describe the image in detail."
    ("holistic", DESCRIBE, "There is a red circle, a blue square and a green triangle on a beach.", 5, []),
    (
        "holistic",
        DESCRIBE,
        "A large red circle sits in the top left and a small blue square in the top right. "
        "A large green triangle is at the bottom. The shapes are on a beach.",
        6,
        [],
    ),
    ("holistic", DESCRIBE, "There is a red circle and a purple diamond.", 1, [("diamond", "object")]),
    (
        "holistic",
        DESCRIBE,
        "There is a red circle, a blue square, a green triangle and a yellow diamond.",
        2,
        [("yellow diamond", "object")],
    ),
    ("holistic", DESCRIBE, "It is a nice picture.", 3, []),
    # other — "Are all the shapes the same colour?"
    ("other", SAME_COLOUR, "No, there is a red circle and a blue square.", 6, []),
    ("other", SAME_COLOUR, "No.", 4, []),
    ("other", SAME_COLOUR, "Yes, all the shapes are red.", 0, [("Yes", "answer"), ("red", "attribute")]),
    # training formats: yes/no ("Is there a green circle?") and multiple choice
    ("yesno", IS_THERE, "Yes, there is a green circle.", 0, [("Yes", "answer"), ("green circle", "object")]),
    ("yesno", IS_THERE, "No, there is no green circle. There is a red circle in the top left.", 6, []),
    ("choice", OPTION, "C. The circle is blue.", 0, [("C", "answer"), ("blue", "attribute")]),
]


def marked(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    return [(text[s:e], label) for s, e, label in spans]


@pytest.mark.parametrize("qtype,key,response,rating,spans", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_hand_written_responses(qtype: str, key: dict[str, Any], response: str, rating: int, spans: list[tuple[str, str]]) -> None:
    verdict = judge_response(response, SCENE, key)
    assert marked(response, verdict.spans) == spans
    assert verdict.rating == rating, (verdict.answer, verdict.details, verdict.claims)
    assert verdict.hallucinated == (rating < 3)


def test_cases_cover_every_mmhal_type() -> None:
    from fact_rlhf.eval.mmhal import QUESTION_TYPES

    assert set(QUESTION_TYPES) <= {c[0] for c in CASES}
    assert {c[3] for c in CASES} == set(range(7))  # every rating of the rubric occurs


@pytest.mark.parametrize(
    "text,spans",
    [
        # negation reaches across "or"; a denied absent object is true
        ("There is no yellow diamond or red circle.", [("red circle", "absence")]),
        # "and" carries the subject to a clause that starts with a verb
        ("The red circle is small and sits in the bottom right.", [("small", "size"), ("in the bottom right", "position")]),
        ("The blue square is not red.", []),
        ("The blue square is not blue.", [("not blue", "attribute")]),
        ("The green triangle is above the red circle.", [("above", "relation")]),
        ("The green triangle is below the red circle and next to a small green diamond.", [("green diamond", "object")]),
        ("There are two red circles and a large blue square.", [("two", "count"), ("large", "size")]),
        ("It is not at night, and the red disc is large.", []),  # synonyms; denied environment
        ("The red shape is a circle. The blue shape is a triangle.", [("triangle", "attribute")]),
        ("All the shapes are large.", [("large", "size")]),
        ("There is a tiny blue square in the middle.", [("in the middle", "position")]),
    ],
)
def test_claims_parser(text: str, spans: list[tuple[str, str]]) -> None:
    assert marked(text, judge_response(text, SCENE).spans) == spans


def test_without_environment_or_key() -> None:
    """A plain list of shapes has no known background; without a key nothing counts as answered."""
    objects = list(SCENE.objects)
    text = "There is a red circle on a snowy beach at night."
    assert judge(text, objects) == []
    assert marked(text, judge(text, SCENE)) == [("snowy", "environment"), ("night", "environment")]
    verdict = judge_response("There is a red circle.", SCENE)
    assert verdict.answer is None and verdict.rating == 3


def test_rubric_rule() -> None:
    assert [rate(False, "right", d, True) for d in (0, 1, 2, 5)] == [4, 5, 6, 6]
    assert rate(False, None, 3, True) == 3 and rate(False, "partly", 0, True) == 4
    assert rate(True, "right", 9, True) == 2 and rate(True, None, 0, True) == 1 and rate(True, "partly", 0, True) == 1
    assert rate(True, "wrong", 9, True) == 0 and rate(True, None, 0, False) == 0


def test_sample_record_field() -> None:
    field = sample_hallucination(
        "The circle is blue.",
        {"environment": "beach", "objects": [{"shape": "circle", "colour": "red", "column": 0, "row": 0, "size": "large"}]},
        COLOUR,
    )
    assert field == {"spans": [[14, 18, "attribute"]], "source": "shapes-judge"}
