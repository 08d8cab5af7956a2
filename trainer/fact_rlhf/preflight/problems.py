"""One preflight problem: a machine code, the key it is about, and the text users read.

Codes are the language server's diagnostic codes (language-server/src/engine/crossRules.ts,
schemaRules.ts, pathRules.ts) where both sides check the same rule, so the conformance corpus
(schema/conformance/) can compare them; checks only the trainer makes have codes of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config import ExperimentConfig
from ..config.schema import dotted
from ..config.yaml_source import JsonPath
from ..errors import ConfigError

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    code: str  # e.g. batch-divisibility, length-budget, missing-data, inert-key
    path: JsonPath  # the key, e.g. ("ppo", "step_batch_size")
    message: str  # what is wrong, without the location
    text: str  # `file:line: key: message`, exactly as the CLI prints it
    severity: Severity = "error"

    @property
    def key(self) -> str:
        """The dotted key path, as the language server's corpus writes it (`ppo.step_batch_size`)."""
        return dotted(self.path)


class Collector:
    """Gathers every problem of one config, so the user sees them all at once."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        self.problems: list[Problem] = []

    def _add(self, severity: Severity, code: str, path: JsonPath, message: str) -> None:
        self.problems.append(Problem(code, tuple(path), message, self.config.problem(path, message), severity))

    def error(self, path: JsonPath, message: str, code: str) -> None:
        self._add("error", code, path, message)

    def warn(self, path: JsonPath, message: str, code: str) -> None:
        self._add("warning", code, path, message)

    @property
    def errors(self) -> list[str]:
        return [p.text for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[str]:
        return [p.text for p in self.problems if p.severity == "warning"]

    def raise_errors(self) -> list[str]:
        """Raises ConfigError with every error (the stage entry points' contract); returns the warnings."""
        if self.errors:
            raise ConfigError(self.errors)
        return self.warnings
