"""Hand-computed checks of the score terms and shaped per-token rewards."""

import pytest
import torch

from fact_rlhf.algo import ScoreConfig, ScoreTerms, score_terms, shaped_rewards, symbolic_correctness


@pytest.mark.parametrize(
    ("response", "caption_type", "expected"),
    [
        # 1 = general caption: never rewarded, whatever the text.
        ("B. A red square.", 1, 0.0),
        ("The correct option is A.", 1, 0.0),
        # 2 = answer A.
        ("A. The cat.", 2, 1.0),
        ("   A. leading spaces are stripped", 2, 1.0),
        ("The correct option is A.", 2, 1.0),
        ("A", 2, 0.0),  # no period after the letter
        ("The correct option is A", 2, 0.0),  # no period
        ("B. wrong option", 2, 0.0),  # wrong options are not penalised
        # 3 = answer B: the letter is case-sensitive, as in the reference.
        ("B.", 3, 1.0),
        ("b.", 3, 0.0),
        ("The correct option is B.", 3, 1.0),
        ("The correct option is b.", 3, 0.0),
        ("I think the correct option is B. Because...", 3, 1.0),
        ("Correct Option is B.", 3, 0.0),
        ("A.", 3, 0.0),
        # 4 = answer C, 5 = answer D.
        ("C. a dog", 4, 1.0),
        ("D. a dog", 4, 0.0),
        ("D. a dog", 5, 1.0),
        ("Surely the correct option is D.", 5, 1.0),
        # 6 = ground truth "No": +0.5 for "No", -0.5 for "Yes", prefix match after strip.
        ("No, there is no dog.", 6, 0.5),
        ("  No", 6, 0.5),
        ("Yes, there is a dog.", 6, -0.5),
        ("no", 6, 0.0),
        ("There is no dog.", 6, 0.0),
        # 7 = ground truth "Yes": never rewarded nor penalised.
        ("Yes.", 7, 0.0),
        ("No.", 7, 0.0),
    ],
)
def test_symbolic_correctness(response: str, caption_type: int, expected: float) -> None:
    assert symbolic_correctness(response, caption_type) == expected


@pytest.mark.parametrize("caption_type", [0, 8, -1])
def test_symbolic_correctness_rejects_unknown_caption_type(caption_type: int) -> None:
    with pytest.raises(ValueError, match="caption_type"):
        symbolic_correctness("A.", caption_type)


@pytest.mark.parametrize(
    ("response", "tokens", "has_eos", "caption_type", "length_bonus", "expected"),
    [
        # length = -10 * 1 * 448 / 896 = -5; symbolic = 2 * 1 = 2; total -3
        ("B. A cat.", 448, True, 3, 1.0, (0.0, -5.0, 2.0, -3.0)),
        # no EOS: -8; length = -10 * 896 / 896 = -10; "b." earns nothing; total -18
        ("b. A cat.", 896, False, 3, 1.0, (-8.0, -10.0, 0.0, -18.0)),
        # general caption; negative length_bonus flips the term: -10 * -0.5 * 224 / 896 = +1.25
        ("A long description.", 224, True, 1, -0.5, (0.0, 1.25, 0.0, 1.25)),
        # answer A via "correct option is A."; length = -10 * 2 * 112 / 896 = -2.5; total -0.5
        ("The correct option is A.", 112, True, 2, 2.0, (0.0, -2.5, 2.0, -0.5)),
        # answer C / D: wrong letter -> 0; right letter -> 2; length -10 * 0.1 * 896 / 896 = -1
        ("D. x", 896, True, 4, 0.1, (0.0, -1.0, 0.0, -1.0)),
        ("D. x", 896, True, 5, 0.1, (0.0, -1.0, 2.0, 1.0)),
        # "No" item: 2 * 0.5 = 1 and 2 * -0.5 = -1; length 0 when length_bonus is 0
        ("No.", 10, True, 6, 0.0, (0.0, 0.0, 1.0, 1.0)),
        ("Yes.", 10, False, 6, 0.0, (-8.0, 0.0, -1.0, -9.0)),
        # "Yes" item: nothing
        ("Yes.", 10, True, 7, 0.0, (0.0, 0.0, 0.0, 0.0)),
    ],
)
def test_score_terms_default_config(
    response: str,
    tokens: int,
    has_eos: bool,
    caption_type: int,
    length_bonus: float,
    expected: tuple[float, float, float, float],
) -> None:
    terms = score_terms(response, tokens, has_eos, caption_type, length_bonus, ScoreConfig())
    assert (terms.eos_penalty, terms.length, terms.symbolic, terms.total) == pytest.approx(expected)


def test_score_terms_custom_config() -> None:
    cfg = ScoreConfig(no_eos_penalty=-3.0, length_penalty=-1.0, response_len=10, correct_choice_bonus=5.0)
    terms = score_terms("C.", 4, False, 4, 1.0, cfg)
    # -3; -1 * 1 * 4 / 10 = -0.4; 5 * 1 = 5; total 1.6
    assert terms == ScoreTerms(eos_penalty=-3.0, length=pytest.approx(-0.4), symbolic=5.0)
    assert terms.total == pytest.approx(1.6)
    with pytest.raises(ValueError, match="response_len"):
        score_terms("C.", 4, False, 4, 1.0, ScoreConfig(response_len=0))


KL = torch.tensor([[0.5, 1.0, 2.0, 9.0], [1.0, 0.0, 3.0, 4.0]])
MASK = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
SCORES = torch.tensor([3.0, -1.0])


def test_shaped_rewards_last_token() -> None:
    rewards = shaped_rewards(SCORES, KL, MASK, kl_coef=0.1)
    # -0.1*kl on real tokens: row0 [-0.05, -0.1, 0, 0], row1 [-0.1, 0, -0.3, -0.4];
    # score on the last real token: row0 index 1 (-0.1 + 3 = 2.9), row1 index 3 (-0.4 - 1 = -1.4)
    expected = torch.tensor([[-0.05, 2.9, 0.0, 0.0], [-0.1, 0.0, -0.3, -1.4]])
    torch.testing.assert_close(rewards, expected)


def test_shaped_rewards_last_slot_reference_quirk() -> None:
    rewards = shaped_rewards(SCORES, KL, MASK, kl_coef=0.1, score_at="last_slot")
    # row0's score lands on padded slot 3; row1 is full length so nothing changes there
    expected = torch.tensor([[-0.05, -0.1, 0.0, 3.0], [-0.1, 0.0, -0.3, -1.4]])
    torch.testing.assert_close(rewards, expected)


def test_shaped_rewards_scale_and_bool_mask() -> None:
    rewards = shaped_rewards(SCORES, KL, MASK.bool(), kl_coef=0.1, reward_scale=10.0)
    # everything x10, including the score
    expected = torch.tensor([[-0.5, 29.0, 0.0, 0.0], [-1.0, 0.0, -3.0, -14.0]])
    torch.testing.assert_close(rewards, expected)


def test_shaped_rewards_errors() -> None:
    with pytest.raises(ValueError, match="score_at"):
        shaped_rewards(SCORES, KL, MASK, 0.1, score_at="last")
    with pytest.raises(ValueError, match=r"rows \[0\]"):
        shaped_rewards(SCORES, KL, torch.tensor([[0, 0, 0, 0], [1, 1, 1, 1]]), 0.1)
    with pytest.raises(ValueError, match="scores shape"):
        shaped_rewards(torch.zeros(3), KL, MASK, 0.1)
