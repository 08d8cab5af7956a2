"""Hand-computed checks of GAE and masked whitening (single process)."""

import math

import pytest
import torch

from fact_rlhf.algo import compute_gae, shaped_rewards, whiten

REWARDS = torch.tensor([[0.5, -0.2, 1.0]])
VALUES = torch.tensor([[0.3, 0.1, 0.4]])
FULL = torch.ones(1, 3)


def test_gae_gamma_lambda_one_is_reward_to_go_minus_value() -> None:
    adv, ret = compute_gae(REWARDS, VALUES, FULL, gamma=1.0, lam=1.0)
    # reward-to-go = [0.5-0.2+1.0, -0.2+1.0, 1.0] = [1.3, 0.8, 1.0]; minus values [0.3, 0.1, 0.4]
    torch.testing.assert_close(adv, torch.tensor([[1.0, 0.7, 0.6]]))
    # returns = advantages + values = reward-to-go
    torch.testing.assert_close(ret, torch.tensor([[1.3, 0.8, 1.0]]))


def test_gae_discounted() -> None:
    adv, ret = compute_gae(REWARDS, VALUES, FULL, gamma=0.9, lam=0.8)
    # deltas: d2 = 1.0 - 0.4 = 0.6; d1 = -0.2 + 0.9*0.4 - 0.1 = 0.06; d0 = 0.5 + 0.9*0.1 - 0.3 = 0.29
    # gamma*lam = 0.72: A2 = 0.6; A1 = 0.06 + 0.72*0.6 = 0.492; A0 = 0.29 + 0.72*0.492 = 0.64424
    torch.testing.assert_close(adv, torch.tensor([[0.64424, 0.492, 0.6]]))
    torch.testing.assert_close(ret, torch.tensor([[0.94424, 0.592, 1.0]]))


# Row 0 has 2 real tokens (slot 2 is padding with a huge junk value); row 1 is full length.
PAD_MASK = torch.tensor([[1, 1, 0], [1, 1, 1]])
PAD_VALUES = torch.tensor([[0.5, 1.0, 100.0], [0.2, 0.4, 0.6]])
PAD_SCORES = torch.tensor([2.0, 1.0])


def _rewards(score_at: str) -> torch.Tensor:
    return shaped_rewards(PAD_SCORES, torch.zeros(2, 3), PAD_MASK, kl_coef=0.1, score_at=score_at)


@pytest.mark.parametrize("score_at", ["last_token", "last_slot"])
def test_gae_padding_gamma_one_same_for_both_score_placements(score_at: str) -> None:
    adv, ret = compute_gae(_rewards(score_at), PAD_VALUES, PAD_MASK, gamma=1.0, lam=1.0)
    # row0: A = [2 - 0.5, 2 - 1.0, pad 0]; row1: A = [1 - 0.2, 1 - 0.4, 1 - 0.6]
    torch.testing.assert_close(adv, torch.tensor([[1.5, 1.0, 0.0], [0.8, 0.6, 0.4]]))
    torch.testing.assert_close(ret, torch.tensor([[2.0, 2.0, 0.0], [1.0, 1.0, 1.0]]))


def test_gae_padding_value_does_not_leak() -> None:
    adv, _ = compute_gae(_rewards("last_token"), PAD_VALUES, PAD_MASK, gamma=0.9, lam=0.8)
    # row0 ends at slot 1: d1 = 2 + 0.9*0 - 1.0 = 1.0 (the junk 100 is not bootstrapped);
    # d0 = 0 + 0.9*1.0 - 0.5 = 0.4; A0 = 0.4 + 0.72*1.0 = 1.12
    # row1: d2 = 1 - 0.6 = 0.4; d1 = 0.9*0.6 - 0.4 = 0.14; d0 = 0.9*0.4 - 0.2 = 0.16
    #       A2 = 0.4; A1 = 0.14 + 0.72*0.4 = 0.428; A0 = 0.16 + 0.72*0.428 = 0.46816
    torch.testing.assert_close(adv, torch.tensor([[1.12, 1.0, 0.0], [0.46816, 0.428, 0.4]]))


def test_gae_last_slot_is_discounted_across_padding() -> None:
    adv, _ = compute_gae(_rewards("last_slot"), PAD_VALUES, PAD_MASK, gamma=0.9, lam=0.8)
    # row0: score 2 sits on padded slot 2: d2 = 2; d1 = 0 + 0 - 1.0 = -1; d0 = 0.9*1.0 - 0.5 = 0.4
    #       A1 = -1 + 0.72*2 = 0.44; A0 = 0.4 + 0.72*0.44 = 0.7168; slot 2 reported as 0
    torch.testing.assert_close(adv[0], torch.tensor([0.7168, 0.44, 0.0]))


def test_gae_shape_error() -> None:
    with pytest.raises(ValueError, match="same"):
        compute_gae(REWARDS, VALUES[:, :2], FULL, 1.0, 1.0)


X = torch.tensor([[1.0, 2.0, 3.0, 99.0], [4.0, 5.0, 6.0, -50.0]])
X_MASK = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 0]])


def test_whiten_masked_batch() -> None:
    out = whiten(X, X_MASK)
    # masked entries 1..6: mean 3.5; population var = (6.25+2.25+0.25+0.25+2.25+6.25)/6 = 17.5/6
    # std = sqrt(2.9166667) = 1.7078251; (x - 3.5)/std for 1..6:
    expected = torch.tensor([[-1.4638501, -0.8783101, -0.2927700, 0.0], [0.2927700, 0.8783101, 1.4638501, 0.0]])
    torch.testing.assert_close(out, expected)
    real = out[X_MASK.bool()]
    assert real.mean().item() == pytest.approx(0.0, abs=1e-6)
    assert real.var(unbiased=False).item() == pytest.approx(1.0, abs=1e-6)


def test_whiten_keep_mean() -> None:
    out = whiten(X, X_MASK.bool(), shift_mean=False)
    # same scaling, mean 3.5 added back; padding still 0
    expected = torch.tensor([[2.0361499, 2.6216899, 3.2072300, 0.0], [3.7927700, 4.3783101, 4.9638501, 0.0]])
    torch.testing.assert_close(out, expected)


def test_whiten_constant_input_uses_eps() -> None:
    # var 0: (x - mean) = 0 everywhere, so the result is exactly 0 (no nan from 0/0)
    out = whiten(torch.full((2, 2), 7.0), torch.ones(2, 2))
    assert torch.equal(out, torch.zeros(2, 2))
    assert not math.isnan(out.sum().item())


def test_whiten_empty_mask_is_an_error() -> None:
    with pytest.raises(ValueError, match="no entries"):
        whiten(X, torch.zeros_like(X_MASK))
