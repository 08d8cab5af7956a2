"""Python packages the trainer needs, checked before use so the message says what to install.
No third-party imports here: this runs before any of them is known to exist."""

from __future__ import annotations

import importlib.util
import os

from .errors import EnvironmentProblem

# import name → pip name
CORE_PACKAGES = {"yaml": "pyyaml", "jsonschema": "jsonschema"}
TRAINER_PACKAGES = {
    "torch": "torch",
    "transformers": "transformers",
    "peft": "peft",
    "safetensors": "safetensors",
    "tokenizers": "tokenizers",
    "PIL": "pillow",
}


# How to set the environment up, as the launcher sees it: the editor names its own command, since
# scripts/setup-python.sh inside an installed extension is nowhere the user can run it.
SETUP_HINT_ENV = "FACT_RLHF_SETUP_HINT"


def missing_packages(packages: dict[str, str]) -> list[str]:
    """One message per package that cannot be imported."""
    hint = os.environ.get(SETUP_HINT_ENV) or "run scripts/setup-python.sh"
    return [
        f"missing Python package '{pip}': {hint} or pip install {pip}"
        for module, pip in packages.items()
        if importlib.util.find_spec(module) is None
    ]


def require_packages(packages: dict[str, str]) -> None:
    problems = missing_packages(packages)
    if problems:
        raise EnvironmentProblem("\n".join(problems))
