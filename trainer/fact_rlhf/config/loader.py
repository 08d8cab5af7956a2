"""Loads an experiment config: YAML → `extends` chain → schema check → defaults → absolute paths.

Every problem is reported as `file:line: key: message`, pointing into the file that set the key.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from .schema import dotted, load_schema, schema_problems, with_defaults
from .yaml_source import JsonPath, YamlDocument, YamlShapeError, duplicate_keys, leaf_paths, parse_yaml


# Keys holding file or folder paths; relative ones are resolved against the file that set them.
@functools.lru_cache(maxsize=1)
def _schema_path_keys() -> tuple[JsonPath, ...]:
    """Keys the schema marks `x-path` (files and folders relative to the config that set them) —
    the same annotation the language server reads — plus `output_dir`, which need not exist yet."""
    found: list[JsonPath] = [("output_dir",)]

    def walk(node: dict[str, Any], path: JsonPath) -> None:
        for key, sub in node.get("properties", {}).items():
            if "x-path" in sub:
                found.append((*path, key))
            walk(sub, (*path, key))

    walk(load_schema("experiment.schema.json"), ())
    return tuple(found)


MAX_EXTENDS_DEPTH = 16


def display_path(path: Path) -> str:
    """The path relative to the working directory when it lies below it, else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


@dataclass
class ExperimentConfig:
    """A resolved experiment config and where each of its keys came from."""

    path: Path
    data: dict[str, Any]
    # (file, line) of every key some file set; defaults have none.
    sources: dict[JsonPath, tuple[str, int]] = field(default_factory=dict)
    chain: list[Path] = field(default_factory=list)
    # Path keys written with `$VAR`/`${VAR}` (dotted key -> the text as written), and the
    # variables they expanded (name -> value): errors, events and run.json show the name.
    given_paths: dict[str, str] = field(default_factory=dict)
    expanded: dict[str, str] = field(default_factory=dict)

    def redact(self, value: Any) -> Any:
        """`value` (a string, or strings inside lists and mappings) with every expanded
        variable's value replaced by `${NAME}`: an environment value may be a secret."""
        return redact_values(value, self.expanded)

    def get(self, dotted_key: str) -> Any:
        node: Any = self.data
        for part in dotted_key.split("."):
            node = node[part]
        return node

    def where(self, path: JsonPath) -> str:
        """`file:line` of the key (or its nearest set ancestor); the main file's line 1 otherwise."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.sources:
                file, line = self.sources[path[:n]]
                return f"{file}:{line}"
        return f"{display_path(self.path)}:1"

    def problem(self, path: JsonPath, message: str) -> str:
        return f"{self.where(path)}: {dotted(path)}: {message}"

    def hash(self) -> str:
        text = json.dumps(self.data, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def stem(self) -> str:
        """The config's file name without `.rlhf.yaml` / `.yaml`."""
        from .annotations import run_folder_rule

        name = self.path.name
        for suffix in run_folder_rule()["stem_suffixes"]:
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name


def _read_document(path: Path, referrer: str | None) -> YamlDocument:
    shown = display_path(path)
    if not path.is_file():
        where = f"{referrer}: extends: " if referrer else ""
        raise ConfigError([f"{where}config file not found: {shown}" if where else f"{shown}: config file not found"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{shown}: cannot read config file: {exc}"]) from exc
    try:
        doc = parse_yaml(text, shown)
    except YamlShapeError as exc:
        raise ConfigError([f"{shown}:{exc.line}: YAML: {exc.message}"]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError([f"{shown}:{line}: YAML syntax error: {exc.problem or exc.context}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"{shown}:1: YAML error: {exc}"]) from exc
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise ConfigError([f"{shown}:1: (root): expected a mapping of config keys, got {type(doc.data).__name__}"])
    return doc


def _check_document(doc: YamlDocument) -> list[str]:
    problems = [f"{doc.path}:{line}: {dotted(p)}: duplicate key" for p, line in duplicate_keys(doc)]
    for pr in schema_problems(doc.data):
        problems.append(f"{doc.path}:{doc.line_of(pr.path, key=pr.at_key)}: {dotted(pr.path)}: {pr.message}")
    return problems


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key, everything else (lists too) is replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
# Shorter values would turn up inside unrelated words of a message (and are no secret).
_MIN_REDACTED = 4


def redact_values(value: Any, expanded: dict[str, str]) -> Any:
    """See ExperimentConfig.redact."""
    if not expanded:
        return value
    if isinstance(value, str):
        for name, text in sorted(expanded.items(), key=lambda kv: -len(kv[1])):
            if len(text) >= _MIN_REDACTED:
                value = value.replace(text, "${" + name + "}")
        return value
    if isinstance(value, dict):
        return {k: redact_values(v, expanded) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_values(v, expanded) for v in value]
    return value


def _resolve_paths(data: dict[str, Any], owners: dict[JsonPath, Path], main: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Makes path keys absolute (expanding `~` and environment variables); returns the keys
    that named a variable (as written) and the variables' values."""
    given: dict[str, str] = {}
    expanded: dict[str, str] = {}
    for path in _schema_path_keys():
        parent: Any = data
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        value = parent.get(path[-1])
        if not isinstance(value, str) or value == "" or value.startswith("builtin:"):
            continue
        base = owners.get(path, main).parent
        names = [a or b for a, b in _VARIABLE.findall(value) if (a or b) in os.environ]
        if names:
            given[dotted(path)] = value
            expanded.update({name: os.environ[name] for name in names})
        parent[path[-1]] = str((base / os.path.expanduser(os.path.expandvars(value))).resolve())
    return given, expanded


def load_config(path: str | os.PathLike[str]) -> ExperimentConfig:
    """Reads, merges (`extends`), validates and completes a config; raises ConfigError."""
    main = Path(path).resolve()
    docs: list[YamlDocument] = []
    files: list[Path] = []
    current, referrer = main, None
    while True:
        if current in files:
            raise ConfigError([f"{referrer}: extends: cycle through {display_path(current)}"])
        if len(files) >= MAX_EXTENDS_DEPTH:
            raise ConfigError([f"{referrer}: extends: chain longer than {MAX_EXTENDS_DEPTH} files"])
        doc = _read_document(current, referrer)
        problems = _check_document(doc)
        if problems:
            raise ConfigError(problems)
        docs.append(doc)
        files.append(current)
        parent = doc.data.get("extends")
        if not parent:
            break
        referrer = f"{doc.path}:{doc.line_of(('extends',))}"
        current = (current.parent / parent).resolve()

    merged: dict[str, Any] = {}
    sources: dict[JsonPath, tuple[str, int]] = {}
    owners: dict[JsonPath, Path] = {}
    for doc, file in zip(reversed(docs), reversed(files)):  # base first, the main file last
        merged = _merge(merged, doc.data)
        for p in leaf_paths(doc.data):
            sources[p] = (doc.path, doc.line_of(p))
            owners[p] = file
    merged.pop("extends", None)
    sources.pop(("extends",), None)

    config = ExperimentConfig(path=main, data=merged, sources=sources, chain=files)
    problems = [config.problem(p.path, p.message) for p in schema_problems(merged)]
    if problems:
        raise ConfigError(problems)
    config.data = with_defaults(merged)
    config.given_paths, config.expanded = _resolve_paths(config.data, owners, main)
    return config
