"""Hand-computed checks of the per-token KL estimators and the KL controllers."""

import pytest
import torch

from fact_rlhf.algo import AdaptiveKLController, FixedKLController, make_kl_controller, per_token_kl

LOGP = torch.tensor([[-1.0, -2.0, -0.5]])
REF = torch.tensor([[-1.5, -1.0, -0.5]])


def test_k1_clamped_and_raw() -> None:
    # logp - ref = [0.5, -1.0, 0.0]; clamping removes the negative one
    torch.testing.assert_close(per_token_kl(LOGP, REF), torch.tensor([[0.5, 0.0, 0.0]]))
    torch.testing.assert_close(per_token_kl(LOGP, REF, clamp=False), torch.tensor([[0.5, -1.0, 0.0]]))


def test_k3() -> None:
    # log r = ref - logp = [-0.5, 1.0, 0]; k3 = r - 1 - log r
    # exp(-0.5) - 1 + 0.5 = 0.6065307 - 0.5 = 0.1065307; e - 1 - 1 = 0.7182818; 1 - 1 - 0 = 0
    expected = torch.tensor([[0.1065307, 0.7182818, 0.0]])
    torch.testing.assert_close(per_token_kl(LOGP, REF, "k3"), expected)
    torch.testing.assert_close(per_token_kl(LOGP, REF, "k3", clamp=False), expected)


def test_kl_errors() -> None:
    with pytest.raises(ValueError, match="unknown estimator 'k2'"):
        per_token_kl(LOGP, REF, "k2")
    with pytest.raises(ValueError, match="shape"):
        per_token_kl(LOGP, REF[:, :2])


def test_fixed_controller_never_moves() -> None:
    ctl = FixedKLController(0.1)
    ctl.update(current_kl=50.0, n_steps=512)
    assert ctl.value == 0.1


def test_adaptive_controller_update() -> None:
    ctl = AdaptiveKLController(init_coef=0.1, target=6.0, horizon=10000)
    # error = 9/6 - 1 = 0.5, clipped to 0.2; x (1 + 0.2 * 512 / 10000) = x 1.01024 -> 0.101024
    ctl.update(current_kl=9.0, n_steps=512)
    assert ctl.value == pytest.approx(0.101024, abs=1e-12)
    # error = 5.4/6 - 1 = -0.1 (inside the clip); x (1 - 0.1 * 1000 / 10000) = x 0.99 -> 0.10001376
    ctl.update(current_kl=5.4, n_steps=1000)
    assert ctl.value == pytest.approx(0.10001376, abs=1e-12)
    # error = 0/6 - 1 = -1, clipped to -0.2; x (1 - 0.2 * 10000 / 10000) = x 0.8 -> 0.080011008
    ctl.update(current_kl=0.0, n_steps=10000)
    assert ctl.value == pytest.approx(0.080011008, abs=1e-12)


def test_make_kl_controller() -> None:
    fixed = make_kl_controller("fixed", 0.1, target=6.0)
    assert isinstance(fixed, FixedKLController) and fixed.value == 0.1
    adaptive = make_kl_controller("adaptive", 0.2, target=6.0, horizon=100)
    assert isinstance(adaptive, AdaptiveKLController)
    adaptive.update(12.0, 10)  # error clipped to 0.2: 0.2 * (1 + 0.2 * 10 / 100) = 0.204
    assert adaptive.value == pytest.approx(0.204)
    with pytest.raises(ValueError, match="unknown kind 'pid'"):
        make_kl_controller("pid", 0.1, 6.0)
    with pytest.raises(ValueError, match="target"):
        make_kl_controller("adaptive", 0.1, 0.0)
