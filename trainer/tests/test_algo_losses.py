"""Hand-computed checks of the PPO losses, entropy and the pairwise reward-model loss."""

import math

import pytest
import torch

from fact_rlhf.algo import entropy_from_logits, masked_mean, pairwise_loss, policy_loss, value_loss


def test_masked_mean() -> None:
    x = torch.tensor([[1.0, 2.0, 100.0], [3.0, 4.0, 5.0]])
    # (1 + 2 + 3 + 4 + 5) / 5 = 3
    assert masked_mean(x, torch.tensor([[1, 1, 0], [1, 1, 1]])).item() == pytest.approx(3.0)
    with pytest.raises(ValueError, match="no entries"):
        masked_mean(x, torch.zeros(2, 3))


# Ratios r = [1.5, 0.5, 1.1, 1.5, 3.0] (last token is padding), clip 0.2 -> [0.8, 1.2].
OLD = torch.full((1, 5), -1.0)
RATIOS = torch.tensor([[1.5, 0.5, 1.1, 1.5, 3.0]])
ADV = torch.tensor([[1.0, -2.0, 0.5, -1.0, 7.0]])
PG_MASK = torch.tensor([[1, 1, 1, 1, 0]])


def test_policy_loss_in_and_out_of_clip_region() -> None:
    logprobs = (OLD + torch.log(RATIOS)).requires_grad_(True)
    loss, stats = policy_loss(logprobs, OLD, ADV, PG_MASK, clip_range=0.2)
    # per token max(-A*r, -A*clip(r)):
    #  t0 r=1.5 A=1:  max(-1.5, -1.2) = -1.2  (clipped term active)
    #  t1 r=0.5 A=-2: max(1.0, 1.6)   = 1.6   (clipped term active)
    #  t2 r=1.1 A=.5: max(-.55, -.55) = -0.55 (inside the region)
    #  t3 r=1.5 A=-1: max(1.5, 1.2)   = 1.5   (outside, but the unclipped term is larger)
    # mean = (-1.2 + 1.6 - 0.55 + 1.5) / 4 = 0.3375
    assert loss.item() == pytest.approx(0.3375, abs=1e-6)
    assert stats["clipfrac"] == pytest.approx(0.5)
    # approx_kl = 0.5 * (ln1.5^2 + ln0.5^2 + ln1.1^2 + ln1.5^2) / 4
    #           = 0.5 * (0.1644020 + 0.4804530 + 0.0090840 + 0.1644020) / 4 = 0.1022926
    assert stats["approx_kl"] == pytest.approx(0.1022926, abs=1e-6)
    loss.backward()
    # gradient flows only through the unclipped tokens: d/dlogp (-A*r)/4 = -A*r/4
    #  t2: -0.5*1.1/4 = -0.1375; t3: 1*1.5/4 = 0.375; clipped tokens and padding: 0
    assert logprobs.grad is not None
    torch.testing.assert_close(logprobs.grad, torch.tensor([[0.0, 0.0, -0.1375, 0.375, 0.0]]))


def test_policy_loss_on_policy_is_minus_mean_advantage() -> None:
    # ratio 1 everywhere: loss = -mean(A) = -(1 - 2 + 0.5 - 1) / 4 = 0.375, nothing clipped
    loss, stats = policy_loss(OLD.clone(), OLD, ADV, PG_MASK, clip_range=0.2)
    assert loss.item() == pytest.approx(0.375)
    assert stats == {"clipfrac": 0.0, "approx_kl": 0.0}


def test_value_loss_in_and_out_of_clip_region() -> None:
    old = torch.zeros(1, 4)
    values = torch.tensor([[0.1, 0.5, 0.5, 0.3]])
    returns = torch.tensor([[0.3, 0.0, 1.0, 9.0]])
    mask = torch.tensor([[1, 1, 1, 0]])
    loss, stats = value_loss(values, old, returns, mask, clip_range=0.2)
    # t0 v=0.1 inside [-0.2, 0.2]: (0.1-0.3)^2 = 0.04 both ways
    # t1 v=0.5 -> clipped 0.2, R=0: max(0.25, 0.04) = 0.25 (unclipped larger)
    # t2 v=0.5 -> clipped 0.2, R=1: max(0.25, 0.64) = 0.64 (clipped larger)
    # t3 padding. loss = 0.5 * (0.04 + 0.25 + 0.64) / 3 = 0.155
    assert loss.item() == pytest.approx(0.155, abs=1e-6)
    assert stats["vf_clipfrac"] == pytest.approx(1 / 3)


def test_entropy_from_logits() -> None:
    logits = torch.tensor([[[0.0, 0.0], [math.log(3.0), 0.0], [10.0, -10.0]]])
    # t0 uniform over 2: ln 2 = 0.6931472
    # t1 p = [0.75, 0.25]: -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.2157616 + 0.3465736 = 0.5623351
    # t2 padding. mean = (0.6931472 + 0.5623351) / 2 = 0.6277411
    ent = entropy_from_logits(logits, torch.tensor([[1, 1, 0]]))
    assert ent.item() == pytest.approx(0.6277411, abs=1e-6)


R_A = torch.tensor([1.0, 0.5, 0.0])
R_B = torch.tensor([2.0, 0.0, 0.0])
B_PREF = torch.tensor([1, 1, 0])


def test_pairwise_loss_with_centering() -> None:
    loss, stats = pairwise_loss(R_A, R_B, B_PREF)
    # logits r_b - r_a = [1.0, -0.5, 0.0], labels [1, 1, 0]
    # BCE = [ln(1+e^-1), ln(1+e^0.5), ln 2] = [0.3132617, 0.9740770, 0.6931472], mean 0.6601620
    # centering: 1e-3 * |mean([3.0, 0.5, 0.0])| = 1e-3 * 1.1666667 = 0.0011667 -> 0.6613286
    assert loss.item() == pytest.approx(0.6613286, abs=1e-6)
    # pair0: b preferred and higher (yes); pair1: b preferred but lower (no); pair2: tie (no)
    assert stats["accuracy"] == pytest.approx(1 / 3)
    # (1 + 0.5 + 0 + 2 + 0 + 0) / 6 = 0.5833333
    assert stats["mean_score"] == pytest.approx(0.5833333, abs=1e-6)
    big, _ = pairwise_loss(R_A, R_B, B_PREF.bool(), centering_coef=0.1)
    # 0.6601620 + 0.1 * 1.1666667 = 0.7768287
    assert big.item() == pytest.approx(0.7768287, abs=1e-6)
    # centering is an absolute value: negative scores are pushed up the same way
    neg, _ = pairwise_loss(-R_B, -R_A, B_PREF.float(), centering_coef=0.1)
    # logits -r_a - (-r_b) are the same [1.0, -0.5, 0.0], so the loss is identical
    assert neg.item() == pytest.approx(0.7768287, abs=1e-6)


def test_pairwise_loss_errors() -> None:
    with pytest.raises(ValueError, match="0/1"):
        pairwise_loss(R_A, R_B, torch.tensor([1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="same"):
        pairwise_loss(R_A, R_B[:2], B_PREF[:2])
