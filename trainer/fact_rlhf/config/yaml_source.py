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
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
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


# Limits on the shape of a config before it is built. A real config nests a few levels and uses
# a handful of aliases; an alias bomb (each level aliasing the one before nine times) expands
# exponentially, and every later walk (duplicate keys, schema, merge) would follow the aliases.
MAX_ALIAS_EXPANSION = 100  # alias references, an alias inside an aliased node counted each time (as the language server's maxAliasCount)
MAX_NESTING = 64  # mappings and lists inside each other (the composer recurses per level)


class YamlShapeError(ValueError):
    """The document is too deep or expands too many aliases; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        self.line, self.message = line, message
        super().__init__(message)


def check_shape(text: str) -> None:
    """One streaming pass over the parser's events (no recursion, no expansion): refuses a
    document nested deeper than MAX_NESTING or whose aliases expand beyond MAX_ALIAS_EXPANSION.
    Raises YamlShapeError, or yaml.YAMLError on a syntax error."""
    inner: dict[str, int] = {}  # anchor -> alias references its node expands to
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, alias references inside so far)
    total = 0
    for event in yaml.parse(text, Loader=Yaml12Loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(open_nodes) >= MAX_NESTING:
                raise YamlShapeError(line, f"nested deeper than {MAX_NESTING} levels")
            open_nodes.append((event.anchor, 0))
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, count = open_nodes.pop()
        elif isinstance(event, yaml.AliasEvent):
            anchor, count = None, 1 + inner.get(str(event.anchor), 0)
            total += count
            if total > MAX_ALIAS_EXPANSION:
                raise YamlShapeError(
                    line,
                    f"aliases expand beyond {MAX_ALIAS_EXPANSION} references (an alias bomb?); write the values out or use fewer aliases",
                )
        elif isinstance(event, yaml.ScalarEvent):
            anchor, count = event.anchor, 0
        else:
            continue
        if anchor is not None:
            inner[anchor] = count
        if open_nodes:
            top_anchor, top_count = open_nodes[-1]
            open_nodes[-1] = (top_anchor, top_count + count)


def parse_yaml(text: str, path: str) -> YamlDocument:
    """Parses one YAML document; raises yaml.YAMLError (with marks) on syntax errors and
    YamlShapeError on a document too deep or with too many aliases."""
    check_shape(text)
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
