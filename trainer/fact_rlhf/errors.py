"""Error types the CLI maps to exit codes (2: the run could not start as configured; 1: it failed)."""

from __future__ import annotations


class UsageError(Exception):
    """Bad command line, config, data or environment, found before any model is loaded (exit 2)."""


class ConfigError(UsageError):
    """One or more problems in a config file; each line reads `file:line: key: message`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class DataError(UsageError):
    """A data file or record is malformed; the message names the file and the record index."""


class EnvironmentProblem(UsageError):
    """A required Python package or device is missing."""
