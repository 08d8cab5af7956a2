"""Python packages the trainer needs, checked before use so the message says what to install.
No third-party imports here: this runs before any of them is known to exist."""
from __future__ import annotations

import importlib.util

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


def missing_packages(packages: dict[str, str]) -> list[str]:
    """One message per package that cannot be imported."""
    return [
        f"missing Python package '{pip}': run scripts/setup-python.sh or pip install {pip}"
        for module, pip in packages.items()
        if importlib.util.find_spec(module) is None
    ]


def require_packages(packages: dict[str, str]) -> None:
    problems = missing_packages(packages)
    if problems:
        raise EnvironmentProblem("\n".join(problems))
