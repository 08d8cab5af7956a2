"""Exact text of the policy prompt and the (fact-augmented) reward-model input."""

import random

import pytest

from fact_rlhf.algo import RM_SCORE_SUFFIX_END, policy_prompt, rm_input

SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. The assistant gives "
    "helpful, detailed, and polite answers to the user's questions."
)
CONV = [
    {"from": "human", "value": "<image>\nWhat shapes are there?"},
    {"from": "gpt", "value": "A reference answer that the judged response replaces."},
]
FACTS = ["A red circle is on the left.", "A blue square is on the right.", "There are two shapes."]

DIALOGUE = SYSTEM + " USER: <image>\nWhat shapes are there? ASSISTANT: A red circle and a blue square.</s>"
CRITIQUE_HEAD = (
    "USER: Please evaluate the quality of your last response against the following four criteria.\n"
    "1. Accurate: the response should describe only what the image shows and must not state "
    "anything the image does not support."
)
CRITIQUE_TAIL = (
    "\n2. Helpful: the response should answer exactly what the user asked, grounded in the image.\n"
    "3. Natural language: the response should read fluently, without repetition or awkward phrasing.\n"
    "4. Concise: the response should give the needed information clearly and briefly.\n"
    "A good response is accurate, helpful, natural and concise."
    " ASSISTANT: Following these criteria, the quality score of my last response is"
)
FACTS_SENTENCE = " In particular, the response must be supported by the following facts about the image:"


def test_policy_prompt_uses_first_human_turn() -> None:
    conv = CONV + [{"from": "human", "value": "And colours?"}, {"from": "gpt", "value": "Red."}]
    assert policy_prompt(conv) == SYSTEM + " USER: <image>\nWhat shapes are there? ASSISTANT:"


def test_rm_input_plain_rlhf() -> None:
    text = rm_input(CONV, "  A red circle and a blue square. ", None)
    assert text == DIALOGUE + CRITIQUE_HEAD + CRITIQUE_TAIL
    assert text.endswith(RM_SCORE_SUFFIX_END)
    # an empty fact list has nothing to cite: same text as plain RLHF
    assert rm_input(CONV, "A red circle and a blue square.", []) == text


def test_rm_input_with_facts_in_given_order() -> None:
    text = rm_input(CONV, "A red circle and a blue square.", FACTS)
    bullets = "\n  - A red circle is on the left.\n  - A blue square is on the right.\n  - There are two shapes."
    assert text == DIALOGUE + CRITIQUE_HEAD + FACTS_SENTENCE + bullets + CRITIQUE_TAIL


def test_rm_input_facts_shuffled_by_seeded_rng_without_mutating_input() -> None:
    facts = list(FACTS)
    text = rm_input(CONV, "A red circle and a blue square.", facts, random.Random(1))
    # random.Random(1).shuffle of 3 items gives order [1, 2, 0] of the input
    bullets = "\n  - A blue square is on the right.\n  - There are two shapes.\n  - A red circle is on the left."
    assert text == DIALOGUE + CRITIQUE_HEAD + FACTS_SENTENCE + bullets + CRITIQUE_TAIL
    assert facts == FACTS
    # same seed, same text
    assert rm_input(CONV, "A red circle and a blue square.", facts, random.Random(1)) == text


def test_rm_input_multi_turn_and_fact_cleanup() -> None:
    conv = [
        {"from": "human", "value": "<image>\nQ1"},
        {"from": "gpt", "value": "A1"},
        {"from": "human", "value": "Q2"},
    ]
    text = rm_input(conv, "A2", ["  two\nlines  ", "   "])
    expected = (
        SYSTEM
        + " USER: <image>\nQ1 ASSISTANT: A1</s>USER: Q2 ASSISTANT: A2</s>"
        + CRITIQUE_HEAD
        + FACTS_SENTENCE
        + "\n  - two lines"
        + CRITIQUE_TAIL
    )
    assert text == expected


@pytest.mark.parametrize(
    ("conv", "message"),
    [
        ([{"from": "gpt", "value": "x"}], "no human turn"),
        ([{"from": "human", "value": "a"}, {"from": "human", "value": "b"}], r"conversations\[1\]\.from"),
        ([{"from": "user", "value": "a"}], r"conversations\[0\]\.from"),
        ([{"from": "human", "value": 3}], r"conversations\[0\]\.value"),
    ],
)
def test_rm_input_rejects_malformed_conversations(conv: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rm_input(conv, "r", None)  # type: ignore[arg-type]


def test_policy_prompt_without_human_turn() -> None:
    with pytest.raises(ValueError, match="no turn with from='human'"):
        policy_prompt([{"from": "gpt", "value": "x"}])
