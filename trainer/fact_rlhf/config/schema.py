"""The shared JSON Schemas (repo `schema/`): where they are, validation messages, defaults."""

from __future__ import annotations

import copy
import difflib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import jsonschema

from ..errors import EnvironmentProblem
from .yaml_source import JsonPath

SCHEMA_ENV = "FACT_RLHF_SCHEMA_DIR"


def schema_dir() -> Path:
    """`$FACT_RLHF_SCHEMA_DIR`, else `<repo>/schema` next to `trainer/`."""
    override = os.environ.get(SCHEMA_ENV)
    folder = Path(override) if override else Path(__file__).resolve().parents[3] / "schema"
    if not (folder / "experiment.schema.json").is_file():
        raise EnvironmentProblem(
            f"cannot find the config schema experiment.schema.json in {folder}; "
            f"set {SCHEMA_ENV} to the folder that holds the project's schema/*.schema.json"
        )
    return folder


@lru_cache(maxsize=None)
def _load(folder: str, name: str) -> dict[str, Any]:
    with open(os.path.join(folder, name), encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema


def load_schema(name: str) -> dict[str, Any]:
    """One schema by file name, e.g. `run-event.schema.json` (cached)."""
    return _load(str(schema_dir()), name)


def validator(name: str) -> jsonschema.protocols.Validator:
    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object", type(None): "null"}


def json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def dotted(path: JsonPath) -> str:
    """`ppo.kl_coef`, `model.lora.target_modules[2]`; `(root)` for the document itself."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


class Problem:
    """One schema violation: where (path; `at_key` when the key itself is wrong) and what."""

    def __init__(self, path: JsonPath, message: str, at_key: bool = False) -> None:
        self.path = path
        self.message = message
        self.at_key = at_key


def _unknown_keys(error: jsonschema.ValidationError) -> Iterator[Problem]:
    known = list(error.schema.get("properties", {}))
    for key in error.instance:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(known)}"
        yield Problem(tuple(error.absolute_path) + (str(key),), f"unknown key{hint}", at_key=True)


def _describe(error: jsonschema.ValidationError) -> str:
    v, arg, inst = error.validator, error.validator_value, error.instance
    if v == "type":
        expected = " or ".join(arg) if isinstance(arg, list) else arg
        return f"expected {expected}, got {json_type(inst)} {_show(inst)}"
    if v == "enum":
        return f"expected one of {', '.join(_show(x) for x in arg)}, got {_show(inst)}"
    if v == "const":
        return f"must be {_show(arg)}, got {_show(inst)}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[v]
        return f"must be {op} {arg}, got {_show(inst)}"
    return error.message


def schema_problems(instance: Any, name: str = "experiment.schema.json") -> list[Problem]:
    """Every violation of the named schema, with a readable message each."""
    problems: list[Problem] = []
    for error in validator(name).iter_errors(instance):
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            problems.extend(_unknown_keys(error))
        else:
            problems.append(Problem(tuple(error.absolute_path), _describe(error)))
    return problems


def with_defaults(config: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A copy of `config` with every absent key that has a schema `default` filled in; absent
    sections (object properties without a default) are created so all their defaults appear."""
    schema = schema if schema is not None else load_schema("experiment.schema.json")
    out = copy.deepcopy(config)
    for key, sub in schema.get("properties", {}).items():
        if key not in out:
            if "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
            elif sub.get("type") == "object":
                out[key] = {}
        if sub.get("type") == "object" and isinstance(out.get(key), dict):
            out[key] = with_defaults(out[key], sub)
    return out
