"""Typed views of config sections: a frozen dataclass per section a trainer reads, built once
from the loaded config (defaults already filled in from the schema) with a clear error for a
missing key or a value of the wrong type, so trainers read fields, not dict keys."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import TYPE_CHECKING, Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from ..errors import UsageError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Section = TypeVar("Section", bound="DataclassInstance")


def _optional(kind: Any) -> bool:
    return get_origin(kind) in (Union, types.UnionType) and type(None) in get_args(kind)


def _convert(value: Any, kind: Any, where: str) -> Any:
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        options = get_args(kind)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is not type(None):
                return _convert(value, option, where)
    if origin is Literal:
        if value not in get_args(kind):
            raise UsageError(f"{where} must be one of {', '.join(map(repr, get_args(kind)))}, got {value!r}")
        return value
    # bool is an int in Python; a config's true is not a number, nor 1 a switch.
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is str and isinstance(value, str):
        return value
    name = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(kind, str(kind))
    raise UsageError(f"{where} must be {name}, got {value!r}")


def typed_section(cls: type[Section], section: typing.Mapping[str, Any], name: str) -> Section:
    """`cls` (a dataclass) from the config section called `name`: every field is read from the
    key of the same name and checked against the field's type (int, float, bool, str, a Literal
    or `X | None`, which an absent key leaves None); other keys of the section are not this
    view's business."""
    if not isinstance(section, typing.Mapping):
        raise UsageError(f"{name} must be a mapping, got {section!r}")
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        where = f"{name}.{field.name}"
        if field.name not in section and _optional(hints[field.name]):
            values[field.name] = None
            continue
        if field.name not in section:
            raise UsageError(f"{where} is missing from the config (the schema gives it a default; was the config loaded with load_config?)")
        values[field.name] = _convert(section[field.name], hints[field.name], where)
    return cls(**values)
