"""YAML parsing that keeps node positions, so every config problem can name its line.

The loader follows the YAML 1.2 core schema for scalars (as the editor's `yaml` package does):
`1e-3` is a number and `yes`/`on` stay strings. PyYAML's default (YAML 1.1) would read `1e-3`
as a string and `on` as true, and the trainer would disagree with the language server.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Union

import yaml

PathPart = Union[str, int]
JsonPath = tuple[PathPart, ...]


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema booleans and floats."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


@dataclass
class YamlDocument:
    """A parsed YAML file: its data and its node tree (for line numbers)."""

    path: str
    data: Any
    root: yaml.Node | None

    def node_at(self, path: JsonPath) -> tuple[yaml.Node | None, yaml.Node | None]:
        """The (key node, value node) at `path`, or the deepest existing ancestor's."""
        key_node: yaml.Node | None = None
        node = self.root
        for part in path:
            if isinstance(node, yaml.MappingNode):
                found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
                if found is None:
                    break
                key_node, node = found
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                key_node, node = None, node.value[part]
            else:
                break
        return key_node, node

    def line_of(self, path: JsonPath, key: bool = False) -> int:
        """1-based line of the value at `path` (of its key when `key`), or of the nearest ancestor."""
        key_node, node = self.node_at(path)
        target = key_node if key and key_node is not None else node
        if target is None:
            return 1
        return target.start_mark.line + 1


def parse_yaml(text: str, path: str) -> YamlDocument:
    """Parses one YAML document; raises yaml.YAMLError (with marks) on syntax errors."""
    loader = Yaml12Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return YamlDocument(path=path, data=data, root=root)


def duplicate_keys(doc: YamlDocument) -> list[tuple[JsonPath, int]]:
    """Keys that appear twice in one mapping (PyYAML would silently keep the last)."""
    found: list[tuple[JsonPath, int]] = []

    def walk(node: yaml.Node | None, path: JsonPath) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else str(k)
                if name in seen:
                    found.append((path + (name,), k.start_mark.line + 1))
                seen.add(name)
                walk(v, path + (name,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, path + (i,))

    walk(doc.root, ())
    return found


def leaf_paths(data: Any, prefix: JsonPath = ()) -> list[JsonPath]:
    """Every path in a nested dict (mappings only; lists count as leaves)."""
    paths: list[JsonPath] = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            paths.extend(leaf_paths(v, prefix + (str(k),)))
    return paths
