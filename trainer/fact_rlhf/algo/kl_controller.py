"""KL coefficient controllers: fixed (the reference recipe) and adaptive (Ziegler et al. 2019)."""

from __future__ import annotations

from typing import Protocol


class KLController(Protocol):
    value: float

    def update(self, current_kl: float, n_steps: int) -> None: ...


class FixedKLController:
    """Constant coefficient; `update` is a no-op so callers can treat both kinds alike."""

    def __init__(self, coef: float) -> None:
        if coef < 0:
            raise ValueError(f"FixedKLController: coef must be >= 0, got {coef}")
        self.value = float(coef)

    def update(self, current_kl: float, n_steps: int) -> None:
        return None


class AdaptiveKLController:
    """Moves the coefficient so the observed KL tracks `target`.

    value *= 1 + clip(current_kl / target - 1, -0.2, 0.2) * n_steps / horizon
    """

    ERROR_CLIP = 0.2

    def __init__(self, init_coef: float, target: float, horizon: int) -> None:
        if init_coef < 0:
            raise ValueError(f"AdaptiveKLController: init_coef must be >= 0, got {init_coef}")
        if target <= 0:
            raise ValueError(f"AdaptiveKLController: target must be > 0, got {target}")
        if horizon <= 0:
            raise ValueError(f"AdaptiveKLController: horizon must be > 0, got {horizon}")
        self.value = float(init_coef)
        self.target = float(target)
        self.horizon = int(horizon)

    def update(self, current_kl: float, n_steps: int) -> None:
        error = current_kl / self.target - 1.0
        error = min(max(error, -self.ERROR_CLIP), self.ERROR_CLIP)
        self.value *= 1.0 + error * n_steps / self.horizon


def make_kl_controller(kind: str, coef: float, target: float, horizon: int = 10000) -> FixedKLController | AdaptiveKLController:
    """Build the controller named by the config's `kind` ("fixed" or "adaptive")."""
    if kind == "fixed":
        return FixedKLController(coef)
    if kind == "adaptive":
        return AdaptiveKLController(coef, target, horizon)
    raise ValueError(f"make_kl_controller: unknown kind {kind!r}; expected 'fixed' or 'adaptive'")
